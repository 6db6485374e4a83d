package phi

import (
	"math"
	"testing"
	"time"
)

const ms = time.Millisecond

// regular feeds heartbeats every interval from start to end (inclusive).
func regular(d *Detector, start, end, interval time.Duration) {
	for t := start; t <= end; t += interval {
		d.Heartbeat(t)
	}
}

func TestPhiZeroBeforeFirstHeartbeat(t *testing.T) {
	d := New(Config{})
	if p := d.Phi(time.Hour); p != 0 {
		t.Fatalf("phi before any heartbeat = %v, want 0", p)
	}
	if _, ok := d.SuspectAt(); ok {
		t.Fatal("SuspectAt before any heartbeat reported a time")
	}
}

func TestPhiStaysLowWithRegularHeartbeats(t *testing.T) {
	d := New(Config{})
	for t0 := time.Duration(0); t0 <= 30*time.Second; t0 += 100 * ms {
		d.Heartbeat(t0)
		// Just before the next heartbeat is due, the peer must be
		// trusted: regular heartbeats never raise suspicion.
		if p := d.Phi(t0 + 99*ms); p > 1 {
			t.Fatalf("phi at %v with regular 100ms heartbeats = %.2f, want < 1", t0+99*ms, p)
		}
	}
}

func TestPhiRisesWhenHeartbeatsStop(t *testing.T) {
	d := New(Config{})
	regular(d, 0, 10*time.Second, 100*ms)
	last := 10 * time.Second
	prev := d.Phi(last)
	for dt := 50 * ms; dt <= 3*time.Second; dt += 50 * ms {
		p := d.Phi(last + dt)
		if p < prev {
			t.Fatalf("phi fell from %.3f to %.3f at +%v", prev, p, dt)
		}
		prev = p
	}
	if d.Available(last + 3*time.Second) {
		t.Fatalf("peer silent for 3s after 100ms heartbeats still trusted (phi %.2f)", prev)
	}
	at, ok := d.SuspectAt()
	if !ok {
		t.Fatal("no suspicion time")
	}
	// With mean 100ms and the 100ms deviation floor, φ = 8 needs
	// about 5.2 deviations: ~0.6s after the last heartbeat.
	if gap := at - last; gap < 400*ms || gap > 900*ms {
		t.Fatalf("suspected %v after the last heartbeat, want about 0.6s", gap)
	}
	if d.Phi(at) <= 8 || d.Phi(at-time.Millisecond) > 8 {
		t.Fatalf("SuspectAt %v is not the crossing point: phi(at)=%.3f phi(at-1ms)=%.3f", at, d.Phi(at), d.Phi(at-time.Millisecond))
	}
}

func TestAcceptablePauseDelaysSuspicion(t *testing.T) {
	plain := New(Config{})
	paused := New(Config{AcceptablePause: 2 * time.Second})
	regular(plain, 0, 10*time.Second, 100*ms)
	regular(paused, 0, 10*time.Second, 100*ms)
	a, _ := plain.SuspectAt()
	b, _ := paused.SuspectAt()
	if diff := b - a; diff < 2*time.Second-10*ms || diff > 2*time.Second+10*ms {
		t.Fatalf("acceptable pause of 2s moved suspicion by %v, want 2s", diff)
	}
	// A 1.5s silence is within the acceptable pause.
	if !paused.Available(10*time.Second + 1500*ms) {
		t.Fatalf("1.5s silence suspected despite a 2s acceptable pause (phi %.2f)", paused.Phi(10*time.Second+1500*ms))
	}
	if plain.Available(10*time.Second + 1500*ms) {
		t.Fatal("1.5s silence trusted without an acceptable pause")
	}
}

func TestFirstHeartbeatEstimate(t *testing.T) {
	// After a single heartbeat only the seed estimate (1s ± 250ms) is
	// known: a 1s silence is normal, a 5s one is not.
	d := New(Config{})
	d.Heartbeat(0)
	if !d.Available(time.Second) {
		t.Fatalf("1s after the first heartbeat suspected (phi %.2f)", d.Phi(time.Second))
	}
	if d.Available(5 * time.Second) {
		t.Fatalf("5s after the first heartbeat trusted (phi %.2f)", d.Phi(5*time.Second))
	}
}

func TestOutageIntervalNotLearned(t *testing.T) {
	// The interval that ends a suspicion is not added to the window, so
	// a second outage is detected as fast as the first.
	d := New(Config{})
	regular(d, 0, 10*time.Second, 100*ms)
	first, _ := d.SuspectAt()
	firstGap := first - 10*time.Second
	regular(d, 20*time.Second, 30*time.Second, 100*ms) // 10s outage, then recovery
	second, _ := d.SuspectAt()
	if gap := second - 30*time.Second; gap > firstGap+50*ms {
		t.Fatalf("after an outage detection takes %v, before it %v", gap, firstGap)
	}
}

func TestWindowBounded(t *testing.T) {
	d := New(Config{MaxSamples: 10})
	// Slow heartbeats, then many fast ones: with a window of 10 the slow
	// past is forgotten and the mean follows the fast rate.
	regular(d, 0, 10*time.Second, time.Second)
	regular(d, 10*time.Second+10*ms, 11*time.Second, 10*ms)
	if m := time.Duration(d.window.mean()); m < 9*ms || m > 11*ms {
		t.Fatalf("mean over the window = %v, want 10ms", m)
	}
	if d.window.size != 10 {
		t.Fatalf("window holds %d samples, want 10", d.window.size)
	}
}

func TestPhiFormula(t *testing.T) {
	// At the mean φ = -log10(0.5); far beyond it φ is large.
	if p := phi(100, 100, 10); math.Abs(p-math.Log10(2)) > 1e-9 {
		t.Fatalf("phi at the mean = %v, want %v", p, math.Log10(2))
	}
	if p := phi(200, 100, 10); p < 30 {
		t.Fatalf("phi 10 deviations out = %v, want large", p)
	}
}

func TestDefaults(t *testing.T) {
	c := Config{AcceptablePause: time.Second}.WithDefaults()
	if c.Threshold != 8 || c.MaxSamples != 1000 || c.MinStdDev != 100*ms || c.FirstHeartbeatEstimate != time.Second || c.AcceptablePause != time.Second {
		t.Fatalf("defaults: %+v", c)
	}
}
