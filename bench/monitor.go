package bench

import (
	"context"
	"sync"
	"time"

	"github.com/bftbed/bftbed/pbft"
	"github.com/bftbed/bftbed/testnet"
)

// monitor watches a running testnet from outside: every sampling interval
// it polls each node's /status, /commits (only what is new since the last
// poll) and /metrics, and the node process's CPU time and resident set in
// /proc, and feeds a Recorder. It also runs the agreement monitor live, so
// a fork is reported the moment it becomes visible rather than after the
// run.
//
// Each node is polled by its own goroutine: a paused node (SIGSTOP) accepts
// connections but never answers, and must not hold up the others.
type monitor struct {
	desc     *testnet.Description
	interval time.Duration
	f        int
	byz      map[pbft.ReplicaID]bool
	http     *monitorClient
	logf     func(format string, args ...any)

	t0 time.Time // set by run, before any poll

	mu    sync.Mutex
	rec   *Recorder
	extra map[int][]extraCounts // by interval slot, then node
	nodes []*nodeState
	agree *agreementMonitor
	pids  map[int]bool // every node process seen, for the final check
	// withRequests marks, per node, the seqs /commits reported with
	// requests in them, whose request ids it does not give.
	withRequests map[pbft.ReplicaID]map[pbft.Seq]bool
}

// extraCounts are the per-interval counters the Recorder does not take from
// a testnet (it counts from events, and the endpoints report totals):
// requests committed, traffic, CPU and memory.
type extraCounts struct {
	committed                                uint64
	msgsSent, bytesSent, msgsRecv, bytesRecv uint64
	cpuSeconds                               float64
	rssBytes                                 uint64
}

// nodeState is what the monitor remembers of one node between polls. Only
// that node's goroutine touches it, except the fields it writes under
// monitor.mu for progress reports.
type nodeState struct {
	id int
	// after is the highest sequence number fetched from /commits.
	after uint64
	// traffic is the last /metrics reading (nil before the first).
	traffic *trafficCounters
	// pid and cpuTicks are the process and its CPU time at the last poll.
	pid      int
	cpuTicks uint64
	// lastPoll is when the last poll ended (valid once polled is set).
	lastPoll time.Duration
	polled   bool
	// Under monitor.mu: the last status (nil while the node does not
	// answer), and the requests committed so far with their history, for
	// the live rate.
	status    *testnet.NodeStatus
	committed uint64
	history   []ratePoint
}

// ratePoint is a node's committed-requests total at a time.
type ratePoint struct {
	at        time.Duration
	committed uint64
}

// newMonitor returns a monitor for desc feeding rec. byz lists the nodes
// the agreement monitor leaves out (Byzantine per the scenario).
func newMonitor(desc *testnet.Description, rec *Recorder, interval time.Duration, byz map[pbft.ReplicaID]bool,
	logf func(string, ...any)) *monitor {
	m := &monitor{
		desc: desc, interval: interval, f: desc.F, byz: byz, rec: rec,
		http:  newMonitorClient(len(desc.Nodes), pollTimeout(interval)),
		logf:  logf,
		extra: map[int][]extraCounts{},
		agree: newAgreementMonitor(byz),
		pids:  map[int]bool{},

		withRequests: map[pbft.ReplicaID]map[pbft.Seq]bool{},
	}
	if m.logf == nil {
		m.logf = func(string, ...any) {}
	}
	for i := range desc.Nodes {
		m.nodes = append(m.nodes, &nodeState{id: i})
	}
	return m
}

// pollTimeout bounds one HTTP request of a poll: long enough for a node
// busy on two shared cores, short enough that a paused node costs only a
// few missed samples.
func pollTimeout(interval time.Duration) time.Duration {
	return min(max(2*interval, 500*time.Millisecond), 2*time.Second)
}

// run polls every node from t0 until ctx ends, then once more, so that the
// last commits before the end are in. It returns when every poller has
// stopped.
func (m *monitor) run(ctx context.Context, t0 time.Time) {
	m.t0 = t0
	var wg sync.WaitGroup
	for _, ns := range m.nodes {
		wg.Go(func() { m.pollLoop(ctx, ns) })
	}
	wg.Wait()
	m.http.close()
}

// pollLoop polls one node at t0 and then every interval, on the interval
// grid (a slow poll skips ticks rather than drifting).
func (m *monitor) pollLoop(ctx context.Context, ns *nodeState) {
	m.poll(ctx, ns)
	tick := time.NewTicker(m.interval)
	defer tick.Stop()
	for {
		select {
		case <-ctx.Done():
			// A last poll with a fresh context: the commits of the
			// final interval belong in the record.
			fctx, cancel := context.WithTimeout(context.Background(), pollTimeout(m.interval))
			m.poll(fctx, ns)
			cancel()
			return
		case <-tick.C:
			m.poll(ctx, ns)
		}
	}
}

// since returns the time since t0.
func (m *monitor) since() time.Duration { return time.Since(m.t0) }

// slot returns the counters of node in the interval holding at, as the
// Recorder numbers intervals.
func (m *monitor) slot(at time.Duration, node int) *extraCounts {
	i := int(max(at, 0) / m.interval)
	if m.extra[i] == nil {
		m.extra[i] = make([]extraCounts, len(m.nodes))
	}
	return &m.extra[i][node]
}

// fillSamples writes the monitor's own counters into the samples the
// Recorder produced (matching them by interval and node): requests
// committed from /commits, traffic from /metrics, CPU and memory from
// /proc.
func (m *monitor) fillSamples(res *Result) {
	m.mu.Lock()
	defer m.mu.Unlock()
	for i := range res.Samples {
		s := &res.Samples[i]
		slot := int(s.At/m.interval) - 1
		cs := m.extra[slot]
		if cs == nil || int(s.Node) >= len(cs) {
			s.Committed = 0
			continue
		}
		c := cs[s.Node]
		s.Committed = c.committed
		s.MsgsSent, s.BytesSent, s.MsgsRecv, s.BytesRecv = c.msgsSent, c.bytesSent, c.msgsRecv, c.bytesRecv
		s.CPUSeconds, s.RSSBytes = c.cpuSeconds, c.rssBytes
	}
}

// hasRequests reports whether node's batch at seq held requests.
func (m *monitor) hasRequests(node pbft.ReplicaID, seq pbft.Seq) bool {
	m.mu.Lock()
	defer m.mu.Unlock()
	return m.withRequests[node][seq]
}

// seenPIDs returns every node process id the monitor saw.
func (m *monitor) seenPIDs() []int {
	m.mu.Lock()
	defer m.mu.Unlock()
	out := make([]int, 0, len(m.pids))
	for pid := range m.pids {
		out = append(out, pid)
	}
	return out
}
