package main

import (
	"fmt"
	"time"

	"github.com/spf13/cobra"

	"github.com/bftbed/bftbed/testnet/sim"
)

func simCommand() *cobra.Command {
	var (
		seed        uint64
		seeds, n    int
		trace       bool
		loss        float64
		crashes     int
		faultWindow time.Duration
		mix         string
		out         string
	)
	cmd := &cobra.Command{
		Use:   "sim [SCENARIO.toml]",
		Short: "Run the deterministic simulator, on a scenario file or on a random fault mix over many seeds",
		Long: `With a scenario file, sim runs it in virtual time, checks it and writes a
report folder (result.json, timeseries.csv, PNG plots, report.html); it exits
1 if a checker's verdict is not what the scenario expects.

Without one, it runs a fault mix (lossy network and crashes, or power cuts on
Pebble) over --seeds seeds and checks agreement, exactly-once and progress.`,
		Args: cobra.MaximumNArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			if len(args) == 1 {
				s := seed
				if !cmd.Flags().Changed("seed") {
					s = 0
				}
				return runSimScenario(cmd, args[0], s, out, trace)
			}
			out := cmd.OutOrStdout()
			failed := 0
			for s := seed; s < seed+uint64(seeds); s++ {
				opts, err := sim.MixOptions(mix, s, n)
				if err != nil {
					return &exitError{code: 2, err: err}
				}
				if cmd.Flags().Changed("loss") {
					opts.FaultNet.Loss = loss
				}
				opts.Crashes = crashes
				opts.FaultEnd = opts.FaultStart + faultWindow
				if trace {
					opts.Trace = func(line string) { fmt.Fprintln(out, line) }
				}
				res, err := sim.Run(opts)
				if err != nil {
					return &exitError{code: 2, err: err}
				}
				fmt.Fprintln(out, res.Summary())
				for _, v := range res.Violations {
					fmt.Fprintln(out, "  VIOLATION:", v)
				}
				if res.Failed() {
					failed++
					fmt.Fprintln(out, "  replay:", res.ReplayCommand())
				}
			}
			if failed > 0 {
				return &exitError{code: 1, err: fmt.Errorf("%d of %d runs failed their checks", failed, seeds)}
			}
			fmt.Fprintf(out, "all %d runs passed: agreement, exactly-once, progress after faults\n", seeds)
			return nil
		},
	}
	def := sim.DefaultOptions(0, 4)
	cmd.Flags().Uint64Var(&seed, "seed", 1, "seed (with a scenario: overrides the file's); without one, the first seed")
	cmd.Flags().StringVarP(&out, "out", "o", "", "report folder for a scenario run (default results/<scenario>-sim-<seed>)")
	cmd.Flags().IntVar(&seeds, "seeds", 1, "number of seeds to run, from --seed on")
	cmd.Flags().IntVarP(&n, "replicas", "n", 4, "replicas (3f+1)")
	cmd.Flags().BoolVar(&trace, "trace", false, "print every event")
	cmd.Flags().StringVar(&mix, "mix", "default", "fault mix: default (lossy network, crashes) or crash-recover (power cuts, Pebble storage)")
	cmd.Flags().Float64Var(&loss, "loss", def.FaultNet.Loss, "message loss rate during the fault window")
	cmd.Flags().IntVar(&crashes, "crashes", def.Crashes, "replicas crashed at once during the fault window (at most f)")
	cmd.Flags().DurationVar(&faultWindow, "fault-window", def.FaultEnd-def.FaultStart, "length of the fault window (virtual time)")
	return cmd
}
