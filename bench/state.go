package bench

import (
	"fmt"

	"github.com/bftbed/bftbed/pbft"
)

// State checks that correct replicas computed the same application state
// digest at every checkpoint: agreement on the log could still hide a
// non-deterministic application or a broken state transfer, and this
// catches both.
func State(r *Result) Verdict {
	v := Verdict{Name: CheckState, ExpectPass: true}
	byz := r.Byzantine()
	bySeq := map[pbft.Seq]map[Digest][]pbft.ReplicaID{}
	var found finding
	for _, l := range r.Logs {
		if byz[l.Node] {
			continue
		}
		own := map[pbft.Seq]Digest{}
		for _, c := range l.Checkpoints {
			if d, ok := own[c.Seq]; ok {
				if d != c.State {
					found.add(fmt.Sprintf("checkpoint %d: replica %d has both %v and %v", c.Seq, l.Node, d, c.State))
				}
				continue
			}
			own[c.Seq] = c.State
			if bySeq[c.Seq] == nil {
				bySeq[c.Seq] = map[Digest][]pbft.ReplicaID{}
			}
			bySeq[c.Seq][c.State] = append(bySeq[c.Seq][c.State], l.Node)
		}
	}
	shared := 0
	for _, s := range sortedKeys(bySeq) {
		ds := bySeq[s]
		n := 0
		for _, ids := range ds {
			n += len(ids)
		}
		if n > 1 {
			shared++
		}
		if len(ds) > 1 {
			found.add(fmt.Sprintf("checkpoint %d: %s", s, describeSplit(ds, "has state")))
		}
	}
	switch {
	case found.count > 0:
		v.Summary = fmt.Sprintf("%d checkpoints with diverging states; first: %s", found.count, found.details[0])
		v.Details = found.details
	case shared == 0:
		v.Pass, v.Inconclusive = true, true
		v.Summary = "nothing to compare: no checkpoint reached by two correct replicas"
	default:
		v.Pass = true
		v.Summary = fmt.Sprintf("correct replicas have equal states at all %d checkpoints (%d reached by two or more)", len(bySeq), shared)
	}
	return v
}
