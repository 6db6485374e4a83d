package pbft

import (
	"fmt"

	"github.com/bftbed/bftbed/crypto"
)

// restore rebuilds the core from what its Storage kept: the stable
// checkpoint's snapshot, then the executed batches above it (executed again,
// deterministically), then the log. Own messages come back from the log, so a
// recovered replica signs nothing that contradicts what it signed before.
func (r *Replica) restore(rec *Recovered) error {
	r.view, r.changing = rec.View.View, rec.View.Changing
	if rec.Stable != nil {
		if rec.StableSnapshot == nil || crypto.Hash(rec.StableSnapshot) != rec.Stable.State {
			return fmt.Errorf("pbft: recover: snapshot of stable checkpoint %d is missing or does not match its digest", rec.Stable.Seq)
		}
		if err := r.installState(rec.StableSnapshot); err != nil {
			return fmt.Errorf("pbft: recover: stable checkpoint %d: %w", rec.Stable.Seq, err)
		}
		r.stable = *rec.Stable
		r.stableSnapshot = rec.StableSnapshot
		r.snapshots[r.stable.Seq] = rec.StableSnapshot
		r.lastExec = r.stable.Seq
	}
	for _, b := range rec.Executed {
		if b.Seq <= r.lastExec {
			continue
		}
		if b.Seq != r.lastExec+1 || BatchDigest(b.Batch) != b.Digest {
			return fmt.Errorf("pbft: recover: executed batch %d does not follow %d or does not match its digest", b.Seq, r.lastExec)
		}
		r.executeBatch(b.Seq, b.Batch)
		if b.Seq%r.cfg.CheckpointInterval == 0 {
			snap := encodeState(r.app.Snapshot(), r.clients)
			r.snapshots[b.Seq] = snap
		}
	}
	// Replies re-created by re-execution were sent before the crash.
	r.out = Ready{}
	for _, m := range rec.Log {
		r.restoreMessage(m)
	}
	for _, n := range sortedKeys(r.log) {
		s := r.log[n]
		for _, v := range sortedKeys(s.certs) {
			c := s.certs[v]
			if c.prePrepare != nil && r.prepared(c) && (s.prepared == nil || s.prepared.PrePrepare.View <= v) {
				s.prepared = r.preparedProof(c)
			}
			// Only this view's numbers count: a number assigned as primary
			// of an earlier view is void unless a NEW-VIEW re-proposed it.
			if c.prePrepare != nil && c.prePrepare.Replica == r.cfg.ID && v == r.view {
				r.nextSeq = max(r.nextSeq, n+1)
			}
		}
	}
	// Finish what the crash interrupted, exactly as it would have gone on.
	if !r.changing {
		for _, n := range sortedKeys(r.log) {
			if c := r.log[n].certs[r.view]; c != nil && c.prePrepare != nil {
				r.advance(n, c)
			}
		}
	}
	return nil
}

// restoreMessage puts one persisted log message back in place.
func (r *Replica) restoreMessage(m Message) {
	switch m := m.(type) {
	case *PrePrepare:
		if r.inWindow(m.Seq) {
			if c := r.slotAt(m.Seq).certAt(m.View); c.prePrepare == nil {
				c.prePrepare = m
			}
		}
	case *Prepare:
		if r.inWindow(m.Seq) {
			if c := r.slotAt(m.Seq).certAt(m.View); c.prepares[m.Replica] == nil {
				c.prepares[m.Replica] = m
			}
		}
	case *Commit:
		if r.inWindow(m.Seq) {
			c := r.slotAt(m.Seq).certAt(m.View)
			if c.commits[m.Replica] == nil {
				c.commits[m.Replica] = m
			}
			if m.Replica == r.cfg.ID {
				c.sentCommit = true
			}
		}
	case *Checkpoint:
		if m.Seq > r.stable.Seq {
			if byReplica := r.checkpoints[m.Seq]; byReplica == nil || byReplica[m.Replica] == nil {
				r.addCheckpoint(m)
			}
		}
	case *ViewChange:
		if old := r.vcs[m.Replica]; old == nil || old.View < m.View {
			r.vcs[m.Replica] = m
		}
	}
}
