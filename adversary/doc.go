// Package adversary makes chosen replicas misbehave without touching the
// protocol: a faulty replica runs the honest pbft core, and the adversary
// wraps what surrounds it.
//
//   - Message behaviours (equivocate, silent, forge, replay, corrupt, slow,
//     drop) rewrite the replica's outgoing messages: they sit between the
//     core's Ready and the network, holding the replica's key, so they can
//     sign conflicting messages as a Byzantine replica would.
//   - Link behaviours (partition, isolate, drop of inbound messages) decide
//     which messages the network carries between which replicas.
//   - Lifecycle behaviours (crash-stop, crash-recover, pause, skew, twins)
//     are carried out by the runner: the simulator or the testnet.
//
// The same Behaviour values run in the deterministic simulator and on a real
// testnet: they draw randomness only from the Context they are given.
package adversary
