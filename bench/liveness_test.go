package bench

import (
	"strings"
	"testing"
	"time"

	"github.com/bftbed/bftbed/pbft"
)

// stallRun is 4 nodes over 30 one-second intervals committing 100
// requests per interval each, except that a fault on n0 (the primary)
// from 10s to 15s stops everything; the others change to view 1 at 13s,
// and throughput comes back at half rate at 16s and 17s, fully at 18s.
func stallRun() *Result {
	r := &Result{
		Scenario:       Scenario{Name: "stall", Mode: ModeSim, N: 4, F: 1, Duration: 30 * s},
		Faults:         []FaultWindow{{Behaviour: "stall", Nodes: []pbft.ReplicaID{0}, From: 10 * s, Until: 15 * s}},
		SampleInterval: s,
	}
	for k := 1; k <= 30; k++ {
		at := time.Duration(k) * s
		for id := pbft.ReplicaID(0); id < 4; id++ {
			sm := Sample{At: at, Node: id, Committed: 100, MsgsSent: 1000, BytesSent: 100000}
			switch {
			case k > 10 && k <= 15:
				sm.Committed = 0
			case k == 16 || k == 17:
				sm.Committed = 50
			}
			if k > 10 && k <= 12 && id != 0 {
				sm.ViewChanging = true
			}
			if k >= 13 {
				sm.View = 1
			}
			r.Samples = append(r.Samples, sm)
		}
	}
	return r
}

func TestLivenessRecoveryNumbers(t *testing.T) {
	r := stallRun()
	r.Expect.RecoverWithin = 5 * s
	l := MeasureLiveness(r)
	if len(l.Faults) != 1 {
		t.Fatalf("faults %+v", l.Faults)
	}
	fr := l.Faults[0]
	if fr.Baseline != 100 || fr.During != 0 {
		t.Errorf("baseline %v during %v, want 100 and 0", fr.Baseline, fr.During)
	}
	if fr.NextCommit == nil || *fr.NextCommit != 1*s {
		t.Errorf("next commit %v, want 1s (the interval ending at 16s)", fmtDurPtr(fr.NextCommit))
	}
	if fr.Recovered == nil || *fr.Recovered != 3*s {
		t.Errorf("recovered %v, want 3s (the interval ending at 18s)", fmtDurPtr(fr.Recovered))
	}
	if fr.Met == nil || !*fr.Met {
		t.Errorf("met %v, want true", fr.Met)
	}
	if len(l.ViewChanges) != 1 {
		t.Fatalf("view changes %+v, want 1", l.ViewChanges)
	}
	vc := l.ViewChanges[0]
	if vc.Start != 10*s || vc.End != 13*s || vc.FromView != 0 || vc.ToView != 1 || !vc.Completed {
		t.Errorf("view change %+v, want 10s–13s, 0 → 1", vc)
	}
	if l.MaxView != 1 || l.ViewChangeTime != 3*s {
		t.Errorf("max view %d, time %v", l.MaxView, l.ViewChangeTime)
	}
	if v := LivenessVerdict(r, l); !v.Pass || !strings.Contains(v.Summary, "slowest recovery 3s") {
		t.Errorf("verdict %+v", v)
	}
}

func TestLivenessRecoveryTooSlow(t *testing.T) {
	r := stallRun()
	r.Expect.RecoverWithin = 2 * s
	Check(r, CheckOptions{})
	v, _ := r.Verdict(CheckLiveness)
	if v.Pass {
		t.Fatalf("recovery in 3s passed a 2s bound: %+v", v)
	}
	if !strings.Contains(v.Details[0], "stall n0: throughput recovered after 3s, expected within 2s") {
		t.Errorf("details %q", v.Details)
	}
	if !r.Failed() {
		t.Error("run not failed")
	}
}

func TestLivenessNoProgressAfterFault(t *testing.T) {
	r := stallRun()
	for i := range r.Samples {
		if r.Samples[i].At > 10*s {
			r.Samples[i].Committed = 0
		}
	}
	l := MeasureLiveness(r)
	if fr := l.Faults[0]; fr.NextCommit != nil || fr.Recovered != nil {
		t.Fatalf("%+v", fr)
	}
	v := LivenessVerdict(r, l)
	if v.Pass || !strings.Contains(v.Summary, "nothing committed after it ended at 15s") {
		t.Fatalf("%+v", v)
	}
}

func TestLivenessUsesHistoryForNextCommit(t *testing.T) {
	r := stallRun()
	r.History = []Op{
		{Client: "c", Kind: KindGet, Key: "k", Start: 14 * s, End: 15*s + 120*ms, Completed: true},
		{Client: "c", Kind: KindGet, Key: "k", Start: 15 * s, End: 15*s + 300*ms, Completed: true},
	}
	fr := MeasureLiveness(r).Faults[0]
	if fr.NextCommit == nil || *fr.NextCommit != 120*ms {
		t.Fatalf("next commit %v, want 120ms", fmtDurPtr(fr.NextCommit))
	}
}

func TestSyntheticLiveness(t *testing.T) {
	r := synthetic(t)
	l := MeasureLiveness(r)
	if len(l.Faults) != 2 {
		t.Fatalf("%+v", l.Faults)
	}
	for _, fr := range l.Faults {
		if fr.NextCommit == nil || *fr.NextCommit > 200*ms {
			t.Errorf("%s: next commit %v", fr.Label, fmtDurPtr(fr.NextCommit))
		}
		if fr.Recovered == nil || *fr.Recovered > s {
			t.Errorf("%s: recovered %v", fr.Label, fmtDurPtr(fr.Recovered))
		}
		if fr.Baseline < 100 {
			t.Errorf("%s: baseline %.1f req/s", fr.Label, fr.Baseline)
		}
	}
	// The stall: three of ten intervals without commits.
	if eq := l.Faults[1]; eq.During > 0.8*eq.Baseline || eq.During < 0.5*eq.Baseline {
		t.Errorf("equivocation: during %.1f, baseline %.1f", eq.During, eq.Baseline)
	}
	if len(l.ViewChanges) != 1 || l.ViewChanges[0].ToView != 1 {
		t.Errorf("view changes %+v", l.ViewChanges)
	}
}

func TestCost(t *testing.T) {
	r := stallRun()
	for i := 1; i <= 100; i++ {
		r.History = append(r.History, Op{Client: "c", Kind: KindGet, Key: "k", Start: time.Duration(i) * s / 10, End: time.Duration(i)*s/10 + time.Duration(i)*ms, Completed: true})
	}
	r.History = append(r.History, Op{Client: "c", Kind: KindGet, Key: "k", Start: 29 * s})
	r.Samples[0].CPUSeconds, r.Samples[0].RSSBytes = 1.5, 64<<20
	c := MeasureCost(r)
	// Each node: 23 full intervals of 100 and two of 50.
	if c.CommittedRequests != 2400 || c.Throughput != 80 {
		t.Errorf("committed %d, throughput %.1f; want 2400 and 80", c.CommittedRequests, c.Throughput)
	}
	if c.Latency.P50 != 50*ms || c.Latency.P95 != 95*ms || c.Latency.P99 != 99*ms || c.Latency.Max != 100*ms {
		t.Errorf("latency %+v", c.Latency)
	}
	if c.Completed != 100 || c.Incomplete != 1 {
		t.Errorf("completed %d incomplete %d", c.Completed, c.Incomplete)
	}
	if want := float64(4*30*1000) / 2400; c.MsgsPerReq != want {
		t.Errorf("msgs/req %v, want %v", c.MsgsPerReq, want)
	}
	if n := c.Nodes[0]; n.CPUSeconds != 1.5 || n.PeakRSS != 64<<20 || n.CPUPerReq != 1.5/2400 {
		t.Errorf("node 0 %+v", n)
	}
	if n := c.Nodes[1]; n.CPUSeconds != 0 || n.PeakRSS != 0 {
		t.Errorf("node 1 %+v", n)
	}
}

func TestPercentileNearestRank(t *testing.T) {
	l := []time.Duration{1, 2, 3, 4}
	for _, c := range []struct {
		q    float64
		want time.Duration
	}{{0, 1}, {0.25, 1}, {0.5, 2}, {0.51, 3}, {0.99, 4}, {1, 4}} {
		if got := percentile(l, c.q); got != c.want {
			t.Errorf("percentile %.2f = %v, want %v", c.q, got, c.want)
		}
	}
	if percentile(nil, 0.5) != 0 {
		t.Error("empty")
	}
}

// TestLivenessMaxWait: with max_wait set, one starved operation fails the
// verdict however well throughput did, and so does one still outstanding
// at the end that has waited too long.
func TestLivenessMaxWait(t *testing.T) {
	r := stallRun()
	r.Expect.RecoverWithin = 5 * s
	r.History = []Op{
		{Client: "a", Kind: KindPut, Key: "k", Start: 1 * s, End: 1*s + 5*ms, Completed: true},
		{Client: "b", Kind: KindPut, Key: "k", Start: 2 * s, End: 9 * s, Completed: true},
		{Client: "a", Kind: KindGet, Key: "k", Start: 16 * s, End: 16*s + 5*ms, Completed: true},
	}
	if v := LivenessVerdict(r, MeasureLiveness(r)); !v.Pass {
		t.Fatalf("no bound: %+v", v)
	}
	r.Expect.MaxWait = 6 * s
	v := LivenessVerdict(r, MeasureLiveness(r))
	if v.Pass || !strings.Contains(v.Summary, `client b's Put of "k", sent at 2s, accepted after 7s`) {
		t.Fatalf("a 7s wait passed a 6s bound: %+v", v)
	}
	r.History[1].End = 7 * s
	if v := LivenessVerdict(r, MeasureLiveness(r)); !v.Pass || !strings.Contains(v.Summary, "no operation waited over 6s") {
		t.Fatalf("a 5s wait: %+v", v)
	}
	r.History = append(r.History, Op{Client: "c", Kind: KindGet, Key: "k", Start: 20 * s})
	if v := LivenessVerdict(r, MeasureLiveness(r)); v.Pass || !strings.Contains(v.Summary, "still waiting at the end, after 10s") {
		t.Fatalf("an operation outstanding for 10s: %+v", v)
	}
}
