package pbft

// Operation is one client operation inside a committed batch, as handed to
// the Application.
type Operation struct {
	Client    ClientID
	Timestamp uint64
	Op        []byte
}

// Application is the replicated state machine that bftbed orders operations
// for. An embedder implements it to run its own service on the engine.
//
// It must be deterministic: every correct replica calls Execute with the same
// operations in the same order and must produce the same results and the same
// snapshots, or the replicas' checkpoints will never match.
type Application interface {
	// Execute applies the committed batch at sequence number seq and returns
	// one result per operation, in order. Operations the application cannot
	// parse still get a result (an error result), never a panic.
	Execute(seq Seq, ops []Operation) [][]byte
	// Snapshot returns a deterministic encoding of the whole state, taken at
	// checkpoints. Two replicas with the same state return the same bytes.
	Snapshot() []byte
	// Restore replaces the state with one from Snapshot. It returns an error,
	// and leaves the state unchanged, for bytes that are not a valid snapshot.
	Restore(snapshot []byte) error
}
