package bench

import (
	"path/filepath"
	"reflect"
	"strings"
	"testing"

	"github.com/bftbed/bftbed/adversary"
)

// TestStandardSuiteUnderSim runs every scenario of bench/scenarios in the
// simulator with its own seed: those within f pass every checker; the
// beyond-f fork is caught by the agreement checker with the sequence
// number, the replicas and both digests.
func TestStandardSuiteUnderSim(t *testing.T) {
	if testing.Short() {
		t.Skip("make suite runs it")
	}
	files, err := filepath.Glob("scenarios/*.toml")
	if err != nil || len(files) == 0 {
		t.Fatalf("no scenarios: %v", err)
	}
	for _, path := range files {
		t.Run(filepath.Base(path), func(t *testing.T) {
			sc, err := adversary.LoadScenario(path)
			if err != nil {
				t.Fatal(err)
			}
			res, err := RunSim(sc, sc.Seed, t.TempDir(), nil)
			if err != nil {
				t.Fatal(err)
			}
			if res.Failed() {
				t.Fatalf("verdicts not as expected:\n%s", Summary(res))
			}
			if !res.Expect.ViolatesSafety {
				if v := res.SafetyViolated(); len(v) > 0 {
					t.Fatalf("safety violated within f: %v\n%s", v, Summary(res))
				}
				return
			}
			v, _ := res.Verdict(CheckAgreement)
			if v.Pass || len(v.Details) == 0 || !strings.Contains(v.Details[0], "seq ") || !strings.Contains(v.Details[0], "replica 2") || !strings.Contains(v.Details[0], "replica 3") {
				t.Fatalf("the fork is not reported with its sequence number, replicas and digests: %+v", v)
			}
		})
	}
}

// TestScenarioReplaysExactly runs one scenario twice with one seed: the
// histories, samples and logs are identical.
func TestScenarioReplaysExactly(t *testing.T) {
	sc, err := adversary.LoadScenario("scenarios/default.toml")
	if err != nil {
		t.Fatal(err)
	}
	a, err := RunSim(sc, 11, t.TempDir(), nil)
	if err != nil {
		t.Fatal(err)
	}
	b, err := RunSim(sc, 11, t.TempDir(), nil)
	if err != nil {
		t.Fatal(err)
	}
	if !reflect.DeepEqual(a.History, b.History) || !reflect.DeepEqual(a.Samples, b.Samples) || !reflect.DeepEqual(a.Logs, b.Logs) {
		t.Fatal("two runs of one scenario and seed differ")
	}
}
