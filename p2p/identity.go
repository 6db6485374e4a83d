package p2p

import (
	"errors"
	"fmt"

	lcrypto "github.com/libp2p/go-libp2p/core/crypto"
	"github.com/libp2p/go-libp2p/core/peer"

	"github.com/bftbed/bftbed/crypto"
)

// A node's libp2p identity is its bftbed Ed25519 key, not a second key. Two
// things follow, and both are needed:
//
//   - a replica's peer ID is stable across restarts (it is a function of the
//     key file), so the others' peer stores stay valid;
//   - anyone can compute a client's peer ID from its ClientID (which IS the
//     client's public key), so a replica can open a stream back to the
//     client that sent a request, and can tell replicas from clients by the
//     key the secure channel authenticated.
//
// libp2p encodes an Ed25519 public key inside the peer ID itself (an
// identity multihash), so the mapping goes both ways without a lookup.

// libp2pKey returns k as a libp2p private key. libp2p's Ed25519 private key
// is the 64-byte seed || public key form, the same RFC 8032 key.
func libp2pKey(k crypto.PrivateKey) (lcrypto.PrivKey, error) {
	if k.IsZero() {
		return nil, errors.New("p2p: zero private key")
	}
	pub := k.Public()
	// The libp2p key keeps raw (it does not copy it): raw must not be
	// reused or cleared.
	raw := append(k.Seed(), pub[:]...)
	sk, err := lcrypto.UnmarshalEd25519PrivateKey(raw)
	if err != nil {
		return nil, fmt.Errorf("p2p: libp2p key: %w", err)
	}
	return sk, nil
}

// PeerID returns the libp2p peer ID of the node whose Ed25519 public key is
// pub: a replica's key from the cluster config, or a pbft.ClientID.
func PeerID(pub crypto.PublicKey) (peer.ID, error) {
	pk, err := lcrypto.UnmarshalEd25519PublicKey(pub[:])
	if err != nil {
		return "", fmt.Errorf("p2p: public key %s: %w", pub, err)
	}
	id, err := peer.IDFromPublicKey(pk)
	if err != nil {
		return "", fmt.Errorf("p2p: peer ID of %s: %w", pub, err)
	}
	return id, nil
}

// PublicKey returns the Ed25519 public key inside peer ID id, the inverse of
// PeerID. It fails for peers with other key types, which cannot be bftbed
// replicas or clients.
func PublicKey(id peer.ID) (crypto.PublicKey, error) {
	pk, err := id.ExtractPublicKey()
	if err != nil {
		return crypto.PublicKey{}, fmt.Errorf("p2p: peer %s: %w", id, err)
	}
	return publicKeyOf(pk)
}

// publicKeyOf converts a libp2p public key to a bftbed one.
func publicKeyOf(pk lcrypto.PubKey) (crypto.PublicKey, error) {
	var pub crypto.PublicKey
	if pk == nil || pk.Type() != lcrypto.Ed25519 {
		return pub, errors.New("p2p: not an Ed25519 key")
	}
	raw, err := pk.Raw()
	if err != nil {
		return pub, err
	}
	if len(raw) != crypto.PublicKeySize {
		return pub, fmt.Errorf("p2p: Ed25519 key of %d bytes", len(raw))
	}
	copy(pub[:], raw)
	return pub, nil
}
