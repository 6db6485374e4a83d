package crypto

import (
	"encoding/hex"
	"strings"
)

func mustHex(s string) []byte {
	b, err := hex.DecodeString(s)
	if err != nil {
		panic(err)
	}
	return b
}

func mustKey(s string) PublicKey {
	var p PublicKey
	copy(p[:], mustHex(s))
	return p
}

func zeros(n int) string { return strings.Repeat("00", n) }
