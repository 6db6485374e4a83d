package bench

import (
	"bytes"
	"cmp"
	"fmt"
	"image/color"
	"math"
	"slices"
	"time"

	"gonum.org/v1/plot"
	"gonum.org/v1/plot/plotter"
	"gonum.org/v1/plot/vg"
	"gonum.org/v1/plot/vg/draw"
)

// Plot size: wide enough for a minute of samples per interval to be
// told apart, and the aspect ratio of a report column.
const (
	plotWidth  = 10 * vg.Inch
	plotHeight = 4.5 * vg.Inch
)

// lineColors are the data line colours (ColorBrewer Dark2): dark enough to
// read over the translucent fault bands.
var lineColors = []color.Color{
	color.NRGBA{R: 0x1b, G: 0x9e, B: 0x77, A: 0xff},
	color.NRGBA{R: 0x75, G: 0x70, B: 0xb3, A: 0xff},
	color.NRGBA{R: 0xd9, G: 0x5f, B: 0x02, A: 0xff},
	color.NRGBA{R: 0x1f, G: 0x78, B: 0xb4, A: 0xff},
	color.NRGBA{R: 0xe7, G: 0x29, B: 0x8a, A: 0xff},
	color.NRGBA{R: 0x66, G: 0xa6, B: 0x1e, A: 0xff},
	color.NRGBA{R: 0xa6, G: 0x76, B: 0x1d, A: 0xff},
	color.NRGBA{R: 0x33, G: 0x33, B: 0x33, A: 0xff},
}

func lineColor(i int) color.Color { return lineColors[i%len(lineColors)] }

// newPlot returns a plot with a title, axis labels and a light grid.
func newPlot(title, x, y string) *plot.Plot {
	p := plot.New()
	p.Title.Text = title
	p.Title.TextStyle.Font.Size = vg.Points(14)
	p.X.Label.Text = x
	p.Y.Label.Text = y
	p.X.Label.TextStyle.Font.Size = vg.Points(12)
	p.Y.Label.TextStyle.Font.Size = vg.Points(12)
	p.Legend.Top = true
	p.Legend.TextStyle.Font.Size = vg.Points(10)
	p.X.Tick.Marker = niceTicks{}
	p.Y.Tick.Marker = niceTicks{}
	g := plotter.NewGrid()
	g.Vertical.Color = color.Gray{Y: 0xe0}
	g.Horizontal.Color = color.Gray{Y: 0xe0}
	p.Add(g)
	return p
}

// addLine adds a polyline with a legend entry.
func addLine(p *plot.Plot, name string, xys plotter.XYs, c color.Color, width vg.Length, dashes []vg.Length) error {
	if len(xys) == 0 {
		return nil
	}
	l, err := plotter.NewLine(xys)
	if err != nil {
		return err
	}
	l.Color, l.Width, l.Dashes = c, width, dashes
	p.Add(l)
	if name != "" {
		p.Legend.Add(name, l)
	}
	return nil
}

// addSegments adds a series that may have gaps (NaN Y values, where an
// interval had no data) as separate lines, so that the plot shows the gap
// instead of a straight line across it; one legend entry.
func addSegments(p *plot.Plot, name string, xys plotter.XYs, c color.Color, width vg.Length, dashes []vg.Length) error {
	var seg plotter.XYs
	flush := func() error {
		if len(seg) == 0 {
			return nil
		}
		err := addLine(p, name, seg, c, width, dashes)
		name, seg = "", nil
		return err
	}
	for _, xy := range xys {
		if math.IsNaN(xy.Y) {
			if err := flush(); err != nil {
				return err
			}
			continue
		}
		seg = append(seg, xy)
	}
	return flush()
}

// headroom raises the y axis so that the fault labels and the legend at
// the top do not cover the data.
func headroom(p *plot.Plot, frac float64) {
	if p.Y.Max <= p.Y.Min {
		p.Y.Max = p.Y.Min + 1
	}
	p.Y.Max += (p.Y.Max - p.Y.Min) * frac
}

// timeAxis makes the x axis span the whole run, from 0 to its end, so
// that every time plot of a report has the same scale and a plot with
// data only in part of the run still shows where it lies. A plot without
// data says so in its title.
func timeAxis(p *plot.Plot, r *Result, points int) {
	p.X.Min = 0
	p.X.Max = math.Max(p.X.Max, math.Max(r.end().Seconds(), 1))
	if points == 0 {
		p.Title.Text += " (no data recorded)"
	}
}

// renderPNG draws p as a PNG.
func renderPNG(p *plot.Plot) ([]byte, error) {
	w, err := p.WriterTo(plotWidth, plotHeight, "png")
	if err != nil {
		return nil, err
	}
	var buf bytes.Buffer
	if _, err := w.WriteTo(&buf); err != nil {
		return nil, err
	}
	return buf.Bytes(), nil
}

// plotThroughput plots the cluster's committed requests per second and the
// rate at which clients saw operations complete, with the fault windows
// shaded.
func plotThroughput(r *Result) (*plot.Plot, error) {
	p := newPlot("Throughput", "time (s)", "requests / s")
	p.Add(faultBands{faults: r.Faults, end: r.end()})
	var committed plotter.XYs
	for _, b := range r.buckets() {
		committed = append(committed, plotter.XY{X: b.At.Seconds(), Y: b.Throughput})
	}
	if err := addLine(p, "committed (f+1-th fastest correct node)", committed, lineColor(3), vg.Points(2), nil); err != nil {
		return nil, err
	}
	// Every interval gets a point, zero when nothing completed, so a
	// stall shows as a drop rather than a line drawn across it.
	dt := r.interval()
	done := map[time.Duration]int{}
	for _, lp := range r.latencySeries() {
		done[lp.At] = lp.N
	}
	var completed plotter.XYs
	if len(done) > 0 {
		for at := dt; at <= r.end(); at += dt {
			completed = append(completed, plotter.XY{X: at.Seconds(), Y: float64(done[at]) / dt.Seconds()})
		}
	}
	if err := addLine(p, "completed by clients", completed, lineColor(2), vg.Points(1.25), []vg.Length{vg.Points(4), vg.Points(2)}); err != nil {
		return nil, err
	}
	p.Y.Min = 0
	timeAxis(p, r, len(committed)+len(completed))
	headroom(p, 0.3)
	return p, nil
}

// plotLatency plots p50, p95 and p99 latency per interval, on a log axis
// when the range is wide (a view change can make latency jump a hundred
// fold, which would flatten the normal case on a linear axis).
func plotLatency(r *Result) (*plot.Plot, error) {
	p := newPlot("Latency percentiles per interval", "time (s)", "latency (ms)")
	p.Add(faultBands{faults: r.Faults, end: r.end()})
	series := r.latencySeries()
	lo, hi := math.Inf(1), 0.0
	pts := make([]plotter.XYs, 3)
	dt := r.interval()
	for i, lp := range series {
		if i > 0 && lp.At-series[i-1].At > dt {
			// Intervals without completions: break the lines.
			for j := range pts {
				pts[j] = append(pts[j], plotter.XY{X: (lp.At - dt).Seconds(), Y: math.NaN()})
			}
		}
		for j, d := range []time.Duration{lp.P50, lp.P95, lp.P99} {
			ms := msOf(d)
			pts[j] = append(pts[j], plotter.XY{X: lp.At.Seconds(), Y: ms})
			lo, hi = math.Min(lo, ms), math.Max(hi, ms)
		}
	}
	names := []string{"p50", "p95", "p99"}
	widths := []vg.Length{vg.Points(2), vg.Points(1.5), vg.Points(1.5)}
	dashes := [][]vg.Length{nil, {vg.Points(5), vg.Points(2)}, {vg.Points(2), vg.Points(2)}}
	for i := range pts {
		if err := addSegments(p, names[i], pts[i], lineColor(i), widths[i], dashes[i]); err != nil {
			return nil, err
		}
	}
	timeAxis(p, r, len(series))
	if len(series) > 0 && lo > 0 && hi/lo > 20 {
		p.Y.Scale = plot.LogScale{}
		p.Y.Tick.Marker = logTicks{}
		p.Y.Label.Text = "latency (ms, log scale)"
		p.Y.Min = lo / 1.2
		p.Y.Max = hi * 3 // headroom for the labels on a log axis
	} else {
		p.Y.Min = 0
		headroom(p, 0.3)
	}
	return p, nil
}

// plotViews plots each node's view over time as a step line. Nodes that
// agree would hide each other, so each node's line is offset a little from
// the integer view (the spread stays within ±0.15 of it), and samples
// taken while a node was view-changing are marked.
func plotViews(r *Result) (*plot.Plot, error) {
	p := newPlot("View per node (lines offset slightly so that nodes in the same view stay visible)", "time (s)", "view")
	p.Add(faultBands{faults: r.Faults, end: r.end()})
	byz := r.Byzantine()
	ids := r.nodeIDs()
	offset := func(i int) float64 {
		if len(ids) < 2 {
			return 0
		}
		return 0.3 * (float64(i)/float64(len(ids)-1) - 0.5)
	}
	maxView := 0.0
	var changing plotter.XYs
	for i, id := range ids {
		var xys plotter.XYs
		for _, s := range r.Samples {
			if s.Node != id {
				continue
			}
			y := float64(s.View) + offset(i)
			xys = append(xys, plotter.XY{X: s.At.Seconds(), Y: y})
			maxView = math.Max(maxView, float64(s.View))
			if s.ViewChanging {
				changing = append(changing, plotter.XY{X: s.At.Seconds(), Y: y})
			}
		}
		if len(xys) == 0 {
			continue
		}
		sortXY(xys)
		l, err := plotter.NewLine(xys)
		if err != nil {
			return nil, err
		}
		l.StepStyle = plotter.PreStep // the view at At held over the interval before it
		l.Color, l.Width = lineColor(i), vg.Points(2)
		p.Add(l)
		name := fmt.Sprintf("n%d", id)
		if byz[id] {
			name += " (Byzantine)"
		}
		p.Legend.Add(name, l)
	}
	if len(changing) > 0 {
		sc, err := plotter.NewScatter(changing)
		if err != nil {
			return nil, err
		}
		sc.Shape, sc.Color, sc.Radius = draw.CrossGlyph{}, color.Black, vg.Points(3.5)
		p.Add(sc)
		p.Legend.Add("sample while view-changing", sc)
	}
	p.Y.Min = -0.5
	p.Y.Max = maxView + 0.5
	headroom(p, 0.3)
	timeAxis(p, r, len(r.Samples))
	p.Y.Tick.Marker = integerTicks{}
	return p, nil
}

// plotCDF plots the distribution of operation latency, on a log axis when
// the tail is long.
func plotCDF(r *Result) (*plot.Plot, error) {
	lat := r.latencies()
	sum := summarise(lat)
	p := newPlot(fmt.Sprintf("Latency CDF (%d operations; p50 %v, p99 %v)", len(lat), fmtDur(sum.P50), fmtDur(sum.P99)),
		"latency (ms)", "fraction of operations")
	var xys plotter.XYs
	// At most ~2000 points: enough for a smooth curve at this size.
	step := max(1, len(lat)/2000)
	for i := 0; i < len(lat); i += step {
		xys = append(xys, plotter.XY{X: msOf(lat[i]), Y: float64(i+1) / float64(len(lat))})
	}
	if len(lat) > 0 {
		xys = append(xys, plotter.XY{X: msOf(lat[len(lat)-1]), Y: 1})
	}
	if err := addLine(p, "", xys, lineColor(3), vg.Points(2), nil); err != nil {
		return nil, err
	}
	for i, q := range []struct {
		name string
		d    time.Duration
	}{{"p50", sum.P50}, {"p99", sum.P99}} {
		if len(lat) == 0 {
			break
		}
		x := msOf(q.d)
		if err := addLine(p, fmt.Sprintf("%s = %v", q.name, fmtDur(q.d)), plotter.XYs{{X: x, Y: 0}, {X: x, Y: 1}}, lineColor(i+1), vg.Points(1), []vg.Length{vg.Points(3), vg.Points(3)}); err != nil {
			return nil, err
		}
	}
	p.Legend.Top, p.Legend.Left = false, false
	p.Legend.YOffs = vg.Points(10)
	p.Y.Min, p.Y.Max = 0, 1.02
	if len(lat) == 0 {
		p.Title.Text = "Latency CDF (no completed operations)"
	}
	if len(lat) > 0 && lat[0] > 0 && float64(lat[len(lat)-1])/float64(lat[0]) > 50 {
		p.X.Scale = plot.LogScale{}
		p.X.Tick.Marker = logTicks{}
		p.X.Label.Text = "latency (ms, log scale)"
		p.X.Min = msOf(lat[0]) / 1.1
		p.X.Max = msOf(lat[len(lat)-1]) * 1.1
	}
	return p, nil
}

// integerTicks labels whole numbers only, for the view axis.
type integerTicks struct{}

// Ticks implements plot.Ticker.
func (integerTicks) Ticks(min, max float64) []plot.Tick {
	step := math.Max(1, math.Ceil((max-min)/8))
	var ticks []plot.Tick
	for v := math.Max(0, math.Ceil(min)); v <= max; v += step {
		ticks = append(ticks, plot.Tick{Value: v, Label: fmt.Sprint(v)})
	}
	return ticks
}

func msOf(d time.Duration) float64 { return float64(d) / float64(time.Millisecond) }

func sortXY(xys plotter.XYs) {
	slices.SortStableFunc(xys, func(a, b plotter.XY) int { return cmp.Compare(a.X, b.X) })
}

// reportPlots renders the report's plots, in report order.
func reportPlots(r *Result) ([]namedPNG, error) {
	specs := []struct {
		file, title string
		build       func(*Result) (*plot.Plot, error)
	}{
		{"throughput.png", "Throughput", plotThroughput},
		{"latency.png", "Latency percentiles", plotLatency},
		{"views.png", "Views", plotViews},
		{"latency_cdf.png", "Latency CDF", plotCDF},
	}
	var out []namedPNG
	for _, s := range specs {
		p, err := s.build(r)
		if err != nil {
			return nil, fmt.Errorf("bench: plot %s: %w", s.file, err)
		}
		png, err := renderPNG(p)
		if err != nil {
			return nil, fmt.Errorf("bench: plot %s: %w", s.file, err)
		}
		out = append(out, namedPNG{File: s.file, Title: s.title, PNG: png})
	}
	return out, nil
}

// namedPNG is a rendered plot and the file it goes to.
type namedPNG struct {
	File, Title string
	PNG         []byte
}
