package bench

import (
	"fmt"

	"github.com/bftbed/bftbed/pbft"
)

// ExactlyOnce checks PBFT's exactly-once semantics from the logs:
//
//   - no correct replica executed one (client, timestamp) twice, which
//     would apply a retransmitted request again;
//   - every operation a client saw complete was executed by the correct
//     replicas: each correct replica that executed the sequence number
//     holding it has it in its log, and when no correct replica has it
//     at all, that is reported as lost if some correct replica has a
//     gap-free log as long as anyone's (otherwise the request may sit in
//     a stretch every log skipped by state transfer, and cannot be
//     judged).
func ExactlyOnce(r *Result) Verdict {
	v := Verdict{Name: CheckExactlyOnce, ExpectPass: true}
	byz := r.Byzantine()
	var found finding
	// where[i][req] is the first seq at which correct log i executed req.
	var logs []NodeLog
	var where []map[RequestID]pbft.Seq
	var has []map[pbft.Seq]bool
	requests := 0
	for _, l := range r.Logs {
		if byz[l.Node] {
			continue
		}
		w := map[RequestID]pbft.Seq{}
		seqs := map[pbft.Seq]bool{}
		for _, e := range l.Entries {
			seqs[e.Seq] = true
			for _, q := range e.Requests {
				requests++
				if s, dup := w[q]; dup {
					found.add(fmt.Sprintf("replica %d executed client %s ts %d twice: at seq %d and seq %d", l.Node, q.Client, q.Timestamp, s, e.Seq))
					continue
				}
				w[q] = e.Seq
			}
		}
		logs = append(logs, l)
		where = append(where, w)
		has = append(has, seqs)
	}
	if len(logs) == 0 {
		v.Pass, v.Inconclusive = true, true
		v.Summary = "nothing to check: no log of a correct replica"
		return v
	}

	// A complete log executed every sequence number from 1 to its end
	// itself; one as long as the longest proves a request absent.
	var top pbft.Seq
	for _, l := range logs {
		top = max(top, l.LastExecuted)
	}
	fullLog := -1
	for i, l := range logs {
		if l.LastExecuted == top && len(has[i]) == int(top) {
			fullLog = i
			break
		}
	}

	completed, unjudged := 0, 0
	for _, op := range r.History {
		if !op.Completed {
			continue
		}
		completed++
		q := RequestID{Client: op.Client, Timestamp: op.Timestamp}
		at, ok := pbft.Seq(0), false
		for _, w := range where {
			if s, in := w[q]; in && (!ok || s < at) {
				at, ok = s, true
			}
		}
		if !ok {
			if fullLog >= 0 {
				found.add(fmt.Sprintf("client %s ts %d (%s %q) completed at %v but no correct replica executed it (replica %d executed all of 1..%d)",
					op.Client, op.Timestamp, op.Kind, op.Key, op.End, logs[fullLog].Node, top))
			} else {
				unjudged++
			}
			continue
		}
		for i, l := range logs {
			if _, in := where[i][q]; !in && has[i][at] {
				found.add(fmt.Sprintf("replica %d executed seq %d but not client %s ts %d, which completed there", l.Node, at, op.Client, op.Timestamp))
			}
		}
	}

	if found.count > 0 {
		v.Summary = fmt.Sprintf("%d violations; first: %s", found.count, found.details[0])
		v.Details = found.details
		return v
	}
	v.Pass = true
	v.Summary = fmt.Sprintf("%d executions at %d correct replicas, none repeated; %d of %d completed operations found in the logs",
		requests, len(logs), completed-unjudged, completed)
	if unjudged > 0 {
		v.Details = []string{fmt.Sprintf("%d completed operations are in no correct log, but no correct log is gap-free, so they may lie in a stretch skipped by state transfer", unjudged)}
	}
	return v
}
