package bench

import (
	"math"
	"slices"
	"time"

	"github.com/bftbed/bftbed/pbft"
)

// DefaultSampleInterval is assumed when a result says nothing about its
// sampling interval and its samples do not reveal it.
const DefaultSampleInterval = time.Second

// interval returns the sampling interval: SampleInterval, or else the
// smallest gap between distinct sample times.
func (r *Result) interval() time.Duration {
	if r.SampleInterval > 0 {
		return r.SampleInterval
	}
	var ats []time.Duration
	for _, s := range r.Samples {
		ats = append(ats, s.At)
	}
	slices.Sort(ats)
	gap := time.Duration(0)
	for i := 1; i < len(ats); i++ {
		if d := ats[i] - ats[i-1]; d > 0 && (gap == 0 || d < gap) {
			gap = d
		}
	}
	if gap == 0 {
		return DefaultSampleInterval
	}
	return gap
}

// end returns the length of the run: Scenario.Duration, or the last
// thing recorded.
func (r *Result) end() time.Duration {
	if r.Scenario.Duration > 0 {
		return r.Scenario.Duration
	}
	var t time.Duration
	for _, s := range r.Samples {
		t = max(t, s.At)
	}
	for _, o := range r.History {
		t = max(t, o.Start, o.End)
	}
	return t
}

// f returns the number of tolerated faults.
func (r *Result) f() int {
	if r.Scenario.F > 0 {
		return r.Scenario.F
	}
	return max(0, (r.Scenario.N-1)/3)
}

// bucket is one sampling interval of the whole cluster.
type bucket struct {
	At time.Duration // end of the interval
	// Samples of the non-Byzantine nodes that reported in the interval.
	Samples []Sample
	// Committed is the number of requests the cluster committed in the
	// interval, counted as the (f+1)-th largest count among the
	// non-Byzantine nodes: a client needs f+1 matching replies, so this is
	// the rate at which results became visible to clients, and a crashed
	// or lagging node (up to f of them) does not drag it down.
	Committed float64
	// Throughput is Committed per second.
	Throughput float64
}

// buckets groups the samples by interval. A sample belongs to the interval
// whose end is nearest to its time, so runners whose nodes sample a few
// milliseconds apart still line up.
func (r *Result) buckets() []bucket {
	dt := r.interval()
	byz := r.Byzantine()
	byIdx := map[int64][]Sample{}
	for _, s := range r.Samples {
		if byz[s.Node] {
			continue
		}
		k := int64(math.Round(float64(s.At) / float64(dt)))
		byIdx[k] = append(byIdx[k], s)
	}
	idx := make([]int64, 0, len(byIdx))
	for k := range byIdx {
		idx = append(idx, k)
	}
	slices.Sort(idx)
	out := make([]bucket, 0, len(idx))
	for _, k := range idx {
		ss := byIdx[k]
		slices.SortFunc(ss, func(a, b Sample) int { return int(a.Node) - int(b.Node) })
		counts := make([]float64, len(ss))
		for i, s := range ss {
			counts[i] = float64(s.Committed)
		}
		c := kthLargest(counts, r.f()+1)
		out = append(out, bucket{At: time.Duration(k) * dt, Samples: ss, Committed: c, Throughput: c / dt.Seconds()})
	}
	return out
}

// latencyPoint is the latency of the operations that completed in one
// interval.
type latencyPoint struct {
	At            time.Duration // end of the interval
	P50, P95, P99 time.Duration
	N             int
}

// latencySeries buckets completed operations by completion time, one
// bucket per sampling interval, and takes percentiles in each.
func (r *Result) latencySeries() []latencyPoint {
	dt := r.interval()
	byIdx := map[int64][]time.Duration{}
	for _, o := range r.History {
		if o.Completed {
			k := int64(math.Ceil(float64(o.End) / float64(dt)))
			byIdx[k] = append(byIdx[k], o.End-o.Start)
		}
	}
	idx := make([]int64, 0, len(byIdx))
	for k := range byIdx {
		idx = append(idx, k)
	}
	slices.Sort(idx)
	var out []latencyPoint
	for _, k := range idx {
		l := byIdx[k]
		slices.Sort(l)
		out = append(out, latencyPoint{At: time.Duration(k) * dt, P50: percentile(l, 0.50), P95: percentile(l, 0.95), P99: percentile(l, 0.99), N: len(l)})
	}
	return out
}

// latencies returns the latencies of all completed operations, sorted.
func (r *Result) latencies() []time.Duration {
	var l []time.Duration
	for _, o := range r.History {
		if o.Completed {
			l = append(l, o.End-o.Start)
		}
	}
	slices.Sort(l)
	return l
}

// percentile returns the q-quantile of sorted values by the nearest-rank
// method (an observed value, never an interpolation), 0 when empty.
func percentile(sorted []time.Duration, q float64) time.Duration {
	if len(sorted) == 0 {
		return 0
	}
	i := int(math.Ceil(q*float64(len(sorted)))) - 1
	return sorted[min(max(i, 0), len(sorted)-1)]
}

// nodeIDs returns the nodes that appear in the samples or logs, sorted.
func (r *Result) nodeIDs() []pbft.ReplicaID {
	set := map[pbft.ReplicaID]bool{}
	for _, s := range r.Samples {
		set[s.Node] = true
	}
	for _, l := range r.Logs {
		set[l.Node] = true
	}
	for i := 0; i < r.Scenario.N; i++ {
		set[pbft.ReplicaID(i)] = true
	}
	out := make([]pbft.ReplicaID, 0, len(set))
	for id := range set {
		out = append(out, id)
	}
	slices.Sort(out)
	return out
}
