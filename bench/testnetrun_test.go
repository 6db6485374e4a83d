//go:build unix

package bench

import (
	"context"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"sync"
	"testing"
	"time"

	"github.com/bftbed/bftbed/adversary"
	"github.com/bftbed/bftbed/testnet"
)

// TestMain refuses to run the tests in a process started as a node: the
// testnet tools start os.Executable when given no binary, which in a test
// is the test binary, and a node that ran the tests would start testnets
// of its own.
func TestMain(m *testing.M) {
	if len(os.Args) > 1 && os.Args[1] == "node" {
		fmt.Fprintln(os.Stderr, "the bench test binary was started as a node: pass the bftbed binary (TestnetOptions.Exe)")
		os.Exit(2)
	}
	os.Exit(m.Run())
}

// TestRunTestnet runs a short scenario on a real 4-node testnet, end to
// end through RunTestnet: a backup crashes at 2s and restarts from its
// store at 5s. Every verdict must pass, the report must be complete, and
// no node process may be left.
func TestRunTestnet(t *testing.T) {
	if testing.Short() {
		t.Skip("starts a real 4-node testnet for about 10s")
	}
	bin := buildBftbed(t)
	sc, err := adversary.LoadScenario("testdata/testnet-short.toml")
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	out, tn := t.TempDir(), filepath.Join(t.TempDir(), "testnet")
	pids := watchPIDs(ctx, tn)
	start := time.Now()
	res, err := RunTestnet(ctx, sc, TestnetOptions{
		Dir: tn, Keep: true, Exe: bin, ReportDir: out,
		Logf: func(format string, args ...any) { t.Logf(format, args...) },
	})
	seen := pids.stop()
	t.Cleanup(func() { cleanupTestnet(t, tn) })
	if err != nil {
		t.Fatalf("RunTestnet: %v", err)
	}
	t.Logf("run took %s\n%s", time.Since(start).Round(time.Millisecond), Summary(res))

	for _, v := range res.Verdicts {
		if !v.OK() || !v.Pass {
			t.Errorf("verdict %s: %s %s %v", v.Name, v.Status(), v.Summary, v.Details)
		}
	}
	checkTestnetRecord(t, res)
	if err := WriteReport(out, res); err != nil {
		t.Fatal(err)
	}
	for _, f := range []string{ResultFile, TimeseriesFile, ReportFile, "throughput.png", "latency.png", "views.png", "latency_cdf.png"} {
		if st, err := os.Stat(filepath.Join(out, f)); err != nil || st.Size() == 0 {
			t.Errorf("report file %s missing or empty (%v)", f, err)
		}
	}

	// Four nodes, and node 2 twice: the restart is a new process.
	if len(seen) != 4 || len(seen[2]) < 2 {
		t.Errorf("node processes seen: %v; want 4 nodes and a second process for node 2", seen)
	}
	for id, ps := range seen {
		for pid := range ps {
			if testnet.Alive(pid) {
				t.Errorf("node %d's process %d is still alive", id, pid)
			}
		}
	}
}

// checkTestnetRecord checks that the monitor recorded what happened: the
// crashed backup executed nothing while down, everyone's CPU was measured,
// heartbeats and traffic were sampled, the stores' request lists joined
// the logs.
func checkTestnetRecord(t *testing.T, res *Result) {
	t.Helper()
	var down, cpu, traffic uint64
	for _, s := range res.Samples {
		if s.Node == 2 && s.At > 2500*time.Millisecond && s.At <= 4500*time.Millisecond {
			down += s.Committed
		}
		if s.CPUSeconds > 0 {
			cpu++
		}
		traffic += s.MsgsSent
	}
	if down != 0 {
		t.Errorf("node 2 committed %d requests while crashed", down)
	}
	if cpu == 0 || traffic == 0 {
		t.Errorf("no CPU (%d samples) or traffic (%d messages) recorded", cpu, traffic)
	}
	if len(res.Heartbeats) != 12 {
		t.Errorf("%d heartbeat series, want 12 (4 observers x 3 peers)", len(res.Heartbeats))
	}
	withRequests := 0
	for _, l := range res.Logs {
		for _, e := range l.Entries {
			if len(e.Requests) > 0 {
				withRequests++
			}
		}
	}
	if withRequests == 0 || len(res.History) == 0 {
		t.Errorf("%d log entries with requests, %d operations", withRequests, len(res.History))
	}
}

// buildBftbed builds cmd/bftbed into a temporary directory, for the nodes.
func buildBftbed(t *testing.T) string {
	t.Helper()
	goBin, err := exec.LookPath("go")
	if err != nil {
		t.Skipf("the go command is needed to build bftbed: %v", err)
	}
	bin := filepath.Join(t.TempDir(), "bftbed")
	start := time.Now()
	out, err := exec.Command(goBin, "build", "-o", bin, "github.com/bftbed/bftbed/cmd/bftbed").CombinedOutput()
	if err != nil {
		t.Fatalf("go build ./cmd/bftbed: %v\n%s", err, out)
	}
	t.Logf("built %s in %s", bin, time.Since(start).Round(time.Millisecond))
	return bin
}

// pidWatcher records every pid in a testnet's pid files while it runs,
// independently of the runner, so the test can check them all gone.
type pidWatcher struct {
	stopc chan struct{}
	done  chan struct{}
	mu    sync.Mutex
	seen  map[int]map[int]bool // node -> pids
}

func watchPIDs(ctx context.Context, dir string) *pidWatcher {
	w := &pidWatcher{stopc: make(chan struct{}), done: make(chan struct{}), seen: map[int]map[int]bool{}}
	go func() {
		defer close(w.done)
		tick := time.NewTicker(50 * time.Millisecond)
		defer tick.Stop()
		for {
			if d, err := testnet.LoadDescription(dir); err == nil {
				w.note(d.PIDs())
			}
			select {
			case <-ctx.Done():
				return
			case <-w.stopc:
				return
			case <-tick.C:
			}
		}
	}()
	return w
}

func (w *pidWatcher) note(pids []int) {
	w.mu.Lock()
	defer w.mu.Unlock()
	for id, pid := range pids {
		if pid == 0 {
			continue
		}
		if w.seen[id] == nil {
			w.seen[id] = map[int]bool{}
		}
		w.seen[id][pid] = true
	}
}

// stop ends the watch and returns the pids seen per node.
func (w *pidWatcher) stop() map[int]map[int]bool {
	close(w.stopc)
	<-w.done
	return w.seen
}

// cleanupTestnet stops whatever a failed test left running and shows the
// end of each node's log.
func cleanupTestnet(t *testing.T, dir string) {
	d, err := testnet.LoadDescription(dir)
	if err != nil {
		return
	}
	if t.Failed() {
		for _, nd := range d.Nodes {
			t.Logf("--- end of node %d's log:\n%s", nd.ID, testnet.TailFile(d.Path(nd.Log), 20))
		}
	}
	if _, err := d.Down(2 * time.Second); err != nil {
		t.Errorf("cleanup: %v", err)
	}
}
