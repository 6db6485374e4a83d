package bench

import (
	"bytes"
	"errors"
	"fmt"
	"os"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/bftbed/bftbed/testnet"
)

// goneWait bounds the wait for stopped processes to disappear.
const goneWait = 5 * time.Second

// stop stops every node of the testnet, once, and checks by pid that no
// node process is left: those it started, those the fault timeline
// restarted (their pid files), and every one the monitor saw.
func (r *testnetRun) stop() error {
	r.stopOnce.Do(func() {
		if r.desc == nil {
			return
		}
		r.phase.Store(PhaseStopping)
		start := time.Now()
		pids := map[int]bool{}
		for _, p := range r.procs {
			pids[p.PID] = true
		}
		for _, pid := range r.desc.PIDs() {
			if pid != 0 {
				pids[pid] = true
			}
		}
		if r.mon != nil {
			for _, pid := range r.mon.seenPIDs() {
				pids[pid] = true
			}
		}
		// Down stops whatever the pid files name (restarted nodes
		// included); StopProcs then reaps the processes started here.
		_, downErr := r.desc.Down(r.opts.Grace)
		_, procsErr := r.desc.StopProcs(r.procs, r.opts.Grace)
		var errs []error
		if downErr != nil {
			errs = append(errs, downErr)
		}
		if procsErr != nil {
			errs = append(errs, procsErr)
		}
		if left := r.leftBehind(pids); len(left) > 0 {
			errs = append(errs, fmt.Errorf("node processes still running after the run: pids %v", left))
		}
		if len(errs) > 0 {
			r.stopErr = fmt.Errorf("stopping the testnet: %w", errors.Join(errs...))
			return
		}
		r.logf("stopped %d nodes in %s; no node process left (%d seen)", r.desc.N, fmtDur(time.Since(start)), len(pids))
	})
	return r.stopErr
}

// leftBehind waits up to goneWait for the pids to be gone and returns the
// ones that are still this testnet's node processes. Besides the pids it
// was given, it looks through /proc for any process running a node of the
// testnet's directory: a twin has no pid file, and a process nobody
// recorded is the one most likely to be forgotten.
func (r *testnetRun) leftBehind(pids map[int]bool) []int {
	deadline := time.Now().Add(goneWait)
	for {
		var left []int
		for pid := range pids {
			if nodeProcessOf(pid, r.desc.Dir()) {
				left = append(left, pid)
			}
		}
		for _, pid := range nodeProcessesIn(r.desc.Dir()) {
			if !pids[pid] {
				left = append(left, pid)
			}
		}
		if len(left) == 0 || time.Now().After(deadline) {
			slices.Sort(left)
			return left
		}
		time.Sleep(50 * time.Millisecond)
	}
}

// nodeProcessesIn lists the live processes whose command line is
// `... node --config DIR/...` (none where there is no /proc).
func nodeProcessesIn(dir string) []int {
	entries, err := os.ReadDir("/proc")
	if err != nil {
		return nil
	}
	var out []int
	for _, e := range entries {
		pid, err := strconv.Atoi(e.Name())
		if err != nil || pid == os.Getpid() {
			continue
		}
		cmdline, err := os.ReadFile("/proc/" + e.Name() + "/cmdline")
		if err != nil {
			continue
		}
		args := strings.Split(strings.TrimRight(string(cmdline), "\x00"), "\x00")
		for i := 1; i+2 < len(args); i++ {
			if args[i] == "node" && args[i+1] == "--config" && strings.HasPrefix(args[i+2], dir+string(os.PathSeparator)) && testnet.Alive(pid) {
				out = append(out, pid)
				break
			}
		}
	}
	return out
}

// nodeProcessOf reports whether pid is alive and, as far as its command
// line tells, a node of the testnet in dir: a pid reused by an unrelated
// process after the node died is not one. Where the command line cannot be
// read, a live pid counts as left behind.
func nodeProcessOf(pid int, dir string) bool {
	if !testnet.Alive(pid) {
		return false
	}
	cmdline, err := os.ReadFile("/proc/" + strconv.Itoa(pid) + "/cmdline")
	if err != nil {
		return true
	}
	return strings.Contains(string(bytes.ReplaceAll(cmdline, []byte{0}, []byte{' '})), dir)
}
