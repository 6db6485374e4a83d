package bench

import (
	"strings"
	"testing"
	"time"

	"github.com/bftbed/bftbed/crypto"
	"github.com/bftbed/bftbed/pbft"
)

func TestAgreementPassesOnEqualLogs(t *testing.T) {
	r := &Result{Scenario: Scenario{N: 4}}
	for id := pbft.ReplicaID(0); id < 4; id++ {
		r.Logs = append(r.Logs, logOf(id, 100))
	}
	v := Agreement(r)
	if !v.Pass || v.Inconclusive {
		t.Fatalf("equal logs: %+v", v)
	}
	if !strings.Contains(v.Summary, "4 correct replicas agree on all 100") {
		t.Errorf("summary %q", v.Summary)
	}
}

func TestAgreementNamesTheFork(t *testing.T) {
	r := &Result{Scenario: Scenario{N: 4}}
	for id := pbft.ReplicaID(0); id < 4; id++ {
		r.Logs = append(r.Logs, logOf(id, 100))
	}
	good := r.Logs[2].Entries[61].Digest
	r.Logs[3].Entries[61] = entry(62, "the other batch")
	bad := r.Logs[3].Entries[61].Digest
	v := Agreement(r)
	if v.Pass {
		t.Fatalf("a fork at seq 62 passed: %+v", v)
	}
	want := "seq 62: replicas 0, 1, 2 committed " + good.String() + ", replica 3 committed " + bad.String()
	if len(v.Details) != 1 || v.Details[0] != want {
		t.Fatalf("details %q\nwant        %q", v.Details, want)
	}
	if !strings.Contains(v.Summary, want) {
		t.Errorf("summary %q does not name the fork", v.Summary)
	}
	// A two-way split reads like the example in the design.
	r.Logs = r.Logs[2:]
	v = Agreement(r)
	if want := "seq 62: replica 2 committed " + good.String() + ", replica 3 committed " + bad.String(); v.Details[0] != want {
		t.Fatalf("got %q, want %q", v.Details[0], want)
	}
}

func TestAgreementIgnoresByzantine(t *testing.T) {
	r := &Result{Scenario: Scenario{N: 4}, Faults: []FaultWindow{{Behaviour: "equivocate", Nodes: []pbft.ReplicaID{0}, Byzantine: true}}}
	for id := pbft.ReplicaID(0); id < 4; id++ {
		r.Logs = append(r.Logs, logOf(id, 10))
	}
	r.Logs[0].Entries[4] = entry(5, "forged")
	if v := Agreement(r); !v.Pass {
		t.Fatalf("a Byzantine replica's log failed agreement: %+v", v)
	}
	// Not Byzantine: the same log fails.
	r.Faults[0].Byzantine = false
	if v := Agreement(r); v.Pass {
		t.Fatalf("a crash-faulty replica's divergent log passed: %+v", v)
	}
}

func TestAgreementSelfContradiction(t *testing.T) {
	l := logOf(1, 5)
	l.Entries = append(l.Entries, entry(3, "again"))
	r := &Result{Logs: []NodeLog{logOf(0, 5), l}}
	v := Agreement(r)
	if v.Pass || !strings.Contains(v.Details[0], "replica 1 committed both") {
		t.Fatalf("%+v", v)
	}
}

func TestAgreementInconclusiveWithOneLog(t *testing.T) {
	v := Agreement(&Result{Logs: []NodeLog{logOf(0, 5)}})
	if !v.Pass || !v.Inconclusive {
		t.Fatalf("%+v", v)
	}
}

func TestStateDivergence(t *testing.T) {
	d1, d2 := entry(1, "state a").Digest, entry(1, "state b").Digest
	r := &Result{Logs: []NodeLog{
		{Node: 0, Checkpoints: []Checkpoint{{64, d1}, {128, d1}}},
		{Node: 1, Checkpoints: []Checkpoint{{64, d1}, {128, d1}}},
		{Node: 2, Checkpoints: []Checkpoint{{64, d1}, {128, d2}}},
	}}
	v := State(r)
	if v.Pass {
		t.Fatalf("diverging states passed: %+v", v)
	}
	want := "checkpoint 128: replicas 0, 1 has state " + d1.String() + ", replica 2 has state " + d2.String()
	if v.Details[0] != want {
		t.Fatalf("got %q\nwant %q", v.Details[0], want)
	}
	r.Logs[2].Checkpoints[1].State = d1
	if v := State(r); !v.Pass || v.Inconclusive {
		t.Fatalf("equal states: %+v", v)
	}
}

func TestExactlyOnceDuplicate(t *testing.T) {
	r := &Result{Logs: []NodeLog{logOf(0, 10), logOf(1, 10)}}
	if v := ExactlyOnce(r); !v.Pass {
		t.Fatalf("clean logs: %+v", v)
	}
	// Replica 1 executes client c's request 3 again at seq 11.
	r.Logs[1].Entries = append(r.Logs[1].Entries, entry(11, "retransmission", RequestID{"c", 3}))
	r.Logs[1].LastExecuted = 11
	v := ExactlyOnce(r)
	if v.Pass {
		t.Fatalf("duplicate execution passed: %+v", v)
	}
	if want := "replica 1 executed client c ts 3 twice: at seq 3 and seq 11"; v.Details[0] != want {
		t.Fatalf("got %q, want %q", v.Details[0], want)
	}
}

func TestExactlyOnceMissingCompletedOp(t *testing.T) {
	r := &Result{
		Logs: []NodeLog{logOf(0, 10), logOf(1, 10)},
		History: []Op{
			{Client: "c", Timestamp: 4, Kind: KindPut, Key: "k", Completed: true, Start: 1, End: 2},
			{Client: "d", Timestamp: 1, Kind: KindGet, Key: "k", Completed: false, Start: 1},
		},
	}
	if v := ExactlyOnce(r); !v.Pass {
		t.Fatalf("%+v", v)
	}
	// Replica 1 executed seq 4 but without the request: lost there.
	r.Logs[1].Entries[3].Requests = nil
	v := ExactlyOnce(r)
	if v.Pass || !strings.Contains(v.Details[0], "replica 1 executed seq 4 but not client c ts 4") {
		t.Fatalf("%+v", v)
	}
	// Nobody executed it, and replica 0's log is complete: lost.
	r.Logs[0].Entries[3].Requests = nil
	v = ExactlyOnce(r)
	if v.Pass || !strings.Contains(v.Details[0], "no correct replica executed it") {
		t.Fatalf("%+v", v)
	}
	// With gaps in every log (state transfer) it cannot be judged.
	for i := range r.Logs {
		r.Logs[i].Entries = r.Logs[i].Entries[1:]
	}
	v = ExactlyOnce(r)
	if !v.Pass || len(v.Details) != 1 || !strings.Contains(v.Details[0], "no correct log is gap-free") {
		t.Fatalf("%+v", v)
	}
}

func TestCheckExpectedViolation(t *testing.T) {
	fork := func() *Result {
		r := &Result{Scenario: Scenario{N: 4, Duration: 10 * s}, Logs: []NodeLog{logOf(0, 5), logOf(1, 5)}, Expect: Expect{ViolatesSafety: true}}
		r.Logs[1].Entries[2] = entry(3, "fork")
		r.Samples = []Sample{{At: s, Node: 0, Committed: 5}}
		return r
	}
	r := fork()
	Check(r, CheckOptions{})
	if r.Failed() {
		t.Fatalf("expected violation reported as failure: %+v", r.Verdicts)
	}
	if v, _ := r.Verdict(CheckAgreement); v.Pass || !v.OK() || v.Status() != "FAIL (expected)" {
		t.Fatalf("%+v %q", v, v.Status())
	}
	if v, ok := r.Verdict(CheckExpectedViolation); !ok || !v.Pass || !strings.Contains(v.Summary, "agreement failed as expected") {
		t.Fatalf("%+v", v)
	}
	// Expecting a violation that does not happen fails the run.
	r = fork()
	r.Logs[1] = logOf(1, 5)
	Check(r, CheckOptions{})
	if !r.Failed() {
		t.Fatal("a run without the expected violation passed")
	}
	if v, _ := r.Verdict(CheckExpectedViolation); v.Pass {
		t.Fatalf("%+v", v)
	}
	// Without the expectation the fork fails the run.
	r = fork()
	r.Expect.ViolatesSafety = false
	Check(r, CheckOptions{})
	if !r.Failed() {
		t.Fatal("a fork did not fail the run")
	}
}

func TestSyntheticRunPassesEverything(t *testing.T) {
	r := synthetic(t)
	Check(r, CheckOptions{})
	for _, v := range r.Verdicts {
		if !v.Pass || v.Inconclusive {
			t.Errorf("%s: %s %v", v.Name, v.Summary, v.Details)
		}
	}
	if r.Failed() {
		t.Fatal("synthetic run failed")
	}
}

// TestExactlyOnceSkippedRepeat: a faulty primary proposes a request that
// already ran again, at another seq; the replica skips it there
// (pbft.CommittedBatch.Skipped), which is exactly-once working, not a
// second execution.
func TestExactlyOnceSkippedRepeat(t *testing.T) {
	c := crypto.DeriveKey([]byte("t"), "client").Public()
	req := &pbft.Request{Client: c, Timestamp: 7}
	other := &pbft.Request{Client: c, Timestamp: 8}
	rec := NewRecorder(1, time.Second)
	rec.Commit(time.Second, 0, pbft.CommittedBatch{Seq: 1, Batch: []*pbft.Request{req}})
	rec.Commit(time.Second, 0, pbft.CommittedBatch{Seq: 2, Batch: []*pbft.Request{req, other}, Skipped: []int{0}})
	r := &Result{}
	rec.Finish(r, 2*time.Second)
	if v := ExactlyOnce(r); !v.Pass {
		t.Fatalf("a skipped repeat counted as an execution: %+v", v)
	}
	// Without the mark, the same log is a second execution.
	rec = NewRecorder(1, time.Second)
	rec.Commit(time.Second, 0, pbft.CommittedBatch{Seq: 1, Batch: []*pbft.Request{req}})
	rec.Commit(time.Second, 0, pbft.CommittedBatch{Seq: 2, Batch: []*pbft.Request{req, other}})
	r = &Result{}
	rec.Finish(r, 2*time.Second)
	if v := ExactlyOnce(r); v.Pass {
		t.Fatalf("a repeat that ran passed: %+v", v)
	}
}
