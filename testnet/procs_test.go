package testnet

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"os"
	"os/signal"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"
)

// The process tests run this test binary as the nodes: with
// BFTBED_FAKE_NODE set, TestMain behaves as `bftbed node --config FILE`
// would as far as process management can tell (a pid, /healthz, /status,
// SIGTERM), without needing the real daemon.
//
// BFTBED_FAKE_NODE is MODE or MODE:ID (only node ID behaves so; the others
// are "ok"). Modes: ok; crash (exits 2 at once, with a message); unhealthy
// (/healthz answers 503); stubborn (ignores SIGTERM).
func TestMain(m *testing.M) {
	if mode := os.Getenv("BFTBED_FAKE_NODE"); mode != "" {
		os.Exit(fakeNode(mode, os.Args[1:]))
	}
	os.Exit(m.Run())
}

func fakeNode(mode string, args []string) int {
	if len(args) != 3 || args[0] != "node" || args[1] != "--config" {
		fmt.Fprintln(os.Stderr, "fake node: bad arguments", args)
		return 2
	}
	cfg, err := LoadNodeConfig(args[2])
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		return 2
	}
	if m, id, ok := strings.Cut(mode, ":"); ok {
		mode = "ok"
		if id == strconv.Itoa(cfg.ID) {
			mode = m
		}
	}
	switch mode {
	case "crash":
		fmt.Fprintln(os.Stderr, "fake node: the store is corrupt, refusing to start")
		return 2
	}
	started := time.Now()
	mux := http.NewServeMux()
	mux.HandleFunc("/healthz", func(w http.ResponseWriter, _ *http.Request) {
		if mode == "unhealthy" {
			http.Error(w, "not connected", http.StatusServiceUnavailable)
			return
		}
		fmt.Fprintln(w, "ok")
	})
	mux.HandleFunc("/status", func(w http.ResponseWriter, _ *http.Request) {
		peers := []PeerStatus{}
		for _, p := range cfg.Peers {
			if p.ID != cfg.ID {
				peers = append(peers, PeerStatus{ID: p.ID, Connected: true})
			}
		}
		_ = json.NewEncoder(w).Encode(map[string]any{
			"id": cfg.ID, "cluster": cfg.Cluster, "view": 0, "primary": 0, "last_executed": 7,
			"stable_seq": 0, "peers": peers, "healthy": mode != "unhealthy",
			"uptime": time.Since(started).Seconds(), "committed_requests": 7,
		})
	})
	go func() { _ = http.ListenAndServe(cfg.HTTP, mux) }()
	stop := make(chan os.Signal, 1)
	if mode == "stubborn" {
		signal.Ignore(syscall.SIGTERM)
		signal.Notify(stop, os.Interrupt)
	} else {
		signal.Notify(stop, syscall.SIGTERM, os.Interrupt)
	}
	<-stop
	return 0
}

// fakeTestnet generates a 4-node testnet whose nodes are fake ones in
// the given mode.
func fakeTestnet(t *testing.T, mode string) *Description {
	t.Helper()
	t.Setenv("BFTBED_FAKE_NODE", mode)
	// A binary built with -race sleeps 1s before it exits, unless told
	// not to; the grace periods here are shorter.
	t.Setenv("GORACE", "atexit_sleep_ms=0")
	d, err := Generate(GenerateOptions{Dir: t.TempDir(), N: 4})
	if err != nil {
		t.Fatal(err)
	}
	// Whatever a test does, leave no process behind.
	t.Cleanup(func() { _, _ = d.Down(time.Second) })
	return d
}

// requireGone fails unless none of the pids is alive.
func requireGone(t *testing.T, pids []int) {
	t.Helper()
	for _, pid := range pids {
		if pid != 0 && Alive(pid) {
			t.Fatalf("pid %d still alive", pid)
		}
	}
}

func TestUpStatusKillRestartDown(t *testing.T) {
	d := fakeTestnet(t, "ok")
	var progress []StartProgress
	procs, err := d.Up(context.Background(), UpOptions{Timeout: 20 * time.Second, Progress: func(p StartProgress) { progress = append(progress, p) }})
	if err != nil {
		t.Fatal(err)
	}
	if len(procs) != 4 || len(progress) == 0 || progress[len(progress)-1].Healthy != 4 {
		t.Fatalf("%d procs, progress %+v", len(procs), progress)
	}
	pids := d.PIDs()
	for i, p := range procs {
		if pid, running := d.Running(i); !running || pid != p.PID || pids[i] != p.PID {
			t.Fatalf("node %d: running %v pid %d, started %d", i, running, pid, p.PID)
		}
	}

	// A second Up is refused, and names the running nodes.
	if _, err := d.Up(context.Background(), UpOptions{}); !errors.Is(err, ErrAlreadyRunning) || !strings.Contains(err.Error(), "node 3") {
		t.Fatalf("second up: %v", err)
	}

	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	for _, r := range d.Report(ctx) {
		if !r.Running || r.Status == nil || r.Status.ID != r.ID || r.Status.LastExecuted != 7 || r.Status.ConnectedPeers() != 3 {
			t.Fatalf("report %+v (%v)", r, r.StatusErr)
		}
	}

	// Kill one: it is gone, its pid file too, and the others run on.
	killed, err := d.Kill(2)
	if err != nil || killed.PID != procs[2].PID || killed.How != "SIGKILL" {
		t.Fatalf("kill: %+v %v", killed, err)
	}
	requireGone(t, []int{procs[2].PID})
	if _, running := d.Running(2); running {
		t.Fatal("killed node still running")
	}
	if _, err := os.Stat(d.Path(d.Nodes[2].PIDFile)); !os.IsNotExist(err) {
		t.Fatal("killed node's pid file left")
	}
	if _, err := d.Kill(2); err == nil {
		t.Fatal("killing a stopped node succeeded")
	}
	reports := d.Report(ctx)
	if reports[2].Status != nil || reports[2].Running || reports[1].Status == nil {
		t.Fatalf("after kill: %+v", reports)
	}

	// Restart it; restarting a running node is refused.
	p, err := d.Restart(context.Background(), 2, UpOptions{Timeout: 20 * time.Second})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := d.Restart(context.Background(), 2, UpOptions{}); err == nil {
		t.Fatal("restarting a running node succeeded")
	}
	if log, _ := os.ReadFile(d.Path(d.Nodes[2].Log)); strings.Count(string(log), "starting node 2") != 2 {
		t.Fatalf("log of node 2:\n%s", log)
	}

	all := append(d.PIDs(), procs[0].PID, procs[1].PID, procs[3].PID, p.PID)
	stopped, err := d.Down(5 * time.Second)
	if err != nil {
		t.Fatal(err)
	}
	for _, s := range stopped {
		if s.How != "SIGTERM" || s.PID == 0 {
			t.Fatalf("down: %v", s)
		}
	}
	requireGone(t, all)
	for i := range d.Nodes {
		if _, err := os.Stat(d.Path(d.Nodes[i].PIDFile)); !os.IsNotExist(err) {
			t.Fatalf("node %d: pid file left after down", i)
		}
	}
	// Down again: nothing to do.
	stopped, err = d.Down(time.Second)
	if err != nil || stopped[0].PID != 0 {
		t.Fatalf("second down: %v %v", stopped, err)
	}
}

func TestUpNodeFailsToStart(t *testing.T) {
	d := fakeTestnet(t, "crash:1")
	_, err := d.Up(context.Background(), UpOptions{Timeout: 20 * time.Second})
	if err == nil || !strings.Contains(err.Error(), "node 1") || !strings.Contains(err.Error(), "the store is corrupt") {
		t.Fatalf("up with a crashing node: %v", err)
	}
	requireGone(t, d.PIDs())
	for i := range d.Nodes {
		if _, running := d.Running(i); running {
			t.Fatalf("node %d left running", i)
		}
	}
}

func TestUpTimeoutStopsEverything(t *testing.T) {
	d := fakeTestnet(t, "unhealthy:3")
	start := time.Now()
	_, err := d.Up(context.Background(), UpOptions{Timeout: time.Second})
	if err == nil || !strings.Contains(err.Error(), "node 3") || strings.Contains(err.Error(), "node 2") {
		t.Fatalf("up with an unhealthy node: %v", err)
	}
	if took := time.Since(start); took > 10*time.Second {
		t.Fatalf("took %s", took)
	}
	requireGone(t, d.PIDs())
}

func TestUpCancelledStopsEverything(t *testing.T) {
	d := fakeTestnet(t, "unhealthy")
	ctx, cancel := context.WithCancel(context.Background())
	var once bool
	_, err := d.Up(ctx, UpOptions{Timeout: time.Minute, Progress: func(StartProgress) {
		if !once {
			once = true
			cancel() // as a Ctrl-C during the wait
		}
	}})
	if !errors.Is(err, context.Canceled) {
		t.Fatalf("cancelled up: %v", err)
	}
	requireGone(t, d.PIDs())
}

func TestDownKillsStubbornNodes(t *testing.T) {
	d := fakeTestnet(t, "stubborn:0")
	procs, err := d.Up(context.Background(), UpOptions{Timeout: 20 * time.Second})
	if err != nil {
		t.Fatal(err)
	}
	stopped, err := d.Down(300 * time.Millisecond)
	if err != nil {
		t.Fatal(err)
	}
	if stopped[0].How != "SIGKILL" || stopped[1].How != "SIGTERM" {
		t.Fatalf("down: %v", stopped)
	}
	for _, p := range procs {
		select {
		case <-p.Done():
		case <-time.After(5 * time.Second):
			t.Fatalf("node %d not reaped", p.ID)
		}
	}
	requireGone(t, d.PIDs())
}

// A pid file naming a live process that is not the node (the pid was
// reused) must not make any command signal that process.
func TestStalePIDFileNeverSignalsOthers(t *testing.T) {
	d := fakeTestnet(t, "ok")
	self := os.Getpid()
	if err := writePIDFile(d.Path(d.Nodes[0].PIDFile), self); err != nil {
		t.Fatal(err)
	}
	if _, running := d.Running(0); running {
		t.Fatal("this test process taken for node 0")
	}
	if _, err := d.Kill(0); err == nil {
		t.Fatal("kill of a stale pid file succeeded")
	}
	if err := writePIDFile(d.Path(d.Nodes[1].PIDFile), self); err != nil {
		t.Fatal(err)
	}
	if _, err := d.Down(time.Second); err != nil {
		t.Fatal(err)
	}
	// Still here: nothing was signalled. The stale pid files are gone.
	if _, err := os.Stat(d.Path(d.Nodes[1].PIDFile)); !os.IsNotExist(err) {
		t.Fatal("stale pid file kept")
	}
	// And Up starts the testnet despite the stale file.
	if err := writePIDFile(d.Path(d.Nodes[2].PIDFile), self); err != nil {
		t.Fatal(err)
	}
	if _, err := d.Up(context.Background(), UpOptions{Timeout: 20 * time.Second}); err != nil {
		t.Fatal(err)
	}
}

func TestTailFile(t *testing.T) {
	path := t.TempDir() + "/log"
	var b strings.Builder
	for i := range 100 {
		fmt.Fprintf(&b, "line %d\n", i)
	}
	if err := os.WriteFile(path, []byte(b.String()), 0o644); err != nil {
		t.Fatal(err)
	}
	if got := TailFile(path, 3); got != "line 97\nline 98\nline 99" {
		t.Fatalf("%q", got)
	}
	if TailFile(path+"x", 3) != "" {
		t.Fatal("tail of a missing file")
	}
}

func TestUptimeDecodes(t *testing.T) {
	for in, want := range map[string]time.Duration{`1.5`: 1500 * time.Millisecond, `"2m3s"`: 123 * time.Second, `0`: 0} {
		var u Uptime
		if err := json.Unmarshal([]byte(in), &u); err != nil || time.Duration(u) != want {
			t.Errorf("%s: %v %v", in, time.Duration(u), err)
		}
	}
	var u Uptime
	if err := json.Unmarshal([]byte(`"soon"`), &u); err == nil {
		t.Error("bad uptime accepted")
	}
}

func TestStatusLiner(t *testing.T) {
	var l StatusLiner
	at := time.Unix(1000, 0)
	mk := func(committed uint64) []NodeReport {
		return []NodeReport{
			{ID: 0, Status: &NodeStatus{View: 1, LastExecuted: 10, Healthy: true, CommittedRequests: committed}},
			{ID: 1, Status: &NodeStatus{View: 1, LastExecuted: 9, Healthy: true, ViewChanging: true}},
			{ID: 2},
			{ID: 3, Status: &NodeStatus{View: 0, LastExecuted: 4}},
		}
	}
	first := l.Line(at, 2*time.Second, mk(100))
	want := "[    2s] view 0,1 (changing) | executed n0=10 n1=9 n2=down n3=4 | healthy 2/4 | - req/s"
	if first != want {
		t.Fatalf("got  %q\nwant %q", first, want)
	}
	second := l.Line(at.Add(2*time.Second), 4*time.Second, mk(300))
	if !strings.HasSuffix(second, "| 100 req/s") {
		t.Fatalf("%q", second)
	}
}

// A testnet started through one path and stopped through another (a
// symbolic link) is still recognized: no node is left behind.
func TestDownThroughSymlink(t *testing.T) {
	d := fakeTestnet(t, "ok")
	if _, err := d.Up(context.Background(), UpOptions{Timeout: 20 * time.Second}); err != nil {
		t.Fatal(err)
	}
	link := t.TempDir() + "/link"
	if err := os.Symlink(d.Dir(), link); err != nil {
		t.Fatal(err)
	}
	other, err := LoadDescription(link)
	if err != nil {
		t.Fatal(err)
	}
	pids := d.PIDs()
	if _, running := other.Running(0); !running {
		t.Fatal("node 0 not recognized through the link")
	}
	if _, err := other.Down(5 * time.Second); err != nil {
		t.Fatal(err)
	}
	requireGone(t, pids)
}

func TestCopyLogFollows(t *testing.T) {
	path := t.TempDir() + "/node.log"
	if err := os.WriteFile(path, []byte("one\ntwo\nthree\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	var all strings.Builder
	if err := CopyLog(context.Background(), &all, path, 0, false); err != nil || all.String() != "one\ntwo\nthree\n" {
		t.Fatalf("%q %v", all.String(), err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	var out lockedBuffer
	done := make(chan error)
	go func() { done <- CopyLog(ctx, &out, path, 1, true) }()
	time.Sleep(50 * time.Millisecond)
	f, err := os.OpenFile(path, os.O_APPEND|os.O_WRONLY, 0)
	if err != nil {
		t.Fatal(err)
	}
	fmt.Fprintln(f, "four")
	f.Close()
	deadline := time.Now().Add(5 * time.Second)
	for !strings.Contains(out.String(), "four") && time.Now().Before(deadline) {
		time.Sleep(20 * time.Millisecond)
	}
	cancel()
	if err := <-done; !errors.Is(err, context.Canceled) {
		t.Fatal(err)
	}
	if got := out.String(); got != "three\nfour\n" {
		t.Fatalf("followed %q", got)
	}
	if err := CopyLog(context.Background(), &out, path+".missing", 0, false); err == nil || !strings.Contains(err.Error(), "not been started") {
		t.Fatalf("missing log: %v", err)
	}
}

// lockedBuffer is a strings.Builder safe for one writer and one reader.
type lockedBuffer struct {
	mu sync.Mutex
	b  strings.Builder
}

func (l *lockedBuffer) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.Write(p)
}

func (l *lockedBuffer) String() string {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.String()
}
