package pbft

import (
	"bytes"

	"github.com/bftbed/bftbed/crypto"
)

// ClientCore is the protocol side of a PBFT client, as deterministic as the
// replica core: it signs requests, says where to send them, and decides when
// a result is final. The runtime (Client, or the simulator) owns the clock
// and the network.
//
// A client has one request outstanding at a time. Its timestamps increase
// strictly, so replicas can recognise retransmissions and old requests.
type ClientCore struct {
	n, f   int
	domain crypto.Domain
	key    crypto.PrivateKey
	id     ClientID
	// view is the client's guess of the current view, from the replies.
	view    View
	ts      uint64
	pending *Request
	replies map[ReplicaID]*Reply
}

// NewClientCore returns a client of n replicas. Its first request has a
// timestamp above lastTimestamp: a client that restarts must pass a value at
// least as large as any timestamp it used before (a clock reading is enough).
func NewClientCore(n int, domain crypto.Domain, key crypto.PrivateKey, lastTimestamp uint64) *ClientCore {
	return &ClientCore{
		n: n, f: (n - 1) / 3, domain: domain, key: key, id: key.Public(),
		ts: lastTimestamp, replies: map[ReplicaID]*Reply{},
	}
}

// ID returns the client's identity, its public key.
func (c *ClientCore) ID() ClientID { return c.id }

// Primary returns the replica the client believes is the primary.
func (c *ClientCore) Primary() ReplicaID { return primaryOf(c.view, c.n) }

// Pending returns the outstanding request, or nil.
func (c *ClientCore) Pending() *Request { return c.pending }

// Submit signs a request for op with the next timestamp and makes it the
// outstanding one. Send it to Primary(); on timeout, call Retransmit.
func (c *ClientCore) Submit(op []byte) *Request {
	c.ts++
	req := &Request{Client: c.id, Timestamp: c.ts, Op: op}
	Sign(c.domain, c.key, req)
	c.pending = req
	clear(c.replies)
	return req
}

// Retransmit returns the outstanding request again, to be sent to every
// replica: if the primary is faulty, the backups will relay it and start
// their view-change timers.
func (c *ClientCore) Retransmit() *Request { return c.pending }

// OnReply takes an authenticated REPLY. The result is final, and returned
// with done = true, once f+1 replicas sent matching replies (same timestamp
// and result): at least one of them is correct.
func (c *ClientCore) OnReply(rep *Reply) (result []byte, done bool) {
	if c.pending == nil || rep.Client != c.id || rep.Timestamp != c.pending.Timestamp || int(rep.Replica) >= c.n {
		return nil, false
	}
	if c.replies[rep.Replica] != nil {
		return nil, false
	}
	c.replies[rep.Replica] = rep
	matching := 0
	var view View
	for _, other := range c.replies {
		if bytes.Equal(other.Result, rep.Result) {
			matching++
			view = max(view, other.View)
		}
	}
	if matching < c.f+1 {
		return nil, false
	}
	c.view = max(c.view, view)
	c.pending = nil
	clear(c.replies)
	return rep.Result, true
}
