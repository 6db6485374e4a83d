// Package store is bftbed's durable pbft.Storage, on the Pebble LSM engine.
//
// Each Save is one Pebble batch committed with Sync: a core step's whole
// Persist becomes durable atomically with one WAL fsync (group commit), so
// after a power cut the store holds exactly the Saves that returned, never
// part of one. Load rebuilds the pbft.Recovered from a few bounded range
// scans (see keys.go for the layout) and verifies every record's checksum
// and encoding; bad data is a *CorruptionError and the replica must not
// start. When a checkpoint becomes stable, everything it makes obsolete is
// removed by DeleteRanges in the same batch, so the disk use of a long run
// stays bounded by the watermark window, not by its length.
//
// Load follows pbft.MemoryStorage's semantics with three deliberate
// differences: log messages come back in key order (sequence number, type,
// view, replica) rather than arrival order, with VIEW-CHANGEs and NEW-VIEWs
// last, in view order; an identical message logged twice comes back once;
// and VIEW-CHANGE and NEW-VIEW messages of views below the current view
// (Recovered.View.View) are discarded, since no rule of the protocol uses
// them once the replica has moved on.
package store

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"sync"

	"github.com/bftbed/bftbed/pbft"
	"github.com/cockroachdb/pebble/v2"
	"github.com/cockroachdb/pebble/v2/vfs"
)

// Options configure Open. The zero value is usable.
type Options struct {
	// FS is the file system the store lives on; nil means vfs.Default (the
	// operating system's). Tests use vfs.NewCrashableMem to simulate power
	// cuts.
	FS vfs.FS
	// Logger receives Pebble's log messages; nil means slog.Default().
	Logger *slog.Logger
	// CompactEvery, if positive, asks for a background compaction of the
	// whole store after every CompactEvery stable checkpoints, which
	// rewrites the small live state and drops everything the checkpoints
	// deleted. It is off by default: Pebble's own flushes and compactions
	// already keep the disk use of a long run flat (TestDiskBounded), since
	// the deleted ranges are the oldest keys and rarely leave the memtable
	// or L0 before their range tombstone arrives.
	CompactEvery int
	// MemTableSize is the size of Pebble's memtable; 0 means Pebble's
	// default (4 MiB). A smaller one flushes (and so reclaims deleted
	// space) sooner, a larger one writes fewer sstables.
	MemTableSize uint64
}

// Stats count what a Store wrote since it was opened.
type Stats struct {
	// Saves is the number of synced batches committed: one per non-empty
	// Save, hence one fsync of the WAL each.
	Saves uint64
	// Bytes is the size of those batches (keys, values and Pebble's
	// per-record overhead): what went to the WAL. Flushes and compactions
	// write more later; see DiskUsage for what stays.
	Bytes uint64
	// Requests is the number of requests in the executed batches saved,
	// so that Bytes/Requests is the persisted bytes per committed request.
	Requests uint64
	// Compactions is the number of background compactions completed.
	Compactions uint64
}

// Store is a pbft.Storage on a Pebble database in one directory. Its
// methods are safe for concurrent use, though the core calls Save from one
// goroutine, one step at a time.
type Store struct {
	db           *pebble.DB
	compactEvery int
	// commit is pebble.Sync; the power-cut test sets pebble.NoSync to
	// leave writes that a crash may lose.
	commit *pebble.WriteOptions

	ctx    context.Context // canceled by Close, to stop a compaction
	cancel context.CancelFunc
	wg     sync.WaitGroup // the background compaction

	mu     sync.Mutex
	closed bool
	// err is the first failed commit: after it the store's state on disk
	// is unknown (a failed fsync may have lost writes the OS had
	// accepted), so every later Save fails too and the replica must
	// restart and recover from what is really on disk.
	err error
	// view is the stored view status, stable the stored stable
	// checkpoint's seq (valid when hasStable): what Save compares new
	// ones against.
	view      pbft.ViewStatus
	stable    pbft.Seq
	hasStable bool
	// batches holds, for each PRE-PREPARE logged above the stable
	// checkpoint (by this process, or returned by Load), its batch: an
	// executed batch that is the very same batch is stored as a
	// reference to it (see keys.go).
	batches map[ppRef][]*pbft.Request
	// sinceCompact counts stable checkpoints since the last compaction.
	sinceCompact int
	compacting   bool
	stats        Stats
}

// ppRef names a logged PRE-PREPARE's batch.
type ppRef struct {
	seq    pbft.Seq
	view   pbft.View
	digest pbft.Digest
}

var _ pbft.Storage = (*Store)(nil)

// Open opens the store in dir, creating it if needed. It fails if dir holds
// a store of another format version, or if the records Save depends on (the
// view status and the stable checkpoint) are corrupt.
func Open(dir string, opts Options) (*Store, error) {
	fs := opts.FS
	if fs == nil {
		fs = vfs.Default
	}
	logger := opts.Logger
	if logger == nil {
		logger = slog.Default()
	}
	compactEvery := opts.CompactEvery
	po := &pebble.Options{
		FS:                 fs,
		Logger:             pebbleLogger{logger.With("component", "pebble", "dir", dir)},
		FormatMajorVersion: pebble.FormatNewest,
		MemTableSize:       opts.MemTableSize,
	}
	db, err := pebble.Open(dir, po)
	if err != nil {
		return nil, fmt.Errorf("store: open %s: %w", dir, err)
	}
	s := &Store{db: db, compactEvery: compactEvery, commit: pebble.Sync, batches: map[ppRef][]*pbft.Request{}}
	s.ctx, s.cancel = context.WithCancel(context.Background())
	if err := s.init(); err != nil {
		s.cancel()
		_ = db.Close()
		return nil, err
	}
	return s, nil
}

// init checks the format version (writing it into a new store) and reads
// the view status and the stable checkpoint.
func (s *Store) init() error {
	r, err := s.get(formatKey)
	if err != nil {
		return err
	}
	if r == nil {
		// A new store, or one whose version record is lost: only an empty
		// database may be taken for new.
		it, err := s.db.NewIter(nil)
		if err != nil {
			return fmt.Errorf("store: open: %w", err)
		}
		empty := !it.First()
		if err := errors.Join(it.Error(), it.Close()); err != nil {
			return fmt.Errorf("store: open: %w", err)
		}
		if !empty {
			return corrupt(formatKey, "missing in a non-empty store")
		}
		if err := s.db.Set(formatKey, encodeFormat(formatVersion), pebble.Sync); err != nil {
			return fmt.Errorf("store: open: %w", err)
		}
	} else if r.format != formatVersion {
		return fmt.Errorf("store: open: format version %d, this build reads version %d", r.format, formatVersion)
	}
	if r, err = s.get(viewKey); err != nil {
		return err
	} else if r != nil {
		s.view = r.view
	}
	if r, err = s.get(stableKey); err != nil {
		return err
	} else if r != nil {
		s.stable, s.hasStable = r.stable.Seq, true
	}
	return nil
}

// get reads and decodes one record; a missing one is nil.
func (s *Store) get(key []byte) (*record, error) {
	v, closer, err := s.db.Get(key)
	if errors.Is(err, pebble.ErrNotFound) {
		return nil, nil
	}
	if err != nil {
		return nil, fmt.Errorf("store: read %s: %w", parseKey(key), err)
	}
	defer closer.Close()
	return decodeRecord(key, v)
}

// Save makes p durable: one Pebble batch, committed with Sync. An empty
// Persist writes nothing. A Stable above the stored one replaces it, and the
// same batch deletes the log messages and executed batches at or below it
// and the snapshots below it; records p itself holds at or below it are not
// written at all. A View above the stored view deletes the VIEW-CHANGEs and
// NEW-VIEWs of lower views. Save fails, writing nothing, for a log message
// the store cannot key (nil, or a type that is not logged) and for a new
// Stable whose snapshot is neither in p nor stored; after a failed commit
// every Save fails (see Store.err).
func (s *Store) Save(p *pbft.Persist) error {
	if p == nil || p.Empty() {
		return nil
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.closed {
		return ErrClosed
	}
	if s.err != nil {
		return s.err
	}
	b := s.db.NewBatch()
	defer b.Close()
	w, err := s.build(b, p)
	if err != nil {
		return err
	}
	if w.newStable {
		if err := s.checkSnapshot(p, w.stable.Seq); err != nil {
			return err
		}
	}
	size := b.Len()
	if err := b.Commit(s.commit); err != nil {
		s.err = fmt.Errorf("store: save: %w", err)
		return s.err
	}
	s.applied(w)
	s.stats.Saves++
	s.stats.Bytes += uint64(size)
	return nil
}

// written is what build wrote, for Save to apply to the Store's state once
// the batch is committed.
type written struct {
	view      *pbft.ViewStatus
	stable    *pbft.StableCheckpoint
	batches   map[ppRef][]*pbft.Request
	requests  int
	newStable bool
}

// build fills b with p's records.
func (s *Store) build(b *pebble.Batch, p *pbft.Persist) (*written, error) {
	w := &written{}
	// floor is the stable checkpoint after this Save: nothing at or below
	// it needs writing.
	floor, hasFloor := s.stable, s.hasStable
	if st := p.Stable; st != nil && (!s.hasStable || st.Seq > s.stable) {
		floor, hasFloor = st.Seq, true
		w.stable, w.newStable = st, true
	}
	below := func(seq pbft.Seq) bool { return hasFloor && seq <= floor }
	viewFloor := s.view.View
	if p.View != nil {
		w.view = p.View
		viewFloor = max(viewFloor, p.View.View)
		set(b, viewKey, encodeView(*p.View))
	}
	for _, m := range p.Log {
		key, err := msgKey(m)
		if err != nil {
			return nil, err
		}
		info := parseKey(key)
		if (info.Kind == KindLog && below(info.Seq)) || (info.Kind == KindViewChange && info.View < viewFloor) {
			continue
		}
		set(b, key, encodeMessage(key, m))
		if pp, ok := m.(*pbft.PrePrepare); ok {
			if w.batches == nil {
				w.batches = map[ppRef][]*pbft.Request{}
			}
			w.batches[ppRef{pp.Seq, pp.View, pp.Digest}] = pp.Batch
		}
	}
	for i := range p.Executed {
		e := &p.Executed[i]
		if below(e.Seq) {
			continue
		}
		key := seqKey(KindExecuted, uint64(e.Seq))
		ref := ppRef{e.Seq, e.View, e.Digest}
		logged, ok := w.batches[ref]
		if !ok {
			logged, ok = s.batches[ref]
		}
		if ok && sameBatch(logged, e.Batch) {
			set(b, key, encodeExecutedRef(key, e.View, e.Digest))
		} else {
			set(b, key, encodeExecuted(key, e))
		}
		w.requests += len(e.Batch)
	}
	for _, sn := range p.Snapshots {
		if hasFloor && sn.Seq < floor {
			continue
		}
		key := seqKey(KindSnapshot, uint64(sn.Seq))
		set(b, key, encodeSnapshot(key, sn.Data))
	}
	if w.stable != nil {
		set(b, stableKey, encodeStable(w.stable))
		// Deletions come after the Sets: within a batch a later operation
		// shadows an earlier one, and nothing written above lies in these
		// ranges anyway.
		n := uint64(floor)
		deleteRange(b, kindStart(KindLog), above(KindLog, n))
		deleteRange(b, kindStart(KindExecuted), above(KindExecuted, n))
		deleteRange(b, kindStart(KindSnapshot), seqKey(KindSnapshot, n))
	}
	if viewFloor > s.view.View {
		deleteRange(b, kindStart(KindViewChange), seqKey(KindViewChange, uint64(viewFloor)))
	}
	return w, nil
}

// checkSnapshot returns an error unless the snapshot of the new stable
// checkpoint seq is in p or already stored. Without it the store could not
// be loaded (recovery starts from that snapshot), so Save refuses the
// Persist rather than write a store the replica cannot restart from.
func (s *Store) checkSnapshot(p *pbft.Persist, seq pbft.Seq) error {
	for _, sn := range p.Snapshots {
		if sn.Seq == seq {
			return nil
		}
	}
	_, closer, err := s.db.Get(seqKey(KindSnapshot, uint64(seq)))
	if errors.Is(err, pebble.ErrNotFound) {
		return fmt.Errorf("store: save: no snapshot for the new stable checkpoint %d", seq)
	}
	if err != nil {
		return fmt.Errorf("store: save: %w", err)
	}
	return closer.Close()
}

// set and deleteRange add to a batch. Pebble's batch operations fail only
// for a batch that was already committed or is indexed for reading, which
// these never are.
func set(b *pebble.Batch, key, value []byte) { _ = b.Set(key, value, nil) }

func deleteRange(b *pebble.Batch, start, end []byte) { _ = b.DeleteRange(start, end, nil) }

// sameBatch reports whether two batches hold the very same requests.
// Pointer identity is enough, and cheap: the core hands the executed batch
// over as the pre-prepare's own slice.
func sameBatch(a, b []*pbft.Request) bool {
	if len(a) != len(b) {
		return false
	}
	for i := range a {
		if a[i] != b[i] {
			return false
		}
	}
	return true
}

// applied updates the Store's state after w's batch was committed.
func (s *Store) applied(w *written) {
	if w.view != nil {
		s.view = *w.view
	}
	for ref, batch := range w.batches {
		s.batches[ref] = batch
	}
	s.stats.Requests += uint64(w.requests)
	if !w.newStable {
		return
	}
	s.stable, s.hasStable = w.stable.Seq, true
	for ref := range s.batches {
		if ref.seq <= s.stable {
			delete(s.batches, ref)
		}
	}
	s.sinceCompact++
	if s.compactEvery > 0 && s.sinceCompact >= s.compactEvery && !s.compacting {
		s.sinceCompact = 0
		s.compacting = true
		s.wg.Add(1)
		go s.compact()
	}
}

// compact compacts the whole store in the background: the live state is
// small (the watermark window), so this is cheap, and it drops the data
// and tombstones of every garbage-collected range.
func (s *Store) compact() {
	defer s.wg.Done()
	err := s.db.Compact(s.ctx, []byte{0}, []byte{0xff}, false)
	s.mu.Lock()
	defer s.mu.Unlock()
	s.compacting = false
	if err == nil {
		s.stats.Compactions++
	}
}

// DiskUsage returns the bytes the store occupies on disk: WAL, sstables,
// manifest and files awaiting deletion.
// It is 0 once the store is closed.
func (s *Store) DiskUsage() uint64 {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.closed {
		return 0
	}
	return s.db.Metrics().DiskSpaceUsage()
}

// Stats returns what the store wrote since it was opened.
func (s *Store) Stats() Stats {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.stats
}

// Close stops a background compaction and closes the database. Everything
// saved is already durable; Close adds nothing to it.
func (s *Store) Close() error {
	s.mu.Lock()
	if s.closed {
		s.mu.Unlock()
		return ErrClosed
	}
	s.closed = true
	s.mu.Unlock()
	s.cancel()
	s.wg.Wait()
	if err := s.db.Close(); err != nil {
		return fmt.Errorf("store: close: %w", err)
	}
	return nil
}

// pebbleLogger adapts a slog.Logger to Pebble's Logger.
type pebbleLogger struct{ l *slog.Logger }

func (p pebbleLogger) Infof(format string, args ...any) { p.l.Debug(fmt.Sprintf(format, args...)) }

func (p pebbleLogger) Errorf(format string, args ...any) { p.l.Error(fmt.Sprintf(format, args...)) }

// Fatalf is called by Pebble for errors it cannot continue after, such as a
// failed WAL fsync, and must not return: the replica stops rather than go
// on with a disk that may have lost what it acknowledged.
func (p pebbleLogger) Fatalf(format string, args ...any) {
	msg := fmt.Sprintf(format, args...)
	p.l.Error(msg)
	panic("store: pebble: " + msg)
}
