package kv_test

import (
	"bytes"
	"errors"
	"fmt"
	"math/rand/v2"
	"strings"
	"testing"

	"github.com/bftbed/bftbed/pbft"
	"github.com/bftbed/bftbed/pbft/kv"
)

func TestSnapshotEmpty(t *testing.T) {
	if got, want := kv.New().Snapshot(), []byte{1, 0}; !bytes.Equal(got, want) {
		t.Errorf("empty Snapshot = %x, want %x", got, want)
	}
}

func TestSnapshotFormat(t *testing.T) {
	s := kv.New()
	run(t, s, kv.EncodePut(b("b"), b("2")), kv.EncodePut(b("a"), nil))
	// version 1, 2 keys, then "a"="" and "b"="2" in key order.
	if got, want := s.Snapshot(), []byte("\x01\x02\x01a\x00\x01b\x012"); !bytes.Equal(got, want) {
		t.Errorf("Snapshot = %q, want %q", got, want)
	}
}

// The same contents reached through different histories and insertion
// orders give identical bytes.
func TestSnapshotDeterministic(t *testing.T) {
	const n = 500
	var want []byte
	for trial := range 5 {
		rng := rand.New(rand.NewPCG(uint64(trial), 0))
		s := kv.New()
		// Some noise that ends up overwritten or never matters.
		for i := range n / 2 {
			run(t, s, kv.EncodePut(b(fmt.Sprint("key", i)), b("old")))
		}
		for _, i := range rng.Perm(n) {
			k := b(fmt.Sprint("key", i))
			if trial%2 == 0 {
				run(t, s, kv.EncodePut(k, b(fmt.Sprint("value", i))))
			} else {
				run(t, s, kv.EncodePut(k, b("val")), kv.EncodeAppend(k, b(fmt.Sprint("ue", i))))
			}
		}
		got := s.Snapshot()
		if trial == 0 {
			want = got
		} else if !bytes.Equal(got, want) {
			t.Fatalf("trial %d: snapshot differs", trial)
		}
		if !bytes.Equal(s.Snapshot(), got) {
			t.Fatal("two snapshots of one state differ")
		}
	}
}

func TestRestoreRoundTrip(t *testing.T) {
	s := kv.New()
	for i := range 100 {
		run(t, s, kv.EncodePut(b(fmt.Sprint("k", i)), bytes.Repeat(b("v"), i)))
	}
	run(t, s, kv.EncodePut(nil, b("empty key")))
	snap := s.Snapshot()

	r := kv.New()
	run(t, r, kv.EncodePut(b("stale"), b("x")))
	if err := r.Restore(snap); err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(r.Snapshot(), snap) {
		t.Fatal("Snapshot after Restore differs")
	}
	if r.Len() != 101 {
		t.Errorf("Len = %d, want 101", r.Len())
	}
	if _, ok := r.Get(b("stale")); ok {
		t.Error("Restore kept a key not in the snapshot")
	}
	if v, ok := r.Get(b("k42")); !ok || len(v) != 42 {
		t.Errorf("k42 = %q, %t", v, ok)
	}
	// The restored store does not alias the snapshot bytes.
	clear(snap)
	if v, _ := r.Get(b("k42")); !bytes.Equal(v, bytes.Repeat(b("v"), 42)) {
		t.Error("restored state aliases the snapshot")
	}
	// And it executes like the original.
	got := run(t, r, kv.EncodeAppend(b("k1"), b("w")))
	checkResults(t, got, []kv.Result{{OK: true, Found: true, Value: b("vw")}})
}

func TestRestoreRejects(t *testing.T) {
	entry := func(k, v string) string { return fmt.Sprintf("%c%s%c%s", len(k), k, len(v), v) }
	overKey := append([]byte{1, 1, 0x81, 0x20}, make([]byte, kv.MaxKeySize+1)...)
	overKey = append(overKey, 0)
	cases := []struct {
		name string
		b    string
		msg  string
	}{
		{"empty", "", "missing version"},
		{"version 0", "\x00\x00", "version 0, want 1"},
		{"version 2", "\x02\x00", "version 2, want 1"},
		{"no count", "\x01", "truncated count"},
		{"count too big", "\x01\x05" + entry("a", "b"), "count 5 over the limit 2"},
		{"missing entry", "\x01\x02" + entry("a", "1") + "\x00", "truncated value length"},
		{"truncated value", "\x01\x01\x01a\x05abc", "truncated value"},
		{"trailing", "\x01\x01" + entry("a", "1") + "x", "1 trailing bytes"},
		{"duplicate key", "\x01\x02" + entry("a", "1") + entry("a", "2"), "key 1 out of order"},
		{"unsorted", "\x01\x02" + entry("b", "1") + entry("a", "2"), "key 1 out of order"},
		{"non-minimal count", "\x01\x81\x00" + entry("a", "1"), "non-minimal count"},
		{"non-minimal key length", "\x01\x01\x81\x00a\x00", "non-minimal key length"},
		{"key over limit", string(overKey), "key length 4097 over the limit 4096"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			s := kv.New()
			run(t, s, kv.EncodePut(b("keep"), b("me")))
			before := s.Snapshot()
			err := s.Restore([]byte(c.b))
			if err == nil {
				t.Fatalf("Restore(%q) succeeded", c.b)
			}
			if !errors.Is(err, kv.ErrMalformed) {
				t.Errorf("error %v does not wrap ErrMalformed", err)
			}
			if !strings.Contains(err.Error(), c.msg) {
				t.Errorf("error %q does not mention %q", err, c.msg)
			}
			if !bytes.Equal(s.Snapshot(), before) {
				t.Error("failed Restore changed the state")
			}
		})
	}
}

func TestRestoreGarbage(t *testing.T) {
	rng := rand.New(rand.NewPCG(1, 2))
	s := kv.New()
	s.Execute(pbft.Seq(1), []pbft.Operation{{Op: kv.EncodePut(b("keep"), b("me"))}})
	before := s.Snapshot()
	for range 10000 {
		g := make([]byte, rng.IntN(64))
		for i := range g {
			g[i] = byte(rng.Uint32())
		}
		if s.Restore(g) == nil {
			// A rare valid snapshot: it must be canonical; put the state back.
			if !bytes.Equal(s.Snapshot(), g) {
				t.Fatalf("accepted %x but re-encodes differently", g)
			}
			if err := s.Restore(before); err != nil {
				t.Fatal(err)
			}
			continue
		}
		if !bytes.Equal(s.Snapshot(), before) {
			t.Fatalf("failed Restore(%x) changed the state", g)
		}
	}
}
