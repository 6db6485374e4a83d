package bench

import (
	"fmt"
	"sort"

	"github.com/bftbed/bftbed/pbft"
	"github.com/bftbed/bftbed/store"
)

// storeTail is what remains of one node's log in its store after the run:
// the batches it executed above its stable checkpoint, with their requests
// (which /commits does not report), and its checkpoint states.
type storeTail struct {
	node        pbft.ReplicaID
	executed    []pbft.CommittedBatch
	checkpoints []Checkpoint
}

// readStores opens each stopped node's store and loads it. A store that
// cannot be read is reported and skipped: the rest of the record stands.
func (r *testnetRun) readStores() []storeTail {
	var out []storeTail
	for i, nd := range r.desc.Nodes {
		t, err := readStore(pbft.ReplicaID(i), r.desc.Path(nd.DataDir))
		if err != nil {
			r.logf("node %d: reading its store: %v", i, err)
			continue
		}
		out = append(out, t)
	}
	return out
}

// readStore loads one node's store read-only in effect: Load changes
// nothing on disk, and the node is stopped.
func readStore(node pbft.ReplicaID, dir string) (t storeTail, err error) {
	st, err := store.Open(dir, store.Options{})
	if err != nil {
		return t, err
	}
	defer func() {
		if cerr := st.Close(); err == nil && cerr != nil {
			err = cerr
		}
	}()
	rec, err := st.Load()
	if err != nil {
		return t, err
	}
	t.node = node
	t.executed = rec.Executed
	// Only the node's own CHECKPOINT messages say what state it computed
	// itself: the stable checkpoint's digest is what 2f+1 replicas
	// certified, which a diverging replica adopts by state transfer. Its
	// own message may be in the stable checkpoint's proof, and those above
	// the stable checkpoint are in the log.
	var msgs []pbft.Message
	if s := rec.Stable; s != nil {
		for _, cp := range s.Proof {
			msgs = append(msgs, cp)
		}
	}
	for _, m := range append(msgs, rec.Log...) {
		if cp, ok := m.(*pbft.Checkpoint); ok && cp.Replica == node {
			t.checkpoints = append(t.checkpoints, Checkpoint{Seq: cp.Seq, State: Digest(cp.State)})
		}
	}
	return t, nil
}

// mergeStores adds the stores' tails to the logs the monitor recorded: a
// batch from a store replaces the monitor's entry at its seq (it has the
// requests), and the stores' own checkpoints are the logs' checkpoints. It
// feeds every batch to the agreement monitor too, so that a fork hidden in
// the last moments before the stop is still announced. It returns, per
// node, the seqs whose requests are still unknown afterwards.
func (r *testnetRun) mergeStores(res *Result, tails []storeTail) map[pbft.ReplicaID]map[pbft.Seq]bool {
	// requests[seq][digest]: a batch's requests, from any store. Equal
	// digests are equal batches, so one store's batch fills in another
	// node's entry at the same seq and digest.
	requests := map[pbft.Seq]map[Digest][]RequestID{}
	byNode := map[pbft.ReplicaID]*NodeLog{}
	for i := range res.Logs {
		byNode[res.Logs[i].Node] = &res.Logs[i]
	}
	for _, t := range tails {
		l := byNode[t.node]
		if l == nil {
			continue
		}
		at := map[pbft.Seq]int{}
		for i, e := range l.Entries {
			at[e.Seq] = i
		}
		for _, b := range t.executed {
			e := LogEntry{Seq: b.Seq, View: b.View, Digest: Digest(b.Digest), Requests: []RequestID{}}
			for _, q := range b.Batch {
				e.Requests = append(e.Requests, RequestID{Client: ClientName(q.Client), Timestamp: q.Timestamp})
			}
			i, seen := at[b.Seq]
			if seen && l.Entries[i].Digest == e.Digest && l.Entries[i].Requests != nil {
				// The node's own account (/commits) also says which
				// requests exactly-once skipped; the store does not.
				e.Requests = l.Entries[i].Requests
			}
			if requests[b.Seq] == nil {
				requests[b.Seq] = map[Digest][]RequestID{}
			}
			requests[b.Seq][e.Digest] = e.Requests
			if msg := r.mon.agree.observe(-1, t.node, b.Seq, e.Digest); msg != "" {
				r.logf("%s", msg)
			}
			if seen {
				l.Entries[i] = e
			} else {
				l.Entries = append(l.Entries, e)
			}
			l.LastExecuted = max(l.LastExecuted, b.Seq)
		}
		sort.Slice(l.Entries, func(a, b int) bool { return l.Entries[a].Seq < l.Entries[b].Seq })
		have := map[pbft.Seq]bool{}
		for _, c := range l.Checkpoints {
			have[c.Seq] = true
		}
		for _, c := range t.checkpoints {
			if !have[c.Seq] {
				have[c.Seq] = true
				l.Checkpoints = append(l.Checkpoints, c)
			}
		}
		sort.Slice(l.Checkpoints, func(a, b int) bool { return l.Checkpoints[a].Seq < l.Checkpoints[b].Seq })
	}
	unknown := map[pbft.ReplicaID]map[pbft.Seq]bool{}
	for i := range res.Logs {
		l := &res.Logs[i]
		for j := range l.Entries {
			e := &l.Entries[j]
			if e.Requests != nil || !r.mon.hasRequests(l.Node, e.Seq) {
				continue
			}
			if reqs, ok := requests[e.Seq][e.Digest]; ok {
				e.Requests = reqs
				continue
			}
			if unknown[l.Node] == nil {
				unknown[l.Node] = map[pbft.Seq]bool{}
			}
			unknown[l.Node][e.Seq] = true
		}
	}
	return unknown
}

// exactlyOnceOnKnown judges exactly-once execution on the log entries
// whose requests are known. On a testnet those are the batches still in
// some store (above a stable checkpoint) and the null batches; the rest
// are known by digest only, enough for agreement but not for finding a
// request in the logs, and the checker would call every request in them
// lost.
func exactlyOnceOnKnown(res *Result, unknown map[pbft.ReplicaID]map[pbft.Seq]bool) Verdict {
	c := *res
	c.Logs = make([]NodeLog, len(res.Logs))
	dropped := 0
	for i, l := range res.Logs {
		nl := l
		nl.Entries = nil
		for _, e := range l.Entries {
			if unknown[l.Node][e.Seq] {
				dropped++
				continue
			}
			nl.Entries = append(nl.Entries, e)
		}
		c.Logs[i] = nl
	}
	v := ExactlyOnce(&c)
	if dropped > 0 {
		v.Details = append([]string{fmt.Sprintf(
			"judged on the batches whose requests are known: those left in the nodes' stores after the run; "+
				"%d executed batches are known by digest only (/commits reports no request ids) and were left out", dropped)},
			v.Details...)
	}
	return v
}
