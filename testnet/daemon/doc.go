// Package daemon runs one bftbed replica from its configuration file: the
// code behind `bftbed node`, shared with the tests, the benchmarks and
// programs that embed the engine (examples/embed).
//
// Start reads the node's key file, opens and checks its Pebble store,
// starts its libp2p host and the pbft.Node that drives the replica core,
// and serves four HTTP endpoints on NodeConfig.HTTP:
//
//   - /metrics: Prometheus metrics (a private registry; see metrics.go for
//     the families), read from the node's counters at scrape time;
//   - /status: the replica's status as JSON (Status), what `bftbed testnet
//     status` and the live monitor read;
//   - /commits?after=SEQ: the last executed batches (seq, view, digest) as
//     JSON (Commit), for the agreement monitor;
//   - /healthz: 200 while the node runs and reaches at least 2f other
//     replicas, 503 otherwise.
//
// Stop (or the end of Run's context) shuts it down in order: HTTP, node,
// store, host. Everything the node saved is durable when Save returns, so a
// daemon restarted on the same data directory resumes where it stopped and
// catches up with its peers.
//
// A store that fails its checksums is refused: a replica that recovered
// from a damaged log could contradict what it signed. Options.ResetState
// (`bftbed node --reset-state`) instead moves the damaged directory aside
// and starts empty, to catch up by state transfer.
package daemon
