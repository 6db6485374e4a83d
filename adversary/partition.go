package adversary

import (
	"slices"
	"time"

	"github.com/bftbed/bftbed/pbft"
)

// Partition splits the network for the fault's window. With Groups, replicas
// hear only the replicas of their own group (a replica in no group hears
// everyone). With From and To, the split is asymmetric: messages from From
// to To are lost, while To still reaches From.
type Partition struct {
	Groups   [][]pbft.ReplicaID
	From, To []pbft.ReplicaID
}

// Name implements Behaviour.
func (p *Partition) Name() string { return "partition" }

// Outbound implements Behaviour: a partition acts on links, not messages.
func (p *Partition) Outbound(_ *Context, pk Packet) []Packet { return []Packet{pk} }

// Allow implements LinkRule.
func (p *Partition) Allow(from, to pbft.ReplicaID, _ time.Duration) bool {
	if len(p.From) > 0 && slices.Contains(p.From, from) && slices.Contains(p.To, to) {
		return false
	}
	if len(p.Groups) == 0 {
		return true
	}
	gf, gt := p.group(from), p.group(to)
	return gf < 0 || gt < 0 || gf == gt
}

func (p *Partition) group(id pbft.ReplicaID) int {
	for i, g := range p.Groups {
		if slices.Contains(g, id) {
			return i
		}
	}
	return -1
}

// Isolate cuts the fault's replicas off from every other replica, in both
// directions. Clients still reach them.
type Isolate struct {
	Nodes []pbft.ReplicaID
}

// Name implements Behaviour.
func (i *Isolate) Name() string { return "isolate" }

// Outbound implements Behaviour.
func (i *Isolate) Outbound(_ *Context, pk Packet) []Packet { return []Packet{pk} }

// Allow implements LinkRule.
func (i *Isolate) Allow(from, to pbft.ReplicaID, _ time.Duration) bool {
	return slices.Contains(i.Nodes, from) == slices.Contains(i.Nodes, to)
}
