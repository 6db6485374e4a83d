package bench

import (
	"fmt"
	"slices"
	"strings"
	"time"

	"github.com/bftbed/bftbed/pbft"
)

// rateWindow is the span over which the live committed rate is measured.
const rateWindow = time.Second

// Phases of a testnet run, in TestnetProgress.Phase.
const (
	PhaseStarting = "starting" // generating the testnet, starting its nodes
	PhaseRunning  = "running"  // load, faults and monitor under way
	PhaseDraining = "draining" // the load's duration is over; waiting for operations in flight
	PhaseStopping = "stopping" // stopping the nodes, reading their stores
)

// TestnetProgress is the live state of a testnet run, reported about once
// a second while it runs.
type TestnetProgress struct {
	Phase string
	// Elapsed counts from the start of the load (t0); Duration is the
	// scenario's.
	Elapsed, Duration time.Duration
	// Rate is the committed requests per second over the last second: the
	// (f+1)-th highest among the correct replicas, the rate at which
	// clients can see results (the measure the report uses).
	Rate float64
	// View is the view most answering replicas are in (the higher one on
	// a tie), and ViewChanging whether most of those are changing views.
	View         uint64
	ViewChanging bool
	// Up counts the replicas that answered their last poll, of N.
	Up, N int
	// Faults lists the scenario's faults active now ("equivocate n0").
	Faults []string
	// Agreement is the live agreement monitor's state in a few words;
	// Violated is set once it found a conflict.
	Agreement string
	Violated  bool
	// Ops and OpErrors count the client operations completed and failed
	// so far.
	Ops, OpErrors int64
}

// Line formats p as one terminal line.
func (p TestnetProgress) Line() string {
	if p.Phase == PhaseStarting || p.Phase == PhaseStopping {
		return fmt.Sprintf("[%s] %s", fmtClock(p.Elapsed, p.Duration), p.Phase)
	}
	faults := "none"
	if len(p.Faults) > 0 {
		faults = strings.Join(p.Faults, ", ")
	}
	view := fmt.Sprintf("view %d", p.View)
	if p.ViewChanging {
		view += " (changing)"
	}
	phase := ""
	if p.Phase == PhaseDraining {
		phase = " draining"
	}
	// Most important first: a narrow terminal cuts the end off.
	return fmt.Sprintf("[%s]%s %5.0f req/s | %s | faults: %s | %s | up %d/%d | ops %d, errors %d",
		fmtClock(p.Elapsed, p.Duration), phase, p.Rate, view, faults, p.Agreement, p.Up, p.N, p.Ops, p.OpErrors)
}

// fmtClock formats elapsed of total as " 5s/20s".
func fmtClock(elapsed, total time.Duration) string {
	return fmt.Sprintf("%3.0fs/%.0fs", max(elapsed, 0).Seconds(), total.Seconds())
}

// progress fills the monitor's part of a progress report.
func (m *monitor) progress(p *TestnetProgress) {
	m.mu.Lock()
	defer m.mu.Unlock()
	p.N = len(m.nodes)
	views := map[uint64]int{}
	changing := 0
	var rates []float64
	for _, ns := range m.nodes {
		if st := ns.status; st != nil {
			p.Up++
			views[st.View]++
			if st.ViewChanging {
				changing++
			}
		}
		if m.byz[pbft.ReplicaID(ns.id)] {
			continue
		}
		rates = append(rates, rateOf(ns.history))
	}
	best := -1
	for v, c := range views {
		if c > best || (c == best && v > p.View) {
			p.View, best = v, c
		}
	}
	p.ViewChanging = p.Up > 0 && 2*changing > p.Up
	slices.Sort(rates)
	slices.Reverse(rates)
	if k := m.f; k < len(rates) {
		p.Rate = rates[k]
	}
	p.Agreement = m.agree.state()
	p.Violated = m.agree.count > 0
}

// rateOf is the committed rate over a node's recent history.
func rateOf(h []ratePoint) float64 {
	if len(h) < 2 {
		return 0
	}
	a, b := h[0], h[len(h)-1]
	if b.at <= a.at {
		return 0
	}
	return float64(b.committed-a.committed) / (b.at - a.at).Seconds()
}

// activeFaults lists the faults of res active at time at.
func activeFaults(faults []FaultWindow, at, end time.Duration) []string {
	var out []string
	for _, f := range faults {
		if at >= f.From && at < f.End(end) {
			out = append(out, f.Label())
		}
	}
	return out
}
