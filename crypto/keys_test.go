package crypto

import (
	"bytes"
	stded25519 "crypto/ed25519"
	"crypto/hkdf"
	"crypto/sha256"
	"fmt"
	"strings"
	"testing"
)

func TestDeriveKeyDeterministic(t *testing.T) {
	seed := []byte("testnet seed")
	a, b := DeriveKey(seed, "replica/3"), DeriveKey(seed, "replica/3")
	if !a.Equal(b) || a.Public() != b.Public() {
		t.Fatal("DeriveKey is not deterministic")
	}
	if a.IsZero() {
		t.Fatal("DeriveKey returned the zero key")
	}
	// The seed must be HKDF-SHA256(seed, salt=nil, info=label), checked
	// against the standard library's independent implementation.
	want, err := hkdf.Key(sha256.New, seed, nil, "replica/3", PrivateKeySeedSize)
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(a.Seed(), want) {
		t.Fatalf("DeriveKey seed = %x, want HKDF output %x", a.Seed(), want)
	}
}

func TestDeriveKeyLabelSeparated(t *testing.T) {
	seed := []byte("testnet seed")
	seen := map[PublicKey]string{}
	for _, label := range []string{"", "replica/0", "replica/1", "replica/10", "replica/3", "client/3", "replica/3 "} {
		p := DeriveKey(seed, label).Public()
		if other, dup := seen[p]; dup {
			t.Fatalf("labels %q and %q give the same key", label, other)
		}
		seen[p] = label
	}
	if DeriveKey([]byte("other seed"), "replica/3").Public() == DeriveKey(seed, "replica/3").Public() {
		t.Fatal("different seeds give the same key")
	}
	// Degenerate seeds still work.
	if DeriveKey(nil, "x").IsZero() {
		t.Fatal("DeriveKey(nil, ...) returned the zero key")
	}
}

func TestPrivateKeyFromSeed(t *testing.T) {
	seed := bytes.Repeat([]byte{7}, PrivateKeySeedSize)
	k, err := PrivateKeyFromSeed(seed)
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(k.Seed(), seed) {
		t.Fatal("Seed does not round-trip")
	}
	std := stded25519.NewKeyFromSeed(seed)
	if pub := k.Public(); !bytes.Equal(pub[:], std.Public().(stded25519.PublicKey)) {
		t.Fatal("public key differs from crypto/ed25519")
	}
	// Seed returns a copy: changing it must not change the key.
	s := k.Seed()
	s[0] ^= 1
	if !bytes.Equal(k.Seed(), seed) {
		t.Fatal("Seed aliases the key")
	}
	// Neither must changing the caller's seed.
	seed[0] ^= 1
	if k.Seed()[0] != 7 {
		t.Fatal("PrivateKeyFromSeed aliases its input")
	}
	for _, n := range []int{0, 1, 31, 33, 64} {
		if _, err := PrivateKeyFromSeed(make([]byte, n)); err == nil {
			t.Errorf("PrivateKeyFromSeed accepted a %d-byte seed", n)
		}
	}
}

func TestGenerateKey(t *testing.T) {
	a, err := GenerateKey()
	if err != nil {
		t.Fatal(err)
	}
	b, err := GenerateKey()
	if err != nil {
		t.Fatal(err)
	}
	if a.IsZero() || a.Equal(b) || a.Public() == b.Public() {
		t.Fatal("GenerateKey returned zero or repeated keys")
	}
	d := NewDomain("t")
	if !d.Verify(a.Public(), 1, []byte("m"), d.Sign(a, 1, []byte("m"))) {
		t.Fatal("generated key cannot sign")
	}
}

func TestZeroPrivateKey(t *testing.T) {
	var k PrivateKey
	if !k.IsZero() || k.Seed() != nil || k.Public() != (PublicKey{}) {
		t.Fatal("zero PrivateKey is not empty")
	}
	d := NewDomain("t")
	sig := d.Sign(k, 1, []byte("m"))
	if sig != (Signature{}) {
		t.Fatal("zero key produced a signature")
	}
	if d.Verify(k.Public(), 1, []byte("m"), sig) {
		t.Fatal("zero signature verified under the zero public key")
	}
}

func TestPrivateKeyFormatHidesSeed(t *testing.T) {
	seed := bytes.Repeat([]byte{0xab}, PrivateKeySeedSize)
	k, _ := PrivateKeyFromSeed(seed)
	for _, f := range []string{"%v", "%+v", "%#v", "%s", "%x", "%X", "%q", "%d"} {
		out := fmt.Sprintf(f, k) + fmt.Sprintf(f, []PrivateKey{k}) + fmt.Sprintf(f, struct{ K PrivateKey }{k})
		if strings.Contains(strings.ToLower(out), "abab") || strings.Contains(out, "171") {
			t.Errorf("format %s leaks the seed: %s", f, out)
		}
	}
	if got, want := k.String(), "PrivateKey("+k.Public().String()+")"; got != want {
		t.Errorf("String() = %q, want %q", got, want)
	}
}

func TestPublicKeyText(t *testing.T) {
	p := DeriveKey([]byte("s"), "k").Public()
	if len(p.String()) != 16 || !strings.HasPrefix(p.Hex(), p.String()) {
		t.Fatalf("String %q is not the first 8 bytes of %q", p.String(), p.Hex())
	}
	q, err := ParsePublicKey(p.Hex())
	if err != nil || q != p {
		t.Fatalf("ParsePublicKey(Hex()) = %v, %v", q, err)
	}
	for _, bad := range []string{"", "00", p.Hex()[:62], p.Hex() + "00", strings.Repeat("zz", 32)} {
		if _, err := ParsePublicKey(bad); err == nil {
			t.Errorf("ParsePublicKey(%q) succeeded", bad)
		}
	}
}
