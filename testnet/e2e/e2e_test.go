// Package e2e tests a local testnet end to end, as a user would run it:
// the bftbed binary is built, and every step is a `bftbed` command on real
// node processes talking libp2p on loopback.
package e2e

import (
	"context"
	"encoding/json"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/bftbed/bftbed/bench/load"
	"github.com/bftbed/bftbed/testnet"
)

// testBudget bounds the whole test, well inside `go test`'s own timeout,
// so that a hang ends in a failure whose cleanup still stops the nodes (a
// test binary killed by its timeout runs no cleanup).
const testBudget = 4 * time.Minute

// commandTimeout bounds one bftbed command.
const commandTimeout = 90 * time.Second

// env is one end-to-end run: the binary, the testnet, every pid seen.
type env struct {
	t    *testing.T
	ctx  context.Context
	bin  string
	dir  string
	d    *testnet.Description
	pids map[int]bool // every node pid ever started, checked gone at the end
}

func TestTestnetEndToEnd(t *testing.T) {
	ctx, cancel := context.WithTimeout(context.Background(), testBudget)
	defer cancel()
	e := &env{t: t, ctx: ctx, bin: buildBinary(t), dir: filepath.Join(t.TempDir(), "tn"), pids: map[int]bool{}}

	e.run("testnet", "init", "-n", "4", "-o", e.dir, "--cluster", "e2e")
	d, err := testnet.LoadDescription(e.dir)
	if err != nil {
		t.Fatal(err)
	}
	e.d = d
	t.Cleanup(e.cleanup)

	// Up: every node healthy, and a second up is refused.
	e.run("testnet", "up", e.dir, "--timeout", "60s")
	e.notePIDs()
	if out, err := e.try("testnet", "up", e.dir); err == nil || !strings.Contains(out, "already running") {
		t.Fatalf("second up was not refused: %v\n%s", err, out)
	}

	// Clients: put, then get what was put.
	if out := e.run("client", "--testnet", e.dir, "put", "greeting", "hello"); !strings.Contains(out, "ok") {
		t.Fatalf("put: %q", out)
	}
	if out := e.run("client", "--testnet", e.dir, "get", "greeting"); strings.TrimSpace(out) != "hello" {
		t.Fatalf("get: %q", out)
	}
	if out := e.run("client", "--testnet", e.dir, "append", "greeting", ", world"); strings.TrimSpace(out) != "hello, world" {
		t.Fatalf("append: %q", out)
	}

	// Crash a backup: the others keep committing.
	primary := e.status(0).Primary
	backup := (primary + 1) % 4
	t.Logf("primary is node %d; killing backup %d", primary, backup)
	e.run("testnet", "kill", e.dir, strconv.Itoa(backup))
	e.requireGone(e.d.PIDs()[backup])
	for _, line := range strings.Split(e.run("testnet", "status", e.dir), "\n")[1:] {
		fields := strings.Fields(line)
		if len(fields) < 3 {
			continue
		}
		if down := fields[2] == "down"; down != (fields[0] == strconv.Itoa(backup)) {
			t.Fatalf("status row %q: node %d is the one down", line, backup)
		}
	}
	before := e.status(primary).LastExecuted
	res := e.load("backup-down", "--clients", "8", "--duration", "3s")
	if res.Committed < 20 {
		t.Fatalf("with backup %d down only %d operations committed (errors %v)", backup, res.Committed, res.ErrorCounts)
	}
	if after := e.status(primary).LastExecuted; after <= before {
		t.Fatalf("primary's last executed %d -> %d with a backup down", before, after)
	}

	// Restart it: it catches up with the others.
	e.run("testnet", "restart", e.dir, strconv.Itoa(backup))
	e.notePIDs()
	e.waitCaughtUp(backup, 60*time.Second)

	// Crash the primary: the survivors change view and commit again.
	primary = e.status((primary + 2) % 4).Primary
	t.Logf("killing primary %d", primary)
	e.run("testnet", "kill", e.dir, strconv.Itoa(primary))
	e.requireGone(e.d.PIDs()[primary])
	res = e.load("primary-down", "--clients", "8", "--duration", "6s")
	if res.Committed < 20 {
		t.Fatalf("after killing primary %d only %d operations committed (errors %v)", primary, res.Committed, res.ErrorCounts)
	}
	// Commits continue to the end of the run, not just in a burst.
	if n := len(res.Timeline); n < 5 || res.Timeline[n-2].Committed == 0 {
		t.Fatalf("commits stopped before the end of the run: timeline %+v", res.Timeline)
	}
	for i := range e.d.Nodes {
		if i == primary {
			continue
		}
		if st := e.status(i); st.View == 0 || st.Primary == primary {
			t.Fatalf("node %d after the primary's crash: view %d, primary %d", i, st.View, st.Primary)
		}
	}
	t.Logf("survivors moved to view %d", e.status((primary+1)%4).View)

	// Down: no process left.
	e.run("testnet", "down", e.dir)
	for pid := range e.pids {
		e.requireGone(pid)
	}
}

// buildBinary builds cmd/bftbed into a temporary directory.
func buildBinary(t *testing.T) string {
	t.Helper()
	goBin, err := exec.LookPath("go")
	if err != nil {
		t.Fatalf("the go command is needed to build bftbed: %v", err)
	}
	bin := filepath.Join(t.TempDir(), "bftbed")
	start := time.Now()
	out, err := exec.Command(goBin, "build", "-o", bin, "github.com/bftbed/bftbed/cmd/bftbed").CombinedOutput()
	if err != nil {
		t.Fatalf("go build ./cmd/bftbed failed: %v\n%s", err, out)
	}
	t.Logf("built %s in %s", bin, time.Since(start).Round(time.Millisecond))
	return bin
}

// try runs `bftbed args...` and returns its combined output.
func (e *env) try(args ...string) (string, error) {
	ctx, cancel := context.WithTimeout(e.ctx, commandTimeout)
	defer cancel()
	start := time.Now()
	out, err := exec.CommandContext(ctx, e.bin, args...).CombinedOutput()
	e.t.Logf("$ bftbed %s  (%s)\n%s", strings.Join(args, " "), time.Since(start).Round(time.Millisecond), out)
	return string(out), err
}

// run runs `bftbed args...`, failing the test if it fails.
func (e *env) run(args ...string) string {
	e.t.Helper()
	out, err := e.try(args...)
	if err != nil {
		e.t.Fatalf("bftbed %s: %v", strings.Join(args, " "), err)
	}
	return out
}

// load runs `bftbed load` with args and returns its result.
func (e *env) load(name string, args ...string) *load.Result {
	e.t.Helper()
	out := filepath.Join(e.dir, name+".json")
	e.run(append([]string{"load", "--testnet", e.dir, "--out", out}, args...)...)
	data, err := os.ReadFile(out)
	if err != nil {
		e.t.Fatal(err)
	}
	var res load.Result
	if err := json.Unmarshal(data, &res); err != nil {
		e.t.Fatal(err)
	}
	return &res
}

// status fetches node id's /status.
func (e *env) status(id int) *testnet.NodeStatus {
	e.t.Helper()
	ctx, cancel := context.WithTimeout(e.ctx, 5*time.Second)
	defer cancel()
	st, err := testnet.FetchStatus(ctx, &e.d.Nodes[id])
	if err != nil {
		e.t.Fatalf("status of node %d: %v", id, err)
	}
	return st
}

// waitCaughtUp polls until node id has executed as far as every other
// running node, nudging the cluster with a write now and then (a replica
// learns it is behind from its peers' traffic).
func (e *env) waitCaughtUp(id int, bound time.Duration) {
	e.t.Helper()
	deadline := time.Now().Add(bound)
	for attempt := 0; ; attempt++ {
		reports := e.d.Report(e.ctx)
		var target uint64
		for _, r := range reports {
			if r.ID != id && r.Status != nil {
				target = max(target, r.Status.LastExecuted)
			}
		}
		if st := reports[id].Status; st != nil && st.LastExecuted >= target {
			e.t.Logf("node %d caught up: last executed %d (others %d)", id, st.LastExecuted, target)
			return
		}
		if time.Now().After(deadline) {
			e.t.Fatalf("node %d did not catch up within %s: %s", id, bound, describe(reports))
		}
		if attempt%10 == 9 {
			e.run("client", "--testnet", e.dir, "put", "nudge", strconv.Itoa(attempt))
		}
		time.Sleep(200 * time.Millisecond)
	}
}

// describe summarizes reports for a failure message.
func describe(reports []testnet.NodeReport) string {
	var parts []string
	for _, r := range reports {
		if r.Status == nil {
			parts = append(parts, fmt.Sprintf("n%d down (%v)", r.ID, r.StatusErr))
			continue
		}
		parts = append(parts, fmt.Sprintf("n%d view %d executed %d stable %d", r.ID, r.Status.View, r.Status.LastExecuted, r.Status.StableSeq))
	}
	return strings.Join(parts, "; ")
}

// notePIDs remembers the pids now in the pid files.
func (e *env) notePIDs() {
	for _, pid := range e.d.PIDs() {
		if pid != 0 {
			e.pids[pid] = true
		}
	}
}

// requireGone fails unless process pid is gone.
func (e *env) requireGone(pid int) {
	e.t.Helper()
	deadline := time.Now().Add(5 * time.Second)
	for testnet.Alive(pid) {
		if time.Now().After(deadline) {
			e.t.Fatalf("process %d is still alive", pid)
		}
		time.Sleep(20 * time.Millisecond)
	}
}

// cleanup stops whatever a failed test left running and, on failure,
// shows the end of each node's log.
func (e *env) cleanup() {
	if e.t.Failed() {
		for _, nd := range e.d.Nodes {
			e.t.Logf("--- end of node %d's log:\n%s", nd.ID, testnet.TailFile(e.d.Path(nd.Log), 30))
		}
	}
	if _, err := e.d.Down(2 * time.Second); err != nil {
		e.t.Errorf("cleanup: %v", err)
	}
}
