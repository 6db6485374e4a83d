package main

import (
	"fmt"
	"path/filepath"
	"strings"

	"github.com/spf13/cobra"

	"github.com/bftbed/bftbed/adversary"
	"github.com/bftbed/bftbed/bench"
)

// runSimScenario runs one scenario file in the simulator and writes its
// report. seed 0 means the scenario's own.
func runSimScenario(cmd *cobra.Command, path string, seed uint64, dir string, trace bool) error {
	sc, err := adversary.LoadScenario(path)
	if err != nil {
		return &exitError{code: 2, err: err}
	}
	if seed == 0 {
		seed = sc.Seed
	}
	if dir == "" {
		dir = filepath.Join("results", fmt.Sprintf("%s-sim-%d", sc.Name, seed))
	}
	var tracef func(string)
	if trace {
		tracef = func(line string) { fmt.Fprintln(cmd.OutOrStdout(), line) }
	}
	res, err := bench.RunSim(sc, seed, dir, tracef)
	if err != nil {
		return &exitError{code: 2, err: err}
	}
	if err := bench.WriteReport(dir, res); err != nil {
		return &exitError{code: 2, err: err}
	}
	out := cmd.OutOrStdout()
	fmt.Fprint(out, bench.Summary(res))
	fmt.Fprintf(out, "report: %s\n", filepath.Join(dir, "report.html"))
	return verdictExit(sc.Name, res)
}

// verdictExit is the exit status of a checked run: 1 when a verdict is not
// what the scenario expects, and also when safety was violated even though
// the scenario expected it.
func verdictExit(name string, res *bench.Result) error {
	if res.Failed() {
		return &exitError{code: 1, err: fmt.Errorf("scenario %s: a verdict is not what the scenario expects", name)}
	}
	if v := res.SafetyViolated(); len(v) > 0 {
		return &exitError{code: 1, err: fmt.Errorf("scenario %s: safety violated, as the scenario expects (%s): see the report", name, strings.Join(v, ", "))}
	}
	return nil
}
