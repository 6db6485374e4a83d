package daemon

import (
	"slices"
	"sort"
	"sync"

	"github.com/bftbed/bftbed/pbft"
)

// Commit is one executed batch as /commits reports it: what the agreement
// monitor compares across replicas (no two correct replicas may execute
// different digests at one seq).
type Commit struct {
	Seq    uint64 `json:"seq"`
	View   uint64 `json:"view"`
	Digest string `json:"digest"` // hex SHA-256 of the batch
	// Requests is the number of requests in the batch (0 for a null
	// batch).
	Requests int `json:"requests"`
	// Ops names each request of the batch, in order: what the
	// exactly-once checker needs to see every execution.
	Ops []CommitOp `json:"ops,omitempty"`
}

// CommitOp is one request of an executed batch.
type CommitOp struct {
	Client string `json:"client"` // hex Ed25519 public key
	TS     uint64 `json:"ts"`
	// Skipped marks a request that did not run here because it had run
	// before (exactly-once; pbft.CommittedBatch.Skipped).
	Skipped bool `json:"skipped,omitempty"`
}

// commitEntry is a Commit as kept in the ring: the digest stays binary
// until someone asks, since most are never read.
type commitEntry struct {
	seq, view uint64
	digest    pbft.Digest
	requests  int
	batch     []*pbft.Request // shared with the node's log; never modified
	skipped   []int           // indexes into batch that did not run
}

// commitLog keeps the last executed batches in a ring, in sequence order
// (the node executes in order; a state transfer only skips ahead).
type commitLog struct {
	mu    sync.Mutex
	ring  []commitEntry
	start int // index of the oldest entry
	n     int // entries held
}

func newCommitLog(size int) *commitLog {
	if size <= 0 {
		size = DefaultCommitLog
	}
	return &commitLog{ring: make([]commitEntry, size)}
}

// add records an executed batch, overwriting the oldest when full. It runs
// on the core goroutine, so it only copies a few words.
func (l *commitLog) add(b pbft.CommittedBatch) {
	e := commitEntry{seq: uint64(b.Seq), view: uint64(b.View), digest: b.Digest, requests: len(b.Batch), batch: b.Batch, skipped: b.Skipped}
	l.mu.Lock()
	if l.n < len(l.ring) {
		l.ring[(l.start+l.n)%len(l.ring)] = e
		l.n++
	} else {
		l.ring[l.start] = e
		l.start = (l.start + 1) % len(l.ring)
	}
	l.mu.Unlock()
}

// after returns, in sequence order, at most limit of the kept batches
// whose seq is above seq (all of them if limit <= 0).
func (l *commitLog) after(seq uint64, limit int) []Commit {
	l.mu.Lock()
	at := func(i int) *commitEntry { return &l.ring[(l.start+i)%len(l.ring)] }
	first := sort.Search(l.n, func(i int) bool { return at(i).seq > seq })
	count := l.n - first
	if limit > 0 {
		count = min(count, limit)
	}
	entries := make([]commitEntry, count)
	for i := range entries {
		entries[i] = *at(first + i)
	}
	l.mu.Unlock()
	out := make([]Commit, count)
	for i, e := range entries {
		out[i] = Commit{Seq: e.seq, View: e.view, Digest: e.digest.Hex(), Requests: e.requests}
		for j, req := range e.batch {
			if req != nil {
				out[i].Ops = append(out[i].Ops, CommitOp{Client: req.Client.Hex(), TS: req.Timestamp, Skipped: slices.Contains(e.skipped, j)})
			}
		}
	}
	return out
}
