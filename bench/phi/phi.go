// Package phi is the phi-accrual failure detector of Hayashibara, Défago,
// Yared and Katayama ("The φ accrual failure detector", SRDS 2004), in the
// form Akka uses: instead of a yes/no answer after a fixed timeout, it
// outputs φ = -log10(P(a heartbeat arrives later than now)), estimated from
// a window of recent inter-arrival times assumed normally distributed. A
// peer is suspected while φ exceeds a threshold; φ = 8 means the detector
// would be wrong about once in 10^8 such decisions if the model held.
//
// The detector is pure: it takes arrival times as durations since the
// start of a run and never reads a clock, so bftbed can run it after the
// fact over recorded heartbeats, in virtual time as well as real time.
package phi

import (
	"math"
	"time"
)

// Config holds the detector's parameters. A zero field takes its value
// from DefaultConfig, except AcceptablePause, whose zero is meaningful (and
// is the default).
type Config struct {
	// Threshold is the φ above which the peer is suspected.
	Threshold float64 `json:"threshold"`
	// MaxSamples is the window: how many recent inter-arrival intervals
	// the mean and standard deviation are estimated from.
	MaxSamples int `json:"max_samples"`
	// MinStdDev is a floor on the standard deviation, so that very regular
	// heartbeats do not make φ jump on the smallest delay.
	MinStdDev time.Duration `json:"min_std_dev_ns"`
	// AcceptablePause is added to the mean: a silence this much longer
	// than usual is tolerated before φ starts to climb (a GC pause, a
	// burst of load).
	AcceptablePause time.Duration `json:"acceptable_pause_ns"`
	// FirstHeartbeatEstimate seeds the window before real intervals are
	// known: two samples at mean ± mean/4, as Akka does.
	FirstHeartbeatEstimate time.Duration `json:"first_heartbeat_estimate_ns"`
}

// DefaultConfig returns Akka's parameters: threshold 8, a window of 1000
// intervals, a minimum standard deviation of 100 ms and a first estimate of
// 1 s. The acceptable pause defaults to 0, not to Akka cluster's 3 s:
// Akka sends one heartbeat a second, while bftbed treats every protocol
// message from a peer as a heartbeat, many a second under load, and the
// 100 ms floor on the deviation already absorbs their jitter (φ reaches 8
// about 0.5 s after the expected arrival). Raise it for idle-prone loads.
func DefaultConfig() Config {
	return Config{
		Threshold:              8,
		MaxSamples:             1000,
		MinStdDev:              100 * time.Millisecond,
		FirstHeartbeatEstimate: time.Second,
	}
}

// WithDefaults returns c with every unset field taken from DefaultConfig.
func (c Config) WithDefaults() Config {
	d := DefaultConfig()
	if c.Threshold <= 0 {
		c.Threshold = d.Threshold
	}
	if c.MaxSamples <= 0 {
		c.MaxSamples = d.MaxSamples
	}
	if c.MinStdDev <= 0 {
		c.MinStdDev = d.MinStdDev
	}
	if c.FirstHeartbeatEstimate <= 0 {
		c.FirstHeartbeatEstimate = d.FirstHeartbeatEstimate
	}
	if c.AcceptablePause < 0 {
		c.AcceptablePause = 0
	}
	return c
}

// Detector watches one peer from one observer. The zero value is not
// usable; call New.
type Detector struct {
	cfg     Config
	window  window
	last    time.Duration // arrival time of the latest heartbeat
	started bool          // a heartbeat has arrived
}

// New returns a detector with cfg (unset fields defaulted) that has seen
// no heartbeat yet.
func New(cfg Config) *Detector {
	return &Detector{cfg: cfg.WithDefaults()}
}

// Config returns the detector's parameters, defaults filled in.
func (d *Detector) Config() Config { return d.cfg }

// Heartbeat records a heartbeat that arrived at time at. Arrivals must be
// given in non-decreasing order; an earlier one is ignored.
//
// As in Akka, the interval that ends a period of suspicion is not added to
// the window: one long outage would otherwise inflate the mean and the
// deviation, and slow down detection of the next one.
func (d *Detector) Heartbeat(at time.Duration) {
	if !d.started {
		d.started = true
		d.last = at
		est := float64(d.cfg.FirstHeartbeatEstimate)
		d.window = newWindow(d.cfg.MaxSamples)
		d.window.add(est - est/4)
		d.window.add(est + est/4)
		return
	}
	if at < d.last {
		return
	}
	if d.Available(at) {
		d.window.add(float64(at - d.last))
	}
	d.last = at
}

// Phi returns φ at time now: 0 before the first heartbeat (nothing is
// known, so nothing is suspected), then growing with the silence since the
// latest heartbeat. It may be +Inf when the silence is far beyond the
// distribution.
func (d *Detector) Phi(now time.Duration) float64 {
	if !d.started {
		return 0
	}
	return phi(float64(now-d.last), d.meanAdjusted(), d.stdDev())
}

// Available reports whether the peer is trusted at time now: φ is at most
// the threshold.
func (d *Detector) Available(now time.Duration) bool {
	return d.Phi(now) <= d.cfg.Threshold
}

// SuspectAt returns the earliest time, if no further heartbeat arrives,
// at which φ exceeds the threshold. It returns false before the first
// heartbeat. φ grows monotonically with the silence, so the crossing point
// is found by bisection; this lets a caller replay recorded arrivals and
// learn exactly when suspicion began inside a gap, without sampling φ on a
// grid.
func (d *Detector) SuspectAt() (time.Duration, bool) {
	if !d.started {
		return 0, false
	}
	mean, std := d.meanAdjusted(), d.stdDev()
	lo, hi := 0.0, mean+64*std // φ is +Inf long before 64 deviations
	for hi-lo > float64(time.Microsecond) {
		mid := (lo + hi) / 2
		if phi(mid, mean, std) > d.cfg.Threshold {
			hi = mid
		} else {
			lo = mid
		}
	}
	return d.last + time.Duration(math.Ceil(hi)), true
}

func (d *Detector) meanAdjusted() float64 {
	return d.window.mean() + float64(d.cfg.AcceptablePause)
}

func (d *Detector) stdDev() float64 {
	return math.Max(d.window.stdDev(), float64(d.cfg.MinStdDev))
}

// phi is Akka's formula: the logistic approximation of the normal CDF's
// complement, -log10(1 - F(elapsed)), with F the CDF of N(mean, std²). The
// two branches compute the same value; each is the numerically stable form
// on its side of the mean.
func phi(elapsed, mean, std float64) float64 {
	y := (elapsed - mean) / std
	e := math.Exp(-y * (1.5976 + 0.070566*y*y))
	if elapsed > mean {
		return -math.Log10(e / (1 + e))
	}
	return -math.Log10(1 - 1/(1+e))
}
