package bench

import (
	"cmp"
	"fmt"
	"slices"
	"time"

	"github.com/bftbed/bftbed/pbft"
)

// RecoveryFraction is the share of its pre-fault throughput the cluster
// must reach again to count as recovered.
const RecoveryFraction = 0.9

// baselineIntervals is how many fault-free intervals before a fault its
// baseline throughput averages: recent enough to reflect the load at the
// time, long enough to smooth batching noise.
const baselineIntervals = 10

// Liveness is what the faults did to progress. Times are measured at
// sampling resolution (Result.SampleInterval) except NextCommit, which
// comes from the client history when there is one.
type Liveness struct {
	Faults []FaultRecovery `json:"faults"` // one per Result.Faults, same order
	// ViewChanges are the cluster's view changes, in order.
	ViewChanges []ViewChange `json:"view_changes"`
	// ViewChangeTime is the summed duration of ViewChanges.
	ViewChangeTime time.Duration `json:"view_change_time_ns"`
	// MaxView is the highest view a correct node reached.
	MaxView pbft.View `json:"max_view"`
	// RecoverWithin is the scenario's bound (0: none).
	RecoverWithin time.Duration `json:"recover_within_ns,omitempty"`
}

// FaultRecovery is the effect of one fault window.
type FaultRecovery struct {
	// Fault indexes Result.Faults; Label describes it.
	Fault int           `json:"fault"`
	Label string        `json:"label"`    // FaultWindow.Label
	From  time.Duration `json:"from_ns"`  // start of the window
	Until time.Duration `json:"until_ns"` // end of the window (the run's end if it lasts to it)
	// Ends is false for a fault that lasts to the end of the run: it has
	// no recovery to measure.
	Ends bool `json:"ends"`
	// Baseline is the mean throughput (requests/s) over the fault-free
	// intervals just before the fault; During is the mean over the
	// intervals inside it.
	Baseline float64 `json:"baseline_rps"`
	During   float64 `json:"during_rps"`
	// NextCommit is the time from the end of the fault to the first
	// operation completed (or request committed) after it; nil if none.
	NextCommit *time.Duration `json:"next_commit_ns,omitempty"`
	// Recovered is the time from the end of the fault to the end of the
	// first interval whose throughput is at least RecoveryFraction of
	// Baseline; nil if that never happened (or there was no baseline).
	Recovered *time.Duration `json:"recovered_ns,omitempty"`
	// Met says whether Recovered is within Expect.RecoverWithin; nil when
	// there is no bound or the fault does not end.
	Met *bool `json:"met,omitempty"`
	// Note explains a missing number.
	Note string `json:"note,omitempty"`
}

// ViewChange is a period during which the cluster changed views: at
// least f+1 correct nodes were view-changing (fewer cannot move the
// cluster to a new view), or the view that f+1 correct nodes had reached
// went up between two samples. It began after Start and was over by End.
type ViewChange struct {
	Start    time.Duration `json:"start_ns"`  // last sample before it was seen
	End      time.Duration `json:"end_ns"`    // first sample after it was over
	FromView pbft.View     `json:"from_view"` // the cluster's view before
	ToView   pbft.View     `json:"to_view"`   // and after
	// Completed is false when the run ended during the change.
	Completed bool `json:"completed"`
}

// Duration returns End - Start.
func (v ViewChange) Duration() time.Duration { return v.End - v.Start }

// MeasureLiveness measures, from the samples and the history, how each
// fault window affected progress and how the cluster changed views.
func MeasureLiveness(r *Result) *Liveness {
	bs := r.buckets()
	l := &Liveness{RecoverWithin: r.Expect.RecoverWithin, ViewChanges: viewChanges(r, bs)}
	for _, v := range l.ViewChanges {
		l.ViewChangeTime += v.Duration()
	}
	for _, b := range bs {
		for _, s := range b.Samples {
			l.MaxView = max(l.MaxView, s.View)
		}
	}
	for i, f := range r.Faults {
		l.Faults = append(l.Faults, recovery(r, bs, i, f))
	}
	return l
}

// recovery measures one fault window.
func recovery(r *Result, bs []bucket, i int, f FaultWindow) FaultRecovery {
	dt := r.interval()
	end := r.end()
	fr := FaultRecovery{Fault: i, Label: f.Label(), From: f.From, Until: f.End(end)}
	fr.Ends = f.Until > 0 && f.Until < end
	fr.Baseline = baseline(r, bs, f.From)

	var sum float64
	var n int
	for _, b := range bs {
		if b.At-dt >= f.From && b.At <= fr.Until {
			sum += b.Throughput
			n++
		}
	}
	if n > 0 {
		fr.During = sum / float64(n)
	}
	if !fr.Ends {
		fr.Note = "lasts to the end of the run"
		return fr
	}

	fr.NextCommit = nextCommit(r, bs, f.Until)
	switch {
	case fr.Baseline == 0:
		fr.Note = "no fault-free throughput to recover to"
	default:
		for _, b := range bs {
			if b.At > f.Until && b.Throughput >= RecoveryFraction*fr.Baseline {
				d := b.At - f.Until
				fr.Recovered = &d
				break
			}
		}
		if fr.Recovered == nil {
			fr.Note = fmt.Sprintf("throughput never again reached %.0f%% of %.1f req/s", 100*RecoveryFraction, fr.Baseline)
		}
	}
	if w := r.Expect.RecoverWithin; w > 0 {
		met := fr.Recovered != nil && *fr.Recovered <= w
		fr.Met = &met
	}
	return fr
}

// baseline is the mean throughput over the last baselineIntervals
// intervals before from in which no fault was active, or over all
// fault-free intervals of the run if none precede it (a fault from the
// start).
func baseline(r *Result, bs []bucket, from time.Duration) float64 {
	dt := r.interval()
	end := r.end()
	faultFree := func(b bucket) bool {
		for _, f := range r.Faults {
			if b.At > f.From && b.At-dt < f.End(end) {
				return false
			}
		}
		return true
	}
	var before, all []float64
	for _, b := range bs {
		if !faultFree(b) {
			continue
		}
		all = append(all, b.Throughput)
		if b.At <= from {
			before = append(before, b.Throughput)
		}
	}
	if len(before) > baselineIntervals {
		before = before[len(before)-baselineIntervals:]
	}
	if len(before) == 0 {
		before = all
	}
	return mean(before)
}

// nextCommit is the time from t to the first operation a client saw
// complete after t, or, without a history, to the end of the first
// interval after t in which anything committed.
func nextCommit(r *Result, bs []bucket, t time.Duration) *time.Duration {
	var best *time.Duration
	for _, o := range r.History {
		if o.Completed && o.End >= t && (best == nil || o.End-t < *best) {
			d := o.End - t
			best = &d
		}
	}
	if best != nil || len(r.History) > 0 {
		return best
	}
	for _, b := range bs {
		if b.At > t && b.Committed > 0 {
			d := b.At - t
			return &d
		}
	}
	return nil
}

// viewChanges finds the cluster's view changes in the samples.
func viewChanges(r *Result, bs []bucket) []ViewChange {
	quorum := r.f() + 1
	var out []ViewChange
	var cur *ViewChange
	var prevAt time.Duration
	var prevView pbft.View
	for i, b := range bs {
		views := make([]float64, len(b.Samples))
		changing := 0
		for j, s := range b.Samples {
			views[j] = float64(s.View)
			if s.ViewChanging {
				changing++
			}
		}
		view := pbft.View(kthLargest(views, quorum))
		inChange := changing >= min(quorum, len(b.Samples))
		if i == 0 {
			prevAt, prevView = b.At, view
			if !inChange {
				continue
			}
		}
		switch {
		case cur == nil && (inChange || view > prevView):
			cur = &ViewChange{Start: prevAt, FromView: prevView}
			if !inChange {
				// Over between two samples.
				cur.End, cur.ToView, cur.Completed = b.At, view, true
				out = append(out, *cur)
				cur = nil
			}
		case cur != nil && !inChange:
			cur.End, cur.ToView, cur.Completed = b.At, view, true
			out = append(out, *cur)
			cur = nil
		}
		prevAt, prevView = b.At, view
	}
	if cur != nil {
		cur.End, cur.ToView = prevAt, prevView
		out = append(out, *cur)
	}
	return out
}

// LivenessVerdict judges the liveness measurements: after every fault
// window that ends, something must commit again, and throughput must
// recover within Expect.RecoverWithin when the scenario sets it. A run
// with no fault that ends must commit something. When the scenario sets
// Expect.MaxWait, no operation may wait longer than that for its result.
func LivenessVerdict(r *Result, l *Liveness) Verdict {
	v := Verdict{Name: CheckLiveness, ExpectPass: true}
	var found finding
	ended := 0
	for _, fr := range l.Faults {
		if !fr.Ends {
			continue
		}
		ended++
		switch {
		case fr.NextCommit == nil:
			found.add(fmt.Sprintf("%s: nothing committed after it ended at %v", fr.Label, fmtDur(fr.Until)))
		case fr.Met != nil && !*fr.Met:
			got := "never"
			if fr.Recovered != nil {
				got = "after " + fmtDur(*fr.Recovered)
			}
			found.add(fmt.Sprintf("%s: throughput recovered %s, expected within %v (ended at %v)", fr.Label, got, fmtDur(l.RecoverWithin), fmtDur(fr.Until)))
		}
	}
	if found.count > 0 {
		v.Summary = fmt.Sprintf("%d of %d ended faults without timely recovery; first: %s", found.count, ended, found.details[0])
		v.Details = found.details
		return v
	}
	if starved := overdueOps(r); len(starved) > 0 {
		v.Summary = fmt.Sprintf("%s waited longer than max_wait %v; first: %s", plural(len(starved), "operation"), fmtDur(r.Expect.MaxWait), starved[0])
		v.Details = starved
		return v
	}
	if ended == 0 {
		committed := false
		for _, b := range r.buckets() {
			committed = committed || b.Committed > 0
		}
		for _, o := range r.History {
			committed = committed || o.Completed
		}
		if !committed {
			v.Summary = "nothing was committed in the whole run"
			return v
		}
		v.Pass = true
		v.Summary = fmt.Sprintf("requests committed; no fault window ended; %s", plural(len(l.ViewChanges), "view change"))
		return v
	}
	v.Pass = true
	worst := time.Duration(-1)
	for _, fr := range l.Faults {
		if fr.Recovered != nil {
			worst = max(worst, *fr.Recovered)
		}
	}
	v.Summary = fmt.Sprintf("progress after all %d ended faults", ended)
	if worst >= 0 {
		v.Summary += fmt.Sprintf(", slowest recovery %v", fmtDur(worst))
	}
	if l.RecoverWithin > 0 {
		v.Summary += fmt.Sprintf(" (bound %v)", fmtDur(l.RecoverWithin))
	}
	v.Summary += "; " + plural(len(l.ViewChanges), "view change")
	if r.Expect.MaxWait > 0 {
		v.Summary += fmt.Sprintf("; no operation waited over %v", fmtDur(r.Expect.MaxWait))
	}
	return v
}

// maxOverdueDetails bounds the operations a liveness verdict lists.
const maxOverdueDetails = 10

// overdueOps describes the operations that waited longer than
// Expect.MaxWait, longest first (at most maxOverdueDetails of them, after
// a count of the rest); none when there is no bound.
func overdueOps(r *Result) []string {
	bound := r.Expect.MaxWait
	if bound <= 0 {
		return nil
	}
	type overdue struct {
		op   Op
		wait time.Duration
	}
	var late []overdue
	for _, o := range r.History {
		wait := o.End - o.Start
		if !o.Completed {
			wait = r.Scenario.Duration - o.Start
		}
		if wait > bound {
			late = append(late, overdue{o, wait})
		}
	}
	slices.SortStableFunc(late, func(a, b overdue) int { return cmp.Compare(b.wait, a.wait) })
	var out []string
	for i, l := range late {
		if i == maxOverdueDetails {
			out = append(out, fmt.Sprintf("and %d more", len(late)-i))
			break
		}
		state := "accepted after"
		if !l.op.Completed {
			state = "still waiting at the end, after"
		}
		out = append(out, fmt.Sprintf("client %s's %s of %q, sent at %v, %s %v", l.op.Client, l.op.Kind, l.op.Key, fmtDur(l.op.Start), state, fmtDur(l.wait)))
	}
	return out
}

// kthLargest returns the k-th largest value (k from 1), or the smallest
// if there are fewer than k; 0 when empty.
func kthLargest(vals []float64, k int) float64 {
	if len(vals) == 0 {
		return 0
	}
	s := append([]float64(nil), vals...)
	sortDesc(s)
	return s[min(k, len(s))-1]
}

func mean(v []float64) float64 {
	if len(v) == 0 {
		return 0
	}
	var s float64
	for _, x := range v {
		s += x
	}
	return s / float64(len(v))
}
