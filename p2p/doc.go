// Package p2p carries bftbed's encoded messages between replicas and
// clients: it implements pbft.Transport and pbft.ClientTransport.
//
// MemNetwork is the in-memory implementation, for tests, examples and
// in-process clusters: every endpoint has a bounded inbound queue, sends
// never block (a full queue drops the frame and counts it, as a congested
// network would), and a filter hook lets a test drop or partition links.
//
// The transports move bytes only. Decoding and signature checks happen in
// the receiving pbft.Node, so a faulty or adversarial sender gets exactly the
// treatment a real network peer would.
package p2p
