package bench

import (
	"image/color"
	"math"
	"time"

	"gonum.org/v1/plot"
	"gonum.org/v1/plot/vg"
	"gonum.org/v1/plot/vg/draw"
)

// faultColors are the band colours of successive fault windows: distinct
// hues that stay readable when translucent and do not clash with the data
// lines (which use the darker palette in plot.go).
var faultColors = []color.NRGBA{
	{R: 0xe4, G: 0x1a, B: 0x1c, A: 0xff}, // red
	{R: 0xff, G: 0x7f, B: 0x00, A: 0xff}, // orange
	{R: 0x98, G: 0x4e, B: 0xa3, A: 0xff}, // purple
	{R: 0xa6, G: 0x56, B: 0x28, A: 0xff}, // brown
	{R: 0xf7, G: 0x81, B: 0xbf, A: 0xff}, // pink
}

// faultBands is a plotter that shades each fault window across the full
// height of the plot, with its label at the top of the band. Added before
// the data, it sits behind the lines.
type faultBands struct {
	faults []FaultWindow
	end    time.Duration // run end, for windows that last to it
}

// Plot implements plot.Plotter.
func (b faultBands) Plot(c draw.Canvas, plt *plot.Plot) {
	trX, _ := plt.Transforms(&c)
	sty := plt.Legend.TextStyle
	sty.Font.Size = vg.Points(9)
	sty.XAlign, sty.YAlign = draw.XLeft, draw.YTop
	lineH := sty.Font.Size * 1.25
	for i, f := range b.faults {
		x0 := clampLen(trX(f.From.Seconds()), c.Min.X, c.Max.X)
		x1 := clampLen(trX(f.End(b.end).Seconds()), c.Min.X, c.Max.X)
		if x1 <= x0 {
			continue
		}
		fill := faultColors[i%len(faultColors)]
		band := fill
		band.A = 0x38
		c.FillPolygon(band, []vg.Point{
			{X: x0, Y: c.Min.Y}, {X: x1, Y: c.Min.Y},
			{X: x1, Y: c.Max.Y}, {X: x0, Y: c.Max.Y},
		})
		// Edges make adjacent or overlapping windows distinguishable.
		edge := draw.LineStyle{Color: color.NRGBA{R: fill.R, G: fill.G, B: fill.B, A: 0x90}, Width: vg.Points(0.75)}
		c.StrokeLine2(edge, x0, c.Min.Y, x0, c.Max.Y)
		c.StrokeLine2(edge, x1, c.Min.Y, x1, c.Max.Y)
		// Labels of overlapping windows go on successive rows.
		sty.Color = color.NRGBA{R: fill.R * 3 / 4, G: fill.G * 3 / 4, B: fill.B * 3 / 4, A: 0xff}
		row := vg.Length(i % 3)
		c.FillText(sty, vg.Point{X: x0 + vg.Points(3), Y: c.Max.Y - vg.Points(3) - row*lineH}, f.Label())
	}
}

// DataRange implements plot.DataRanger: the bands widen the x axis to the
// windows and leave the y axis to the data (infinite bounds are ignored
// by the min/max merge in plot.Add).
func (b faultBands) DataRange() (xmin, xmax, ymin, ymax float64) {
	xmin, xmax = math.Inf(1), math.Inf(-1)
	for _, f := range b.faults {
		xmin = math.Min(xmin, f.From.Seconds())
		xmax = math.Max(xmax, f.End(b.end).Seconds())
	}
	return xmin, xmax, math.Inf(1), math.Inf(-1)
}

func clampLen(v, lo, hi vg.Length) vg.Length {
	return max(lo, min(hi, v))
}
