package kv_test

import (
	"bytes"
	"fmt"
	"strings"
	"sync"
	"testing"

	"github.com/bftbed/bftbed/pbft"
	"github.com/bftbed/bftbed/pbft/kv"
)

// run executes ops as one batch and decodes the results.
func run(t *testing.T, s *kv.Store, ops ...[]byte) []kv.Result {
	t.Helper()
	batch := make([]pbft.Operation, len(ops))
	for i, op := range ops {
		batch[i] = pbft.Operation{Timestamp: uint64(i + 1), Op: op}
	}
	raw := s.Execute(1, batch)
	if len(raw) != len(ops) {
		t.Fatalf("Execute returned %d results for %d ops", len(raw), len(ops))
	}
	out := make([]kv.Result, len(raw))
	for i, b := range raw {
		r, err := kv.DecodeResult(b)
		if err != nil {
			t.Fatalf("result %d: %v", i, err)
		}
		out[i] = r
	}
	return out
}

func checkResults(t *testing.T, got, want []kv.Result) {
	t.Helper()
	for i := range want {
		if !resultEqual(got[i], want[i]) {
			t.Errorf("op %d: result %v, want %v", i, got[i], want[i])
		}
	}
}

func b(s string) []byte { return []byte(s) }

func TestPutGet(t *testing.T) {
	s := kv.New()
	got := run(t, s,
		kv.EncodeGet(b("k")),
		kv.EncodePut(b("k"), b("v1")),
		kv.EncodeGet(b("k")),
		kv.EncodePut(b("k"), b("v2")),
		kv.EncodeGet(b("k")),
		kv.EncodePut(b("empty"), nil),
		kv.EncodeGet(b("empty")),
		kv.EncodePut(nil, b("empty key")),
		kv.EncodeGet(nil),
	)
	checkResults(t, got, []kv.Result{
		{OK: true},
		{OK: true},
		{OK: true, Found: true, Value: b("v1")},
		{OK: true, Found: true},
		{OK: true, Found: true, Value: b("v2")},
		{OK: true},
		{OK: true, Found: true},
		{OK: true},
		{OK: true, Found: true, Value: b("empty key")},
	})
	if v, ok := s.Get(b("k")); !ok || string(v) != "v2" {
		t.Errorf("Get(k) = %q, %t", v, ok)
	}
	if v, ok := s.Get(b("missing")); ok || v != nil {
		t.Errorf("Get(missing) = %q, %t", v, ok)
	}
	if n := s.Len(); n != 3 {
		t.Errorf("Len() = %d, want 3", n)
	}
}

func TestAppend(t *testing.T) {
	s := kv.New()
	got := run(t, s,
		kv.EncodeAppend(b("k"), b("ab")),
		kv.EncodeAppend(b("k"), b("cd")),
		kv.EncodeAppend(b("k"), nil),
		kv.EncodeGet(b("k")),
		kv.EncodeAppend(b("e"), nil),
	)
	checkResults(t, got, []kv.Result{
		{OK: true, Value: b("ab")},
		{OK: true, Found: true, Value: b("abcd")},
		{OK: true, Found: true, Value: b("abcd")},
		{OK: true, Found: true, Value: b("abcd")},
		{OK: true}, // creates "e" with the empty value
	})
	if _, ok := s.Get(b("e")); !ok {
		t.Error("Append of nothing to an absent key did not create it")
	}
}

func TestAppendLimit(t *testing.T) {
	s := kv.New()
	half := bytes.Repeat([]byte("x"), kv.MaxValueSize/2)
	got := run(t, s,
		kv.EncodeAppend(b("k"), half),
		kv.EncodeAppend(b("k"), half), // exactly MaxValueSize: allowed
		kv.EncodeAppend(b("k"), b("y")),
	)
	if !got[0].OK || !got[1].OK || len(got[1].Value) != kv.MaxValueSize {
		t.Fatalf("appends up to the limit failed: %v %v", got[0].Err, got[1].Err)
	}
	if got[2].Err == "" || got[2].OK || got[2].Value != nil {
		t.Errorf("append over the limit = %v, want an error result", got[2])
	}
	if v, _ := s.Get(b("k")); len(v) != kv.MaxValueSize {
		t.Errorf("failed append changed the value to %d bytes", len(v))
	}
}

func TestCAS(t *testing.T) {
	s := kv.New()
	got := run(t, s,
		kv.EncodeCAS(b("k"), b("x"), b("v1")), // absent is "", not "x"
		kv.EncodeCAS(b("k"), nil, b("v1")),    // absent matches empty: create
		kv.EncodeCAS(b("k"), nil, b("v2")),    // "v1" is not empty
		kv.EncodeCAS(b("k"), b("v1"), b("v2")),
		kv.EncodeCAS(b("k"), b("v1"), b("v3")),
		kv.EncodeCAS(b("k"), b("v2"), nil),
		kv.EncodeCAS(b("k"), nil, b("v4")), // present and empty matches too
		kv.EncodeGet(b("k")),
	)
	checkResults(t, got, []kv.Result{
		{},
		{OK: true, Value: b("v1")},
		{Found: true, Value: b("v1")},
		{OK: true, Found: true, Value: b("v2")},
		{Found: true, Value: b("v2")},
		{OK: true, Found: true},
		{OK: true, Found: true, Value: b("v4")},
		{OK: true, Found: true, Value: b("v4")},
	})
	if _, ok := s.Get(b("never")); ok {
		t.Error("failed CAS created a key")
	}
}

func TestExecuteBadOps(t *testing.T) {
	s := kv.New()
	run(t, s, kv.EncodePut(b("k"), b("v")))
	before := s.Snapshot()
	got := run(t, s,
		kv.EncodeGet(b("k")),
		nil,
		[]byte{0xff, 0x01, 'k'},
		append(kv.EncodePut(b("k"), b("w")), 0), // trailing byte: not applied
		kv.EncodePut(bytes.Repeat(b("k"), kv.MaxKeySize+1), b("v")),
		kv.EncodeGet(b("k")),
	)
	for _, i := range []int{1, 2, 3, 4} {
		r := got[i]
		if !strings.HasPrefix(r.Err, "kv: malformed op") || r.OK || r.Found || r.Value != nil {
			t.Errorf("op %d: result %v, want a malformed-op error", i, r)
		}
	}
	checkResults(t, got[:1], []kv.Result{{OK: true, Found: true, Value: b("v")}})
	checkResults(t, got[5:], []kv.Result{{OK: true, Found: true, Value: b("v")}})
	if !bytes.Equal(s.Snapshot(), before) {
		t.Error("bad ops changed the state")
	}
}

func TestExecuteEmptyBatch(t *testing.T) {
	if out := kv.New().Execute(1, nil); len(out) != 0 {
		t.Errorf("Execute(nil) = %d results", len(out))
	}
}

// The engine may reuse request buffers after Execute; the store must not
// keep aliases into them, and results must not alias the state.
func TestExecuteDoesNotAlias(t *testing.T) {
	s := kv.New()
	put := kv.EncodePut(b("k"), b("value"))
	cas := kv.EncodeCAS(b("c"), nil, b("value"))
	out := s.Execute(1, []pbft.Operation{{Op: put}, {Op: cas}, {Op: kv.EncodeGet(b("k"))}})
	clear(put)
	clear(cas)
	for _, k := range []string{"k", "c"} {
		if v, _ := s.Get(b(k)); string(v) != "value" {
			t.Errorf("%s = %q after the op buffer was cleared", k, v)
		}
	}
	clear(out[2])
	if v, _ := s.Get(b("k")); string(v) != "value" {
		t.Errorf("k = %q after the result was cleared", v)
	}
	v, _ := s.Get(b("k"))
	clear(v)
	if v, _ := s.Get(b("k")); string(v) != "value" {
		t.Errorf("k = %q after Get's copy was cleared", v)
	}
}

// Two stores given the same batches return the same result bytes.
func TestExecuteDeterministic(t *testing.T) {
	var ops []pbft.Operation
	for i := range 200 {
		k := b(fmt.Sprint("k", i%17))
		switch i % 5 {
		case 0:
			ops = append(ops, pbft.Operation{Op: kv.EncodePut(k, b(fmt.Sprint(i)))})
		case 1:
			ops = append(ops, pbft.Operation{Op: kv.EncodeAppend(k, b("+"))})
		case 2:
			ops = append(ops, pbft.Operation{Op: kv.EncodeCAS(k, b(fmt.Sprint(i-2)), b("c"))})
		case 3:
			ops = append(ops, pbft.Operation{Op: kv.EncodeGet(k)})
		case 4:
			ops = append(ops, pbft.Operation{Op: []byte{byte(i)}})
		}
	}
	a, c := kv.New(), kv.New()
	ra, rc := a.Execute(1, ops), c.Execute(1, ops)
	for i := range ra {
		if !bytes.Equal(ra[i], rc[i]) {
			t.Fatalf("result %d differs", i)
		}
	}
	if !bytes.Equal(a.Snapshot(), c.Snapshot()) {
		t.Fatal("snapshots differ")
	}
}

// Readers may run while a node executes; run with -race.
func TestConcurrentReads(t *testing.T) {
	s := kv.New()
	var wg sync.WaitGroup
	wg.Go(func() {
		for i := range 200 {
			s.Execute(pbft.Seq(i), []pbft.Operation{{Op: kv.EncodeAppend(b("k"), b("x"))}})
		}
	})
	wg.Go(func() {
		for range 200 {
			s.Get(b("k"))
			s.Len()
			s.Snapshot()
		}
	})
	wg.Wait()
	if v, _ := s.Get(b("k")); len(v) != 200 {
		t.Errorf("len = %d, want 200", len(v))
	}
}
