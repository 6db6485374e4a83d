// Package bench holds what bftbed knows about a finished run: the data
// model both runners produce (Result, written out as result.json), the
// checkers that judge it (agreement, state, exactly-once, linearizability,
// liveness, and the cost and failure-detection measurements), and the
// reports (result.json, timeseries.csv, PNG plots, one self-contained
// report.html, and a terminal summary).
//
// A runner — the deterministic simulator or the OS-process testnet — fills
// the input half of a Result and then calls
//
//	bench.Check(r, bench.CheckOptions{Dir: dir}) // fills the output half
//	bench.WriteReport(dir, r)
//	fmt.Print(bench.Summary(r))
//	if r.Failed() { os.Exit(1) }
//
// Everything is computed from the recorded Result alone, never from the
// live cluster, so a result.json can be re-checked and re-reported later
// and a simulator run and a testnet run are judged by the same code.
package bench
