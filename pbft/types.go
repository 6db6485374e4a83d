package pbft

import "github.com/bftbed/bftbed/crypto"

// ReplicaID names a replica: 0 .. n-1.
type ReplicaID uint32

// View is a view number; the primary of view v is v mod n.
type View uint64

// Seq is a sequence number. Sequence numbers never restart in a new view.
type Seq uint64

// ClientID identifies a client by its Ed25519 public key, so a replica can
// check a request's signature without a client registry.
type ClientID = crypto.PublicKey

// Digest is a SHA-256 digest (of a request, a batch or a state).
type Digest = crypto.Digest
