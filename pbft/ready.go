package pbft

import "time"

// Ready is what one step of the core asks its runtime to do, in this order:
// make Persist durable (one synced write), then send Messages and Replies,
// then apply Timers. Nothing in Messages or Replies may leave the node before
// Persist is durable: a replica must never contradict what it signed.
type Ready struct {
	Persist  Persist
	Messages []Envelope
	Replies  []*Reply
	Timers   []TimerCmd
	// Committed lists the batches executed in this step, in sequence
	// order, for monitors and checkers.
	Committed []CommittedBatch
}

// Empty reports whether r asks for nothing.
func (r *Ready) Empty() bool {
	return r.Persist.Empty() && len(r.Messages) == 0 && len(r.Replies) == 0 &&
		len(r.Timers) == 0 && len(r.Committed) == 0
}

// Envelope is a message to one replica, or to all others when Broadcast.
type Envelope struct {
	Broadcast bool
	To        ReplicaID
	Msg       Message
}

// CommittedBatch is a batch executed at Seq.
type CommittedBatch struct {
	Seq    Seq
	View   View
	Digest Digest
	Batch  []*Request
	// Skipped lists, by index into Batch, the requests that did not run
	// because they had run before (a faulty primary proposed one again) or
	// came twice in the batch: exactly-once. Checkers count only the
	// others as executions.
	Skipped []int
}

// TimerKind names one of the core's timers.
type TimerKind uint8

// The core's timers.
const (
	// TimerBatch fires when the primary should propose a partial batch.
	TimerBatch TimerKind = iota
	// TimerRequest is the view-change timer: it runs while a backup waits
	// for a request to execute, and while a view change waits for NEW-VIEW.
	TimerRequest
	// TimerFetch re-sends a state-transfer request that got no answer.
	TimerFetch
	numTimers
)

var timerNames = [...]string{TimerBatch: "batch", TimerRequest: "request", TimerFetch: "fetch"}

func (k TimerKind) String() string {
	if int(k) < len(timerNames) {
		return timerNames[k]
	}
	return "unknown"
}

// TimerCmd arms timer Kind to fire after After, replacing any earlier arming
// of that kind; After == 0 stops it. When it fires the runtime calls
// Replica.Fire(Kind, Gen); the core ignores fires of an older generation.
type TimerCmd struct {
	Kind  TimerKind
	Gen   uint64
	After time.Duration
}
