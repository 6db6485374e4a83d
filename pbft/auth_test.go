package pbft

import (
	"bytes"
	"strings"
	"testing"

	"github.com/bftbed/bftbed/crypto"
)

func TestAuthenticateSamples(t *testing.T) {
	for _, m := range codecSamples() {
		if err := Authenticate(codecDomain, codecKeys, m); err != nil {
			t.Errorf("%s: %v", m.Type(), err)
		}
		decoded, err := Unmarshal(Marshal(m))
		if err != nil {
			t.Fatal(err)
		}
		if err := Authenticate(codecDomain, codecKeys, decoded); err != nil {
			t.Errorf("%s after a round trip: %v", m.Type(), err)
		}
	}
}

// codecCountSigs counts the signatures SignatureItems must list for m.
func codecCountSigs(m Message) int {
	switch x := m.(type) {
	case *PrePrepare:
		return 1 + len(x.Batch)
	case *ViewChange:
		n := 1 + len(x.C)
		for _, p := range x.P {
			n += codecCountSigs(p.PrePrepare) + len(p.Prepares)
		}
		return n
	case *NewView:
		n := 1
		for _, vc := range x.V {
			n += codecCountSigs(vc)
		}
		for _, pp := range x.O {
			n += codecCountSigs(pp)
		}
		return n
	case *State:
		return 1 + len(x.Proof)
	case *Committed:
		return 1 + codecCountSigs(x.PrePrepare) + len(x.Commits)
	}
	return 1
}

func TestSignatureItems(t *testing.T) {
	for _, m := range codecSamples() {
		items, err := SignatureItems(m, codecKeys)
		if err != nil {
			t.Fatalf("%s: %v", m.Type(), err)
		}
		if want := codecCountSigs(m); len(items) != want {
			t.Errorf("%s: %d items, want %d", m.Type(), len(items), want)
		}
		outer := items[0]
		if outer.Tag != byte(m.Type()) || !bytes.Equal(outer.Msg, SigningBytes(m)) || outer.Sig != *sigPtr(m) {
			t.Errorf("%s: first item is not the outer signature", m.Type())
		}
		for i, it := range items {
			if !codecDomain.Verify(it.Key, it.Tag, it.Msg, it.Sig) {
				t.Errorf("%s: item %d (%s) does not verify", m.Type(), i, MsgType(it.Tag))
			}
		}
	}
	// The client signs a request; a replica signs a reply.
	r := codecRequest(2, 1, "x")
	items, _ := SignatureItems(r, codecKeys)
	if items[0].Key != codecClientKeys[2].Public() {
		t.Error("a request's key is not its client's")
	}
	reply := &Reply{Client: r.Client, Replica: 3}
	codecSign(reply)
	items, _ = SignatureItems(reply, codecKeys)
	if items[0].Key != codecReplicaKeys[3].Public() {
		t.Error("a reply's key is not its replica's")
	}
}

// TestFlipAnyByte flips bits in every byte of every sample's encoding: each
// result must fail to decode or fail to authenticate, since every byte is
// either structure or covered by some signature. To keep it fast, only the
// signatures a flip changed are verified, and Authenticate itself runs on
// every 7th flip.
func TestFlipAnyByte(t *testing.T) {
	itemKey := func(it crypto.VerifyItem) string {
		return string(it.Key[:]) + string(it.Tag) + string(it.Sig[:]) + string(it.Msg)
	}
	for _, m := range codecSamples() {
		valid := map[string]bool{}
		items, _ := SignatureItems(m, codecKeys)
		for _, it := range items {
			valid[itemKey(it)] = true
		}
		b := Marshal(m)
		decoded, flips := 0, 0
		for i := range b {
			for _, mask := range []byte{0x01, 0x80} {
				flips++
				c := bytes.Clone(b)
				c[i] ^= mask
				m2, err := Unmarshal(c)
				if err != nil {
					continue
				}
				decoded++
				if flips%7 == 0 {
					if Authenticate(codecDomain, codecKeys, m2) == nil {
						t.Fatalf("%s with byte %d ^ %#x authenticates", m.Type(), i, mask)
					}
					continue
				}
				items, err := SignatureItems(m2, codecKeys)
				if err != nil {
					continue // names an unknown replica
				}
				ok := true
				for _, it := range items {
					if !valid[itemKey(it)] && !codecDomain.Verify(it.Key, it.Tag, it.Msg, it.Sig) {
						ok = false
						break
					}
				}
				if ok {
					t.Fatalf("%s with byte %d ^ %#x has only valid signatures", m.Type(), i, mask)
				}
			}
		}
		if decoded < flips/2 {
			t.Errorf("%s: only %d of %d flips decoded; the test checks too little", m.Type(), decoded, flips)
		}
	}
}

func TestNestedBadSignature(t *testing.T) {
	t.Run("prepare in a view-change's P", func(t *testing.T) {
		vc := codecViewChange(1, 2, 0, codecProof(0, 3, codecBatch(2, 1)))
		bad := vc.P[0].Prepares[1]
		Sign(codecDomain, codecReplicaKeys[0], bad) // signed with replica 0's key
		codecSign(vc)
		err := Authenticate(codecDomain, codecKeys, vc)
		want := "pbft: authenticate VIEW-CHANGE: bad signature on PREPARE from replica 2 at P[0].Prepares[1]"
		if err == nil || err.Error() != want {
			t.Fatalf("error %v, want %q", err, want)
		}
	})
	t.Run("checkpoint in a new-view's V", func(t *testing.T) {
		nv := codecNewView()
		nv.V[1].C[2].State[0] ^= 1
		codecSign(nv.V[1])
		codecSign(nv)
		err := Authenticate(codecDomain, codecKeys, nv)
		want := "pbft: authenticate NEW-VIEW: bad signature on CHECKPOINT from replica 2 at V[1].C[2]"
		if err == nil || err.Error() != want {
			t.Fatalf("error %v, want %q", err, want)
		}
	})
	t.Run("request in a batch in a new-view's V", func(t *testing.T) {
		nv := codecNewView()
		proof := nv.V[1].P[0]
		req := proof.PrePrepare.Batch[1]
		req.Op = []byte("tampered")
		// Everything above the request is re-signed, so only its own
		// signature is wrong.
		proof.PrePrepare.Digest = BatchDigest(proof.PrePrepare.Batch)
		codecSign(proof.PrePrepare)
		for _, p := range proof.Prepares {
			p.Digest = proof.PrePrepare.Digest
			codecSign(p)
		}
		codecSign(nv.V[1])
		codecSign(nv)
		err := Authenticate(codecDomain, codecKeys, nv)
		want := "pbft: authenticate NEW-VIEW: bad signature on REQUEST from client " + req.Client.String() + " at V[1].P[0].PrePrepare.Batch[1]"
		if err == nil || err.Error() != want {
			t.Fatalf("error %v, want %q", err, want)
		}
	})
	t.Run("pre-prepare in a new-view's O", func(t *testing.T) {
		nv := codecNewView()
		nv.O[1].Seq++
		codecSign(nv)
		err := Authenticate(codecDomain, codecKeys, nv)
		want := "pbft: authenticate NEW-VIEW: bad signature on PRE-PREPARE from replica 1 at O[1]"
		if err == nil || err.Error() != want {
			t.Fatalf("error %v, want %q", err, want)
		}
	})
	t.Run("outer", func(t *testing.T) {
		p := codecPrepare(0, 1, NullDigest, 2)
		p.Seq++
		err := Authenticate(codecDomain, codecKeys, p)
		want := "pbft: authenticate PREPARE: bad signature from replica 2"
		if err == nil || err.Error() != want {
			t.Fatalf("error %v, want %q", err, want)
		}
	})
}

// TestOtherDomain checks that a signature made for another testnet fails.
func TestOtherDomain(t *testing.T) {
	other := crypto.NewDomain("other")
	p := &Prepare{View: 1, Seq: 2, Digest: NullDigest, Replica: 1}
	Sign(other, codecReplicaKeys[1], p)
	if other.Verify(codecReplicaKeys[1].Public(), byte(MsgPrepare), SigningBytes(p), p.Sig) != true {
		t.Fatal("the signature is not even valid in its own domain")
	}
	if err := Authenticate(codecDomain, codecKeys, p); err == nil {
		t.Fatal("a PREPARE signed under another domain authenticates")
	}
	if err := Authenticate(other, codecKeys, p); err != nil {
		t.Fatalf("in its own domain: %v", err)
	}
	r := &Request{Client: codecClientKeys[0].Public(), Timestamp: 1, Op: []byte("op")}
	Sign(other, codecClientKeys[0], r)
	if err := Authenticate(codecDomain, codecKeys, r); err == nil {
		t.Fatal("a REQUEST signed under another domain authenticates")
	}
}

// TestTagSeparation reuses a PREPARE's signature on a COMMIT with the same
// fields.
func TestTagSeparation(t *testing.T) {
	p := codecPrepare(4, 9, NullDigest, 3)
	c := Commit(*p)
	if !bytes.Equal(SigningBytes(p)[1:], SigningBytes(&c)[1:]) {
		t.Fatal("test premise: PREPARE and COMMIT bodies should match")
	}
	err := Authenticate(codecDomain, codecKeys, &c)
	if err == nil || !strings.Contains(err.Error(), "bad signature") {
		t.Fatalf("a PREPARE's signature authenticates a COMMIT: %v", err)
	}
	// The tag alone separates them: with the type byte made equal by the
	// verifier, the tag still differs.
	if codecDomain.Verify(codecReplicaKeys[3].Public(), byte(MsgCommit), SigningBytes(p), p.Sig) {
		t.Fatal("the tag does not separate PREPARE and COMMIT signatures")
	}
}

func TestUnknownReplica(t *testing.T) {
	p := &Prepare{Replica: 9}
	Sign(codecDomain, codecReplicaKeys[0], p)
	err := Authenticate(codecDomain, codecKeys, p)
	want := "pbft: authenticate PREPARE: PREPARE names unknown replica 9"
	if err == nil || err.Error() != want {
		t.Fatalf("error %v, want %q", err, want)
	}

	nv := codecNewView()
	nv.V[2].C[1].Replica = 7
	_, err = SignatureItems(nv, codecKeys)
	want = "pbft: authenticate NEW-VIEW: V[2].C[1]: CHECKPOINT names unknown replica 7"
	if err == nil || err.Error() != want {
		t.Fatalf("error %v, want %q", err, want)
	}
}

func TestAuthenticateNil(t *testing.T) {
	cases := []struct {
		m    Message
		want string
	}{
		{nil, "pbft: authenticate: nil or foreign message (<nil>)"},
		{(*Prepare)(nil), "pbft: authenticate: nil or foreign message (*pbft.Prepare)"},
		{codecForeign{}, "pbft: authenticate: nil or foreign message (pbft.codecForeign)"},
		{&ViewChange{C: []*Checkpoint{nil}}, "pbft: authenticate VIEW-CHANGE: C[0]: nil CHECKPOINT"},
		{&ViewChange{P: []*PreparedProof{nil}}, "pbft: authenticate VIEW-CHANGE: P[0]: nil prepared proof"},
		{&ViewChange{P: []*PreparedProof{{}}}, "pbft: authenticate VIEW-CHANGE: P[0].PrePrepare: nil PRE-PREPARE"},
		{&ViewChange{P: []*PreparedProof{{PrePrepare: &PrePrepare{}, Prepares: []*Prepare{nil}}}}, "pbft: authenticate VIEW-CHANGE: P[0].Prepares[0]: nil PREPARE"},
		{&NewView{V: []*ViewChange{nil}}, "pbft: authenticate NEW-VIEW: V[0]: nil VIEW-CHANGE"},
		{&NewView{O: []*PrePrepare{{Batch: []*Request{nil}}}}, "pbft: authenticate NEW-VIEW: O[0].Batch[0]: nil REQUEST"},
		{&State{Proof: []*Checkpoint{nil}}, "pbft: authenticate STATE: Proof[0]: nil CHECKPOINT"},
	}
	for _, c := range cases {
		err := Authenticate(codecDomain, codecKeys, c.m)
		if err == nil || err.Error() != c.want {
			t.Errorf("%#v: error %v, want %q", c.m, err, c.want)
		}
	}
}

// codecForeign is a Message this package does not know.
type codecForeign struct{}

func (codecForeign) Type() MsgType { return MsgPrepare }

func TestSignPanicsOnNil(t *testing.T) {
	defer func() {
		if recover() == nil {
			t.Fatal("Sign of a nil message did not panic")
		}
	}()
	Sign(codecDomain, codecReplicaKeys[0], (*Prepare)(nil))
}

func TestSignDeterministic(t *testing.T) {
	a, b := codecPrepare(1, 2, NullDigest, 1), codecPrepare(1, 2, NullDigest, 1)
	if a.Sig != b.Sig || a.Sig == (crypto.Signature{}) {
		t.Fatal("signatures are not deterministic or not set")
	}
}

func TestAuthenticateAllocs(t *testing.T) {
	p := codecPrepare(1, 2, NullDigest, 1)
	allocs := testing.AllocsPerRun(20, func() {
		if err := Authenticate(codecDomain, codecKeys, p); err != nil {
			t.Fatal(err)
		}
	})
	t.Logf("Authenticate(PREPARE): %v allocations", allocs)
}
