package p2p

import "github.com/bftbed/bftbed/pbft"

// ClientTransport is a client's libp2p host seen as a pbft.ClientTransport.
// It keeps a connection and a direct stream to every replica (reconnecting
// with back-off), sends requests on them, and receives replies on the
// streams the replicas open back over those connections, so a client needs
// no listening address. Clients never join the GossipSub topic.
type ClientTransport struct {
	h *Host
}

var _ pbft.ClientTransport = (*ClientTransport)(nil)

// NewClientTransport starts a client host. cfg.Key is the client's key (its
// public key is the pbft.ClientID the replicas reply to) and must not be a
// replica's; cfg.Peers lists the replicas with their addresses. ListenAddrs
// defaults to none; Broadcast is ignored (clients always use direct
// streams).
func NewClientTransport(cfg HostConfig) (*ClientTransport, error) {
	cfg.Broadcast = BroadcastDirect
	h, err := newHost(cfg, true)
	if err != nil {
		return nil, err
	}
	return &ClientTransport{h: h}, nil
}

// Host returns the client's host, for its Stats, ID and SetPeerAddrs.
func (c *ClientTransport) Host() *Host { return c.h }

// Send implements pbft.ClientTransport.
func (c *ClientTransport) Send(to pbft.ReplicaID, data []byte) { c.h.send(to, data) }

// Broadcast implements pbft.ClientTransport: it sends data to every replica
// over direct streams.
func (c *ClientTransport) Broadcast(data []byte) {
	if c.h.isClosed() {
		c.h.unroutable.Add(1)
		return
	}
	c.h.broadcastDirect(data)
}

// Receive implements pbft.ClientTransport.
func (c *ClientTransport) Receive() <-chan []byte { return c.h.recv }

// Close implements pbft.ClientTransport; it closes the host.
func (c *ClientTransport) Close() error { return c.h.Close() }
