package bench

import (
	"encoding/binary"
	"flag"
	"fmt"
	"math/rand/v2"
	"slices"
	"testing"
	"time"

	"github.com/bftbed/bftbed/crypto"
	"github.com/bftbed/bftbed/pbft"
	"github.com/bftbed/bftbed/pbft/kv"
)

// keep, if set, is a folder the report tests also write into, so a person
// can look at the plots: go test ./bench -run Report -bench.keep=/tmp/r
var keep = flag.String("bench.keep", "", "also write the synthetic reports into this folder")

const (
	ms = time.Millisecond
	s  = time.Second
)

// synthetic builds a plausible run of 4 nodes over 60 one-second
// intervals with two fault windows:
//
//   - n3 crashes at 15s and recovers at 25s (it misses heartbeats and
//     samples, and catches up by state transfer);
//   - n0, the primary, equivocates from 35s to 45s: progress stalls until
//     the others change to view 1 at 38s.
//
// Its history is linearizable by construction: every operation is
// executed by the real kv.Store in the order of linearization points that
// lie inside the operations' intervals. Logs, checkpoints (snapshot
// digests of that store), samples and heartbeats are derived from the
// same execution, so every checker passes on it.
func synthetic(t testing.TB) *Result {
	t.Helper()
	rng := rand.New(rand.NewPCG(1, 2))
	const (
		n        = 4
		clients  = 8
		keys     = 10
		duration = 60 * s
	)
	crashFrom, crashUntil := 15*s, 25*s
	stallFrom, stallUntil := 35*s, 38*s // equivocation until the view change completes
	r := &Result{
		Scenario: Scenario{
			Name: "synthetic-crash-and-equivocation", Description: "n3 crashes and recovers; the primary n0 equivocates",
			Mode: ModeSim, Seed: 1, N: n, F: 1, Duration: duration,
			File: "scenarios/synthetic.yaml", Text: "name: synthetic\nn: 4\nfaults:\n  - crash-recover n3 15s-25s\n  - equivocate n0 35s-45s\n",
		},
		Faults: []FaultWindow{
			{Behaviour: "crash-recover", Nodes: []pbft.ReplicaID{3}, From: crashFrom, Until: crashUntil},
			{Behaviour: "equivocate", Nodes: []pbft.ReplicaID{0}, From: 35 * s, Until: 45 * s, Byzantine: true},
		},
		Expect:         Expect{RecoverWithin: 5 * s},
		SampleInterval: s,
	}

	// Closed-loop clients: think, send, wait.
	type pending struct {
		op  Op
		lin time.Duration
		enc []byte
	}
	var ops []pending
	for c := 0; c < clients; c++ {
		ts := uint64(0)
		for at := time.Duration(rng.Int64N(int64(40 * ms))); ; {
			lat := time.Duration(2+rng.IntN(6)) * ms
			if at >= crashFrom && at < crashUntil {
				lat += time.Duration(rng.IntN(4)) * ms // one backup fewer to gather quorums from
			}
			if at >= stallFrom-lat && at < stallUntil {
				lat = stallUntil - at + time.Duration(2+rng.IntN(20))*ms // waits for the new view
			}
			end := at + lat
			if end > duration-50*ms {
				break
			}
			ts++
			key := fmt.Sprintf("k%d", rng.IntN(keys))
			val := fmt.Sprintf("c%d.%d;", c, ts)
			var enc []byte
			switch x := rng.IntN(10); {
			case x < 3:
				enc = kv.EncodePut([]byte(key), []byte(val))
			case x < 7:
				enc = kv.EncodeGet([]byte(key))
			case x < 9:
				enc = kv.EncodeAppend([]byte(key), []byte(val))
			default:
				enc = kv.EncodeCAS([]byte(key), nil, []byte(val))
			}
			dec, err := kv.DecodeOp(enc)
			if err != nil {
				t.Fatal(err)
			}
			op := OpFromKV(dec)
			op.Client, op.Timestamp, op.Start, op.End, op.Completed = fmt.Sprintf("c%d", c), ts, at, end, true
			// The request commits shortly before the reply reaches
			// the client.
			lin := end - time.Duration(rng.Int64N(int64(min(lat, 2*ms))))
			ops = append(ops, pending{op: op, lin: lin, enc: enc})
			at = end + time.Duration(20+rng.IntN(30))*ms
		}
	}
	slices.SortFunc(ops, func(a, b pending) int { return int(a.lin - b.lin) })

	// Execute in linearization order, batching requests that commit in
	// the same 20 ms slot into one sequence number.
	store := kv.New()
	type batch struct {
		entry LogEntry
		at    time.Duration
		state Digest // set at checkpoints
	}
	var batches []batch
	const slot = 20 * ms
	for i := 0; i < len(ops); {
		j := i
		for j < len(ops) && ops[j].lin/slot == ops[i].lin/slot {
			j++
		}
		seq := pbft.Seq(len(batches) + 1)
		var ids []RequestID
		var parts [][]byte
		for k := i; k < j; k++ {
			p := &ops[k]
			res := store.Execute(seq, []pbft.Operation{{Timestamp: p.op.Timestamp, Op: p.enc}})
			kr, err := kv.DecodeResult(res[0])
			if err != nil {
				t.Fatal(err)
			}
			p.op.Output = ResultFromKV(kr)
			ids = append(ids, RequestID{p.op.Client, p.op.Timestamp})
			parts = append(parts, p.enc)
		}
		b := batch{entry: LogEntry{Seq: seq, Digest: Digest(crypto.Hash(parts...)), Requests: ids}, at: (ops[i].lin/slot + 1) * slot}
		if b.at > stallUntil {
			b.entry.View = 1
		}
		if seq%64 == 0 {
			b.state = Digest(crypto.Hash(store.Snapshot()))
		}
		batches = append(batches, b)
		i = j
	}
	for _, p := range ops {
		r.History = append(r.History, p.op)
	}
	// A few operations are still outstanding at the end.
	r.History = append(r.History, Op{Client: "c0", Timestamp: 100000, Kind: KindAppend, Key: "k1", Value: "late;", Start: duration - 20*ms})

	// Logs: n3 misses what committed while it was down and until the
	// checkpoint it fetched by state transfer.
	down := func(id pbft.ReplicaID, at time.Duration) bool {
		return id == 3 && at >= crashFrom && at < crashUntil
	}
	var transferTo pbft.Seq
	for _, b := range batches {
		if b.at < crashUntil+300*ms && b.state != (Digest{}) {
			transferTo = b.entry.Seq
		}
	}
	for id := pbft.ReplicaID(0); id < n; id++ {
		l := NodeLog{Node: id, LastExecuted: batches[len(batches)-1].entry.Seq}
		for _, b := range batches {
			skipped := id == 3 && b.at >= crashFrom && b.entry.Seq <= transferTo
			if !skipped {
				l.Entries = append(l.Entries, b.entry)
			}
			if b.state != (Digest{}) && (!skipped || b.entry.Seq == transferTo) {
				l.Checkpoints = append(l.Checkpoints, Checkpoint{Seq: b.entry.Seq, State: b.state})
			}
		}
		r.Logs = append(r.Logs, l)
	}

	// Samples, one per node per second.
	for k := 1; k <= int(duration/s); k++ {
		at := time.Duration(k) * s
		for id := pbft.ReplicaID(0); id < n; id++ {
			if down(id, at-1) {
				continue
			}
			sm := Sample{At: at, Node: id}
			for _, b := range batches {
				if b.at <= at {
					sm.LastExecuted = b.entry.Seq
					if b.state != (Digest{}) {
						sm.StableSeq = b.entry.Seq
					}
				}
				if b.at > at-s && b.at <= at && !(id == 3 && b.at >= crashFrom && b.entry.Seq <= transferTo) {
					sm.Committed += uint64(len(b.entry.Requests))
					sm.MsgsSent += 2 * (n - 1)
					if id == 0 || (at > stallUntil && id == 1) {
						sm.MsgsSent += n - 1 // the primary's PRE-PREPARE
					}
				}
			}
			sm.MsgsSent += sm.Committed // replies
			sm.MsgsRecv = sm.MsgsSent
			sm.BytesSent, sm.BytesRecv = 310*sm.MsgsSent, 305*sm.MsgsRecv
			switch {
			case at > stallFrom && at <= stallUntil:
				sm.ViewChanging = id != 0
			case at > stallUntil:
				sm.View = 1
			}
			sm.CPUSeconds = 0.02 + 25e-6*float64(sm.Committed)
			sm.RSSBytes = uint64(40<<20 + k*(256<<10) + int(id)*(1<<20))
			r.Samples = append(r.Samples, sm)
		}
	}

	// Heartbeats: every message counts; the runner keeps about one per
	// 20 ms per pair.
	for o := pbft.ReplicaID(0); o < n; o++ {
		for p := pbft.ReplicaID(0); p < n; p++ {
			if o == p {
				continue
			}
			h := Heartbeats{Observer: o, Peer: p}
			for at := time.Duration(rng.Int64N(int64(20 * ms))); at < duration; at += time.Duration(15+rng.IntN(11)) * ms {
				if !down(o, at) && !down(p, at) {
					h.Arrivals = append(h.Arrivals, at)
				}
			}
			r.Heartbeats = append(r.Heartbeats, h)
		}
	}
	return r
}

// entry is a log entry with a digest derived from a label.
func entry(seq pbft.Seq, label string, reqs ...RequestID) LogEntry {
	var b [8]byte
	binary.BigEndian.PutUint64(b[:], uint64(seq))
	return LogEntry{Seq: seq, Digest: Digest(crypto.Hash(b[:], []byte(label))), Requests: reqs}
}

// logOf builds a log of entries 1..upTo with the same content on every
// replica, requests (client "c", ts = seq) one per entry.
func logOf(id pbft.ReplicaID, upTo pbft.Seq) NodeLog {
	l := NodeLog{Node: id, LastExecuted: upTo}
	for s := pbft.Seq(1); s <= upTo; s++ {
		l.Entries = append(l.Entries, entry(s, "batch", RequestID{"c", uint64(s)}))
	}
	return l
}
