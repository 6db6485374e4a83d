package bench

import (
	"fmt"
	"slices"
	"strings"

	"github.com/bftbed/bftbed/pbft"
)

// Agreement checks that the committed logs of every pair of correct
// (non-Byzantine) replicas agree at every sequence number both executed —
// PBFT's safety property. A violation names the sequence number and, for
// each digest committed there, the replicas that committed it.
func Agreement(r *Result) Verdict {
	v := Verdict{Name: CheckAgreement, ExpectPass: true}
	byz := r.Byzantine()
	// bySeq[seq][digest] lists the replicas that committed digest at seq.
	bySeq := map[pbft.Seq]map[Digest][]pbft.ReplicaID{}
	var found finding
	logs := 0
	for _, l := range r.Logs {
		if byz[l.Node] {
			continue
		}
		logs++
		own := map[pbft.Seq]Digest{}
		for _, e := range l.Entries {
			if d, ok := own[e.Seq]; ok {
				if d != e.Digest {
					found.add(fmt.Sprintf("seq %d: replica %d committed both %v and %v", e.Seq, l.Node, d, e.Digest))
				}
				continue
			}
			own[e.Seq] = e.Digest
			if bySeq[e.Seq] == nil {
				bySeq[e.Seq] = map[Digest][]pbft.ReplicaID{}
			}
			bySeq[e.Seq][e.Digest] = append(bySeq[e.Seq][e.Digest], l.Node)
		}
	}
	seqs := sortedKeys(bySeq)
	shared := 0
	for _, s := range seqs {
		ds := bySeq[s]
		n := 0
		for _, ids := range ds {
			n += len(ids)
		}
		if n > 1 {
			shared++
		}
		if len(ds) > 1 {
			found.add(fmt.Sprintf("seq %d: %s", s, describeSplit(ds, "committed")))
		}
	}
	switch {
	case found.count > 0:
		v.Summary = fmt.Sprintf("%d conflicting commits among %d correct replicas; first: %s", found.count, logs, found.details[0])
		v.Details = found.details
	case logs < 2 || shared == 0:
		v.Pass, v.Inconclusive = true, true
		v.Summary = fmt.Sprintf("nothing to compare: %d correct logs, %d sequence numbers executed by two or more", logs, shared)
	default:
		v.Pass = true
		v.Summary = fmt.Sprintf("%d correct replicas agree on all %d sequence numbers (%d executed by two or more)", logs, len(seqs), shared)
	}
	return v
}

// describeSplit formats the digests at one sequence number (or checkpoint)
// and who holds each, most-held digest first: "replica 2 committed
// 6863d17b…, replica 3 committed 3a6a5efb…".
func describeSplit(ds map[Digest][]pbft.ReplicaID, verb string) string {
	type group struct {
		d   Digest
		ids []pbft.ReplicaID
	}
	var gs []group
	for d, ids := range ds {
		ids = slices.Clone(ids)
		slices.Sort(ids)
		gs = append(gs, group{d, ids})
	}
	// Larger groups first, then by lowest replica id, so the message is
	// deterministic and the majority reads first.
	slices.SortFunc(gs, func(a, b group) int {
		if len(a.ids) != len(b.ids) {
			return len(b.ids) - len(a.ids)
		}
		return int(a.ids[0]) - int(b.ids[0])
	})
	parts := make([]string, len(gs))
	for i, g := range gs {
		parts[i] = fmt.Sprintf("%s %s %v", replicaGroup(g.ids), verb, g.d)
	}
	return strings.Join(parts, ", ")
}

// sortedKeys returns m's sequence numbers in order.
func sortedKeys[V any](m map[pbft.Seq]V) []pbft.Seq {
	out := make([]pbft.Seq, 0, len(m))
	for k := range m {
		out = append(out, k)
	}
	slices.Sort(out)
	return out
}
