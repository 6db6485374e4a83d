package adversary

import (
	"math/rand/v2"
	"time"

	"github.com/bftbed/bftbed/crypto"
	"github.com/bftbed/bftbed/pbft"
)

// Dest is where an outgoing message goes: a replica or a client.
type Dest struct {
	Client   bool
	Replica  pbft.ReplicaID
	ClientID pbft.ClientID
}

// ToReplica returns the Dest of replica id.
func ToReplica(id pbft.ReplicaID) Dest { return Dest{Replica: id} }

// Packet is one copy of an outgoing message on its way to one destination.
// Data, when set, replaces the encoding of Msg on the wire (a behaviour that
// corrupts bytes sets it).
type Packet struct {
	To    Dest
	Msg   pbft.Message
	Data  []byte
	Delay time.Duration
}

// Context is what a behaviour may use: the faulty replica's identity and key
// (a Byzantine replica can sign anything with its own key), the cluster's
// size and domain, the replica's current view, and the run's clock and
// randomness (seeded in the simulator).
type Context struct {
	Self   pbft.ReplicaID
	N      int
	Key    crypto.PrivateKey
	Domain crypto.Domain
	View   pbft.View
	Now    time.Duration
	Rand   *rand.Rand
}

// F returns the number of faults the cluster tolerates.
func (c *Context) F() int { return (c.N - 1) / 3 }

// Sign signs m with the faulty replica's own key.
func (c *Context) Sign(m pbft.Message) { pbft.Sign(c.Domain, c.Key, m) }

// Behaviour rewrites a faulty replica's outgoing messages. Outbound returns
// the copies to put on the network instead of p: none to drop it, several to
// duplicate or equivocate.
type Behaviour interface {
	Name() string
	Outbound(ctx *Context, p Packet) []Packet
}

// Observer is implemented by behaviours that must see messages the faulty
// replica receives (replay keeps old messages to send again later).
type Observer interface {
	Observe(ctx *Context, m pbft.Message)
}

// LinkRule is implemented by behaviours that cut links: Allow reports
// whether the network carries a message from one replica to another now.
// Clients are never cut off by a link rule.
type LinkRule interface {
	Allow(from, to pbft.ReplicaID, now time.Duration) bool
}

// TimerScaler is implemented by behaviours that run a replica's timers fast
// or slow: every timer duration is multiplied by TimerScale.
type TimerScaler interface {
	TimerScale() float64
}

// Lifecycle is implemented by behaviours the runner carries out on the
// replica's process: crash-stop, crash-recover, pause and twins.
type Lifecycle interface {
	Lifecycle() LifecycleKind
}

// LifecycleKind names what the runner does with a replica.
type LifecycleKind int

// The lifecycle faults.
const (
	// CrashStop kills the replica at the fault's start; it never returns.
	CrashStop LifecycleKind = iota + 1
	// CrashRecover kills it at the start (a power cut in the simulator,
	// SIGKILL on a testnet) and restarts it from its storage at the end.
	CrashRecover
	// Pause freezes it at the start (SIGSTOP) and resumes it at the end
	// (SIGCONT).
	Pause
	// Twins runs a second honest instance under the replica's identity
	// for the duration of the fault.
	Twins
)

func (k LifecycleKind) String() string {
	switch k {
	case CrashStop:
		return "crash-stop"
	case CrashRecover:
		return "crash-recover"
	case Pause:
		return "pause"
	case Twins:
		return "twins"
	}
	return "none"
}

// replicaDest reports whether p goes to a replica, and which.
func replicaDest(p Packet) (pbft.ReplicaID, bool) {
	return p.To.Replica, !p.To.Client
}
