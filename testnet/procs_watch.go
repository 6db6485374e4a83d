package testnet

import (
	"fmt"
	"slices"
	"strings"
	"time"
)

// StatusLiner turns successive status reports into one-line summaries for
// `bftbed testnet up --foreground`:
//
//	[   12s] view 0 | executed n0=1234 n1=1234 n2=down n3=1230 | healthy 3/4 | 312 req/s
//
// It remembers the previous report to compute the request rate.
type StatusLiner struct {
	prevAt        time.Time
	prevCommitted uint64
}

// Line summarizes reports taken at time at, elapsed after the start.
func (l *StatusLiner) Line(at time.Time, elapsed time.Duration, reports []NodeReport) string {
	var (
		views     []uint64
		changing  bool
		healthy   int
		committed uint64
		nodes     []string
	)
	for _, r := range reports {
		st := r.Status
		if st == nil {
			nodes = append(nodes, fmt.Sprintf("n%d=down", r.ID))
			continue
		}
		if !slices.Contains(views, st.View) {
			views = append(views, st.View)
		}
		changing = changing || st.ViewChanging
		if st.Healthy {
			healthy++
		}
		committed = max(committed, st.CommittedRequests)
		nodes = append(nodes, fmt.Sprintf("n%d=%d", r.ID, st.LastExecuted))
	}
	slices.Sort(views)
	var view string
	switch {
	case len(views) == 0:
		view = "view ?"
	default:
		parts := make([]string, len(views))
		for i, v := range views {
			parts[i] = fmt.Sprint(v)
		}
		view = "view " + strings.Join(parts, ",")
	}
	if changing {
		view += " (changing)"
	}
	rate := "- req/s"
	if !l.prevAt.IsZero() && at.After(l.prevAt) && committed >= l.prevCommitted {
		rate = fmt.Sprintf("%.0f req/s", float64(committed-l.prevCommitted)/at.Sub(l.prevAt).Seconds())
	}
	if len(views) > 0 {
		l.prevAt, l.prevCommitted = at, committed
	}
	return fmt.Sprintf("[%6s] %s | executed %s | healthy %d/%d | %s",
		elapsed.Round(time.Second), view, strings.Join(nodes, " "), healthy, len(reports), rate)
}
