package crypto

import (
	"crypto/sha256"
	"encoding/hex"
)

// DigestSize is the size of a Digest in bytes.
const DigestSize = sha256.Size

// Digest is a SHA-256 digest of a request, a batch or an application state.
type Digest [DigestSize]byte

// Hash returns the SHA-256 digest of the concatenation of parts.
func Hash(parts ...[]byte) Digest {
	h := sha256.New()
	for _, p := range parts {
		h.Write(p)
	}
	var d Digest
	h.Sum(d[:0])
	return d
}

// IsZero reports whether d is the all-zero digest.
func (d Digest) IsZero() bool { return d == Digest{} }

// String returns the first 8 bytes of d in hex, enough to tell digests apart
// in logs and test traces.
func (d Digest) String() string { return hex.EncodeToString(d[:8]) }

// Hex returns all of d in hex.
func (d Digest) Hex() string { return hex.EncodeToString(d[:]) }
