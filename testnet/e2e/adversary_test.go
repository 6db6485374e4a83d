package e2e

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"path/filepath"
	"sync"
	"testing"
	"time"

	"github.com/bftbed/bftbed/adversary"
	"github.com/bftbed/bftbed/testnet"
)

// TestFailureModelsOnARealTestnet runs bench/scenarios/failure-models.toml
// on four node processes over libp2p: an equivocating primary (Byzantine),
// a lossy replica (omission), a slow one (timing), a power cut and restart
// (crash-recovery) and a crash-stop, in turn, under load. Afterwards it
// checks safety from every node's executed log (/commits): no two nodes
// executed different batches at one sequence number, and the survivors
// went on committing after the last fault.
func TestFailureModelsOnARealTestnet(t *testing.T) {
	ctx, cancel := context.WithTimeout(context.Background(), testBudget)
	defer cancel()
	e := &env{t: t, ctx: ctx, bin: buildBinary(t), dir: filepath.Join(t.TempDir(), "tn"), pids: map[int]bool{}}
	e.run("testnet", "init", "-n", "4", "-o", e.dir, "--cluster", "faults")
	d, err := testnet.LoadDescription(e.dir)
	if err != nil {
		t.Fatal(err)
	}
	e.d = d
	t.Cleanup(e.cleanup)
	e.run("testnet", "up", e.dir, "--timeout", "60s")
	e.notePIDs()

	sc, err := adversary.LoadScenario("../../bench/scenarios/failure-models.toml")
	if err != nil {
		t.Fatal(err)
	}
	start := time.Now().Add(500 * time.Millisecond)
	var wg sync.WaitGroup
	wg.Add(1)
	go func() {
		defer wg.Done()
		e.load("during-faults", "--clients", "16", "--duration", fmt.Sprint(sc.Duration+time.Second))
	}()
	err = testnet.Apply(ctx, e.dir, d, sc, sc.Seed, start, func(format string, args ...any) { t.Logf(format, args...) },
		testnet.StartOptions{Exe: e.bin})
	if err != nil {
		t.Fatalf("apply: %v", err)
	}
	e.notePIDs() // the restarted replica
	wg.Wait()

	// Safety: every node's executed log agrees with every other's.
	logs := map[int]map[uint64]string{}
	for id := range d.Nodes {
		if id == 1 { // crash-stopped
			continue
		}
		logs[id] = commitsOf(t, ctx, &d.Nodes[id])
	}
	checked := 0
	for a := range logs {
		for b := range logs {
			if a >= b {
				continue
			}
			for seq, da := range logs[a] {
				if db, ok := logs[b][seq]; ok {
					checked++
					if da != db {
						t.Errorf("agreement violated at seq %d: node %d executed %s, node %d executed %s", seq, a, da, b, db)
					}
				}
			}
		}
	}
	t.Logf("agreement checked on %d (seq, pair) entries", checked)
	if checked == 0 {
		t.Fatal("nothing to compare: no executed batches were reported")
	}
	// Liveness: the survivors went on after the crash-stop at 13s.
	for _, id := range []int{0, 2, 3} {
		st := e.status(id)
		t.Logf("node %d: view %d, executed %d", id, st.View, st.LastExecuted)
	}
	before := e.status(0).LastExecuted
	e.load("after-faults", "--clients", "8", "--duration", "2s")
	if after := e.status(0).LastExecuted; after <= before {
		t.Fatalf("no commit after the faults: executed %d then %d", before, after)
	}
}

// commitsOf reads a node's recent executed batches: seq -> digest.
func commitsOf(t *testing.T, ctx context.Context, nd *testnet.NodeEntry) map[uint64]string {
	t.Helper()
	req, _ := http.NewRequestWithContext(ctx, http.MethodGet, "http://"+nd.HTTP+"/commits?after=0&limit=100000", nil)
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatalf("commits of node %d: %v", nd.ID, err)
	}
	defer resp.Body.Close()
	var commits []struct {
		Seq    uint64 `json:"seq"`
		Digest string `json:"digest"`
	}
	if err := json.NewDecoder(resp.Body).Decode(&commits); err != nil {
		t.Fatalf("commits of node %d: %v", nd.ID, err)
	}
	out := map[uint64]string{}
	for _, c := range commits {
		out[c.Seq] = c.Digest
	}
	return out
}
