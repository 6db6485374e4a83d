package p2p

import "github.com/bftbed/bftbed/pbft"

// ClientTransport is one client's own libp2p host seen as a
// pbft.ClientTransport: a ClientGateway whose only client is the host's
// key. It keeps a connection and a direct stream to every replica
// (reconnecting with back-off), sends requests on them, and receives
// replies on the streams the replicas open back over those connections, so
// a client needs no listening address. Clients never join the GossipSub
// topic.
type ClientTransport struct {
	g *ClientGateway
	*GatewayClient
}

var _ pbft.ClientTransport = (*ClientTransport)(nil)

// NewClientTransport starts a client host. cfg.Key is the client's key (its
// public key is the pbft.ClientID the replicas reply to) and must not be a
// replica's; cfg.Peers lists the replicas with their addresses. ListenAddrs
// defaults to none; Broadcast is ignored (clients always use direct
// streams).
func NewClientTransport(cfg HostConfig) (*ClientTransport, error) {
	g, err := NewClientGateway(cfg)
	if err != nil {
		return nil, err
	}
	c, err := g.Attach(pbft.ClientID(cfg.Key.Public()))
	if err != nil {
		g.Close()
		return nil, err
	}
	return &ClientTransport{g: g, GatewayClient: c}, nil
}

// Host returns the client's host, for its Stats, ID and SetPeerAddrs.
func (c *ClientTransport) Host() *Host { return c.g.h }

// Close implements pbft.ClientTransport; it closes the host.
func (c *ClientTransport) Close() error { return c.g.Close() }
