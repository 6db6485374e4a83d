package adversary

import (
	"fmt"
	"os"
	"time"

	"github.com/bftbed/bftbed/pbft"
)

// Scenario is one adversarial run as a scenario file describes it: the
// testnet, the network model, the client load, the faults over time and
// what the run is expected to show. The file format is documented in
// bench/scenarios/README.md; ParseScenario fills in the defaults given on
// each field and validates the whole.
type Scenario struct {
	// Name defaults to the file's base name without ".toml".
	Name        string
	Description string
	// Seed seeds the run (default 7); a command-line --seed overrides it
	// by assigning this field before BuildFaults.
	Seed uint64
	// Duration is how long the load runs (default 12s). Every fault
	// starts before it and ends by it.
	Duration time.Duration
	// AllowBeyondF lets more than f replicas be faulty at once (default
	// false): only for runs meant to break the protocol.
	AllowBeyondF bool
	Testnet      TestnetSpec
	Network      NetworkSpec
	Load         LoadSpec
	// Faults are in file order.
	Faults []FaultSpec
	Expect ExpectSpec
	// Source is the file the scenario came from (the name given to
	// ParseScenario), as errors cite it.
	Source string
}

// TestnetSpec is the cluster: its size and protocol parameters.
type TestnetSpec struct {
	// N is the number of replicas, 3f+1, from 4 to 1024 (default 4).
	N int
	// Batch is the largest batch of requests in one PRE-PREPARE (default
	// 16); BatchTimeout how long the primary waits to fill one (2ms).
	Batch        int
	BatchTimeout time.Duration
	// CheckpointInterval is K (default 16); WatermarkWindow is L, a
	// multiple of K (default 32).
	CheckpointInterval, WatermarkWindow int
	// RequestTimeout is the view-change timer (default 500ms).
	RequestTimeout time.Duration
}

// Config returns the protocol configuration of replica id: the defaults of
// pbft.DefaultConfig with the scenario's parameters.
func (t TestnetSpec) Config(id pbft.ReplicaID) pbft.Config {
	c := pbft.DefaultConfig(id, t.N)
	c.MaxBatch = t.Batch
	c.BatchTimeout = t.BatchTimeout
	c.CheckpointInterval = pbft.Seq(t.CheckpointInterval)
	c.WatermarkWindow = pbft.Seq(t.WatermarkWindow)
	c.RequestTimeout = t.RequestTimeout
	return c
}

// NetworkSpec is the simulated network outside faults: each message takes
// a delay drawn uniformly from [MinDelay, MaxDelay] (default 200us to 2ms),
// is lost with probability Loss and delivered twice with probability
// Duplicate (both default 0). A real testnet has its own network and
// ignores it.
type NetworkSpec struct {
	MinDelay, MaxDelay time.Duration
	Loss, Duplicate    float64
}

// LoadSpec is the client load on the kv application.
type LoadSpec struct {
	// Clients is the number of clients (default 4).
	Clients int
	// Rate is the operations per second across all clients, open loop;
	// 0 (the default) is a closed loop where each client waits Think
	// (default 10ms) between an operation's reply and the next one.
	Rate  float64
	Think time.Duration
	// Payload is the size of written values in bytes (default 64).
	Payload int
	// Mix is the share of each operation (default put 0.5, get 0.3,
	// append 0.2, cas 0).
	Mix MixSpec
	// Keys is the size of the key space (default 16).
	Keys int
}

// MixSpec is the operation mix of the load: shares summing to 1.
type MixSpec struct {
	Put, Get, Append, CAS float64
}

// ExpectSpec is what the run must show.
type ExpectSpec struct {
	// Safety: agreement, exactly-once execution and linearizability must
	// hold (default true). False means the run is expected to break
	// safety (a fork beyond f), and a run that does not is the failure.
	Safety bool
	// RecoverWithin bounds the time from the last change of the faults
	// (see Scenario.RecoveryStart) to the next commit (default 5s).
	RecoverWithin time.Duration
	// MaxWait bounds how long any one operation may wait for its result,
	// faults or not (0, the default: no bound). It catches what throughput
	// hides: a primary that serves everyone but some clients.
	MaxWait time.Duration
}

// FaultSpec is one [[fault]] of a scenario: a behaviour by name with its
// parameters, on some replicas, for a time window.
type FaultSpec struct {
	// Behaviour is a name from Behaviours().
	Behaviour string
	// Nodes are the faulty replicas (none for a partition).
	Nodes []pbft.ReplicaID
	// From and Until bound the window [From, Until); Until = 0 means
	// until the end of the run.
	From, Until time.Duration
	// Params are the behaviour's parameters as written in the file, for
	// BuildEnv.NewBehaviour.
	Params map[string]any
	// Line is the line of the fault's [[fault]] header (0 if unknown).
	Line int
}

// ParseScenario decodes and validates a scenario file. name is the file's
// path as errors should cite it. Every problem found is reported, each on
// its own line as "name:line: message", in a ScenarioErrors.
func ParseScenario(name string, data []byte) (*Scenario, error) {
	v := &validator{errs: errorList{source: name}}
	v.s, v.ix, v.broken = decodeScenario(name, data, &v.errs)
	if v.s != nil {
		v.validate()
	}
	if err := v.errs.err(); err != nil {
		return nil, err
	}
	return v.s, nil
}

// LoadScenario reads and parses the scenario file at path.
func LoadScenario(path string) (*Scenario, error) {
	data, err := os.ReadFile(path)
	if err != nil {
		return nil, err
	}
	return ParseScenario(path, data)
}

// F returns the number of faulty replicas the testnet tolerates.
func (s *Scenario) F() int { return (s.Testnet.N - 1) / 3 }

// BuildFaults returns the scenario's faults with fresh Behaviour values:
// behaviours keep state (what replay remembers, equivocate's alternative
// batches), so every run must build its own. Choices a fault leaves open
// (equivocate's split) are drawn from s.Seed.
func (s *Scenario) BuildFaults() ([]Fault, error) {
	out := make([]Fault, 0, len(s.Faults))
	for i := range s.Faults {
		f, err := s.Faults[i].Build(s.Testnet.N, faultSeed(s.Seed, i))
		if err != nil {
			return nil, fmt.Errorf("%s: fault %d (%s): %w", s.Source, i+1, s.Faults[i].Behaviour, err)
		}
		out = append(out, f)
	}
	return out, nil
}

// Build returns the fault with a fresh behaviour for a cluster of n.
func (f *FaultSpec) Build(n int, seed uint64) (Fault, error) {
	env := BuildEnv{N: n, Nodes: f.Nodes, Seed: seed}
	b, err := env.NewBehaviour(f.Behaviour, f.Params)
	if err != nil {
		return Fault{}, err
	}
	return Fault{Nodes: append([]pbft.ReplicaID(nil), f.Nodes...), Behaviour: b, From: f.From, Until: f.Until}, nil
}

// faultSeed gives each fault its own seed, so two faults that leave the
// same choice open do not make the same one by accident.
func faultSeed(seed uint64, i int) uint64 {
	return seed ^ (uint64(i+1) * 0x9e3779b97f4a7c15)
}

// FaultWindow returns when the first fault starts and the last one ends (a
// fault without until ends with the run, at Duration); 0, 0 without faults.
func (s *Scenario) FaultWindow() (start, end time.Duration) {
	for i, f := range s.Faults {
		if i == 0 || f.From < start {
			start = f.From
		}
		end = max(end, s.until(&f))
	}
	return start, end
}

// RecoveryStart returns when recover_within starts counting: the last time
// the set of active faults changes, which is the end of a fault with until
// or the start of one without (a crash-stop strikes once, and the cluster
// must go on without the replica from then on). It is 0 without faults.
// Unlike the end of FaultWindow, it is never the end of the run for a
// fault that lasts, so the bound can be checked while the load runs.
func (s *Scenario) RecoveryStart() time.Duration {
	var last time.Duration
	for _, f := range s.Faults {
		if f.Until != 0 {
			last = max(last, f.Until)
		} else {
			last = max(last, f.From)
		}
	}
	return last
}

// until returns when f ends.
func (s *Scenario) until(f *FaultSpec) time.Duration {
	if f.Until == 0 {
		return s.Duration
	}
	return f.Until
}
