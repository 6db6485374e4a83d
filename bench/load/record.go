package load

import (
	"encoding/json"
	"os"
	"time"

	"github.com/bftbed/bftbed/pbft/kv"
)

// Record is one operation as its client saw it. Times are durations since
// the start of the run (Result.Start), in JSON as integer nanoseconds.
//
// The fields mirror bench.Op (same JSON names where they overlap), so a
// runner turns a Record into a bench.Op field by field: Client through
// Result.ClientIDs, Completed = OK, Output = *Result.
type Record struct {
	// Client is the client's index in the run; Result.ClientIDs[Client]
	// is its identity.
	Client int `json:"client"`
	// Timestamp is the request timestamp the pbft client assigned (0 if
	// the target does not tell).
	Timestamp uint64 `json:"ts,omitempty"`
	// Kind is "Put", "Get", "Append" or "CAS" (kv.OpKind.String).
	Kind string `json:"kind"`
	Key  string `json:"key"`
	// Value is the value of Put and Append, and CAS's new value;
	// Expected is CAS's expected value.
	Value    string `json:"value,omitempty"`
	Expected string `json:"expected,omitempty"`
	// Result is the decoded result the client accepted; nil unless OK.
	Result *OpResult `json:"result,omitempty"`
	// Intended is when the operation was due: in an open loop its slot
	// in the schedule, in a closed loop the same as Start. Latency is End
	// - Intended.
	Intended time.Duration `json:"intended_ns"`
	// Start is when the client sent it, End when it accepted the result
	// or gave up.
	Start time.Duration `json:"start_ns"`
	End   time.Duration `json:"end_ns"`
	// OK reports that a result was accepted: the operation committed.
	// When false it may or may not have executed (the client gave up
	// waiting), and Error says why.
	OK    bool   `json:"ok"`
	Error string `json:"error,omitempty"`
}

// Latency returns End - Intended.
func (r *Record) Latency() time.Duration { return r.End - r.Intended }

// OpResult is a decoded kv.Result (the same fields as bench.OpResult).
type OpResult struct {
	OK    bool   `json:"ok"`              // the op ran (for CAS: it swapped)
	Found bool   `json:"found"`           // the key existed before the op
	Value string `json:"value,omitempty"` // Get: the value; Append, CAS: the value after
	Err   string `json:"err,omitempty"`   // set when the op failed and changed nothing
}

func resultFromKV(r kv.Result) *OpResult {
	return &OpResult{OK: r.OK, Found: r.Found, Value: string(r.Value), Err: r.Err}
}

// Result is the outcome of a run: its configuration, totals, latency
// summary, per-second timeline and (up to Config.MaxHistory) history.
type Result struct {
	// Mode is "closed" or "open".
	Mode     string        `json:"mode"`
	Clients  int           `json:"clients"`
	Rate     float64       `json:"rate,omitempty"` // offered ops/s (open loop)
	Duration time.Duration `json:"duration_ns"`    // as configured
	Payload  int           `json:"payload"`
	Keys     int           `json:"keys"`
	Mix      string        `json:"mix"`
	Seed     uint64        `json:"seed"`

	// Start is the wall-clock time the measured run began (after the
	// clients connected and warmed up).
	Start time.Time `json:"start"`
	// Elapsed is how long operations were issued: Duration, or less if
	// the run was interrupted or MaxOps reached.
	Elapsed time.Duration `json:"elapsed_ns"`
	// Interrupted is set when the context ended the run early.
	Interrupted bool `json:"interrupted,omitempty"`

	// Issued counts the operations sent; Committed those that completed
	// (a result was accepted) and Errors those that did not. Unsent
	// counts open-loop operations due inside the run that no client was
	// free to send before it ended.
	Issued    int `json:"issued"`
	Committed int `json:"committed"`
	Errors    int `json:"errors"`
	Unsent    int `json:"unsent,omitempty"`
	// WarmupErrors counts warm-up reads that failed.
	WarmupErrors int `json:"warmup_errors,omitempty"`
	// Throughput is the operations that completed inside the run's
	// window [0, Elapsed], per second of it.
	Throughput float64 `json:"throughput"`
	// Latency summarizes End - Intended over the committed operations.
	Latency Latency `json:"latency"`
	// ErrorCounts counts failures by message.
	ErrorCounts map[string]int `json:"error_counts,omitempty"`
	// Timeline has one entry per second of the run (and of its drain).
	Timeline []Second `json:"timeline"`

	// ClientIDs names each client by index, as Record.Client refers to
	// them.
	ClientIDs []string `json:"client_ids"`
	// History holds one record per operation in order of Start, up to
	// Config.MaxHistory; HistoryDropped counts those left out.
	History        []Record `json:"history,omitempty"`
	HistoryDropped int      `json:"history_dropped,omitempty"`
}

// Latency is a latency distribution summary.
type Latency struct {
	Count int           `json:"count"`
	Mean  time.Duration `json:"mean_ns"`
	Min   time.Duration `json:"min_ns"`
	P50   time.Duration `json:"p50_ns"`
	P90   time.Duration `json:"p90_ns"`
	P95   time.Duration `json:"p95_ns"`
	P99   time.Duration `json:"p99_ns"`
	P999  time.Duration `json:"p999_ns"`
	Max   time.Duration `json:"max_ns"`
}

// Second is one second of the run: operations that completed in it (by
// End) and their latencies.
type Second struct {
	At        int           `json:"at_s"` // the second [At, At+1)
	Committed int           `json:"committed"`
	Errors    int           `json:"errors"`
	P50       time.Duration `json:"p50_ns"`
	P99       time.Duration `json:"p99_ns"`
}

// WriteJSON writes r to path, indented; with history false it leaves the
// history out (it is most of the file).
func (r *Result) WriteJSON(path string, history bool) error {
	out := *r
	if !history {
		out.History = nil
	}
	data, err := json.MarshalIndent(&out, "", "  ")
	if err != nil {
		return err
	}
	return os.WriteFile(path, append(data, '\n'), 0o644)
}
