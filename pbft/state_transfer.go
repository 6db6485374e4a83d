package pbft

import (
	"time"

	"github.com/bftbed/bftbed/crypto"
)

// State transfer: a replica that fell behind fetches what it missed from
// its peers, and trusts nothing a single peer says. Below the others' stable
// checkpoint it fetches that checkpoint's snapshot, in chunks, and installs
// it only if it hashes to the digest 2f+1 replicas signed. Above it, it
// fetches commit certificates: a pre-prepare with its batch and 2f+1
// matching COMMITs prove that the batch committed at its sequence number.
//
// A replica knows it is behind when its stable checkpoint lies above what it
// executed, when f+1 other replicas sent messages for sequence numbers above
// it (one faulty replica cannot fake that), and after it restarts.

// catchUp is the replica's transfer in progress.
type catchUp struct {
	// peer is the replica asked last; requests rotate through the others.
	peer ReplicaID
	// mark is lastExec when the fetch timer was armed: no progress since
	// then means the replica must ask.
	mark Seq
	// The snapshot being assembled: checkpoint seq, its proof and digest,
	// its size, and the bytes so far.
	seq    Seq
	proof  []*Checkpoint
	digest Digest
	size   uint64
	buf    []byte
}

// noteProgress records that replica id sent a message about sequence number
// n, and arms the fetch timer if f+1 replicas are now ahead of this one.
func (r *Replica) noteProgress(id ReplicaID, n Seq) {
	if id == r.cfg.ID || n <= r.seen[id] {
		return
	}
	r.seen[id] = n
	r.checkLag()
}

// lagTarget is the sequence number this replica knows it should reach: its
// stable checkpoint, or the highest number that f+1 other replicas have
// reached (at least one of them correct).
func (r *Replica) lagTarget() Seq {
	target := r.stable.Seq
	var ahead []Seq
	for _, n := range r.seen {
		if n > r.lastExec {
			ahead = append(ahead, n)
		}
	}
	if len(ahead) >= r.weak() {
		sortSeqsDesc(ahead)
		target = max(target, ahead[r.weak()-1])
	}
	return target
}

// checkLag arms the fetch timer when the replica is behind and no fetch is
// pending. The timer gives the normal case a chance to fill the gap first:
// messages only overtake each other.
func (r *Replica) checkLag() {
	if r.timerOn[TimerFetch] || r.lagTarget() <= r.lastExec {
		return
	}
	r.transfer.mark = r.lastExec
	r.setTimer(TimerFetch, r.fetchTimeout())
}

func (r *Replica) fetchTimeout() time.Duration { return r.cfg.RequestTimeout / 2 }

// onFetchTimeout asks the next peer if the replica is still behind and made
// no progress since the timer was armed; a peer that did not answer, or
// answered with a snapshot that did not match its proof, is thus skipped.
func (r *Replica) onFetchTimeout() {
	if r.lagTarget() <= r.lastExec {
		return
	}
	if r.lastExec > r.transfer.mark && r.lastExec >= r.stable.Seq {
		r.checkLag() // the gap is closing by itself
		return
	}
	r.transfer.buf = nil
	r.transfer.seq = 0
	r.transfer.peer = r.nextPeer(r.transfer.peer)
	r.askPeer(r.transfer.peer, 0)
}

func (r *Replica) nextPeer(p ReplicaID) ReplicaID {
	p = (p + 1) % ReplicaID(r.cfg.N)
	if p == r.cfg.ID {
		p = (p + 1) % ReplicaID(r.cfg.N)
	}
	return p
}

// askPeer sends FETCH-STATE to one peer and arms the fetch timer.
func (r *Replica) askPeer(to ReplicaID, offset uint64) {
	fs := &FetchState{Seq: r.lastExec, Offset: offset, Replica: r.cfg.ID}
	r.sign(fs)
	r.sendTo(to, fs)
	r.transfer.mark = r.lastExec
	r.setTimer(TimerFetch, r.fetchTimeout())
}

// askAll sends FETCH-STATE to every peer: after a restart, the replica
// does not know who is ahead.
func (r *Replica) askAll() {
	fs := &FetchState{Seq: r.lastExec, Replica: r.cfg.ID}
	r.sign(fs)
	r.broadcast(fs)
	r.transfer.mark = r.lastExec
	r.setTimer(TimerFetch, r.fetchTimeout())
}

// onFetchState serves a replica that is behind: a chunk of the stable
// checkpoint's snapshot if it lacks that checkpoint, else the commit
// certificates of what this replica executed above its number.
func (r *Replica) onFetchState(fs *FetchState) {
	if fs.Replica == r.cfg.ID {
		return
	}
	if fs.Seq < r.stable.Seq {
		if r.stableSnapshot == nil || fs.Offset >= uint64(len(r.stableSnapshot)) && len(r.stableSnapshot) > 0 {
			return
		}
		end := min(uint64(len(r.stableSnapshot)), fs.Offset+uint64(r.cfg.StateChunkSize))
		st := &State{Seq: r.stable.Seq, Proof: r.stable.Proof, Size: uint64(len(r.stableSnapshot)),
			Offset: fs.Offset, Chunk: r.stableSnapshot[fs.Offset:end], Replica: r.cfg.ID}
		r.sign(st)
		r.sendTo(fs.Replica, st)
		return
	}
	for n := fs.Seq + 1; n <= r.lastExec && n <= fs.Seq+r.cfg.WatermarkWindow; n++ {
		s := r.log[n]
		if s == nil || s.committed == nil {
			continue
		}
		c := s.committed
		cm := &Committed{PrePrepare: c.prePrepare, Replica: r.cfg.ID}
		for _, id := range sortedKeys(c.commits) {
			if v := c.commits[id]; v.Digest == c.prePrepare.Digest && len(cm.Commits) < r.quorum() {
				cm.Commits = append(cm.Commits, v)
			}
		}
		r.sign(cm)
		r.sendTo(fs.Replica, cm)
	}
}

// onState takes one chunk of a snapshot. The proof must hold (2f+1 matching
// CHECKPOINTs); chunks must arrive in order; the assembled snapshot must hash
// to the proven digest, or it is thrown away and the next peer is asked.
func (r *Replica) onState(st *State) {
	if st.Seq <= r.lastExec || st.Seq < r.stable.Seq || st.Seq%r.cfg.CheckpointInterval != 0 {
		return
	}
	d, ok := r.validCheckpointProof(st.Seq, st.Proof)
	if !ok {
		return
	}
	t := &r.transfer
	if t.seq != st.Seq || t.digest != d || t.size != st.Size {
		if st.Offset != 0 {
			return
		}
		*t = catchUp{peer: st.Replica, mark: t.mark, seq: st.Seq, proof: st.Proof, digest: d, size: st.Size}
	}
	if st.Offset != uint64(len(t.buf)) {
		return
	}
	t.buf = append(t.buf, st.Chunk...)
	if uint64(len(t.buf)) < t.size {
		if len(st.Chunk) > 0 {
			r.askPeer(st.Replica, uint64(len(t.buf)))
		}
		return
	}
	snap := t.buf
	t.buf, t.seq = nil, 0
	if crypto.Hash(snap) != d {
		// A faulty peer served a snapshot its proof does not cover.
		t.peer = r.nextPeer(st.Replica)
		r.askPeer(t.peer, 0)
		return
	}
	r.installCheckpoint(StableCheckpoint{Seq: st.Seq, State: d, Proof: st.Proof}, snap)
}

// installCheckpoint replaces the state with a verified snapshot at a stable
// checkpoint, and goes on executing (or fetching) from there.
func (r *Replica) installCheckpoint(cp StableCheckpoint, snap []byte) {
	if err := r.installState(snap); err != nil {
		return
	}
	r.lastExec = cp.Seq
	r.snapshots[cp.Seq] = snap
	r.out.Persist.Snapshots = append(r.out.Persist.Snapshots, Snapshot{Seq: cp.Seq, Data: snap})
	for k := range r.waiting {
		if r.clients.executed(k) {
			delete(r.waiting, k)
		}
	}
	if cp.Seq > r.stable.Seq {
		r.makeStable(cp)
	} else {
		r.stableSnapshot = snap
		stable := r.stable
		r.out.Persist.Stable = &stable
	}
	r.nextSeq = max(r.nextSeq, r.lastExec+1)
	r.stopTimer(TimerFetch)
	r.execute()
	if r.lagTarget() > r.lastExec {
		r.askPeer(r.transfer.peer, 0)
	}
}

// onCommitted executes a batch on its commit certificate: a pre-prepare from
// its view's primary whose batch matches its digest, and 2f+1 COMMITs from
// distinct replicas for the same view, number and digest. 2f+1 commits mean
// f+1 correct replicas prepared it, so it committed; no other batch can have
// committed at that number.
func (r *Replica) onCommitted(c *Committed) {
	pp := c.PrePrepare
	if pp == nil || pp.Seq <= r.lastExec || !r.inWindow(pp.Seq) ||
		pp.Replica != primaryOf(pp.View, r.cfg.N) || !CheckBatchDigest(pp) {
		return
	}
	s := r.slotAt(pp.Seq)
	if s.committed != nil {
		return
	}
	proof := &cert{view: pp.View, prePrepare: pp, prepares: map[ReplicaID]*Prepare{}, commits: map[ReplicaID]*Commit{}}
	for _, cm := range c.Commits {
		if cm == nil || cm.View != pp.View || cm.Seq != pp.Seq || cm.Digest != pp.Digest || int(cm.Replica) >= r.cfg.N {
			return
		}
		proof.commits[cm.Replica] = cm
	}
	if len(proof.commits) < r.quorum() {
		return
	}
	s.committed = proof
	r.persist(pp)
	for _, id := range sortedKeys(proof.commits) {
		r.persist(proof.commits[id])
	}
	r.execute()
}
