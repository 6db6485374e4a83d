package pbft_test

import (
	"context"
	"errors"
	"fmt"
	"testing"
	"time"

	"github.com/bftbed/bftbed/crypto"
	"github.com/bftbed/bftbed/p2p"
	"github.com/bftbed/bftbed/pbft"
)

// rtFakeReplicas is a MemNetwork whose replicas are played by the test: it
// reads what the client sends and writes replies by hand.
type rtFakeReplicas struct {
	t      *testing.T
	domain crypto.Domain
	keys   []crypto.PrivateKey
	pubs   []crypto.PublicKey
	net    *p2p.MemNetwork
	ends   []pbft.Transport
}

func newRTFakeReplicas(t *testing.T) *rtFakeReplicas {
	f := &rtFakeReplicas{t: t, domain: crypto.NewDomain("client-test"), net: p2p.NewMemNetwork(4)}
	for i := range 4 {
		k := crypto.DeriveKey(rtSeed, fmt.Sprintf("replica/%d", i))
		f.keys = append(f.keys, k)
		f.pubs = append(f.pubs, k.Public())
		f.ends = append(f.ends, f.net.Replica(pbft.ReplicaID(i)))
	}
	t.Cleanup(func() { f.net.Close() })
	return f
}

func (f *rtFakeReplicas) client(retry time.Duration) *pbft.Client {
	k := crypto.DeriveKey(rtSeed, "client/0")
	cl, err := pbft.NewClient(pbft.ClientConfig{
		N: 4, Domain: f.domain, Key: k, Replicas: f.pubs,
		Transport: f.net.Client(k.Public()), RetryTimeout: retry,
	})
	if err != nil {
		f.t.Fatal(err)
	}
	f.t.Cleanup(func() { cl.Close() })
	return cl
}

// request waits for the request that replica id receives.
func (f *rtFakeReplicas) request(id int) *pbft.Request {
	f.t.Helper()
	select {
	case b := <-f.ends[id].Receive():
		m, err := pbft.Unmarshal(b)
		if err != nil {
			f.t.Fatal(err)
		}
		req, ok := m.(*pbft.Request)
		if !ok {
			f.t.Fatalf("replica %d got a %s", id, m.Type())
		}
		if err := pbft.Authenticate(f.domain, nil, req); err != nil {
			f.t.Fatal(err)
		}
		return req
	case <-time.After(10 * time.Second):
		f.t.Fatalf("replica %d received no request", id)
		return nil
	}
}

// reply sends, from replica from, a reply to req in replica as's name,
// signed with replica signer's key.
func (f *rtFakeReplicas) reply(from, as, signer int, req *pbft.Request, ts uint64, result string) {
	rep := &pbft.Reply{Timestamp: ts, Client: req.Client, Replica: pbft.ReplicaID(as), Result: []byte(result)}
	pbft.Sign(f.domain, f.keys[signer], rep)
	f.ends[from].SendClient(req.Client, pbft.Marshal(rep))
}

type rtResult struct {
	result []byte
	err    error
}

func rtGoInvoke(ctx context.Context, cl *pbft.Client, op string) <-chan rtResult {
	ch := make(chan rtResult, 1)
	go func() {
		r, err := cl.Invoke(ctx, []byte(op))
		ch <- rtResult{r, err}
	}()
	return ch
}

func rtWait(t *testing.T, ch <-chan rtResult) rtResult {
	t.Helper()
	select {
	case r := <-ch:
		return r
	case <-time.After(10 * time.Second):
		t.Fatal("Invoke did not return")
		return rtResult{}
	}
}

// TestClientNeedsFPlusOneAuthenticMatchingReplies feeds the client replies
// that must not count: duplicates, forgeries, stale timestamps. Had any of
// them counted, "evil" would reach f+1 = 2 before "good" does.
func TestClientNeedsFPlusOneAuthenticMatchingReplies(t *testing.T) {
	f := newRTFakeReplicas(t)
	cl := f.client(time.Hour)
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	done := rtGoInvoke(ctx, cl, "op")
	req := f.request(0) // the primary of view 0
	if string(req.Op) != "op" || req.Client != cl.ID() {
		t.Fatalf("request %+v", req)
	}
	ts := req.Timestamp
	f.reply(3, 3, 3, req, ts, "evil")   // a faulty replica's authentic reply
	f.reply(3, 3, 3, req, ts, "evil")   // ... twice
	f.reply(3, 2, 3, req, ts, "evil")   // ... in replica 2's name
	f.reply(2, 2, 2, req, ts-1, "evil") // an authentic reply to another request
	f.reply(0, 0, 0, req, ts, "good")
	f.reply(1, 1, 1, req, ts, "good")
	r := rtWait(t, done)
	if r.err != nil || string(r.result) != "good" {
		t.Fatalf("Invoke = %q, %v; want good", r.result, r.err)
	}
	// Timestamps increase from one request to the next.
	done = rtGoInvoke(ctx, cl, "op2")
	if req2 := f.request(0); req2.Timestamp <= ts {
		t.Fatalf("timestamp %d after %d", req2.Timestamp, ts)
	}
	cl.Close()
	if r := rtWait(t, done); !errors.Is(r.err, pbft.ErrClientClosed) {
		t.Fatalf("Invoke after Close = %v", r.err)
	}
	if _, err := cl.Invoke(ctx, []byte("x")); !errors.Is(err, pbft.ErrClientClosed) {
		t.Fatalf("Invoke on closed client = %v", err)
	}
}

// TestClientRetransmitsToAll checks that a request the primary ignores is
// sent again to every replica, and that ctx bounds Invoke.
func TestClientRetransmitsToAll(t *testing.T) {
	f := newRTFakeReplicas(t)
	cl := f.client(10 * time.Millisecond)
	ctx, cancel := context.WithCancel(context.Background())
	done := rtGoInvoke(ctx, cl, "op")
	first := f.request(0)
	for i := range 4 {
		if again := f.request(i); again.Timestamp != first.Timestamp {
			t.Fatalf("replica %d got timestamp %d, want the retransmitted %d", i, again.Timestamp, first.Timestamp)
		}
	}
	cancel()
	if r := rtWait(t, done); !errors.Is(r.err, context.Canceled) {
		t.Fatalf("Invoke = %v, want context.Canceled", r.err)
	}
}

func TestNewClientRejectsBadConfig(t *testing.T) {
	f := newRTFakeReplicas(t)
	k := crypto.DeriveKey(rtSeed, "client/0")
	good := pbft.ClientConfig{N: 4, Domain: f.domain, Key: k, Replicas: f.pubs, Transport: f.net.Client(k.Public())}
	for name, edit := range map[string]func(*pbft.ClientConfig){
		"n":            func(c *pbft.ClientConfig) { c.N = 3 },
		"replicas":     func(c *pbft.ClientConfig) { c.Replicas = f.pubs[:3] },
		"no key":       func(c *pbft.ClientConfig) { c.Key = crypto.PrivateKey{} },
		"no transport": func(c *pbft.ClientConfig) { c.Transport = nil },
	} {
		cfg := good
		edit(&cfg)
		if _, err := pbft.NewClient(cfg); err == nil {
			t.Errorf("%s: NewClient accepted it", name)
		}
	}
}
