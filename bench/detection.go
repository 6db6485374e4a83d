package bench

import (
	"slices"
	"time"

	"github.com/bftbed/bftbed/bench/phi"
	"github.com/bftbed/bftbed/pbft"
)

// Detection is how fast a phi-accrual failure detector, run by each
// correct node over the messages it received, would have noticed the
// faulty nodes — and how often it would have cried wolf.
type Detection struct {
	// Config is the detector's configuration, defaults filled in.
	Config phi.Config `json:"config"`
	// Suspicions has one row per fault window, faulty node and correct
	// observer.
	Suspicions []Suspicion `json:"suspicions"`
	// FalseSuspicions lists observer–peer pairs in which the observer
	// suspected a peer that no fault was acting on.
	FalseSuspicions []FalseSuspicion `json:"false_suspicions,omitempty"`
}

// Suspicion is when Observer first suspected Suspect during fault Fault.
type Suspicion struct {
	Observer   pbft.ReplicaID `json:"observer"`       // the correct node running the detector
	Suspect    pbft.ReplicaID `json:"suspect"`        // the faulty node
	Fault      int            `json:"fault"`          // index into Result.Faults
	Label      string         `json:"label"`          // the fault's label
	FaultStart time.Duration  `json:"fault_start_ns"` // when the fault began
	// Detected is false when φ stayed below the threshold for the whole
	// window (typical of behaviours that keep sending, such as
	// equivocation). Observers with no heartbeat record for the suspect
	// get no row at all.
	Detected bool `json:"detected"`
	// At is when φ first exceeded the threshold, and After is At minus
	// FaultStart (0 when the observer already suspected the peer when the
	// fault began).
	At    time.Duration `json:"at_ns,omitempty"`
	After time.Duration `json:"after_ns,omitempty"` // see At
}

// FalseSuspicion counts the times Observer suspected Peer while no fault
// acted on Peer, on Observer, or on the network.
type FalseSuspicion struct {
	Observer pbft.ReplicaID `json:"observer"` // who suspected
	Peer     pbft.ReplicaID `json:"peer"`     // whom
	Count    int            `json:"count"`    // how many separate times
	First    time.Duration  `json:"first_ns"` // when first
}

// episode is a period of suspicion: φ above the threshold from Start
// until the next heartbeat (End), or the end of the run.
type episode struct{ start, end time.Duration }

// suspicionEpisodes replays the arrivals through a detector and returns
// every period in which φ exceeded the threshold. The detector says when
// φ crosses the threshold inside each gap, so the result is exact, not
// sampled.
func suspicionEpisodes(cfg phi.Config, arrivals []time.Duration, runEnd time.Duration) []episode {
	arrivals = slices.Clone(arrivals)
	slices.Sort(arrivals)
	d := phi.New(cfg)
	var out []episode
	for _, a := range arrivals {
		if s, ok := d.SuspectAt(); ok && s < a {
			out = append(out, episode{s, a})
		}
		d.Heartbeat(a)
	}
	if s, ok := d.SuspectAt(); ok && s < runEnd {
		out = append(out, episode{s, runEnd})
	}
	return out
}

// DetectFailures runs the phi-accrual detector over every recorded
// observer–peer heartbeat series and reports, for each fault window on
// nodes (partitions excepted), when each observer that no fault touched
// during the window first suspected each of the window's nodes.
func DetectFailures(r *Result) *Detection {
	cfg := r.Detector.WithDefaults()
	det := &Detection{Config: cfg}
	end := r.end()
	type pair struct{ obs, peer pbft.ReplicaID }
	eps := map[pair][]episode{}
	for _, h := range r.Heartbeats {
		eps[pair{h.Observer, h.Peer}] = suspicionEpisodes(cfg, h.Arrivals, end)
	}
	// faultyDuring reports whether a node fault covers id somewhere in
	// [from, until).
	faultyDuring := func(id pbft.ReplicaID, from, until time.Duration) bool {
		for _, f := range r.Faults {
			if !f.NetworkOnly && slices.Contains(f.Nodes, id) && f.From < until && f.End(end) > from {
				return true
			}
		}
		return false
	}
	for i, f := range r.Faults {
		if f.NetworkOnly {
			continue
		}
		fEnd := f.End(end)
		for _, suspect := range f.Nodes {
			for _, obs := range r.nodeIDs() {
				if obs == suspect || faultyDuring(obs, f.From, fEnd) {
					continue
				}
				es, recorded := eps[pair{obs, suspect}]
				if !recorded {
					continue // nothing to judge from
				}
				s := Suspicion{Observer: obs, Suspect: suspect, Fault: i, Label: f.Label(), FaultStart: f.From}
				for _, e := range es {
					if e.end > f.From && e.start < fEnd {
						s.Detected = true
						s.At = max(e.start, f.From)
						s.After = s.At - f.From
						break
					}
				}
				det.Suspicions = append(det.Suspicions, s)
			}
		}
	}
	// False suspicions: episodes that begin while nothing acts on the
	// peer, the observer (a crashed observer hears nothing) or the
	// network.
	netFault := func(t time.Duration) bool {
		for _, f := range r.Faults {
			if f.NetworkOnly && f.From <= t && t < f.End(end) {
				return true
			}
		}
		return false
	}
	for _, h := range r.Heartbeats {
		var fs *FalseSuspicion
		for _, e := range eps[pair{h.Observer, h.Peer}] {
			t := e.start
			if faultyDuring(h.Peer, t, t+1) || faultyDuring(h.Observer, t, t+1) || netFault(t) {
				continue
			}
			if fs == nil {
				fs = &FalseSuspicion{Observer: h.Observer, Peer: h.Peer, First: t}
			}
			fs.Count++
		}
		if fs != nil {
			det.FalseSuspicions = append(det.FalseSuspicions, *fs)
		}
	}
	slices.SortFunc(det.FalseSuspicions, func(a, b FalseSuspicion) int {
		if a.Observer != b.Observer {
			return int(a.Observer) - int(b.Observer)
		}
		return int(a.Peer) - int(b.Peer)
	})
	return det
}
