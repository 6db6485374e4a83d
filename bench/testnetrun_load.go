package bench

import (
	"context"
	"sync"
	"time"

	"github.com/bftbed/bftbed/bench/load"
	"github.com/bftbed/bftbed/crypto"
)

// benchTarget wraps the load's target for two things bench/load does not
// do itself:
//
//   - the start gate: load.Run connects its clients and has each read one
//     key (the warm-up) before its measured run starts. The faults and the
//     monitor must count from the same instant as the load, so the gate
//     fires when the last warm-up read returns, which is when the load's
//     clock starts (load.Result.Start, a few microseconds later, gives
//     the exact offset);
//   - think time: a closed-loop client of a scenario pauses between a
//     reply and its next operation. The wrapped client sleeps after each
//     reply and remembers when the reply came, since the load's own
//     record of the operation ends after the pause.
type benchTarget struct {
	inner   load.Target
	think   time.Duration
	clients int

	mu      sync.Mutex
	arrived int
	t0      time.Time
	ready   chan struct{}
	calls   map[int][]callRecord // per client index, its calls after the warm-up
}

// callRecord is one measured call of a client: whether it reached the
// client library at all, and when it returned.
type callRecord struct {
	sent bool
	end  time.Time
}

func newBenchTarget(inner load.Target, clients int, think time.Duration) *benchTarget {
	return &benchTarget{inner: inner, think: think, clients: clients, ready: make(chan struct{}), calls: map[int][]callRecord{}}
}

// NewClient implements load.Target.
func (t *benchTarget) NewClient(ctx context.Context, i int) (load.Client, error) {
	c, err := t.inner.NewClient(ctx, i)
	if err != nil {
		return nil, err
	}
	return &benchClient{Client: c, t: t, idx: i}, nil
}

// warmedUp counts a client's first operation, its warm-up, as done.
func (t *benchTarget) warmedUp() {
	t.mu.Lock()
	defer t.mu.Unlock()
	t.arrived++
	if t.arrived == t.clients {
		t.t0 = time.Now()
		close(t.ready)
	}
}

// callsOf returns client i's measured calls, in order.
func (t *benchTarget) callsOf(i int) []callRecord {
	t.mu.Lock()
	defer t.mu.Unlock()
	return t.calls[i]
}

// record notes client i's call.
func (t *benchTarget) record(i int, c callRecord) {
	t.mu.Lock()
	defer t.mu.Unlock()
	t.calls[i] = append(t.calls[i], c)
}

// benchClient is one client of a benchTarget. load.Run uses each client
// from one goroutine at a time, so calls needs no lock.
type benchClient struct {
	load.Client
	t     *benchTarget
	idx   int
	calls int
}

// Invoke implements load.Client.
func (c *benchClient) Invoke(ctx context.Context, op []byte) ([]byte, uint64, error) {
	c.calls++
	warmup := c.calls == 1
	if !warmup && ctx.Err() != nil {
		// Interrupted: the load's workers may call again before they
		// notice. Such an operation never left; it is not history.
		c.t.record(c.idx, callRecord{end: time.Now()})
		return nil, 0, ctx.Err()
	}
	res, ts, err := c.Client.Invoke(ctx, op)
	end := time.Now()
	if warmup {
		c.t.warmedUp()
		return res, ts, err
	}
	c.t.record(c.idx, callRecord{sent: true, end: end})
	if c.t.think > 0 {
		pause := time.NewTimer(c.t.think)
		select {
		case <-pause.C:
		case <-ctx.Done():
			pause.Stop()
		}
	}
	return res, ts, err
}

// historyFromLoad turns the load's records into the Result's history,
// with times counted from t0. Clients are named as the replicas' logs name
// them (ClientName), an operation ends when its reply came (before any
// think time), and operations never sent (after an interruption) are left
// out.
func historyFromLoad(lr *load.Result, t0 time.Time, target *benchTarget) []Op {
	offset := lr.Start.Sub(t0)
	names := make([]string, len(lr.ClientIDs))
	for i, id := range lr.ClientIDs {
		names[i] = id
		if key, err := crypto.ParsePublicKey(id); err == nil {
			names[i] = ClientName(key)
		}
	}
	next := map[int]int{} // per client, its records seen so far
	out := make([]Op, 0, len(lr.History))
	for _, rec := range lr.History {
		op := Op{
			Timestamp: rec.Timestamp, Kind: rec.Kind, Key: rec.Key, Value: rec.Value, Expected: rec.Expected,
			Start: rec.Start + offset, Completed: rec.OK,
		}
		if rec.Client >= 0 && rec.Client < len(names) {
			op.Client = names[rec.Client]
		}
		// The k-th record of a client is its k-th measured operation:
		// the history is sorted by start, and a client's operations
		// start in order.
		k := next[rec.Client]
		next[rec.Client]++
		calls := target.callsOf(rec.Client)
		if k < len(calls) && !calls[k].sent {
			continue
		}
		if rec.OK {
			op.End = rec.End + offset
			if k < len(calls) {
				op.End = calls[k].end.Sub(t0)
			}
			if rec.Result != nil {
				op.Output = OpResult(*rec.Result)
			}
		}
		out = append(out, op)
	}
	return out
}
