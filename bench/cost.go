package bench

import (
	"time"

	"github.com/bftbed/bftbed/pbft"
)

// Cost is what the run delivered and what it took.
type Cost struct {
	Duration time.Duration `json:"duration_ns"` // length of the run
	// CommittedRequests is the number of requests the most advanced
	// correct node executed; Throughput is that per second of the run.
	CommittedRequests uint64  `json:"committed_requests"`
	Throughput        float64 `json:"throughput_rps"` // see CommittedRequests
	// Client-side counts: operations completed, and outstanding at the
	// end (outcome unknown).
	Completed  int `json:"completed_ops"`
	Incomplete int `json:"incomplete_ops"` // see Completed
	// Latency of the completed operations, from request to accepted
	// result.
	Latency Latency `json:"latency"`
	// Messages and bytes sent by all nodes, and per committed request:
	// the protocol's communication cost.
	MsgsSent    uint64  `json:"msgs_sent"`
	BytesSent   uint64  `json:"bytes_sent"`
	MsgsPerReq  float64 `json:"msgs_per_request"`
	BytesPerReq float64 `json:"bytes_per_request"`
	// Nodes breaks the counters down per node.
	Nodes []NodeCost `json:"nodes"`
}

// Latency summarises a latency distribution (nearest-rank percentiles).
type Latency struct {
	P50  time.Duration `json:"p50_ns"`  // median
	P95  time.Duration `json:"p95_ns"`  // 95th percentile
	P99  time.Duration `json:"p99_ns"`  // 99th percentile
	Max  time.Duration `json:"max_ns"`  // slowest operation
	Mean time.Duration `json:"mean_ns"` // arithmetic mean
}

// NodeCost is one node's share of the cost.
type NodeCost struct {
	Node pbft.ReplicaID `json:"node"` // the node
	// Sums of the node's samples over the run: requests it executed,
	// messages and bytes it sent and received.
	Committed uint64 `json:"committed"`
	MsgsSent  uint64 `json:"msgs_sent"`
	BytesSent uint64 `json:"bytes_sent"`
	MsgsRecv  uint64 `json:"msgs_recv"`
	BytesRecv uint64 `json:"bytes_recv"`
	// CPUSeconds is the node's total CPU time and CPUPerReq that per
	// committed request (of the cluster); PeakRSS its largest resident
	// set. All zero when not measured.
	CPUSeconds float64 `json:"cpu_s,omitempty"`
	CPUPerReq  float64 `json:"cpu_s_per_request,omitempty"`
	PeakRSS    uint64  `json:"peak_rss_bytes,omitempty"`
}

// MeasureCost computes throughput, latency and resource use.
func MeasureCost(r *Result) *Cost {
	c := &Cost{Duration: r.end()}
	byz := r.Byzantine()
	per := map[pbft.ReplicaID]*NodeCost{}
	for _, id := range r.nodeIDs() {
		per[id] = &NodeCost{Node: id}
	}
	for _, s := range r.Samples {
		n := per[s.Node]
		n.Committed += s.Committed
		n.MsgsSent += s.MsgsSent
		n.BytesSent += s.BytesSent
		n.MsgsRecv += s.MsgsRecv
		n.BytesRecv += s.BytesRecv
		n.CPUSeconds += s.CPUSeconds
		n.PeakRSS = max(n.PeakRSS, s.RSSBytes)
		c.MsgsSent += s.MsgsSent
		c.BytesSent += s.BytesSent
	}
	for _, id := range r.nodeIDs() {
		n := per[id]
		if !byz[id] {
			c.CommittedRequests = max(c.CommittedRequests, n.Committed)
		}
	}
	if c.Duration > 0 {
		c.Throughput = float64(c.CommittedRequests) / c.Duration.Seconds()
	}
	if c.CommittedRequests > 0 {
		c.MsgsPerReq = float64(c.MsgsSent) / float64(c.CommittedRequests)
		c.BytesPerReq = float64(c.BytesSent) / float64(c.CommittedRequests)
	}
	for _, id := range r.nodeIDs() {
		n := per[id]
		if c.CommittedRequests > 0 {
			n.CPUPerReq = n.CPUSeconds / float64(c.CommittedRequests)
		}
		c.Nodes = append(c.Nodes, *n)
	}
	for _, o := range r.History {
		if o.Completed {
			c.Completed++
		} else {
			c.Incomplete++
		}
	}
	c.Latency = summarise(r.latencies())
	return c
}

// summarise computes a Latency from sorted latencies.
func summarise(sorted []time.Duration) Latency {
	if len(sorted) == 0 {
		return Latency{}
	}
	var sum time.Duration
	for _, d := range sorted {
		sum += d
	}
	return Latency{
		P50:  percentile(sorted, 0.50),
		P95:  percentile(sorted, 0.95),
		P99:  percentile(sorted, 0.99),
		Max:  sorted[len(sorted)-1],
		Mean: sum / time.Duration(len(sorted)),
	}
}
