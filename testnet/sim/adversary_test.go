package sim

import (
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/bftbed/bftbed/adversary"
	"github.com/bftbed/bftbed/pbft"
)

// faultOptions is a run with a clean network and no random crashes: the
// only faults are the given ones, active from 500ms to 2.5s.
func faultOptions(t *testing.T, n int, faults ...adversary.Fault) Options {
	t.Helper()
	o := DefaultOptions(7, n)
	o.Mix = "test"
	o.Crashes = 0
	o.FaultNet = o.Net
	o.FaultStart, o.FaultEnd = 500*time.Millisecond, 2500*time.Millisecond
	for i := range faults {
		if faults[i].From == 0 && faults[i].Until == 0 {
			faults[i].From, faults[i].Until = o.FaultStart, o.FaultEnd
		}
	}
	o.Faults = faults
	return o
}

func run(t *testing.T, o Options) *Result {
	t.Helper()
	res, err := Run(o)
	if err != nil {
		t.Fatal(err)
	}
	t.Log(res.Summary())
	return res
}

// mustHold checks that safety held and the cluster made progress after
// the faults.
func mustHold(t *testing.T, res *Result) {
	t.Helper()
	for _, v := range res.Violations {
		t.Errorf("%s", v)
	}
	if !res.Progress {
		t.Errorf("no progress after the faults stopped")
	}
}

func nodes(ids ...pbft.ReplicaID) []pbft.ReplicaID { return ids }

func TestEquivocatingPrimaryLeadsToViewChange(t *testing.T) {
	res := run(t, faultOptions(t, 4, adversary.Fault{Nodes: nodes(0), Behaviour: &adversary.Equivocate{Other: nodes(2, 3)}}))
	mustHold(t, res)
	if res.Stats.MaxView == 0 {
		t.Errorf("no view change: the equivocating primary stayed in charge")
	}
}

func TestEquivocatingBackupChangesNothing(t *testing.T) {
	res := run(t, faultOptions(t, 4, adversary.Fault{Nodes: nodes(2), Behaviour: &adversary.Equivocate{Other: nodes(3)}}))
	mustHold(t, res)
}

func TestEquivocatingPrimaryAtN7(t *testing.T) {
	res := run(t, faultOptions(t, 7,
		adversary.Fault{Nodes: nodes(0), Behaviour: &adversary.Equivocate{Other: nodes(4, 5, 6)}},
		adversary.Fault{Nodes: nodes(1), Behaviour: &adversary.Equivocate{Other: nodes(4, 5, 6)}}))
	mustHold(t, res)
}

func TestSilentPrimaryIsReplaced(t *testing.T) {
	for _, onlyPrimary := range []bool{false, true} {
		o := faultOptions(t, 4, adversary.Fault{Nodes: nodes(0), Behaviour: &adversary.Silent{OnlyAsPrimary: onlyPrimary}})
		res := run(t, o)
		mustHold(t, res)
		if len(res.Stats.NewViews) == 0 {
			t.Fatalf("silent primary never replaced")
		}
		// Clients retransmit after ClientTimeout; the backups' timers
		// then run RequestTimeout before the view change.
		took := res.Stats.NewViews[0].At - o.FaultStart
		bound := o.ClientTimeout + 2*o.Protocol.RequestTimeout + o.Think
		t.Logf("silent primary (only as primary: %v) replaced after %v (bound %v)", onlyPrimary, took, bound)
		if took > bound {
			t.Errorf("silent primary replaced after %v, want within %v", took, bound)
		}
	}
}

// TestCensoringPrimaryIsReplaced: a primary that orders everyone's
// requests but some clients' is replaced. The backups' timers wait for the
// censored requests however many others execute, so they expire.
func TestCensoringPrimaryIsReplaced(t *testing.T) {
	res := run(t, faultOptions(t, 4, adversary.Fault{Nodes: nodes(0), Behaviour: &adversary.Censor{Share: 0.5, Seed: 7}}))
	mustHold(t, res)
	if res.Stats.MaxView == 0 {
		t.Errorf("no view change: the censoring primary stayed in charge")
	}
}

func TestForgeriesAreRejected(t *testing.T) {
	res := run(t, faultOptions(t, 4, adversary.Fault{Nodes: nodes(1), Behaviour: &adversary.Forge{Rate: 1}}))
	mustHold(t, res)
	if res.Stats.Rejected == 0 {
		t.Errorf("no forgery was rejected")
	}
	t.Logf("%d forged messages rejected", res.Stats.Rejected)
}

func TestReplaysChangeNothing(t *testing.T) {
	r := &adversary.Replay{Rate: 1}
	res := run(t, faultOptions(t, 4, adversary.Fault{Nodes: nodes(1), Behaviour: r}))
	mustHold(t, res)
	if r.Sent == 0 {
		t.Errorf("nothing was replayed")
	}
	t.Logf("%d old messages replayed", r.Sent)
}

func TestCorruptFramesAreRejected(t *testing.T) {
	res := run(t, faultOptions(t, 4, adversary.Fault{Nodes: nodes(0), Behaviour: &adversary.Corrupt{Rate: 0.5, Bytes: 3}}))
	mustHold(t, res)
	if res.Stats.Rejected == 0 {
		t.Errorf("no corrupted frame was rejected")
	}
}

func TestTwinsKeepCorrectReplicasSafe(t *testing.T) {
	for _, id := range []pbft.ReplicaID{0, 2} {
		res := run(t, faultOptions(t, 4, adversary.Fault{Nodes: nodes(id), Behaviour: &adversary.LifecycleFault{Kind: adversary.Twins}}))
		mustHold(t, res)
	}
}

func TestSlowPrimaryIsReplaced(t *testing.T) {
	res := run(t, faultOptions(t, 4, adversary.Fault{Nodes: nodes(0), Behaviour: &adversary.Slow{Dist: "constant", Delay: 2 * time.Second}}))
	mustHold(t, res)
	if res.Stats.MaxView == 0 {
		t.Errorf("a primary 2s late on every message was not replaced")
	}
	for _, dist := range []string{"uniform", "pareto"} {
		res := run(t, faultOptions(t, 4, adversary.Fault{Nodes: nodes(2), Behaviour: &adversary.Slow{Dist: dist, Delay: 5 * time.Millisecond, Max: 300 * time.Millisecond}}))
		mustHold(t, res)
	}
}

func TestSkewedTimersCannotForceAViewChange(t *testing.T) {
	o := faultOptions(t, 4, adversary.Fault{Nodes: nodes(3), Behaviour: &adversary.Skew{Factor: 0.01}})
	o.Think = 0
	res := run(t, o)
	mustHold(t, res)
	// One replica whose clock runs 100 times fast suspects the primary all
	// the time, but f+1 are needed to move anyone else.
	for _, st := range res.Stats.Final {
		if st.ID != 3 && st.View != 0 {
			t.Errorf("replica %d moved to view %d because of one skewed replica", st.ID, st.View)
		}
	}
	res = run(t, faultOptions(t, 4, adversary.Fault{Nodes: nodes(1), Behaviour: &adversary.Skew{Factor: 5}}))
	mustHold(t, res)
}

func TestDropOmissions(t *testing.T) {
	for _, d := range []*adversary.Drop{
		{Rate: 0.5, Direction: "out"},
		{Rate: 0.5, Direction: "in"},
		{Rate: 1, Direction: "both", Types: []pbft.MsgType{pbft.MsgCommit}},
		{Rate: 1, Direction: "out", Peers: nodes(1, 2)},
	} {
		res := run(t, faultOptions(t, 4, adversary.Fault{Nodes: nodes(0), Behaviour: d}))
		mustHold(t, res)
		if res.Stats.MessagesLost == 0 {
			t.Errorf("%+v dropped nothing", d)
		}
	}
}

func TestPartitionHeals(t *testing.T) {
	for _, p := range []*adversary.Partition{
		{Groups: [][]pbft.ReplicaID{{0, 1}, {2, 3}}},
		{From: nodes(0, 1), To: nodes(2, 3)}, // 2 and 3 still hear 0 and 1
	} {
		o := faultOptions(t, 4, adversary.Fault{Behaviour: p})
		res := run(t, o)
		mustHold(t, res)
		if res.Stats.MessagesCut == 0 {
			t.Errorf("%+v cut nothing", p)
		}
		if res.Stats.OpsAfterFaults == 0 {
			t.Errorf("no commit after the partition healed")
		}
	}
}

func TestIsolatedPrimaryIsReplaced(t *testing.T) {
	res := run(t, faultOptions(t, 4, adversary.Fault{Nodes: nodes(0), Behaviour: &adversary.Isolate{Nodes: nodes(0)}}))
	mustHold(t, res)
	if res.Stats.MaxView == 0 {
		t.Errorf("isolated primary not replaced")
	}
}

func TestCrashStop(t *testing.T) {
	o := faultOptions(t, 4, adversary.Fault{Nodes: nodes(3), Behaviour: &adversary.LifecycleFault{Kind: adversary.CrashStop}, From: time.Second})
	res := run(t, o)
	mustHold(t, res)
	for _, st := range res.Stats.Final {
		if st.ID == 3 {
			t.Errorf("crash-stopped replica 3 is running")
		}
	}
}

func TestCrashRecoverAndPause(t *testing.T) {
	for _, kind := range []adversary.LifecycleKind{adversary.CrashRecover, adversary.Pause} {
		o := faultOptions(t, 4, adversary.Fault{Nodes: nodes(0), Behaviour: &adversary.LifecycleFault{Kind: kind}})
		o.Pebble = kind == adversary.CrashRecover
		res := run(t, o)
		mustHold(t, res)
		if res.Stats.MaxView == 0 {
			t.Errorf("%s of the primary caused no view change", kind)
		}
	}
}

// TestBeyondFForkIsCaught makes two of four replicas collude: the primary
// equivocates and its accomplice votes for both stories. Each correct
// replica then commits a different batch at one sequence number, and the
// agreement checker must say so.
func TestBeyondFForkIsCaught(t *testing.T) {
	o := faultOptions(t, 4,
		adversary.Fault{Nodes: nodes(0), Behaviour: &adversary.Equivocate{Other: nodes(3)}},
		adversary.Fault{Nodes: nodes(1), Behaviour: &adversary.Equivocate{Other: nodes(3)}})
	o.BeyondF = true
	res := run(t, o)
	var fork *Violation
	for i, v := range res.Violations {
		if v.Kind == "agreement" {
			fork = &res.Violations[i]
			break
		}
	}
	if fork == nil {
		t.Fatalf("two colluding replicas of four forked nobody (violations: %v)", res.Violations)
	}
	t.Logf("caught: %s", fork)
	if fork.Seq == 0 || len(fork.Replicas) != 2 || len(fork.Digests) != 2 || fork.Digests[0] == fork.Digests[1] {
		t.Errorf("the report lacks the sequence number, the replicas or the two digests: %s", fork)
	}
	if !strings.Contains(fork.String(), "agreement violation at seq") {
		t.Errorf("unclear report: %s", fork)
	}
}

// TestReplayIsExact runs the same seeded run twice, faults of every kind
// included, and requires the same run event for event.
func TestReplayIsExact(t *testing.T) {
	build := func() Options {
		o := faultOptions(t, 4,
			adversary.Fault{Nodes: nodes(0), Behaviour: &adversary.Equivocate{}},
			adversary.Fault{Nodes: nodes(1), Behaviour: &adversary.LifecycleFault{Kind: adversary.Twins}, From: time.Second, Until: 2 * time.Second},
			adversary.Fault{Behaviour: &adversary.Partition{Groups: [][]pbft.ReplicaID{{0, 2}, {1, 3}}}, From: 2 * time.Second, Until: 2500 * time.Millisecond})
		o.Crashes, o.Pebble, o.CrashAfterPersist = 1, true, 0.5
		o.FaultNet.Loss = 0.1
		o.BeyondF = true
		return o
	}
	a, b := run(t, build()), run(t, build())
	// Pebble's background compactions make the bytes on disk vary; what
	// the replicas stored and did does not.
	a.Stats.DiskBytes, b.Stats.DiskBytes = 0, 0
	if a.Summary() != b.Summary() || fmt.Sprint(a.Stats) != fmt.Sprint(b.Stats) || fmt.Sprint(a.Violations) != fmt.Sprint(b.Violations) {
		t.Fatalf("two runs of one seed differ:\n%+v\n%+v", a.Stats, b.Stats)
	}
}

// TestRestartFarBehindCatchesUpByStateTransfer keeps replica 3 down while
// the others move several checkpoints ahead: on restart it fetches the
// stable checkpoint's snapshot and the commit certificates after it, and
// then takes part in consensus again. Replica 1 lies in every STATE it
// serves (validly signed, wrong bytes): replica 3 must detect it and finish
// the transfer from another peer.
func TestRestartFarBehindCatchesUpByStateTransfer(t *testing.T) {
	liar := &adversary.Corrupt{Rate: 1, Resign: true}
	o := faultOptions(t, 4,
		adversary.Fault{Nodes: nodes(3), Behaviour: &adversary.LifecycleFault{Kind: adversary.CrashRecover}, From: 300 * time.Millisecond, Until: 2 * time.Second},
		adversary.Fault{Nodes: nodes(1), Behaviour: liar, From: 300 * time.Millisecond})
	o.Pebble = true
	o.Protocol.StateChunkSize = 64 // several chunks per snapshot
	o.FaultEnd = 2 * time.Second
	s, err := New(o)
	if err != nil {
		t.Fatal(err)
	}
	var downAt, upAt pbft.Seq
	s.observe = func(ev observation) {
		switch {
		case ev.kind == "crash" && ev.node == 3:
			downAt = s.maxExecuted()
		case ev.kind == "restart" && ev.node == 3:
			upAt = s.maxExecuted()
		}
	}
	res := s.Run()
	t.Log(res.Summary())
	mustHold(t, res)
	k := o.Protocol.CheckpointInterval
	t.Logf("replica 3 went down at seq %d, came back at seq %d; it received %d STATE chunks (replica 1 lied in %d), signed %d COMMITs after its restart",
		downAt, upAt, res.Stats.StateChunks[3], liar.Lies, res.Stats.CommitsAfterRestart[3])
	if upAt < downAt+3*k {
		t.Fatalf("the others moved only from %d to %d while replica 3 was down; want several checkpoints (K=%d)", downAt, upAt, k)
	}
	if res.Stats.StateChunks[3] < 2 {
		t.Errorf("replica 3 caught up without a chunked state transfer")
	}
	if res.Stats.CommitsAfterRestart[3] == 0 {
		t.Errorf("replica 3 did not take part in consensus after catching up")
	}
}
