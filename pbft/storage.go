package pbft

import "fmt"

// Persist is what one step of the core must make durable before anything it
// sent in the same step leaves the node. A Storage writes it as one atomic,
// synced batch (group commit).
type Persist struct {
	// View is set when the view or the view-change status changed.
	View *ViewStatus
	// Log holds the signed messages the replica accepted into its log in
	// this step, its own included: pre-prepares (with batches), prepares,
	// commits, checkpoints and view changes. (NEW-VIEWs are not kept: the
	// pre-prepares of their O are.)
	Log []Message
	// Executed holds the batches executed in this step, in order. Each
	// Batch is the slice of the logged pre-prepare it came from, so a
	// store may keep a reference instead of a second copy.
	Executed []CommittedBatch
	// Snapshots holds the application snapshots taken at this step's
	// checkpoints (or installed by state transfer).
	Snapshots []Snapshot
	// Stable is set when a checkpoint became stable: everything at or
	// below Stable.Seq may be discarded, except Stable itself and its
	// snapshot.
	Stable *StableCheckpoint
}

// Empty reports whether there is nothing to persist.
func (p *Persist) Empty() bool {
	return p.View == nil && len(p.Log) == 0 && len(p.Executed) == 0 &&
		len(p.Snapshots) == 0 && p.Stable == nil
}

// ViewStatus is the replica's view and whether it is changing view.
type ViewStatus struct {
	View     View
	Changing bool
}

// Snapshot is the replica state (application state plus the client table)
// after executing Seq; its digest is the checkpoint's state digest.
type Snapshot struct {
	Seq  Seq
	Data []byte
}

// StableCheckpoint is a checkpoint with its proof: 2f+1 matching signed
// CHECKPOINT messages from distinct replicas.
type StableCheckpoint struct {
	Seq   Seq
	State Digest
	Proof []*Checkpoint
}

// Recovered is what a Storage returns on open: everything the core needs to
// resume without contradicting itself.
type Recovered struct {
	View ViewStatus
	// Stable is the last stable checkpoint (nil at genesis) and
	// StableSnapshot its snapshot (nil if never obtained).
	Stable         *StableCheckpoint
	StableSnapshot []byte
	// Log holds the persisted log messages above the stable checkpoint.
	Log []Message
	// Executed holds the executed batches above the stable checkpoint, in
	// sequence order; the core re-executes them to rebuild the state.
	Executed []CommittedBatch
}

// Storage persists the core's output. Save must be atomic and durable when
// it returns; Load returns the state as of the last successful Save, with
// these guarantees the core relies on:
//
//   - nothing at or below the stable checkpoint except the checkpoint, its
//     proof and its snapshot (a Stable is only ever saved with its snapshot,
//     in the same or an earlier Save);
//   - executed batches from Stable.Seq+1 (or 1) on, without gaps;
//   - VIEW-CHANGEs of views below the current one may be dropped;
//   - log messages in any order.
//
// Save must not keep p's slices beyond the call unless it copies them: the
// core does not reuse them, but a runtime may.
type Storage interface {
	Save(p *Persist) error
	Load() (*Recovered, error)
}

// MemoryStorage is an in-memory Storage, for tests, the simulator and
// embedders that do not need durability. A simulated crash keeps it, like a
// disk whose every Save was synced.
type MemoryStorage struct {
	view      ViewStatus
	stable    *StableCheckpoint
	snapshots map[Seq][]byte
	log       []Message
	executed  []CommittedBatch
}

// NewMemoryStorage returns an empty MemoryStorage.
func NewMemoryStorage() *MemoryStorage {
	return &MemoryStorage{snapshots: map[Seq][]byte{}}
}

// Save implements Storage.
func (s *MemoryStorage) Save(p *Persist) error {
	if p.View != nil {
		s.view = *p.View
		s.dropViewChangesBelow(s.view.View)
	}
	s.log = append(s.log, p.Log...)
	s.executed = append(s.executed, p.Executed...)
	for _, sn := range p.Snapshots {
		s.snapshots[sn.Seq] = sn.Data
	}
	if p.Stable != nil && (s.stable == nil || p.Stable.Seq > s.stable.Seq) {
		st := *p.Stable
		s.stable = &st
		s.truncate(st.Seq)
	}
	return nil
}

// truncate discards what lies at or below the stable checkpoint seq.
func (s *MemoryStorage) truncate(seq Seq) {
	keep := s.log[:0]
	for _, m := range s.log {
		if s, ok := logSeq(m); !ok || s > seq {
			keep = append(keep, m)
		}
	}
	clear(s.log[len(keep):])
	s.log = keep
	ex := s.executed[:0]
	for _, b := range s.executed {
		if b.Seq > seq {
			ex = append(ex, b)
		}
	}
	clear(s.executed[len(ex):])
	s.executed = ex
	for q := range s.snapshots {
		if q < seq {
			delete(s.snapshots, q)
		}
	}
}

// dropViewChangesBelow forgets VIEW-CHANGEs of views below v: they can no
// longer matter, and a long run would otherwise keep them all.
func (s *MemoryStorage) dropViewChangesBelow(v View) {
	keep := s.log[:0]
	for _, m := range s.log {
		if vc, ok := m.(*ViewChange); !ok || vc.View >= v {
			keep = append(keep, m)
		}
	}
	clear(s.log[len(keep):])
	s.log = keep
}

// Load implements Storage.
func (s *MemoryStorage) Load() (*Recovered, error) {
	rec := &Recovered{View: s.view, Log: append([]Message(nil), s.log...), Executed: append([]CommittedBatch(nil), s.executed...)}
	if s.stable != nil {
		st := *s.stable
		rec.Stable = &st
		rec.StableSnapshot = s.snapshots[st.Seq]
	}
	for i := 1; i < len(rec.Executed); i++ {
		if rec.Executed[i].Seq != rec.Executed[i-1].Seq+1 {
			return nil, fmt.Errorf("pbft: memory storage: executed batches not contiguous at %d", rec.Executed[i].Seq)
		}
	}
	return rec, nil
}

// logSeq returns the sequence number a log message belongs to, for garbage
// collection; view-change messages have none.
func logSeq(m Message) (Seq, bool) {
	switch m := m.(type) {
	case *PrePrepare:
		return m.Seq, true
	case *Prepare:
		return m.Seq, true
	case *Commit:
		return m.Seq, true
	case *Checkpoint:
		return m.Seq, true
	}
	return 0, false
}
