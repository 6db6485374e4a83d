package testnet

import (
	"fmt"
	"strings"
	"time"
)

// DefaultGrace is how long a node gets to exit after SIGTERM before it is
// killed.
const DefaultGrace = 10 * time.Second

// killWait bounds the wait for a SIGKILLed process to disappear; past it
// something is badly wrong (a process stuck in the kernel) and is reported.
const killWait = 5 * time.Second

// pollEvery is how often process liveness is polled while waiting.
const pollEvery = 25 * time.Millisecond

// Stopped is what happened to one node when it was stopped.
type Stopped struct {
	ID  int // node id
	PID int // its process, 0 if it was not running
	// How is "SIGTERM", "SIGKILL" (after the grace period, or at once for
	// Kill), or "not running".
	How string
	// Took is the time from the first signal until the process was gone.
	Took time.Duration
}

// String describes the outcome for a person.
func (s Stopped) String() string {
	if s.PID == 0 {
		return fmt.Sprintf("node %d: not running", s.ID)
	}
	return fmt.Sprintf("node %d (pid %d): stopped by %s in %s", s.ID, s.PID, s.How, s.Took.Round(time.Millisecond))
}

// target is a process to stop, already known to be one of our nodes.
type target struct{ id, pid int }

// stopTargets sends SIGTERM to every target, waits up to grace for them to
// exit, SIGKILLs the others and waits (bounded) for them to go. With grace
// 0 it SIGKILLs at once. It returns one Stopped per target, in order, and
// an error naming any process that survived.
func stopTargets(targets []target, grace time.Duration) ([]Stopped, error) {
	out := make([]Stopped, len(targets))
	start := time.Now()
	how := "SIGTERM"
	if grace <= 0 {
		how = "SIGKILL"
	}
	for i, t := range targets {
		out[i] = Stopped{ID: t.id, PID: t.pid, How: how}
		if grace > 0 {
			_ = terminate(t.pid)
		} else {
			_ = kill(t.pid)
		}
	}
	pending := waitGone(targets, out, start, grace)
	if len(pending) > 0 {
		for _, i := range pending {
			out[i].How = "SIGKILL"
			_ = kill(targets[i].pid)
		}
		pending = waitGone(targets, out, start, killWait)
	}
	if len(pending) > 0 {
		var names []string
		for _, i := range pending {
			names = append(names, fmt.Sprintf("node %d (pid %d)", targets[i].id, targets[i].pid))
		}
		return out, fmt.Errorf("still running after SIGKILL: %s", strings.Join(names, ", "))
	}
	return out, nil
}

// waitGone waits up to d for the targets to exit, recording when each went,
// and returns the indexes of those still alive.
func waitGone(targets []target, out []Stopped, start time.Time, d time.Duration) []int {
	deadline := time.Now().Add(d)
	for {
		var pending []int
		for i, t := range targets {
			if out[i].Took > 0 {
				continue
			}
			if Alive(t.pid) {
				pending = append(pending, i)
			} else {
				out[i].Took = max(time.Since(start), time.Nanosecond)
			}
		}
		if len(pending) == 0 || !time.Now().Before(deadline) {
			return pending
		}
		time.Sleep(pollEvery)
	}
}

// Down stops every running node of the testnet (SIGTERM, then SIGKILL
// after grace) and removes the pid files. When it returns without error no
// node process of the testnet is left.
func (d *Description) Down(grace time.Duration) ([]Stopped, error) {
	var targets []target
	results := make([]Stopped, len(d.Nodes))
	for i := range d.Nodes {
		results[i] = Stopped{ID: i, How: "not running"}
		if pid, running := d.Running(i); running {
			targets = append(targets, target{i, pid})
		}
	}
	stopped, err := stopTargets(targets, grace)
	for _, s := range stopped {
		results[s.ID] = s
	}
	for i := range d.Nodes {
		d.RemovePIDFile(i)
	}
	return results, err
}

// Kill SIGKILLs node id (a crash: nothing is flushed) and waits until its
// process is gone.
func (d *Description) Kill(id int) (Stopped, error) {
	if id < 0 || id >= len(d.Nodes) {
		return Stopped{}, fmt.Errorf("no node %d", id)
	}
	pid, running := d.Running(id)
	if !running {
		d.RemovePIDFile(id)
		return Stopped{ID: id, How: "not running"}, fmt.Errorf("node %d is not running", id)
	}
	out, err := stopTargets([]target{{id, pid}}, 0)
	d.RemovePIDFile(id)
	return out[0], err
}

// StopProcs stops processes this program started (SIGTERM, SIGKILL after
// grace) and removes their pid files.
func (d *Description) StopProcs(procs []*Proc, grace time.Duration) ([]Stopped, error) {
	var targets []target
	for _, p := range procs {
		if !p.Exited() {
			targets = append(targets, target{p.ID, p.PID})
		}
	}
	out, err := stopTargets(targets, grace)
	for _, p := range procs {
		select {
		case <-p.done: // reaped: the pid can no longer name it
		case <-time.After(killWait):
		}
		d.RemovePIDFile(p.ID)
	}
	return out, err
}
