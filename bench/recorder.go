package bench

import (
	"slices"
	"sort"
	"time"

	"github.com/bftbed/bftbed/pbft"
)

// Recorder turns the events of a run (commits, status changes, messages,
// client operations) into a Result's samples, logs, heartbeats and history.
// Both runners feed one: the simulator from its observer, the testnet runner
// from the nodes' endpoints. It is not safe for concurrent use.
type Recorder struct {
	interval time.Duration
	n        int
	// per interval index, per node
	counts map[int][]intervalCounts
	last   map[int][]*pbft.Status
	logs   []NodeLog
	cps    []map[pbft.Seq]bool
	beats  map[[2]pbft.ReplicaID][]time.Duration
	hist   []Op
	end    time.Duration
}

type intervalCounts struct {
	committed, msgsSent, bytesSent, msgsRecv, bytesRecv uint64
}

// heartbeatGap thins heartbeats: arrivals closer than this to the previous
// one from the same peer add nothing to a failure detector's estimate.
const heartbeatGap = 5 * time.Millisecond

// NewRecorder returns a recorder for n nodes sampling every interval.
func NewRecorder(n int, interval time.Duration) *Recorder {
	r := &Recorder{
		interval: interval, n: n,
		counts: map[int][]intervalCounts{}, last: map[int][]*pbft.Status{},
		beats: map[[2]pbft.ReplicaID][]time.Duration{},
	}
	for i := 0; i < n; i++ {
		r.logs = append(r.logs, NodeLog{Node: pbft.ReplicaID(i)})
		r.cps = append(r.cps, map[pbft.Seq]bool{})
	}
	return r
}

func (r *Recorder) slot(at time.Duration) int {
	r.end = max(r.end, at)
	return int(at / r.interval)
}

func (r *Recorder) countsAt(at time.Duration, node int) *intervalCounts {
	i := r.slot(at)
	if r.counts[i] == nil {
		r.counts[i] = make([]intervalCounts, r.n)
	}
	return &r.counts[i][node]
}

// Commit records that node executed b at time at.
func (r *Recorder) Commit(at time.Duration, node pbft.ReplicaID, b pbft.CommittedBatch) {
	if int(node) >= r.n {
		return
	}
	r.countsAt(at, int(node)).committed += uint64(len(b.Batch))
	e := LogEntry{Seq: b.Seq, View: b.View, Digest: Digest(b.Digest)}
	if len(b.Batch) > 0 {
		e.Requests = make([]RequestID, 0, len(b.Batch)-len(b.Skipped))
	}
	for i, req := range b.Batch {
		if !slices.Contains(b.Skipped, i) { // requests that ran, not the ones exactly-once skipped
			e.Requests = append(e.Requests, RequestID{Client: ClientName(req.Client), Timestamp: req.Timestamp})
		}
	}
	log := &r.logs[node]
	log.Entries = append(log.Entries, e)
	log.LastExecuted = max(log.LastExecuted, b.Seq)
}

// Status records node's status at time at.
func (r *Recorder) Status(at time.Duration, st pbft.Status) {
	node := int(st.ID)
	if node >= r.n {
		return
	}
	i := r.slot(at)
	if r.last[i] == nil {
		r.last[i] = make([]*pbft.Status, r.n)
	}
	s := st
	r.last[i][node] = &s
}

// OwnCheckpoint records the state digest node computed itself at a
// checkpoint (its own CHECKPOINT message): what the state check compares.
func (r *Recorder) OwnCheckpoint(node pbft.ReplicaID, seq pbft.Seq, state pbft.Digest) {
	if int(node) >= r.n || r.cps[node][seq] {
		return
	}
	r.cps[node][seq] = true
	r.logs[node].Checkpoints = append(r.logs[node].Checkpoints, Checkpoint{Seq: seq, State: Digest(state)})
}

// Sent records a message of size bytes sent by node.
func (r *Recorder) Sent(at time.Duration, node int, size int) {
	if node < 0 || node >= r.n {
		return
	}
	c := r.countsAt(at, node)
	c.msgsSent++
	c.bytesSent += uint64(size)
}

// Received records a message of size bytes that reached node from peer
// (peer < 0: a client). A message from a replica is also a heartbeat.
func (r *Recorder) Received(at time.Duration, node, peer int, size int) {
	if node < 0 || node >= r.n {
		return
	}
	c := r.countsAt(at, node)
	c.msgsRecv++
	c.bytesRecv += uint64(size)
	if peer < 0 || peer >= r.n || peer == node {
		return
	}
	k := [2]pbft.ReplicaID{pbft.ReplicaID(node), pbft.ReplicaID(peer)}
	if b := r.beats[k]; len(b) == 0 || at-b[len(b)-1] >= heartbeatGap {
		r.beats[k] = append(b, at)
	}
}

// Operation records a client operation.
func (r *Recorder) Operation(op Op) {
	r.end = max(r.end, op.End)
	r.hist = append(r.hist, op)
}

// Finish writes what was recorded into res, up to time end.
func (r *Recorder) Finish(res *Result, end time.Duration) {
	end = max(end, r.end)
	res.SampleInterval = r.interval
	res.History = r.hist
	sort.SliceStable(res.History, func(i, j int) bool { return res.History[i].Start < res.History[j].Start })
	for i := range r.logs {
		sort.Slice(r.logs[i].Entries, func(a, b int) bool { return r.logs[i].Entries[a].Seq < r.logs[i].Entries[b].Seq })
	}
	res.Logs = r.logs
	state := make([]pbft.Status, r.n)
	for i := range state {
		state[i].ID = pbft.ReplicaID(i)
	}
	for i := 0; time.Duration(i)*r.interval < end; i++ {
		for node := 0; node < r.n; node++ {
			if l := r.last[i]; l != nil && l[node] != nil {
				state[node] = *l[node]
			}
			var c intervalCounts
			if cs := r.counts[i]; cs != nil {
				c = cs[node]
			}
			st := state[node]
			res.Samples = append(res.Samples, Sample{
				At: time.Duration(i+1) * r.interval, Node: pbft.ReplicaID(node),
				View: st.View, ViewChanging: st.ViewChanging, LastExecuted: st.LastExecuted,
				Committed: c.committed, StableSeq: st.StableSeq,
				MsgsSent: c.msgsSent, BytesSent: c.bytesSent, MsgsRecv: c.msgsRecv, BytesRecv: c.bytesRecv,
			})
		}
	}
	keys := make([][2]pbft.ReplicaID, 0, len(r.beats))
	for k := range r.beats {
		keys = append(keys, k)
	}
	sort.Slice(keys, func(i, j int) bool {
		if keys[i][0] != keys[j][0] {
			return keys[i][0] < keys[j][0]
		}
		return keys[i][1] < keys[j][1]
	})
	for _, k := range keys {
		res.Heartbeats = append(res.Heartbeats, Heartbeats{Observer: k[0], Peer: k[1], Arrivals: r.beats[k]})
	}
}
