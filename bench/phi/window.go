package phi

import "math"

// window is a bounded ring of inter-arrival intervals (in nanoseconds) with
// running sums, so that mean and deviation cost O(1) per heartbeat.
type window struct {
	vals       []float64
	next, size int
	sum, sumSq float64
}

func newWindow(max int) window {
	return window{vals: make([]float64, max)}
}

// add appends v, evicting the oldest value when the window is full.
func (w *window) add(v float64) {
	if w.size == len(w.vals) {
		old := w.vals[w.next]
		w.sum -= old
		w.sumSq -= old * old
	} else {
		w.size++
	}
	w.vals[w.next] = v
	w.next = (w.next + 1) % len(w.vals)
	w.sum += v
	w.sumSq += v * v
}

func (w *window) mean() float64 {
	if w.size == 0 {
		return 0
	}
	return w.sum / float64(w.size)
}

// stdDev is the population standard deviation, as in Akka. Rounding in the
// running sums can make the variance slightly negative; it is clamped.
func (w *window) stdDev() float64 {
	if w.size == 0 {
		return 0
	}
	m := w.mean()
	return math.Sqrt(math.Max(0, w.sumSq/float64(w.size)-m*m))
}
