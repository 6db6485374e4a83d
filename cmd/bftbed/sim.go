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
	)
	cmd := &cobra.Command{
		Use:   "sim",
		Short: "Run the deterministic simulator: n replicas, lossy network, crashes, checked for agreement, exactly-once and progress",
		Args:  cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
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
	cmd.Flags().Uint64Var(&seed, "seed", 1, "first seed")
	cmd.Flags().IntVar(&seeds, "seeds", 1, "number of seeds to run, from --seed on")
	cmd.Flags().IntVarP(&n, "replicas", "n", 4, "replicas (3f+1)")
	cmd.Flags().BoolVar(&trace, "trace", false, "print every event")
	cmd.Flags().StringVar(&mix, "mix", "default", "fault mix: default (lossy network, crashes) or crash-recover (power cuts, Pebble storage)")
	cmd.Flags().Float64Var(&loss, "loss", def.FaultNet.Loss, "message loss rate during the fault window")
	cmd.Flags().IntVar(&crashes, "crashes", def.Crashes, "replicas crashed at once during the fault window (at most f)")
	cmd.Flags().DurationVar(&faultWindow, "fault-window", def.FaultEnd-def.FaultStart, "length of the fault window (virtual time)")
	return cmd
}
