package pbft

import "time"

// The normal case of PBFT (OSDI'99 section 4.2): REQUEST, PRE-PREPARE,
// PREPARE, COMMIT.

// maxFutureViews bounds how far ahead of its view a replica buffers PREPAREs
// and COMMITs (they may overtake the NEW-VIEW that opens their view).
const maxFutureViews = 2

// onRequest handles a client's REQUEST. A request already executed gets the
// cached reply again (or nothing, if older than the last one). The primary
// queues it for a batch; a backup relays it to the primary and starts its
// view-change timer, since the client retransmits to all replicas only when
// the primary seems not to answer.
func (r *Replica) onRequest(req *Request) {
	k := keyOf(req)
	if r.clients.executed(k) {
		if result, ok := r.clients.cachedReply(k); ok {
			r.reply(k, result)
		}
		return
	}
	if r.changing {
		return
	}
	if r.isPrimary() {
		if r.queued[k] || len(r.queue) >= maxQueuedRequests {
			return
		}
		r.queued[k] = true
		r.queue = append(r.queue, req)
		r.wait(req)
		r.propose()
		return
	}
	if r.waiting[k] == nil {
		r.sendTo(r.primary(), req)
		r.wait(req)
	}
}

// maxQueuedRequests bounds the primary's queue; clients retransmit what it
// drops.
const maxQueuedRequests = 1 << 16

// wait marks a request as known and not executed, and starts the view-change
// timer if it is not running. The primary runs the timer too: a primary that
// cannot get its own proposals committed (it missed a NEW-VIEW, or too many
// replicas are elsewhere) must not wait forever.
func (r *Replica) wait(req *Request) {
	if r.changing {
		return
	}
	k := keyOf(req)
	r.waiting[k] = req
	r.arrivals = append(r.arrivals, k)
	if !r.timerOn[TimerRequest] {
		r.timed = k
		r.setTimer(TimerRequest, r.viewChangeTimeout())
	}
}

// propose is the primary's batching rule: send a PRE-PREPARE as soon as a
// full batch is queued, or a partial one when the batch timer has fired,
// while the sequence number stays inside the watermarks and fewer than
// MaxInFlight batches are unexecuted. This is the paper's sliding window
// (TOCS'02 section 5.1) with a linger: while batches are in flight the
// timer lets requests gather for up to BatchTimeout, since larger batches
// spread each instance's messages, signatures and synced writes over more
// requests; an idle primary has nothing to gather behind and arms it for
// idleLinger, which closes the batch once the requests that arrived with
// the first one are queued.
func (r *Replica) propose() {
	if !r.isPrimary() || r.changing {
		return
	}
	for len(r.queue) > 0 && (len(r.queue) >= r.cfg.MaxBatch || r.batchDue) {
		if !r.inWindow(r.nextSeq) || int(r.nextSeq-1-r.lastExec) >= r.cfg.MaxInFlight {
			return
		}
		n := min(len(r.queue), r.cfg.MaxBatch)
		batch := make([]*Request, 0, n)
		for _, req := range r.queue[:n] {
			if !r.clients.executed(keyOf(req)) {
				batch = append(batch, req)
			}
		}
		clear(r.queue[:n])
		r.queue = r.queue[n:]
		if len(batch) == 0 {
			continue
		}
		pp := &PrePrepare{View: r.view, Seq: r.nextSeq, Digest: BatchDigest(batch), Replica: r.cfg.ID, Batch: batch}
		r.nextSeq++
		r.sign(pp)
		r.slotAt(pp.Seq).certAt(pp.View).prePrepare = pp
		r.persist(pp)
		r.broadcast(pp)
	}
	r.batchDue = false
	switch {
	case len(r.queue) == 0:
		r.stopTimer(TimerBatch)
		r.batchSoon = false
	case r.nextSeq-1 == r.lastExec && r.inWindow(r.nextSeq):
		if !r.batchSoon {
			r.batchSoon = true
			r.setTimer(TimerBatch, idleLinger)
		}
	case !r.timerOn[TimerBatch]:
		r.setTimer(TimerBatch, r.cfg.BatchTimeout)
	}
}

// idleLinger is the batch timer of an idle primary: long enough for a
// runtime to step the events already queued with the request that armed it
// (a burst of requests arriving together makes one batch), too short to
// matter to anyone's latency.
const idleLinger = time.Microsecond

// onPrePrepare is the backup's acceptance rule for <PRE-PREPARE, v, n, d>:
// the signature is valid (checked by the runtime), d is the batch's digest,
// the backup is in view v, h < n <= H, and it has not accepted a pre-prepare
// for (v, n) with a different digest.
func (r *Replica) onPrePrepare(pp *PrePrepare) {
	if pp.Replica != primaryOf(pp.View, r.cfg.N) || pp.Replica == r.cfg.ID {
		return
	}
	if pp.View > r.view || (pp.View == r.view && r.changing) {
		r.holdPrePrepare(pp)
		return
	}
	if pp.View != r.view {
		return
	}
	if !r.inWindow(pp.Seq) || !CheckBatchDigest(pp) {
		return
	}
	c := r.slotAt(pp.Seq).certAt(pp.View)
	if c.prePrepare != nil {
		return // a duplicate, or a conflicting digest from a faulty primary
	}
	r.acceptPrePrepare(c, pp)
}

// acceptPrePrepare logs pp, multicasts this backup's PREPARE and checks
// whether the request is now prepared.
func (r *Replica) acceptPrePrepare(c *cert, pp *PrePrepare) {
	c.prePrepare = pp
	r.persist(pp)
	for _, req := range pp.Batch {
		if !r.clients.executed(keyOf(req)) {
			r.wait(req)
		}
	}
	if pp.Replica != r.cfg.ID {
		p := &Prepare{View: pp.View, Seq: pp.Seq, Digest: pp.Digest, Replica: r.cfg.ID}
		r.sign(p)
		c.prepares[r.cfg.ID] = p
		r.persist(p)
		r.broadcast(p)
	}
	r.advance(pp.Seq, c)
}

// onPrepare logs a backup's PREPARE for (v, n, d).
func (r *Replica) onPrepare(p *Prepare) {
	if !r.acceptVote(p.View, p.Seq, p.Replica) || p.Replica == primaryOf(p.View, r.cfg.N) {
		return
	}
	c := r.slotAt(p.Seq).certAt(p.View)
	if c.prepares[p.Replica] != nil {
		return
	}
	c.prepares[p.Replica] = p
	r.persist(p)
	r.advance(p.Seq, c)
}

// onCommit logs a replica's COMMIT for (v, n, d).
func (r *Replica) onCommit(cm *Commit) {
	// Whatever its view, a COMMIT shows how far its sender got (noted
	// once this commit has had its effect here).
	defer r.noteProgress(cm.Replica, cm.Seq)
	if !r.acceptVote(cm.View, cm.Seq, cm.Replica) {
		return
	}
	c := r.slotAt(cm.Seq).certAt(cm.View)
	if c.commits[cm.Replica] != nil {
		return
	}
	c.commits[cm.Replica] = cm
	r.persist(cm)
	r.advance(cm.Seq, c)
}

// acceptVote checks a PREPARE or COMMIT's view and sequence number: in the
// current view (or a little ahead, buffered for after the NEW-VIEW) and
// inside the watermarks.
func (r *Replica) acceptVote(v View, n Seq, from ReplicaID) bool {
	return from != r.cfg.ID && v >= r.view && v <= r.view+maxFutureViews && r.inWindow(n)
}

// advance moves the certificate for (c.view, n) forward: once prepared, the
// replica multicasts its COMMIT; once committed-local, it executes what it
// can. Nothing advances outside the current view or during a view change.
func (r *Replica) advance(n Seq, c *cert) {
	if c.view != r.view || r.changing {
		return
	}
	s := r.slotAt(n)
	if !c.sentCommit && r.prepared(c) {
		if s.prepared == nil || s.prepared.PrePrepare.View <= c.view {
			s.prepared = r.preparedProof(c)
		}
		cm := &Commit{View: c.view, Seq: n, Digest: c.prePrepare.Digest, Replica: r.cfg.ID}
		r.sign(cm)
		c.commits[r.cfg.ID] = cm
		c.sentCommit = true
		r.persist(cm)
		r.broadcast(cm)
	}
	if s.committed == nil && r.committedLocal(c) {
		s.committed = c
		r.execute()
	}
}

// holdPrePrepare keeps a PRE-PREPARE of a view this replica has not entered
// yet: the new primary sends its NEW-VIEW and then its first proposals, and
// the network may deliver them in the other order. Dropping them would stall
// the new view until its timer expires. At most one per (view, seq), inside
// the watermarks and a few views ahead.
func (r *Replica) holdPrePrepare(pp *PrePrepare) {
	if pp.View > r.view+maxFutureViews || !r.inWindow(pp.Seq) || !CheckBatchDigest(pp) {
		return
	}
	if r.heldPP == nil {
		r.heldPP = map[View]map[Seq]*PrePrepare{}
	}
	bySeq := r.heldPP[pp.View]
	if bySeq == nil {
		bySeq = map[Seq]*PrePrepare{}
		r.heldPP[pp.View] = bySeq
	}
	if bySeq[pp.Seq] == nil {
		bySeq[pp.Seq] = pp
	}
}

// releaseHeldPrePrepares handles, on entering view v, the PRE-PREPAREs of v
// that arrived before its NEW-VIEW, and forgets those of older views.
func (r *Replica) releaseHeldPrePrepares(v View) {
	held := r.heldPP[v]
	for w := range r.heldPP {
		if w <= v {
			delete(r.heldPP, w)
		}
	}
	for _, n := range sortedKeys(held) {
		r.onPrePrepare(held[n])
	}
}
