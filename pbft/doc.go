// Package pbft is the engine of bftbed: the messages of Castro & Liskov's
// Practical Byzantine Fault Tolerance (OSDI'99, and the public-key variant
// BFT-PK of TOCS'02), a pure deterministic replica core, the runtime Node
// that drives it, the Application interface, and the client library.
//
// The core (Replica) has no goroutines, clock, randomness or I/O: it takes
// events through Step and returns a Ready value saying what to persist, what
// to send and which timers to arm. Same inputs give the same outputs, which is
// what lets the simulator replay a run from its seed.
//
// Where the rules of the paper live:
//
//	normal case (pre-prepare, prepare, commit)   normal_case.go
//	prepared / committed-local predicates         certificates.go
//	execution in sequence order, exactly-once     execute.go, client_table.go
//	checkpoints, stable checkpoint, watermarks    checkpoint.go
//	view change (timer, VIEW-CHANGE with C and P) view_change.go
//	NEW-VIEW and the min-s/max-s rule             new_view.go
//	quorum sizes                                  quorum.go
package pbft
