package sim

// scheduleCrashes plans the crash faults of the fault window: at random
// times a random running replica crashes, as long as fewer than
// Options.Crashes are down, and restarts after a random downtime, or when
// the window ends.
func (s *Simulator) scheduleCrashes() {
	if s.opts.Crashes == 0 {
		return
	}
	window := int64(s.opts.FaultEnd - s.opts.FaultStart)
	if window <= 0 {
		return
	}
	var tick func()
	tick = func() {
		if !s.inFaultWindow() {
			return
		}
		down := 0
		for _, n := range s.nodes {
			if !n.up() || n.crashMidStep {
				down++
			}
		}
		if down < s.opts.Crashes {
			n := s.nodes[s.rng.IntN(len(s.nodes))]
			if n.up() && !n.crashMidStep {
				if s.opts.CrashAfterPersist > 0 && s.rng.Float64() < s.opts.CrashAfterPersist {
					// The crash strikes inside the replica's next step.
					n.crashMidStep = true
				} else {
					n.crash()
				}
				downtime := s.int63n(window / 2)
				end := int64(s.opts.FaultEnd) - s.sched.now
				s.sched.after(min(downtime, end), func() {
					if n.up() {
						n.crash() // it did not step since: crash it now
					}
					n.restart()
				})
			}
		}
		s.sched.after(s.int63n(window/4)+1, tick)
	}
	s.sched.after(int64(s.opts.FaultStart)+s.int63n(window/4), tick)
}
