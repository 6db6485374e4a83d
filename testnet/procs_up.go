package testnet

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"sync"
	"time"
)

// DefaultStartTimeout bounds the wait for started nodes to become healthy.
const DefaultStartTimeout = 60 * time.Second

// healthPoll is the period of health checks while waiting for nodes.
const healthPoll = 200 * time.Millisecond

// UpOptions says how to start a testnet.
type UpOptions struct {
	StartOptions
	// Timeout bounds the wait for every node to be healthy (default
	// DefaultStartTimeout).
	Timeout time.Duration
	// Grace is how long nodes get after SIGTERM when a failed start is
	// undone (default DefaultGrace).
	Grace time.Duration
	// Progress, if set, is called after each round of health checks while
	// waiting.
	Progress func(StartProgress)
}

// StartProgress is the state of a wait for nodes to become healthy.
type StartProgress struct {
	Elapsed time.Duration
	// Healthy counts the nodes whose /healthz answered 200, of Total.
	Healthy, Total int
	// Waiting lists the ids of the others.
	Waiting []int
}

func (o UpOptions) withDefaults() UpOptions {
	if o.Timeout <= 0 {
		o.Timeout = DefaultStartTimeout
	}
	if o.Grace <= 0 {
		o.Grace = DefaultGrace
	}
	return o
}

// ErrAlreadyRunning is returned by Up when a node of the testnet runs.
var ErrAlreadyRunning = errors.New("testnet already running")

// Up starts every node and waits until all of them are healthy. If that
// fails (a node exits, the timeout passes, or ctx is cancelled, as by a
// Ctrl-C) it stops every node it started before returning the error, so a
// failed Up leaves no process behind. It refuses a testnet any of whose
// nodes is already running.
func (d *Description) Up(ctx context.Context, opts UpOptions) ([]*Proc, error) {
	opts = opts.withDefaults()
	var running []string
	var stopped []int
	for i := range d.Nodes {
		if pid, ok := d.Running(i); ok {
			running = append(running, fmt.Sprintf("node %d (pid %d)", i, pid))
		} else {
			stopped = append(stopped, i)
			d.RemovePIDFile(i) // stale: the node crashed or was killed
		}
	}
	if len(running) > 0 {
		hint := fmt.Sprintf("stop it with `bftbed testnet down %s`", d.dir)
		if len(stopped) > 0 {
			hint += fmt.Sprintf(", or start the stopped node %d alone with `bftbed testnet restart %s %d`", stopped[0], d.dir, stopped[0])
		}
		return nil, fmt.Errorf("%w: %s; %s", ErrAlreadyRunning, strings.Join(running, ", "), hint)
	}
	var procs []*Proc
	for i := range d.Nodes {
		p, err := d.StartNode(i, opts.StartOptions)
		if err != nil {
			_, _ = d.StopProcs(procs, opts.Grace)
			return nil, err
		}
		procs = append(procs, p)
	}
	if err := d.WaitHealthy(ctx, procs, opts.Timeout, opts.Progress); err != nil {
		_, _ = d.StopProcs(procs, opts.Grace)
		return nil, err
	}
	return procs, nil
}

// Restart starts node id again (from its data directory, unless
// opts.ExtraArgs says otherwise) and waits until it is healthy; on failure
// it stops it again.
func (d *Description) Restart(ctx context.Context, id int, opts UpOptions) (*Proc, error) {
	opts = opts.withDefaults()
	p, err := d.StartNode(id, opts.StartOptions)
	if err != nil {
		return nil, err
	}
	if err := d.WaitHealthy(ctx, []*Proc{p}, opts.Timeout, opts.Progress); err != nil {
		_, _ = d.StopProcs([]*Proc{p}, opts.Grace)
		return nil, err
	}
	return p, nil
}

// WaitHealthy polls the /healthz of the procs' nodes until every one
// answers 200. It fails at once when one of the processes exits (with the
// end of its log), when timeout passes (naming the nodes still unhealthy
// and why), or when ctx ends.
func (d *Description) WaitHealthy(ctx context.Context, procs []*Proc, timeout time.Duration, progress func(StartProgress)) error {
	start := time.Now()
	deadline := time.NewTimer(timeout)
	defer deadline.Stop()
	tick := time.NewTicker(healthPoll)
	defer tick.Stop()
	healthy := make([]bool, len(procs))
	reasons := make([]error, len(procs))
	for {
		for _, p := range procs {
			if p.Exited() {
				return d.exitedError(p)
			}
		}
		var wg sync.WaitGroup
		for i, p := range procs {
			if healthy[i] {
				continue
			}
			wg.Go(func() {
				cctx, cancel := context.WithTimeout(ctx, time.Second)
				defer cancel()
				reasons[i] = CheckHealth(cctx, &d.Nodes[p.ID])
				healthy[i] = reasons[i] == nil
			})
		}
		wg.Wait()
		sp := StartProgress{Elapsed: time.Since(start), Total: len(procs)}
		for i, p := range procs {
			if healthy[i] {
				sp.Healthy++
			} else {
				sp.Waiting = append(sp.Waiting, p.ID)
			}
		}
		if progress != nil {
			progress(sp)
		}
		if sp.Healthy == sp.Total {
			return nil
		}
		select {
		case <-ctx.Done():
			return ctx.Err()
		case <-deadline.C:
			var bad []string
			for i, p := range procs {
				if !healthy[i] {
					bad = append(bad, fmt.Sprintf("node %d (%v; log %s)", p.ID, reasons[i], d.Path(d.Nodes[p.ID].Log)))
				}
			}
			return fmt.Errorf("not healthy after %s: %s", timeout, strings.Join(bad, ", "))
		case <-tick.C:
		}
	}
}

// exitedError describes a node process that exited while it should run,
// with the end of its log, which usually says why.
func (d *Description) exitedError(p *Proc) error {
	logPath := d.Path(d.Nodes[p.ID].Log)
	msg := fmt.Sprintf("node %d (pid %d) exited during startup (%v); the end of %s:", p.ID, p.PID, p.Err(), logPath)
	tail := TailFile(logPath, 15)
	if tail == "" {
		tail = "(empty)"
	}
	return fmt.Errorf("%s\n%s", msg, indent(tail, "    "))
}

// indent prefixes every line of s.
func indent(s, prefix string) string {
	return prefix + strings.ReplaceAll(s, "\n", "\n"+prefix)
}
