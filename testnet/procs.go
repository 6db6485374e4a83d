package testnet

import (
	"bufio"
	"bytes"
	"errors"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"time"
)

// A testnet's nodes run as separate OS processes, `bftbed node --config
// DIR/node-i/config.toml`, each in its own session (so its own process
// group): a Ctrl-C typed at the terminal reaches the bftbed command that
// started them, which then decides to stop them, and never the nodes
// directly. Each node's process ID is in its pid file; every command that
// signals a node first checks that the pid still names that node's process
// (its command line, on Linux), so a stale pid file never makes bftbed
// signal a process it did not start.

// StartOptions says how to start a node.
type StartOptions struct {
	// Exe is the bftbed binary to run; "" means this program
	// (os.Executable).
	Exe string
	// ExtraArgs are appended to `node --config FILE` (for example
	// --reset-state).
	ExtraArgs []string
}

// Proc is a node process started by this program. Its exit is observed (and
// the process reaped) by a goroutine, so Done can be selected on.
type Proc struct {
	ID  int // node id
	PID int // process id

	cmd  *exec.Cmd
	done chan struct{}
	err  error // exit status, set before done is closed
}

// Done is closed when the process has exited.
func (p *Proc) Done() <-chan struct{} { return p.done }

// Err returns how the process exited (nil for status 0); call it after
// Done is closed.
func (p *Proc) Err() error { return p.err }

// Exited reports whether the process has exited.
func (p *Proc) Exited() bool {
	select {
	case <-p.done:
		return true
	default:
		return false
	}
}

// nodeArgs returns the arguments of node id's process after the binary.
func (d *Description) nodeArgs(id int, extra []string) []string {
	return append([]string{"node", "--config", d.Path(d.Nodes[id].Config)}, extra...)
}

// StartNode starts node id as a child process in its own session, appending
// its stdout and stderr to its log file, and writes its pid file. It
// refuses a node that is already running.
func (d *Description) StartNode(id int, opts StartOptions) (*Proc, error) {
	if id < 0 || id >= len(d.Nodes) {
		return nil, fmt.Errorf("no node %d", id)
	}
	if pid, running := d.Running(id); running {
		return nil, fmt.Errorf("node %d is already running (pid %d)", id, pid)
	}
	exe := opts.Exe
	if exe == "" {
		var err error
		if exe, err = os.Executable(); err != nil {
			return nil, fmt.Errorf("finding the bftbed binary: %w", err)
		}
	}
	nd := &d.Nodes[id]
	logPath := d.Path(nd.Log)
	logf, err := os.OpenFile(logPath, os.O_WRONLY|os.O_CREATE|os.O_APPEND, 0o644)
	if err != nil {
		return nil, fmt.Errorf("node %d: log file: %w", id, err)
	}
	// The child keeps its own descriptor of the log; ours is only needed
	// until Start has passed it on.
	defer logf.Close()
	args := d.nodeArgs(id, opts.ExtraArgs)
	fmt.Fprintf(logf, "=== %s bftbed testnet: starting node %d: %s %s\n",
		time.Now().Format(time.RFC3339), id, exe, strings.Join(args, " "))

	cmd := exec.Command(exe, args...)
	cmd.Dir = filepath.Dir(d.Path(nd.Config))
	cmd.Stdout, cmd.Stderr = logf, logf
	detach(cmd)
	if err := cmd.Start(); err != nil {
		return nil, fmt.Errorf("node %d: starting %s: %w", id, exe, err)
	}
	p := &Proc{ID: id, PID: cmd.Process.Pid, cmd: cmd, done: make(chan struct{})}
	go func() {
		p.err = cmd.Wait()
		close(p.done)
	}()
	if err := writePIDFile(d.Path(nd.PIDFile), p.PID); err != nil {
		_ = cmd.Process.Kill()
		<-p.done
		return nil, fmt.Errorf("node %d: %w", id, err)
	}
	return p, nil
}

// Running reports whether node id is running: its pid file names a live
// process that is this node's (`bftbed node --config` with its config file).
func (d *Description) Running(id int) (pid int, running bool) {
	pid, err := readPIDFile(d.Path(d.Nodes[id].PIDFile))
	if err != nil {
		return 0, false
	}
	return pid, isNodeProcess(pid, d.Path(d.Nodes[id].Config))
}

// RemovePIDFile removes node id's pid file if it does not name a running
// node (a crashed or killed one's). It returns whether the file is gone.
func (d *Description) RemovePIDFile(id int) bool {
	if _, running := d.Running(id); running {
		return false
	}
	err := os.Remove(d.Path(d.Nodes[id].PIDFile))
	return err == nil || errors.Is(err, os.ErrNotExist)
}

// PIDs returns the pid recorded for each node (0 where there is no pid
// file), running or not: what a test checks is gone after Down.
func (d *Description) PIDs() []int {
	pids := make([]int, len(d.Nodes))
	for i, nd := range d.Nodes {
		pids[i], _ = readPIDFile(d.Path(nd.PIDFile))
	}
	return pids
}

// writePIDFile writes pid to path atomically (temporary file and rename),
// so a reader never sees a partial number.
func writePIDFile(path string, pid int) error {
	tmp := path + ".tmp"
	if err := os.WriteFile(tmp, []byte(strconv.Itoa(pid)+"\n"), 0o644); err != nil {
		return fmt.Errorf("pid file: %w", err)
	}
	if err := os.Rename(tmp, path); err != nil {
		os.Remove(tmp)
		return fmt.Errorf("pid file: %w", err)
	}
	return nil
}

// readPIDFile reads a pid file written by writePIDFile.
func readPIDFile(path string) (int, error) {
	data, err := os.ReadFile(path)
	if err != nil {
		return 0, err
	}
	pid, err := strconv.Atoi(strings.TrimSpace(string(data)))
	if err != nil || pid <= 1 {
		return 0, fmt.Errorf("pid file %s: bad content %q", path, bytes.TrimSpace(data))
	}
	return pid, nil
}

// TailFile returns the last n lines of the file at path (for error
// messages about a node that failed to start).
func TailFile(path string, n int) string {
	f, err := os.Open(path)
	if err != nil {
		return ""
	}
	defer f.Close()
	// Logs can be large: read only their end.
	const maxTail = 64 << 10
	if st, err := f.Stat(); err == nil && st.Size() > maxTail {
		_, _ = f.Seek(st.Size()-maxTail, io.SeekStart)
	}
	var lines []string
	sc := bufio.NewScanner(f)
	sc.Buffer(make([]byte, 0, 64<<10), 1<<20)
	for sc.Scan() {
		lines = append(lines, sc.Text())
		if len(lines) > n {
			lines = lines[1:]
		}
	}
	return strings.Join(lines, "\n")
}
