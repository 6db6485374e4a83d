package bench

import (
	"fmt"
	"slices"
	"strings"

	"github.com/bftbed/bftbed/pbft"
)

// ClientName is the name a runner should give a client in Op.Client and
// RequestID.Client: the short hex of its public key, as
// crypto.PublicKey.String prints it.
func ClientName(id pbft.ClientID) string { return id.String() }

// Byzantine returns the nodes left out of the safety checks: those of
// every fault window marked Byzantine.
func (r *Result) Byzantine() map[pbft.ReplicaID]bool {
	out := map[pbft.ReplicaID]bool{}
	for _, f := range r.Faults {
		if f.Byzantine {
			for _, n := range f.Nodes {
				out[n] = true
			}
		}
	}
	return out
}

// Faulty returns the nodes some fault acts on at some time (Byzantine or
// not; partitions excepted, since they act on links).
func (r *Result) Faulty() map[pbft.ReplicaID]bool {
	out := map[pbft.ReplicaID]bool{}
	for _, f := range r.Faults {
		if !f.NetworkOnly {
			for _, n := range f.Nodes {
				out[n] = true
			}
		}
	}
	return out
}

// nodeList formats ids as "n0" or "n0,n2".
func nodeList(ids []pbft.ReplicaID) string {
	s := make([]string, len(ids))
	for i, id := range ids {
		s[i] = fmt.Sprintf("n%d", id)
	}
	return strings.Join(s, ",")
}

// replicaGroup names a group of replicas for a violation message:
// "replica 2" or "replicas 0, 1".
func replicaGroup(ids []pbft.ReplicaID) string {
	ids = slices.Clone(ids)
	slices.Sort(ids)
	if len(ids) == 1 {
		return fmt.Sprintf("replica %d", ids[0])
	}
	s := make([]string, len(ids))
	for i, id := range ids {
		s[i] = fmt.Sprint(id)
	}
	return "replicas " + strings.Join(s, ", ")
}
