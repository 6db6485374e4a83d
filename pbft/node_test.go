package pbft_test

import (
	"context"
	"errors"
	"fmt"
	"math/rand/v2"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/bftbed/bftbed/crypto"
	"github.com/bftbed/bftbed/p2p"
	"github.com/bftbed/bftbed/pbft"
	"github.com/bftbed/bftbed/pbft/kv"
)

var rtSeed = []byte("bftbed node test")

// rtCluster is n Nodes running the kv store on a MemNetwork, with real keys.
type rtCluster struct {
	t      testing.TB
	n      int
	domain crypto.Domain
	keys   []crypto.PrivateKey
	pubs   []crypto.PublicKey
	net    *p2p.MemNetwork
	nodes  []*pbft.Node
	// protocol and retry are the replicas' config and the clients' first
	// retry timeout.
	protocol func(id pbft.ReplicaID) pbft.Config
	retry    time.Duration
}

// rtConfig is a protocol config with checkpoints often enough that tests
// see them become stable.
func rtConfig(id pbft.ReplicaID, n int) pbft.Config {
	cfg := pbft.DefaultConfig(id, n)
	cfg.CheckpointInterval, cfg.WatermarkWindow = 8, 16
	return cfg
}

// newRTCluster starts n replicas; edit, if not nil, adjusts each replica's
// NodeConfig before it starts.
func newRTCluster(t testing.TB, n int, protocol func(pbft.ReplicaID) pbft.Config, edit func(*pbft.NodeConfig)) *rtCluster {
	t.Helper()
	c := &rtCluster{
		t: t, n: n, domain: crypto.NewDomain("node-test"), net: p2p.NewMemNetwork(n),
		protocol: protocol, retry: 200 * time.Millisecond,
	}
	if c.protocol == nil {
		c.protocol = func(id pbft.ReplicaID) pbft.Config { return rtConfig(id, n) }
	}
	for i := range n {
		k := crypto.DeriveKey(rtSeed, fmt.Sprintf("replica/%d", i))
		c.keys = append(c.keys, k)
		c.pubs = append(c.pubs, k.Public())
	}
	c.nodes = make([]*pbft.Node, n)
	for i := range n {
		cfg := c.nodeConfig(pbft.ReplicaID(i))
		if edit != nil {
			edit(&cfg)
		}
		node, err := pbft.StartNode(cfg)
		if err != nil {
			t.Fatalf("StartNode(%d): %v", i, err)
		}
		c.nodes[i] = node
	}
	t.Cleanup(c.stop)
	return c
}

func (c *rtCluster) nodeConfig(id pbft.ReplicaID) pbft.NodeConfig {
	return pbft.NodeConfig{
		Protocol: c.protocol(id), Domain: c.domain, Key: c.keys[id], Replicas: c.pubs,
		App: kv.New(), Storage: pbft.NewMemoryStorage(), Transport: c.net.Replica(id),
	}
}

// stop stops every node, then the network.
func (c *rtCluster) stop() {
	for _, n := range c.nodes {
		if n != nil {
			n.Stop()
		}
	}
	c.net.Close()
}

// client returns a Client with key "client/<i>".
func (c *rtCluster) client(i int) *pbft.Client {
	c.t.Helper()
	k := crypto.DeriveKey(rtSeed, fmt.Sprintf("client/%d", i))
	cl, err := pbft.NewClient(pbft.ClientConfig{
		N: c.n, Domain: c.domain, Key: k, Replicas: c.pubs,
		Transport: c.net.Client(k.Public()), RetryTimeout: c.retry,
	})
	if err != nil {
		c.t.Fatal(err)
	}
	c.t.Cleanup(func() { cl.Close() })
	return cl
}

// rtEventually polls cond until it holds, failing the test after timeout.
func rtEventually(t testing.TB, timeout time.Duration, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(timeout)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("timed out after %v waiting for %s", timeout, what)
		}
		time.Sleep(5 * time.Millisecond)
	}
}

// rtInvoke runs op and decodes its kv result.
func rtInvoke(t testing.TB, ctx context.Context, cl *pbft.Client, op []byte) kv.Result {
	t.Helper()
	b, err := cl.Invoke(ctx, op)
	if err != nil {
		t.Fatalf("Invoke: %v", err)
	}
	r, err := kv.DecodeResult(b)
	if err != nil {
		t.Fatalf("DecodeResult: %v", err)
	}
	return r
}

// converged waits until the running replicas among ids agree on their last
// executed sequence number and stable checkpoint, and returns the status.
func (c *rtCluster) converged(ids ...int) pbft.Status {
	c.t.Helper()
	var st pbft.Status
	rtEventually(c.t, 10*time.Second, "replicas to converge", func() bool {
		st = c.nodes[ids[0]].Status()
		for _, i := range ids[1:] {
			s := c.nodes[i].Status()
			if s.LastExecuted != st.LastExecuted || s.StableSeq != st.StableSeq || s.StableState != st.StableState {
				return false
			}
		}
		return true
	})
	return st
}

func TestNodeConcurrentClients(t *testing.T) {
	c := newRTCluster(t, 4, nil, nil)
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	const clients, ops = 4, 15
	var wg sync.WaitGroup
	errs := make(chan error, clients)
	for i := range clients {
		cl := c.client(i)
		wg.Go(func() {
			key := fmt.Appendf(nil, "key-%d", i)
			want := ""
			for j := range ops {
				tok := fmt.Sprintf("%d;", j)
				want += tok
				b, err := cl.Invoke(ctx, kv.EncodeAppend(key, []byte(tok)))
				if err != nil {
					errs <- err
					return
				}
				if r, err := kv.DecodeResult(b); err != nil || string(r.Value) != want {
					errs <- fmt.Errorf("client %d op %d: result %v, %v; want value %q", i, j, r, err, want)
					return
				}
			}
			b, err := cl.Invoke(ctx, kv.EncodeGet(key))
			if r, derr := kv.DecodeResult(b); err != nil || derr != nil || string(r.Value) != want || !r.Found {
				errs <- fmt.Errorf("client %d get: %v, %v, %v; want %q", i, r, err, derr, want)
			}
		})
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Error(err)
	}
	if t.Failed() {
		return
	}
	st := c.converged(0, 1, 2, 3)
	if st.LastExecuted == 0 || st.StableSeq == 0 {
		t.Fatalf("status %+v: want executed batches and a stable checkpoint", st)
	}
	for i, n := range c.nodes {
		if s := n.Stats(); s.Delivered == 0 || s.Saves == 0 || s.Sent == 0 || s.BadSignature != 0 || s.Malformed != 0 {
			t.Errorf("replica %d stats %+v", i, s)
		}
	}
}

func TestNodeBackupStopped(t *testing.T) {
	c := newRTCluster(t, 4, nil, nil)
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	cl := c.client(0)
	rtInvoke(t, ctx, cl, kv.EncodePut([]byte("k"), []byte("before")))
	if err := c.nodes[3].Stop(); err != nil {
		t.Fatalf("Stop: %v", err)
	}
	select {
	case <-c.nodes[3].Done():
	default:
		t.Fatal("Done not closed after Stop")
	}
	before := c.nodes[0].Status().LastExecuted
	for i := range 10 {
		r := rtInvoke(t, ctx, cl, kv.EncodeAppend([]byte("k"), fmt.Appendf(nil, "-%d", i)))
		if !r.OK {
			t.Fatalf("append %d: %v", i, r)
		}
	}
	if r := rtInvoke(t, ctx, cl, kv.EncodeGet([]byte("k"))); string(r.Value) != "before-0-1-2-3-4-5-6-7-8-9" {
		t.Fatalf("get: %v", r)
	}
	st := c.converged(0, 1, 2)
	if st.LastExecuted <= before || st.View != 0 {
		t.Fatalf("status %+v: want progress in view 0 past %d", st, before)
	}
}

func TestNodePrimaryStoppedViewChange(t *testing.T) {
	protocol := func(id pbft.ReplicaID) pbft.Config {
		cfg := rtConfig(id, 4)
		cfg.RequestTimeout = 200 * time.Millisecond
		return cfg
	}
	c := newRTCluster(t, 4, protocol, nil)
	c.retry = 100 * time.Millisecond
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	cl := c.client(0)
	rtInvoke(t, ctx, cl, kv.EncodePut([]byte("k"), []byte("v0")))

	c.nodes[0].Stop()
	c.net.Replica(0).Close() // the crashed primary's link goes down too
	for i := 1; i <= 3; i++ {
		r := rtInvoke(t, ctx, cl, kv.EncodePut([]byte("k"), fmt.Appendf(nil, "v%d", i)))
		if !r.OK || !r.Found {
			t.Fatalf("put %d: %v", i, r)
		}
	}
	if r := rtInvoke(t, ctx, cl, kv.EncodeGet([]byte("k"))); string(r.Value) != "v3" {
		t.Fatalf("get: %v", r)
	}
	st := c.converged(1, 2, 3)
	if st.View == 0 || st.ViewChanging || st.Primary == 0 {
		t.Fatalf("status %+v: want a new view with a new primary", st)
	}
}

func TestNodeSurvivesGarbage(t *testing.T) {
	c := newRTCluster(t, 4, nil, nil)
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	cl := c.client(0)
	rtInvoke(t, ctx, cl, kv.EncodePut([]byte("k"), []byte("v")))

	// An attacker with a client's access to the network sends to replica 1.
	attacker := crypto.DeriveKey(rtSeed, "attacker")
	link := c.net.Client(attacker.Public())
	rng := rand.New(rand.NewPCG(1, 2))
	const target = 1
	malformed := 0
	for i := range 50 {
		// Noise after a type byte no message has or, one time in five,
		// after PREPARE's type byte, but shorter than a PREPARE: every
		// frame is malformed whatever the random bytes.
		typ, size := pbft.MsgState+1+pbft.MsgType(rng.IntN(200)), 1+rng.IntN(300)
		if i%5 == 0 {
			typ, size = pbft.MsgPrepare, 1+rng.IntN(100)
		}
		b := make([]byte, size)
		for j := range b {
			b[j] = byte(rng.Uint32())
		}
		b[0] = byte(typ)
		link.Send(target, b)
		malformed++
	}
	req := &pbft.Request{Client: attacker.Public(), Timestamp: 1, Op: kv.EncodeGet([]byte("k"))}
	pbft.Sign(c.domain, attacker, req)
	valid := pbft.Marshal(req)
	for _, cut := range []int{0, 1, len(valid) / 2, len(valid) - 1} {
		link.Send(target, valid[:cut])
		malformed++
	}
	link.Send(target, append(valid[:len(valid):len(valid)], 0)) // trailing byte
	malformed++

	badSig := 0
	forged := *req
	forged.Sig[0] ^= 1
	link.Send(target, pbft.Marshal(&forged))
	badSig++
	// A PREPARE in replica 2's name, signed with the attacker's key.
	p := &pbft.Prepare{View: 0, Seq: 1, Replica: 2}
	pbft.Sign(c.domain, attacker, p)
	link.Send(target, pbft.Marshal(p))
	badSig++
	// A PRE-PREPARE from the real primary's key whose batch holds a
	// request with a bad signature: a nested signature fails.
	pp := &pbft.PrePrepare{View: 0, Seq: 2, Replica: 0, Batch: []*pbft.Request{&forged}}
	pp.Digest = pbft.BatchDigest(pp.Batch)
	pbft.Sign(c.domain, c.keys[0], pp)
	link.Send(target, pbft.Marshal(pp))
	badSig++

	rejected := 0
	unknown := &pbft.Prepare{View: 0, Seq: 1, Replica: 99}
	pbft.Sign(c.domain, attacker, unknown)
	link.Send(target, pbft.Marshal(unknown))
	rejected++
	rep := &pbft.Reply{Replica: 2, Client: attacker.Public()}
	pbft.Sign(c.domain, c.keys[2], rep)
	link.Send(target, pbft.Marshal(rep))
	rejected++

	node := c.nodes[target]
	rtEventually(t, 10*time.Second, "the garbage to be counted", func() bool {
		s := node.Stats()
		return s.Malformed == uint64(malformed) && s.BadSignature == uint64(badSig) && s.Rejected == uint64(rejected)
	})
	select {
	case <-node.Done():
		t.Fatalf("node stopped: %v", node.Err())
	default:
	}
	// The replica still takes part: the cluster commits, and it executes.
	for i := range 5 {
		rtInvoke(t, ctx, cl, kv.EncodePut([]byte("k"), fmt.Appendf(nil, "after-%d", i)))
	}
	c.converged(0, 1, 2, 3)
	t.Logf("replica %d stats: %+v", target, node.Stats())
}

// rtErrDisk is the failure of rtFailingStorage.
var rtErrDisk = errors.New("disk on fire")

// rtFailingStorage fails every Save once armed, and records that it did.
type rtFailingStorage struct {
	*pbft.MemoryStorage
	armed, failed atomic.Bool
}

func (s *rtFailingStorage) Save(p *pbft.Persist) error {
	if s.armed.Load() && !p.Empty() {
		s.failed.Store(true)
		return rtErrDisk
	}
	return s.MemoryStorage.Save(p)
}

// rtWatchTransport counts what a replica sends after its storage failed.
type rtWatchTransport struct {
	pbft.Transport
	storage   *rtFailingStorage
	afterFail atomic.Int64
}

func (w *rtWatchTransport) check() {
	if w.storage.failed.Load() {
		w.afterFail.Add(1)
	}
}
func (w *rtWatchTransport) Send(to pbft.ReplicaID, b []byte) { w.check(); w.Transport.Send(to, b) }
func (w *rtWatchTransport) Broadcast(b []byte)               { w.check(); w.Transport.Broadcast(b) }
func (w *rtWatchTransport) SendClient(id pbft.ClientID, b []byte) {
	w.check()
	w.Transport.SendClient(id, b)
}

func TestNodeStorageFailureIsFatal(t *testing.T) {
	const victim = 1
	storage := &rtFailingStorage{MemoryStorage: pbft.NewMemoryStorage()}
	var watch *rtWatchTransport
	c := newRTCluster(t, 4, nil, func(cfg *pbft.NodeConfig) {
		if cfg.Protocol.ID == victim {
			watch = &rtWatchTransport{Transport: cfg.Transport, storage: storage}
			cfg.Storage, cfg.Transport = storage, watch
		}
	})
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	cl := c.client(0)
	rtInvoke(t, ctx, cl, kv.EncodePut([]byte("k"), []byte("v")))

	storage.armed.Store(true)
	for i := range 3 {
		rtInvoke(t, ctx, cl, kv.EncodePut([]byte("k"), fmt.Appendf(nil, "v%d", i)))
	}
	node := c.nodes[victim]
	select {
	case <-node.Done():
	case <-ctx.Done():
		t.Fatal("node did not stop after its storage failed")
	}
	if !storage.failed.Load() {
		t.Fatal("storage never failed")
	}
	if err := node.Err(); !errors.Is(err, rtErrDisk) {
		t.Fatalf("Err() = %v, want %v", err, rtErrDisk)
	}
	if err := node.Stop(); !errors.Is(err, rtErrDisk) {
		t.Fatalf("Stop() = %v, want %v", err, rtErrDisk)
	}
	if n := watch.afterFail.Load(); n != 0 {
		t.Fatalf("%d frames sent after the failed Save", n)
	}
}

func TestStartNodeRejectsBadConfig(t *testing.T) {
	net := p2p.NewMemNetwork(4)
	defer net.Close()
	var pubs []crypto.PublicKey
	for i := range 4 {
		pubs = append(pubs, crypto.DeriveKey(rtSeed, fmt.Sprintf("replica/%d", i)).Public())
	}
	good := pbft.NodeConfig{
		Protocol: rtConfig(1, 4), Domain: crypto.NewDomain("x"),
		Key: crypto.DeriveKey(rtSeed, "replica/1"), Replicas: pubs,
		App: kv.New(), Storage: pbft.NewMemoryStorage(), Transport: net.Replica(1),
	}
	for name, edit := range map[string]func(*pbft.NodeConfig){
		"wrong key":     func(c *pbft.NodeConfig) { c.Key = crypto.DeriveKey(rtSeed, "replica/2") },
		"no key":        func(c *pbft.NodeConfig) { c.Key = crypto.PrivateKey{} },
		"few replicas":  func(c *pbft.NodeConfig) { c.Replicas = pubs[:3] },
		"no storage":    func(c *pbft.NodeConfig) { c.Storage = nil },
		"no transport":  func(c *pbft.NodeConfig) { c.Transport = nil },
		"bad protocol":  func(c *pbft.NodeConfig) { c.Protocol.MaxBatch = 0 },
		"id out of set": func(c *pbft.NodeConfig) { c.Protocol.ID = 4 },
	} {
		cfg := good
		edit(&cfg)
		if n, err := pbft.StartNode(cfg); err == nil {
			n.Stop()
			t.Errorf("%s: StartNode accepted it", name)
		}
	}
}

func TestNodeStopsWhenTransportCloses(t *testing.T) {
	c := newRTCluster(t, 4, nil, nil)
	c.net.Replica(2).Close()
	node := c.nodes[2]
	select {
	case <-node.Done():
	case <-time.After(10 * time.Second):
		t.Fatal("node did not stop")
	}
	if err := node.Stop(); !errors.Is(err, pbft.ErrTransportClosed) {
		t.Fatalf("Stop() = %v, want ErrTransportClosed", err)
	}
}

// BenchmarkCluster4 runs 4 replicas of the kv store on a MemNetwork with
// MemoryStorage (default protocol config) and closed-loop clients putting
// 64-byte values; req/s is the cluster's throughput. Clients, replicas and
// every signature share the machine's cores, so this measures the whole
// system on one machine, load generator included.
func BenchmarkCluster4(b *testing.B) {
	for _, clients := range []int{16, 64} {
		b.Run(fmt.Sprintf("clients=%d", clients), func(b *testing.B) { benchRTCluster(b, clients) })
	}
}

func benchRTCluster(b *testing.B, clients int) {
	protocol := func(id pbft.ReplicaID) pbft.Config { return pbft.DefaultConfig(id, 4) }
	c := newRTCluster(b, 4, protocol, nil)
	c.retry = 2 * time.Second
	cls := make([]*pbft.Client, clients)
	for i := range cls {
		cls[i] = c.client(i)
	}
	value := make([]byte, 64)
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Minute)
	defer cancel()
	var next atomic.Int64
	b.ResetTimer()
	var wg sync.WaitGroup
	for i, cl := range cls {
		key := fmt.Appendf(nil, "key-%02d", i)
		wg.Go(func() {
			for next.Add(1) <= int64(b.N) {
				if _, err := cl.Invoke(ctx, kv.EncodePut(key, value)); err != nil {
					b.Error(err)
					return
				}
			}
		})
	}
	wg.Wait()
	b.StopTimer()
	b.ReportMetric(float64(b.N)/b.Elapsed().Seconds(), "req/s")
	b.ReportMetric(0, "ns/op")
	st := c.nodes[0].Status()
	b.ReportMetric(float64(b.N)/float64(max(st.LastExecuted, 1)), "req/batch")
	b.ReportMetric(float64(st.View), "views")
	b.ReportMetric(float64(c.net.Stats().Overflowed), "dropped")
}
