package adversary

import (
	"time"

	"github.com/bftbed/bftbed/pbft"
)

// Fault applies one behaviour to some replicas for a time window.
type Fault struct {
	Nodes     []pbft.ReplicaID
	Behaviour Behaviour
	// From and Until bound the window; Until = 0 means until the end of
	// the run.
	From, Until time.Duration
}

// ActiveAt reports whether the fault holds at time t.
func (f *Fault) ActiveAt(t time.Duration) bool {
	return t >= f.From && (f.Until == 0 || t < f.Until)
}

// Applies reports whether the fault is on replica id.
func (f *Fault) Applies(id pbft.ReplicaID) bool {
	for _, n := range f.Nodes {
		if n == id {
			return true
		}
	}
	return false
}

// Byzantine reports whether the behaviour makes its replicas Byzantine: they
// may sign what an honest replica never would, so safety checks leave them
// out. Crashes, timing, omissions and partitions leave a replica correct
// (its messages may be late or lost, never false).
func Byzantine(b Behaviour) bool {
	switch b := b.(type) {
	case *Equivocate, *Forge, *Replay, *Corrupt:
		return true
	case *LifecycleFault:
		return b.Kind == Twins
	}
	return false
}

// NetworkOnly reports whether the behaviour acts on the network, not on its
// replicas: a partition does not make any replica faulty.
func NetworkOnly(b Behaviour) bool {
	_, ok := b.(*Partition)
	return ok
}
