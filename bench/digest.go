package bench

import (
	"encoding/hex"
	"fmt"

	"github.com/bftbed/bftbed/crypto"
)

// Digest is a crypto.Digest that reads and writes itself as hex in JSON
// (a [32]byte would be an array of 32 numbers).
type Digest crypto.Digest

// String returns the first 4 bytes in hex and an ellipsis: enough to tell
// two digests apart in a violation message.
func (d Digest) String() string { return hex.EncodeToString(d[:4]) + "…" }

// MarshalText encodes d as 64 hex digits.
func (d Digest) MarshalText() ([]byte, error) {
	return []byte(hex.EncodeToString(d[:])), nil
}

// UnmarshalText decodes 64 hex digits.
func (d *Digest) UnmarshalText(b []byte) error {
	if len(b) != 2*len(d) {
		return fmt.Errorf("bench: digest: %d hex digits, want %d", len(b), 2*len(d))
	}
	_, err := hex.Decode(d[:], b)
	return err
}
