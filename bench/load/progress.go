package load

import (
	"sync/atomic"
	"time"
)

// Progress is a snapshot of a running load, for a live display.
type Progress struct {
	// Elapsed is the time since the run started; Duration the configured
	// length of the run.
	Elapsed, Duration time.Duration
	// Committed and Errors count completed and failed operations so far;
	// InFlight those outstanding now.
	Committed, Errors, InFlight int64
	// Rate is the committed operations per second over about the last
	// second.
	Rate float64
	// Draining is set once no more operations are issued and the run
	// waits for those in flight; Done on the last call.
	Draining, Done bool
}

// counters are the live totals, updated by the workers.
type counters struct {
	committed, errors, inFlight atomic.Int64
}

// rateWindow is the span over which Progress.Rate is measured.
const rateWindow = time.Second

// meter turns successive counter readings into a recent rate. It keeps
// readings from the last rateWindow in a ring, so the rate neither jumps
// with each tick nor lags by the whole run.
type meter struct {
	at        []time.Duration
	committed []int64
}

// observe records a reading and returns the rate since the oldest reading
// still inside the window.
func (m *meter) observe(at time.Duration, committed int64) float64 {
	m.at = append(m.at, at)
	m.committed = append(m.committed, committed)
	// Keep one reading at or before the window's start, so the rate
	// always spans about rateWindow once the run is that old.
	for len(m.at) > 2 && at-m.at[1] >= rateWindow {
		m.at, m.committed = m.at[1:], m.committed[1:]
	}
	dt := at - m.at[0]
	if dt <= 0 {
		return 0
	}
	return float64(committed-m.committed[0]) / dt.Seconds()
}
