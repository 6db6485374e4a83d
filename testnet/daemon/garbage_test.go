package daemon_test

import (
	"context"
	crand "crypto/rand"
	"encoding/binary"
	"math/rand/v2"
	"net/http"
	"testing"
	"time"

	"github.com/libp2p/go-libp2p"
	lcrypto "github.com/libp2p/go-libp2p/core/crypto"
	"github.com/libp2p/go-libp2p/core/peer"
	ma "github.com/multiformats/go-multiaddr"

	"github.com/bftbed/bftbed/crypto"
	"github.com/bftbed/bftbed/p2p"
	"github.com/bftbed/bftbed/pbft"
	"github.com/bftbed/bftbed/pbft/kv"
	"github.com/bftbed/bftbed/testnet/daemon"
)

// checkGarbage sends random bytes, oversized frames and well-framed
// garbage (undecodable, and a well-formed request with a bad signature) to
// a replica's libp2p endpoint, each from a fresh identity: the replica keeps
// running, counts each, and the cluster keeps committing.
func checkGarbage(t *testing.T, c *testNet, clients []*pbft.Client) {
	const target = 1
	d := c.ds[target]
	before := scrape(t, d)

	rng := rand.New(rand.NewPCG(3, 4))
	random := make([]byte, 8192)
	for i := range random {
		random[i] = byte(rng.Uint32())
	}
	framedRandom := binary.AppendUvarint(nil, 300)
	for range 300 {
		framedRandom = append(framedRandom, byte(rng.Uint32()))
	}
	// A well-formed REQUEST whose signature is not its client's.
	forger := crypto.DeriveKey(testSeed, "forger")
	req := &pbft.Request{Client: forger.Public(), Timestamp: 1, Op: kv.EncodeGet([]byte("k"))}
	pbft.Sign(crypto.NewDomain(testCluster), forger, req)
	req.Sig[3] ^= 1
	badSig := pbft.Marshal(req)
	badSig = append(binary.AppendUvarint(nil, uint64(len(badSig))), badSig...)

	cases := []struct {
		name    string
		payload []byte
		garbage bool // the host blames the sender (else it reaches the node)
	}{
		{"random bytes", random, true},
		{"oversized length prefix", binary.AppendUvarint(nil, 1<<40), true},
		{"frame just over the limit", binary.AppendUvarint(nil, p2p.DefaultMaxFrameSize+1), true},
		{"framed random payload", framedRandom, true},
		{"bad signature", badSig, false},
	}
	garbage := 0
	for _, tc := range cases {
		if tc.garbage {
			garbage++
			want := uint64(garbage)
			sendRaw(t, d, tc.payload, func() bool { return d.Host().Stats().GarbageFrames >= want })
		} else {
			sendRaw(t, d, tc.payload, func() bool { return d.Node().Stats().BadSignature > 0 })
		}
	}
	eventually(t, "garbage counted", func() bool {
		return d.Host().Stats().GarbageFrames >= uint64(garbage)
	})

	// Still running, still committing, with the target in the quorum.
	select {
	case <-d.Done():
		t.Fatalf("replica %d stopped: %v", target, d.Err())
	default:
	}
	start := c.ds[0].Status().LastExecuted
	c.load(clients, 5, "after-garbage")
	c.converged(start + 1)
	if code, body := get(t, d.HTTPAddr(), "/healthz"); code != http.StatusOK {
		t.Errorf("/healthz after garbage: %d %s", code, body)
	}
	after := scrape(t, d)
	for _, fam := range []string{"bftbed_p2p_garbage_frames_total", "bftbed_signature_failures_total"} {
		if value(after, fam) <= value(before, fam) {
			t.Errorf("%s did not grow: %v -> %v", fam, value(before, fam), value(after, fam))
		}
	}
	if v := value(after, "bftbed_p2p_blocked_peers"); v < float64(garbage) {
		t.Errorf("blocked peers %v, want >= %d", v, garbage)
	}
}

// sendRaw connects to d's libp2p endpoint from a fresh identity, opens a
// stream of the cluster's protocol, writes payload on it and waits until
// counted holds.
func sendRaw(t *testing.T, d *daemon.Daemon, payload []byte, counted func() bool) {
	t.Helper()
	var addrs []ma.Multiaddr
	for _, s := range d.Host().Addrs() {
		addrs = append(addrs, ma.StringCast(s))
	}
	info := peer.AddrInfo{ID: d.Host().ID(), Addrs: addrs}
	sk, _, err := lcrypto.GenerateEd25519Key(crand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	h, err := libp2p.New(libp2p.Identity(sk), libp2p.NoListenAddrs, libp2p.DisableRelay(), libp2p.Ping(false))
	if err != nil {
		t.Fatal(err)
	}
	defer h.Close()
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	if err := h.Connect(ctx, info); err != nil {
		t.Fatal(err)
	}
	s, err := h.NewStream(ctx, info.ID, p2p.ProtocolID(testCluster))
	if err != nil {
		t.Fatal(err)
	}
	_, _ = s.Write(payload) // may fail once the replica hangs up
	_ = s.CloseWrite()
	// Closing the host before the replica read the payload could cut it
	// short.
	eventually(t, "the replica to count the frame", counted)
}
