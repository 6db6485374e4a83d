package store

import (
	"errors"
	"fmt"
	"math/rand/v2"
	"strings"
	"testing"
	"time"

	"github.com/bftbed/bftbed/pbft"
	"github.com/cockroachdb/pebble/v2"
	"github.com/cockroachdb/pebble/v2/vfs"
)

// TestRoundTrip saves a realistic run (normal case, checkpoints becoming
// stable, view changes that leave a sequence number prepared) and checks
// Load against pbft.MemoryStorage given the same Persists: on the open
// store, after every reopen, and at the end.
func TestRoundTrip(t *testing.T) {
	for _, merged := range []bool{false, true} {
		t.Run(fmt.Sprintf("merged=%v", merged), func(t *testing.T) {
			m := newMirror(t, vfs.NewCrashableMem(), Options{})
			defer m.s.Close()
			m.check() // empty store
			f := newFixture(5, 64, 16)
			steps := f.run(150, merged, 40)
			for i, p := range steps {
				m.save(p)
				if i%97 == 0 {
					m.check()
					m.reopen()
					m.check()
				}
			}
			st := m.s.Stats()
			if st.Saves == 0 || st.Bytes == 0 || st.Requests == 0 {
				t.Errorf("stats not counted: %+v", st)
			}
			m.reopen()
			m.check()
			rec, err := m.s.Load()
			if err != nil {
				t.Fatal(err)
			}
			if rec.Stable == nil || rec.View.View != 3 || len(rec.Executed) == 0 || len(rec.Log) == 0 {
				t.Fatalf("the run did not exercise what it should: %s", describe(rec))
			}
			t.Logf("%d steps: %s; stats of the last opening %+v", len(steps), describe(rec), st)
		})
	}
}

// TestEmptySave checks that an empty Persist writes nothing.
func TestEmptySave(t *testing.T) {
	s := mustOpen(t, vfs.NewMem(), "db", Options{})
	defer s.Close()
	for _, p := range []*pbft.Persist{nil, {}} {
		if err := s.Save(p); err != nil {
			t.Fatal(err)
		}
	}
	if st := s.Stats(); st.Saves != 0 || st.Bytes != 0 {
		t.Fatalf("empty Saves wrote: %+v", st)
	}
}

// TestSaveRejects checks that a Persist with a message the store cannot key
// fails as a whole, writing nothing.
func TestSaveRejects(t *testing.T) {
	s := mustOpen(t, vfs.NewMem(), "db", Options{})
	defer s.Close()
	f := newFixture(2, 16, 16)
	good := f.normalSteps(true, 3)[0]
	for _, bad := range []pbft.Message{nil, (*pbft.Prepare)(nil), &pbft.Request{}, &pbft.Reply{}} {
		p := *good
		p.Log = append(append([]pbft.Message(nil), good.Log...), bad)
		if err := s.Save(&p); err == nil {
			t.Errorf("Save with a %T log message succeeded", bad)
		}
	}
	rec, err := s.Load()
	if err != nil {
		t.Fatal(err)
	}
	if len(rec.Log) != 0 || len(rec.Executed) != 0 || s.Stats().Saves != 0 {
		t.Fatalf("a rejected Save wrote something: %s", describe(rec))
	}
}

// TestStableNeedsSnapshot checks that Save refuses a stable checkpoint
// whose snapshot the store does not hold, which would make it unloadable.
func TestStableNeedsSnapshot(t *testing.T) {
	s := mustOpen(t, vfs.NewMem(), "db", Options{})
	defer s.Close()
	f := newFixture(2, 16, 4)
	for _, p := range f.run(3, false, 0) {
		if err := s.Save(p); err != nil {
			t.Fatal(err)
		}
	}
	if err := s.Save(f.stableStep(3)); err == nil || !strings.Contains(err.Error(), "no snapshot") {
		t.Fatalf("Save of a stable checkpoint without snapshot = %v", err)
	}
	if _, err := s.Load(); err != nil {
		t.Fatalf("Load after the refused Save: %v", err)
	}
}

// TestCompactEvery checks the optional background compaction.
func TestCompactEvery(t *testing.T) {
	m := newMirror(t, vfs.NewMem(), Options{CompactEvery: 1})
	f := newFixture(3, 32, 4)
	m.save(f.run(40, false, 0)...)
	m.check()
	for deadline := time.Now().Add(10 * time.Second); m.s.Stats().Compactions == 0; {
		if time.Now().After(deadline) {
			t.Fatalf("no compaction ran: %+v", m.s.Stats())
		}
		time.Sleep(10 * time.Millisecond)
	}
	m.save(f.run(10, false, 0)...) // may start one more, which Close stops
	if err := m.s.Close(); err != nil {
		t.Fatal(err)
	}
	m.s = mustOpen(t, m.fs, m.dir, Options{})
	defer m.s.Close()
	m.check()
}

// TestPowerCut simulates power cuts with a file system that keeps, after a
// cut, what was synced and a random part of what was written but not
// synced (4 KiB blocks, each kept or lost, tearing records apart). Every
// completed Save survives a cut; and since a run of unsynced Saves comes
// back as a prefix of whole Saves, never part of one, neither does a Save
// the cut interrupts.
func TestPowerCut(t *testing.T) {
	fs := vfs.NewCrashableMem()
	m := newMirror(t, fs, Options{})
	defer m.s.Close()
	// Large batches, so that the unsynced Saves below fill many WAL
	// blocks, which Pebble writes to the file as they fill.
	f := newFixture(50, 64, 8)
	steps := f.run(60, false, 25)
	const synced, unsynced = 120, 40
	m.save(steps[:synced]...)

	// A cut right after the synced Saves, before any Close: all of them
	// are there.
	crashed := fs.CrashClone(vfs.CrashCloneCfg{})
	s := mustOpen(t, crashed, "db", Options{})
	got, err := s.Load()
	if err != nil {
		t.Fatal(err)
	}
	want, _ := m.mem.Load()
	sameRecovered(t, got, want)
	s.Close()

	// The next Saves are not synced; the states a cut may leave are the
	// synced one and each later Save's.
	states := map[string]int{strings.Join(canon(expected(want)), "\n"): 0}
	m.s.commit = pebble.NoSync
	for i, p := range steps[synced : synced+unsynced] {
		m.save(p)
		w, _ := m.mem.Load()
		states[strings.Join(canon(expected(w)), "\n")] = i + 1
	}
	// Let Pebble's WAL writer hand the full blocks to the file system.
	time.Sleep(50 * time.Millisecond)
	seen := map[int]int{}
	for _, pct := range []int{50, 80, 95, 99, 100} {
		for seed := range uint64(8) {
			crashed := fs.CrashClone(vfs.CrashCloneCfg{UnsyncedDataPercent: pct, RNG: rand.New(rand.NewPCG(seed, uint64(pct)))})
			s, err := Open("db", Options{FS: crashed})
			if err != nil {
				t.Fatalf("%d%% seed %d: Open after the cut: %v", pct, seed, err)
			}
			got, err := s.Load()
			if err != nil {
				t.Fatalf("%d%% seed %d: Load after the cut: %v", pct, seed, err)
			}
			n, ok := states[strings.Join(canon(got), "\n")]
			if !ok {
				t.Fatalf("%d%% seed %d: the store after the cut is not the state after any whole Save: %s", pct, seed, describe(got))
			}
			seen[n]++
			if err := s.Close(); err != nil {
				t.Fatal(err)
			}
		}
	}
	t.Logf("number of unsynced Saves that survived a cut: number of cuts: %v", seen)
	if len(seen) < 3 {
		t.Errorf("the cuts left only %d distinct states; the test does not tear writes", len(seen))
	}
}

// TestGC checks that Load returns nothing at or below the stable checkpoint
// but its snapshot, and that the records really are gone.
func TestGC(t *testing.T) {
	m := newMirror(t, vfs.NewMem(), Options{})
	defer m.s.Close()
	f := newFixture(3, 32, 10)
	m.save(f.run(47, false, 0)...) // stable at 40 after seq 43
	rec, err := m.s.Load()
	if err != nil {
		t.Fatal(err)
	}
	if rec.Stable == nil || rec.Stable.Seq != 40 {
		t.Fatalf("stable = %+v, want 40", rec.Stable)
	}
	if string(rec.StableSnapshot) != string(snapshot(40)) {
		t.Fatal("wrong stable snapshot")
	}
	for _, msg := range rec.Log {
		if key, _ := msgKey(msg); parseKey(key).Kind == KindLog && parseKey(key).Seq <= 40 {
			t.Errorf("Load returned %s at or below the stable checkpoint", parseKey(key))
		}
	}
	if len(rec.Executed) != 7 || rec.Executed[0].Seq != 41 {
		t.Errorf("executed = %d batches from %d, want 7 from 41", len(rec.Executed), rec.Executed[0].Seq)
	}
	m.check()
	// What is on disk, all kinds: nothing below 40.
	it, err := m.s.db.NewIter(nil)
	if err != nil {
		t.Fatal(err)
	}
	defer it.Close()
	for ok := it.First(); ok; ok = it.Next() {
		ki := parseKey(it.Key())
		switch {
		case ki.Kind == KindSnapshot && ki.Seq < 40,
			(ki.Kind == KindLog || ki.Kind == KindExecuted) && ki.Seq <= 40:
			t.Errorf("%s is still on disk", ki)
		}
	}
}

// TestViewChangeGC checks that VIEW-CHANGEs and NEW-VIEWs of views below the
// current one are dropped, and the current view's kept.
func TestViewChangeGC(t *testing.T) {
	m := newMirror(t, vfs.NewMem(), Options{})
	defer m.s.Close()
	f := newFixture(2, 16, 100)
	m.save(f.run(3, false, 2)...) // view 1
	m.save(f.viewChange()...)     // view 2
	m.check()
	rec, _ := m.s.Load()
	vcs := 0
	for _, msg := range rec.Log {
		switch msg := msg.(type) {
		case *pbft.ViewChange:
			if msg.View != 2 {
				t.Errorf("VIEW-CHANGE of view %d kept in view 2", msg.View)
			}
			vcs++
		case *pbft.NewView:
			if msg.View != 2 {
				t.Errorf("NEW-VIEW of view %d kept in view 2", msg.View)
			}
			vcs++
		}
	}
	if vcs != 4 {
		t.Errorf("%d view-change messages of view 2, want 4", vcs)
	}
}

// TestDiskBounded runs 2,000 normal-case steps with a checkpoint every 64
// and checks that disk use stays bounded: the log is garbage collected, not
// kept.
func TestDiskBounded(t *testing.T) {
	if testing.Short() {
		t.Skip("long run")
	}
	fs := vfs.NewMem()
	s := mustOpen(t, fs, "db", Options{MemTableSize: 1 << 20})
	defer s.Close()
	f := newFixture(20, 64, 64)
	var early, peak1, peak2 uint64
	pending := pbft.Seq(0)
	for i := 1; i <= 2000; i++ {
		for _, p := range f.normalSteps(true, 3) {
			if err := s.Save(p); err != nil {
				t.Fatal(err)
			}
		}
		if f.seq%64 == 0 {
			pending = f.seq
		}
		if pending != 0 && f.seq == pending+3 {
			if err := s.Save(f.stableStep(pending)); err != nil {
				t.Fatal(err)
			}
			pending = 0
		}
		u := s.DiskUsage()
		if i <= 1000 {
			peak1 = max(peak1, u)
		} else {
			peak2 = max(peak2, u)
		}
		if i == 4*64 {
			early = u
		}
		if i%250 == 0 {
			m := s.db.Metrics()
			t.Logf("step %4d: disk %7d bytes (WAL %7d, recycled WAL %7d, sstables %7d); written %8d bytes",
				i, u, m.WAL.PhysicalSize, m.WAL.ObsoletePhysicalSize, m.Table.Local.LiveSize, s.Stats().Bytes)
		}
	}
	final := s.DiskUsage()
	st := s.Stats()
	t.Logf("disk after 4 checkpoints %d bytes, at the end %d; peak %d in steps 1-1000, %d in steps 1001-2000; %d bytes written in %d saves",
		early, final, peak1, peak2, st.Bytes, st.Saves)
	if bound := 4*early + 4<<20; final > bound {
		t.Fatalf("disk use not bounded: %d at the end, bound %d", final, bound)
	}
	// Without garbage collection the second half would add what it
	// wrote, about half of st.Bytes.
	if peak2 > peak1+1<<20 {
		t.Fatalf("disk use grows: peak %d in the second half, %d in the first", peak2, peak1)
	}
}

// TestCorruption damages the store in the ways Load must catch and checks
// that each is a *CorruptionError naming the right key.
func TestCorruption(t *testing.T) {
	// setup returns a store holding a small run: stable at 8, seqs 9..12.
	setup := func(t *testing.T) *Store {
		s := mustOpen(t, vfs.NewMem(), "db", Options{})
		t.Cleanup(func() { s.Close() })
		f := newFixture(3, 32, 8)
		for _, p := range append(f.run(12, false, 0), &pbft.Persist{View: &pbft.ViewStatus{}}) {
			if err := s.Save(p); err != nil {
				t.Fatal(err)
			}
		}
		rec, err := s.Load()
		if err != nil || rec.Stable == nil || rec.Stable.Seq != 8 || len(rec.Executed) != 4 {
			t.Fatalf("setup: %v %v", err, rec)
		}
		return s
	}
	raw := func(t *testing.T, s *Store, key []byte) []byte {
		v, c, err := s.db.Get(key)
		if err != nil {
			t.Fatalf("get %s: %v", parseKey(key), err)
		}
		defer c.Close()
		return append([]byte(nil), v...)
	}
	put := func(t *testing.T, s *Store, key, value []byte) {
		if err := s.db.Set(key, value, pebble.Sync); err != nil {
			t.Fatal(err)
		}
	}
	del := func(t *testing.T, s *Store, key []byte) {
		if err := s.db.Delete(key, pebble.Sync); err != nil {
			t.Fatal(err)
		}
	}
	// firstKey returns the first stored key of kind at seq.
	firstKey := func(t *testing.T, s *Store, kind Kind, seq pbft.Seq, typ pbft.MsgType) []byte {
		it, _ := s.db.NewIter(&pebble.IterOptions{LowerBound: seqKey(kind, uint64(seq)), UpperBound: kindEnd(kind)})
		defer it.Close()
		for ok := it.First(); ok; ok = it.Next() {
			if ki := parseKey(it.Key()); ki.Seq == seq && (typ == 0 || ki.Type == typ) {
				return append([]byte(nil), it.Key()...)
			}
		}
		t.Fatalf("no %s record at %d", kind, seq)
		return nil
	}
	flip := func(at int) func(t *testing.T, s *Store, key []byte) {
		return func(t *testing.T, s *Store, key []byte) {
			v := raw(t, s, key)
			i := at
			if i < 0 {
				i += len(v)
			}
			v[i] ^= 0x40
			put(t, s, key, v)
		}
	}
	cases := []struct {
		name   string
		key    func(t *testing.T, s *Store) []byte
		damage func(t *testing.T, s *Store, key []byte)
		want   string // in the error
	}{
		{"log value byte", func(t *testing.T, s *Store) []byte { return firstKey(t, s, KindLog, 10, pbft.MsgPrepare) }, flip(-3), "checksum mismatch"},
		{"log checksum byte", func(t *testing.T, s *Store) []byte { return firstKey(t, s, KindLog, 9, pbft.MsgPrePrepare) }, flip(0), "checksum mismatch"},
		{"executed value byte", func(t *testing.T, s *Store) []byte { return seqKey(KindExecuted, 11) }, flip(5), "checksum mismatch"},
		{"truncated value", func(t *testing.T, s *Store) []byte { return seqKey(KindExecuted, 12) },
			func(t *testing.T, s *Store, key []byte) { put(t, s, key, raw(t, s, key)[:2]) }, "shorter than its checksum"},
		{"value under another key", func(t *testing.T, s *Store) []byte { return firstKey(t, s, KindLog, 11, pbft.MsgCommit) },
			func(t *testing.T, s *Store, key []byte) {
				put(t, s, key, raw(t, s, firstKey(t, s, KindLog, 11, pbft.MsgPrepare)))
			}, "checksum mismatch"},
		{"resealed garbage", func(t *testing.T, s *Store) []byte { return firstKey(t, s, KindLog, 12, pbft.MsgCommit) },
			func(t *testing.T, s *Store, key []byte) { put(t, s, key, seal(key, []byte{0, 0, 0, 0, 99, 1, 2})) }, "unknown message type"},
		{"resealed other message", func(t *testing.T, s *Store) []byte { return firstKey(t, s, KindLog, 12, pbft.MsgCommit) },
			func(t *testing.T, s *Store, key []byte) {
				other := raw(t, s, firstKey(t, s, KindLog, 12, pbft.MsgPrepare))
				put(t, s, key, seal(key, other))
			}, "value holds another message"},
		{"malformed key", func(t *testing.T, s *Store) []byte { return []byte{byte(KindLog), 0, 0, 0, 0, 0, 0, 0, 99} },
			func(t *testing.T, s *Store, key []byte) { put(t, s, key, []byte("junk")) }, "malformed key"},
		{"missing stable snapshot", func(t *testing.T, s *Store) []byte { return seqKey(KindSnapshot, 8) },
			func(t *testing.T, s *Store, key []byte) { del(t, s, key) }, "snapshot of stable checkpoint 8 is missing"},
		{"gap in executed", func(t *testing.T, s *Store) []byte { return seqKey(KindExecuted, 11) },
			func(t *testing.T, s *Store, key []byte) { del(t, s, seqKey(KindExecuted, 10)) }, "jump from 9 to 11"},
		{"first executed missing", func(t *testing.T, s *Store) []byte { return seqKey(KindExecuted, 10) },
			func(t *testing.T, s *Store, key []byte) { del(t, s, seqKey(KindExecuted, 9)) }, "jump from 8 to 10"},
		{"referenced pre-prepare missing", func(t *testing.T, s *Store) []byte { return seqKey(KindExecuted, 10) },
			func(t *testing.T, s *Store, key []byte) { del(t, s, firstKey(t, s, KindLog, 10, pbft.MsgPrePrepare)) }, "not in the log"},
		{"view status", func(t *testing.T, s *Store) []byte { return viewKey }, flip(6), "checksum mismatch"},
		{"stable checkpoint", func(t *testing.T, s *Store) []byte { return stableKey }, flip(100), "checksum mismatch"},
		{"snapshot", func(t *testing.T, s *Store) []byte { return seqKey(KindSnapshot, 8) }, flip(-1), "checksum mismatch"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			s := setup(t)
			key := c.key(t, s)
			c.damage(t, s, key)
			_, err := s.Load()
			var ce *CorruptionError
			if !errors.As(err, &ce) {
				t.Fatalf("Load = %v, want a *CorruptionError", err)
			}
			if string(ce.Key) != string(key) {
				t.Errorf("error names key %x (%s), want %x (%s)", ce.Key, ce.Info, key, parseKey(key))
			}
			if !strings.Contains(err.Error(), c.want) || !strings.Contains(err.Error(), fmt.Sprintf("%x", key)) {
				t.Errorf("error %q does not say %q and the key", err, c.want)
			}
			t.Log(err)
		})
	}
}

// TestOpenCorruptMeta checks that Open refuses a store whose meta records
// Save depends on are damaged, or that has data but no format version.
func TestOpenCorruptMeta(t *testing.T) {
	for _, key := range [][]byte{formatKey, viewKey, stableKey} {
		fs := vfs.NewMem()
		s := mustOpen(t, fs, "db", Options{})
		f := newFixture(2, 16, 4)
		for _, p := range f.run(6, false, 5) {
			if err := s.Save(p); err != nil {
				t.Fatal(err)
			}
		}
		if err := s.db.Set(key, []byte("garbage"), pebble.Sync); err != nil {
			t.Fatal(err)
		}
		s.Close()
		_, err := Open("db", Options{FS: fs})
		var ce *CorruptionError
		if !errors.As(err, &ce) || string(ce.Key) != string(key) {
			t.Errorf("Open with bad %s = %v, want a *CorruptionError for it", parseKey(key), err)
		}
	}
	fs := vfs.NewMem()
	s := mustOpen(t, fs, "db", Options{})
	if err := s.Save(newFixture(2, 16, 4).normalSteps(true, 3)[0]); err != nil {
		t.Fatal(err)
	}
	if err := s.db.Delete(formatKey, pebble.Sync); err != nil {
		t.Fatal(err)
	}
	s.Close()
	if _, err := Open("db", Options{FS: fs}); err == nil {
		t.Error("Open of a non-empty store without format version succeeded")
	}
}

// TestClosed checks the methods of a closed store.
func TestClosed(t *testing.T) {
	s := mustOpen(t, vfs.NewMem(), "db", Options{})
	if err := s.Close(); err != nil {
		t.Fatal(err)
	}
	if err := s.Save(&pbft.Persist{View: &pbft.ViewStatus{View: 1}}); !errors.Is(err, ErrClosed) {
		t.Errorf("Save after Close = %v", err)
	}
	if _, err := s.Load(); !errors.Is(err, ErrClosed) {
		t.Errorf("Load after Close = %v", err)
	}
	if err := s.Close(); !errors.Is(err, ErrClosed) {
		t.Errorf("second Close = %v", err)
	}
}
