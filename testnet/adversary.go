package testnet

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"os"
	"sort"
	"syscall"
	"time"

	"github.com/bftbed/bftbed/adversary"
)

// Apply runs a scenario's fault timeline against a running testnet: message
// faults and link rules go to every node's adversary endpoint, lifecycle
// faults (crash-stop, crash-recover, pause) are carried out on the node
// processes. Times count from start. It returns when the last fault has
// ended or ctx is done. logf (may be nil) receives one line per fault event
// ("2.000s equivocate on [0] begins").
//
// Twins starts a second process under the replica's identity, with its own
// ports and an empty store, and kills it when the fault ends. A
// crash-recover restarts the node, and twins start, with restart's
// executable (at most one; by default this program's).
func Apply(ctx context.Context, dir string, desc *Description, sc *adversary.Scenario, seed uint64, start time.Time, logf func(format string, args ...any), restart ...StartOptions) error {
	var up UpOptions
	if len(restart) > 0 {
		up.StartOptions = restart[0]
	}
	if logf == nil {
		logf = func(string, ...any) {}
	}
	if sc.Testnet.N != len(desc.Nodes) {
		return fmt.Errorf("adversary: the scenario is for n = %d, the testnet in %s has %d nodes", sc.Testnet.N, dir, len(desc.Nodes))
	}
	text, err := os.ReadFile(sc.Source)
	if err != nil {
		return fmt.Errorf("adversary: %w", err)
	}
	req := adversaryRequest{Scenario: string(text), Seed: seed, StartUnixNano: start.UnixNano()}
	for id := range desc.Nodes {
		if err := postAdversary(ctx, &desc.Nodes[id], req); err != nil {
			return err
		}
	}
	for _, f := range sc.Faults {
		until := "the end"
		if f.Until > 0 {
			until = f.Until.String()
		}
		logf("fault: %s on %v from %s to %s", f.Behaviour, f.Nodes, f.From, until)
	}
	events := lifecycleEvents(sc)
	paused := map[int]bool{}
	twins := map[int]*twin{}
	defer func() {
		for id := range paused { // never leave a node stopped
			signalNode(desc, id, syscall.SIGCONT)
		}
		for _, tw := range twins {
			tw.stop()
		}
	}()
	for _, ev := range events {
		select {
		case <-ctx.Done():
			return ctx.Err()
		case <-time.After(time.Until(start.Add(ev.at))):
		}
		logf("%7.3fs %s", ev.at.Seconds(), ev)
		switch {
		case ev.kind == adversary.Twins && ev.begin:
			tw, err := startTwin(desc, ev.node, up.Exe)
			if err != nil {
				return fmt.Errorf("adversary: twin of node %d: %w", ev.node, err)
			}
			twins[ev.node] = tw
			logf("         twin of node %d runs in %s", ev.node, tw.dir)
		case ev.kind == adversary.Twins:
			if tw := twins[ev.node]; tw != nil {
				tw.stop()
				delete(twins, ev.node)
			}
		case ev.kind == adversary.Pause && ev.begin:
			if err := signalNode(desc, ev.node, syscall.SIGSTOP); err != nil {
				return err
			}
			paused[ev.node] = true
		case ev.kind == adversary.Pause:
			if err := signalNode(desc, ev.node, syscall.SIGCONT); err != nil {
				return err
			}
			delete(paused, ev.node)
		case ev.begin: // crash-stop, crash-recover
			if _, err := desc.Kill(ev.node); err != nil {
				return fmt.Errorf("adversary: crash node %d: %w", ev.node, err)
			}
		default: // crash-recover ends
			if _, err := desc.Restart(ctx, ev.node, up); err != nil {
				return fmt.Errorf("adversary: restart node %d: %w", ev.node, err)
			}
			// A restarted node has forgotten the faults.
			if err := postAdversary(ctx, &desc.Nodes[ev.node], req); err != nil {
				return err
			}
		}
	}
	_, end := sc.FaultWindow()
	select {
	case <-ctx.Done():
		return ctx.Err()
	case <-time.After(time.Until(start.Add(end))):
	}
	return nil
}

// adversaryRequest is the daemon's AdversaryRequest (testnet/daemon), kept
// here as JSON so the testnet tools do not import the daemon.
type adversaryRequest struct {
	Scenario      string `json:"scenario"`
	Seed          uint64 `json:"seed"`
	StartUnixNano int64  `json:"start_unix_nano"`
}

func postAdversary(ctx context.Context, nd *NodeEntry, req adversaryRequest) error {
	body, _ := json.Marshal(req)
	ctx, cancel := context.WithTimeout(ctx, 5*time.Second)
	defer cancel()
	hr, _ := http.NewRequestWithContext(ctx, http.MethodPost, "http://"+nd.HTTP+"/adversary", bytes.NewReader(body))
	hr.Header.Set("Content-Type", "application/json")
	resp, err := http.DefaultClient.Do(hr)
	if err != nil {
		return fmt.Errorf("adversary: node %d: %w", nd.ID, err)
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		msg, _ := io.ReadAll(io.LimitReader(resp.Body, 4096))
		return fmt.Errorf("adversary: node %d refused the scenario: %s", nd.ID, bytes.TrimSpace(msg))
	}
	return nil
}

// signalNode sends sig to node id's process, if it is running.
func signalNode(desc *Description, id int, sig syscall.Signal) error {
	pid, running := desc.Running(id)
	if !running {
		return fmt.Errorf("adversary: node %d is not running", id)
	}
	return sendSignal(pid, sig)
}

// lifecycleEvent is one start or end of a lifecycle fault on one node.
type lifecycleEvent struct {
	at    time.Duration
	kind  adversary.LifecycleKind
	node  int
	begin bool
}

func (e lifecycleEvent) String() string {
	verb := "ends"
	if e.begin {
		verb = "begins"
	}
	return fmt.Sprintf("%s on node %d %s", e.kind, e.node, verb)
}

// lifecycleEvents lists, in time order, what Apply does to processes.
func lifecycleEvents(sc *adversary.Scenario) []lifecycleEvent {
	var evs []lifecycleEvent
	faults, _ := sc.BuildFaults()
	for _, f := range faults {
		lc, ok := f.Behaviour.(adversary.Lifecycle)
		if !ok {
			continue
		}
		for _, id := range f.Nodes {
			evs = append(evs, lifecycleEvent{at: f.From, kind: lc.Lifecycle(), node: int(id), begin: true})
			if f.Until > 0 && lc.Lifecycle() != adversary.CrashStop {
				evs = append(evs, lifecycleEvent{at: f.Until, kind: lc.Lifecycle(), node: int(id)})
			}
		}
	}
	sort.SliceStable(evs, func(i, j int) bool { return evs[i].at < evs[j].at })
	return evs
}
