package bench

import (
	"time"

	"github.com/bftbed/bftbed/pbft"
)

// finish builds and checks the Result once the nodes are stopped: the
// history from the load, samples and logs from the monitor's Recorder,
// the tails of the logs from the stores.
func (r *testnetRun) finish(out *runOutput) *Result {
	res := r.res
	tails := r.readStores()
	for _, op := range historyFromLoad(out.load, out.t0, out.target) {
		r.rec.Operation(op)
	}
	r.rec.Finish(res, out.end)
	r.mon.fillSamples(res)
	unknown := r.mergeStores(res, tails)
	if out.load.Interrupted {
		ran := out.load.Start.Sub(out.t0) + out.load.Elapsed
		cutShort(res, ran)
		r.logf("interrupted after %s: the result covers that much", fmtDur(ran))
	}
	trimSamples(res)
	checkTestnet(res, CheckOptions{Dir: r.opts.ReportDir}, unknown)
	return res
}

// trimSamples drops the samples of intervals that begin after the run's
// duration: the monitor polls until the operations in flight have drained,
// and those last intervals, with the load stopped, would show a collapse
// of throughput that did not happen.
func trimSamples(res *Result) {
	kept := res.Samples[:0]
	for _, s := range res.Samples {
		if s.At-res.SampleInterval < res.Scenario.Duration {
			kept = append(kept, s)
		}
	}
	res.Samples = kept
}

// cutShort makes res describe a run that stopped after ran: its duration,
// and only the faults that began, those still active lasting to its end.
func cutShort(res *Result, ran time.Duration) {
	res.Scenario.Duration = max(ran, time.Millisecond)
	var faults []FaultWindow
	for _, f := range res.Faults {
		if f.From >= ran {
			continue
		}
		if f.Until > ran {
			f.Until = 0
		}
		faults = append(faults, f)
	}
	res.Faults = faults
}

// checkTestnet runs Check, then judges exactly-once execution again on the
// batches whose requests are known (see exactlyOnceOnKnown), and, in a
// scenario that expects a violation, re-derives which safety verdicts
// failed as expected.
func checkTestnet(res *Result, opts CheckOptions, unknown map[pbft.ReplicaID]map[pbft.Seq]bool) {
	Check(res, opts)
	safety := map[string]int{}
	for i, v := range res.Verdicts {
		switch v.Name {
		case CheckAgreement, CheckState, CheckExactlyOnce, CheckLinearizability:
			safety[v.Name] = i
		}
	}
	i, ok := safety[CheckExactlyOnce]
	if !ok {
		return
	}
	res.Verdicts[i] = exactlyOnceOnKnown(res, unknown)
	if !res.Expect.ViolatesSafety {
		return
	}
	vs := make([]Verdict, 0, len(safety))
	order := []string{CheckAgreement, CheckState, CheckExactlyOnce, CheckLinearizability}
	for _, name := range order {
		v := res.Verdicts[safety[name]]
		v.ExpectPass = true
		vs = append(vs, v)
	}
	expected := expectViolation(vs)
	for k, name := range order {
		res.Verdicts[safety[name]] = vs[k]
	}
	for j, v := range res.Verdicts {
		if v.Name == CheckExpectedViolation {
			res.Verdicts[j] = expected
		}
	}
}
