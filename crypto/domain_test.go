package crypto

import (
	stded25519 "crypto/ed25519"
	"encoding/binary"
	"testing"

	"github.com/oasisprotocol/curve25519-voi/primitives/ed25519"
)

func TestSignVerifyRoundTrip(t *testing.T) {
	k := DeriveKey([]byte("seed"), "replica/0")
	d := NewDomain("testnet-1")
	for _, msg := range [][]byte{nil, {}, []byte("prepare"), make([]byte, 100_000)} {
		for _, tag := range []byte{0, 1, 255} {
			sig := d.Sign(k, tag, msg)
			if !d.Verify(k.Public(), tag, msg, sig) {
				t.Fatalf("valid signature rejected (tag %d, %d-byte msg)", tag, len(msg))
			}
		}
	}
}

func TestSignDeterministic(t *testing.T) {
	k := DeriveKey([]byte("seed"), "replica/0")
	d := NewDomain("testnet-1")
	if d.Sign(k, 3, []byte("m")) != d.Sign(k, 3, []byte("m")) {
		t.Fatal("Sign is not deterministic")
	}
	// Same key rebuilt from its seed, domain rebuilt from its ID.
	k2, _ := PrivateKeyFromSeed(k.Seed())
	if NewDomain("testnet-1").Sign(k2, 3, []byte("m")) != d.Sign(k, 3, []byte("m")) {
		t.Fatal("Sign depends on more than key, domain, tag and message")
	}
}

// TestSignedBytesLayout pins the documented layout by checking signatures
// with crypto/ed25519 over bytes built by hand, independently of
// appendSigned.
func TestSignedBytesLayout(t *testing.T) {
	k := DeriveKey([]byte("seed"), "replica/0")
	std := stded25519.NewKeyFromSeed(k.Seed())
	id := string(make([]byte, 200)) // long enough for a two-byte uvarint
	for _, clusterID := range []string{"", "testnet-1", id} {
		want := []byte("bftbed/v1")
		want = binary.AppendUvarint(want, uint64(len(clusterID)))
		want = append(want, clusterID...)
		want = append(want, 0x07)
		want = append(want, "hello"...)

		sig := NewDomain(clusterID).Sign(k, 0x07, []byte("hello"))
		if !stded25519.Verify(std.Public().(stded25519.PublicKey), want, sig[:]) {
			t.Fatalf("cluster %q: signature does not cover the documented bytes", clusterID)
		}
		if got := stded25519.Sign(std, want); string(got) != string(sig[:]) {
			t.Fatalf("cluster %q: signature differs from crypto/ed25519's", clusterID)
		}
	}
}

func TestZeroDomainIsEmptyCluster(t *testing.T) {
	k := DeriveKey([]byte("seed"), "replica/0")
	var zero Domain
	if zero.Sign(k, 1, []byte("m")) != NewDomain("").Sign(k, 1, []byte("m")) {
		t.Fatal("zero Domain differs from NewDomain(\"\")")
	}
	if NewDomain("x") != NewDomain("x") || NewDomain("x") == NewDomain("y") {
		t.Fatal("Domain equality is wrong")
	}
	if NewDomain("x").ClusterID() != "x" {
		t.Fatal("ClusterID does not round-trip")
	}
}

func TestDomainSeparation(t *testing.T) {
	k := DeriveKey([]byte("seed"), "replica/0")
	pub := k.Public()
	d := NewDomain("testnet-1")
	msg := []byte("commit v=1 n=7")
	sig := d.Sign(k, 2, msg)

	if NewDomain("testnet-2").Verify(pub, 2, msg, sig) {
		t.Error("signature verified under another cluster ID")
	}
	if NewDomain("").Verify(pub, 2, msg, sig) {
		t.Error("signature verified under the empty cluster ID")
	}
	if d.Verify(pub, 3, msg, sig) {
		t.Error("signature verified under another tag")
	}
	// Without the length prefix, these would sign the same bytes:
	// "bftbed/v1" "ab" 'c' "d" == "bftbed/v1" "a" 'b' "cd".
	s := NewDomain("ab").Sign(k, 'c', []byte("d"))
	if NewDomain("a").Verify(pub, 'b', []byte("cd"), s) {
		t.Error("cluster ID and tag boundary is ambiguous")
	}
	// Nor may a tag slide into the message.
	s = d.Sign(k, 'x', []byte("yz"))
	if d.Verify(pub, 'y', []byte("z"), s) {
		t.Error("tag and message boundary is ambiguous")
	}
}

func TestTamperedFails(t *testing.T) {
	k := DeriveKey([]byte("seed"), "replica/0")
	other := DeriveKey([]byte("seed"), "replica/1")
	d := NewDomain("testnet-1")
	msg := []byte("pre-prepare v=0 n=1 d=...")
	sig := d.Sign(k, 1, msg)

	for i := range msg {
		m := append([]byte(nil), msg...)
		m[i] ^= 0x01
		if d.Verify(k.Public(), 1, m, sig) {
			t.Fatalf("message with byte %d flipped verified", i)
		}
	}
	if d.Verify(k.Public(), 1, msg[:len(msg)-1], sig) || d.Verify(k.Public(), 1, append(msg, 0), sig) {
		t.Fatal("truncated or extended message verified")
	}
	for i := range SignatureSize {
		s := sig
		s[i] ^= 0x80
		if d.Verify(k.Public(), 1, msg, s) {
			t.Fatalf("signature with byte %d flipped verified", i)
		}
	}
	if d.Verify(other.Public(), 1, msg, sig) {
		t.Fatal("signature verified under another key")
	}
}

// Edge-case encodings. All are rejected by bftbed's rules; some are
// accepted by laxer ones, which shows the tests below can fail.
var (
	// basepoint is the encoding of B; with S = 1 the "signature"
	// (B, 1) satisfies the cofactored equation for any message whenever
	// the public key has small order.
	basepoint = mustHex("5866666666666666666666666666666666666666666666666666666666666666")
	// smallOrderKeys are encodings of points of order 1, 2, 4 and 8.
	smallOrderKeys = []PublicKey{
		{},                        // y = 0: order 4 (the zero key)
		mustKey("01" + zeros(31)), // identity
		mustKey("ecffffffffffffffffffffffffffffffffffffffffffffffffffffffffffff7f"), // order 2
		mustKey("c7176a703d4dd84fba3c0b760d10670f2a2053fa2c39ccc64ec7fd7792ac037a"), // order 8
		mustKey("26e8958fc2b227b045c3f489f2ef98f0d5dfac05d3c63339b13802886d53fc05"), // order 8
	}
	// groupOrder is L, little-endian.
	groupOrder = mustHex("edd3f55c1a631258d69cf7a2def9de1400000000000000000000000000000010")
)

func TestSmallOrderKeysRejected(t *testing.T) {
	d := NewDomain("testnet-1")
	var sig Signature
	copy(sig[:32], basepoint)
	sig[32] = 1
	msg := []byte("anything")
	signed := d.appendSigned(nil, 1, msg)
	for _, pub := range smallOrderKeys {
		if d.Verify(pub, 1, msg, sig) {
			t.Errorf("small-order key %x accepted", pub)
		}
		// Under ZIP-215 (small-order A allowed) the same inputs pass:
		// the check above is what rejects them.
		zip215 := &ed25519.Options{Verify: ed25519.VerifyOptionsZIP_215}
		if !ed25519.VerifyWithOptions(pub[:], signed, sig[:], zip215) {
			t.Errorf("test vector for %x is not a small-order forgery", pub)
		}
	}
}

func TestMalleatedSignatureRejected(t *testing.T) {
	k := DeriveKey([]byte("seed"), "replica/0")
	d := NewDomain("testnet-1")
	msg := []byte("m")
	sig := d.Sign(k, 1, msg)
	// S + L is the same scalar mod L, but not canonical.
	mal := sig
	var carry uint16
	for i := range 32 {
		v := uint16(mal[32+i]) + uint16(groupOrder[i]) + carry
		mal[32+i], carry = byte(v), v>>8
	}
	if carry != 0 {
		t.Fatal("S + L overflowed")
	}
	if d.Verify(k.Public(), 1, msg, mal) {
		t.Fatal("non-canonical S accepted")
	}
	ok, _ := d.VerifyBatch([]VerifyItem{{k.Public(), 1, msg, sig}, {k.Public(), 1, msg, mal}, {k.Public(), 1, msg, sig}})
	if !ok[0] || ok[1] || !ok[2] {
		t.Fatalf("batch with malleated signature: %v", ok)
	}
}

func TestVerifyGarbageNoPanic(t *testing.T) {
	d := NewDomain("t")
	var ff PublicKey
	for i := range ff {
		ff[i] = 0xff
	}
	var sigFF Signature
	for i := range sigFF {
		sigFF[i] = 0xff
	}
	for _, pub := range append([]PublicKey{ff}, smallOrderKeys...) {
		for _, sig := range []Signature{{}, sigFF} {
			if d.Verify(pub, 0, nil, sig) {
				t.Errorf("garbage verified: key %x sig %x", pub, sig)
			}
		}
	}
}

func TestSignDoesNotAllocateMuch(t *testing.T) {
	if testing.Short() {
		t.Skip()
	}
	k := DeriveKey([]byte("seed"), "replica/0")
	d := NewDomain("testnet-1")
	msg := make([]byte, 200)
	sig := d.Sign(k, 1, msg)
	d.Verify(k.Public(), 1, msg, sig) // warm the key cache
	if n := testing.AllocsPerRun(100, func() { d.Verify(k.Public(), 1, msg, sig) }); n > 1 {
		t.Errorf("Verify allocates %v times per call", n)
	}
	// voi's Sign returns a fresh slice; the rest is pooled.
	if n := testing.AllocsPerRun(100, func() { d.Sign(k, 1, msg) }); n > 2 {
		t.Errorf("Sign allocates %v times per call", n)
	}
}
