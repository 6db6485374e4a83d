package load

import "context"

// Target is what the load runs against: it makes clients.
type Target interface {
	// NewClient returns a new client, the i-th of the run (0-based), with
	// an identity of its own.
	NewClient(ctx context.Context, i int) (Client, error)
}

// Client is one PBFT client: one operation outstanding at a time.
type Client interface {
	// ID names the client the way replicas know it (the hex of its
	// public key for a pbft client), for matching the history against
	// the replicas' logs.
	ID() string
	// Invoke runs op and returns its result once it is final. ts is the
	// request's timestamp (0 if the client cannot tell), which with ID
	// identifies the request in the replicas' logs. When ctx ends first
	// Invoke returns its error; the operation may still execute.
	Invoke(ctx context.Context, op []byte) (result []byte, ts uint64, err error)
	// Close releases the client.
	Close() error
}
