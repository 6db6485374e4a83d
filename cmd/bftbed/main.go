// Command bftbed is the one command-line tool of the bftbed testbed.
package main

import (
	"fmt"
	"os"

	"github.com/spf13/cobra"
)

func main() {
	root := &cobra.Command{
		Use:           "bftbed",
		Short:         "A Byzantine-fault-tolerant consensus testbed: PBFT, its faults, and their checks",
		SilenceUsage:  true,
		SilenceErrors: true,
	}
	root.AddCommand(simCommand())
	root.AddCommand(benchCommand())
	root.AddCommand(adversaryCommand())
	root.AddCommand(nodeCommand())
	root.AddCommand(testnetCommand(), clientCommand(), loadCommand())
	if err := root.Execute(); err != nil {
		fmt.Fprintln(os.Stderr, "bftbed:", err)
		os.Exit(exitCode(err))
	}
}

// exitError carries a specific exit code (a failed check exits 1, bad usage 2).
type exitError struct {
	code int
	err  error
}

func (e *exitError) Error() string { return e.err.Error() }

func exitCode(err error) int {
	if e, ok := err.(*exitError); ok {
		return e.code
	}
	return 2
}
