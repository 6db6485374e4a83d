package p2p

import (
	"fmt"
	"sync"
	"sync/atomic"

	"github.com/bftbed/bftbed/pbft"
)

// DefaultMemQueue is the inbound queue length of a MemNetwork endpoint: a
// few full PRE-PREPARE rounds of a busy 4-replica cluster, so that loss under
// a load the replicas can keep up with is rare.
const DefaultMemQueue = 8192

// Addr names an endpoint of a MemNetwork: replica Replica, or, when Client
// is true, the client ClientID.
type Addr struct {
	Client   bool
	Replica  pbft.ReplicaID
	ClientID pbft.ClientID
}

// ReplicaAddr returns the address of replica id.
func ReplicaAddr(id pbft.ReplicaID) Addr { return Addr{Replica: id} }

// ClientAddr returns the address of client id.
func ClientAddr(id pbft.ClientID) Addr { return Addr{Client: true, ClientID: id} }

// String returns "r<id>" for a replica and "c<key prefix>" for a client.
func (a Addr) String() string {
	if a.Client {
		return "c" + a.ClientID.String()
	}
	return fmt.Sprintf("r%d", a.Replica)
}

// Filter decides, for each frame, whether the link from -> to delivers it.
// It runs on the sender's goroutine, concurrently for different senders, and
// must not keep or modify data.
type Filter func(from, to Addr, data []byte) bool

// MemStats counts what a MemNetwork did with the frames sent on it.
type MemStats struct {
	// Delivered frames were queued at their receiver.
	Delivered uint64
	// Filtered frames were dropped by the Filter.
	Filtered uint64
	// Overflowed frames were dropped because the receiver's queue was full.
	Overflowed uint64
	// Unroutable frames had no open receiver (an unknown client, a closed
	// endpoint, or a closed sender).
	Unroutable uint64
}

// MemOption configures a MemNetwork.
type MemOption func(*MemNetwork)

// WithQueueLen sets the inbound queue length of every endpoint (default
// DefaultMemQueue).
func WithQueueLen(n int) MemOption {
	return func(m *MemNetwork) {
		if n > 0 {
			m.queueLen = n
		}
	}
}

// MemNetwork is an in-memory network of n replicas and any number of
// clients. It is safe for concurrent use.
//
// Every send copies its bytes for each receiver, so a sender may reuse its
// buffer and a receiver may keep or modify what it reads. A send never
// blocks: a frame that finds its receiver's queue full is dropped and
// counted.
type MemNetwork struct {
	n        int
	queueLen int
	filter   atomic.Pointer[Filter]

	mu       sync.Mutex // guards the fields below
	closed   bool
	replicas []atomic.Pointer[endpoint] // read without mu on every send
	clients  sync.Map                   // pbft.ClientID -> *endpoint

	delivered, filtered, overflowed, unroutable atomic.Uint64
}

// NewMemNetwork returns a network for replicas 0 .. n-1.
func NewMemNetwork(n int, opts ...MemOption) *MemNetwork {
	m := &MemNetwork{n: n, queueLen: DefaultMemQueue, replicas: make([]atomic.Pointer[endpoint], n)}
	for _, o := range opts {
		o(m)
	}
	return m
}

// Replica returns the transport of replica id. While that transport is
// open, every call returns the same one; once it is closed (a crashed
// replica), the next call returns a fresh one, for a restarted replica.
// Frames sent to a closed replica are lost. It panics if id >= n.
func (m *MemNetwork) Replica(id pbft.ReplicaID) pbft.Transport {
	if int(id) >= m.n {
		panic(fmt.Sprintf("p2p: replica %d of a %d-replica MemNetwork", id, m.n))
	}
	m.mu.Lock()
	defer m.mu.Unlock()
	e := m.replicas[id].Load()
	if e == nil || e.isClosed() {
		e = m.newEndpoint(ReplicaAddr(id))
		m.replicas[id].Store(e)
	}
	return (*replicaEnd)(e)
}

// Client returns the transport of client id, with the same reuse rule as
// Replica.
func (m *MemNetwork) Client(id pbft.ClientID) pbft.ClientTransport {
	m.mu.Lock()
	defer m.mu.Unlock()
	v, ok := m.clients.Load(id)
	e, _ := v.(*endpoint)
	if !ok || e.isClosed() {
		e = m.newEndpoint(ClientAddr(id))
		m.clients.Store(id, e)
	}
	return (*clientEnd)(e)
}

// SetFilter installs f to decide the fate of every frame from now on; nil
// delivers everything.
func (m *MemNetwork) SetFilter(f Filter) {
	if f == nil {
		m.filter.Store(nil)
		return
	}
	m.filter.Store(&f)
}

// Stats returns the network's counters.
func (m *MemNetwork) Stats() MemStats {
	return MemStats{
		Delivered:  m.delivered.Load(),
		Filtered:   m.filtered.Load(),
		Overflowed: m.overflowed.Load(),
		Unroutable: m.unroutable.Load(),
	}
}

// Close closes every endpoint; endpoints asked for later are born closed.
func (m *MemNetwork) Close() error {
	m.mu.Lock()
	m.closed = true
	m.mu.Unlock()
	for i := range m.replicas {
		if e := m.replicas[i].Load(); e != nil {
			e.close()
		}
	}
	m.clients.Range(func(_, v any) bool {
		v.(*endpoint).close()
		return true
	})
	return nil
}

// newEndpoint makes an endpoint; m.mu is held.
func (m *MemNetwork) newEndpoint(a Addr) *endpoint {
	e := &endpoint{net: m, addr: a, ch: make(chan []byte, m.queueLen)}
	if m.closed {
		e.close()
	}
	return e
}

// endpoint is one replica's or client's attachment to the network.
type endpoint struct {
	net  *MemNetwork
	addr Addr
	// mu orders deliveries before close: senders hold it shared while they
	// put a frame in ch, close holds it exclusively, so no send can hit a
	// closed channel.
	mu     sync.RWMutex
	closed bool
	ch     chan []byte
}

func (e *endpoint) isClosed() bool {
	e.mu.RLock()
	defer e.mu.RUnlock()
	return e.closed
}

func (e *endpoint) close() {
	e.mu.Lock()
	defer e.mu.Unlock()
	if !e.closed {
		e.closed = true
		close(e.ch)
	}
}

// deliver puts a private copy of data in to's queue, unless the filter
// drops it, the queue is full, or to is closed.
func (e *endpoint) deliver(to *endpoint, data []byte) {
	m := e.net
	if to == nil {
		m.unroutable.Add(1)
		return
	}
	if f := m.filter.Load(); f != nil && !(*f)(e.addr, to.addr, data) {
		m.filtered.Add(1)
		return
	}
	buf := append(make([]byte, 0, len(data)), data...)
	to.mu.RLock()
	defer to.mu.RUnlock()
	if to.closed {
		m.unroutable.Add(1)
		return
	}
	select {
	case to.ch <- buf:
		m.delivered.Add(1)
	default:
		m.overflowed.Add(1)
	}
}

// sendReplica sends from e to replica id.
func (e *endpoint) sendReplica(id pbft.ReplicaID, data []byte) {
	if e.isClosed() || int(id) >= e.net.n {
		e.net.unroutable.Add(1)
		return
	}
	e.deliver(e.net.replicas[id].Load(), data)
}

// broadcast sends from e to every replica but itself.
func (e *endpoint) broadcast(data []byte) {
	if e.isClosed() {
		e.net.unroutable.Add(1)
		return
	}
	for i := range e.net.replicas {
		if !e.addr.Client && pbft.ReplicaID(i) == e.addr.Replica {
			continue
		}
		e.deliver(e.net.replicas[i].Load(), data)
	}
}

// replicaEnd is an endpoint seen as a pbft.Transport.
type replicaEnd endpoint

var _ pbft.Transport = (*replicaEnd)(nil)

func (r *replicaEnd) e() *endpoint { return (*endpoint)(r) }

// Send implements pbft.Transport.
func (r *replicaEnd) Send(to pbft.ReplicaID, data []byte) { r.e().sendReplica(to, data) }

// Broadcast implements pbft.Transport.
func (r *replicaEnd) Broadcast(data []byte) { r.e().broadcast(data) }

// SendClient implements pbft.Transport.
func (r *replicaEnd) SendClient(id pbft.ClientID, data []byte) {
	e := r.e()
	if e.isClosed() {
		e.net.unroutable.Add(1)
		return
	}
	var to *endpoint
	if v, ok := e.net.clients.Load(id); ok {
		to = v.(*endpoint)
	}
	e.deliver(to, data)
}

// Receive implements pbft.Transport.
func (r *replicaEnd) Receive() <-chan []byte { return r.ch }

// Close implements pbft.Transport.
func (r *replicaEnd) Close() error {
	r.e().close()
	return nil
}

// clientEnd is an endpoint seen as a pbft.ClientTransport.
type clientEnd endpoint

var _ pbft.ClientTransport = (*clientEnd)(nil)

func (c *clientEnd) e() *endpoint { return (*endpoint)(c) }

// Send implements pbft.ClientTransport.
func (c *clientEnd) Send(to pbft.ReplicaID, data []byte) { c.e().sendReplica(to, data) }

// Broadcast implements pbft.ClientTransport.
func (c *clientEnd) Broadcast(data []byte) { c.e().broadcast(data) }

// Receive implements pbft.ClientTransport.
func (c *clientEnd) Receive() <-chan []byte { return c.ch }

// Close implements pbft.ClientTransport.
func (c *clientEnd) Close() error {
	c.e().close()
	return nil
}
