package pbft

import "github.com/bftbed/bftbed/crypto"

// Checkpoints and garbage collection (OSDI'99 section 4.3).

// takeCheckpoint runs after executing n with n mod K = 0: snapshot the state,
// keep the snapshot, and multicast a signed <CHECKPOINT, n, d, i>.
func (r *Replica) takeCheckpoint(n Seq) {
	snap := encodeState(r.app.Snapshot(), r.clients)
	r.snapshots[n] = snap
	r.out.Persist.Snapshots = append(r.out.Persist.Snapshots, Snapshot{Seq: n, Data: snap})
	cp := &Checkpoint{Seq: n, State: crypto.Hash(snap), Replica: r.cfg.ID}
	r.sign(cp)
	r.persist(cp)
	r.broadcast(cp)
	r.addCheckpoint(cp)
}

// onCheckpoint logs another replica's CHECKPOINT.
func (r *Replica) onCheckpoint(cp *Checkpoint) {
	defer r.noteProgress(cp.Replica, cp.Seq)
	if cp.Replica == r.cfg.ID || cp.Seq <= r.stable.Seq || cp.Seq%r.cfg.CheckpointInterval != 0 {
		return
	}
	if byReplica := r.checkpoints[cp.Seq]; byReplica != nil && byReplica[cp.Replica] != nil {
		return
	}
	r.persist(cp)
	r.addCheckpoint(cp)
}

// addCheckpoint records cp and checks whether its checkpoint became stable.
// Above the watermark window, only each replica's highest checkpoint is kept:
// enough to learn that this replica fell behind, bounded however many a
// faulty replica sends.
func (r *Replica) addCheckpoint(cp *Checkpoint) {
	if cp.Seq > r.stable.Seq+r.cfg.WatermarkWindow {
		for _, n := range sortedKeys(r.checkpoints) {
			if old := r.checkpoints[n][cp.Replica]; n > r.stable.Seq+r.cfg.WatermarkWindow && old != nil {
				if n > cp.Seq {
					return
				}
				delete(r.checkpoints[n], cp.Replica)
			}
		}
	}
	byReplica := r.checkpoints[cp.Seq]
	if byReplica == nil {
		byReplica = map[ReplicaID]*Checkpoint{}
		r.checkpoints[cp.Seq] = byReplica
	}
	byReplica[cp.Replica] = cp
	if proof := r.stableProof(byReplica); proof != nil {
		r.makeStable(StableCheckpoint{Seq: cp.Seq, State: proof[0].State, Proof: proof})
	}
}

// stableProof returns 2f+1 matching checkpoints from distinct replicas, sorted
// by replica, or nil: a checkpoint with that proof is stable.
func (r *Replica) stableProof(byReplica map[ReplicaID]*Checkpoint) []*Checkpoint {
	count := map[Digest]int{}
	for _, cp := range byReplica {
		count[cp.State]++
	}
	for d, c := range count {
		if c < r.quorum() {
			continue
		}
		var proof []*Checkpoint
		for _, id := range sortedKeys(byReplica) {
			if cp := byReplica[id]; cp.State == d && len(proof) < r.quorum() {
				proof = append(proof, cp)
			}
		}
		return proof
	}
	return nil
}

// validCheckpointProof checks a stable-checkpoint proof carried by another
// message: 2f+1 checkpoints from distinct replicas for seq with one digest.
func (r *Replica) validCheckpointProof(seq Seq, proof []*Checkpoint) (Digest, bool) {
	if len(proof) < r.quorum() {
		return Digest{}, false
	}
	seen := map[ReplicaID]bool{}
	d := proof[0].State
	for _, cp := range proof {
		if cp == nil || cp.Seq != seq || cp.State != d || seen[cp.Replica] || int(cp.Replica) >= r.cfg.N {
			return Digest{}, false
		}
		seen[cp.Replica] = true
	}
	return d, true
}

// makeStable makes st the stable checkpoint: the low watermark h moves to
// st.Seq, and the log, the checkpoints and the snapshots at or below it are
// discarded. A replica that has not executed up to st.Seq fetches the state.
func (r *Replica) makeStable(st StableCheckpoint) {
	if st.Seq <= r.stable.Seq {
		return
	}
	r.stable = st
	r.stableSnapshot = nil
	if snap, ok := r.snapshots[st.Seq]; ok && crypto.Hash(snap) == st.State {
		r.stableSnapshot = snap
	}
	for n := range r.log {
		if n <= st.Seq {
			delete(r.log, n)
		}
	}
	for n := range r.checkpoints {
		if n <= st.Seq {
			delete(r.checkpoints, n)
		}
	}
	for n := range r.snapshots {
		if n < st.Seq {
			delete(r.snapshots, n)
		}
	}
	if r.stableSnapshot != nil {
		// Only a checkpoint whose snapshot this replica holds may let the
		// storage discard the log: recovery needs a snapshot to start from.
		stable := st
		r.out.Persist.Stable = &stable
	}
	if r.lastExec < st.Seq {
		r.checkLag()
		return
	}
	r.propose()
}
