package bench

import (
	"time"

	"github.com/bftbed/bftbed/bench/phi"
	"github.com/bftbed/bftbed/pbft"
)

// Result is everything known about one run. It is the content of
// result.json: the input half is filled by the runner, the output half
// (Verdicts, Cost, Liveness, Detection) by Check.
//
// Times are durations since the start of the run (virtual time in the
// simulator, wall time on a testnet), encoded in JSON as integer
// nanoseconds in fields whose names end in _ns.
type Result struct {
	Scenario Scenario `json:"scenario"` // what ran, and how to repeat it
	// Faults are the fault windows of the scenario, as they were applied.
	Faults []FaultWindow `json:"faults"`
	// Expect is what the scenario says should happen.
	Expect Expect `json:"expect"`
	// SampleInterval is the length of the intervals Samples cover.
	SampleInterval time.Duration `json:"sample_interval_ns"`
	// History is the client-observed history, one record per operation.
	History []Op `json:"history"`
	// Samples holds one sample per interval per node.
	Samples []Sample `json:"samples"`
	// Logs holds each node's committed log and checkpoint states.
	Logs []NodeLog `json:"logs"`
	// Heartbeats holds, per observer and peer, when the observer heard
	// from the peer (failure detection input).
	Heartbeats []Heartbeats `json:"heartbeats,omitempty"`
	// Detector is the failure detector's configuration; zero fields take
	// phi.DefaultConfig's values.
	Detector phi.Config `json:"detector"`

	// Verdicts is one verdict per checker, set by Check.
	Verdicts []Verdict `json:"verdicts,omitempty"`
	// Cost, Liveness and Detection are the measurements, set by Check.
	Cost      *Cost      `json:"cost,omitempty"`      // throughput, latency, resources
	Liveness  *Liveness  `json:"liveness,omitempty"`  // recovery from faults, view changes
	Detection *Detection `json:"detection,omitempty"` // failure-detector suspicion times
}

// Mode values of Scenario.Mode.
const (
	ModeSim     = "sim"
	ModeTestnet = "testnet"
)

// Scenario identifies the run: what was run, where, and how to repeat it.
type Scenario struct {
	Name        string `json:"name"`                  // the scenario's name
	Description string `json:"description,omitempty"` // one line on its purpose
	// Mode is ModeSim or ModeTestnet.
	Mode string `json:"mode"`
	// Seed reproduces a simulator run exactly (and seeds the load and
	// the adversary on a testnet).
	Seed uint64 `json:"seed"`
	// N replicas, tolerating F faults (N = 3F+1 normally).
	N int `json:"n"` // replicas
	F int `json:"f"` // tolerated faults; 0 means (N-1)/3
	// Duration is the length of the run.
	Duration time.Duration `json:"duration_ns"`
	// File is the scenario file's path and Text its content, copied
	// into the report so the report alone says what was run.
	File string `json:"file,omitempty"` // path of the scenario file
	Text string `json:"text,omitempty"` // its content
}

// FaultWindow is one fault of the scenario: a behaviour on some nodes for
// a time window.
type FaultWindow struct {
	// Behaviour names the behaviour ("equivocate", "crash-recover", ...).
	Behaviour string           `json:"behaviour"`
	Nodes     []pbft.ReplicaID `json:"nodes"`   // the nodes it acts on (for a partition: one side)
	From      time.Duration    `json:"from_ns"` // start of the window
	// Until ends the window; 0 means the fault lasts to the end of the
	// run.
	Until time.Duration `json:"until_ns"`
	// Byzantine is set when the behaviour lets its nodes sign what an
	// honest replica never would (adversary.Byzantine): such nodes are
	// left out of every safety check, for the whole run.
	Byzantine bool `json:"byzantine"`
	// NetworkOnly is set when the behaviour acts on the network rather
	// than on its nodes (a partition): the nodes stay correct and are not
	// failure-detection targets.
	NetworkOnly bool `json:"network_only,omitempty"`
}

// End returns when the window ends: Until, or runEnd if it lasts to the end.
func (f FaultWindow) End(runEnd time.Duration) time.Duration {
	if f.Until == 0 {
		return runEnd
	}
	return f.Until
}

// Label is a short description for plots and tables: "equivocate n0".
func (f FaultWindow) Label() string {
	return f.Behaviour + " " + nodeList(f.Nodes)
}

// Expect is what the scenario expects; the zero value expects safety to
// hold and sets no recovery deadline.
type Expect struct {
	// ViolatesSafety is set by scenarios that go beyond f Byzantine
	// nodes on purpose to show a violation: the safety checkers are then
	// expected to fail, and a run where they pass is reported as failed.
	ViolatesSafety bool `json:"violates_safety,omitempty"`
	// RecoverWithin bounds, for each fault window that ends, the time
	// from its end until throughput is back to 90% of its pre-fault level;
	// 0 means no bound.
	RecoverWithin time.Duration `json:"recover_within_ns,omitempty"`
	// MaxWait bounds how long any one operation may wait, from sending
	// its request to accepting its result (an operation still outstanding
	// at the end counts from its start to the end of the run); 0 means no
	// bound.
	MaxWait time.Duration `json:"max_wait_ns,omitempty"`
}

// OpKind values of Op.Kind: the kv operations, named as kv.OpKind.String
// names them.
const (
	KindPut    = "Put"
	KindGet    = "Get"
	KindAppend = "Append"
	KindCAS    = "CAS"
)

// Op is one client operation as the client saw it.
//
// Keys and values are Go strings holding the operation's bytes. That is
// lossless in memory; in result.json encoding/json replaces bytes that are
// not valid UTF-8, so the load generator uses printable values.
type Op struct {
	// Client names the client; the same string names it in Logs.
	Client string `json:"client"`
	// Timestamp is the request timestamp the client library assigned
	// (the t of REQUEST <o, t, c>), which identifies the request in Logs.
	Timestamp uint64 `json:"ts"`
	Kind      string `json:"kind"` // KindPut, KindGet, KindAppend or KindCAS
	Key       string `json:"key"`  // the key operated on
	// Value is the value of Put and Append, and the new value of CAS.
	Value string `json:"value,omitempty"`
	// Expected is CAS's expected value.
	Expected string `json:"expected,omitempty"`
	// Output is the result the client accepted (f+1 matching replies);
	// meaningful only when Completed.
	Output OpResult `json:"output"`
	// Start is when the client sent the request, End when it accepted the
	// result (0 when not Completed).
	Start time.Duration `json:"start_ns"`
	End   time.Duration `json:"end_ns,omitempty"` // see Start
	// Completed is false for an operation still outstanding when the run
	// ended: it may or may not have taken effect, and the
	// linearizability checker allows both.
	Completed bool `json:"completed"`
}

// OpResult is a decoded kv.Result.
type OpResult struct {
	OK    bool   `json:"ok"`              // the op ran (for CAS: it swapped)
	Found bool   `json:"found"`           // the key existed before the op
	Value string `json:"value,omitempty"` // Get: the value; Append, CAS: the value after
	Err   string `json:"err,omitempty"`   // set when the op failed and changed nothing
}

// Sample is one node's counters over one interval (At-SampleInterval, At].
// Counters named "in the interval" are deltas, the others are the state at
// At. A node that is down has no sample for the interval.
type Sample struct {
	At           time.Duration  `json:"at_ns"`         // end of the interval
	Node         pbft.ReplicaID `json:"node"`          // the node sampled
	View         pbft.View      `json:"view"`          // its view at At
	ViewChanging bool           `json:"view_changing"` // between VIEW-CHANGE and NEW-VIEW at At
	LastExecuted pbft.Seq       `json:"last_executed"` // highest sequence number executed
	// Committed is the number of requests the node executed in the
	// interval.
	Committed uint64   `json:"committed"`
	StableSeq pbft.Seq `json:"stable_seq"` // its latest stable checkpoint
	// Messages and bytes sent and received in the interval (protocol
	// traffic between replicas and with clients).
	MsgsSent  uint64 `json:"msgs_sent"`  // messages sent in the interval
	BytesSent uint64 `json:"bytes_sent"` // bytes sent in the interval
	MsgsRecv  uint64 `json:"msgs_recv"`  // messages received in the interval
	BytesRecv uint64 `json:"bytes_recv"` // bytes received in the interval
	// CPUSeconds is the CPU time the node's process used in the interval
	// and RSSBytes its resident set size at At; both 0 when not measured
	// (in the simulator every node shares one process).
	CPUSeconds float64 `json:"cpu_s,omitempty"`
	RSSBytes   uint64  `json:"rss_bytes,omitempty"` // see CPUSeconds
}

// NodeLog is what one node committed.
type NodeLog struct {
	Node pbft.ReplicaID `json:"node"` // whose log
	// LastExecuted is the highest sequence number the node executed,
	// itself or by state transfer.
	LastExecuted pbft.Seq `json:"last_executed"`
	// Entries are the batches the node executed itself, in sequence
	// order. Sequence numbers it skipped by state transfer are absent.
	Entries []LogEntry `json:"entries"`
	// Checkpoints are the application state digests at the node's
	// checkpoints.
	Checkpoints []Checkpoint `json:"checkpoints"`
}

// LogEntry is one executed batch.
type LogEntry struct {
	Seq    pbft.Seq  `json:"seq"`    // its sequence number
	View   pbft.View `json:"view"`   // the view it committed in
	Digest Digest    `json:"digest"` // the batch digest of its PRE-PREPARE
	// Requests identifies the batch's requests in execution order (none
	// for a null request).
	Requests []RequestID `json:"requests,omitempty"`
}

// RequestID identifies a request: its client and the client's timestamp.
type RequestID struct {
	Client    string `json:"client"` // as in Op.Client
	Timestamp uint64 `json:"ts"`     // as in Op.Timestamp
}

// Checkpoint is the state digest a node computed at a checkpoint.
type Checkpoint struct {
	Seq   pbft.Seq `json:"seq"`   // the checkpoint's sequence number
	State Digest   `json:"state"` // digest of the application snapshot there
}

// Heartbeats are the times Observer heard from Peer: every message
// received from it counts, sampled by the runner (at most one per few
// milliseconds) to keep the record small.
type Heartbeats struct {
	Observer pbft.ReplicaID  `json:"observer"`    // who listened
	Peer     pbft.ReplicaID  `json:"peer"`        // who was heard
	Arrivals []time.Duration `json:"arrivals_ns"` // when, in increasing order
}
