package adversary

import (
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/bftbed/bftbed/pbft"
)

const benchScenarios = "../bench/scenarios"

// TestBenchScenarios parses, validates and builds every scenario of
// bench/scenarios, the files CI runs in the simulator and benchmarks on
// testnets: a broken one must fail here, not in the middle of a run.
func TestBenchScenarios(t *testing.T) {
	files, err := filepath.Glob(filepath.Join(benchScenarios, "*.toml"))
	if err != nil || len(files) == 0 {
		t.Fatalf("no scenarios in %s: %v", benchScenarios, err)
	}
	covered := map[string]bool{}
	for _, path := range files {
		s, err := LoadScenario(path)
		if err != nil {
			t.Errorf("%v", err)
			continue
		}
		base := strings.TrimSuffix(filepath.Base(path), ".toml")
		if s.Name != base {
			t.Errorf("%s: name %q, want the file's name", path, s.Name)
		}
		if s.Description == "" {
			t.Errorf("%s: no description", path)
		}
		if data, _ := os.ReadFile(path); !strings.HasPrefix(string(data), "# "+base+": ") {
			t.Errorf("%s: must open with a comment block \"# %s: ...\" saying what it shows and what to expect", path, base)
		}
		if s.Duration < 10e9 || s.Duration > 20e9 {
			t.Errorf("%s: duration %v, keep it within 10s..20s", path, s.Duration)
		}
		faults, err := s.BuildFaults()
		if err != nil || len(faults) == 0 {
			t.Errorf("%s: %d faults, %v", path, len(faults), err)
		}
		for _, f := range s.Faults {
			covered[f.Behaviour] = true
		}
	}
	for _, b := range Behaviours() {
		if !covered[b] {
			t.Errorf("no scenario in %s uses %s", benchScenarios, b)
		}
	}
}

// TestForkBeyondF pins the scenario that must break safety: the primary and
// a backup both equivocate towards replica 3, so correct replicas 2 and 3
// each see a story with 2f+1 votes.
func TestForkBeyondF(t *testing.T) {
	s, err := LoadScenario(filepath.Join(benchScenarios, "fork-beyond-f.toml"))
	if err != nil {
		t.Fatal(err)
	}
	if s.Testnet.N != 4 || !s.AllowBeyondF || s.Expect.Safety || len(s.Faults) != 2 {
		t.Fatalf("fork-beyond-f: %+v", s)
	}
	faults, _ := s.BuildFaults()
	for i, f := range faults {
		e, ok := f.Behaviour.(*Equivocate)
		if !ok || !slices.Equal(e.Other, []pbft.ReplicaID{3}) || f.Nodes[0] != pbft.ReplicaID(i) {
			t.Errorf("fault %d: %+v", i+1, f)
		}
	}
}

// TestReadmeDocumentsEverything keeps bench/scenarios/README.md in step
// with the registry and the directory.
func TestReadmeDocumentsEverything(t *testing.T) {
	data, err := os.ReadFile(filepath.Join(benchScenarios, "README.md"))
	if err != nil {
		t.Fatal(err)
	}
	readme := string(data)
	for _, name := range Behaviours() {
		if !strings.Contains(readme, "| `"+name+"` |") {
			t.Errorf("README: no row for behaviour %s", name)
		}
		info, _ := Describe(name)
		for _, p := range info.Params {
			if !strings.Contains(readme, "`"+p.Name+"`") {
				t.Errorf("README: %s parameter %s undocumented", name, p.Name)
			}
		}
	}
	for _, name := range msgTypeNames() {
		if !strings.Contains(readme, "`"+name+"`") {
			t.Errorf("README: message type %s not listed", name)
		}
	}
	files, _ := filepath.Glob(filepath.Join(benchScenarios, "*.toml"))
	for _, path := range files {
		if !strings.Contains(readme, "| `"+filepath.Base(path)+"` |") {
			t.Errorf("README: scenario %s not listed", filepath.Base(path))
		}
	}
}
