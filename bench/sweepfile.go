package bench

import (
	"bytes"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"time"

	"github.com/pelletier/go-toml/v2"

	"github.com/bftbed/bftbed/adversary"
	"github.com/bftbed/bftbed/pbft"
)

// Sweep is a sweep file: one scenario run over a grid of one numeric
// parameter and a list of behaviours.
//
//	scenario = "default.toml"  # the base scenario, relative to this file
//	mode = "sim"               # where each run happens (only "sim" for now)
//	param = "n"                # n, batch, clients or checkpoint_interval
//	values = [4, 7]
//	seed = 7                   # optional: overrides the scenario's
//
//	[[behaviour]]              # one line per behaviour in the plots
//	name = "none"              # no fault: the baseline
//
//	[[behaviour]]
//	name = "drop"
//	label = "drop 10%"         # optional; default: name
//	nodes = [0]                # optional; default: [0], the first primary
//	from = "2s"                # optional; default: 2s
//	until = "8s"               # optional; default: the scenario's duration minus 4s
//	params = { rate = 0.1 }    # the behaviour's parameters
//
// Each behaviour replaces the base scenario's faults.
type Sweep struct {
	Scenario   string          `toml:"scenario"`
	Mode       string          `toml:"mode"`
	Param      string          `toml:"param"`
	Values     []float64       `toml:"values"`
	Seed       uint64          `toml:"seed"`
	Behaviours []SweepFaultDef `toml:"behaviour"`

	dir string
}

// SweepFaultDef is one behaviour of a sweep.
type SweepFaultDef struct {
	Name   string           `toml:"name"`
	Label  string           `toml:"label"`
	Nodes  []pbft.ReplicaID `toml:"nodes"`
	From   string           `toml:"from"`
	Until  string           `toml:"until"`
	Params map[string]any   `toml:"params"`
}

// sweepParams are the parameters a sweep can vary, and how each sets a
// scenario.
var sweepParams = map[string]func(sc *adversary.Scenario, v int){
	"n":       func(sc *adversary.Scenario, v int) { sc.Testnet.N = v },
	"batch":   func(sc *adversary.Scenario, v int) { sc.Testnet.Batch = v },
	"clients": func(sc *adversary.Scenario, v int) { sc.Load.Clients = v },
	"checkpoint_interval": func(sc *adversary.Scenario, v int) {
		sc.Testnet.CheckpointInterval, sc.Testnet.WatermarkWindow = v, 2*v
	},
}

// LoadSweep reads and checks a sweep file.
func LoadSweep(path string) (*Sweep, error) {
	data, err := os.ReadFile(path)
	if err != nil {
		return nil, err
	}
	sw := &Sweep{Mode: ModeSim, dir: filepath.Dir(path)}
	dec := toml.NewDecoder(bytes.NewReader(data)).DisallowUnknownFields()
	if err := dec.Decode(sw); err != nil {
		var de *toml.DecodeError
		var sm *toml.StrictMissingError
		switch {
		case errors.As(err, &sm) && len(sm.Errors) > 0:
			row, _ := sm.Errors[0].Position()
			return nil, fmt.Errorf("%s:%d: unknown field %q (allowed: scenario, mode, param, values, seed, behaviour)", path, row, strings.Join(sm.Errors[0].Key(), "."))
		case errors.As(err, &de):
			row, _ := de.Position()
			return nil, fmt.Errorf("%s:%d: %s", path, row, de.Error())
		}
		return nil, fmt.Errorf("%s: %w", path, err)
	}
	switch {
	case sw.Scenario == "":
		return nil, fmt.Errorf("%s: scenario is missing", path)
	case sw.Mode != ModeSim:
		return nil, fmt.Errorf("%s: mode %q: only %q sweeps are supported", path, sw.Mode, ModeSim)
	case sweepParams[sw.Param] == nil:
		return nil, fmt.Errorf("%s: param %q: want n, batch, clients or checkpoint_interval", path, sw.Param)
	case len(sw.Values) == 0:
		return nil, fmt.Errorf("%s: values is empty", path)
	case len(sw.Behaviours) == 0:
		return nil, fmt.Errorf("%s: no [[behaviour]]", path)
	}
	for _, v := range sw.Values {
		if v != float64(int(v)) || v < 1 {
			return nil, fmt.Errorf("%s: value %v of %s is not a positive integer", path, v, sw.Param)
		}
	}
	for i, b := range sw.Behaviours {
		if b.Name == "" {
			return nil, fmt.Errorf("%s: behaviour %d has no name", path, i+1)
		}
		if b.Name != "none" && !knownBehaviour(b.Name) {
			return nil, fmt.Errorf("%s: behaviour %d: unknown behaviour %q (known: none, %v)", path, i+1, b.Name, adversary.Behaviours())
		}
	}
	return sw, nil
}

func knownBehaviour(name string) bool {
	for _, b := range adversary.Behaviours() {
		if b == name {
			return true
		}
	}
	return false
}

// label is how the behaviour appears in plots and the CSV.
func (b *SweepFaultDef) label() string {
	if b.Label != "" {
		return b.Label
	}
	return b.Name
}

// scenario returns the base scenario with the swept value and the
// behaviour applied.
func (sw *Sweep) scenario(value int, b *SweepFaultDef) (*adversary.Scenario, error) {
	sc, err := adversary.LoadScenario(filepath.Join(sw.dir, sw.Scenario))
	if err != nil {
		return nil, err
	}
	sweepParams[sw.Param](sc, value)
	if sw.Seed != 0 {
		sc.Seed = sw.Seed
	}
	sc.Faults = nil
	if b.Name == "none" {
		return sc, nil
	}
	f := adversary.FaultSpec{Behaviour: b.Name, Nodes: b.Nodes, Params: b.Params, From: 2 * time.Second, Until: sc.Duration - 4*time.Second}
	if f.Nodes == nil && b.Name != "partition" {
		f.Nodes = []pbft.ReplicaID{0}
	}
	if b.From != "" {
		if f.From, err = time.ParseDuration(b.From); err != nil {
			return nil, fmt.Errorf("behaviour %s: from: %w", b.label(), err)
		}
	}
	if b.Until != "" {
		if f.Until, err = time.ParseDuration(b.Until); err != nil {
			return nil, fmt.Errorf("behaviour %s: until: %w", b.label(), err)
		}
	}
	sc.Faults = []adversary.FaultSpec{f}
	if _, err := sc.BuildFaults(); err != nil {
		return nil, err
	}
	return sc, nil
}

// RunSweep runs every (value, behaviour) of the sweep, writes each run's
// report under dir/runs/, and the comparison (CSV and plots) in dir.
func RunSweep(sw *Sweep, dir string, progress func(done, total int, row SweepRow)) ([]SweepRow, error) {
	var rows []SweepRow
	total := len(sw.Values) * len(sw.Behaviours)
	for _, v := range sw.Values {
		for i := range sw.Behaviours {
			b := &sw.Behaviours[i]
			sc, err := sw.scenario(int(v), b)
			if err != nil {
				return rows, err
			}
			runDir := filepath.Join(dir, "runs", fmt.Sprintf("%s=%d-%s", sw.Param, int(v), sanitize(b.label())))
			res, err := RunSim(sc, sc.Seed, runDir, nil)
			if err != nil {
				return rows, err
			}
			if err := WriteReport(runDir, res); err != nil {
				return rows, err
			}
			row := SweepRowOf(sw.Param, v, b.label(), res)
			row.Dir = runDir
			rows = append(rows, row)
			if progress != nil {
				progress(len(rows), total, row)
			}
		}
	}
	return rows, WriteSweep(dir, rows)
}

func sanitize(s string) string {
	b := []byte(s)
	for i, c := range b {
		if !(c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' || c == '-' || c == '.') {
			b[i] = '_'
		}
	}
	return string(b)
}
