package p2p_test

import (
	"fmt"
	"testing"
	"time"

	"github.com/bftbed/bftbed/crypto"
	"github.com/bftbed/bftbed/p2p"
	"github.com/bftbed/bftbed/pbft"
)

// Helpers of the libp2p tests. Every host listens on 127.0.0.1 with an
// OS-assigned port, and every wait is bounded.

const (
	testCluster = "p2p-test"
	waitLimit   = 10 * time.Second
)

var (
	testSeed   = []byte("p2p-net-test")
	testDomain = crypto.NewDomain(testCluster)
)

func replicaKey(i int) crypto.PrivateKey {
	return crypto.DeriveKey(testSeed, fmt.Sprintf("replica/%d", i))
}

func clientKey(i int) crypto.PrivateKey {
	return crypto.DeriveKey(testSeed, fmt.Sprintf("client/%d", i))
}

// peerInfos lists n replicas without addresses.
func peerInfos(n int) []p2p.PeerInfo {
	ps := make([]p2p.PeerInfo, n)
	for i := range ps {
		ps[i] = p2p.PeerInfo{ID: pbft.ReplicaID(i), Key: replicaKey(i).Public()}
	}
	return ps
}

// cluster is n replica hosts on loopback.
type cluster struct {
	t     *testing.T
	n     int
	hosts []*p2p.Host
	tr    []pbft.Transport
	cfg   func(i int) p2p.HostConfig
}

// newCluster starts n hosts in mode, lets tweak adjust each config, tells
// every host the others' addresses, and waits until they are connected
// (and, in gossip mode, subscribed).
func newCluster(t *testing.T, n int, mode p2p.BroadcastMode, tweak func(i int, c *p2p.HostConfig)) *cluster {
	t.Helper()
	c := &cluster{t: t, n: n, hosts: make([]*p2p.Host, n), tr: make([]pbft.Transport, n)}
	c.cfg = func(i int) p2p.HostConfig {
		cfg := p2p.HostConfig{
			ClusterID:  testCluster,
			Key:        replicaKey(i),
			Peers:      peerInfos(n),
			Broadcast:  mode,
			MinBackoff: 20 * time.Millisecond,
			MaxBackoff: 500 * time.Millisecond,
		}
		if tweak != nil {
			tweak(i, &cfg)
		}
		return cfg
	}
	for i := range n {
		c.start(i)
	}
	for i := range n {
		c.announce(i)
	}
	c.waitConnected()
	return c
}

// start starts host i (again, after a stop).
func (c *cluster) start(i int) {
	c.t.Helper()
	h, err := p2p.NewHost(c.cfg(i))
	if err != nil {
		c.t.Fatalf("host %d: %v", i, err)
	}
	c.t.Cleanup(func() { h.Close() })
	c.hosts[i] = h
	c.tr[i] = h.Replica(pbft.ReplicaID(i))
}

// announce tells every other host where host i listens.
func (c *cluster) announce(i int) {
	c.t.Helper()
	for j, h := range c.hosts {
		if j == i || h == nil {
			continue
		}
		if err := h.SetPeerAddrs(pbft.ReplicaID(i), c.hosts[i].Addrs()); err != nil {
			c.t.Fatal(err)
		}
	}
}

// live returns the hosts that are running.
func (c *cluster) live() []*p2p.Host {
	var out []*p2p.Host
	for _, h := range c.hosts {
		if h != nil {
			out = append(out, h)
		}
	}
	return out
}

// waitConnected waits until every live host is connected to every other
// live host and, in gossip mode, sees them on the topic.
func (c *cluster) waitConnected() {
	c.t.Helper()
	live := c.live()
	waitFor(c.t, "cluster connected", func() bool {
		for i, h := range c.hosts {
			if h == nil {
				continue
			}
			st := h.Stats()
			for _, r := range st.Replicas {
				if c.hosts[r.Replica] != nil && !r.Connected {
					return false
				}
			}
			if c.cfg(i).Broadcast == p2p.BroadcastGossip && st.GossipPeers < len(live)-1 {
				return false
			}
		}
		return true
	})
}

// waitFor polls cond every 10ms until it holds, failing after waitLimit.
func waitFor(t *testing.T, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(waitLimit)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("timed out waiting for %s", what)
		}
		time.Sleep(10 * time.Millisecond)
	}
}

// recvFrame returns the next frame on ch, failing after waitLimit.
func recvFrame(t *testing.T, ch <-chan []byte) []byte {
	t.Helper()
	select {
	case b, ok := <-ch:
		if !ok {
			t.Fatal("receive channel closed")
		}
		return b
	case <-time.After(waitLimit):
		t.Fatal("no frame in time")
		return nil
	}
}

// noFrame fails if ch yields a frame within d.
func noFrame(t *testing.T, name string, ch <-chan []byte, d time.Duration) {
	t.Helper()
	select {
	case b := <-ch:
		t.Fatalf("%s: unexpected frame %s", name, describe(b))
	case <-time.After(d):
	}
}

// prepare returns the encoding of a PREPARE for seq signed by replica i.
func prepare(i int, seq uint64) []byte {
	m := &pbft.Prepare{
		View:    1,
		Seq:     pbft.Seq(seq),
		Digest:  crypto.Hash([]byte(fmt.Sprint(seq))),
		Replica: pbft.ReplicaID(i),
	}
	pbft.Sign(testDomain, replicaKey(i), m)
	return pbft.Marshal(m)
}

// request returns the encoding of a REQUEST with timestamp ts and an
// operation of opLen bytes, signed by k.
func request(k crypto.PrivateKey, ts uint64, opLen int) []byte {
	op := make([]byte, opLen)
	for i := range op {
		op[i] = byte(i)
	}
	m := &pbft.Request{Client: k.Public(), Timestamp: ts, Op: op}
	pbft.Sign(testDomain, k, m)
	return pbft.Marshal(m)
}

// reply returns the encoding of replica i's REPLY to client c.
func reply(i int, c pbft.ClientID, ts uint64) []byte {
	m := &pbft.Reply{View: 1, Timestamp: ts, Client: c, Replica: pbft.ReplicaID(i), Result: []byte("ok")}
	pbft.Sign(testDomain, replicaKey(i), m)
	return pbft.Marshal(m)
}

// describe decodes b for failure messages.
func describe(b []byte) string {
	m, err := pbft.Unmarshal(b)
	if err != nil {
		return fmt.Sprintf("undecodable %d bytes (%v)", len(b), err)
	}
	return fmt.Sprintf("%s %+v", m.Type(), m)
}

// sender returns the replica that sent frame b (a PREPARE or REPLY) or -1.
func sender(t *testing.T, b []byte) int {
	t.Helper()
	m, err := pbft.Unmarshal(b)
	if err != nil {
		t.Fatalf("received undecodable frame: %v", err)
	}
	switch m := m.(type) {
	case *pbft.Prepare:
		return int(m.Replica)
	case *pbft.Reply:
		return int(m.Replica)
	}
	return -1
}
