package bench

import (
	"context"
	"errors"
	"fmt"
	"os"
	"sync"
	"sync/atomic"
	"time"

	"github.com/bftbed/bftbed/adversary"
	"github.com/bftbed/bftbed/bench/load"
	"github.com/bftbed/bftbed/testnet"
)

// DefaultTestnetGrace is how long nodes get to exit after SIGTERM at the
// end of a testnet run before they are killed.
const DefaultTestnetGrace = 5 * time.Second

// TestnetOptions tune RunTestnet.
type TestnetOptions struct {
	// Seed derives the testnet's keys and seeds the load and the
	// adversary; 0 means the scenario's seed.
	Seed uint64
	// Dir is where the testnet is generated (replacing a testnet there,
	// never while one of its nodes runs) and is kept afterwards; "" means
	// a fresh temporary directory.
	Dir string
	// Keep keeps the temporary directory after the run (keys, configs,
	// node logs, stores); otherwise it is removed. It is also kept when
	// stopping the nodes failed.
	Keep bool
	// Exe is the bftbed binary the nodes run; "" means this program.
	Exe string
	// ReportDir is where Check writes a linearizability violation's
	// visualisation; "" writes none.
	ReportDir string
	// Grace is how long nodes get after SIGTERM when they are stopped
	// (default DefaultTestnetGrace).
	Grace time.Duration
	// Progress, if set, is called about once a second with the run's
	// live state, from one goroutine.
	Progress func(TestnetProgress)
	// Logf, if set, receives one line per event worth a line of its own:
	// the phases, each fault event, and at once any agreement violation.
	// It may be called from several goroutines.
	Logf func(format string, args ...any)
}

// RunTestnet runs a scenario on a real local testnet and returns its
// result, checked:
//
//  1. it generates a testnet of the scenario's size and protocol
//     parameters on free loopback ports, with keys derived from the seed,
//     starts its nodes (`bftbed node` processes) and waits until they are
//     healthy;
//  2. from one start time t0 it runs, together, the scenario's load for
//     its duration (bench/load over libp2p), its fault timeline
//     (testnet.Apply) and a monitor that polls every node each sampling
//     interval and checks agreement live;
//  3. it stops every node, whatever happened (an error, ctx cancelled by
//     a Ctrl-C), and makes sure no node process is left;
//  4. it reads what remains of each node's log in its store, checks
//     agreement on it too, and builds and checks the Result.
//
// Like RunSim, it sets sc.Seed to the run's seed: the adversary's open
// choices are drawn from it.
//
// When ctx ends during the run, RunTestnet still stops the nodes and
// returns the result of the part that ran (its duration cut to it) with
// ctx's error. Other errors come with a nil result, except those found
// after the run (a fault that could not be applied, a process left
// behind), which come with the result.
func RunTestnet(ctx context.Context, sc *adversary.Scenario, opts TestnetOptions) (*Result, error) {
	r := newTestnetRun(sc, opts)
	defer r.cleanup()
	if err := r.start(ctx); err != nil {
		return nil, err
	}
	out, runErr := r.run(ctx)
	stopErr := r.stop()
	if out == nil {
		return nil, errors.Join(runErr, stopErr)
	}
	res := r.finish(out)
	if ctx.Err() != nil {
		return res, errors.Join(ctx.Err(), stopErr)
	}
	return res, errors.Join(runErr, stopErr)
}

// testnetRun is one RunTestnet in progress.
type testnetRun struct {
	sc   *adversary.Scenario
	opts TestnetOptions
	seed uint64
	logf func(format string, args ...any)

	dir     string // the testnet directory
	tempDir bool   // dir was made here (removed unless Keep)
	desc    *testnet.Description
	procs   []*testnet.Proc
	started time.Time

	res *Result
	rec *Recorder
	mon *monitor

	phase         atomic.Value // string
	ops, opErrors atomic.Int64

	stopOnce sync.Once
	stopErr  error
}

func newTestnetRun(sc *adversary.Scenario, opts TestnetOptions) *testnetRun {
	r := &testnetRun{sc: sc, opts: opts, seed: opts.Seed, logf: opts.Logf}
	if r.seed == 0 {
		r.seed = sc.Seed
	}
	// As in the simulator runner: the adversary's open choices (say,
	// equivocate's split) are drawn from the run's seed.
	sc.Seed = r.seed
	if r.logf == nil {
		r.logf = func(string, ...any) {}
	}
	if r.opts.Grace <= 0 {
		r.opts.Grace = DefaultTestnetGrace
	}
	r.phase.Store(PhaseStarting)
	r.res = newResult(sc, ModeTestnet, r.seed)
	r.rec = NewRecorder(sc.Testnet.N, sampleInterval(sc.Duration))
	return r
}

// start generates the testnet and starts its nodes.
func (r *testnetRun) start(ctx context.Context) error {
	r.started = time.Now()
	dir := r.opts.Dir
	if dir == "" {
		var err error
		if dir, err = os.MkdirTemp("", "bftbed-bench-"); err != nil {
			return err
		}
		r.tempDir = true
	}
	r.dir = dir
	desc, err := testnet.Generate(generateOptions(r.sc, dir, r.seed))
	if err != nil {
		return fmt.Errorf("generating the testnet: %w", err)
	}
	r.desc = desc
	r.logf("testnet %q: %d nodes in %s", desc.Cluster, desc.N, desc.Dir())
	procs, err := desc.Up(ctx, testnet.UpOptions{StartOptions: testnet.StartOptions{Exe: r.opts.Exe}, Grace: r.opts.Grace})
	if err != nil {
		return fmt.Errorf("starting the testnet: %w", err)
	}
	r.procs = procs
	r.logf("all %d nodes healthy after %s", desc.N, fmtDur(time.Since(r.started)))
	r.mon = newMonitor(desc, r.rec, r.rec.interval, r.res.Byzantine(), r.logf)
	return nil
}

// cleanup stops the nodes if stop has not run (a panic, an early return)
// and removes a temporary testnet directory unless asked to keep it.
func (r *testnetRun) cleanup() {
	_ = r.stop()
	if r.dir == "" {
		return
	}
	if r.opts.Keep || r.stopErr != nil {
		r.logf("testnet kept in %s", r.dir)
		return
	}
	if r.tempDir {
		_ = os.RemoveAll(r.dir)
	}
}

// loadConfig is the scenario's load for bench/load.
func (r *testnetRun) loadConfig() load.Config {
	l := r.sc.Load
	return load.Config{
		Clients:  l.Clients,
		Rate:     l.Rate,
		Duration: r.sc.Duration,
		Payload:  l.Payload,
		Keys:     l.Keys,
		Mix:      load.Mix{Put: l.Mix.Put, Get: l.Mix.Get, Append: l.Mix.Append, CAS: l.Mix.CAS},
		Seed:     r.seed,
		Progress: func(p load.Progress) {
			r.ops.Store(p.Committed)
			r.opErrors.Store(p.Errors)
		},
	}
}
