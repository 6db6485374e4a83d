package bench

import (
	"fmt"
	"math/rand/v2"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/bftbed/bftbed/pbft"
	"github.com/bftbed/bftbed/pbft/kv"
)

// replicatedKV is a toy replicated key-value service built from two real
// kv.Stores: writes go to the leader, which a follower replays only every
// syncEvery operations. With staleReads set it has the classic bug of
// serving reads from the follower (a read optimisation that does not wait
// for the replica to catch up), so a read can miss a write that completed
// before it began.
type replicatedKV struct {
	leader, follower *kv.Store
	backlog          []pbft.Operation
	syncEvery, n     int
	staleReads       bool
}

func newReplicatedKV(staleReads bool) *replicatedKV {
	return &replicatedKV{leader: kv.New(), follower: kv.New(), syncEvery: 6, staleReads: staleReads}
}

// execute runs one encoded operation and returns the decoded result.
func (s *replicatedKV) execute(t *testing.T, enc []byte) kv.Result {
	s.n++
	op := pbft.Operation{Op: enc}
	var out []byte
	if dec, _ := kv.DecodeOp(enc); dec.Kind == kv.OpGet && s.staleReads {
		out = s.follower.Execute(0, []pbft.Operation{op})[0]
		s.leader.Execute(0, []pbft.Operation{op}) // keep the leader's order
	} else {
		out = s.leader.Execute(0, []pbft.Operation{op})[0]
		s.backlog = append(s.backlog, op)
	}
	if s.n%s.syncEvery == 0 {
		s.follower.Execute(0, s.backlog)
		s.backlog = nil
	}
	r, err := kv.DecodeResult(out)
	if err != nil {
		t.Fatal(err)
	}
	return r
}

// workload runs n random operations on two keys through svc, one at a
// time, and records them with overlapping intervals around their
// execution points (so neighbouring operations are concurrent and the
// checker must search).
func workload(t *testing.T, svc *replicatedKV, n int) []Op {
	rng := rand.New(rand.NewPCG(7, 7))
	var h []Op
	for i := 0; i < n; i++ {
		key := []byte(fmt.Sprintf("k%d", rng.IntN(2)))
		val := []byte(fmt.Sprintf("v%d;", i))
		var enc []byte
		switch rng.IntN(5) {
		case 0:
			enc = kv.EncodePut(key, val)
		case 1, 2:
			enc = kv.EncodeGet(key)
		case 3:
			enc = kv.EncodeAppend(key, val)
		case 4:
			// Half the CASes expect the current value, to exercise
			// both outcomes.
			cur, _ := svc.leader.Get(key)
			if rng.IntN(2) == 0 {
				cur = []byte("nope")
			}
			enc = kv.EncodeCAS(key, cur, val)
		}
		dec, err := kv.DecodeOp(enc)
		if err != nil {
			t.Fatal(err)
		}
		res := svc.execute(t, enc)
		at := time.Duration(i*10) * ms
		op := OpFromKV(dec)
		op.Client = fmt.Sprintf("c%d", i%3)
		op.Timestamp = uint64(i/3 + 1)
		op.Start = at - time.Duration(rng.IntN(12))*ms
		op.End = at + time.Duration(rng.IntN(12))*ms
		op.Output = ResultFromKV(res)
		op.Completed = true
		h = append(h, op)
	}
	return h
}

func TestLinearizabilityCorrectStore(t *testing.T) {
	// The real kv.Store behind the toy service: the model must accept
	// every history it produces (this also checks the model against the
	// store's semantics for Put, Get, Append and CAS).
	r := &Result{History: workload(t, newReplicatedKV(false), 400)}
	v := Linearizability(r, CheckOptions{Dir: t.TempDir()})
	if !v.Pass || v.Inconclusive {
		t.Fatalf("correct store: %+v", v)
	}
}

func TestLinearizabilityStaleRead(t *testing.T) {
	dir := t.TempDir()
	r := &Result{History: workload(t, newReplicatedKV(true), 400)}
	v := Linearizability(r, CheckOptions{Dir: dir})
	if v.Pass {
		t.Fatalf("stale reads passed: %+v", v)
	}
	path := filepath.Join(dir, LinearizabilityFile)
	if !strings.Contains(v.Summary, path) {
		t.Errorf("summary %q does not say where the visualisation is", v.Summary)
	}
	if len(v.Details) == 0 || !strings.HasPrefix(v.Details[0], `key "k`) {
		t.Errorf("details do not name a key: %q", v.Details)
	}
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	if len(b) < 1000 || !strings.Contains(string(b), "<html") || !strings.Contains(string(b), `Get(\"k`) {
		t.Fatalf("visualisation looks wrong (%d bytes)", len(b))
	}
}

func TestLinearizabilityHandBuilt(t *testing.T) {
	put := func(c, v string, start, end time.Duration, done bool) Op {
		return Op{Client: c, Kind: KindPut, Key: "x", Value: v, Start: start, End: end, Completed: done, Output: OpResult{OK: true, Found: v != "a"}}
	}
	get := func(c, v string, start, end time.Duration) Op {
		return Op{Client: c, Kind: KindGet, Key: "x", Start: start, End: end, Completed: true, Output: OpResult{OK: true, Found: true, Value: v}}
	}
	cases := []struct {
		name string
		h    []Op
		ok   bool
	}{
		{"read after write", []Op{put("a", "a", 0, 10, true), get("b", "a", 20, 30)}, true},
		{"stale read", []Op{put("a", "a", 0, 10, true), put("a", "b", 20, 30, true), get("b", "a", 40, 50)}, false},
		{"concurrent read may see old", []Op{put("a", "a", 0, 10, true), put("a", "b", 20, 50, true), get("b", "a", 30, 40)}, true},
		{"incomplete write may have happened", []Op{put("a", "a", 0, 10, true), put("a", "b", 20, 0, false), get("b", "b", 30, 40)}, true},
		{"incomplete write may not have happened", []Op{put("a", "a", 0, 10, true), put("a", "b", 20, 0, false), get("b", "a", 30, 40)}, true},
		{"incomplete write cannot be undone", []Op{put("a", "a", 0, 10, true), put("a", "b", 20, 0, false), get("b", "b", 30, 40), get("b", "a", 50, 60)}, false},
		{"value never written", []Op{put("a", "a", 0, 10, true), get("b", "z", 20, 30)}, false},
		{"absent key", []Op{{Client: "b", Kind: KindGet, Key: "x", Start: 0, End: 5, Completed: true, Output: OpResult{OK: true}}, put("a", "a", 10, 20, true)}, true},
		{"found flag checked", []Op{{Client: "b", Kind: KindGet, Key: "x", Start: 0, End: 5, Completed: true, Output: OpResult{OK: true, Found: true}}}, false},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			v := Linearizability(&Result{History: c.h}, CheckOptions{})
			if v.Pass != c.ok || v.Inconclusive {
				t.Fatalf("pass = %v, want %v: %+v", v.Pass, c.ok, v)
			}
		})
	}
}

func TestKVModelMatchesStore(t *testing.T) {
	// Edge cases of the kv semantics, compared with the real store.
	steps := [][]byte{
		kv.EncodeGet([]byte("k")),
		kv.EncodeCAS([]byte("k"), nil, []byte("a")), // absent counts as empty: swaps
		kv.EncodeAppend([]byte("k"), []byte("b")),
		kv.EncodeCAS([]byte("k"), []byte("x"), []byte("c")), // fails, returns current
		kv.EncodePut([]byte("k"), nil),                      // empty value, key still found
		kv.EncodeGet([]byte("k")),
		kv.EncodeAppend([]byte("j"), nil), // absent: created empty
		kv.EncodeGet([]byte("j")),
	}
	store := kv.New()
	states := map[string]kvState{}
	for i, enc := range steps {
		dec, _ := kv.DecodeOp(enc)
		got, _ := kv.DecodeResult(store.Execute(1, []pbft.Operation{{Op: enc}})[0])
		op := OpFromKV(dec)
		next, want := kvApply(states[op.Key], op)
		states[op.Key] = next
		if !sameResult(ResultFromKV(got), want) {
			t.Fatalf("step %d %s: store %v, model %+v", i, describeOp(op, linOutput{unknown: true}), got, want)
		}
	}
}
