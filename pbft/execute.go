package pbft

// Execution: committed batches run strictly in sequence-number order, each
// request at most once per client timestamp.

// execute runs every committed batch that directly follows the last executed
// sequence number.
func (r *Replica) execute() {
	executedRequest, ran := false, false
	for {
		s := r.log[r.lastExec+1]
		if s == nil || s.committed == nil {
			break
		}
		c := s.committed
		n := r.lastExec + 1
		ran = true
		skipped, any := r.executeBatch(n, c.prePrepare.Batch)
		executedRequest = executedRequest || any
		done := CommittedBatch{Seq: n, View: c.view, Digest: c.prePrepare.Digest, Batch: c.prePrepare.Batch, Skipped: skipped}
		r.out.Committed = append(r.out.Committed, done)
		r.out.Persist.Executed = append(r.out.Persist.Executed, done)
		if n%r.cfg.CheckpointInterval == 0 {
			r.takeCheckpoint(n)
		}
	}
	if !ran {
		return
	}
	if r.timerOn[TimerFetch] && r.lagTarget() <= r.lastExec {
		r.stopTimer(TimerFetch) // caught up by the normal case
	}
	if executedRequest && !r.changing {
		r.attempts = 0
	}
	r.restartRequestTimer()
	r.propose()
}

// executeBatch applies batch as sequence number n, replies to each client,
// and reports whether any request ran. Requests that already executed (a
// retransmission the primary proposed twice, or a duplicate inside the batch)
// are skipped, and their indexes returned: exactly-once.
func (r *Replica) executeBatch(n Seq, batch []*Request) (skipped []int, ran bool) {
	r.lastExec = n
	ops := make([]Operation, 0, len(batch))
	keys := make([]reqKey, 0, len(batch))
	seen := make(map[ClientID]uint64, len(batch))
	for i, req := range batch {
		k := keyOf(req)
		if r.clients.executed(k) {
			skipped = append(skipped, i)
			continue
		}
		if ts, ok := seen[k.client]; ok && k.ts <= ts {
			skipped = append(skipped, i)
			continue
		}
		seen[k.client] = k.ts
		ops = append(ops, Operation{Client: req.Client, Timestamp: req.Timestamp, Op: req.Op})
		keys = append(keys, k)
	}
	if len(ops) == 0 {
		return skipped, false
	}
	results := r.app.Execute(n, ops)
	for i, k := range keys {
		var result []byte
		if i < len(results) {
			result = results[i]
		}
		r.clients.record(k, result)
		delete(r.waiting, k)
		delete(r.queued, k)
		r.reply(k, result)
	}
	return skipped, true
}

// reply queues a signed REPLY to a client.
func (r *Replica) reply(k reqKey, result []byte) {
	// Signed with the step's other replies in takeReady.
	rep := &Reply{View: r.view, Timestamp: k.ts, Client: k.client, Replica: r.cfg.ID, Result: result}
	r.out.Replies = append(r.out.Replies, rep)
}

// restartRequestTimer applies the paper's timer rule (OSDI'99 4.5.2): the
// timer waits for one request; it stops when that request executes and
// nothing else is waiting, and restarts, for the oldest waiting request,
// when something is. Executing other requests does not restart it: a
// primary that orders everyone's requests but one must not keep the
// timer from ever expiring for that one.
func (r *Replica) restartRequestTimer() {
	if r.changing {
		return
	}
	if len(r.waiting) == 0 {
		r.stopTimer(TimerRequest)
		r.arrivals = r.arrivals[:0]
		return
	}
	if r.timerOn[TimerRequest] && r.waiting[r.timed] != nil {
		return // still waiting for the request it was started for
	}
	// wait records every waiting request in arrivals, and only keys no
	// longer waiting are dropped here, so the oldest waiting one remains.
	for r.waiting[r.arrivals[0]] == nil {
		r.arrivals = r.arrivals[1:]
	}
	r.timed = r.arrivals[0]
	r.setTimer(TimerRequest, r.viewChangeTimeout())
}
