package crypto

import (
	"crypto/rand"
	"crypto/sha256"
	"crypto/subtle"
	"encoding/hex"
	"errors"
	"fmt"
	"io"

	"github.com/oasisprotocol/curve25519-voi/primitives/ed25519"
	"golang.org/x/crypto/hkdf"
)

// PublicKeySize, PrivateKeySeedSize and SignatureSize are the Ed25519 sizes.
const (
	PublicKeySize      = 32
	PrivateKeySeedSize = 32
	SignatureSize      = 64
)

// PublicKey is an Ed25519 public key. It is comparable, so it can be a map
// key (bftbed identifies clients by their public key).
type PublicKey [PublicKeySize]byte

// String returns the first 8 bytes of p in hex: enough to tell keys apart in
// logs without flooding them.
func (p PublicKey) String() string { return hex.EncodeToString(p[:8]) }

// Hex returns all of p in hex, the form used in key files and configs.
func (p PublicKey) Hex() string { return hex.EncodeToString(p[:]) }

// ParsePublicKey decodes a public key written by [PublicKey.Hex]. It only
// checks the encoding; whether the key is a usable Ed25519 point shows when
// a signature is verified against it.
func ParsePublicKey(s string) (PublicKey, error) {
	var p PublicKey
	if len(s) != 2*PublicKeySize {
		return p, fmt.Errorf("crypto: public key is %d hex digits, want %d", len(s), 2*PublicKeySize)
	}
	if _, err := hex.Decode(p[:], []byte(s)); err != nil {
		return PublicKey{}, fmt.Errorf("crypto: public key: %w", err)
	}
	return p, nil
}

// Signature is an Ed25519 signature.
type Signature [SignatureSize]byte

// PrivateKey is an Ed25519 private key. The zero value holds no key: it signs
// nothing (see [Domain.Sign]) and [PrivateKey.IsZero] reports it.
//
// PrivateKey formats as its public key in fmt output (%v, %x, %#v, ...), so
// that a key logged by mistake does not leak its seed.
type PrivateKey struct {
	// key is voi's 64-byte form, seed || public key. It is never mutated
	// after construction, so copies of a PrivateKey may share it.
	key ed25519.PrivateKey
}

// GenerateKey returns a new random key drawn from crypto/rand, the operating
// system's random source.
func GenerateKey() (PrivateKey, error) {
	var seed [PrivateKeySeedSize]byte
	if _, err := io.ReadFull(rand.Reader, seed[:]); err != nil {
		return PrivateKey{}, fmt.Errorf("crypto: generate key: %w", err)
	}
	return PrivateKeyFromSeed(seed[:])
}

// DeriveKey returns the key whose 32-byte Ed25519 seed is
// HKDF-SHA256(secret=seed, salt=nil, info=label). It is deterministic and
// separates labels, so one seed yields a whole testnet, e.g.
// DeriveKey(seed, "replica/3"). Such keys are only as secret as seed.
func DeriveKey(seed []byte, label string) PrivateKey {
	var s [PrivateKeySeedSize]byte
	r := hkdf.New(sha256.New, seed, nil, []byte(label))
	if _, err := io.ReadFull(r, s[:]); err != nil {
		// Unreachable: HKDF-SHA256 yields up to 8160 bytes. Returning
		// the zero key keeps the no-panic promise; it signs nothing.
		return PrivateKey{}
	}
	k, _ := PrivateKeyFromSeed(s[:]) // cannot fail: s has the right size
	return k
}

// PrivateKeyFromSeed returns the key for a 32-byte RFC 8032 seed (the form
// [PrivateKey.Seed] returns and key files store).
func PrivateKeyFromSeed(seed []byte) (PrivateKey, error) {
	if len(seed) != PrivateKeySeedSize {
		return PrivateKey{}, fmt.Errorf("crypto: private key seed is %d bytes, want %d", len(seed), PrivateKeySeedSize)
	}
	return PrivateKey{key: ed25519.NewKeyFromSeed(seed)}, nil
}

// errZeroKey is returned when a zero PrivateKey is used where a key is needed.
var errZeroKey = errors.New("crypto: zero PrivateKey")

// IsZero reports whether k is the zero value, which holds no key.
func (k PrivateKey) IsZero() bool { return len(k.key) != ed25519.PrivateKeySize }

// Public returns k's public key, or the zero PublicKey (which no signature
// verifies against) if k is zero.
func (k PrivateKey) Public() PublicKey {
	var p PublicKey
	if !k.IsZero() {
		copy(p[:], k.key[PrivateKeySeedSize:])
	}
	return p
}

// Seed returns a copy of k's 32-byte seed, or nil if k is zero.
func (k PrivateKey) Seed() []byte {
	if k.IsZero() {
		return nil
	}
	return append([]byte(nil), k.key[:PrivateKeySeedSize]...)
}

// Equal reports whether k and o are the same key, in constant time.
// (PrivateKey holds a slice, so == does not compile.)
func (k PrivateKey) Equal(o PrivateKey) bool {
	return subtle.ConstantTimeCompare(k.key, o.key) == 1
}

// String names k by its public key and never shows the seed.
func (k PrivateKey) String() string {
	if k.IsZero() {
		return "PrivateKey(zero)"
	}
	return "PrivateKey(" + k.Public().String() + ")"
}

// Format makes every fmt verb print [PrivateKey.String], so that no format
// (%x, %#v, %+v) can print the seed.
func (k PrivateKey) Format(f fmt.State, _ rune) { _, _ = io.WriteString(f, k.String()) }
