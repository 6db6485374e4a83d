package main

import (
	"fmt"
	"path/filepath"
	"strings"
	"time"

	"github.com/spf13/cobra"

	"github.com/bftbed/bftbed/bench"
)

func benchCommand() *cobra.Command {
	cmd := &cobra.Command{
		Use:   "bench",
		Short: "Adversarial benchmarks: sweeps of scenarios, checked and compared",
	}
	cmd.AddCommand(benchSweepCommand())
	cmd.AddCommand(benchRunCommand())
	return cmd
}

func benchSweepCommand() *cobra.Command {
	var out string
	cmd := &cobra.Command{
		Use:   "sweep SWEEP.toml",
		Short: "Run a scenario over a grid (a parameter × behaviours) and write one CSV and comparison plots",
		Args:  cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			sw, err := bench.LoadSweep(args[0])
			if err != nil {
				return &exitError{code: 2, err: err}
			}
			if out == "" {
				out = filepath.Join("results", "sweep-"+strings.TrimSuffix(filepath.Base(args[0]), ".toml"))
			}
			w := cmd.OutOrStdout()
			rows, err := bench.RunSweep(sw, out, func(done, total int, r bench.SweepRow) {
				verdict := "ok"
				if !r.OK {
					verdict = "FAILED CHECKS"
				}
				fmt.Fprintf(w, "[%d/%d] %s=%v %-12s %8.1f req/s  p50 %-8v p99 %-8v %d view changes  %s\n",
					done, total, r.Param, r.Value, r.Behaviour, r.Throughput, r.P50.Round(10*time.Microsecond), r.P99.Round(10*time.Microsecond), r.ViewChanges, verdict)
			})
			if err != nil {
				return &exitError{code: 2, err: err}
			}
			fmt.Fprintf(w, "sweep: %s, %s, %s\n", filepath.Join(out, bench.SweepFile),
				filepath.Join(out, bench.SweepThroughputFile), filepath.Join(out, bench.SweepLatencyFile))
			for _, r := range rows {
				if !r.OK {
					return &exitError{code: 1, err: fmt.Errorf("a run's verdicts were not as expected: see %s", r.Dir)}
				}
			}
			return nil
		},
	}
	cmd.Flags().StringVarP(&out, "out", "o", "", "output folder (default results/sweep-<name>)")
	return cmd
}
