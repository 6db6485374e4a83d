package p2p

import (
	"errors"
	"fmt"
	"sync"

	"github.com/bftbed/bftbed/crypto"
	"github.com/bftbed/bftbed/pbft"
)

// ErrGatewayClosed is returned by ClientGateway.Attach after Close.
var ErrGatewayClosed = errors.New("p2p: client gateway closed")

// ClientGateway is a client host that carries many clients, the way a load
// generator or an application server fronts many users: each client signs
// its requests with its own key (its pbft.ClientID) and has its own
// pbft.ClientTransport, and all of them share one libp2p identity, one
// connection and one stream to each replica. Requests queued together leave
// in one write; replicas send replies back over the connection the requests
// came in on (routes.go), so a step's replies to the gateway's clients
// arrive in one write too. Replies are handed to the client they name.
type ClientGateway struct {
	h *Host

	mu      sync.RWMutex
	closed  bool
	clients map[pbft.ClientID]*GatewayClient
}

// NewClientGateway starts a gateway host. cfg.Key is the gateway's own
// libp2p identity, not a replica's; clients are added with Attach.
// cfg.ReceiveQueue bounds each client's queue of replies (default
// DefaultClientReplies): a client that does not keep up loses replies, and
// retransmits.
func NewClientGateway(cfg HostConfig) (*ClientGateway, error) {
	cfg.Broadcast = BroadcastDirect
	if cfg.ReceiveQueue <= 0 {
		cfg.ReceiveQueue = DefaultClientReplies
	}
	g := &ClientGateway{clients: make(map[pbft.ClientID]*GatewayClient)}
	h, err := newHost(cfg, g)
	if err != nil {
		return nil, err
	}
	g.h = h
	return g, nil
}

// Host returns the gateway's host, for its Stats, ID and SetPeerAddrs.
func (g *ClientGateway) Host() *Host { return g.h }

// Attach adds client id, whose requests the caller signs with id's key,
// and returns its transport. A replica's key, or an id already attached,
// is refused.
func (g *ClientGateway) Attach(id pbft.ClientID) (*GatewayClient, error) {
	for _, p := range g.h.cfg.Peers {
		if p.Key == crypto.PublicKey(id) {
			return nil, fmt.Errorf("p2p: client key is replica %d's", p.ID)
		}
	}
	g.mu.Lock()
	defer g.mu.Unlock()
	if g.closed {
		return nil, ErrGatewayClosed
	}
	if g.clients[id] != nil {
		return nil, fmt.Errorf("p2p: client %s attached twice", id)
	}
	c := &GatewayClient{g: g, id: id, ch: make(chan []byte, g.h.cfg.ReceiveQueue)}
	g.clients[id] = c
	return c, nil
}

// Close stops the gateway's host and closes every client's Receive
// channel.
func (g *ClientGateway) Close() error {
	err := g.h.Close() // waits for the stream readers, dispatch's callers
	g.mu.Lock()
	defer g.mu.Unlock()
	if !g.closed {
		g.closed = true
		for id, c := range g.clients {
			close(c.ch)
			delete(g.clients, id)
		}
	}
	return err
}

// dispatch hands a decoded frame from a replica to the client it names.
// Only replies are for clients; anything else, a reply to a client not
// attached here, or one to a client whose queue is full, is dropped and
// counted.
func (g *ClientGateway) dispatch(m pbft.Message, f []byte, c *counters) {
	rep, ok := m.(*pbft.Reply)
	if !ok {
		g.h.unroutable.Add(1)
		return
	}
	g.mu.RLock()
	defer g.mu.RUnlock()
	gc := g.clients[rep.Client]
	if gc == nil {
		g.h.unroutable.Add(1)
		return
	}
	select {
	case gc.ch <- f:
	default:
		c.dropped.Add(1)
	}
}

// GatewayClient is one client of a ClientGateway: a pbft.ClientTransport.
type GatewayClient struct {
	g  *ClientGateway
	id pbft.ClientID
	ch chan []byte
}

var _ pbft.ClientTransport = (*GatewayClient)(nil)

// Send implements pbft.ClientTransport.
func (c *GatewayClient) Send(to pbft.ReplicaID, data []byte) { c.g.h.send(to, data) }

// Broadcast implements pbft.ClientTransport: it sends data to every
// replica over direct streams.
func (c *GatewayClient) Broadcast(data []byte) {
	if c.g.h.isClosed() {
		c.g.h.unroutable.Add(1)
		return
	}
	c.g.h.broadcastDirect(data)
}

// Receive implements pbft.ClientTransport: the replies to this client.
func (c *GatewayClient) Receive() <-chan []byte { return c.ch }

// Close implements pbft.ClientTransport: it detaches the client and closes
// its Receive channel. The gateway goes on serving the others.
func (c *GatewayClient) Close() error {
	c.g.mu.Lock()
	defer c.g.mu.Unlock()
	if c.g.clients[c.id] == c {
		delete(c.g.clients, c.id)
		close(c.ch)
	}
	return nil
}
