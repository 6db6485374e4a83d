package bench

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// TestSweepNByBehaviour runs n in {4, 7} against two behaviours and checks
// the CSV and the comparison plots.
func TestSweepNByBehaviour(t *testing.T) {
	if testing.Short() {
		t.Skip("make suite runs it")
	}
	sw, err := LoadSweep("testdata/sweep-small.toml")
	if err != nil {
		t.Fatal(err)
	}
	dir := t.TempDir()
	rows, err := RunSweep(sw, dir, nil)
	if err != nil {
		t.Fatal(err)
	}
	if len(rows) != 4 {
		t.Fatalf("%d rows, want 4", len(rows))
	}
	for _, r := range rows {
		if !r.OK || r.Throughput <= 0 {
			t.Errorf("run %s=%v %s: ok=%v throughput %v", r.Param, r.Value, r.Behaviour, r.OK, r.Throughput)
		}
	}
	csv, err := os.ReadFile(filepath.Join(dir, SweepFile))
	if err != nil {
		t.Fatal(err)
	}
	if lines := strings.Count(string(csv), "\n"); lines != 5 {
		t.Errorf("sweep.csv has %d lines, want a header and 4 rows:\n%s", lines, csv)
	}
	for _, f := range []string{SweepThroughputFile, SweepLatencyFile} {
		if st, err := os.Stat(filepath.Join(dir, f)); err != nil || st.Size() == 0 {
			t.Errorf("%s: %v", f, err)
		}
	}
}

func TestBadSweepFiles(t *testing.T) {
	dir := t.TempDir()
	for name, body := range map[string]string{
		"unknown field":     "scenario = \"x.toml\"\nparam = \"n\"\nvalues = [4]\nvalue = 3\n[[behaviour]]\nname = \"none\"\n",
		"unknown param":     "scenario = \"x.toml\"\nparam = \"color\"\nvalues = [4]\n[[behaviour]]\nname = \"none\"\n",
		"unknown behaviour": "scenario = \"x.toml\"\nparam = \"n\"\nvalues = [4]\n[[behaviour]]\nname = \"nap\"\n",
		"no values":         "scenario = \"x.toml\"\nparam = \"n\"\nvalues = []\n[[behaviour]]\nname = \"none\"\n",
		"syntax":            "scenario = \"x.toml\nparam = \"n\"\n",
	} {
		path := filepath.Join(dir, strings.ReplaceAll(name, " ", "-")+".toml")
		if err := os.WriteFile(path, []byte(body), 0o644); err != nil {
			t.Fatal(err)
		}
		if _, err := LoadSweep(path); err == nil {
			t.Errorf("%s: accepted", name)
		} else {
			t.Logf("%s: %v", name, err)
		}
	}
}
