package bench

import (
	"testing"
	"time"

	"github.com/bftbed/bftbed/bench/load"
	"github.com/bftbed/bftbed/crypto"
	"github.com/bftbed/bftbed/pbft"
)

func TestClusterName(t *testing.T) {
	for name, want := range map[string]string{
		"default":                 "bench-default-7",
		"a b/c":                   "bench-a-b-c-7",
		"..":                      "bench-scenario-7",
		string(make([]byte, 100)): "bench-scenario-7",
	} {
		if got := clusterName(name, 7); got != want {
			t.Errorf("clusterName(%q) = %q, want %q", name, got, want)
		}
	}
	if got := clusterName("x123456789012345678901234567890123456789012345678901234567890", 42); len(got) > 64 {
		t.Errorf("%q is longer than 64", got)
	}
}

func TestHistoryFromLoad(t *testing.T) {
	key := crypto.DeriveKey([]byte("t"), "client").Public()
	t0 := time.Now()
	target := newBenchTarget(nil, 1, 10*time.Millisecond)
	// Three measured calls: two sent (the second failed), one never sent.
	target.record(0, callRecord{sent: true, end: t0.Add(40 * time.Millisecond)})
	target.record(0, callRecord{sent: true, end: t0.Add(90 * time.Millisecond)})
	target.record(0, callRecord{end: t0.Add(95 * time.Millisecond)})
	lr := &load.Result{
		Start:     t0.Add(5 * time.Millisecond),
		ClientIDs: []string{key.Hex()},
		History: []load.Record{
			{Client: 0, Timestamp: 1, Kind: KindPut, Key: "k1", Value: "v", Start: 10 * time.Millisecond, End: 45 * time.Millisecond, OK: true, Result: &load.OpResult{OK: true}},
			{Client: 0, Timestamp: 2, Kind: KindGet, Key: "k1", Start: 50 * time.Millisecond, End: 95 * time.Millisecond, Error: "no result"},
			{Client: 0, Kind: KindGet, Key: "k2", Start: 96 * time.Millisecond, End: 96 * time.Millisecond, Error: "interrupted"},
		},
	}
	h := historyFromLoad(lr, t0, target)
	if len(h) != 2 {
		t.Fatalf("%d operations, want 2 (the unsent one left out): %+v", len(h), h)
	}
	first := h[0]
	if first.Client != ClientName(pbft.ClientID(key)) || first.Start != 15*time.Millisecond || first.End != 40*time.Millisecond || !first.Completed || !first.Output.OK {
		t.Errorf("first operation %+v", first)
	}
	if h[1].Completed || h[1].End != 0 || h[1].Timestamp != 2 {
		t.Errorf("failed operation %+v", h[1])
	}
}

func TestCutShort(t *testing.T) {
	res := &Result{Scenario: Scenario{Duration: 20 * time.Second}, Faults: []FaultWindow{
		{Behaviour: "a", From: 2 * time.Second, Until: 4 * time.Second},
		{Behaviour: "b", From: 5 * time.Second, Until: 9 * time.Second},
		{Behaviour: "c", From: 11 * time.Second},
	}}
	cutShort(res, 6*time.Second)
	if res.Scenario.Duration != 6*time.Second || len(res.Faults) != 2 || res.Faults[0].Until != 4*time.Second || res.Faults[1].Until != 0 {
		t.Errorf("cut: %+v", res)
	}
}

func TestTrimSamples(t *testing.T) {
	res := &Result{Scenario: Scenario{Duration: time.Second}, SampleInterval: 300 * time.Millisecond}
	for at := 300 * time.Millisecond; at <= 1500*time.Millisecond; at += 300 * time.Millisecond {
		res.Samples = append(res.Samples, Sample{At: at})
	}
	trimSamples(res)
	if n := len(res.Samples); n != 4 || res.Samples[n-1].At != 1200*time.Millisecond {
		t.Errorf("kept %+v, want up to the interval holding 1s", res.Samples)
	}
}
