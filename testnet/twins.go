package testnet

import (
	"fmt"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"time"
)

// twin is a second process running a replica under the replica's own
// identity (the Twins method of Bano et al.): same key, same peers, its own
// ports and an empty store. It connects to the others on its own, so both
// instances take part; what one signs, the other knows nothing of.
type twin struct {
	dir  string
	cmd  *exec.Cmd
	done chan struct{}
}

// startTwin starts replica id's twin with exe (this program if empty).
func startTwin(desc *Description, id int, exe string) (*twin, error) {
	cfg, err := LoadNodeConfig(desc.Path(desc.Nodes[id].Config))
	if err != nil {
		return nil, err
	}
	dir := filepath.Join(desc.Dir(), fmt.Sprintf("node-%d-twin", id))
	if err := os.RemoveAll(dir); err != nil {
		return nil, err
	}
	if err := os.MkdirAll(filepath.Join(dir, "data"), 0o755); err != nil {
		return nil, err
	}
	p2pPort, err := freePort()
	if err != nil {
		return nil, err
	}
	httpPort, err := freePort()
	if err != nil {
		return nil, err
	}
	cfg.KeyFile = cfg.Path(cfg.KeyFile)
	cfg.DataDir = filepath.Join(dir, "data")
	cfg.Listen = []string{fmt.Sprintf("/ip4/127.0.0.1/tcp/%d", p2pPort)}
	cfg.HTTP = fmt.Sprintf("127.0.0.1:%d", httpPort)
	conf := filepath.Join(dir, "config.toml")
	if err := cfg.Save(conf); err != nil {
		return nil, err
	}
	if exe == "" {
		if exe, err = os.Executable(); err != nil {
			return nil, err
		}
	}
	logf, err := os.OpenFile(filepath.Join(dir, "node.log"), os.O_WRONLY|os.O_CREATE|os.O_APPEND, 0o644)
	if err != nil {
		return nil, err
	}
	defer logf.Close()
	cmd := exec.Command(exe, "node", "--config", conf)
	cmd.Dir = dir
	cmd.Stdout, cmd.Stderr = logf, logf
	detach(cmd)
	if err := cmd.Start(); err != nil {
		return nil, fmt.Errorf("twin of node %d: %w", id, err)
	}
	tw := &twin{dir: dir, cmd: cmd, done: make(chan struct{})}
	go func() { _ = cmd.Wait(); close(tw.done) }()
	return tw, nil
}

// stop kills the twin and waits for it.
func (tw *twin) stop() {
	_ = kill(tw.cmd.Process.Pid)
	select {
	case <-tw.done:
	case <-time.After(10 * time.Second):
	}
}

// freePort returns a TCP port on 127.0.0.1 that was free a moment ago.
func freePort() (int, error) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return 0, err
	}
	defer ln.Close()
	return ln.Addr().(*net.TCPAddr).Port, nil
}
