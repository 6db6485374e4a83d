package pbft

import "github.com/bftbed/bftbed/crypto"

// State transfer: a replica that learns of a stable checkpoint above what it
// executed fetches that checkpoint's state from its peers, and trusts it only
// if it matches a proof signed by 2f+1 replicas.

// fetchState asks every other replica for a stable checkpoint at or above
// seq, and arms a timer to ask again if no valid answer comes.
func (r *Replica) fetchState(seq Seq) {
	r.fetching = max(r.fetching, seq)
	fs := &FetchState{Seq: r.fetching, Replica: r.cfg.ID}
	r.sign(fs)
	r.broadcast(fs)
	r.setTimer(TimerFetch, r.cfg.RequestTimeout/2)
}

// onFetchState serves this replica's stable checkpoint if it is recent
// enough and it holds the snapshot.
func (r *Replica) onFetchState(fs *FetchState) {
	if fs.Replica == r.cfg.ID || r.stable.Seq < fs.Seq || r.stableSnapshot == nil {
		return
	}
	st := &State{Seq: r.stable.Seq, Proof: r.stable.Proof, Snapshot: r.stableSnapshot, Replica: r.cfg.ID}
	r.sign(st)
	r.sendTo(fs.Replica, st)
}

// onState installs a checkpoint's state if its proof holds: 2f+1 matching
// CHECKPOINTs from distinct replicas, and the snapshot hashes to their
// digest. A wrong snapshot from a faulty peer is simply ignored; the fetch
// timer asks again.
func (r *Replica) onState(st *State) {
	if st.Seq <= r.lastExec || st.Seq < r.stable.Seq || st.Seq%r.cfg.CheckpointInterval != 0 {
		return
	}
	d, ok := r.validCheckpointProof(st.Seq, st.Proof)
	if !ok || crypto.Hash(st.Snapshot) != d {
		return
	}
	if err := r.installState(st.Snapshot); err != nil {
		return
	}
	r.lastExec = st.Seq
	r.snapshots[st.Seq] = st.Snapshot
	r.out.Persist.Snapshots = append(r.out.Persist.Snapshots, Snapshot{Seq: st.Seq, Data: st.Snapshot})
	for k := range r.waiting {
		if r.clients.executed(k) {
			delete(r.waiting, k)
		}
	}
	if st.Seq > r.stable.Seq {
		r.makeStable(StableCheckpoint{Seq: st.Seq, State: d, Proof: st.Proof})
	} else if st.Seq == r.stable.Seq {
		r.stableSnapshot = st.Snapshot
		stable := r.stable
		r.out.Persist.Stable = &stable
	}
	if r.fetching <= r.lastExec {
		r.fetching = 0
		r.stopTimer(TimerFetch)
	}
	r.nextSeq = max(r.nextSeq, r.lastExec+1)
	r.execute()
}
