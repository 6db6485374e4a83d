package sim

import (
	"fmt"
	"time"

	"github.com/bftbed/bftbed/adversary"
	"github.com/bftbed/bftbed/pbft"
)

// NetOptions is the network model: each message is lost with probability
// Loss, delivered twice with probability Duplicate, and otherwise delivered
// after a delay drawn uniformly from [MinDelay, MaxDelay] (which reorders
// messages).
type NetOptions struct {
	MinDelay, MaxDelay time.Duration
	Loss, Duplicate    float64
}

// Options describes one simulated run.
type Options struct {
	// Mix names the fault mix the options came from ("default",
	// "crash-recover"), for the replay command.
	Mix  string
	Seed uint64
	// N is the number of replicas (3f+1).
	N int
	// Protocol holds the PBFT parameters; ID and N are set per replica.
	Protocol pbft.Config
	// Clients is the number of closed-loop clients; each waits Think
	// between its operations.
	Clients int
	Think   time.Duration
	// ClientTimeout is how long a client waits before it retransmits its
	// request to every replica.
	ClientTimeout time.Duration
	// Net is the network outside the fault window, FaultNet inside it.
	Net, FaultNet NetOptions
	// FaultStart and FaultEnd bound the fault window: lossy network and
	// crashes happen only inside it.
	FaultStart, FaultEnd time.Duration
	// Crashes is the most replicas down at once (at most f unless
	// BeyondF). A crashed replica restarts from its storage after a random
	// downtime, and at the latest when the fault window ends.
	Crashes int
	BeyondF bool
	// Pebble keeps each replica's log in Pebble on a crashable in-memory
	// file system instead of pbft.MemoryStorage: a crash is then a power
	// cut that keeps only what was synced.
	Pebble bool
	// CrashAfterPersist is the probability that a crash strikes in the
	// middle of a step, after its Persist is durable and before anything
	// it sends leaves the node.
	CrashAfterPersist float64
	// Faults is the adversary's schedule: behaviours on replicas, link
	// rules and lifecycle faults, each for a time window.
	Faults []adversary.Fault
	// Workload, if set, replaces the default operations (appends of
	// unique tokens, which the exactly-once check reads back).
	Workload Workload
	// LoadUntil keeps the clients going at least until this time.
	LoadUntil time.Duration
	// Observer, if set, sees the run as it happens.
	Observer Observer
	// OpsAfterFaults is how many operations each client must complete
	// after the faults stop for the run to show progress.
	OpsAfterFaults int
	// Settle is how long the run goes on after the clients finish, so
	// that replicas that were behind catch up; then every running correct
	// replica must have executed as far as the others.
	Settle time.Duration
	// Deadline bounds the virtual time of the run.
	Deadline time.Duration
	// Trace, if set, receives one line per event.
	Trace func(line string)
}

// DefaultOptions returns a run of n replicas with a lossy fault window
// and crashes of up to f replicas.
func DefaultOptions(seed uint64, n int) Options {
	p := pbft.DefaultConfig(0, n)
	p.CheckpointInterval = 8
	p.WatermarkWindow = 16
	p.MaxBatch = 8
	p.MaxInFlight = 4
	p.BatchTimeout = 2 * time.Millisecond
	p.RequestTimeout = 400 * time.Millisecond
	return Options{
		Mix: "default", Seed: seed, N: n, Protocol: p,
		Clients: 4, Think: 40 * time.Millisecond, ClientTimeout: 600 * time.Millisecond,
		Net:        NetOptions{MinDelay: 200 * time.Microsecond, MaxDelay: 2 * time.Millisecond},
		FaultNet:   NetOptions{MinDelay: 200 * time.Microsecond, MaxDelay: 20 * time.Millisecond, Loss: 0.2, Duplicate: 0.05},
		FaultStart: 200 * time.Millisecond, FaultEnd: 3 * time.Second,
		Crashes:        (n - 1) / 3,
		OpsAfterFaults: 5,
		Settle:         3 * time.Second,
		Deadline:       10 * time.Minute,
	}
}

// Validate reports options that cannot run.
func (o *Options) Validate() error {
	f := (o.N - 1) / 3
	switch {
	case o.N < 4:
		return fmt.Errorf("sim: n = %d, need at least 4", o.N)
	case o.Clients < 1:
		return fmt.Errorf("sim: need at least one client")
	case o.Crashes > f && !o.BeyondF:
		return fmt.Errorf("sim: %d crashed replicas exceed f = %d (set BeyondF to allow)", o.Crashes, f)
	case o.FaultEnd < o.FaultStart:
		return fmt.Errorf("sim: fault window ends before it starts")
	case o.Net.MaxDelay < o.Net.MinDelay || o.FaultNet.MaxDelay < o.FaultNet.MinDelay:
		return fmt.Errorf("sim: max delay below min delay")
	case o.Net.Loss < 0 || o.Net.Loss >= 1 || o.FaultNet.Loss < 0 || o.FaultNet.Loss >= 1:
		return fmt.Errorf("sim: loss must be in [0, 1)")
	}
	cfg := o.Protocol
	cfg.ID, cfg.N = 0, o.N
	return cfg.Validate()
}

// CrashRecoverOptions is the crash-recovery fault mix: up to f replicas at a
// time lose power at random points (half of the time in the middle of a
// step, after persisting and before sending), stay down for a random time,
// and restart from their Pebble state.
func CrashRecoverOptions(seed uint64, n int) Options {
	o := DefaultOptions(seed, n)
	o.Mix = "crash-recover"
	o.Pebble = true
	o.CrashAfterPersist = 0.5
	o.FaultNet.Loss = 0.05
	return o
}

// MixOptions returns the options of a named fault mix.
func MixOptions(mix string, seed uint64, n int) (Options, error) {
	switch mix {
	case "default", "":
		return DefaultOptions(seed, n), nil
	case "crash-recover":
		return CrashRecoverOptions(seed, n), nil
	}
	return Options{}, fmt.Errorf("sim: unknown fault mix %q (want default or crash-recover)", mix)
}
