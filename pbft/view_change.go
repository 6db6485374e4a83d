package pbft

// View changes (OSDI'99 section 4.4 and the liveness rules of 4.5.2).

// onRequestTimeout: the view-change timer expired. Either the replica
// waited too long for a request to execute, or a view change did not produce
// a NEW-VIEW in time; both move to the next view, with a doubled timeout. A
// replica still short of 2f+1 VIEW-CHANGEs for its view multicasts its own
// again instead, since messages can be lost.
func (r *Replica) onRequestTimeout() {
	if r.changing && r.vcTimerView != r.view {
		r.broadcast(r.vcs[r.cfg.ID])
		r.setTimer(TimerRequest, r.viewChangeTimeout())
		return
	}
	r.attempts++
	r.startViewChange(r.view + 1)
}

// startViewChange moves to view v and multicasts
// <VIEW-CHANGE, v, n, C, P, i>: n and C are the last stable checkpoint and
// its proof; P has the prepared certificate with the highest view for every
// sequence number above n. From now until the NEW-VIEW the replica accepts
// only CHECKPOINT, VIEW-CHANGE and NEW-VIEW messages.
func (r *Replica) startViewChange(v View) {
	if v < r.view || (v == r.view && r.changing) {
		return
	}
	r.view, r.changing = v, true
	r.setTimer(TimerRequest, r.viewChangeTimeout())
	r.stopTimer(TimerBatch)
	r.batchDue, r.batchSoon = false, false
	r.dropViewsBelow(v)
	vc := &ViewChange{View: v, Stable: r.stable.Seq, C: r.stable.Proof, Replica: r.cfg.ID}
	for _, n := range sortedKeys(r.log) {
		if p := r.log[n].prepared; p != nil && n > r.stable.Seq {
			vc.P = append(vc.P, p)
		}
	}
	r.sign(vc)
	r.vcs[r.cfg.ID] = vc
	r.persistView()
	r.persist(vc)
	r.broadcast(vc)
	r.checkViewChangeQuorum()
}

// onViewChange logs a valid VIEW-CHANGE for the current or a later view.
func (r *Replica) onViewChange(vc *ViewChange) {
	if vc.View == r.view && !r.changing && r.lastNewView != nil && r.lastNewView.View == r.view {
		// The sender missed this view's NEW-VIEW: send it again.
		r.sendTo(vc.Replica, r.lastNewView)
		return
	}
	if vc.Replica == r.cfg.ID || vc.View < r.view || (vc.View == r.view && !r.changing) {
		return
	}
	if old := r.vcs[vc.Replica]; old != nil && old.View >= vc.View {
		return
	}
	if !r.validViewChange(vc) {
		return
	}
	r.vcs[vc.Replica] = vc
	r.persist(vc)
	r.joinHigherView()
	r.checkViewChangeQuorum()
}

// joinHigherView is the liveness rule: a replica that has VIEW-CHANGEs from
// f+1 replicas for views above its own joins the smallest of those views,
// since at least one correct replica asked for it. Fewer than f+1 faulty
// replicas can never force a view change this way.
func (r *Replica) joinHigherView() {
	var target View
	count := 0
	for _, id := range sortedKeys(r.vcs) {
		if vc := r.vcs[id]; id != r.cfg.ID && vc.View > r.view {
			count++
			if target == 0 || vc.View < target {
				target = vc.View
			}
		}
	}
	if count >= r.weak() {
		r.startViewChange(target)
	}
}

// checkViewChangeQuorum acts on 2f+1 VIEW-CHANGEs for the view being
// changed to: start the timer for the NEW-VIEW (only now, so that slow
// replicas do not time out views that never had a chance) and, at the new
// primary, send the NEW-VIEW.
func (r *Replica) checkViewChangeQuorum() {
	if !r.changing || len(r.viewChangesFor(r.view)) < r.quorum() {
		return
	}
	if r.vcTimerView != r.view {
		r.vcTimerView = r.view
		r.setTimer(TimerRequest, r.viewChangeTimeout())
	}
	if r.isPrimary() && r.newViewSent != r.view {
		r.sendNewView()
	}
}

// viewChangesFor returns the logged VIEW-CHANGEs for view v, by replica.
func (r *Replica) viewChangesFor(v View) []*ViewChange {
	var out []*ViewChange
	for _, id := range sortedKeys(r.vcs) {
		if vc := r.vcs[id]; vc.View == v {
			out = append(out, vc)
		}
	}
	return out
}

// validViewChange verifies every proof inside a VIEW-CHANGE: C must prove
// the claimed stable checkpoint, and each element of P must be a real
// prepared certificate from an earlier view, inside the sender's watermarks,
// one per sequence number. (Signatures were checked by Authenticate.)
func (r *Replica) validViewChange(vc *ViewChange) bool {
	if vc.Stable%r.cfg.CheckpointInterval != 0 {
		return false
	}
	if vc.Stable == 0 {
		if len(vc.C) != 0 {
			return false
		}
	} else if _, ok := r.validCheckpointProof(vc.Stable, vc.C); !ok {
		return false
	}
	seen := map[Seq]bool{}
	for _, proof := range vc.P {
		if proof == nil || !r.validPreparedProof(proof, vc.View) {
			return false
		}
		n := proof.PrePrepare.Seq
		if n <= vc.Stable || n > vc.Stable+r.cfg.WatermarkWindow || seen[n] {
			return false
		}
		seen[n] = true
	}
	return true
}

// validPreparedProof checks that proof shows prepared(m, v, n) for a view v
// below newView: a pre-prepare from v's primary whose digest matches its
// batch, and 2f matching prepares from distinct backups.
func (r *Replica) validPreparedProof(proof *PreparedProof, newView View) bool {
	pp := proof.PrePrepare
	if pp == nil || pp.View >= newView || pp.Replica != primaryOf(pp.View, r.cfg.N) || !CheckBatchDigest(pp) {
		return false
	}
	seen := map[ReplicaID]bool{}
	for _, p := range proof.Prepares {
		if p == nil || p.View != pp.View || p.Seq != pp.Seq || p.Digest != pp.Digest ||
			p.Replica == pp.Replica || int(p.Replica) >= r.cfg.N || seen[p.Replica] {
			return false
		}
		seen[p.Replica] = true
	}
	return len(seen) >= r.preparedQuorum()
}
