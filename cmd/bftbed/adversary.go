package main

import (
	"context"
	"fmt"
	"net/http"
	"os/signal"
	"syscall"
	"time"

	"github.com/spf13/cobra"

	"github.com/bftbed/bftbed/adversary"
	"github.com/bftbed/bftbed/testnet"
)

func adversaryCommand() *cobra.Command {
	cmd := &cobra.Command{
		Use:   "adversary",
		Short: "Apply a scenario's faults to a running testnet, or list the behaviours",
	}
	cmd.AddCommand(adversaryApplyCommand(), adversaryListCommand())
	return cmd
}

func adversaryApplyCommand() *cobra.Command {
	var seed uint64
	var delay time.Duration
	cmd := &cobra.Command{
		Use:   "apply DIR SCENARIO.toml",
		Short: "Run a scenario's fault timeline against the testnet in DIR (started with 'bftbed testnet up')",
		Long: `apply sends the scenario's message faults and link rules to every node,
and carries out its crashes, restarts and pauses on the node processes, on
the scenario's timeline from now. The load is yours to run ('bftbed load').
Ctrl-C stops the timeline, resumes paused nodes and switches the faults off.`,
		Args: cobra.ExactArgs(2),
		RunE: func(cmd *cobra.Command, args []string) error {
			desc, err := testnet.LoadDescription(args[0])
			if err != nil {
				return &exitError{code: 2, err: err}
			}
			sc, err := adversary.LoadScenario(args[1])
			if err != nil {
				return &exitError{code: 2, err: err}
			}
			if !cmd.Flags().Changed("seed") {
				seed = sc.Seed
			}
			ctx, stop := signal.NotifyContext(cmd.Context(), syscall.SIGINT, syscall.SIGTERM)
			defer stop()
			start := time.Now().Add(delay)
			out := cmd.OutOrStdout()
			fmt.Fprintf(out, "applying %s (seed %d) to %s from %s\n", sc.Name, seed, args[0], start.Format("15:04:05.000"))
			err = testnet.Apply(ctx, args[0], desc, sc, seed, start, func(format string, a ...any) {
				fmt.Fprintf(out, format+"\n", a...)
			})
			if ctx.Err() != nil {
				switchOff(desc)
				return &exitError{code: 1, err: fmt.Errorf("interrupted: faults switched off")}
			}
			if err != nil {
				return &exitError{code: 1, err: err}
			}
			fmt.Fprintln(out, "the scenario's faults are over")
			return nil
		},
	}
	cmd.Flags().Uint64Var(&seed, "seed", 0, "seed for the faults' random choices (default the scenario's)")
	cmd.Flags().DurationVar(&delay, "delay", time.Second, "time zero of the scenario, from now")
	return cmd
}

// switchOff removes the faults from every node (DELETE /adversary).
func switchOff(desc *testnet.Description) {
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	for _, nd := range desc.Nodes {
		req, _ := http.NewRequestWithContext(ctx, http.MethodDelete, "http://"+nd.HTTP+"/adversary", nil)
		if resp, err := http.DefaultClient.Do(req); err == nil {
			resp.Body.Close()
		}
	}
}

func adversaryListCommand() *cobra.Command {
	return &cobra.Command{
		Use:   "list",
		Short: "List the behaviours and their parameters",
		Args:  cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			out := cmd.OutOrStdout()
			for _, name := range adversary.Behaviours() {
				info, _ := adversary.Describe(name)
				fmt.Fprintf(out, "%-14s %s\n", name, info.Doc)
				for _, p := range info.Params {
					fmt.Fprintf(out, "    %-16s %-10s %s\n", p.Name, p.Type, p.Doc)
				}
			}
			return nil
		},
	}
}
