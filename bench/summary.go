package bench

import (
	"fmt"
	"slices"
	"strings"
	"text/tabwriter"
	"time"
)

// Summary returns the terminal summary of r: one aligned line per verdict,
// then throughput, latency, cost, view changes, recovery and detection,
// and the overall outcome. An unchecked r is checked on a copy (nothing is
// written), so r is left as it was.
func Summary(r *Result) string {
	if !r.checked() {
		c := *r
		Check(&c, CheckOptions{})
		r = &c
	}
	var b strings.Builder
	s := r.Scenario
	fmt.Fprintf(&b, "%s  (%s, seed %d, n=%d f=%d, %v)\n", s.Name, s.Mode, s.Seed, s.N, r.f(), fmtDur(r.end()))
	tw := tabwriter.NewWriter(&b, 0, 0, 2, ' ', 0)
	for _, v := range r.Verdicts {
		fmt.Fprintf(tw, "  %s\t%s\t%s\n", v.Name, v.Status(), v.Summary)
	}
	// One tabwriter for both blocks, so that the metric labels line up
	// with the checker names.
	if c := r.Cost; c != nil {
		fmt.Fprintf(tw, "  throughput\t%.1f req/s committed (%d requests); %d ops completed, %d outstanding at the end\n",
			c.Throughput, c.CommittedRequests, c.Completed, c.Incomplete)
		fmt.Fprintf(tw, "  latency\tp50 %v  p95 %v  p99 %v  max %v\n",
			fmtDur(c.Latency.P50), fmtDur(c.Latency.P95), fmtDur(c.Latency.P99), fmtDur(c.Latency.Max))
		fmt.Fprintf(tw, "  cost\t%.1f msgs/req  %s/req sent\n", c.MsgsPerReq, fmtBytes(c.BytesPerReq))
	}
	if l := r.Liveness; l != nil {
		fmt.Fprintf(tw, "  views\t%s (%v in total), max view %d\n", plural(len(l.ViewChanges), "view change"), fmtDur(l.ViewChangeTime), l.MaxView)
		for _, fr := range l.Faults {
			fmt.Fprintf(tw, "  recovery\t%s\n", recoveryLine(fr, l.RecoverWithin))
		}
	}
	if d := r.Detection; d != nil {
		for _, line := range detectionLines(d) {
			fmt.Fprintf(tw, "  detection\t%s\n", line)
		}
	}
	tw.Flush()
	if r.Failed() {
		var bad []string
		for _, v := range r.Verdicts {
			if !v.OK() {
				bad = append(bad, v.Name)
			}
		}
		fmt.Fprintf(&b, "FAIL: %s\n", strings.Join(bad, ", "))
	} else {
		b.WriteString("OK: every verdict as expected\n")
	}
	return b.String()
}

// recoveryLine describes one fault's effect in a line.
func recoveryLine(fr FaultRecovery, within time.Duration) string {
	s := fmt.Sprintf("%s [%v–%v]: %.0f req/s before, %.0f during", fr.Label, fmtDur(fr.From), fmtDur(fr.Until), fr.Baseline, fr.During)
	if !fr.Ends {
		return s + "; lasts to the end"
	}
	s += fmt.Sprintf("; next commit %s, %.0f%% throughput %s", after(fr.NextCommit), 100*RecoveryFraction, after(fr.Recovered))
	if fr.Met != nil {
		if *fr.Met {
			s += fmt.Sprintf(" (within %v)", fmtDur(within))
		} else {
			s += fmt.Sprintf(" (NOT within %v)", fmtDur(within))
		}
	}
	if fr.Note != "" {
		s += "; " + fr.Note
	}
	return s
}

// after formats an optional time after an event: "+1.2s", or "never".
func after(d *time.Duration) string {
	if d == nil {
		return "never"
	}
	return "+" + fmtDur(*d)
}

// plural returns "1 view change" or "2 view changes".
func plural(n int, what string) string {
	if n == 1 {
		return fmt.Sprintf("1 %s", what)
	}
	return fmt.Sprintf("%d %ss", n, what)
}

// detectionLines summarises the detector per fault and suspect: how many
// correct observers suspected it and the median time they took.
func detectionLines(d *Detection) []string {
	type key struct {
		fault   int
		suspect uint32
	}
	var order []key
	groups := map[key][]Suspicion{}
	for _, s := range d.Suspicions {
		k := key{s.Fault, uint32(s.Suspect)}
		if _, ok := groups[k]; !ok {
			order = append(order, k)
		}
		groups[k] = append(groups[k], s)
	}
	var out []string
	for _, k := range order {
		g := groups[k]
		var after []time.Duration
		for _, s := range g {
			if s.Detected {
				after = append(after, s.After)
			}
		}
		slices.Sort(after)
		line := fmt.Sprintf("%s: n%d suspected by %d/%d correct observers", g[0].Label, k.suspect, len(after), len(g))
		if len(after) > 0 {
			line += fmt.Sprintf(", median +%v after the fault began", fmtDur(percentile(after, 0.5)))
		}
		out = append(out, line)
	}
	if n := len(d.FalseSuspicions); n > 0 {
		total := 0
		for _, f := range d.FalseSuspicions {
			total += f.Count
		}
		out = append(out, fmt.Sprintf("%d false suspicions over %d observer–peer pairs", total, n))
	}
	return out
}
