package load

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/bftbed/bftbed/pbft"
	"github.com/bftbed/bftbed/pbft/kv"
)

// fakeTarget serves operations from one kv store behind a mutex, each
// after a delay that a test can change (to simulate a stall).
type fakeTarget struct {
	mu    sync.Mutex
	store *kv.Store
	seq   pbft.Seq
	delay atomic.Int64 // time.Duration
	fail  atomic.Bool  // operations fail at once
}

func newFakeTarget(delay time.Duration) *fakeTarget {
	t := &fakeTarget{store: kv.New()}
	t.delay.Store(int64(delay))
	return t
}

func (t *fakeTarget) NewClient(_ context.Context, i int) (Client, error) {
	return &fakeClient{t: t, id: fmt.Sprintf("client-%d", i)}, nil
}

type fakeClient struct {
	t  *fakeTarget
	id string
	ts uint64
}

func (c *fakeClient) ID() string   { return c.id }
func (c *fakeClient) Close() error { return nil }

func (c *fakeClient) Invoke(ctx context.Context, op []byte) ([]byte, uint64, error) {
	c.ts++
	if c.t.fail.Load() {
		return nil, c.ts, errors.New("refused")
	}
	select {
	case <-time.After(time.Duration(c.t.delay.Load())):
	case <-ctx.Done():
		return nil, c.ts, ctx.Err()
	}
	c.t.mu.Lock()
	defer c.t.mu.Unlock()
	c.t.seq++
	return c.t.store.Execute(c.t.seq, []pbft.Operation{{Timestamp: c.ts, Op: op}})[0], c.ts, nil
}

func TestClosedLoop(t *testing.T) {
	target := newFakeTarget(2 * time.Millisecond)
	var progress []Progress
	res, err := Run(context.Background(), Config{
		Clients:  8,
		Duration: 300 * time.Millisecond,
		Mix:      Mix{Put: 2, Get: 1, Append: 1, CAS: 1},
		Progress: func(p Progress) { progress = append(progress, p) },
	}, target)
	if err != nil {
		t.Fatal(err)
	}
	if res.Mode != "closed" || res.Errors != 0 || res.Committed == 0 || res.Committed != res.Issued {
		t.Fatalf("mode %s issued %d committed %d errors %d", res.Mode, res.Issued, res.Committed, res.Errors)
	}
	// 8 clients, 2ms each: about 4 ops/ms at most.
	if res.Committed > 8*300/2+8 {
		t.Fatalf("%d committed: more than 8 clients at 2ms can do", res.Committed)
	}
	if len(res.History) != res.Issued || len(res.ClientIDs) != 8 {
		t.Fatalf("%d records, %d client ids", len(res.History), len(res.ClientIDs))
	}
	kinds := map[string]int{}
	for i, r := range res.History {
		kinds[r.Kind]++
		if !r.OK || r.Result == nil || r.End < r.Start || r.Intended != r.Start || r.Timestamp == 0 {
			t.Fatalf("record %d: %+v", i, r)
		}
		if i > 0 && r.Start < res.History[i-1].Start {
			t.Fatal("history not in order of start")
		}
		if (r.Kind == "Put" || r.Kind == "Append" || r.Kind == "CAS") && len(r.Value) < DefaultPayload {
			t.Fatalf("value %q shorter than the payload", r.Value)
		}
	}
	if len(kinds) != 4 {
		t.Fatalf("mix gave kinds %v", kinds)
	}
	if res.Latency.P50 < 2*time.Millisecond || res.Latency.Max < res.Latency.P99 || res.Latency.Count != res.Committed {
		t.Fatalf("latency %+v", res.Latency)
	}
	if res.Throughput <= 0 || len(res.Timeline) == 0 {
		t.Fatalf("throughput %v timeline %v", res.Throughput, res.Timeline)
	}
	last := progress[len(progress)-1]
	if !last.Done || last.Committed != int64(res.Committed) || last.InFlight != 0 {
		t.Fatalf("last progress %+v", last)
	}
}

func TestValuesUnique(t *testing.T) {
	res, err := Run(context.Background(), Config{Clients: 4, Duration: 100 * time.Millisecond, Payload: 8, SkipWarmup: true}, newFakeTarget(0))
	if err != nil {
		t.Fatal(err)
	}
	seen := map[string]bool{}
	for _, r := range res.History {
		if seen[r.Value] {
			t.Fatalf("value %q written twice", r.Value)
		}
		seen[r.Value] = true
	}
}

func TestMaxOps(t *testing.T) {
	for _, rate := range []float64{0, 5000} {
		res, err := Run(context.Background(), Config{Clients: 4, Rate: rate, Duration: time.Minute, MaxOps: 50, SkipWarmup: true}, newFakeTarget(time.Millisecond))
		if err != nil {
			t.Fatal(err)
		}
		if res.Issued != 50 || res.Committed != 50 || res.Elapsed >= time.Minute {
			t.Fatalf("rate %v: issued %d committed %d elapsed %s", rate, res.Issued, res.Committed, res.Elapsed)
		}
	}
}

func TestOpenLoopRate(t *testing.T) {
	res, err := Run(context.Background(), Config{Clients: 16, Rate: 1000, Duration: 500 * time.Millisecond, SkipWarmup: true}, newFakeTarget(time.Millisecond))
	if err != nil {
		t.Fatal(err)
	}
	if res.Mode != "open" || res.Issued < 450 || res.Issued > 501 || res.Unsent > 50 {
		t.Fatalf("issued %d unsent %d at 1000/s for 0.5s", res.Issued, res.Unsent)
	}
	for _, r := range res.History {
		if r.Start < r.Intended-time.Millisecond {
			t.Fatalf("sent %s before due %s", r.Start, r.Intended)
		}
	}
}

// TestOpenLoopNoCoordinatedOmission stalls the target for 300ms in the
// middle of an open-loop run: every operation due during the stall must
// show the wait in its latency, though the clients could not send it.
func TestOpenLoopNoCoordinatedOmission(t *testing.T) {
	target := newFakeTarget(time.Millisecond)
	go func() {
		time.Sleep(300 * time.Millisecond)
		target.delay.Store(int64(300 * time.Millisecond))
		time.Sleep(300 * time.Millisecond)
		target.delay.Store(int64(time.Millisecond))
	}()
	res, err := Run(context.Background(), Config{Clients: 4, Rate: 200, Duration: 1200 * time.Millisecond, SkipWarmup: true}, target)
	if err != nil {
		t.Fatal(err)
	}
	// About 60 operations were due during the stall; 4 clients could
	// send only 4 of them. Their latencies must all be long.
	slow := 0
	for _, r := range res.History {
		if r.Latency() > 100*time.Millisecond {
			slow++
		}
		if r.Start-r.Intended > 100*time.Millisecond && r.Latency() < r.Start-r.Intended {
			t.Fatalf("latency %s shorter than the wait to send %s", r.Latency(), r.Start-r.Intended)
		}
	}
	if slow < 30 {
		t.Fatalf("only %d of %d operations slow after a 300ms stall: coordinated omission", slow, len(res.History))
	}
	if res.Latency.P99 < 200*time.Millisecond {
		t.Fatalf("p99 %s hides the stall", res.Latency.P99)
	}
}

func TestErrorsCounted(t *testing.T) {
	target := newFakeTarget(0)
	target.fail.Store(true)
	res, err := Run(context.Background(), Config{Clients: 2, Duration: 50 * time.Millisecond, SkipWarmup: true}, target)
	if err != nil {
		t.Fatal(err)
	}
	if res.Committed != 0 || res.Errors == 0 || res.ErrorCounts["refused"] != res.Errors {
		t.Fatalf("committed %d errors %d %v", res.Committed, res.Errors, res.ErrorCounts)
	}
}

func TestOpTimeoutBoundsRun(t *testing.T) {
	target := newFakeTarget(time.Hour) // never answers
	start := time.Now()
	res, err := Run(context.Background(), Config{Clients: 3, Duration: 100 * time.Millisecond, OpTimeout: 200 * time.Millisecond, SkipWarmup: true}, target)
	if err != nil {
		t.Fatal(err)
	}
	if took := time.Since(start); took > 2*time.Second {
		t.Fatalf("run took %s", took)
	}
	if res.Errors != 3 || res.Committed != 0 || res.ErrorCounts["no result within 200ms"] != 3 {
		t.Fatalf("errors %d committed %d %v", res.Errors, res.Committed, res.ErrorCounts)
	}
}

func TestUnreachable(t *testing.T) {
	start := time.Now()
	_, err := Run(context.Background(), Config{Clients: 3, Duration: time.Minute, OpTimeout: 200 * time.Millisecond}, newFakeTarget(time.Hour))
	if !errors.Is(err, ErrUnreachable) || time.Since(start) > 2*time.Second {
		t.Fatalf("%v after %s", err, time.Since(start))
	}
}

func TestInterrupt(t *testing.T) {
	ctx, cancel := context.WithCancel(context.Background())
	time.AfterFunc(150*time.Millisecond, cancel)
	res, err := Run(ctx, Config{Clients: 2, Duration: time.Minute, SkipWarmup: true}, newFakeTarget(time.Millisecond))
	if err != nil {
		t.Fatal(err)
	}
	if !res.Interrupted || res.Elapsed > 5*time.Second || res.Committed == 0 {
		t.Fatalf("interrupted %v elapsed %s committed %d", res.Interrupted, res.Elapsed, res.Committed)
	}
}

func TestConfigErrors(t *testing.T) {
	for _, cfg := range []Config{
		{},
		{Duration: time.Second, Rate: -1},
		{Duration: time.Second, Clients: -2},
		{Duration: time.Second, Payload: kv.MaxValueSize + 1},
	} {
		if _, err := Run(context.Background(), cfg, newFakeTarget(0)); err == nil {
			t.Errorf("config %+v accepted", cfg)
		}
	}
}

func TestParseMix(t *testing.T) {
	m, err := ParseMix("put=8, get=2,cas=1")
	if err != nil || m != (Mix{Put: 8, Get: 2, CAS: 1}) || m.String() != "put=8,get=2,cas=1" {
		t.Fatalf("%+v %v", m, err)
	}
	for _, bad := range []string{"", "put", "put=-1", "del=1", "put=0", "put=x", "get=NaN"} {
		if _, err := ParseMix(bad); err == nil {
			t.Errorf("ParseMix(%q) accepted", bad)
		}
	}
}

func TestQuantile(t *testing.T) {
	var lat []time.Duration
	for i := 1; i <= 100; i++ {
		lat = append(lat, time.Duration(i))
	}
	l := summarizeLatencies(lat)
	if l.P50 != 50 || l.P95 != 95 || l.P99 != 99 || l.Max != 100 || l.Min != 1 || l.Mean != 50 {
		t.Fatalf("%+v", l)
	}
	if q := quantile([]time.Duration{7}, 0.99); q != 7 {
		t.Fatal(q)
	}
}

func TestMeter(t *testing.T) {
	var m meter
	for i := 0; i <= 40; i++ { // 10 seconds at 100/s, read every 250ms
		r := m.observe(time.Duration(i)*250*time.Millisecond, int64(i*25))
		if i > 0 && (r < 99 || r > 101) {
			t.Fatalf("reading %d: rate %v", i, r)
		}
	}
	if len(m.at) > 6 {
		t.Fatalf("meter keeps %d readings", len(m.at))
	}
}
