package daemon_test

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"sync"
	"testing"
	"time"

	"github.com/bftbed/bftbed/crypto"
	"github.com/bftbed/bftbed/p2p"
	"github.com/bftbed/bftbed/pbft"
	"github.com/bftbed/bftbed/pbft/kv"
	"github.com/bftbed/bftbed/testnet"
	"github.com/bftbed/bftbed/testnet/daemon"
)

// Helpers of the daemon tests: a testnet of n daemons on 127.0.0.1, with
// key files and configuration files in a temporary directory, written and
// loaded exactly as `bftbed node` does.

const testCluster = "daemon-test"

var testSeed = []byte("bftbed daemon test")

// waitLimit bounds every wait of the tests.
const waitLimit = 30 * time.Second

// testNet is n daemons and their configurations.
type testNet struct {
	t    testing.TB
	dir  string
	cfgs []*testnet.NodeConfig
	ds   []*daemon.Daemon
	logs []*logBuffer
	// hostTweak adjusts every daemon's host (short back-off in tests).
	hostTweak func(*p2p.HostConfig)
}

// newTestNet writes the keys and configurations of n replicas; start
// them with start. Every replica listens on a port picked beforehand, so
// the configurations list each other's addresses as a generated testnet's
// do, and a restarted replica comes back on its address.
func newTestNet(t testing.TB, n int, protocol testnet.ProtocolConfig) *testNet {
	t.Helper()
	c := &testNet{t: t, dir: t.TempDir(), ds: make([]*daemon.Daemon, n), logs: make([]*logBuffer, n)}
	c.hostTweak = func(hc *p2p.HostConfig) {
		// A restarted replica dials the others at once, and they answer
		// over its connection, so the back-off only paces the dials to
		// replicas that are down. (libp2p v0.51 can panic when a host
		// closes during a forced dial: fewer dials, fewer chances.)
		hc.MinBackoff, hc.MaxBackoff = 50*time.Millisecond, time.Second
	}
	ports := freePorts(t, n)
	peers := make([]testnet.PeerConfig, n)
	for i := range n {
		k := replicaKey(i)
		if err := crypto.WriteKeyFile(filepath.Join(c.dir, fmt.Sprintf("node%d.key", i)), k); err != nil {
			t.Fatal(err)
		}
		peers[i] = testnet.PeerConfig{
			ID: i, PublicKey: k.Public().Hex(),
			Addrs: []string{fmt.Sprintf("/ip4/127.0.0.1/tcp/%d", ports[i])},
		}
	}
	for i := range n {
		cfg := &testnet.NodeConfig{
			ID: i, Cluster: testCluster,
			KeyFile:   fmt.Sprintf("node%d.key", i), // relative to the config file
			DataDir:   fmt.Sprintf("node%d", i),
			Listen:    peers[i].Addrs,
			HTTP:      "127.0.0.1:0",
			Broadcast: "direct",
			LogLevel:  "info",
			Peers:     peers,
			Protocol:  protocol,
		}
		path := filepath.Join(c.dir, fmt.Sprintf("node%d.toml", i))
		if err := cfg.Save(path); err != nil {
			t.Fatal(err)
		}
		loaded, err := testnet.LoadNodeConfig(path)
		if err != nil {
			t.Fatal(err)
		}
		c.cfgs = append(c.cfgs, loaded)
	}
	t.Cleanup(c.stopAll)
	return c
}

// testProtocol checkpoints often, so that tests see checkpoints become
// stable and replicas fall behind by more than a window.
func testProtocol() testnet.ProtocolConfig {
	p := testnet.DefaultProtocol()
	p.CheckpointInterval, p.WatermarkWindow = 8, 16
	return p
}

func replicaKey(i int) crypto.PrivateKey {
	return crypto.DeriveKey(testSeed, fmt.Sprintf("replica/%d", i))
}

// freePorts returns n distinct TCP ports that were free on 127.0.0.1 a
// moment ago.
func freePorts(t testing.TB, n int) []int {
	t.Helper()
	var ports []int
	for range n {
		ln, err := net.Listen("tcp", "127.0.0.1:0")
		if err != nil {
			t.Fatal(err)
		}
		defer ln.Close()
		ports = append(ports, ln.Addr().(*net.TCPAddr).Port)
	}
	return ports
}

// start starts daemon i with opts (a test logger and short back-off
// unless opts sets its own).
func (c *testNet) start(i int, opts daemon.Options) (*daemon.Daemon, error) {
	c.t.Helper()
	if c.logs[i] == nil {
		c.logs[i] = &logBuffer{}
	}
	if opts.Logger == nil {
		opts.Logger = newTestLogger(c.logs[i])
	}
	if opts.ConfigureHost == nil {
		opts.ConfigureHost = c.hostTweak
	}
	d, err := daemon.Start(c.cfgs[i], opts)
	if err == nil {
		c.ds[i] = d
	}
	return d, err
}

func (c *testNet) mustStart(i int, opts daemon.Options) *daemon.Daemon {
	c.t.Helper()
	d, err := c.start(i, opts)
	if err != nil {
		c.t.Fatalf("start %d: %v", i, err)
	}
	return d
}

func (c *testNet) startAll() {
	c.t.Helper()
	for i := range c.cfgs {
		c.mustStart(i, daemon.Options{})
	}
}

// stop stops daemon i and checks that it stopped cleanly.
func (c *testNet) stop(i int) {
	c.t.Helper()
	if err := c.ds[i].Stop(); err != nil {
		c.t.Errorf("stop %d: %v", i, err)
	}
	c.ds[i] = nil
}

func (c *testNet) stopAll() {
	for i, d := range c.ds {
		if d != nil {
			if err := d.Stop(); err != nil {
				c.t.Errorf("stop %d: %v", i, err)
			}
			c.ds[i] = nil
		}
	}
	if c.t.Failed() {
		for i, l := range c.logs {
			if l != nil {
				c.t.Logf("--- log of replica %d:\n%s", i, l.String())
			}
		}
	}
}

// running returns the running daemons' IDs.
func (c *testNet) running() []int {
	var ids []int
	for i, d := range c.ds {
		if d != nil {
			ids = append(ids, i)
		}
	}
	return ids
}

// client returns a Client with key client/<i>, on its own libp2p host.
func (c *testNet) client(i int) *pbft.Client {
	c.t.Helper()
	k := clientKey(i)
	tr, err := p2p.NewClientTransport(c.clientHost(k))
	if err != nil {
		c.t.Fatal(err)
	}
	c.t.Cleanup(func() { tr.Close() })
	return c.newClient(k, tr)
}

// clientKey is the key of client i.
func clientKey(i int) crypto.PrivateKey {
	return crypto.DeriveKey(testSeed, fmt.Sprintf("client/%d", i))
}

// clientHost is the configuration of a client host with key k.
func (c *testNet) clientHost(k crypto.PrivateKey) p2p.HostConfig {
	hc := p2p.HostConfig{ClusterID: testCluster, Key: k, Peers: daemon.HostPeers(c.cfgs[0]), Logger: quietLog}
	c.hostTweak(&hc)
	return hc
}

// newClient returns a Client with key k over tr, closed at the end of the
// test.
func (c *testNet) newClient(k crypto.PrivateKey, tr pbft.ClientTransport) *pbft.Client {
	c.t.Helper()
	cl, err := pbft.NewClient(pbft.ClientConfig{
		N: len(c.cfgs), Domain: crypto.NewDomain(testCluster), Key: k,
		Replicas: c.cfgs[0].Keys(), Transport: tr, RetryTimeout: 300 * time.Millisecond,
	})
	if err != nil {
		c.t.Fatal(err)
	}
	c.t.Cleanup(func() { cl.Close() })
	return cl
}

// gatewayClients returns n Clients with keys client/<first>... sharing one
// libp2p host (a p2p.ClientGateway).
func (c *testNet) gatewayClients(first, n int) []*pbft.Client {
	c.t.Helper()
	g, err := p2p.NewClientGateway(c.clientHost(crypto.DeriveKey(testSeed, fmt.Sprintf("gateway/%d", first))))
	if err != nil {
		c.t.Fatal(err)
	}
	c.t.Cleanup(func() { g.Close() })
	cls := make([]*pbft.Client, n)
	for i := range cls {
		k := clientKey(first + i)
		tr, err := g.Attach(k.Public())
		if err != nil {
			c.t.Fatal(err)
		}
		cls[i] = c.newClient(k, tr)
	}
	return cls
}

// load runs ops puts from each of clients concurrently and checks every
// result.
func (c *testNet) load(clients []*pbft.Client, ops int, tag string) {
	c.t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), waitLimit)
	defer cancel()
	var wg sync.WaitGroup
	errs := make(chan error, len(clients))
	for i, cl := range clients {
		wg.Go(func() {
			for j := range ops {
				key := fmt.Appendf(nil, "%s-%d-%d", tag, i, j)
				b, err := cl.Invoke(ctx, kv.EncodePut(key, []byte("v")))
				if err != nil {
					errs <- fmt.Errorf("client %d op %d: %w", i, j, err)
					return
				}
				if _, err := kv.DecodeResult(b); err != nil {
					errs <- fmt.Errorf("client %d op %d: result: %w", i, j, err)
					return
				}
			}
		})
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		c.t.Fatal(err)
	}
}

// converged waits until the running daemons agree on their last executed
// sequence number (at least min) and stable checkpoint.
func (c *testNet) converged(min uint64) daemon.Status {
	c.t.Helper()
	var st daemon.Status
	eventually(c.t, "replicas to converge", func() bool {
		ids := c.running()
		st = c.ds[ids[0]].Status()
		if st.LastExecuted < min {
			return false
		}
		for _, i := range ids[1:] {
			s := c.ds[i].Status()
			if s.LastExecuted != st.LastExecuted || s.StableSeq != st.StableSeq || s.StableState != st.StableState {
				return false
			}
		}
		return true
	})
	return st
}

// eventually polls cond until it holds, failing the test after waitLimit.
func eventually(t testing.TB, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(waitLimit)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("timed out after %v waiting for %s", waitLimit, what)
		}
		time.Sleep(10 * time.Millisecond)
	}
}

// get fetches http://addr/path and returns the status code and body.
func get(t testing.TB, addr, path string) (int, []byte) {
	t.Helper()
	resp, err := http.Get("http://" + addr + path)
	if err != nil {
		t.Fatalf("GET %s: %v", path, err)
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(resp.Body)
	if err != nil {
		t.Fatalf("GET %s: %v", path, err)
	}
	return resp.StatusCode, body
}

// getJSON fetches path and decodes its JSON body into v, which must answer
// 200.
func getJSON(t testing.TB, addr, path string, v any) {
	t.Helper()
	code, body := get(t, addr, path)
	if code != http.StatusOK {
		t.Fatalf("GET %s: %d %s", path, code, body)
	}
	dec := json.NewDecoder(bytes.NewReader(body))
	dec.DisallowUnknownFields()
	if err := dec.Decode(v); err != nil {
		t.Fatalf("GET %s: %v in %s", path, err, body)
	}
}

// newTestLogger logs at info into l.
func newTestLogger(l *logBuffer) *slog.Logger {
	return slog.New(slog.NewTextHandler(l, &slog.HandlerOptions{Level: slog.LevelInfo}))
}

// quietLog discards what the tests' own hosts log.
var quietLog = slog.New(slog.DiscardHandler)

// quietPebble discards what Pebble logs when a test opens a store directly.
type quietPebble struct{}

func (quietPebble) Infof(string, ...any)  {}
func (quietPebble) Errorf(string, ...any) {}
func (quietPebble) Fatalf(format string, args ...any) {
	panic(fmt.Sprintf(format, args...))
}

// logBuffer collects a daemon's logs for the test to read (and print if it
// fails); logging to t.Log would race with goroutines that outlive a test.
type logBuffer struct {
	mu  sync.Mutex
	buf bytes.Buffer
}

func (l *logBuffer) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	if testing.Verbose() && os.Getenv("DAEMON_TEST_LOGS") != "" {
		os.Stderr.Write(p)
	}
	return l.buf.Write(p)
}

func (l *logBuffer) String() string {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.buf.String()
}
