package bench

import (
	"math"
	"strconv"

	"gonum.org/v1/plot"
)

// logTicks labels a log axis at 1, 2 and 5 times each power of ten.
// plot.LogTicks labels only powers of ten, which leaves a latency axis
// spanning, say, 3–40 ms with a single label.
type logTicks struct{}

// Ticks implements plot.Ticker.
func (logTicks) Ticks(min, max float64) []plot.Tick {
	if min <= 0 || max <= min {
		return plot.DefaultTicks{}.Ticks(min, max)
	}
	var ticks []plot.Tick
	for e := math.Floor(math.Log10(min)); e <= math.Ceil(math.Log10(max)); e++ {
		p := math.Pow(10, e)
		for m := 1.0; m < 10; m++ {
			v := m * p
			if v < min*(1-1e-9) || v > max*(1+1e-9) {
				continue
			}
			t := plot.Tick{Value: v}
			if m == 1 || m == 2 || m == 5 {
				t.Label = strconv.FormatFloat(v, 'g', 4, 64)
			}
			ticks = append(ticks, t)
		}
	}
	labelled := 0
	for _, t := range ticks {
		if t.Label != "" {
			labelled++
		}
	}
	if labelled < 2 {
		return plot.DefaultTicks{}.Ticks(min, max)
	}
	return ticks
}

// niceTicks labels a linear axis at 1, 2 or 5 times a power of ten, about
// six labels across the range, with minor ticks between them and no more
// decimals than the step needs. plot.DefaultTicks labels as few as two
// ticks ("0.00", "250.00"), which makes values hard to read off.
type niceTicks struct{}

// Ticks implements plot.Ticker.
func (niceTicks) Ticks(min, max float64) []plot.Tick {
	if !(max > min) || math.IsInf(max-min, 0) {
		return plot.DefaultTicks{}.Ticks(min, max)
	}
	raw := (max - min) / 6
	p := math.Pow(10, math.Floor(math.Log10(raw)))
	// The 1-2-5 step nearest (in ratio) to the raw step.
	step := p
	for _, m := range []float64{2, 5, 10} {
		if math.Abs(math.Log(m*p/raw)) < math.Abs(math.Log(step/raw)) {
			step = m * p
		}
	}
	prec := max0(-int(math.Floor(math.Log10(step))))
	minor := step / 5
	if step/p == 2 {
		minor = step / 4
	}
	var ticks []plot.Tick
	for i := math.Ceil(min / minor); i*minor <= max+minor*1e-9; i++ {
		v := i * minor
		t := plot.Tick{Value: v}
		if r := math.Round(v / step); math.Abs(v/step-r) < 1e-6 {
			t.Label = strconv.FormatFloat(r*step, 'f', prec, 64)
		}
		ticks = append(ticks, t)
	}
	return ticks
}

func max0(v int) int {
	if v < 0 {
		return 0
	}
	return v
}

// valueTicks labels exactly the given values (the swept parameter's
// values), so a sweep over n = 4, 7, 10, 13 is labelled 4, 7, 10, 13
// rather than 4, 6, 8, 10, 12.
type valueTicks []float64

// Ticks implements plot.Ticker.
func (v valueTicks) Ticks(min, max float64) []plot.Tick {
	var ticks []plot.Tick
	for _, x := range v {
		if x >= min && x <= max {
			ticks = append(ticks, plot.Tick{Value: x, Label: strconv.FormatFloat(x, 'g', 6, 64)})
		}
	}
	return ticks
}
