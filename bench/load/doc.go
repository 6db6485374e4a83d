// Package load generates client load on a PBFT cluster and records what
// every operation saw: the history a linearizability checker reads, and the
// throughput and latency a benchmark reports. `bftbed load` and the
// benchmark runner both call Run.
//
// Two shapes of load:
//
//   - closed loop (Config.Rate == 0): Config.Clients clients, each sending
//     its next operation as soon as the previous one completes. Throughput
//     is what the cluster sustains with that many requests outstanding;
//     latency is from send to result.
//   - open loop (Config.Rate > 0): operations are due at fixed intervals
//     (1/Rate apart) whatever the cluster does, and served by a pool of
//     Config.Clients clients. Latency is measured from when an operation
//     was due, not from when a client became free to send it, so a stall
//     shows up in the latencies of every operation it delayed instead of
//     silently lowering the offered load ("coordinated omission"). An
//     operation due inside the run that no client could send before the
//     run ended is counted as Unsent.
//
// A PBFT client has one request outstanding at a time (that is what makes
// replicas execute each request exactly once), so each client of the load
// is one pbft.Client with its own key. Every loop is bounded: by
// Config.Duration and Config.MaxOps for issuing, and by Config.OpTimeout for
// each operation, so Run returns within Duration + 2*OpTimeout plus the time
// to connect and close its clients.
package load
