package daemon

import (
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"time"

	"github.com/bftbed/bftbed/adversary"
	"github.com/bftbed/bftbed/pbft"
)

// AdversaryRequest is the body of POST /adversary: a scenario whose
// message faults and link rules this node applies to itself from then on,
// with its times counted from StartUnixNano. Every node of a testnet gets
// the same request; each acts on the faults on itself and enforces the
// link rules for what it sends. DELETE /adversary switches them off.
//
// The endpoint shares the status port: like the rest of a testbed node's
// HTTP endpoints, it must only be reachable by the testbed's operator
// (the configuration binds it to 127.0.0.1).
type AdversaryRequest struct {
	Scenario      string `json:"scenario"` // the scenario file's TOML text
	Seed          uint64 `json:"seed"`
	StartUnixNano int64  `json:"start_unix_nano"`
}

// maxScenarioSize bounds the body of POST /adversary.
const maxScenarioSize = 1 << 20

func (d *Daemon) serveAdversary(w http.ResponseWriter, r *http.Request) {
	if r.Method == http.MethodDelete {
		d.adv.SetRuntime(nil)
		d.log.Warn("adversary: faults switched off")
		fmt.Fprintln(w, "ok")
		return
	}
	body, err := io.ReadAll(io.LimitReader(r.Body, maxScenarioSize+1))
	if err != nil || len(body) > maxScenarioSize {
		http.Error(w, "adversary: body unreadable or over 1 MiB", http.StatusBadRequest)
		return
	}
	var req AdversaryRequest
	if err := json.Unmarshal(body, &req); err != nil {
		http.Error(w, "adversary: "+err.Error(), http.StatusBadRequest)
		return
	}
	if _, err := d.SetAdversary(req); err != nil {
		http.Error(w, err.Error(), http.StatusBadRequest)
		return
	}
	fmt.Fprintln(w, "ok")
}

// SetAdversary applies a scenario's faults to this node, as POST /adversary
// does.
func (d *Daemon) SetAdversary(req AdversaryRequest) (*adversary.Runtime, error) {
	sc, err := adversary.ParseScenario("adversary", []byte(req.Scenario))
	if err != nil {
		return nil, fmt.Errorf("adversary: %w", err)
	}
	if sc.Testnet.N != len(d.cfg.Peers) {
		return nil, fmt.Errorf("adversary: the scenario is for n = %d, this testnet has %d replicas", sc.Testnet.N, len(d.cfg.Peers))
	}
	sc.Seed = req.Seed
	faults, err := sc.BuildFaults()
	if err != nil {
		return nil, fmt.Errorf("adversary: %w", err)
	}
	rt := adversary.NewRuntime(pbft.ReplicaID(d.cfg.ID), len(d.cfg.Peers), d.key, d.domain, faults,
		time.Unix(0, req.StartUnixNano), req.Seed)
	rt.View = func() pbft.View { return d.node.Status().View }
	d.adv.SetRuntime(rt)
	mine := 0
	for _, f := range faults {
		if f.Applies(pbft.ReplicaID(d.cfg.ID)) {
			mine++
		}
	}
	d.log.Warn("adversary: faults armed", "scenario", sc.Name, "faults", len(faults), "on_this_node", mine,
		"start", time.Unix(0, req.StartUnixNano).Format(time.RFC3339Nano))
	return rt, nil
}
