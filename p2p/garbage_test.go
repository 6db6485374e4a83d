package p2p_test

import (
	"bytes"
	"context"
	crand "crypto/rand"
	"encoding/binary"
	"math/rand/v2"
	"testing"
	"time"

	"github.com/libp2p/go-libp2p"
	lcrypto "github.com/libp2p/go-libp2p/core/crypto"
	"github.com/libp2p/go-libp2p/core/network"
	"github.com/libp2p/go-libp2p/core/peer"
	ma "github.com/multiformats/go-multiaddr"

	"github.com/bftbed/bftbed/p2p"
	"github.com/bftbed/bftbed/pbft"
)

// TestGarbage: a raw libp2p peer sends random bytes, an oversized length
// prefix, or well-framed bytes the decoder rejects. Each time the host
// keeps running, disconnects and blocks the sender, and still delivers
// valid traffic from the other replicas.
func TestGarbage(t *testing.T) {
	c := newCluster(t, 2, p2p.BroadcastDirect, nil)
	target := c.hosts[0]
	var addrs []ma.Multiaddr
	for _, s := range target.Addrs() {
		addrs = append(addrs, ma.StringCast(s))
	}
	info := peer.AddrInfo{ID: target.ID(), Addrs: addrs}

	rng := rand.New(rand.NewPCG(1, 2))
	random := make([]byte, 4096)
	for i := range random {
		random[i] = byte(rng.Uint32())
	}
	cases := []struct {
		name    string
		payload []byte
	}{
		{"random bytes", random},
		{"oversized length prefix", binary.AppendUvarint(nil, 1<<30)},
		{"prefix just over the limit", binary.AppendUvarint(nil, p2p.DefaultMaxFrameSize+1)},
		{"framed garbage", append(binary.AppendUvarint(nil, 12), "not a pbft m"...)},
		{"empty frame", []byte{0}},
		{"truncated frame", append(binary.AppendUvarint(nil, 100), "short"...)},
	}
	for k, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			before := target.Stats().GarbageFrames
			sk, _, err := lcrypto.GenerateEd25519Key(crand.Reader)
			if err != nil {
				t.Fatal(err)
			}
			a, err := libp2p.New(libp2p.Identity(sk), libp2p.NoListenAddrs, libp2p.DisableRelay(), libp2p.Ping(false))
			if err != nil {
				t.Fatal(err)
			}
			defer a.Close()
			ctx, cancel := context.WithTimeout(context.Background(), waitLimit)
			defer cancel()
			if err := a.Connect(ctx, info); err != nil {
				t.Fatal(err)
			}
			s, err := a.NewStream(ctx, target.ID(), p2p.ProtocolID(testCluster))
			if err != nil {
				t.Fatal(err)
			}
			_, _ = s.Write(tc.payload) // may fail once the host hangs up
			_ = s.CloseWrite()

			waitFor(t, "garbage counted", func() bool { return target.Stats().GarbageFrames == before+1 })
			waitFor(t, "attacker disconnected", func() bool {
				return a.Network().Connectedness(target.ID()) != network.Connected
			})
			// It stays out: the host refuses its new connections.
			if err := a.Connect(ctx, info); err == nil {
				waitFor(t, "reconnection refused", func() bool {
					return a.Network().Connectedness(target.ID()) != network.Connected
				})
			}
			if st := target.Stats(); st.Blocked != k+1 || st.Clients.Garbage != uint64(k+1) {
				t.Errorf("stats %+v", st)
			}
			// Valid traffic still flows.
			c.tr[1].Send(0, prepare(1, uint64(k+1)))
			if got := recvFrame(t, c.tr[0].Receive()); !bytes.Equal(got, prepare(1, uint64(k+1))) {
				t.Fatalf("got %s", describe(got))
			}
		})
	}
	// The sender of garbage never reached Receive.
	noFrame(t, "host 0", c.tr[0].Receive(), 50*time.Millisecond)
}

// TestGossipRejectsBadSignature: a gossip message with a bad signature is
// rejected by the validator (not delivered, not forwarded), its sender is
// penalized, and valid broadcasts still arrive.
func TestGossipRejectsBadSignature(t *testing.T) {
	c := newCluster(t, 4, p2p.BroadcastGossip, nil)

	bad := &pbft.Prepare{View: 1, Seq: 9, Replica: 0}
	pbft.Sign(testDomain, replicaKey(0), bad)
	bad.Sig[0] ^= 1
	c.tr[0].Broadcast(pbft.Marshal(bad))
	waitFor(t, "rejections", func() bool {
		for _, h := range c.hosts[1:] {
			if st := h.Stats(); st.GossipRejected != 1 || st.Blocked != 1 {
				return false
			}
		}
		return true
	})
	if st := c.hosts[1].Stats(); st.Replicas[0].Garbage != 1 {
		t.Errorf("replica 0 not blamed: %+v", st.Replicas[0])
	}

	good := prepare(2, 10)
	c.tr[2].Broadcast(good)
	for _, j := range []int{1, 3} {
		if got := recvFrame(t, c.tr[j].Receive()); !bytes.Equal(got, good) {
			t.Fatalf("replica %d: got %s", j, describe(got))
		}
	}
	noFrame(t, "replica 2", c.tr[2].Receive(), 50*time.Millisecond)
}
