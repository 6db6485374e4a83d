package bench

import (
	"cmp"
	"encoding/csv"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"time"

	"gonum.org/v1/plot"
	"gonum.org/v1/plot/plotter"
	"gonum.org/v1/plot/vg"
	"gonum.org/v1/plot/vg/draw"
)

// Files WriteSweep writes.
const (
	SweepFile           = "sweep.csv"
	SweepThroughputFile = "sweep_throughput.png"
	SweepLatencyFile    = "sweep_latency.png"
)

// SweepRow is one run of a sweep: a behaviour at one value of the swept
// parameter.
type SweepRow struct {
	// Param names the swept parameter ("n", "clients", "batch") and Value
	// is its value in this run.
	Param string  `json:"param"`
	Value float64 `json:"value"` // see Param
	// Behaviour names the fault behaviour of the run ("none" for a
	// fault-free baseline); each behaviour is one line in the plots.
	Behaviour   string        `json:"behaviour"`
	Throughput  float64       `json:"throughput_rps"`   // Cost.Throughput
	P50         time.Duration `json:"p50_ns"`           // Cost.Latency.P50
	P99         time.Duration `json:"p99_ns"`           // Cost.Latency.P99
	MsgsPerReq  float64       `json:"msgs_per_request"` // Cost.MsgsPerReq
	ViewChanges int           `json:"view_changes"`     // len(Liveness.ViewChanges)
	// OK is !Failed() of the run.
	OK bool `json:"ok"`
	// Dir is where the run's own report is, if it has one.
	Dir string `json:"dir,omitempty"`
}

// SweepRowOf summarises a checked run as a sweep row.
func SweepRowOf(param string, value float64, behaviour string, r *Result) SweepRow {
	row := SweepRow{Param: param, Value: value, Behaviour: behaviour, OK: !r.Failed()}
	if c := r.Cost; c != nil {
		row.Throughput, row.P50, row.P99, row.MsgsPerReq = c.Throughput, c.Latency.P50, c.Latency.P99, c.MsgsPerReq
	}
	if l := r.Liveness; l != nil {
		row.ViewChanges = len(l.ViewChanges)
	}
	return row
}

// WriteSweep writes a sweep's comparison into dir: sweep.csv (one row per
// run) and two plots against the swept parameter, one line per behaviour:
// throughput, and p50 (solid) and p99 (dashed) latency.
func WriteSweep(dir string, rows []SweepRow) error {
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return fmt.Errorf("bench: sweep: %w", err)
	}
	rows = slices.Clone(rows)
	slices.SortStableFunc(rows, func(a, b SweepRow) int {
		if c := cmp.Compare(a.Behaviour, b.Behaviour); c != 0 {
			return c
		}
		return cmp.Compare(a.Value, b.Value)
	})
	if err := writeFile(filepath.Join(dir, SweepFile), func(f *os.File) error { return writeSweepCSV(f, rows) }); err != nil {
		return err
	}
	param := "parameter"
	if len(rows) > 0 && rows[0].Param != "" {
		param = rows[0].Param
	}
	var values []float64
	for _, r := range rows {
		if !slices.Contains(values, r.Value) {
			values = append(values, r.Value)
		}
	}
	slices.Sort(values)
	for _, s := range []struct {
		file  string
		build func(string, []SweepRow) (*plot.Plot, error)
	}{
		{SweepThroughputFile, sweepThroughputPlot},
		{SweepLatencyFile, sweepLatencyPlot},
	} {
		p, err := s.build(param, rows)
		if err != nil {
			return fmt.Errorf("bench: sweep: %w", err)
		}
		if len(values) <= 12 {
			p.X.Tick.Marker = valueTicks(values)
		}
		png, err := renderPNG(p)
		if err != nil {
			return fmt.Errorf("bench: sweep: %w", err)
		}
		if err := os.WriteFile(filepath.Join(dir, s.file), png, 0o644); err != nil {
			return fmt.Errorf("bench: sweep: %w", err)
		}
	}
	return nil
}

func writeSweepCSV(f *os.File, rows []SweepRow) error {
	w := csv.NewWriter(f)
	w.Write([]string{"param", "value", "behaviour", "throughput_rps", "p50_ms", "p99_ms", "msgs_per_request", "view_changes", "ok", "dir"})
	ff := func(v float64) string { return strconv.FormatFloat(v, 'f', -1, 64) }
	for _, r := range rows {
		w.Write([]string{r.Param, ff(r.Value), r.Behaviour, ff(r.Throughput), ff(msOf(r.P50)), ff(msOf(r.P99)),
			ff(r.MsgsPerReq), strconv.Itoa(r.ViewChanges), strconv.FormatBool(r.OK), r.Dir})
	}
	w.Flush()
	return w.Error()
}

// byBehaviour groups rows (sorted by behaviour, then value) into lines.
func byBehaviour(rows []SweepRow) (names []string, lines map[string][]SweepRow) {
	lines = map[string][]SweepRow{}
	for _, r := range rows {
		if _, ok := lines[r.Behaviour]; !ok {
			names = append(names, r.Behaviour)
		}
		lines[r.Behaviour] = append(lines[r.Behaviour], r)
	}
	return names, lines
}

// addPoints adds a line with a glyph at each run, so single-run
// behaviours still show.
func addPoints(p *plot.Plot, name string, xys plotter.XYs, i int, dashes []vg.Length) error {
	l, s, err := plotter.NewLinePoints(xys)
	if err != nil {
		return err
	}
	l.Color, l.Width, l.Dashes = lineColor(i), vg.Points(2), dashes
	s.Color, s.Shape, s.Radius = lineColor(i), draw.CircleGlyph{}, vg.Points(3)
	p.Add(l, s)
	if name != "" {
		p.Legend.Add(name, l, s)
	}
	return nil
}

func sweepThroughputPlot(param string, rows []SweepRow) (*plot.Plot, error) {
	p := newPlot("Throughput by "+param, param, "committed requests / s")
	names, lines := byBehaviour(rows)
	for i, n := range names {
		var xys plotter.XYs
		for _, r := range lines[n] {
			xys = append(xys, plotter.XY{X: r.Value, Y: r.Throughput})
		}
		if err := addPoints(p, n, xys, i, nil); err != nil {
			return nil, err
		}
	}
	p.Y.Min = 0
	headroom(p, 0.25)
	return p, nil
}

func sweepLatencyPlot(param string, rows []SweepRow) (*plot.Plot, error) {
	p := newPlot("Latency by "+param+" (solid p50, dashed p99)", param, "latency (ms)")
	names, lines := byBehaviour(rows)
	for i, n := range names {
		var p50, p99 plotter.XYs
		for _, r := range lines[n] {
			p50 = append(p50, plotter.XY{X: r.Value, Y: msOf(r.P50)})
			p99 = append(p99, plotter.XY{X: r.Value, Y: msOf(r.P99)})
		}
		if err := addPoints(p, n+" p50", p50, i, nil); err != nil {
			return nil, err
		}
		if err := addPoints(p, n+" p99", p99, i, []vg.Length{vg.Points(6), vg.Points(3)}); err != nil {
			return nil, err
		}
	}
	p.Y.Min = 0
	headroom(p, 0.35)
	return p, nil
}
