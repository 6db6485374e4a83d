package bench

import (
	"strings"
	"time"
)

// Checker names, the Name of their verdicts.
const (
	CheckAgreement       = "agreement"
	CheckState           = "state"
	CheckExactlyOnce     = "exactly-once"
	CheckLinearizability = "linearizability"
	CheckLiveness        = "liveness"
	// CheckExpectedViolation is present only in scenarios that expect a
	// safety violation: it passes when some safety checker failed.
	CheckExpectedViolation = "expected-violation"
)

// CheckOptions tune Check.
type CheckOptions struct {
	// Dir is the report folder: on a linearizability violation the
	// checker writes porcupine's visualisation there as
	// linearizability.html. Empty means do not write it.
	Dir string
	// LinearizabilityTimeout bounds the linearizability search, which is
	// exponential in the worst case; 0 means DefaultLinearizabilityTimeout.
	LinearizabilityTimeout time.Duration
}

// DefaultLinearizabilityTimeout is the search budget when none is given:
// partitioned by key, histories of a benchmark finish far sooner; a search
// that runs this long is reported inconclusive rather than holding up the
// report.
const DefaultLinearizabilityTimeout = 30 * time.Second

// Check runs every checker and measurement over r and stores the results
// in r (Verdicts, Cost, Liveness, Detection), replacing earlier ones.
// Afterwards r.Failed says whether the run met the scenario's expectations.
//
// When the scenario expects a safety violation, it is enough for one
// safety checker to find one (a fork need not break linearizability
// too): the failed ones are marked as expected, and an extra
// "expected-violation" verdict fails if none did.
func Check(r *Result, opts CheckOptions) {
	r.Verdicts = []Verdict{
		Agreement(r),
		State(r),
		ExactlyOnce(r),
		Linearizability(r, opts),
	}
	if r.Expect.ViolatesSafety {
		r.Verdicts = append(r.Verdicts, expectViolation(r.Verdicts))
	}
	r.Liveness = MeasureLiveness(r)
	r.Verdicts = append(r.Verdicts, LivenessVerdict(r, r.Liveness))
	r.Cost = MeasureCost(r)
	r.Detection = DetectFailures(r)
}

// checked reports whether Check has run on r.
func (r *Result) checked() bool { return r.Verdicts != nil }

// expectViolation marks the failed safety verdicts as expected and
// judges whether the expected violation happened.
func expectViolation(safety []Verdict) Verdict {
	v := Verdict{Name: CheckExpectedViolation, ExpectPass: true}
	var failed []string
	for i := range safety {
		if !safety[i].Pass {
			safety[i].ExpectPass = false
			failed = append(failed, safety[i].Name)
		}
	}
	if len(failed) == 0 {
		v.Summary = "the scenario expects a safety violation, but no safety checker found one"
		return v
	}
	v.Pass = true
	v.Summary = "the scenario expects a safety violation: " + strings.Join(failed, ", ") + " failed as expected"
	return v
}
