package main

import (
	"context"
	"os"
	"os/signal"
	"syscall"

	"github.com/spf13/cobra"

	"github.com/bftbed/bftbed/testnet"
	"github.com/bftbed/bftbed/testnet/daemon"
)

func nodeCommand() *cobra.Command {
	var (
		config     string
		resetState bool
	)
	cmd := &cobra.Command{
		Use:   "node --config FILE",
		Short: "Run one replica from its configuration file, with /metrics, /status, /commits and /healthz on its HTTP address",
		Long: `Run one replica: its libp2p host, its Pebble store and the PBFT node, until
SIGINT or SIGTERM, then stop gracefully (exit 0). A node that cannot start
(a configuration mistake, a key file others may read, a corrupt store) exits
2 with the reason; a node stopped by a fatal error (a failed disk write) exits 1.

--reset-state recovers from a corrupt store: the damaged data directory is
moved aside to <data_dir>.corrupt-<time>, and the replica starts empty and
catches up from its peers by state transfer. It does nothing to a sound store.`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			cfg, err := testnet.LoadNodeConfig(config)
			if err != nil {
				return &exitError{code: 2, err: err}
			}
			ctx, stop := signal.NotifyContext(cmd.Context(), os.Interrupt, syscall.SIGTERM)
			defer stop()
			d, err := daemon.Start(cfg, daemon.Options{ResetState: resetState})
			if err != nil {
				return &exitError{code: 2, err: err}
			}
			// After the first signal, a second one kills the process
			// the usual way, should the shutdown hang.
			context.AfterFunc(ctx, stop)
			if err := d.Wait(ctx); err != nil {
				return &exitError{code: 1, err: err}
			}
			return nil
		},
	}
	cmd.Flags().StringVar(&config, "config", "", "the node's configuration file (TOML)")
	cmd.Flags().BoolVar(&resetState, "reset-state", false, "if the store is corrupt, move it aside and catch up from the peers by state transfer")
	_ = cmd.MarkFlagRequired("config")
	return cmd
}
