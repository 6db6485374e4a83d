package pbft

// NEW-VIEW (OSDI'99 section 4.4): the new primary's message and the backups'
// check of it.

// sendNewView is the new primary's step once it has 2f+1 VIEW-CHANGEs for
// its view, its own included: it multicasts <NEW-VIEW, v, V, O> and enters v.
func (r *Replica) sendNewView() {
	v := r.view
	V := []*ViewChange{r.vcs[r.cfg.ID]}
	for _, vc := range r.viewChangesFor(v) {
		if vc.Replica != r.cfg.ID && len(V) < r.quorum() {
			V = append(V, vc)
		}
	}
	O, minS := r.computeO(v, V)
	wire := make([]*PrePrepare, len(O))
	for i, pp := range O {
		r.sign(pp)
		hdr := *pp
		hdr.Batch = nil // each batch travels inside V already
		wire[i] = &hdr
	}
	nv := &NewView{View: v, V: V, O: wire, Replica: r.cfg.ID}
	r.sign(nv)
	r.newViewSent = v
	r.lastNewView = nv
	r.broadcast(nv)
	r.enterView(v, V, O, minS)
}

// computeO is the min-s/max-s rule. min-s is the latest stable checkpoint in
// V and max-s the highest sequence number in a prepared certificate in V.
// For each n in (min-s, max-s] the new primary re-proposes, in view v, the
// digest of the prepared certificate for n with the highest view, or the null
// request if V has none for n. The result depends only on V's order, which
// is by replica, never on map iteration.
func (r *Replica) computeO(v View, V []*ViewChange) (O []*PrePrepare, minS Seq) {
	for _, vc := range V {
		minS = max(minS, vc.Stable)
	}
	maxS := minS
	highest := map[Seq]*PrePrepare{}
	for _, vc := range V {
		for _, proof := range vc.P {
			pp := proof.PrePrepare
			if pp.Seq <= minS {
				continue
			}
			maxS = max(maxS, pp.Seq)
			if best := highest[pp.Seq]; best == nil || pp.View > best.View {
				highest[pp.Seq] = pp
			}
		}
	}
	primary := primaryOf(v, r.cfg.N)
	for n := minS + 1; n <= maxS; n++ {
		pp := &PrePrepare{View: v, Seq: n, Digest: NullDigest, Replica: primary}
		if best := highest[n]; best != nil {
			pp.Digest, pp.Batch = best.Digest, best.Batch
		}
		O = append(O, pp)
	}
	return O, minS
}

// onNewView is a backup's check of <NEW-VIEW, v, V, O>: it comes from v's
// primary, V holds 2f+1 valid VIEW-CHANGEs for v from distinct replicas (every
// proof inside verified), and O is exactly what the backup computes from V
// itself. Any mismatch rejects the whole message.
func (r *Replica) onNewView(nv *NewView) {
	if nv.View < r.view || (nv.View == r.view && !r.changing) || nv.Replica != primaryOf(nv.View, r.cfg.N) || nv.Replica == r.cfg.ID {
		return
	}
	if len(nv.V) < r.quorum() {
		return
	}
	seen := map[ReplicaID]bool{}
	for _, vc := range nv.V {
		if vc == nil || vc.View != nv.View || seen[vc.Replica] || int(vc.Replica) >= r.cfg.N || !r.validViewChange(vc) {
			return
		}
		seen[vc.Replica] = true
	}
	O, minS := r.computeO(nv.View, nv.V)
	if len(O) != len(nv.O) {
		return
	}
	for i, pp := range nv.O {
		if pp == nil || pp.View != nv.View || pp.Seq != O[i].Seq || pp.Digest != O[i].Digest || pp.Replica != nv.Replica {
			return
		}
		// Keep the primary's signed header, with the batch found in V.
		withBatch := *pp
		withBatch.Batch = O[i].Batch
		O[i] = &withBatch
	}
	r.enterView(nv.View, nv.V, O, minS)
}

// enterView starts view v from a NEW-VIEW: it adopts the stable checkpoint
// min-s if it is newer than its own, then handles each pre-prepare of O like
// one received in the normal case. Sequence numbers it already executed are
// never executed again: execution only ever moves past lastExec.
func (r *Replica) enterView(v View, V []*ViewChange, O []*PrePrepare, minS Seq) {
	r.view, r.changing = v, false
	r.persistView()
	r.stopTimer(TimerRequest)
	r.dropViewsBelow(v)
	if minS > r.stable.Seq {
		for _, vc := range V {
			if vc.Stable == minS {
				r.makeStable(StableCheckpoint{Seq: minS, State: vc.C[0].State, Proof: vc.C})
				break
			}
		}
	}
	for _, pp := range O {
		c := r.slotAt(pp.Seq).certAt(v)
		if !r.inWindow(pp.Seq) || c.prePrepare != nil {
			continue
		}
		r.acceptPrePrepare(c, pp)
	}
	if r.isPrimary() {
		// Fresh requests are numbered right after O: every n <= max-s is
		// in O, and a number this replica assigned as primary of an
		// earlier view is void unless O re-proposes it (continuing from
		// it would leave a gap no replica can execute past).
		r.nextSeq = max(r.stable.Seq, r.lastExec, minS) + 1
		if len(O) > 0 {
			r.nextSeq = max(r.nextSeq, O[len(O)-1].Seq+1)
		}
		// In flight now are exactly the requests in O. Every other request
		// this replica waits for, as a backup or left over from an earlier
		// view as primary, is its own to propose.
		clear(r.queued)
		for _, pp := range O {
			for _, req := range pp.Batch {
				r.queued[keyOf(req)] = true
			}
		}
		pending := r.queue
		r.queue = nil
		for _, req := range pending {
			if k := keyOf(req); !r.queued[k] {
				r.queued[k] = true
				r.queue = append(r.queue, req)
			}
		}
		for _, k := range sortedReqKeys(r.waiting) {
			if req := r.waiting[k]; !r.queued[k] {
				r.queued[k] = true
				r.queue = append(r.queue, req)
			}
		}
		r.batchDue = true
		r.propose()
	} else {
		r.queue, r.batchDue = nil, false
		clear(r.queued)
		r.releaseHeldPrePrepares(v)
	}
	r.restartRequestTimer()
}
