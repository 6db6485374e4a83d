package pbft

import "time"

// timerFire is the expiry of the core's timer Kind armed at generation Gen.
type timerFire struct {
	kind TimerKind
	gen  uint64
}

// nodeTimers holds the core's armed timers. Only the core goroutine (and
// StartNode, before it starts) touches it.
type nodeTimers struct {
	node *Node
	t    [numTimers]*time.Timer
}

// apply carries out a step's timer commands. Only the last command of each
// kind matters (each replaces the earlier ones), so a merged group that arms
// the batch timer many times creates one timer.
//
// Each arming gets its own time.AfterFunc that carries its generation: a
// timer that fired just as it was re-armed then posts its own, stale,
// generation, which the core ignores. Re-using one timer with a shared
// generation would instead fire the new arming early.
func (ts *nodeTimers) apply(cmds []TimerCmd) {
	var seen [numTimers]bool
	for i := len(cmds) - 1; i >= 0; i-- {
		c := cmds[i]
		if c.Kind >= numTimers || seen[c.Kind] {
			continue
		}
		seen[c.Kind] = true
		if t := ts.t[c.Kind]; t != nil {
			t.Stop()
			ts.t[c.Kind] = nil
		}
		if c.After > 0 {
			f := timerFire{kind: c.Kind, gen: c.Gen}
			n := ts.node
			after := c.After
			if scale := n.cfg.TimerScale; scale != nil {
				if s := scale(); s > 0 {
					after = time.Duration(float64(after) * s)
				}
			}
			ts.t[c.Kind] = time.AfterFunc(after, func() { n.post(f) })
		}
	}
}

// stopAll stops every armed timer.
func (ts *nodeTimers) stopAll() {
	for k, t := range ts.t {
		if t != nil {
			t.Stop()
			ts.t[k] = nil
		}
	}
}

// post hands a timer expiry to the core goroutine, or drops it if the Node
// is stopping.
func (n *Node) post(f timerFire) {
	select {
	case n.fires <- f:
	case <-n.quit:
	}
}
