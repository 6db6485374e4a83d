package bench

import (
	"testing"
	"time"

	"github.com/bftbed/bftbed/pbft"
)

func TestDetectionSynthetic(t *testing.T) {
	r := synthetic(t)
	d := DetectFailures(r)
	if d.Config.Threshold != 8 || d.Config.MaxSamples != 1000 {
		t.Fatalf("config %+v", d.Config)
	}
	seen := map[[3]int]Suspicion{}
	for _, s := range d.Suspicions {
		seen[[3]int{s.Fault, int(s.Suspect), int(s.Observer)}] = s
	}
	// The crash of n3 is noticed by all three others, about half a
	// second in (20 ms heartbeats, 100 ms deviation floor).
	for _, obs := range []int{0, 1, 2} {
		sus, ok := seen[[3]int{0, 3, obs}]
		if !ok || !sus.Detected {
			t.Errorf("n%d did not suspect crashed n3: %+v", obs, sus)
			continue
		}
		if sus.After < 300*ms || sus.After > 900*ms || sus.At != 15*s+sus.After {
			t.Errorf("n%d suspected n3 at %v (+%v), want about +0.5s", obs, sus.At, sus.After)
		}
	}
	// The equivocating primary keeps talking: not suspected.
	for _, obs := range []int{1, 2, 3} {
		if sus, ok := seen[[3]int{1, 0, obs}]; !ok || sus.Detected {
			t.Errorf("n%d and equivocating n0: %+v (present %v)", obs, sus, ok)
		}
	}
	if len(d.Suspicions) != 6 {
		t.Errorf("%d suspicion rows, want 6", len(d.Suspicions))
	}
	if len(d.FalseSuspicions) != 0 {
		t.Errorf("false suspicions %+v", d.FalseSuspicions)
	}
}

func TestDetectionFalseSuspicion(t *testing.T) {
	// n1 hears from n2 every 20 ms except for a 3 s silence at 10s that
	// no fault explains.
	h := Heartbeats{Observer: 1, Peer: 2}
	for at := time.Duration(0); at < 30*s; at += 20 * ms {
		if at < 10*s || at > 13*s {
			h.Arrivals = append(h.Arrivals, at)
		}
	}
	r := &Result{Scenario: Scenario{N: 4, Duration: 30 * s}, Heartbeats: []Heartbeats{h}}
	d := DetectFailures(r)
	if len(d.FalseSuspicions) != 1 {
		t.Fatalf("%+v", d.FalseSuspicions)
	}
	fs := d.FalseSuspicions[0]
	if fs.Observer != 1 || fs.Peer != 2 || fs.Count != 1 || fs.First < 10*s || fs.First > 11*s {
		t.Fatalf("%+v", fs)
	}
	// The same silence inside a fault window on n2 is a detection.
	r.Faults = []FaultWindow{{Behaviour: "pause", Nodes: []pbft.ReplicaID{2}, From: 10 * s, Until: 13 * s}}
	d = DetectFailures(r)
	if len(d.FalseSuspicions) != 0 {
		t.Fatalf("%+v", d.FalseSuspicions)
	}
	found := false
	for _, sus := range d.Suspicions {
		if sus.Observer == 1 && sus.Suspect == 2 {
			found = sus.Detected && sus.After > 0 && sus.After < time.Second
		}
	}
	if !found {
		t.Fatalf("%+v", d.Suspicions)
	}
}

func TestDetectionAcceptablePause(t *testing.T) {
	h := Heartbeats{Observer: 0, Peer: 1}
	for at := time.Duration(0); at < 10*s; at += 20 * ms {
		h.Arrivals = append(h.Arrivals, at)
	}
	r := &Result{
		Scenario:   Scenario{N: 4, Duration: 20 * s},
		Faults:     []FaultWindow{{Behaviour: "crash", Nodes: []pbft.ReplicaID{1}, From: 10 * s}},
		Heartbeats: []Heartbeats{h},
	}
	fast := DetectFailures(r).Suspicions
	r.Detector.AcceptablePause = 2 * s
	slow := DetectFailures(r).Suspicions
	if len(fast) != 1 || len(slow) != 1 || !fast[0].Detected || !slow[0].Detected {
		t.Fatalf("%+v %+v", fast, slow)
	}
	if d := slow[0].After - fast[0].After; d < 1900*ms || d > 2100*ms {
		t.Fatalf("acceptable pause of 2s delayed detection by %v", d)
	}
}
