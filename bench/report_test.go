package bench

import (
	"bytes"
	"encoding/csv"
	"image/png"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
)

// reportDir returns a temporary folder, or a subfolder of -bench.keep.
func reportDir(t *testing.T, name string) string {
	if *keep != "" {
		return filepath.Join(*keep, name)
	}
	return t.TempDir()
}

func TestWriteReportSynthetic(t *testing.T) {
	r := synthetic(t)
	dir := reportDir(t, "synthetic")
	if err := WriteReport(dir, r); err != nil {
		t.Fatal(err)
	}
	if r.Verdicts == nil || r.Cost == nil || r.Liveness == nil || r.Detection == nil {
		t.Fatal("WriteReport did not check the result")
	}
	for _, f := range []string{ResultFile, TimeseriesFile, ReportFile, "throughput.png", "latency.png", "views.png", "latency_cdf.png"} {
		if fi, err := os.Stat(filepath.Join(dir, f)); err != nil || fi.Size() == 0 {
			t.Errorf("%s: %v", f, err)
		}
	}
	if _, err := os.Stat(filepath.Join(dir, LinearizabilityFile)); err == nil {
		t.Error("linearizability.html written for a linearizable history")
	}

	// The PNGs decode and have the intended size.
	for _, f := range []string{"throughput.png", "latency.png", "views.png", "latency_cdf.png"} {
		b, err := os.ReadFile(filepath.Join(dir, f))
		if err != nil {
			t.Fatal(err)
		}
		img, err := png.Decode(bytes.NewReader(b))
		if err != nil {
			t.Fatalf("%s: %v", f, err)
		}
		if sz := img.Bounds().Size(); sz.X < 800 || sz.X > 2000 || sz.Y < 350 || sz.Y > 1200 {
			t.Errorf("%s: %v", f, sz)
		}
	}

	// timeseries.csv: a header and one row per sample, in time order.
	fh, err := os.Open(filepath.Join(dir, TimeseriesFile))
	if err != nil {
		t.Fatal(err)
	}
	defer fh.Close()
	rows, err := csv.NewReader(fh).ReadAll()
	if err != nil {
		t.Fatal(err)
	}
	if strings.Join(rows[0], ",") != strings.Join(timeseriesHeader, ",") {
		t.Errorf("header %v", rows[0])
	}
	// 4 nodes × 60 intervals, less the 10 n3 was down.
	if len(rows)-1 != len(r.Samples) || len(r.Samples) != 4*60-10 {
		t.Errorf("%d rows for %d samples", len(rows)-1, len(r.Samples))
	}
	if rows[1][0] != "1" || rows[len(rows)-1][0] != "60" {
		t.Errorf("first %v last %v", rows[1], rows[len(rows)-1])
	}

	// result.json round-trips.
	back, err := ReadResult(filepath.Join(dir, ResultFile))
	if err != nil {
		t.Fatal(err)
	}
	if len(back.History) != len(r.History) || len(back.Verdicts) != len(r.Verdicts) || back.Logs[0].Entries[5].Digest != r.Logs[0].Entries[5].Digest {
		t.Error("result.json does not round-trip")
	}
	if back.Cost.Latency != r.Cost.Latency || *back.Liveness.Faults[0].Recovered != *r.Liveness.Faults[0].Recovered {
		t.Error("measurements do not round-trip")
	}

	// report.html: verdicts, tables, the four embedded plots, the
	// scenario text, nothing fetched from elsewhere.
	b, err := os.ReadFile(filepath.Join(dir, ReportFile))
	if err != nil {
		t.Fatal(err)
	}
	page := string(b)
	for _, want := range []string{
		"synthetic-crash-and-equivocation", "OK: every verdict", "<td>agreement</td>", "<td>linearizability</td>",
		`class="good"`, "PASS", "Failure detection", "crash-recover n3", "Liveness", "equivocate n0",
		"faults:\n  - crash-recover n3 15s-25s", "p50",
	} {
		if !strings.Contains(page, want) {
			t.Errorf("report.html lacks %q", want)
		}
	}
	if n := strings.Count(page, `src="data:image/png;base64,`); n != 4 {
		t.Errorf("%d embedded images, want 4", n)
	}
	if regexp.MustCompile(`(src|href)="(https?:)?//`).MatchString(page) {
		t.Error("report.html refers to external assets")
	}
	if strings.Contains(page, "ZgotmplZ") {
		t.Error("html/template rejected a value")
	}
}

func TestWriteReportFailure(t *testing.T) {
	// A fork and stale reads: red verdicts, the linearizability
	// visualisation written and linked.
	r := synthetic(t)
	r.Logs[2].Entries[61] = entry(62, "forged batch")
	svc := newReplicatedKV(true)
	r.History = workload(t, svc, 300)
	dir := reportDir(t, "failure")
	if err := WriteReport(dir, r); err != nil {
		t.Fatal(err)
	}
	if !r.Failed() {
		t.Fatal("not failed")
	}
	if _, err := os.Stat(filepath.Join(dir, LinearizabilityFile)); err != nil {
		t.Fatal(err)
	}
	b, _ := os.ReadFile(filepath.Join(dir, ReportFile))
	page := string(b)
	for _, want := range []string{"FAIL: at least one verdict", `class="bad"`, "seq 62: replicas", `href="linearizability.html"`} {
		if !strings.Contains(page, want) {
			t.Errorf("report.html lacks %q", want)
		}
	}
	sum := Summary(r)
	if !regexp.MustCompile(`(?m)^FAIL: agreement, .*linearizability`).MatchString(sum) {
		t.Errorf("summary:\n%s", sum)
	}
}

func TestSummary(t *testing.T) {
	r := synthetic(t)
	sum := Summary(r)
	if r.Verdicts != nil {
		t.Error("Summary changed its argument")
	}
	t.Logf("\n%s", sum)
	for _, want := range []string{
		"synthetic-crash-and-equivocation  (sim, seed 1, n=4 f=1, 1m0s)",
		"agreement", "PASS", "throughput", "req/s", "latency", "p50", "p99",
		"views            1 view change (", "recovery", "crash-recover n3 [15s–25s]", "within 5s",
		"detection", "n3 suspected by 3/3", "OK: every verdict as expected",
	} {
		if !strings.Contains(sum, want) {
			t.Errorf("summary lacks %q", want)
		}
	}
	// Verdict columns line up: the status starts in the same column on
	// every verdict line.
	col := -1
	for _, line := range strings.Split(sum, "\n") {
		if i := strings.Index(line, "PASS"); i > 0 && strings.HasPrefix(line, "  ") && col < 0 {
			col = i
		} else if i > 0 && strings.HasPrefix(line, "  ") && i != col && strings.Contains(line, "  PASS  ") {
			t.Errorf("misaligned: %q", line)
		}
	}
}

func TestWriteReportEmptyResult(t *testing.T) {
	// A run that recorded nothing still gets a report, not a crash.
	r := &Result{Scenario: Scenario{Name: "empty", Mode: ModeTestnet, N: 4}}
	dir := reportDir(t, "empty")
	if err := WriteReport(dir, r); err != nil {
		t.Fatal(err)
	}
	if !r.Failed() {
		t.Error("a run that committed nothing passed liveness")
	}
}
