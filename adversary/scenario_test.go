package adversary

import (
	"flag"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/bftbed/bftbed/pbft"
)

var update = flag.Bool("update", false, "rewrite the # want: lines of testdata/bad/*.toml from the current errors")

const wantPrefix = "# want: "

// TestBadScenarios parses each file of testdata/bad, which ends with the
// exact errors it must produce as "# want: " comment lines (at the end, so
// that they do not move the lines they cite). Errors cite the file by its
// base name.
func TestBadScenarios(t *testing.T) {
	files, err := filepath.Glob("testdata/bad/*.toml")
	if err != nil || len(files) == 0 {
		t.Fatalf("no bad scenarios: %v", err)
	}
	for _, path := range files {
		t.Run(filepath.Base(path), func(t *testing.T) {
			data, err := os.ReadFile(path)
			if err != nil {
				t.Fatal(err)
			}
			body, want := splitWant(string(data))
			_, err = ParseScenario(filepath.Base(path), []byte(body))
			if err == nil {
				t.Fatalf("parsed without error")
			}
			got := strings.Split(err.Error(), "\n")
			if *update {
				var b strings.Builder
				b.WriteString(body)
				for _, line := range got {
					b.WriteString(wantPrefix + line + "\n")
				}
				if err := os.WriteFile(path, []byte(b.String()), 0o644); err != nil {
					t.Fatal(err)
				}
				return
			}
			if !slices.Equal(got, want) {
				t.Errorf("errors:\n%s\nwant:\n%s", strings.Join(got, "\n"), strings.Join(want, "\n"))
			}
		})
	}
}

// splitWant separates a file's trailing "# want: " lines from its body.
func splitWant(data string) (body string, want []string) {
	lines := strings.SplitAfter(data, "\n")
	i := len(lines)
	for i > 0 && (strings.HasPrefix(lines[i-1], wantPrefix) || lines[i-1] == "") {
		i--
	}
	for _, l := range lines[i:] {
		if l != "" {
			want = append(want, strings.TrimSuffix(strings.TrimPrefix(l, wantPrefix), "\n"))
		}
	}
	return strings.Join(lines[:i], ""), want
}

// TestGoodScenarios parses the valid files of testdata/good, which cover
// edge cases a bad file might be confused with.
func TestGoodScenarios(t *testing.T) {
	files, _ := filepath.Glob("testdata/good/*.toml")
	for _, path := range files {
		if _, err := LoadScenario(path); err != nil {
			t.Errorf("%v", err)
		}
	}
}

func TestDefaults(t *testing.T) {
	s, err := ParseScenario("dir/minimal.toml", []byte(""))
	if err != nil {
		t.Fatal(err)
	}
	want := Scenario{
		Name: "minimal", Seed: 7, Duration: 12 * time.Second,
		Testnet: TestnetSpec{N: 4, Batch: 16, BatchTimeout: 2 * time.Millisecond, CheckpointInterval: 16, WatermarkWindow: 32, RequestTimeout: 500 * time.Millisecond},
		Network: NetworkSpec{MinDelay: 200 * time.Microsecond, MaxDelay: 2 * time.Millisecond},
		Load:    LoadSpec{Clients: 4, Think: 10 * time.Millisecond, Payload: 64, Mix: MixSpec{Put: 0.5, Get: 0.3, Append: 0.2}, Keys: 16},
		Expect:  ExpectSpec{Safety: true, RecoverWithin: 5 * time.Second},
		Source:  "dir/minimal.toml",
	}
	if !reflectEqual(*s, want) {
		t.Errorf("defaults:\n%+v\nwant\n%+v", *s, want)
	}
	if s.F() != 1 {
		t.Errorf("F() = %d", s.F())
	}
	if a, b := s.FaultWindow(); a != 0 || b != 0 {
		t.Errorf("FaultWindow() = %v, %v without faults", a, b)
	}
	cfg := s.Testnet.Config(2)
	if err := cfg.Validate(); err != nil || cfg.ID != 2 || cfg.MaxBatch != 16 || cfg.WatermarkWindow != 32 {
		t.Errorf("Config: %+v, %v", cfg, err)
	}
}

func TestPartialMixStartsFromZero(t *testing.T) {
	s, err := ParseScenario("mix.toml", []byte("[load]\nmix = { put = 1 }\n"))
	if err != nil {
		t.Fatal(err)
	}
	if s.Load.Mix != (MixSpec{Put: 1}) {
		t.Errorf("mix = %+v, want only puts", s.Load.Mix)
	}
}

func TestFaultWindowAndBuild(t *testing.T) {
	src := `
duration = "10s"
[[fault]]
behaviour = "replay"
nodes = [1]
from = "2s"
until = "4s"
rate = 0.5
[[fault]]
behaviour = "partition"
oneway_from = [0]
oneway_to = [2, 3]
from = "3s"
[[fault]]
behaviour = "equivocate"
nodes = [0]
from = "5s"
until = "6s"
`
	s, err := ParseScenario("w.toml", []byte(src))
	if err != nil {
		t.Fatal(err)
	}
	if a, b := s.FaultWindow(); a != 2*time.Second || b != 10*time.Second {
		t.Errorf("FaultWindow() = %v, %v; want 2s, 10s (the partition lasts to the end)", a, b)
	}
	if r := s.RecoveryStart(); r != 6*time.Second {
		t.Errorf("RecoveryStart() = %v; want 6s (the equivocation ends after the partition starts)", r)
	}
	f1, err := s.BuildFaults()
	if err != nil {
		t.Fatal(err)
	}
	f2, _ := s.BuildFaults()
	for i := range f1 {
		if f1[i].Behaviour == f2[i].Behaviour {
			t.Errorf("fault %d: BuildFaults returned the same behaviour twice", i+1)
		}
	}
	r := f1[0].Behaviour.(*Replay)
	if r.Rate != 0.5 || r.Keep != 512 || f1[0].From != 2*time.Second || f1[0].Until != 4*time.Second || !slices.Equal(f1[0].Nodes, []pbft.ReplicaID{1}) {
		t.Errorf("replay fault: %+v %+v", f1[0], r)
	}
	// State in one run's behaviour must not leak into the next.
	r.Sent = 99
	f3, _ := s.BuildFaults()
	if f3[0].Behaviour.(*Replay).Sent != 0 {
		t.Errorf("a rebuilt behaviour inherited state")
	}
	p := f1[1].Behaviour.(*Partition)
	if !slices.Equal(p.From, []pbft.ReplicaID{0}) || !slices.Equal(p.To, []pbft.ReplicaID{2, 3}) || f1[1].Nodes != nil && len(f1[1].Nodes) > 0 {
		t.Errorf("partition: %+v %+v", f1[1], p)
	}
	// The split equivocate leaves open is fixed by the seed: the same for
	// every build, other than the fault's own node, half of the rest.
	e1, e2 := f1[2].Behaviour.(*Equivocate), f2[2].Behaviour.(*Equivocate)
	if !slices.Equal(e1.Other, e2.Other) || len(e1.Other) != 2 || slices.Contains(e1.Other, 0) {
		t.Errorf("default split: %v and %v", e1.Other, e2.Other)
	}
}

// reflectEqual compares scenarios field by field (Faults may be nil or
// empty).
func reflectEqual(a, b Scenario) bool {
	if len(a.Faults) == 0 && len(b.Faults) == 0 {
		a.Faults, b.Faults = nil, nil
	}
	return a.Name == b.Name && a.Description == b.Description && a.Seed == b.Seed &&
		a.Duration == b.Duration && a.AllowBeyondF == b.AllowBeyondF && a.Testnet == b.Testnet &&
		a.Network == b.Network && a.Load == b.Load && a.Expect == b.Expect && a.Source == b.Source &&
		len(a.Faults) == len(b.Faults)
}
