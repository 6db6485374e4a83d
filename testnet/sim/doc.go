// Package sim is bftbed's deterministic simulator: it runs n PBFT replica
// cores and a set of clients in one process, under a seeded scheduler with
// virtual time, and delivers their messages with random delay, reordering,
// duplication and loss. All cryptography is real: every message is encoded,
// signed and authenticated exactly as on a real network.
//
// The same seed replays the same run, event for event. While it runs, the
// simulator checks agreement (no two correct replicas execute different
// batches at one sequence number) and exactly-once execution, and at the end
// it checks that the system made progress after the faults stopped.
package sim
