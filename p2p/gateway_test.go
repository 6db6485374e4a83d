package p2p_test

import (
	"errors"
	"testing"
	"time"

	"github.com/bftbed/bftbed/p2p"
	"github.com/bftbed/bftbed/pbft"
)

// replyClient returns the client a REPLY frame is addressed to.
func replyClient(t *testing.T, b []byte) pbft.ClientID {
	t.Helper()
	m, err := pbft.Unmarshal(b)
	if err != nil {
		t.Fatalf("received undecodable frame: %v", err)
	}
	rep, ok := m.(*pbft.Reply)
	if !ok {
		t.Fatalf("received %s, want a REPLY", m.Type())
	}
	return rep.Client
}

// TestGateway: the clients of one gateway share its connections; each
// receives the replies addressed to it and no other, and a replica writes
// them all on one stream.
func TestGateway(t *testing.T) {
	c := newCluster(t, 4, p2p.BroadcastDirect, nil)
	peers := peerInfos(4)
	for i := range peers {
		peers[i].Addrs = c.hosts[i].Addrs()
	}
	g, err := p2p.NewClientGateway(p2p.HostConfig{ClusterID: testCluster, Key: clientKey(9), Peers: peers})
	if err != nil {
		t.Fatal(err)
	}
	defer g.Close()
	ka, kb := clientKey(0), clientKey(1)
	a, err := g.Attach(ka.Public())
	if err != nil {
		t.Fatal(err)
	}
	b, err := g.Attach(kb.Public())
	if err != nil {
		t.Fatal(err)
	}
	if _, err := g.Attach(ka.Public()); err == nil {
		t.Error("a client attached twice")
	}
	if _, err := g.Attach(replicaKey(2).Public()); err == nil {
		t.Error("a replica's key attached as a client")
	}

	a.Broadcast(request(ka, 1, 10))
	b.Broadcast(request(kb, 1, 10))
	for i := range 4 {
		recvFrame(t, c.tr[i].Receive())
		recvFrame(t, c.tr[i].Receive())
	}
	for i := range 4 {
		c.tr[i].SendClient(ka.Public(), reply(i, ka.Public(), 1))
		c.tr[i].SendClient(kb.Public(), reply(i, kb.Public(), 1))
	}
	for _, cl := range []struct {
		tr  *p2p.GatewayClient
		key pbft.ClientID
	}{{a, ka.Public()}, {b, kb.Public()}} {
		from := map[int]bool{}
		for range 4 {
			f := recvFrame(t, cl.tr.Receive())
			if got := replyClient(t, f); got != cl.key {
				t.Fatalf("client %s received a reply to %s", cl.key, got)
			}
			from[sender(t, f)] = true
		}
		if len(from) != 4 {
			t.Errorf("client %s: replies from %v, want all 4", cl.key, from)
		}
	}
	for i := range 4 {
		if st := c.hosts[i].Stats(); st.ClientStreams != 1 {
			t.Errorf("replica %d has %d client streams, want 1 (the gateway's)", i, st.ClientStreams)
		}
	}

	// A detached client's replies are dropped and counted by the gateway;
	// the others go on.
	if err := b.Close(); err != nil {
		t.Fatal(err)
	}
	if _, ok := <-b.Receive(); ok {
		t.Error("a detached client's channel is open")
	}
	c.tr[0].SendClient(kb.Public(), reply(0, kb.Public(), 2))
	c.tr[0].SendClient(ka.Public(), reply(0, ka.Public(), 2))
	recvFrame(t, a.Receive())
	waitFor(t, "the gateway to count the reply to b", func() bool { return g.Host().Stats().Unroutable == 1 })

	if err := g.Close(); err != nil {
		t.Fatal(err)
	}
	if _, ok := <-a.Receive(); ok {
		t.Error("a client's channel is open after the gateway closed")
	}
	if _, err := g.Attach(clientKey(3).Public()); !errors.Is(err, p2p.ErrGatewayClosed) {
		t.Errorf("Attach after Close: %v, want ErrGatewayClosed", err)
	}
}

// TestRepliesFollowRequests: a replica replies over the connection the
// client's requests came in on, whether it is the client's own host or a
// gateway; the first such connection keeps the client's replies until it
// is gone, so another peer bringing the same client's request cannot divert
// them.
func TestRepliesFollowRequests(t *testing.T) {
	c := newCluster(t, 4, p2p.BroadcastDirect, nil)
	peers := peerInfos(4)
	for i := range peers {
		peers[i].Addrs = c.hosts[i].Addrs()
	}
	k := clientKey(0)
	g, err := p2p.NewClientGateway(p2p.HostConfig{ClusterID: testCluster, Key: clientKey(9), Peers: peers})
	if err != nil {
		t.Fatal(err)
	}
	defer g.Close()
	viaGateway, err := g.Attach(k.Public())
	if err != nil {
		t.Fatal(err)
	}
	own, err := p2p.NewClientTransport(p2p.HostConfig{ClusterID: testCluster, Key: k, Peers: peers})
	if err != nil {
		t.Fatal(err)
	}
	defer own.Close()

	ts := uint64(0)
	exchange := func(send, hear, quiet pbft.ClientTransport) {
		t.Helper()
		ts++
		send.Send(1, request(k, ts, 10))
		recvFrame(t, c.tr[1].Receive())
		c.tr[1].SendClient(k.Public(), reply(1, k.Public(), ts))
		recvFrame(t, hear.Receive())
		if quiet != nil {
			noFrame(t, "the other path", quiet.Receive(), 100*time.Millisecond)
		}
	}
	exchange(viaGateway, viaGateway, own)
	exchange(own, viaGateway, own) // the gateway came first and is connected
	if err := g.Close(); err != nil {
		t.Fatal(err)
	}
	waitFor(t, "the gateway to go", func() bool { return c.hosts[1].Stats().ConnectedPeers == 4 })
	exchange(own, own, nil)
}

// TestManyClients: a replica serves more directly connected clients than
// libp2p's default resource limits admit (about 256 inbound connections).
func TestManyClients(t *testing.T) {
	const clients = 300
	c := newCluster(t, 4, p2p.BroadcastDirect, nil)
	peers := peerInfos(4)
	for i := range peers {
		peers[i].Addrs = c.hosts[i].Addrs()
	}
	trs := make([]*p2p.ClientTransport, clients)
	for i := range trs {
		tr, err := p2p.NewClientTransport(p2p.HostConfig{ClusterID: testCluster, Key: clientKey(100 + i), Peers: peers[:1]})
		if err != nil {
			t.Fatal(err)
		}
		defer tr.Close()
		trs[i] = tr
	}
	for i, tr := range trs {
		tr.Send(0, request(clientKey(100+i), 1, 8))
	}
	for range trs {
		recvFrame(t, c.tr[0].Receive())
	}
	for i := range trs {
		k := clientKey(100 + i).Public()
		c.tr[0].SendClient(k, reply(0, k, 1))
	}
	for i, tr := range trs {
		if got := replyClient(t, recvFrame(t, tr.Receive())); got != clientKey(100+i).Public() {
			t.Fatalf("client %d got a reply to %s", i, got)
		}
	}
}
