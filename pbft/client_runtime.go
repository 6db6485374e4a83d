package pbft

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"time"

	"github.com/bftbed/bftbed/crypto"
)

// DefaultRetryTimeout is the Client's first retransmission timeout.
const DefaultRetryTimeout = 500 * time.Millisecond

// maxRetryDoublings caps the client's back-off at RetryTimeout << 4: long
// enough not to flood replicas that are changing views, short enough to
// notice a new primary within seconds.
const maxRetryDoublings = 4

// ClientConfig configures a Client.
type ClientConfig struct {
	// N is the number of replicas.
	N int
	// Domain is the testnet's signing domain; Key is the client's private
	// key, whose public key is its ClientID.
	Domain crypto.Domain
	Key    crypto.PrivateKey
	// Replicas holds the public key of each replica, indexed by ID: only
	// replies signed by these count.
	Replicas []crypto.PublicKey
	// Transport connects the client to the replicas. The Client neither
	// opens nor closes it.
	Transport ClientTransport
	// RetryTimeout is how long the client waits for a result before it
	// retransmits its request to every replica; it doubles at each
	// retransmission, up to 16 times its first value. 0 means
	// DefaultRetryTimeout.
	RetryTimeout time.Duration
}

// ErrClientClosed is returned by Invoke on a closed Client, or when its
// transport closes.
var ErrClientClosed = errors.New("pbft: client closed")

// Client invokes operations on a PBFT cluster and waits for their results.
// It is safe for concurrent use, but runs one request at a time: PBFT
// clients have one outstanding request each, which is what lets replicas
// execute each request exactly once. Run several Clients (with distinct
// keys) for concurrency.
type Client struct {
	cfg  ClientConfig
	core *ClientCore
	keys ReplicaKeys
	// sem holds the right to have a request outstanding; a channel rather
	// than a mutex, so a caller waiting for its turn can give up.
	sem       chan struct{}
	sent      bool // a request was sent before; guarded by sem
	closed    chan struct{}
	closeOnce sync.Once
}

// NewClient returns a client of the cluster described by cfg. Its request
// timestamps start at the current time in nanoseconds, so a restarted
// client with the same key keeps its timestamps increasing (replicas ignore
// a request older than the client's last executed one).
func NewClient(cfg ClientConfig) (*Client, error) {
	switch {
	case cfg.N < 4:
		return nil, fmt.Errorf("pbft: client: n = %d, need at least 4", cfg.N)
	case len(cfg.Replicas) != cfg.N:
		return nil, fmt.Errorf("pbft: client: %d replica keys for n = %d", len(cfg.Replicas), cfg.N)
	case cfg.Key.IsZero():
		return nil, errors.New("pbft: client: no private key")
	case cfg.Transport == nil:
		return nil, errors.New("pbft: client: no transport")
	}
	if cfg.RetryTimeout <= 0 {
		cfg.RetryTimeout = DefaultRetryTimeout
	}
	keys := append([]crypto.PublicKey(nil), cfg.Replicas...)
	c := &Client{
		cfg:    cfg,
		core:   NewClientCore(cfg.N, cfg.Domain, cfg.Key, uint64(time.Now().UnixNano())),
		keys:   func(id ReplicaID) (crypto.PublicKey, bool) { return keyOfReplica(keys, id) },
		sem:    make(chan struct{}, 1),
		closed: make(chan struct{}),
	}
	return c, nil
}

// ID returns the client's identity, its public key.
func (c *Client) ID() ClientID { return c.core.ID() }

// Invoke runs op on the replicated service and returns its result, once
// f+1 replicas sent matching authentic replies (so at least one correct
// replica vouches for it). It sends the request to the replica it believes
// is the primary (the client's first request, to every replica) and, each
// time RetryTimeout passes without a result, to every replica: backups then
// relay it to the primary and, if it still does not execute, vote to change
// views.
//
// Calls are served one at a time. If ctx ends first, Invoke returns
// ctx.Err(); the request may still execute.
func (c *Client) Invoke(ctx context.Context, op []byte) ([]byte, error) {
	select {
	case c.sem <- struct{}{}:
		defer func() { <-c.sem }()
	case <-ctx.Done():
		return nil, ctx.Err()
	case <-c.closed:
		return nil, ErrClientClosed
	}
	select {
	case <-c.closed:
		return nil, ErrClientClosed
	default:
	}
	if err := ctx.Err(); err != nil {
		return nil, err
	}

	req := c.core.Submit(op)
	data := Marshal(req)
	if c.sent {
		c.cfg.Transport.Send(c.core.Primary(), data)
	} else {
		// The first request goes to every replica, so that each
		// learns where this client's replies go (a gateway's clients
		// are reachable only over the connections their requests
		// use) before its own replies are due.
		c.cfg.Transport.Broadcast(data)
		c.sent = true
	}
	timeout := c.cfg.RetryTimeout
	timer := time.NewTimer(timeout)
	defer timer.Stop()
	// got marks the replicas whose authentic reply to req was counted, so
	// that duplicates are dropped before their signature is checked.
	got := make([]bool, c.cfg.N)
	rx := c.cfg.Transport.Receive()
	for {
		select {
		case <-ctx.Done():
			return nil, ctx.Err()
		case <-c.closed:
			return nil, ErrClientClosed
		case <-timer.C:
			c.cfg.Transport.Broadcast(data)
			if timeout < c.cfg.RetryTimeout<<maxRetryDoublings {
				timeout *= 2
			}
			timer.Reset(timeout)
		case frame, ok := <-rx:
			if !ok {
				return nil, ErrClientClosed
			}
			rep := c.reply(frame, req, got)
			if rep == nil {
				continue
			}
			got[rep.Replica] = true
			if result, done := c.core.OnReply(rep); done {
				return result, nil
			}
		}
	}
}

// reply decodes frame and returns it if it is an authentic reply to req
// from a replica not yet counted. The cheap checks come first: replies to
// earlier requests (the slowest replicas' answers arrive after the result
// is final) are dropped without checking their signature.
func (c *Client) reply(frame []byte, req *Request, got []bool) *Reply {
	m, err := Unmarshal(frame)
	if err != nil {
		return nil
	}
	rep, ok := m.(*Reply)
	if !ok || rep.Client != req.Client || rep.Timestamp != req.Timestamp || int(rep.Replica) >= c.cfg.N || got[rep.Replica] {
		return nil
	}
	if AuthenticateReply(c.cfg.Domain, c.keys, rep) != nil {
		return nil
	}
	return rep
}

// Close makes the current and later Invokes return ErrClientClosed. It
// does not close the transport, which the caller owns.
func (c *Client) Close() error {
	c.closeOnce.Do(func() { close(c.closed) })
	return nil
}
