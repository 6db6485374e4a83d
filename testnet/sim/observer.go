package sim

import (
	"math/rand/v2"
	"time"

	"github.com/bftbed/bftbed/pbft"
)

// Observer sees a run as it happens, in virtual time: the benchmark runner
// builds its time series, its client history and its checks from it. All
// calls come from the simulator's one goroutine.
type Observer interface {
	// Committed: replica executed batch b.
	Committed(at time.Duration, replica pbft.ReplicaID, b pbft.CommittedBatch)
	// Stepped: replica's status after one of its steps.
	Stepped(at time.Duration, st pbft.Status)
	// Sent: message m, size bytes on the wire, left from for to (a
	// replica's number, or -1 for a client).
	Sent(at time.Duration, from, to int, m pbft.Message, size int)
	// Delivered: it reached to.
	Delivered(at time.Duration, from, to int, typ pbft.MsgType)
	// Operation: a client operation ended (or, with Done false, was still
	// outstanding when the run ended).
	Operation(op Operation)
	// Crashed and Restarted: lifecycle of a replica.
	Crashed(at time.Duration, replica pbft.ReplicaID)
	Restarted(at time.Duration, replica pbft.ReplicaID)
}

// Operation is one client operation as the client saw it.
type Operation struct {
	Client     int
	ClientID   pbft.ClientID
	Timestamp  uint64
	Op, Result []byte
	Start, End time.Duration
	Done       bool
}

// Workload chooses each client operation: the encoded kv operation that
// client issues next.
type Workload func(rng *rand.Rand, client int) []byte
