package store

import (
	"encoding/binary"
	"fmt"
	"slices"
	"strings"
	"testing"

	"github.com/bftbed/bftbed/crypto"
	"github.com/bftbed/bftbed/pbft"
	"github.com/cockroachdb/pebble/v2/vfs"
)

// The test fixture plays replica 1 of a 4-replica cluster and produces the
// Persists its core would: real signed messages, batches of signed requests,
// checkpoints with 2f+1 proofs, view changes.

const testN = 4

var (
	testDomain = crypto.NewDomain("test")
	testSeed   = []byte("bftbed store test seed")
	testKeys   = func() (ks [testN]crypto.PrivateKey) {
		for i := range ks {
			ks[i] = crypto.DeriveKey(testSeed, fmt.Sprintf("replica/%d", i))
		}
		return ks
	}()
)

// fixture generates the Persists of replica me.
type fixture struct {
	me        pbft.ReplicaID
	view      pbft.View
	seq       pbft.Seq // last sequence number started
	interval  pbft.Seq // checkpoint interval
	batchSize int
	stable    *pbft.StableCheckpoint
	reqs      []*pbft.Request // a pool of signed requests, reused across batches
	next      int
	// prepared is the latest prepared certificate, for VIEW-CHANGE's P.
	prepared *pbft.PreparedProof
	// redo is set after a view change: the next sequence number is the
	// last one again, which prepared but did not commit in the old view.
	redo bool
}

// newFixture returns a fixture proposing batches of batchSize requests with
// opSize-byte operations and checkpointing every interval sequence numbers.
// Requests come from a pool of distinct signed requests, so that a long run
// does not spend its time signing.
func newFixture(batchSize, opSize int, interval pbft.Seq) *fixture {
	f := &fixture{me: 1, interval: interval, batchSize: batchSize}
	client := crypto.DeriveKey(testSeed, "client/0")
	for i := range max(2*batchSize, 8) {
		op := make([]byte, opSize)
		binary.BigEndian.PutUint64(op, uint64(i)) // opSize >= 8 in these tests
		r := &pbft.Request{Client: client.Public(), Timestamp: uint64(i + 1), Op: op}
		pbft.Sign(testDomain, client, r)
		f.reqs = append(f.reqs, r)
	}
	return f
}

func sign(id pbft.ReplicaID, m pbft.Message) { pbft.Sign(testDomain, testKeys[id], m) }

func (f *fixture) primary() pbft.ReplicaID { return pbft.ReplicaID(uint64(f.view) % testN) }

func (f *fixture) batch() []*pbft.Request {
	b := make([]*pbft.Request, f.batchSize)
	for i := range b {
		b[i] = f.reqs[f.next%len(f.reqs)]
		f.next++
	}
	return b
}

// others returns the replicas other than me and except, in order.
func (f *fixture) others(except pbft.ReplicaID) []pbft.ReplicaID {
	var ids []pbft.ReplicaID
	for id := range pbft.ReplicaID(testN) {
		if id != f.me && id != except {
			ids = append(ids, id)
		}
	}
	return ids
}

// snapshot returns the (fake but deterministic) snapshot after seq.
func snapshot(seq pbft.Seq) []byte {
	b := make([]byte, 512)
	for i := 0; i+8 <= len(b); i += 8 {
		binary.BigEndian.PutUint64(b[i:], uint64(seq)*1000+uint64(i))
	}
	return b
}

// normalSteps returns the Persists of the next sequence number in the
// normal case as a backup: the pre-prepare and its own prepare; the other
// backups' prepares and its own commit; the other commits and the
// execution, with the checkpoint when due. With merged, all of it is one
// Persist. With upTo < 3, it stops after that many steps (the sequence
// number prepares but does not commit).
func (f *fixture) normalSteps(merged bool, upTo int) []*pbft.Persist {
	var batch []*pbft.Request
	if f.redo {
		// The new primary proposes again what prepared in the old view.
		f.redo = false
		batch = f.prepared.PrePrepare.Batch
	} else {
		f.seq++
		batch = f.batch()
	}
	n, v, p := f.seq, f.view, f.primary()
	pp := &pbft.PrePrepare{View: v, Seq: n, Digest: pbft.BatchDigest(batch), Replica: p, Batch: batch}
	sign(p, pp)
	vote := func(id pbft.ReplicaID, commit bool) pbft.Message {
		if commit {
			c := &pbft.Commit{View: v, Seq: n, Digest: pp.Digest, Replica: id}
			sign(id, c)
			return c
		}
		x := &pbft.Prepare{View: v, Seq: n, Digest: pp.Digest, Replica: id}
		sign(id, x)
		return x
	}
	steps := []*pbft.Persist{{Log: []pbft.Message{pp}}}
	proof := &pbft.PreparedProof{PrePrepare: pp}
	if p != f.me { // the primary sends no PREPARE
		own := vote(f.me, false)
		steps[0].Log = append(steps[0].Log, own)
		proof.Prepares = append(proof.Prepares, own.(*pbft.Prepare))
	}
	s2 := &pbft.Persist{}
	for _, id := range f.others(p) {
		x := vote(id, false)
		proof.Prepares = append(proof.Prepares, x.(*pbft.Prepare))
		s2.Log = append(s2.Log, x)
	}
	f.prepared = proof
	s2.Log = append(s2.Log, vote(f.me, true))
	steps = append(steps, s2)
	s3 := &pbft.Persist{}
	for _, id := range f.others(f.me) {
		if len(s3.Log) < 2 {
			s3.Log = append(s3.Log, vote(id, true))
		}
	}
	s3.Executed = []pbft.CommittedBatch{{Seq: n, View: v, Digest: pp.Digest, Batch: pp.Batch}}
	if n%f.interval == 0 {
		snap := snapshot(n)
		s3.Snapshots = []pbft.Snapshot{{Seq: n, Data: snap}}
		cp := &pbft.Checkpoint{Seq: n, State: crypto.Hash(snap), Replica: f.me}
		sign(f.me, cp)
		s3.Log = append(s3.Log, cp)
	}
	steps = append(steps, s3)
	steps = steps[:upTo]
	if merged {
		m := &pbft.Persist{}
		for _, s := range steps {
			m.Log = append(m.Log, s.Log...)
			m.Executed = append(m.Executed, s.Executed...)
			m.Snapshots = append(m.Snapshots, s.Snapshots...)
		}
		steps = []*pbft.Persist{m}
	}
	return steps
}

// stableStep returns the Persist in which the checkpoint at seq becomes
// stable: two more CHECKPOINTs and the Stable with its 2f+1 proof.
func (f *fixture) stableStep(seq pbft.Seq) *pbft.Persist {
	state := crypto.Hash(snapshot(seq))
	st := &pbft.StableCheckpoint{Seq: seq, State: state}
	p := &pbft.Persist{}
	for id := range pbft.ReplicaID(3) {
		cp := &pbft.Checkpoint{Seq: seq, State: state, Replica: id}
		sign(id, cp)
		st.Proof = append(st.Proof, cp)
		if id != f.me {
			p.Log = append(p.Log, cp)
		}
	}
	p.Stable = st
	f.stable = st
	return p
}

// viewChange returns the Persists of a view change to the next view: its
// own VIEW-CHANGE, two others', and the NEW-VIEW.
func (f *fixture) viewChange() []*pbft.Persist {
	f.view++
	v := f.view
	vcOf := func(id pbft.ReplicaID) *pbft.ViewChange {
		vc := &pbft.ViewChange{View: v, Replica: id}
		if f.stable != nil {
			vc.Stable, vc.C = f.stable.Seq, f.stable.Proof
		}
		if f.prepared != nil && (f.stable == nil || f.prepared.PrePrepare.Seq > f.stable.Seq) {
			vc.P = []*pbft.PreparedProof{f.prepared}
		}
		sign(id, vc)
		return vc
	}
	own := vcOf(f.me)
	var V []*pbft.ViewChange
	rest := &pbft.Persist{}
	for _, id := range f.others(f.me)[:2] {
		vc := vcOf(id)
		V = append(V, vc)
		rest.Log = append(rest.Log, vc)
	}
	V = append(V, own)
	nv := &pbft.NewView{View: v, V: V, Replica: f.primary()}
	sign(f.primary(), nv)
	steps := []*pbft.Persist{
		{View: &pbft.ViewStatus{View: v, Changing: true}, Log: []pbft.Message{own}},
		rest,
		{View: &pbft.ViewStatus{View: v}, Log: []pbft.Message{nv}},
	}
	f.redo = true
	return steps
}

// run generates the Persists of seqs sequence numbers: the normal case,
// each checkpoint becoming stable a few sequence numbers after it is
// taken, and a view change after every vcEvery sequence numbers (never if
// 0), which leaves the last sequence number of the view prepared only.
func (f *fixture) run(seqs int, merged bool, vcEvery int) []*pbft.Persist {
	var out []*pbft.Persist
	pending := pbft.Seq(0)
	for i := 1; i <= seqs; i++ {
		if vcEvery > 0 && i%vcEvery == 0 {
			out = append(out, f.normalSteps(merged, 2)...)
			out = append(out, f.viewChange()...)
			continue
		}
		out = append(out, f.normalSteps(merged, 3)...)
		if f.seq%f.interval == 0 {
			pending = f.seq
		}
		if pending != 0 && f.seq == pending+3 {
			out = append(out, f.stableStep(pending))
			pending = 0
		}
	}
	return out
}

// canon renders a Recovered as lines that compare equal exactly when two
// Recovered values hold the same data. Log messages are a set (sorted,
// deduplicated); everything else keeps its order.
func canon(rec *pbft.Recovered) []string {
	out := []string{fmt.Sprintf("view %d changing=%v", rec.View.View, rec.View.Changing)}
	if rec.Stable != nil {
		var proof []string
		for _, cp := range rec.Stable.Proof {
			proof = append(proof, crypto.Hash(pbft.Marshal(cp)).String())
		}
		out = append(out, fmt.Sprintf("stable %d %s proof %v", rec.Stable.Seq, rec.Stable.State.Hex(), proof))
	}
	if rec.StableSnapshot != nil {
		out = append(out, fmt.Sprintf("snapshot %d bytes %s", len(rec.StableSnapshot), crypto.Hash(rec.StableSnapshot)))
	}
	var log []string
	for _, m := range rec.Log {
		log = append(log, fmt.Sprintf("log %s %s", m.Type(), crypto.Hash(pbft.Marshal(m)).Hex()))
	}
	slices.Sort(log)
	out = append(out, slices.Compact(log)...)
	for _, b := range rec.Executed {
		pp := &pbft.PrePrepare{Batch: b.Batch}
		out = append(out, fmt.Sprintf("executed %d view %d digest %s batch %s", b.Seq, b.View, b.Digest, crypto.Hash(pbft.Marshal(pp))))
	}
	return out
}

// expected returns what Store.Load should return where pbft.MemoryStorage
// returns want: the same, less the VIEW-CHANGEs and NEW-VIEWs of views below
// the current one (see the package comment).
func expected(want *pbft.Recovered) *pbft.Recovered {
	w := *want
	w.Log = nil
	for _, m := range want.Log {
		switch m := m.(type) {
		case *pbft.ViewChange:
			if m.View < want.View.View {
				continue
			}
		case *pbft.NewView:
			if m.View < want.View.View {
				continue
			}
		}
		w.Log = append(w.Log, m)
	}
	return &w
}

// sameRecovered fails t if got and want differ, showing the first
// difference.
func sameRecovered(t testing.TB, got, want *pbft.Recovered) {
	t.Helper()
	g, w := canon(got), canon(expected(want))
	if slices.Equal(g, w) {
		return
	}
	for i := range max(len(g), len(w)) {
		var gl, wl string
		if i < len(g) {
			gl = g[i]
		}
		if i < len(w) {
			wl = w[i]
		}
		if gl != wl {
			t.Fatalf("Load differs from MemoryStorage at line %d of %d/%d:\n got  %q\n want %q", i, len(g), len(w), gl, wl)
		}
	}
}

// mirror is a Store and a MemoryStorage given the same Persists.
type mirror struct {
	t   testing.TB
	fs  vfs.FS
	dir string
	s   *Store
	mem *pbft.MemoryStorage
}

func newMirror(t testing.TB, fs vfs.FS, opts Options) *mirror {
	t.Helper()
	m := &mirror{t: t, fs: fs, dir: "db", mem: pbft.NewMemoryStorage()}
	opts.FS = fs
	m.s = mustOpen(t, fs, m.dir, opts)
	return m
}

func mustOpen(t testing.TB, fs vfs.FS, dir string, opts Options) *Store {
	t.Helper()
	opts.FS = fs
	s, err := Open(dir, opts)
	if err != nil {
		t.Fatalf("Open: %v", err)
	}
	return s
}

func (m *mirror) save(ps ...*pbft.Persist) {
	m.t.Helper()
	for _, p := range ps {
		if err := m.s.Save(p); err != nil {
			m.t.Fatalf("Save: %v", err)
		}
		if err := m.mem.Save(p); err != nil {
			m.t.Fatalf("MemoryStorage.Save: %v", err)
		}
	}
}

// check compares the Store's Load with the MemoryStorage's.
func (m *mirror) check() {
	m.t.Helper()
	got, err := m.s.Load()
	if err != nil {
		m.t.Fatalf("Load: %v", err)
	}
	want, err := m.mem.Load()
	if err != nil {
		m.t.Fatalf("MemoryStorage.Load: %v", err)
	}
	sameRecovered(m.t, got, want)
}

// reopen closes the Store and opens it again.
func (m *mirror) reopen() {
	m.t.Helper()
	if err := m.s.Close(); err != nil {
		m.t.Fatalf("Close: %v", err)
	}
	m.s = mustOpen(m.t, m.fs, m.dir, Options{})
}

// describe summarizes a Recovered for logs.
func describe(rec *pbft.Recovered) string {
	var b strings.Builder
	fmt.Fprintf(&b, "view=%d changing=%v", rec.View.View, rec.View.Changing)
	if rec.Stable != nil {
		fmt.Fprintf(&b, " stable=%d", rec.Stable.Seq)
	}
	fmt.Fprintf(&b, " log=%d executed=%d", len(rec.Log), len(rec.Executed))
	return b.String()
}
