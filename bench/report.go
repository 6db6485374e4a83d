package bench

import (
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
)

// Files WriteReport writes into the report folder (plus the plots, and
// LinearizabilityFile on a linearizability violation).
const (
	ResultFile     = "result.json"
	TimeseriesFile = "timeseries.csv"
	ReportFile     = "report.html"
)

// WriteReport writes the report of r into dir (created if needed):
// result.json, timeseries.csv, one PNG per plot, and report.html, a single
// self-contained page embedding the plots. If r has not been checked yet
// it is checked first (with CheckOptions{Dir: dir}), so r gains its
// verdicts and measurements.
func WriteReport(dir string, r *Result) error {
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return fmt.Errorf("bench: report: %w", err)
	}
	if !r.checked() {
		Check(r, CheckOptions{Dir: dir})
	}
	if err := writeJSON(filepath.Join(dir, ResultFile), r); err != nil {
		return err
	}
	if err := writeFile(filepath.Join(dir, TimeseriesFile), func(f *os.File) error { return writeTimeseries(f, r) }); err != nil {
		return err
	}
	plots, err := reportPlots(r)
	if err != nil {
		return err
	}
	for _, p := range plots {
		if err := os.WriteFile(filepath.Join(dir, p.File), p.PNG, 0o644); err != nil {
			return fmt.Errorf("bench: report: %w", err)
		}
	}
	_, statErr := os.Stat(filepath.Join(dir, LinearizabilityFile))
	return writeFile(filepath.Join(dir, ReportFile), func(f *os.File) error {
		return writeHTML(f, r, plots, statErr == nil)
	})
}

// writeJSON writes v indented, so that result.json diffs and greps well.
func writeJSON(path string, v any) error {
	return writeFile(path, func(f *os.File) error {
		enc := json.NewEncoder(f)
		enc.SetIndent("", "  ")
		return enc.Encode(v)
	})
}

// ReadResult reads a result.json written by WriteReport, so that a run can
// be re-checked or re-reported later.
func ReadResult(path string) (*Result, error) {
	b, err := os.ReadFile(path)
	if err != nil {
		return nil, err
	}
	var r Result
	if err := json.Unmarshal(b, &r); err != nil {
		return nil, fmt.Errorf("bench: %s: %w", path, err)
	}
	return &r, nil
}

// writeFile creates path, lets write fill it, and reports the first error,
// including the one from Close (which is where a full disk shows up).
func writeFile(path string, write func(*os.File) error) error {
	f, err := os.Create(path)
	if err != nil {
		return fmt.Errorf("bench: report: %w", err)
	}
	if err := write(f); err != nil {
		f.Close()
		return fmt.Errorf("bench: report: %s: %w", filepath.Base(path), err)
	}
	if err := f.Close(); err != nil {
		return fmt.Errorf("bench: report: %w", err)
	}
	return nil
}
