package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"os/signal"
	"strings"
	"syscall"
	"text/tabwriter"
	"time"

	"github.com/spf13/cobra"

	"github.com/bftbed/bftbed/testnet"
)

func testnetCommand() *cobra.Command {
	cmd := &cobra.Command{
		Use:   "testnet",
		Short: "Generate, start, watch and stop a local testnet of node processes on 127.0.0.1",
		Long: `A local testnet is a directory made by 'bftbed testnet init': keys, one
configuration file per node, and testnet.toml, which every other command
reads. Its nodes run as separate processes ('bftbed node'), each logging to
DIR/node-i/node.log, with its process id in DIR/node-i/node.pid.

  bftbed testnet init -n 4 -o DIR     generate
  bftbed testnet up DIR               start every node, wait until healthy
  bftbed testnet status DIR           view, executed, peers, health per node
  bftbed client --testnet DIR put k v
  bftbed load --testnet DIR --clients 32 --duration 10s
  bftbed testnet kill DIR 1           crash node 1 (SIGKILL)
  bftbed testnet restart DIR 1        start it again from its data
  bftbed testnet logs DIR 1 -f        follow its log
  bftbed testnet down DIR             stop every node`,
	}
	cmd.AddCommand(testnetInitCommand(), testnetUpCommand(), testnetDownCommand(), testnetStatusCommand(),
		testnetLogsCommand(), testnetKillCommand(), testnetRestartCommand())
	return cmd
}

func testnetInitCommand() *cobra.Command {
	var (
		opts     testnet.GenerateOptions
		protocol = testnet.DefaultProtocol()
	)
	cmd := &cobra.Command{
		Use:   "init -n N -o DIR",
		Short: "Generate a testnet: keys, node configurations and testnet.toml",
		Args:  cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			if opts.Dir == "" {
				return &exitError{code: 2, err: errors.New("-o DIR is required")}
			}
			opts.Protocol = protocol
			d, err := testnet.Generate(opts)
			if err != nil {
				return &exitError{code: 2, err: err}
			}
			out := cmd.OutOrStdout()
			fmt.Fprintf(out, "testnet %q: %d nodes (tolerates f = %d faulty) in %s\n", d.Cluster, d.N, d.F, d.Dir())
			tw := tabwriter.NewWriter(out, 0, 0, 2, ' ', 0)
			fmt.Fprintln(tw, "  NODE\tCONFIG\tLIBP2P\tHTTP")
			for _, nd := range d.Nodes {
				fmt.Fprintf(tw, "  %d\t%s\t%s\t%s\n", nd.ID, d.Path(nd.Config), nd.Libp2p, nd.HTTP)
			}
			tw.Flush()
			fmt.Fprintf(out, "start it with: bftbed testnet up %s\n", opts.Dir)
			return nil
		},
	}
	f := cmd.Flags()
	f.IntVarP(&opts.N, "replicas", "n", 4, "number of replicas, 3f+1 (4, 7, 10, ...)")
	f.StringVarP(&opts.Dir, "out", "o", "", "testnet directory to create")
	f.StringVar(&opts.Cluster, "cluster", "", "cluster name (default: the directory's name)")
	f.IntVar(&opts.BasePort, "base-port", 0, "first port: node i uses base+2i (libp2p) and base+2i+1 (HTTP); default: a free range")
	f.StringVar(&opts.Seed, "seed", "", "derive every key from this seed (reproducible testnets; such keys are only as secret as the seed)")
	f.StringVar(&opts.Broadcast, "broadcast", "direct", "broadcast path: direct or gossip")
	f.StringVar(&opts.LogLevel, "log-level", "info", "nodes' log level: debug, info, warn or error")
	f.BoolVar(&opts.Force, "force", false, "replace the testnet in a non-empty directory (never while it runs)")
	f.IntVar(&protocol.MaxBatch, "batch", protocol.MaxBatch, "most requests per PRE-PREPARE")
	f.IntVar(&protocol.CheckpointInterval, "checkpoint-interval", protocol.CheckpointInterval, "checkpoint every K sequence numbers")
	f.IntVar(&protocol.WatermarkWindow, "window", protocol.WatermarkWindow, "watermark window L (a multiple of the checkpoint interval)")
	f.IntVar(&protocol.MaxInFlight, "max-in-flight", protocol.MaxInFlight, "batches the primary may have proposed but not executed")
	f.Var((*durationFlag)(&protocol.BatchTimeout), "batch-timeout", "how long the primary waits to fill a batch")
	f.Var((*durationFlag)(&protocol.RequestTimeout), "request-timeout", "view-change timer: how long backups wait for a request to execute")
	return cmd
}

// durationFlag is a testnet.Duration as a pflag.Value.
type durationFlag testnet.Duration

func (d *durationFlag) String() string { return time.Duration(*d).String() }
func (d *durationFlag) Type() string   { return "duration" }
func (d *durationFlag) Set(s string) error {
	v, err := time.ParseDuration(s)
	if err != nil {
		return err
	}
	*d = durationFlag(v)
	return nil
}

// loadTestnet reads DIR/testnet.toml, as a usage error (exit 2) if it
// cannot.
func loadTestnet(dir string) (*testnet.Description, error) {
	d, err := testnet.LoadDescription(dir)
	if err != nil {
		return nil, &exitError{code: 2, err: err}
	}
	return d, nil
}

// loadTestnetNode reads the testnet in dir and finds one of its nodes.
func loadTestnetNode(dir, node string) (*testnet.Description, *testnet.NodeEntry, error) {
	d, err := loadTestnet(dir)
	if err != nil {
		return nil, nil, err
	}
	nd, err := d.Node(node)
	if err != nil {
		return nil, nil, &exitError{code: 2, err: err}
	}
	return d, nd, nil
}

// signalContext returns a context cancelled by SIGINT or SIGTERM.
func signalContext(parent context.Context) (context.Context, context.CancelFunc) {
	if parent == nil {
		parent = context.Background()
	}
	return signal.NotifyContext(parent, os.Interrupt, syscall.SIGTERM)
}

func testnetUpCommand() *cobra.Command {
	var (
		opts       testnet.UpOptions
		foreground bool
	)
	cmd := &cobra.Command{
		Use:   "up DIR",
		Short: "Start every node as a process, wait until all are healthy, print where they are",
		Long: `Start every node of the testnet as a separate process in its own session
(a Ctrl-C at the terminal does not reach it), appending its output to its
node.log, and wait until each answers /healthz with 200. A Ctrl-C or a node
that fails during the wait stops every node started.

With --foreground the command stays attached, prints a status line every
second, and on Ctrl-C (or SIGTERM) stops every node of the testnet and exits.`,
		Args: cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			d, err := loadTestnet(args[0])
			if err != nil {
				return err
			}
			ctx, stop := signalContext(cmd.Context())
			defer stop()
			out := cmd.OutOrStdout()
			fmt.Fprintf(out, "starting %d nodes of testnet %q (logs in %s/node-*/node.log)\n", d.N, d.Cluster, d.Dir())
			opts.Progress = healthProgress(cmd.ErrOrStderr())
			start := time.Now()
			procs, err := d.Up(ctx, opts)
			endProgress(cmd.ErrOrStderr())
			if err != nil {
				if ctx.Err() != nil {
					return &exitError{code: 1, err: errors.New("interrupted: stopped the nodes it had started")}
				}
				if errors.Is(err, testnet.ErrAlreadyRunning) {
					return &exitError{code: 2, err: err}
				}
				return &exitError{code: 1, err: fmt.Errorf("%w\nevery node it had started was stopped", err)}
			}
			fmt.Fprintf(out, "all %d nodes healthy after %s\n", d.N, time.Since(start).Round(10*time.Millisecond))
			printNodeTable(out, d, procs)
			if !foreground {
				fmt.Fprintf(out, "status: bftbed testnet status %s    stop: bftbed testnet down %s\n", args[0], args[0])
				return nil
			}
			return watchForeground(ctx, out, d, procs, opts.Grace)
		},
	}
	f := cmd.Flags()
	f.DurationVar(&opts.Timeout, "timeout", testnet.DefaultStartTimeout, "how long to wait for every node to be healthy")
	f.DurationVar(&opts.Grace, "grace", testnet.DefaultGrace, "how long a node gets after SIGTERM before SIGKILL, when stopping")
	f.BoolVar(&foreground, "foreground", false, "stay attached: a status line every second, Ctrl-C stops the testnet")
	f.StringVar(&opts.Exe, "binary", "", "bftbed binary to run the nodes with (default: this one)")
	return cmd
}

// healthProgress reports the wait for healthy nodes: on a terminal one line
// rewritten in place, otherwise a line each time the count changes.
func healthProgress(w io.Writer) func(testnet.StartProgress) {
	tty := isTerminal(w)
	last := -1
	return func(p testnet.StartProgress) {
		line := fmt.Sprintf("waiting for healthy nodes: %d/%d after %s", p.Healthy, p.Total, p.Elapsed.Round(100*time.Millisecond))
		if len(p.Waiting) > 0 {
			ids := make([]string, len(p.Waiting))
			for i, id := range p.Waiting {
				ids[i] = fmt.Sprint(id)
			}
			line += " (waiting for node " + strings.Join(ids, ", ") + ")"
		}
		switch {
		case tty:
			fmt.Fprintf(w, "\r\033[K%s", line)
		case p.Healthy != last:
			fmt.Fprintln(w, line)
		}
		last = p.Healthy
	}
}

// endProgress ends a progress line rewritten in place.
func endProgress(w io.Writer) {
	if isTerminal(w) {
		fmt.Fprint(w, "\r\033[K")
	}
}

// printNodeTable prints where each started node is.
func printNodeTable(out io.Writer, d *testnet.Description, procs []*testnet.Proc) {
	tw := tabwriter.NewWriter(out, 0, 0, 2, ' ', 0)
	fmt.Fprintln(tw, "NODE\tPID\tLIBP2P\tSTATUS\tMETRICS\tLOG")
	for _, p := range procs {
		nd := &d.Nodes[p.ID]
		fmt.Fprintf(tw, "%d\t%d\t%s\t%s\t%s\t%s\n", p.ID, p.PID, nd.Libp2p, nd.StatusURL(), nd.MetricsURL(), d.Path(nd.Log))
	}
	tw.Flush()
}

// watchForeground prints a status line every second until ctx ends, then
// stops every node of the testnet: those this command started and any
// restarted since by `bftbed testnet restart`.
func watchForeground(ctx context.Context, out io.Writer, d *testnet.Description, procs []*testnet.Proc, grace time.Duration) error {
	fmt.Fprintln(out, "watching (Ctrl-C stops the testnet)")
	start := time.Now()
	var liner testnet.StatusLiner
	exited := make([]bool, len(procs))
	tick := time.NewTicker(time.Second)
	defer tick.Stop()
	for ctx.Err() == nil {
		select {
		case <-ctx.Done():
			continue
		case <-tick.C:
		}
		for i, p := range procs {
			if p.Exited() && !exited[i] {
				exited[i] = true
				fmt.Fprintf(out, "node %d (pid %d) exited: %v\n", p.ID, p.PID, exitDescription(p.Err()))
			}
		}
		rctx, cancel := context.WithTimeout(ctx, 900*time.Millisecond)
		reports := d.Report(rctx)
		cancel()
		if ctx.Err() == nil {
			fmt.Fprintln(out, liner.Line(time.Now(), time.Since(start), reports))
		}
	}
	fmt.Fprintln(out, "\nstopping the testnet")
	stopped, err := d.StopProcs(procs, grace)
	for _, s := range stopped {
		fmt.Fprintln(out, " ", s)
	}
	rest, derr := d.Down(grace) // nodes restarted by another command
	for _, s := range rest {
		if s.PID != 0 {
			fmt.Fprintln(out, " ", s)
		}
	}
	if err = errors.Join(err, derr); err != nil {
		return &exitError{code: 1, err: err}
	}
	fmt.Fprintln(out, "all nodes stopped")
	return nil
}

// exitDescription says how a process ended.
func exitDescription(err error) string {
	if err == nil {
		return "exit status 0"
	}
	return err.Error()
}

func testnetDownCommand() *cobra.Command {
	var grace time.Duration
	cmd := &cobra.Command{
		Use:   "down DIR",
		Short: "Stop every node (SIGTERM, then SIGKILL after --grace) and remove the pid files",
		Args:  cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			d, err := loadTestnet(args[0])
			if err != nil {
				return err
			}
			stopped, err := d.Down(grace)
			out := cmd.OutOrStdout()
			for _, s := range stopped {
				fmt.Fprintln(out, s)
			}
			if err != nil {
				return &exitError{code: 1, err: err}
			}
			fmt.Fprintln(out, "no node process left")
			return nil
		},
	}
	cmd.Flags().DurationVar(&grace, "grace", testnet.DefaultGrace, "how long nodes get after SIGTERM before SIGKILL")
	return cmd
}

func testnetStatusCommand() *cobra.Command {
	cmd := &cobra.Command{
		Use:   "status DIR",
		Short: "One row per node: process, view, last executed, stable checkpoint, peers, health",
		Args:  cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			d, err := loadTestnet(args[0])
			if err != nil {
				return err
			}
			ctx, cancel := context.WithTimeout(cmd.Context(), 3*time.Second)
			defer cancel()
			printStatusTable(cmd.OutOrStdout(), d.Report(ctx))
			return nil
		},
	}
	return cmd
}

// printStatusTable prints one row per node report.
func printStatusTable(out io.Writer, reports []testnet.NodeReport) {
	tw := tabwriter.NewWriter(out, 0, 0, 2, ' ', 0)
	fmt.Fprintln(tw, "NODE\tPID\tVIEW\tPRIMARY\tEXECUTED\tSTABLE\tPEERS\tHEALTHY\tUPTIME\tCOMMITTED")
	for _, r := range reports {
		pid := "-"
		switch {
		case r.Running:
			pid = fmt.Sprint(r.PID)
		case r.PID != 0:
			pid = fmt.Sprintf("%d (dead)", r.PID)
		}
		st := r.Status
		if st == nil {
			fmt.Fprintf(tw, "%d\t%s\tdown\t\t\t\t\tno\t\t\n", r.ID, pid)
			continue
		}
		view := fmt.Sprint(st.View)
		if st.ViewChanging {
			view += " (changing)"
		}
		healthy := "yes"
		if !st.Healthy {
			healthy = "no"
		}
		fmt.Fprintf(tw, "%d\t%s\t%s\t%d\t%d\t%d\t%d/%d\t%s\t%s\t%d\n", r.ID, pid, view, st.Primary, st.LastExecuted,
			st.StableSeq, st.ConnectedPeers(), len(st.Peers), healthy, time.Duration(st.Uptime).Round(time.Second), st.CommittedRequests)
	}
	tw.Flush()
}

func testnetLogsCommand() *cobra.Command {
	var (
		follow bool
		lines  int
	)
	cmd := &cobra.Command{
		Use:   "logs DIR NODE",
		Short: "Print a node's log (-f: and follow it until Ctrl-C)",
		Args:  cobra.ExactArgs(2),
		RunE: func(cmd *cobra.Command, args []string) error {
			d, nd, err := loadTestnetNode(args[0], args[1])
			if err != nil {
				return err
			}
			ctx, stop := signalContext(cmd.Context())
			defer stop()
			err = testnet.CopyLog(ctx, cmd.OutOrStdout(), d.Path(nd.Log), lines, follow)
			if err != nil && !errors.Is(err, context.Canceled) {
				return &exitError{code: 1, err: err}
			}
			return nil
		},
	}
	cmd.Flags().BoolVarP(&follow, "follow", "f", false, "keep printing what the node appends")
	cmd.Flags().IntVarP(&lines, "lines", "n", 0, "print only the last N lines first (0: all)")
	return cmd
}

func testnetKillCommand() *cobra.Command {
	return &cobra.Command{
		Use:   "kill DIR NODE",
		Short: "SIGKILL one node: a crash, nothing flushed (restart it with 'testnet restart')",
		Args:  cobra.ExactArgs(2),
		RunE: func(cmd *cobra.Command, args []string) error {
			d, nd, err := loadTestnetNode(args[0], args[1])
			if err != nil {
				return err
			}
			s, err := d.Kill(nd.ID)
			if err != nil {
				return &exitError{code: 1, err: err}
			}
			fmt.Fprintf(cmd.OutOrStdout(), "node %d (pid %d) killed with SIGKILL\n", s.ID, s.PID)
			return nil
		},
	}
}

func testnetRestartCommand() *cobra.Command {
	var (
		opts  testnet.UpOptions
		reset bool
	)
	cmd := &cobra.Command{
		Use:   "restart DIR NODE",
		Short: "Start a stopped or killed node again from its data directory and wait until it is healthy",
		Args:  cobra.ExactArgs(2),
		RunE: func(cmd *cobra.Command, args []string) error {
			d, nd, err := loadTestnetNode(args[0], args[1])
			if err != nil {
				return err
			}
			if reset {
				opts.ExtraArgs = append(opts.ExtraArgs, "--reset-state")
			}
			ctx, stop := signalContext(cmd.Context())
			defer stop()
			opts.Progress = healthProgress(cmd.ErrOrStderr())
			start := time.Now()
			p, err := d.Restart(ctx, nd.ID, opts)
			endProgress(cmd.ErrOrStderr())
			if err != nil {
				if ctx.Err() != nil {
					return &exitError{code: 1, err: fmt.Errorf("interrupted: node %d stopped again", nd.ID)}
				}
				return &exitError{code: 1, err: err}
			}
			fmt.Fprintf(cmd.OutOrStdout(), "node %d restarted (pid %d), healthy after %s\n", p.ID, p.PID, time.Since(start).Round(10*time.Millisecond))
			return nil
		},
	}
	f := cmd.Flags()
	f.DurationVar(&opts.Timeout, "timeout", testnet.DefaultStartTimeout, "how long to wait for the node to be healthy")
	f.BoolVar(&reset, "reset-state", false, "pass --reset-state to the node: a corrupt store is moved aside and the node catches up from its peers")
	f.StringVar(&opts.Exe, "binary", "", "bftbed binary to run the node with (default: this one)")
	return cmd
}
