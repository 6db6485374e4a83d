package store

import (
	"errors"
	"fmt"

	"github.com/bftbed/bftbed/pbft"
	"github.com/cockroachdb/pebble/v2"
)

// Load returns what the core needs to resume: the view status, the stable
// checkpoint with its snapshot, and the log messages and executed batches
// above it (see the package comment for how this differs from
// pbft.MemoryStorage). It reads three meta records, one snapshot and three
// key ranges that start above the stable checkpoint, and verifies every
// record it reads. Bad data - a checksum mismatch, an undecodable record, a
// record that contradicts its key, a stable checkpoint without its
// snapshot, executed batches that do not run contiguously from the stable
// checkpoint, or a reference to a pre-prepare that is not there - is a
// *CorruptionError naming the key.
func (s *Store) Load() (*pbft.Recovered, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.closed {
		return nil, ErrClosed
	}
	rec := &pbft.Recovered{}
	r, err := s.get(viewKey)
	if err != nil {
		return nil, err
	}
	if r != nil {
		rec.View = r.view
	}
	var stable pbft.Seq
	if r, err = s.get(stableKey); err != nil {
		return nil, err
	}
	if r != nil {
		rec.Stable, stable = r.stable, r.stable.Seq
		key := seqKey(KindSnapshot, uint64(stable))
		sn, err := s.get(key)
		if err != nil {
			return nil, err
		}
		if sn == nil {
			return nil, corrupt(key, "the snapshot of stable checkpoint %d is missing", stable)
		}
		rec.StableSnapshot = sn.snapshot
	}
	// What lies at or below the stable checkpoint was deleted in the batch
	// that stored it; starting the scans above it is a second guarantee.
	start := above(KindLog, uint64(stable))
	if rec.Stable == nil {
		start = kindStart(KindLog)
	}
	batches := map[ppRef][]*pbft.Request{}
	err = s.scan(start, kindEnd(KindLog), func(r *record) error {
		rec.Log = append(rec.Log, r.msg)
		if pp, ok := r.msg.(*pbft.PrePrepare); ok {
			batches[ppRef{pp.Seq, pp.View, pp.Digest}] = pp.Batch
		}
		return nil
	})
	if err != nil {
		return nil, err
	}
	err = s.scan(seqKey(KindViewChange, uint64(rec.View.View)), kindEnd(KindViewChange), func(r *record) error {
		rec.Log = append(rec.Log, r.msg)
		return nil
	})
	if err != nil {
		return nil, err
	}
	start = above(KindExecuted, uint64(stable))
	if rec.Stable == nil {
		start = kindStart(KindExecuted)
	}
	next := stable + 1 // at genesis, execution starts at 1
	err = s.scan(start, kindEnd(KindExecuted), func(r *record) error {
		key := seqKey(KindExecuted, uint64(r.exec.Seq))
		if r.exec.Seq != next {
			return corrupt(key, "executed batches jump from %d to %d", next-1, r.exec.Seq)
		}
		next++
		if r.execRef {
			batch, ok := batches[ppRef{r.exec.Seq, r.exec.View, r.exec.Digest}]
			if !ok {
				return corrupt(key, "refers to the batch of a PRE-PREPARE (view %d, digest %s) that is not in the log", r.exec.View, r.exec.Digest)
			}
			r.exec.Batch = batch
		}
		rec.Executed = append(rec.Executed, r.exec)
		return nil
	})
	if err != nil {
		return nil, err
	}
	// The batches returned are the ones the core will execute, and so the
	// ones it will hand back to Save: remember them for references.
	for ref, batch := range batches {
		s.batches[ref] = batch
	}
	return rec, nil
}

// scan decodes each record in [start, end) in key order and passes it to f.
func (s *Store) scan(start, end []byte, f func(*record) error) (err error) {
	it, err := s.db.NewIter(&pebble.IterOptions{LowerBound: start, UpperBound: end})
	if err != nil {
		return fmt.Errorf("store: load: %w", err)
	}
	defer func() {
		if cerr := it.Close(); err == nil && cerr != nil {
			err = fmt.Errorf("store: load: %w", cerr)
		}
	}()
	for ok := it.First(); ok; ok = it.Next() {
		v, verr := it.ValueAndErr()
		if verr != nil {
			if errors.Is(verr, pebble.ErrCorruption) {
				return corruptErr(it.Key(), verr)
			}
			return fmt.Errorf("store: load %s: %w", parseKey(it.Key()), verr)
		}
		r, derr := decodeRecord(it.Key(), v)
		if derr != nil {
			return derr
		}
		if err := f(r); err != nil {
			return err
		}
	}
	if err := it.Error(); err != nil {
		return fmt.Errorf("store: load: scanning the %s records: %w", parseKey(start).Kind, err)
	}
	return nil
}
