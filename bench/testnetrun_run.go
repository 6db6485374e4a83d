package bench

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"time"

	"github.com/bftbed/bftbed/bench/load"
	"github.com/bftbed/bftbed/testnet"
)

// runOutput is what the run phase produced.
type runOutput struct {
	load   *load.Result
	target *benchTarget
	t0     time.Time
	// end is when the monitor stopped, from t0.
	end time.Duration
}

// run drives the load, the fault timeline and the monitor from one start
// time, until the load is over (its duration and the drain of the
// operations in flight) or ctx ends. The output is nil only when the load
// never started.
func (r *testnetRun) run(ctx context.Context) (*runOutput, error) {
	peers, err := r.desc.Peers()
	if err != nil {
		return nil, err
	}
	cfg := r.loadConfig()
	think := time.Duration(0)
	if cfg.Rate == 0 {
		think = r.sc.Load.Think
	}
	target := newBenchTarget(&load.P2PTarget{Cluster: r.desc.Cluster, Peers: peers}, cfg.Clients, think)
	runCtx, cancelRun := context.WithCancel(ctx)
	defer cancelRun()

	var lres *load.Result
	var lerr error
	loadDone := make(chan struct{})
	go func() {
		defer close(loadDone)
		lres, lerr = load.Run(runCtx, cfg, target)
	}()
	r.logf("load: %s", describeLoad(cfg, think))
	select {
	case <-target.ready:
	case <-loadDone:
		// It failed (or was interrupted) before its measured run.
		return nil, fmt.Errorf("load: %w", lerr)
	}
	t0 := target.t0
	r.phase.Store(PhaseRunning)

	var wg sync.WaitGroup
	monCtx, stopMonitor := context.WithCancel(runCtx)
	defer stopMonitor()
	wg.Go(func() { r.mon.run(monCtx, t0) })

	applyCtx, cancelApply := context.WithCancel(runCtx)
	defer cancelApply()
	var applyErr error
	applyDone := make(chan struct{})
	go func() {
		defer close(applyDone)
		// Restarted nodes and twins run the same binary as the others.
		applyErr = testnet.Apply(applyCtx, r.dir, r.desc, r.sc, r.seed, t0, r.logf, testnet.StartOptions{Exe: r.opts.Exe})
		if applyErr != nil && applyCtx.Err() == nil {
			// The faults are not what the scenario says: the run
			// would measure something else. Stop it.
			r.logf("!!! fault timeline failed: %v", applyErr)
			cancelRun()
		}
	}()

	progressDone := make(chan struct{})
	wg.Go(func() { r.reportProgress(t0, progressDone) })

	<-loadDone
	// The load is over. The fault timeline ends by the end of the
	// duration, so it is over too, or about to be; one still busy (a
	// restart that takes long) did not do what the scenario says.
	// Cancelling it runs its cleanup (a paused node resumed) before the
	// nodes are stopped.
	unfinished := false
	if runCtx.Err() == nil {
		select {
		case <-applyDone:
		case <-time.After(applyGrace):
			unfinished = true
		}
	}
	cancelApply()
	<-applyDone
	stopMonitor()
	close(progressDone)
	wg.Wait()
	out := &runOutput{load: lres, target: target, t0: t0, end: time.Since(t0)}
	if lerr != nil {
		// load.Run fails only before its measured run; here that is an
		// interruption during the warm-up's last moments.
		return nil, fmt.Errorf("load: %w", lerr)
	}
	switch {
	case unfinished:
		return out, fmt.Errorf("fault timeline: still running %s after the load ended (%v)", fmtDur(applyGrace), applyErr)
	case applyErr != nil && !errors.Is(applyErr, context.Canceled):
		return out, fmt.Errorf("fault timeline: %w", applyErr)
	}
	return out, nil
}

// applyGrace is how long the fault timeline may still run after the load:
// both end with the duration, in either order by a hair.
const applyGrace = time.Second

// reportProgress calls the Progress option every second until done.
func (r *testnetRun) reportProgress(t0 time.Time, done <-chan struct{}) {
	if r.opts.Progress == nil {
		return
	}
	tick := time.NewTicker(time.Second)
	defer tick.Stop()
	for {
		r.opts.Progress(r.progress(time.Since(t0)))
		select {
		case <-done:
			return
		case <-tick.C:
		}
	}
}

// progress assembles the live state at elapsed.
func (r *testnetRun) progress(elapsed time.Duration) TestnetProgress {
	p := TestnetProgress{
		Phase: r.phase.Load().(string), Elapsed: elapsed, Duration: r.sc.Duration,
		Faults: activeFaults(r.res.Faults, elapsed, r.sc.Duration),
		Ops:    r.ops.Load(), OpErrors: r.opErrors.Load(),
	}
	if p.Phase == PhaseRunning && elapsed >= r.sc.Duration {
		p.Phase = PhaseDraining
	}
	r.mon.progress(&p)
	return p
}

// describeLoad says in a line what load runs.
func describeLoad(cfg load.Config, think time.Duration) string {
	shape := fmt.Sprintf("closed loop, %d clients thinking %s", cfg.Clients, fmtDur(think))
	if cfg.Rate > 0 {
		shape = fmt.Sprintf("open loop, %.0f ops/s by up to %d clients", cfg.Rate, cfg.Clients)
	}
	return fmt.Sprintf("%s for %s, %d-byte values, %d keys, mix %s", shape, fmtDur(cfg.Duration), cfg.Payload, cfg.Keys, cfg.Mix)
}
