package pbft

// The transports carry encoded messages (Marshal's bytes), not Message
// values: a network transport (libp2p) only frames and moves bytes, and an
// adversary that wraps a transport can drop, delay, duplicate, replay or
// corrupt exactly what a real network would. Decoding and authentication are
// the Node's job, done once, in batches, off the core's goroutine.
//
// Ownership of the bytes is the same in both directions, so that neither
// side copies for the other's sake:
//
//   - Send, Broadcast and SendClient must not keep data after they return
//     (copy it if it is queued): the Node encodes every message into one
//     reused buffer.
//   - A frame read from Receive belongs to the reader, which may keep or
//     modify it: the transport never touches it again.

// Transport is a replica's view of the network. Its methods are called from
// several goroutines and must be safe for concurrent use.
type Transport interface {
	// Send sends data to replica to, best effort. It must not block the
	// caller for long: a transport queues a bounded number of frames per
	// peer and drops (and counts) what overflows. PBFT recovers lost
	// messages by its own retransmissions (client retries, view changes,
	// state transfer), but a replica blocked on a slow peer stops serving
	// everyone.
	Send(to ReplicaID, data []byte)
	// Broadcast sends data to every replica except this one, like Send.
	Broadcast(data []byte)
	// SendClient sends a REPLY to a client, like Send. A client the
	// transport cannot reach is skipped.
	SendClient(client ClientID, data []byte)
	// Receive returns the channel of inbound frames: requests from clients
	// and messages from replicas, undecoded and unauthenticated. It is
	// closed when the transport is closed.
	Receive() <-chan []byte
	// Close releases the transport and closes the Receive channel.
	Close() error
}

// ClientTransport is a client's view of the network: it sends requests to
// replicas and receives their replies. It must be safe for concurrent use,
// with the same rules as Transport.
type ClientTransport interface {
	// Send sends data to replica to, best effort and without blocking for
	// long.
	Send(to ReplicaID, data []byte)
	// Broadcast sends data to every replica.
	Broadcast(data []byte)
	// Receive returns the channel of inbound frames (replies), closed when
	// the transport is closed.
	Receive() <-chan []byte
	// Close releases the transport and closes the Receive channel.
	Close() error
}
