package pbft

import (
	"bytes"
	"testing"
)

// codecFuzzSeeds adds one valid encoding of each message type, plus a few
// with empty and nil-pointer contents.
func codecFuzzSeeds(f *testing.F) {
	for _, m := range codecSamples() {
		f.Add(Marshal(m))
	}
	for _, m := range []Message{&Request{}, &PrePrepare{}, &ViewChange{P: []*PreparedProof{{}}}, &NewView{}, &State{}} {
		f.Add(Marshal(m))
	}
}

// FuzzUnmarshal checks that Unmarshal never panics and that the encoding is
// canonical: whatever it accepts, Marshal gives back byte for byte.
func FuzzUnmarshal(f *testing.F) {
	codecFuzzSeeds(f)
	f.Fuzz(func(t *testing.T, b []byte) {
		m, err := Unmarshal(b)
		if err != nil {
			if m != nil {
				t.Fatal("Unmarshal returned both a message and an error")
			}
			return
		}
		if got := Marshal(m); !bytes.Equal(got, b) {
			t.Fatalf("Marshal(Unmarshal(b)) != b:\n  b % x\ngot % x", b, got)
		}
		if !bytes.HasPrefix(b, SigningBytes(m)) {
			t.Fatal("SigningBytes is not a prefix of the encoding")
		}
	})
}

// FuzzAuthenticate checks that SignatureItems and Authenticate never panic
// on a decoded message, and that Authenticate accepts exactly when every
// listed signature verifies on its own.
func FuzzAuthenticate(f *testing.F) {
	codecFuzzSeeds(f)
	f.Fuzz(func(t *testing.T, b []byte) {
		m, err := Unmarshal(b)
		if err != nil {
			return
		}
		items, itemsErr := SignatureItems(m, codecKeys)
		authErr := Authenticate(codecDomain, codecKeys, m)
		if itemsErr != nil {
			if authErr == nil {
				t.Fatalf("SignatureItems failed (%v) but Authenticate accepted", itemsErr)
			}
			return
		}
		all := true
		for _, it := range items {
			all = all && codecDomain.Verify(it.Key, it.Tag, it.Msg, it.Sig)
		}
		if all != (authErr == nil) {
			t.Fatalf("every signature valid: %v, but Authenticate: %v", all, authErr)
		}
	})
}
