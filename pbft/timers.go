package pbft

import "time"

// Fire steps the core with the expiry of timer kind armed at generation gen.
// A fire from an older arming, or of a stopped timer, does nothing.
func (r *Replica) Fire(kind TimerKind, gen uint64) Ready {
	if kind >= numTimers || gen != r.timerGen[kind] || !r.timerOn[kind] {
		return Ready{}
	}
	r.timerOn[kind] = false
	switch kind {
	case TimerBatch:
		r.batchDue, r.batchSoon = true, false
		r.propose()
	case TimerRequest:
		r.onRequestTimeout()
	case TimerFetch:
		r.onFetchTimeout()
	}
	return r.takeReady()
}

// setTimer arms kind to fire after d, replacing any earlier arming.
func (r *Replica) setTimer(kind TimerKind, d time.Duration) {
	r.timerGen[kind]++
	r.timerOn[kind] = true
	r.out.Timers = append(r.out.Timers, TimerCmd{Kind: kind, Gen: r.timerGen[kind], After: d})
}

// stopTimer disarms kind if it is armed.
func (r *Replica) stopTimer(kind TimerKind) {
	if !r.timerOn[kind] {
		return
	}
	r.timerGen[kind]++
	r.timerOn[kind] = false
	r.out.Timers = append(r.out.Timers, TimerCmd{Kind: kind, Gen: r.timerGen[kind]})
}

// viewChangeTimeout is T doubled for each successive view change that did
// not lead to a new request executing (the paper's exponential back-off).
func (r *Replica) viewChangeTimeout() time.Duration {
	return r.cfg.RequestTimeout << min(r.attempts, 10)
}
