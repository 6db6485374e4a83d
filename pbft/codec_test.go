package pbft

import (
	"bytes"
	"encoding/binary"
	"fmt"
	"reflect"
	"runtime"
	"strings"
	"testing"

	"github.com/bftbed/bftbed/crypto"
)

// Test fixtures of the codec and auth tests, prefixed "codec" to stay clear
// of the other test files of the package. Keys and signatures are real.

const codecN = 4 // replicas 0..3, f = 1

var (
	codecDomain = crypto.NewDomain("pbft-codec-test")
	codecSeed   = []byte("bftbed pbft codec test seed")

	codecReplicaKeys = func() (ks [codecN]crypto.PrivateKey) {
		for i := range ks {
			ks[i] = crypto.DeriveKey(codecSeed, fmt.Sprintf("replica/%d", i))
		}
		return ks
	}()
	codecClientKeys = func() (ks [3]crypto.PrivateKey) {
		for i := range ks {
			ks[i] = crypto.DeriveKey(codecSeed, fmt.Sprintf("client/%d", i))
		}
		return ks
	}()
)

// codecKeys is the ReplicaKeys of the test cluster.
func codecKeys(id ReplicaID) (crypto.PublicKey, bool) {
	if int(id) >= codecN {
		return crypto.PublicKey{}, false
	}
	return codecReplicaKeys[id].Public(), true
}

// codecSign signs m with the key of its signer: its client for a request,
// its replica otherwise.
func codecSign(m Message) {
	switch x := m.(type) {
	case *Request:
		for _, k := range codecClientKeys {
			if k.Public() == x.Client {
				Sign(codecDomain, k, m)
				return
			}
		}
		panic("unknown test client")
	default:
		Sign(codecDomain, codecReplicaKeys[codecSigner(m)], m)
	}
}

func codecSigner(m Message) ReplicaID {
	switch x := m.(type) {
	case *PrePrepare:
		return x.Replica
	case *Prepare:
		return x.Replica
	case *Commit:
		return x.Replica
	case *Reply:
		return x.Replica
	case *Checkpoint:
		return x.Replica
	case *ViewChange:
		return x.Replica
	case *NewView:
		return x.Replica
	case *FetchState:
		return x.Replica
	case *State:
		return x.Replica
	case *Committed:
		return x.Replica
	}
	panic("no replica signer")
}

func codecRequest(client int, ts uint64, op string) *Request {
	r := &Request{Client: codecClientKeys[client].Public(), Timestamp: ts, Op: []byte(op)}
	codecSign(r)
	return r
}

func codecBatch(n int, ts uint64) []*Request {
	var batch []*Request
	for i := range n {
		batch = append(batch, codecRequest(i%len(codecClientKeys), ts+uint64(i), fmt.Sprintf("put key%d value%d", i, ts)))
	}
	return batch
}

func codecPrePrepare(v View, n Seq, batch []*Request) *PrePrepare {
	pp := &PrePrepare{View: v, Seq: n, Digest: BatchDigest(batch), Replica: ReplicaID(uint64(v) % codecN), Batch: batch}
	codecSign(pp)
	return pp
}

func codecPrepare(v View, n Seq, d Digest, i ReplicaID) *Prepare {
	p := &Prepare{View: v, Seq: n, Digest: d, Replica: i}
	codecSign(p)
	return p
}

func codecCheckpoint(n Seq, i ReplicaID) *Checkpoint {
	c := &Checkpoint{Seq: n, State: crypto.Hash([]byte(fmt.Sprintf("state at %d", n))), Replica: i}
	codecSign(c)
	return c
}

// codecProof is a prepared certificate: the pre-prepare of view v and the
// prepares of the 2f = 2 backups after the primary.
func codecProof(v View, n Seq, batch []*Request) *PreparedProof {
	pp := codecPrePrepare(v, n, batch)
	p := &PreparedProof{PrePrepare: pp}
	for k := 1; k <= 2; k++ {
		p.Prepares = append(p.Prepares, codecPrepare(v, n, pp.Digest, (pp.Replica+ReplicaID(k))%codecN))
	}
	return p
}

// codecViewChange is replica i's VIEW-CHANGE to view v with a stable
// checkpoint at stable (proved by 2f+1 checkpoints) and the given P.
func codecViewChange(v View, i ReplicaID, stable Seq, p ...*PreparedProof) *ViewChange {
	vc := &ViewChange{View: v, Stable: stable, P: p, Replica: i}
	if stable > 0 {
		for k := range ReplicaID(3) {
			vc.C = append(vc.C, codecCheckpoint(stable, k))
		}
	}
	codecSign(vc)
	return vc
}

// codecNewView is the NEW-VIEW of view 1 (primary 1) built from three
// view-changes, one of which prepared sequence number 9; 10 gets the null
// request.
func codecNewView() *NewView {
	proof := codecProof(0, 9, codecBatch(2, 100))
	nv := &NewView{
		View: 1,
		V: []*ViewChange{
			codecViewChange(1, 1, 8),
			codecViewChange(1, 2, 8, proof, codecProof(0, 10, nil)),
			codecViewChange(1, 3, 8),
		},
		Replica: 1,
	}
	o9 := &PrePrepare{View: 1, Seq: 9, Digest: proof.PrePrepare.Digest, Replica: 1}
	o10 := &PrePrepare{View: 1, Seq: 10, Digest: NullDigest, Replica: 1}
	codecSign(o9)
	codecSign(o10)
	nv.O = []*PrePrepare{o9, o10}
	codecSign(nv)
	return nv
}

// codecSamples returns one realistic, validly signed message of each type.
func codecSamples() []Message {
	batch := codecBatch(3, 1000)
	pp := codecPrePrepare(2, 17, batch)
	commit := &Commit{View: 2, Seq: 17, Digest: pp.Digest, Replica: 3}
	codecSign(commit)
	reply := &Reply{View: 2, Timestamp: 1000, Client: batch[0].Client, Replica: 1, Result: []byte("ok")}
	codecSign(reply)
	fetch := &FetchState{Seq: 64, Offset: 4096, Replica: 2}
	codecSign(fetch)
	state := &State{Seq: 64, Size: 2000, Offset: 800, Chunk: bytes.Repeat([]byte("snapshot"), 100), Replica: 0}
	for k := range ReplicaID(3) {
		state.Proof = append(state.Proof, codecCheckpoint(64, k+1))
	}
	codecSign(state)
	committed := &Committed{PrePrepare: pp, Replica: 1}
	for k := range ReplicaID(3) {
		cm := &Commit{View: 2, Seq: 17, Digest: pp.Digest, Replica: k}
		codecSign(cm)
		committed.Commits = append(committed.Commits, cm)
	}
	codecSign(committed)
	return []Message{
		batch[0],
		pp,
		codecPrepare(2, 17, pp.Digest, 1),
		commit,
		reply,
		codecCheckpoint(64, 2),
		codecViewChange(3, 0, 64, codecProof(2, 65, codecBatch(2, 5000)), codecProof(2, 66, nil)),
		codecNewView(),
		fetch,
		state,
		committed,
	}
}

// splice returns b with b[off:off+n] replaced by repl.
func codecSplice(b []byte, off, n int, repl []byte) []byte {
	out := append([]byte(nil), b[:off]...)
	out = append(out, repl...)
	return append(out, b[off+n:]...)
}

func codecUvarint(n uint64) []byte { return binary.AppendUvarint(nil, n) }

// codecAllocBytes returns the bytes f allocates per call, on average.
func codecAllocBytes(f func()) uint64 {
	const runs = 10
	f() // warm up
	var before, after runtime.MemStats
	runtime.ReadMemStats(&before)
	for range runs {
		f()
	}
	runtime.ReadMemStats(&after)
	return (after.TotalAlloc - before.TotalAlloc) / runs
}

func TestRoundTrip(t *testing.T) {
	for _, m := range codecSamples() {
		t.Run(m.Type().String(), func(t *testing.T) {
			b := Marshal(m)
			if b[0] != byte(m.Type()) {
				t.Fatalf("type byte %d, want %d", b[0], m.Type())
			}
			if cap(b) != len(b) {
				t.Errorf("Marshal buffer: len %d, cap %d; the size computation is off", len(b), cap(b))
			}
			got, err := Unmarshal(b)
			if err != nil {
				t.Fatalf("Unmarshal: %v", err)
			}
			if !reflect.DeepEqual(got, m) {
				t.Fatalf("round trip changed the message:\n got %+v\nwant %+v", got, m)
			}
			if b2 := Marshal(got); !bytes.Equal(b2, b) {
				t.Fatal("Marshal(Unmarshal(b)) != b")
			}
			prefix := []byte("prefix")
			if a := AppendMarshal(prefix, m); !bytes.Equal(a, append(prefix, b...)) {
				t.Fatal("AppendMarshal differs from Marshal")
			}
			sb := SigningBytes(m)
			if !bytes.HasPrefix(b, sb) {
				t.Fatal("SigningBytes is not a prefix of Marshal")
			}
			if cap(sb) != len(sb) {
				t.Errorf("SigningBytes buffer: len %d, cap %d", len(sb), cap(sb))
			}
			// Decoded byte strings must not alias the input.
			for i := range b {
				b[i] = 0xee
			}
			if !reflect.DeepEqual(got, m) {
				t.Fatal("decoded message aliases the input buffer")
			}
		})
	}
}

func TestSigningBytesExcludesSigAndBatch(t *testing.T) {
	samples := codecSamples()
	pp := samples[1].(*PrePrepare)
	sb := SigningBytes(pp)
	if len(sb) != 1+voteLen {
		t.Fatalf("PRE-PREPARE signing bytes are %d bytes, want %d", len(sb), 1+voteLen)
	}
	other := *pp
	other.Batch, other.Sig = nil, crypto.Signature{}
	if !bytes.Equal(SigningBytes(&other), sb) {
		t.Fatal("PRE-PREPARE signing bytes depend on Batch or Sig")
	}
	for _, m := range samples {
		b, sb := Marshal(m), SigningBytes(m)
		if m.Type() == MsgReply {
			if !bytes.HasPrefix(b, sb) || len(sb) != 1+replySignedLen {
				t.Errorf("REPLY: signing bytes are not the view, replica and root at the start of the encoding")
			}
			continue
		}
		if m.Type() != MsgPrePrepare && len(b) != len(sb)+sigLen {
			t.Errorf("%s: signing bytes %d, encoding %d: want exactly the Sig less", m.Type(), len(sb), len(b))
		}
	}
	// Nested signatures are signed over.
	vc := samples[6].(*ViewChange)
	before := SigningBytes(vc)
	vc.P[0].Prepares[0].Sig[5] ^= 1
	if bytes.Equal(before, SigningBytes(vc)) {
		t.Fatal("a nested signature is not covered by the outer signing bytes")
	}
}

func TestDigests(t *testing.T) {
	r := codecRequest(0, 7, "op")
	if RequestDigest(r) != crypto.Hash(SigningBytes(r)) {
		t.Fatal("RequestDigest is not the hash of the signing bytes")
	}
	r2 := *r
	r2.Sig[0] ^= 1
	if RequestDigest(&r2) != RequestDigest(r) {
		t.Fatal("RequestDigest depends on the signature")
	}
	r2.Timestamp++
	if RequestDigest(&r2) == RequestDigest(r) {
		t.Fatal("RequestDigest ignores the timestamp")
	}
	big := codecRequest(1, 8, strings.Repeat("x", 1000)) // past the stack buffer
	if RequestDigest(big) != crypto.Hash(SigningBytes(big)) {
		t.Fatal("RequestDigest wrong for a large request")
	}

	if NullDigest != BatchDigest([]*Request{}) || NullDigest != BatchDigest(nil) {
		t.Fatal("NullDigest is not the digest of the empty batch")
	}
	a, b := codecRequest(0, 1, "a"), codecRequest(1, 1, "b")
	if BatchDigest([]*Request{a, b}) == BatchDigest([]*Request{b, a}) {
		t.Fatal("BatchDigest ignores order")
	}
	if BatchDigest([]*Request{a}) == RequestDigest(a) || BatchDigest([]*Request{a}) == NullDigest {
		t.Fatal("BatchDigest collides")
	}
	pp := codecPrePrepare(0, 1, []*Request{a, b})
	if !CheckBatchDigest(pp) {
		t.Fatal("CheckBatchDigest rejects a correct pre-prepare")
	}
	pp.Batch = pp.Batch[:1]
	if CheckBatchDigest(pp) {
		t.Fatal("CheckBatchDigest accepts a pre-prepare whose batch lost a request")
	}
	if !CheckBatchDigest(&PrePrepare{Digest: NullDigest}) {
		t.Fatal("CheckBatchDigest rejects the null request")
	}
}

// TestNilAndEmpty checks that nil and empty byte strings and lists encode
// alike and decode as nil, and that nil nested pointers encode as zero
// values instead of panicking.
func TestNilAndEmpty(t *testing.T) {
	a := Marshal(&Request{Op: []byte{}})
	b := Marshal(&Request{})
	if !bytes.Equal(a, b) {
		t.Fatal("empty and nil Op encode differently")
	}
	m, err := Unmarshal(a)
	if err != nil || m.(*Request).Op != nil {
		t.Fatalf("empty Op decodes as %#v, %v; want nil", m, err)
	}
	if !bytes.Equal(Marshal(&ViewChange{C: []*Checkpoint{}, P: []*PreparedProof{}}), Marshal(&ViewChange{})) {
		t.Fatal("empty and nil lists encode differently")
	}

	withNils := []Message{
		&PrePrepare{Batch: []*Request{nil}},
		&ViewChange{C: []*Checkpoint{nil}, P: []*PreparedProof{nil, {Prepares: []*Prepare{nil}}}},
		&NewView{V: []*ViewChange{nil}, O: []*PrePrepare{nil}},
		&State{Proof: []*Checkpoint{nil}},
		(*Request)(nil), (*PrePrepare)(nil), (*Prepare)(nil), (*Commit)(nil), (*Reply)(nil),
		(*Checkpoint)(nil), (*ViewChange)(nil), (*NewView)(nil), (*FetchState)(nil), (*State)(nil),
	}
	for _, m := range withNils {
		b := Marshal(m)
		if len(b) != cap(b) {
			t.Errorf("%s %#v: size computation off", m.Type(), m)
		}
		if len(SigningBytes(m)) == 0 {
			t.Errorf("%s: empty signing bytes", m.Type())
		}
		got, err := Unmarshal(b)
		if err != nil {
			t.Fatalf("%s with nil pointers: %v", m.Type(), err)
		}
		if !bytes.Equal(Marshal(got), b) {
			t.Fatalf("%s with nil pointers: re-encoding differs", m.Type())
		}
	}
	got, _ := Unmarshal(Marshal(withNils[1]))
	if vc := got.(*ViewChange); vc.C[0] == nil || vc.P[0] == nil || vc.P[0].PrePrepare == nil || vc.P[1].Prepares[0] == nil {
		t.Fatal("nil nested pointers did not decode as zero values")
	}
}

func TestMarshalPanicsOnForeignType(t *testing.T) {
	defer func() {
		if r := recover(); r == nil || !strings.Contains(fmt.Sprint(r), "cannot encode") {
			t.Fatalf("recover() = %v", r)
		}
	}()
	Marshal(nil)
}

func TestRejectTruncated(t *testing.T) {
	for _, m := range codecSamples() {
		b := Marshal(m)
		for n := range len(b) {
			if _, err := Unmarshal(b[:n]); err == nil {
				t.Fatalf("%s truncated to %d of %d bytes accepted", m.Type(), n, len(b))
			} else if n > 0 && !strings.Contains(err.Error(), "pbft: decode "+m.Type().String()) {
				t.Fatalf("%s truncated to %d bytes: error %q does not name the type", m.Type(), n, err)
			}
		}
	}
	_, err := Unmarshal(Marshal(codecSamples()[2])[:60])
	want := "pbft: decode PREPARE: truncated at offset 53: Sig needs 64 bytes, 7 left"
	if err == nil || err.Error() != want {
		t.Fatalf("error %q, want %q", err, want)
	}
}

func TestRejectTrailing(t *testing.T) {
	for _, m := range codecSamples() {
		b := append(Marshal(m), 0)
		_, err := Unmarshal(b)
		if err == nil || !strings.Contains(err.Error(), "1 trailing bytes") {
			t.Fatalf("%s with a trailing byte: error %v", m.Type(), err)
		}
	}
}

func TestRejectUnknownType(t *testing.T) {
	b := Marshal(codecSamples()[2])
	for _, typ := range []byte{0, 12, 200, 255} {
		b[0] = typ
		_, err := Unmarshal(b)
		want := fmt.Sprintf("pbft: decode: unknown message type %d", typ)
		if err == nil || err.Error() != want {
			t.Fatalf("type %d: error %v, want %q", typ, err, want)
		}
	}
	if _, err := Unmarshal(nil); err == nil {
		t.Fatal("empty input accepted")
	}
}

func TestRejectNonMinimalVarint(t *testing.T) {
	r := &Request{Op: []byte("hello")}
	b := Marshal(r)
	lenOff := 1 + keyLen + 8
	for _, enc := range [][]byte{{0x85, 0x00}, {0x85, 0x80, 0x00}, {0x85, 0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x00}} {
		bad := codecSplice(b, lenOff, 1, enc)
		_, err := Unmarshal(bad)
		if err == nil || !strings.Contains(err.Error(), "non-minimal length of Op") {
			t.Fatalf("non-minimal % x: error %v", enc, err)
		}
	}
	// A zero length spelled in two bytes.
	bad := codecSplice(Marshal(&Request{}), lenOff, 1, []byte{0x80, 0x00})
	if _, err := Unmarshal(bad); err == nil {
		t.Fatal("non-minimal zero accepted")
	}
	// More than 64 bits.
	bad = codecSplice(b, lenOff, 1, bytes.Repeat([]byte{0xff}, 10))
	if _, err := Unmarshal(bad); err == nil || !strings.Contains(err.Error(), "overflows") {
		t.Fatalf("overflowing varint: error %v", err)
	}
	// A list count, too.
	pp := Marshal(&PrePrepare{})
	bad = codecSplice(pp, len(pp)-1, 1, []byte{0x80, 0x00})
	if _, err := Unmarshal(bad); err == nil || !strings.Contains(err.Error(), "non-minimal length of Batch") {
		t.Fatalf("non-minimal count: error %v", err)
	}
}

// TestRejectOverLimit builds encodings whose counts or lengths exceed the
// limits and checks the error names the field and the limit.
func TestRejectOverLimit(t *testing.T) {
	pp := Marshal(&PrePrepare{}) // ends with the Batch count
	vc := Marshal(&ViewChange{}) // type, View, Stable, nC, nP, Replica, Sig
	nv := Marshal(&NewView{})    // type, View, nV, nO, Replica, Sig
	st := Marshal(&State{})      // type, Seq, nProof, Size, Offset, nChunk, Replica, Sig
	rq := Marshal(&Request{})    // type, Client, Timestamp, nOp, Sig
	rp := Marshal(&Reply{})      // type, View, Replica, Root, Timestamp, Client, nResult, Index, Count, nProof, Sig
	vcp := Marshal(&ViewChange{P: []*PreparedProof{{}}})
	nested := Marshal(&NewView{V: []*ViewChange{{}, {P: []*PreparedProof{{}}}}})
	// Offset of V[1].P[0].PrePrepare's Batch count in nested.
	nestedOff := 1 + 8 + 1 + viewChangeSize(nil) + 8 + 8 + 1 + 1 + prepareLen

	cases := []struct {
		name string
		b    []byte
		want string
	}{
		{"batch", codecSplice(pp, len(pp)-1, 1, codecUvarint(20001)), "pbft: decode PRE-PREPARE: Batch has 20001 requests, limit 10000"},
		{"batch 2^60", codecSplice(pp, len(pp)-1, 1, codecUvarint(1<<60)), "Batch has 1152921504606846976 requests, limit 10000"},
		{"batch past end", codecSplice(pp, len(pp)-1, 1, codecUvarint(10000)), "Batch claims 10000 requests but only 0 bytes are left"},
		{"C", codecSplice(vc, 17, 1, codecUvarint(MaxCheckpointProof+1)), "pbft: decode VIEW-CHANGE: C has 1025 checkpoints, limit 1024"},
		{"P", codecSplice(vc, 18, 1, codecUvarint(MaxPrepared+1)), "pbft: decode VIEW-CHANGE: P has 4097 prepared proofs, limit 4096"},
		{"Prepares", codecSplice(vcp, 19+minPrePrepareLen, 1, codecUvarint(MaxPreparesPerProof+1)), "pbft: decode VIEW-CHANGE: P[0]: Prepares has 1025 prepares, limit 1024"},
		{"V", codecSplice(nv, 9, 1, codecUvarint(MaxViewChanges+1)), "pbft: decode NEW-VIEW: V has 1025 view-changes, limit 1024"},
		{"O", codecSplice(nv, 10, 1, codecUvarint(MaxPrepared+1)), "pbft: decode NEW-VIEW: O has 4097 pre-prepares, limit 4096"},
		{"nested batch", codecSplice(nested, nestedOff, 1, codecUvarint(MaxBatchRequests+1)), "pbft: decode NEW-VIEW: V[1].P[0].PrePrepare: Batch has 10001 requests, limit 10000"},
		{"Proof", codecSplice(st, 9, 1, codecUvarint(MaxCheckpointProof+1)), "pbft: decode STATE: Proof has 1025 checkpoints, limit 1024"},
		{"Chunk", codecSplice(st, 26, 1, codecUvarint(MaxStateChunk+1)), "pbft: decode STATE: Chunk is 16777217 bytes, limit 16777216"},
		{"Size", codecSplice(st, 10, 8, binary.BigEndian.AppendUint64(nil, MaxSnapshotSize+1)), "pbft: decode STATE: Size is 67108865 bytes, limit 67108864"},
		{"chunk outside", codecSplice(st, 18, 8, binary.BigEndian.AppendUint64(nil, 1)), "pbft: decode STATE: chunk [1, 1) lies outside a snapshot of 0 bytes"},
		{"Commits", codecSplice(Marshal(&Committed{}), 1+minPrePrepareLen, 1, codecUvarint(MaxCommitsPerProof+1)), "pbft: decode COMMITTED: Commits has 1025 commits, limit 1024"},
		{"Op", codecSplice(rq, 1+keyLen+8, 1, codecUvarint(MaxOpSize+1)), "pbft: decode REQUEST: Op is 1048577 bytes, limit 1048576"},
		{"Op past end", codecSplice(rq, 1+keyLen+8, 1, codecUvarint(1000)), "pbft: decode REQUEST: truncated at offset 43: Op needs 1000 bytes, 64 left"},
		{"Result", codecSplice(rp, 1+replySignedLen+8+keyLen, 1, codecUvarint(MaxOpSize+1)), "pbft: decode REPLY: Result is 1048577 bytes, limit 1048576"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			var err error
			allocated := codecAllocBytes(func() { _, err = Unmarshal(c.b) })
			if err == nil || !strings.Contains(err.Error(), c.want) {
				t.Fatalf("error %v, want %q", err, c.want)
			}
			// Failing must not allocate for the claimed count: only for
			// what was decoded, the error and its formatting.
			if allocated > 16<<10 {
				t.Errorf("%d bytes allocated to reject %d bytes", allocated, len(c.b))
			}
		})
	}
}

// TestRejectHugeClaim feeds a few bytes claiming 2^60 elements.
func TestRejectHugeClaim(t *testing.T) {
	request := append([]byte{byte(MsgRequest)}, make([]byte, keyLen+8)...)
	for _, b := range [][]byte{
		append([]byte{byte(MsgNewView), 0, 0, 0, 0, 0, 0, 0, 0}, codecUvarint(1<<60)...),
		append(request, codecUvarint(1<<60)...),
		{byte(MsgState), 0, 0, 0, 0, 0, 0, 0, 1, 0xff, 0xff, 0xff, 0xff, 0x0f},
		{byte(MsgPrePrepare), 0xff, 0xff, 0xff, 0x0f}, // too short to reach a count
	} {
		var err error
		allocated := codecAllocBytes(func() { _, err = Unmarshal(b) })
		if err == nil {
			t.Fatalf("% x accepted", b)
		}
		if allocated > 16<<10 {
			t.Errorf("% x: %d bytes allocated to reject it", b, allocated)
		}
	}
}

func TestRejectOversizedMessage(t *testing.T) {
	if testing.Short() {
		t.Skip("allocates 128 MiB")
	}
	b := make([]byte, MaxMessageSize+1)
	b[0] = byte(MsgState)
	_, err := Unmarshal(b)
	if err == nil || !strings.Contains(err.Error(), "pbft: decode STATE: message is 134217729 bytes, limit 134217728") {
		t.Fatalf("error %v", err)
	}
}

// TestDecodeOwnsBytes checks that decoded byte strings are capped: appending
// to one must not overwrite its neighbour in the shared copy.
func TestDecodeOwnsBytes(t *testing.T) {
	pp := codecPrePrepare(0, 1, codecBatch(2, 1))
	m, err := Unmarshal(Marshal(pp))
	if err != nil {
		t.Fatal(err)
	}
	got := m.(*PrePrepare)
	_ = append(got.Batch[0].Op, "overwrite"...)
	if !reflect.DeepEqual(got, pp) {
		t.Fatal("appending to a decoded Op changed the message")
	}
}
