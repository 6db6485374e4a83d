package load

import (
	"cmp"
	"context"
	"errors"
	"fmt"
	"slices"
	"time"

	"github.com/bftbed/bftbed/pbft"
)

// describe turns an Invoke error into a short, countable message.
func (r *runner) describe(err error) string {
	switch {
	case errors.Is(err, context.DeadlineExceeded):
		return fmt.Sprintf("no result within %s", r.cfg.OpTimeout)
	case errors.Is(err, context.Canceled):
		return "interrupted"
	case errors.Is(err, pbft.ErrClientClosed):
		return "client closed"
	}
	return err.Error()
}

// collect merges the workers' records into the Result.
func (r *runner) collect(interrupted bool) *Result {
	cfg := r.cfg
	res := &Result{
		Mode: "closed", Clients: cfg.Clients, Rate: cfg.Rate, Duration: cfg.Duration,
		Payload: cfg.Payload, Keys: cfg.Keys, Mix: cfg.Mix.String(), Seed: cfg.Seed,
		Start: r.start, Interrupted: interrupted, WarmupErrors: int(r.warmupErrs.Load()),
	}
	if cfg.Rate > 0 {
		res.Mode = "open"
	}
	r.endIssuing() // a no-op unless every worker returned early
	res.Elapsed = time.Duration(r.stoppedAt.Load())
	var samples []sample
	for _, w := range r.workers {
		res.ClientIDs = append(res.ClientIDs, w.client.ID())
		res.History = append(res.History, w.records...)
		samples = append(samples, w.samples...)
		res.Issued += w.issued
		res.HistoryDropped += w.dropped
		for msg, n := range w.errs {
			if res.ErrorCounts == nil {
				res.ErrorCounts = map[string]int{}
			}
			res.ErrorCounts[msg] += n
		}
	}
	slices.SortStableFunc(res.History, func(a, b Record) int { return cmp.Compare(a.Start, b.Start) })
	window := res.Elapsed
	if r.byMaxOps.Load() {
		// A run cut short by MaxOps is over when its last operation is.
		for _, s := range samples {
			window = max(window, s.end)
		}
		res.Elapsed = window
	}
	for _, s := range samples {
		if s.ok {
			res.Committed++
			if s.end <= window {
				res.Throughput++
			}
		} else {
			res.Errors++
		}
	}
	if window > 0 {
		res.Throughput /= window.Seconds()
	} else {
		res.Throughput = 0
	}
	if cfg.Rate > 0 {
		due := int(min(float64(window), float64(cfg.Duration))/float64(time.Second)*cfg.Rate + 0.999999)
		if cfg.MaxOps > 0 {
			due = min(due, cfg.MaxOps)
		}
		res.Unsent = max(0, due-res.Issued)
	}
	res.Latency = summarize(samples)
	res.Timeline = timeline(samples)
	return res
}
