package p2p_test

import (
	"bytes"
	"testing"
	"time"

	"github.com/bftbed/bftbed/p2p"
	"github.com/bftbed/bftbed/pbft"
)

func TestIdentityStable(t *testing.T) {
	k := replicaKey(0)
	id1, err := p2p.PeerID(k.Public())
	if err != nil {
		t.Fatal(err)
	}
	h, err := p2p.NewHost(p2p.HostConfig{ClusterID: testCluster, Key: k, Peers: peerInfos(1)})
	if err != nil {
		t.Fatal(err)
	}
	defer h.Close()
	if h.ID() != id1 {
		t.Fatalf("host ID %s, PeerID %s", h.ID(), id1)
	}
	pub, err := p2p.PublicKey(h.ID())
	if err != nil || pub != k.Public() {
		t.Fatalf("PublicKey(ID) = %s, %v; want %s", pub, err, k.Public())
	}
}

func TestConfigErrors(t *testing.T) {
	for name, cfg := range map[string]p2p.HostConfig{
		"zero key":     {Peers: peerInfos(4)},
		"not replica":  {Key: clientKey(0), Peers: peerInfos(4)},
		"bad address":  {Key: replicaKey(0), Peers: append(peerInfos(4)[:3], p2p.PeerInfo{ID: 3, Key: replicaKey(3).Public(), Addrs: []string{"nonsense"}})},
		"wrong /p2p/":  {Key: replicaKey(0), Peers: append(peerInfos(4)[:3], p2p.PeerInfo{ID: 3, Key: replicaKey(3).Public(), Addrs: []string{"/ip4/127.0.0.1/tcp/1/p2p/12D3KooWGzxzKZYveHXtpG6AsrUJBcWxHBFS2HsEoGTxrMLvKXtf"}})},
		"duplicate id": {Key: replicaKey(0), Peers: append(peerInfos(4), peerInfos(1)...)},
	} {
		if h, err := p2p.NewHost(cfg); err == nil {
			h.Close()
			t.Errorf("%s: NewHost succeeded", name)
		}
	}
	if _, err := p2p.NewClientTransport(p2p.HostConfig{Key: replicaKey(1), Peers: peerInfos(4)}); err == nil {
		t.Error("client with a replica's key: NewClientTransport succeeded")
	}
}

// TestSendBroadcast: four hosts exchange Send and Broadcast, in both
// broadcast modes.
func TestSendBroadcast(t *testing.T) {
	for _, mode := range []p2p.BroadcastMode{p2p.BroadcastDirect, p2p.BroadcastGossip} {
		t.Run(mode.String(), func(t *testing.T) {
			c := newCluster(t, 4, mode, nil)

			c.tr[0].Send(2, prepare(0, 1))
			if got := recvFrame(t, c.tr[2].Receive()); !bytes.Equal(got, prepare(0, 1)) {
				t.Fatalf("Send 0->2: got %s", describe(got))
			}

			// Every replica broadcasts; every other one receives each
			// broadcast exactly once.
			const rounds = 20
			for seq := uint64(1); seq <= rounds; seq++ {
				for i := range 4 {
					c.tr[i].Broadcast(prepare(i, 100+seq))
				}
			}
			for j := range 4 {
				seen := map[[2]int]bool{}
				for range 3 * rounds {
					f := recvFrame(t, c.tr[j].Receive())
					m, _ := pbft.Unmarshal(f)
					p := m.(*pbft.Prepare)
					key := [2]int{int(p.Replica), int(p.Seq)}
					if int(p.Replica) == j || seen[key] {
						t.Fatalf("replica %d: unexpected %s", j, describe(f))
					}
					seen[key] = true
				}
				noFrame(t, "after broadcasts", c.tr[j].Receive(), 50*time.Millisecond)
			}

			st := c.hosts[0].Stats()
			if st.GarbageFrames != 0 || st.Unroutable != 0 {
				t.Fatalf("stats %+v", st)
			}
			var in uint64
			for _, r := range st.Replicas {
				in += r.FramesIn
				if !r.Connected {
					t.Errorf("replica %d not connected", r.Replica)
				}
			}
			if in != 3*rounds {
				t.Errorf("host 0 counted %d frames in from replicas, want %d", in, 3*rounds)
			}
			if mode == p2p.BroadcastGossip && st.Gossip.FramesOut != rounds {
				t.Errorf("host 0 published %d gossip frames, want %d", st.Gossip.FramesOut, rounds)
			}

			// Unknown destinations are counted, not fatal.
			c.tr[0].Send(9, prepare(0, 2))
			if st := c.hosts[0].Stats(); st.Unroutable != 1 {
				t.Errorf("unroutable %d, want 1", st.Unroutable)
			}
		})
	}
}

// TestSendClient: a client's requests reach the replicas, and their
// replies reach the client over the client's own connections.
func TestSendClient(t *testing.T) {
	c := newCluster(t, 4, p2p.BroadcastDirect, func(i int, c *p2p.HostConfig) {
		if i != 0 {
			c.ClientIdle = 300 * time.Millisecond
		}
	})
	peers := peerInfos(4)
	for i := range peers {
		peers[i].Addrs = c.hosts[i].Addrs()
	}
	ck := clientKey(0)
	cl, err := p2p.NewClientTransport(p2p.HostConfig{ClusterID: testCluster, Key: ck, Peers: peers})
	if err != nil {
		t.Fatal(err)
	}
	defer cl.Close()
	if len(cl.Host().Addrs()) != 0 {
		t.Errorf("client listens on %v", cl.Host().Addrs())
	}

	req := request(ck, 1, 100)
	cl.Broadcast(req)
	for i := range 4 {
		if got := recvFrame(t, c.tr[i].Receive()); !bytes.Equal(got, req) {
			t.Fatalf("replica %d: got %s", i, describe(got))
		}
	}
	for i := range 4 {
		c.tr[i].SendClient(ck.Public(), reply(i, ck.Public(), 1))
	}
	got := map[int]bool{}
	for range 4 {
		got[sender(t, recvFrame(t, cl.Receive()))] = true
	}
	if len(got) != 4 {
		t.Fatalf("replies from %v, want all 4", got)
	}
	if st := c.hosts[1].Stats(); st.Clients.FramesIn != 1 || st.Clients.FramesOut != 1 {
		t.Errorf("replica 1 client stats %+v", st.Clients)
	}

	// A client that is not connected is skipped and counted.
	c.tr[0].SendClient(clientKey(1).Public(), reply(0, clientKey(1).Public(), 1))
	if st := c.hosts[0].Stats(); st.Unroutable != 1 {
		t.Errorf("unroutable %d, want 1", st.Unroutable)
	}

	// Reply streams idle out (ClientIdle is 300ms here).
	waitFor(t, "reply stream retired", func() bool { return c.hosts[1].Stats().ClientStreams == 0 })
	// A client that left is skipped too.
	if st := c.hosts[0].Stats(); st.ClientStreams != 1 {
		t.Errorf("host 0 has %d client streams, want 1", st.ClientStreams)
	}
	cl.Close()
	waitFor(t, "client gone", func() bool { return c.hosts[0].Stats().ConnectedPeers == 3 })
	c.tr[0].SendClient(ck.Public(), reply(0, ck.Public(), 2))
	waitFor(t, "reply counted unroutable", func() bool {
		st := c.hosts[0].Stats()
		return st.Unroutable == 2 && st.ClientStreams == 0 && st.Clients.QueueDepth == 0
	})
}

// TestRestart: a host restarted with the same key (and address) keeps its
// peer ID, and the others reconnect to it by themselves.
func TestRestart(t *testing.T) {
	c := newCluster(t, 4, p2p.BroadcastDirect, nil)
	// Make sure host 0's stream to host 1 is up before host 1 goes.
	c.tr[0].Send(1, prepare(0, 6))
	recvFrame(t, c.tr[1].Receive())
	oldID := c.hosts[1].ID()
	addrs := c.hosts[1].Addrs()
	if err := c.hosts[1].Close(); err != nil {
		t.Fatal(err)
	}
	c.hosts[1] = nil
	// While it is down, frames for it wait in the queue. (A frame sent
	// before host 0 sees the connection close may be lost: yamux takes
	// it, and the dead TCP connection drops it.)
	waitFor(t, "host 0 to see host 1 gone", func() bool { return !c.hosts[0].Stats().Replicas[0].Connected })
	c.tr[0].Send(1, prepare(0, 7))

	cfg := c.cfg
	c.cfg = func(i int) p2p.HostConfig {
		x := cfg(i)
		if i == 1 {
			x.ListenAddrs = addrs // the port the others know
		}
		return x
	}
	c.start(1)
	if c.hosts[1].ID() != oldID {
		t.Fatalf("restarted host has ID %s, was %s", c.hosts[1].ID(), oldID)
	}
	c.waitConnected()

	if got := recvFrame(t, c.tr[1].Receive()); !bytes.Equal(got, prepare(0, 7)) {
		t.Fatalf("queued frame: got %s", describe(got))
	}
	c.tr[2].Broadcast(prepare(2, 8))
	for _, j := range []int{0, 1, 3} {
		if got := recvFrame(t, c.tr[j].Receive()); !bytes.Equal(got, prepare(2, 8)) {
			t.Fatalf("replica %d: got %s", j, describe(got))
		}
	}
	if r := c.hosts[0].Stats().Replicas[0]; r.Replica != 1 || r.Reconnects == 0 {
		t.Errorf("host 0 counted no reconnect to replica 1: %+v", r)
	}
}

// TestDeadPeer: a dead peer's full queue does not hold up sends to the
// others, and its overflow is counted.
func TestDeadPeer(t *testing.T) {
	const queue = 64
	c := newCluster(t, 4, p2p.BroadcastDirect, func(_ int, c *p2p.HostConfig) { c.QueueLen = queue })
	c.hosts[3].Close()
	c.hosts[3] = nil
	waitFor(t, "host 0 to see replica 3 gone", func() bool { return !c.hosts[0].Stats().Replicas[2].Connected })

	// Bursts of half a queue, each received before the next, so only the
	// dead peer's queue can overflow.
	const bursts, burst = 10, queue / 2
	start := time.Now()
	seq := uint64(0)
	for range bursts {
		for range burst {
			seq++
			c.tr[0].Broadcast(prepare(0, seq))
		}
		for _, j := range []int{1, 2} {
			for k := seq - burst + 1; k <= seq; k++ {
				if got := recvFrame(t, c.tr[j].Receive()); !bytes.Equal(got, prepare(0, k)) {
					t.Fatalf("replica %d frame %d: got %s", j, k, describe(got))
				}
			}
		}
	}
	if d := time.Since(start); d > 5*time.Second {
		t.Errorf("%d broadcasts took %v", seq, d)
	}
	st := c.hosts[0].Stats()
	r3 := st.Replicas[2]
	// QueueDepth counts the full queue, plus the batch the writer may
	// have taken before it saw the stream fail (it keeps it for the next
	// stream).
	if r3.Replica != 3 || r3.QueueDepth < queue || r3.Dropped+uint64(r3.QueueDepth) != seq || r3.FramesOut != 0 {
		t.Errorf("replica 3 stats %+v: want %d frames queued or dropped, a full queue", r3, seq)
	}
	if st.Replicas[0].Dropped != 0 || st.Replicas[1].Dropped != 0 {
		t.Errorf("drops to live replicas: %+v", st.Replicas)
	}
}

// TestClose: Close closes Receive, later sends are counted, and a second
// Close is harmless.
func TestClose(t *testing.T) {
	c := newCluster(t, 2, p2p.BroadcastGossip, nil)
	if err := c.tr[0].Close(); err != nil {
		t.Fatal(err)
	}
	select {
	case _, ok := <-c.tr[0].Receive():
		if ok {
			t.Fatal("frame after Close")
		}
	case <-time.After(waitLimit):
		t.Fatal("Receive not closed")
	}
	c.tr[0].Send(1, prepare(0, 1))
	c.tr[0].Broadcast(prepare(0, 1))
	if err := c.tr[0].Close(); err != nil {
		t.Fatal(err)
	}
	if st := c.hosts[0].Stats(); st.Unroutable != 2 {
		t.Errorf("unroutable %d, want 2", st.Unroutable)
	}
}
