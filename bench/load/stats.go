package load

import (
	"slices"
	"time"
)

// sample is what every operation leaves for the statistics, whether or
// not its record fits in the history.
type sample struct {
	end     time.Duration
	latency time.Duration
	ok      bool
}

// summarize computes the latency distribution of the committed samples.
func summarize(samples []sample) Latency {
	lat := make([]time.Duration, 0, len(samples))
	for _, s := range samples {
		if s.ok {
			lat = append(lat, s.latency)
		}
	}
	return summarizeLatencies(lat)
}

// summarizeLatencies sorts lat and summarizes it.
func summarizeLatencies(lat []time.Duration) Latency {
	if len(lat) == 0 {
		return Latency{}
	}
	slices.Sort(lat)
	var sum time.Duration
	for _, l := range lat {
		sum += l
	}
	return Latency{
		Count: len(lat),
		Mean:  sum / time.Duration(len(lat)),
		Min:   lat[0],
		P50:   quantile(lat, 0.50),
		P90:   quantile(lat, 0.90),
		P95:   quantile(lat, 0.95),
		P99:   quantile(lat, 0.99),
		P999:  quantile(lat, 0.999),
		Max:   lat[len(lat)-1],
	}
}

// quantile returns the q-quantile of sorted (nearest rank: the smallest
// value with at least q of the values at or below it).
func quantile(sorted []time.Duration, q float64) time.Duration {
	if len(sorted) == 0 {
		return 0
	}
	rank := int(q*float64(len(sorted)) + 0.999999999)
	rank = min(max(rank, 1), len(sorted))
	return sorted[rank-1]
}

// timeline buckets the samples by the second they ended in.
func timeline(samples []sample) []Second {
	var last time.Duration
	for _, s := range samples {
		last = max(last, s.end)
	}
	if len(samples) == 0 {
		return nil
	}
	secs := make([]Second, int(last/time.Second)+1)
	lats := make([][]time.Duration, len(secs))
	for i := range secs {
		secs[i].At = i
	}
	for _, s := range samples {
		i := int(max(s.end, 0) / time.Second)
		if s.ok {
			secs[i].Committed++
			lats[i] = append(lats[i], s.latency)
		} else {
			secs[i].Errors++
		}
	}
	for i, l := range lats {
		if len(l) > 0 {
			slices.Sort(l)
			secs[i].P50, secs[i].P99 = quantile(l, 0.5), quantile(l, 0.99)
		}
	}
	return secs
}
