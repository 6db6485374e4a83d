package bench

// Verdict is one checker's judgement of a run.
type Verdict struct {
	// Name is the checker: "agreement", "state", "exactly-once",
	// "linearizability", "liveness".
	Name string `json:"name"`
	// Pass is whether the property held.
	Pass bool `json:"pass"`
	// ExpectPass is whether the scenario expected it to hold: false for
	// a safety checker that failed in a scenario that expects a
	// violation.
	ExpectPass bool `json:"expect_pass"`
	// Inconclusive is set when the checker could not decide (the
	// linearizability search timed out, nothing to check); Pass is then
	// true, so an undecided check does not fail the run, and the report
	// shows it apart.
	Inconclusive bool `json:"inconclusive,omitempty"`
	// Summary is one line; Details are one line per finding (each
	// violation, capped), for the report.
	Summary string   `json:"summary"`
	Details []string `json:"details,omitempty"` // see Summary
}

// OK reports whether the verdict is what the scenario expected.
func (v Verdict) OK() bool { return v.Pass == v.ExpectPass }

// Status is the verdict as a word for tables: PASS, FAIL, "FAIL
// (expected)" when a violation was the point of the scenario, or "PASS?"
// when inconclusive.
func (v Verdict) Status() string {
	switch {
	case !v.Pass && !v.ExpectPass:
		return "FAIL (expected)"
	case v.Pass && !v.ExpectPass:
		return "PASS (expected FAIL)"
	case !v.Pass:
		return "FAIL"
	case v.Inconclusive:
		return "PASS?"
	}
	return "PASS"
}

// Failed reports whether any verdict differs from what the scenario
// expected; a runner exits non-zero when it does. A result that has not
// been checked has failed nothing yet.
func (r *Result) Failed() bool {
	for _, v := range r.Verdicts {
		if !v.OK() {
			return true
		}
	}
	return false
}

// Verdict returns the verdict of the named checker, if Check produced one.
func (r *Result) Verdict(name string) (Verdict, bool) {
	for _, v := range r.Verdicts {
		if v.Name == name {
			return v, true
		}
	}
	return Verdict{}, false
}

// maxDetails caps the findings a verdict lists: the first few violations
// say what went wrong, thousands would bury the report.
const maxDetails = 20

// finding collects a checker's violations, keeping the first maxDetails
// and counting the rest.
type finding struct {
	details []string
	count   int
}

func (f *finding) add(s string) {
	f.count++
	if len(f.details) < maxDetails {
		f.details = append(f.details, s)
	}
}

// SafetyViolated lists the safety checkers that found a violation, expected
// or not: a run that broke safety exits non-zero even when breaking it was
// the scenario's point, so that a script can never mistake a fork for a
// clean run.
func (r *Result) SafetyViolated() []string {
	var names []string
	for _, v := range r.Verdicts {
		switch v.Name {
		case CheckAgreement, CheckState, CheckExactlyOnce, CheckLinearizability, CheckSimulator:
			if !v.Pass {
				names = append(names, v.Name)
			}
		}
	}
	return names
}
