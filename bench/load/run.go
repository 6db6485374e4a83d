package load

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"sync/atomic"
	"time"

	"github.com/bftbed/bftbed/pbft/kv"
)

// connectParallel bounds how many clients are set up at once: each is a
// libp2p host doing handshakes with every replica, and a burst of hundreds
// would slow the replicas it is meant to measure.
const connectParallel = 16

// ErrUnreachable is returned by Run when every warm-up read failed: the
// cluster answers nobody, so there is nothing to measure.
var ErrUnreachable = errors.New("load: the cluster does not answer")

// Run connects cfg.Clients clients to target, warms them up, issues
// operations for cfg.Duration (closed or open loop, see the package doc),
// waits for the operations in flight, closes the clients and returns what
// happened. If ctx ends early, Run cancels the operations in flight and
// returns the partial result with Interrupted set; it returns an error only
// when the run could not start (bad configuration, a client that could not
// be created, or ErrUnreachable).
func Run(ctx context.Context, cfg Config, target Target) (*Result, error) {
	cfg, err := cfg.withDefaults()
	if err != nil {
		return nil, err
	}
	clients, err := connect(ctx, cfg, target)
	if err != nil {
		return nil, err
	}
	defer closeAll(clients)
	r := newRunner(cfg, clients)
	if !cfg.SkipWarmup {
		r.warmup(ctx)
	}
	if ctx.Err() != nil {
		return nil, fmt.Errorf("load: interrupted before the run started: %w", ctx.Err())
	}
	if !cfg.SkipWarmup && r.warmupErrs.Load() == int64(len(clients)) {
		return nil, fmt.Errorf("%w: no client got an answer within %s", ErrUnreachable, cfg.OpTimeout)
	}
	return r.run(ctx), nil
}

// connect creates the clients, connectParallel at a time.
func connect(ctx context.Context, cfg Config, target Target) ([]Client, error) {
	clients := make([]Client, cfg.Clients)
	errs := make([]error, cfg.Clients)
	sem := make(chan struct{}, connectParallel)
	var wg sync.WaitGroup
	for i := range clients {
		wg.Go(func() {
			sem <- struct{}{}
			defer func() { <-sem }()
			if ctx.Err() != nil {
				errs[i] = ctx.Err()
				return
			}
			clients[i], errs[i] = target.NewClient(ctx, i)
		})
	}
	wg.Wait()
	if err := errors.Join(errs...); err != nil {
		closeAll(clients)
		return nil, fmt.Errorf("load: creating clients: %w", err)
	}
	return clients, nil
}

// closeAll closes the clients that exist, concurrently.
func closeAll(clients []Client) {
	var wg sync.WaitGroup
	for _, c := range clients {
		if c != nil {
			wg.Go(func() { _ = c.Close() })
		}
	}
	wg.Wait()
}

// runner is one run in progress.
type runner struct {
	cfg     Config
	workers []*worker
	start   time.Time
	ctr     counters
	// next is the next open-loop slot, or (closed loop) the number of
	// operations claimed, for MaxOps.
	next atomic.Int64
	// recorded counts history records kept, against MaxHistory.
	recorded atomic.Int64
	// stopIssuing is closed when no more operations may start: the
	// duration passed, MaxOps was reached, or the context ended.
	stopIssuing chan struct{}
	stopOnce    sync.Once
	stoppedAt   atomic.Int64 // time since start when issuing stopped
	byMaxOps    atomic.Bool
	warmupErrs  atomic.Int64
}

// worker is one client's goroutine state; only that goroutine touches it
// until the run ends.
type worker struct {
	idx     int
	client  Client
	gen     *opGen
	records []Record
	samples []sample
	issued  int
	dropped int
	errs    map[string]int
}

func newRunner(cfg Config, clients []Client) *runner {
	r := &runner{cfg: cfg, stopIssuing: make(chan struct{})}
	for i, c := range clients {
		r.workers = append(r.workers, &worker{idx: i, client: c, gen: newOpGen(&r.cfg, i), errs: map[string]int{}})
	}
	return r
}

// warmup has every client read one key, outside the measurement, so that
// connections and the clients' guess of the primary are settled.
func (r *runner) warmup(ctx context.Context) {
	var wg sync.WaitGroup
	for _, w := range r.workers {
		wg.Go(func() {
			octx, cancel := context.WithTimeout(ctx, r.cfg.OpTimeout)
			defer cancel()
			if _, _, err := w.client.Invoke(octx, kv.EncodeGet([]byte(r.cfg.KeyPrefix+"warmup"))); err != nil {
				r.warmupErrs.Add(1)
			}
		})
	}
	wg.Wait()
}

// since returns the time since the run started.
func (r *runner) since() time.Duration { return time.Since(r.start) }

// endIssuing stops the issuing of operations, once.
func (r *runner) endIssuing() {
	r.stopOnce.Do(func() {
		r.stoppedAt.Store(int64(r.since()))
		close(r.stopIssuing)
	})
}

// issuing reports whether operations may still start.
func (r *runner) issuing() bool {
	select {
	case <-r.stopIssuing:
		return false
	default:
		return true
	}
}

// run issues the load and collects the result.
func (r *runner) run(ctx context.Context) *Result {
	// opCtx ends the operations in flight only when the caller's context
	// ends; the end of the duration lets them finish (each bounded by
	// OpTimeout).
	opCtx, cancelOps := context.WithCancel(ctx)
	defer cancelOps()
	r.start = time.Now()
	durTimer := time.AfterFunc(r.cfg.Duration, r.endIssuing)
	defer durTimer.Stop()
	stopWatch := context.AfterFunc(ctx, r.endIssuing)
	defer stopWatch()

	var wg sync.WaitGroup
	for _, w := range r.workers {
		if r.cfg.Rate > 0 {
			wg.Go(func() { r.openLoop(opCtx, w) })
		} else {
			wg.Go(func() { r.closedLoop(opCtx, w) })
		}
	}
	done := make(chan struct{})
	go func() { wg.Wait(); close(done) }()
	r.reportProgress(done)
	return r.collect(ctx.Err() != nil)
}

// closedLoop sends the worker's next operation as soon as the last one
// completes, until issuing stops.
func (r *runner) closedLoop(ctx context.Context, w *worker) {
	for r.issuing() {
		if r.cfg.MaxOps > 0 && r.next.Add(1) > int64(r.cfg.MaxOps) {
			r.byMaxOps.Store(true)
			r.endIssuing()
			return
		}
		r.do(ctx, w, w.gen.next(), -1)
	}
}

// openLoop claims the next slot of the schedule, waits until it is due
// and sends it. A worker that comes back late claims a slot already due
// and sends at once: its latency still counts from the slot's time.
func (r *runner) openLoop(ctx context.Context, w *worker) {
	for {
		i := r.next.Add(1) - 1
		if r.cfg.MaxOps > 0 && i >= int64(r.cfg.MaxOps) {
			r.byMaxOps.Store(true)
			r.endIssuing()
			return
		}
		due := r.slot(i)
		if due >= r.cfg.Duration {
			return
		}
		if wait := due - r.since(); wait > 0 {
			t := time.NewTimer(wait)
			select {
			case <-t.C:
			case <-r.stopIssuing:
				t.Stop()
				return
			}
		}
		if !r.issuing() {
			return
		}
		r.do(ctx, w, w.gen.next(), due)
	}
}

// slot returns when open-loop operation i is due. Computing it from i
// (rather than adding intervals) keeps rounding from drifting.
func (r *runner) slot(i int64) time.Duration {
	return time.Duration(float64(i) / r.cfg.Rate * float64(time.Second))
}

// do runs one operation due at intended and records it; a negative
// intended (closed loop) means "now".
func (r *runner) do(ctx context.Context, w *worker, op genOp, intended time.Duration) {
	rec := op.rec
	rec.Start = r.since()
	rec.Intended = intended
	if intended < 0 {
		rec.Intended = rec.Start
	}
	r.ctr.inFlight.Add(1)
	octx, cancel := context.WithTimeout(ctx, r.cfg.OpTimeout)
	res, ts, err := w.client.Invoke(octx, op.bytes)
	cancel()
	rec.End = r.since()
	r.ctr.inFlight.Add(-1)
	rec.Timestamp = ts
	if err == nil {
		kr, derr := kv.DecodeResult(res)
		if derr != nil {
			err = fmt.Errorf("undecodable result: %w", derr)
		} else {
			rec.OK, rec.Result = true, resultFromKV(kr)
		}
	}
	w.issued++
	if err != nil {
		rec.Error = r.describe(err)
		w.errs[rec.Error]++
		r.ctr.errors.Add(1)
	} else {
		r.ctr.committed.Add(1)
		w.gen.observe(&rec)
	}
	w.samples = append(w.samples, sample{end: rec.End, latency: rec.Latency(), ok: rec.OK})
	if r.recorded.Add(1) <= int64(r.cfg.MaxHistory) {
		w.records = append(w.records, rec)
	} else {
		w.dropped++
	}
}

// reportProgress calls cfg.Progress every ProgressEvery until done is
// closed, then once more with Done set.
func (r *runner) reportProgress(done <-chan struct{}) {
	var m meter
	snapshot := func(final bool) Progress {
		el := r.since()
		c := r.ctr.committed.Load()
		return Progress{
			Elapsed:   el,
			Duration:  r.cfg.Duration,
			Committed: c,
			Errors:    r.ctr.errors.Load(),
			InFlight:  r.ctr.inFlight.Load(),
			Rate:      m.observe(el, c),
			Draining:  !r.issuing(),
			Done:      final,
		}
	}
	tick := time.NewTicker(r.cfg.ProgressEvery)
	defer tick.Stop()
	for {
		select {
		case <-done:
			if r.cfg.Progress != nil {
				r.cfg.Progress(snapshot(true))
			}
			return
		case <-tick.C:
			if r.cfg.Progress != nil {
				r.cfg.Progress(snapshot(false))
			}
		}
	}
}
