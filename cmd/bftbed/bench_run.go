package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"path/filepath"
	"strings"
	"sync"
	"time"

	"github.com/spf13/cobra"
	"github.com/vbauerster/mpb/v8"
	"github.com/vbauerster/mpb/v8/decor"

	"github.com/bftbed/bftbed/adversary"
	"github.com/bftbed/bftbed/bench"
)

func benchRunCommand() *cobra.Command {
	var (
		seed uint64
		out  string
		keep bool
	)
	cmd := &cobra.Command{
		Use:   "run SCENARIO.toml [--seed S] [--out DIR] [--keep]",
		Short: "Run a scenario on a real local testnet (node processes on 127.0.0.1) and write a checked report",
		Long: `Run a scenario file on a real testnet: generate one of the scenario's size
and protocol parameters (keys derived from the seed, free ports on
127.0.0.1), start its nodes as processes, then from one start time run the
scenario's load over libp2p, apply its faults to the nodes (message faults
through each node's adversary endpoint; crashes, restarts and pauses on the
processes) and monitor every node, checking agreement live. Afterwards
every node is stopped, the ends of their logs are read from their stores,
and the run is checked and reported like 'bftbed sim' does: result.json,
timeseries.csv, PNG plots and report.html in --out.

A Ctrl-C (or SIGTERM) stops the run and every node, and still writes the
report of what ran. Exit status: 0 when every verdict is as the scenario
expects, 1 when one is not (or safety was violated, even as expected), 2
when the run could not be carried out, 130 when interrupted.`,
		Args: cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			return runTestnetScenario(cmd, args[0], seed, out, keep)
		},
	}
	f := cmd.Flags()
	f.Uint64Var(&seed, "seed", 0, "seed of the keys, the load and the adversary (default: the scenario's)")
	f.StringVarP(&out, "out", "o", "", "report folder (default results/<scenario>-testnet-<seed>)")
	f.BoolVar(&keep, "keep", false, "generate the testnet in DIR/testnet and keep it (configs, node logs, stores); default: a temporary directory, removed")
	return cmd
}

// runTestnetScenario runs one scenario file on a testnet and writes its
// report.
func runTestnetScenario(cmd *cobra.Command, path string, seed uint64, out string, keep bool) error {
	sc, err := adversary.LoadScenario(path)
	if err != nil {
		return &exitError{code: 2, err: err}
	}
	if seed == 0 {
		seed = sc.Seed
	}
	if out == "" {
		out = filepath.Join("results", fmt.Sprintf("%s-testnet-%d", sc.Name, seed))
	}
	opts := bench.TestnetOptions{Seed: seed, ReportDir: out, Keep: keep}
	if keep {
		opts.Dir = filepath.Join(out, "testnet")
	}
	stdout, stderr := cmd.OutOrStdout(), cmd.ErrOrStderr()
	fmt.Fprintf(stdout, "%s  (testnet, seed %d, n=%d, %v): %s\n", sc.Name, seed, sc.Testnet.N, sc.Duration, sc.Description)

	ctx, stop := signalContext(cmd.Context())
	defer stop()
	display := newLiveDisplay(ctx, stderr)
	opts.Progress = display.update
	opts.Logf = display.logf
	start := time.Now()
	res, runErr := bench.RunTestnet(ctx, sc, opts)
	display.close()
	interrupted := ctx.Err() != nil

	if res == nil {
		if interrupted {
			return &exitError{code: 130, err: fmt.Errorf("interrupted before the run started; every node stopped (%v)", runErr)}
		}
		return &exitError{code: 2, err: runErr}
	}
	if err := bench.WriteReport(out, res); err != nil {
		return &exitError{code: 2, err: errors.Join(runErr, err)}
	}
	fmt.Fprint(stdout, bench.Summary(res))
	fmt.Fprintf(stdout, "report: %s  (run took %s)\n", filepath.Join(out, bench.ReportFile), time.Since(start).Round(100*time.Millisecond))
	switch {
	case interrupted:
		return &exitError{code: 130, err: errors.New("interrupted: every node stopped; the report covers the part that ran")}
	case runErr != nil:
		return &exitError{code: 2, err: runErr}
	}
	return verdictExit(sc.Name, res)
}

// liveDisplay shows a running testnet: on a terminal, one status line
// rewritten in place (mpb, which trims it to the terminal's width) with
// event lines printed above it; elsewhere (CI logs, pipes) the events and
// a status line every plainEvery.
type liveDisplay struct {
	mu        sync.Mutex
	line      string
	w         io.Writer
	lastPlain time.Time

	// On a terminal: the display, and the event lines on their way to it.
	// mpb holds a write until its next refresh, and the fault timeline
	// logs an event just before carrying it out, so events go through a
	// queue rather than delay the faults.
	p      *mpb.Progress
	bar    *mpb.Bar
	events chan string
	done   chan struct{}
}

func newLiveDisplay(ctx context.Context, w io.Writer) *liveDisplay {
	d := &liveDisplay{w: w, line: "starting the testnet…", lastPlain: time.Now()}
	if !isTerminal(w) {
		return d
	}
	// The display outlives ctx: after a Ctrl-C it still shows the nodes
	// being stopped.
	d.p = mpb.NewWithContext(context.WithoutCancel(ctx), mpb.WithOutput(w), mpb.WithRefreshRate(250*time.Millisecond))
	d.bar = d.p.New(1, mpb.NopStyle(), mpb.PrependDecorators(decor.Any(func(decor.Statistics) string {
		d.mu.Lock()
		defer d.mu.Unlock()
		return d.line
	})))
	d.events, d.done = make(chan string, 1024), make(chan struct{})
	go func() {
		defer close(d.done)
		for line := range d.events {
			if _, err := d.p.Write([]byte(line)); err != nil {
				fmt.Fprint(w, line)
			}
		}
	}()
	return d
}

// update takes the run's progress, once a second.
func (d *liveDisplay) update(p bench.TestnetProgress) {
	line := p.Line()
	d.mu.Lock()
	d.line = line
	plain := d.p == nil && time.Since(d.lastPlain) >= plainEvery
	if plain {
		d.lastPlain = time.Now()
	}
	d.mu.Unlock()
	if plain {
		fmt.Fprintln(d.w, line)
	}
}

// logf prints an event on a line of its own, above the status line.
func (d *liveDisplay) logf(format string, args ...any) {
	line := fmt.Sprintf(format, args...)
	if !strings.HasSuffix(line, "\n") {
		line += "\n"
	}
	if d.events != nil {
		d.events <- line
		return
	}
	d.mu.Lock()
	defer d.mu.Unlock()
	fmt.Fprint(d.w, line)
}

// close prints the events still queued and removes the status line. No
// logf may follow.
func (d *liveDisplay) close() {
	if d.p == nil {
		return
	}
	close(d.events)
	<-d.done
	d.bar.Abort(true)
	d.p.Wait()
}
