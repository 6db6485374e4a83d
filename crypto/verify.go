package crypto

import "github.com/oasisprotocol/curve25519-voi/primitives/ed25519"

// verifyOpts is the one rule set for every verification in bftbed, single
// or batched: voi's default, i.e. cofactored verification with canonical A,
// R and S and no small-order public keys. Cofactored single verification is
// the only kind that batch verification can match exactly, so a signature
// never verifies one way and fails the other.
var verifyOpts = &ed25519.Options{Verify: ed25519.VerifyOptionsDefault}

// Verify reports whether sig is pub's signature of msg under (d, tag). It
// never panics; any malformed key or signature just fails.
func (d Domain) Verify(pub PublicKey, tag byte, msg []byte, sig Signature) bool {
	ek := expandedKeys.get(pub)
	if ek == nil {
		return false
	}
	// The signature goes in the pooled buffer too: passing sig[:] would
	// make the parameter escape and allocate on every call.
	bp := getBuf()
	b := d.appendSigned((*bp)[:0], tag, msg)
	n := len(b)
	b = append(b, sig[:]...)
	ok := ed25519.VerifyExpandedWithOptions(ek, b[:n], b[n:], verifyOpts)
	putBuf(bp, b)
	return ok
}
