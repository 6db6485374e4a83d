package main

import (
	"errors"
	"fmt"
	"io"
	"log/slog"
	"os"
	"runtime/pprof"
	"slices"
	"time"

	"github.com/spf13/cobra"

	"github.com/bftbed/bftbed/bench/load"
)

func loadCommand() *cobra.Command {
	var (
		dir     string
		cfg     load.Config
		mix     string
		out     string
		history bool
		verbose bool
		profile string
		perHost int
	)
	cmd := &cobra.Command{
		Use:   "load --testnet DIR [--clients N | --rate R] [--duration 30s]",
		Short: "Drive a testnet with key-value operations and measure throughput and latency",
		Long: `Drive the testnet's key-value store with clients over libp2p and report
committed operations per second and latency percentiles.

Closed loop (default, --clients N): N clients, each sending its next
operation when the previous one completes.

Open loop (--rate R): R operations per second are due on a fixed schedule,
served by a pool of --clients clients (default 64). Latency counts from when
an operation was due, so a stall is not hidden by clients that could not
send; operations due that no client could send in time are reported as
unsent.

--out writes the result as JSON: totals, latency percentiles, a per-second
timeline and (unless --history=false) every operation with its times.

Each client has its own key and signs its own requests; clients share
libp2p hosts in groups of --clients-per-host, as users behind an
application server do, so that their requests and replies travel
together.`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			if dir == "" {
				return &exitError{code: 2, err: errors.New("--testnet DIR is required")}
			}
			if cmd.Flags().Changed("clients") && cfg.Clients <= 0 {
				return &exitError{code: 2, err: errors.New("--clients must be positive")}
			}
			m, err := load.ParseMix(mix)
			if err != nil {
				return &exitError{code: 2, err: err}
			}
			cfg.Mix = m
			d, err := loadTestnet(dir)
			if err != nil {
				return err
			}
			peers, err := d.Peers()
			if err != nil {
				return &exitError{code: 2, err: err}
			}
			if perHost < 0 {
				return &exitError{code: 2, err: errors.New("--clients-per-host must not be negative")}
			}
			target := &load.P2PTarget{Cluster: d.Cluster, Peers: peers, ClientsPerHost: perHost}
			if verbose {
				target.Logger = slog.New(slog.NewTextHandler(cmd.ErrOrStderr(), &slog.HandlerOptions{Level: slog.LevelWarn}))
			}
			ctx, stop := signalContext(cmd.Context())
			defer stop()
			stdout, stderr := cmd.OutOrStdout(), cmd.ErrOrStderr()
			fmt.Fprintln(stdout, describeLoad(d.Cluster, cfg))
			if profile != "" {
				stopProfile, err := startCPUProfile(profile)
				if err != nil {
					return &exitError{code: 2, err: err}
				}
				defer stopProfile()
			}
			display := newProgressDisplay(ctx, stderr, cfg.Duration)
			cfg.Progress = display.update
			res, err := load.Run(ctx, cfg, target)
			display.wait()
			if err != nil {
				return &exitError{code: 1, err: err}
			}
			printLoadSummary(stdout, res)
			if out != "" {
				if err := res.WriteJSON(out, history); err != nil {
					return &exitError{code: 1, err: err}
				}
				fmt.Fprintf(stdout, "result     %s\n", out)
			}
			if res.Committed == 0 {
				return &exitError{code: 1, err: errors.New("no operation committed")}
			}
			return nil
		},
	}
	f := cmd.Flags()
	f.StringVar(&dir, "testnet", "", "testnet directory (made by 'bftbed testnet init')")
	f.IntVar(&cfg.Clients, "clients", 0, "clients: closed loop, each with one operation outstanding (default 32); open loop, the pool serving --rate (default 64)")
	f.Float64Var(&cfg.Rate, "rate", 0, "open loop: operations per second offered (0: closed loop)")
	f.DurationVar(&cfg.Duration, "duration", 30*time.Second, "how long to issue operations")
	f.IntVar(&cfg.MaxOps, "max-ops", 0, "stop after this many operations (0: no limit)")
	f.IntVar(&cfg.Payload, "payload", load.DefaultPayload, "bytes per value written")
	f.IntVar(&cfg.Keys, "keys", load.DefaultKeys, "number of distinct keys")
	f.StringVar(&mix, "mix", "put=1", "operation weights, e.g. put=8,get=2,append=1,cas=1")
	f.DurationVar(&cfg.OpTimeout, "op-timeout", load.DefaultOpTimeout, "give up on one operation after this long")
	f.Uint64Var(&cfg.Seed, "seed", 1, "seed of the key and operation choices")
	f.StringVar(&out, "out", "", "write the result as JSON to this file")
	f.BoolVar(&history, "history", true, "include every operation in --out")
	f.IntVar(&perHost, "clients-per-host", load.DefaultClientsPerHost, "clients sharing one libp2p host and its connections (1: a host per client)")
	f.StringVar(&profile, "cpuprofile", "", "write the load generator's CPU profile to this file (go tool pprof)")
	f.BoolVarP(&verbose, "verbose", "v", false, "log the client hosts' connection warnings")
	return cmd
}

// startCPUProfile profiles this process into path until the returned
// function is called.
func startCPUProfile(path string) (func(), error) {
	f, err := os.Create(path)
	if err != nil {
		return nil, fmt.Errorf("cpu profile: %w", err)
	}
	if err := pprof.StartCPUProfile(f); err != nil {
		f.Close()
		return nil, fmt.Errorf("cpu profile: %w", err)
	}
	return func() { pprof.StopCPUProfile(); f.Close() }, nil
}

// describeLoad is the first line of `bftbed load`.
func describeLoad(cluster string, cfg load.Config) string {
	shape := fmt.Sprintf("closed loop, %d clients", orDefault(cfg.Clients, load.DefaultClients))
	if cfg.Rate > 0 {
		shape = fmt.Sprintf("open loop, %.0f ops/s offered by up to %d clients", cfg.Rate, orDefault(cfg.Clients, load.DefaultOpenClients))
	}
	return fmt.Sprintf("load on testnet %q: %s, %s, %d-byte values, %d keys, mix %s",
		cluster, shape, cfg.Duration, cfg.Payload, cfg.Keys, cfg.Mix)
}

// orDefault returns v, or def if v is 0.
func orDefault(v, def int) int {
	if v == 0 {
		return def
	}
	return v
}

// printLoadSummary prints the totals and latencies of a run.
func printLoadSummary(w io.Writer, r *load.Result) {
	ms := func(d time.Duration) string { return fmt.Sprintf("%.1fms", float64(d.Microseconds())/1000) }
	note := ""
	if r.Interrupted {
		note = " (interrupted)"
	}
	fmt.Fprintf(w, "committed  %d operations in %s = %.0f ops/s%s\n", r.Committed, r.Elapsed.Round(10*time.Millisecond), r.Throughput, note)
	fmt.Fprintf(w, "latency    p50 %s  p95 %s  p99 %s  max %s  (mean %s)\n",
		ms(r.Latency.P50), ms(r.Latency.P95), ms(r.Latency.P99), ms(r.Latency.Max), ms(r.Latency.Mean))
	fmt.Fprintf(w, "errors     %d", r.Errors)
	if r.Unsent > 0 {
		fmt.Fprintf(w, ", %d unsent (due, but every client was busy: raise --clients or lower --rate)", r.Unsent)
	}
	if r.WarmupErrors > 0 {
		fmt.Fprintf(w, ", %d failed warm-up reads", r.WarmupErrors)
	}
	fmt.Fprintln(w)
	msgs := make([]string, 0, len(r.ErrorCounts))
	for m := range r.ErrorCounts {
		msgs = append(msgs, m)
	}
	slices.SortFunc(msgs, func(a, b string) int { return r.ErrorCounts[b] - r.ErrorCounts[a] })
	for i, m := range msgs {
		if i == 5 {
			fmt.Fprintf(w, "           ... and %d other kinds of error\n", len(msgs)-5)
			break
		}
		fmt.Fprintf(w, "           %6d  %s\n", r.ErrorCounts[m], m)
	}
}
