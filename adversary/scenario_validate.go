package adversary

import (
	"errors"
	"fmt"
	"math"

	"github.com/bftbed/bftbed/pbft"
	"github.com/bftbed/bftbed/pbft/kv"
)

// validator checks a decoded scenario and reports each problem at the line
// of the key (or table) to fix. It reports everything it finds, except
// that the checks across faults run only once every fault is valid alone:
// they reason about windows and nodes that must already make sense.
type validator struct {
	s      *Scenario
	ix     *lineIndex
	errs   errorList
	broken map[int]bool // faults the decoder already found broken
}

func (v *validator) validate() {
	v.top()
	v.testnet()
	v.network()
	v.load()
	if v.faults() {
		v.conflicts()
		v.beyondF()
	}
}

// at returns the line of the first of paths the file has, or 0.
func (v *validator) at(paths ...string) int { return v.ix.find(paths...) }

func (v *validator) top() {
	s := v.s
	if s.Duration <= 0 {
		v.errs.add(v.at("duration"), "duration must be greater than 0")
	}
	if s.Expect.RecoverWithin <= 0 {
		v.errs.add(v.at("expect.recover_within", "expect"), "expect.recover_within must be greater than 0")
	}
	if !s.Expect.Safety && !s.AllowBeyondF {
		v.errs.add(v.at("expect.safety", "expect"), "expect.safety = false says the run must break safety, which PBFT rules out with at most f faulty replicas (set allow_beyond_f = true and fault more than f)")
	}
}

func (v *validator) testnet() {
	t := v.s.Testnet
	failed := false
	fail := func(line int, format string, args ...any) {
		failed = true
		v.errs.add(line, format, args...)
	}
	switch {
	case t.N < 4:
		fail(v.at("testnet.n", "testnet"), "testnet.n = %d: need at least 4 replicas (3f+1 with f >= 1)", t.N)
	case t.N > pbft.MaxViewChanges:
		fail(v.at("testnet.n", "testnet"), "testnet.n = %d: at most %d replicas", t.N, pbft.MaxViewChanges)
	case (t.N-1)%3 != 0:
		lo := (t.N-1)/3*3 + 1
		fail(v.at("testnet.n", "testnet"), "testnet.n = %d is not of the form 3f+1 (try %d or %d)", t.N, lo, lo+3)
	}
	if t.Batch < 1 || t.Batch > pbft.MaxBatchRequests {
		fail(v.at("testnet.batch", "testnet"), "testnet.batch = %d: must be in 1..%d", t.Batch, pbft.MaxBatchRequests)
	}
	if t.BatchTimeout <= 0 {
		fail(v.at("testnet.batch_timeout", "testnet"), "testnet.batch_timeout must be greater than 0")
	}
	if t.RequestTimeout <= 0 {
		fail(v.at("testnet.request_timeout", "testnet"), "testnet.request_timeout must be greater than 0")
	}
	k, l := t.CheckpointInterval, t.WatermarkWindow
	switch {
	case k < 1:
		fail(v.at("testnet.checkpoint_interval", "testnet"), "testnet.checkpoint_interval = %d: must be at least 1", k)
	case l < k || l%k != 0:
		fail(v.at("testnet.watermark_window", "testnet.checkpoint_interval", "testnet"),
			"testnet.watermark_window = %d is not a multiple of testnet.checkpoint_interval = %d", l, k)
	case l > pbft.MaxPrepared:
		fail(v.at("testnet.watermark_window", "testnet"), "testnet.watermark_window = %d: at most %d", l, pbft.MaxPrepared)
	}
	if !failed {
		// The protocol's own check, in case it learns a rule this file
		// does not know yet.
		cfg := t.Config(0)
		if err := cfg.Validate(); err != nil {
			v.errs.add(v.at("testnet"), "testnet: %v", err)
		}
	}
}

func (v *validator) network() {
	n := v.s.Network
	if n.MaxDelay < n.MinDelay {
		v.errs.add(v.at("network.max_delay", "network.min_delay", "network"), "network.max_delay (%v) is less than network.min_delay (%v)", n.MaxDelay, n.MinDelay)
	}
	if !(n.Loss >= 0 && n.Loss < 1) {
		v.errs.add(v.at("network.loss", "network"), "network.loss = %v: must be in [0, 1)", n.Loss)
	}
	if !(n.Duplicate >= 0 && n.Duplicate < 1) {
		v.errs.add(v.at("network.duplicate", "network"), "network.duplicate = %v: must be in [0, 1)", n.Duplicate)
	}
}

// maxClients bounds the load generator, well above what a testnet serves.
const maxClients = 100000

func (v *validator) load() {
	l := v.s.Load
	if l.Clients < 1 || l.Clients > maxClients {
		v.errs.add(v.at("load.clients", "load"), "load.clients = %d: must be in 1..%d", l.Clients, maxClients)
	}
	if !(l.Rate >= 0 && !math.IsInf(l.Rate, 0)) {
		v.errs.add(v.at("load.rate", "load"), "load.rate = %v: must be 0 (closed loop) or a positive number of operations per second", l.Rate)
	}
	if l.Payload < 0 || l.Payload > kv.MaxValueSize {
		v.errs.add(v.at("load.payload", "load"), "load.payload = %d: must be in 0..%d bytes", l.Payload, kv.MaxValueSize)
	}
	if l.Keys < 1 {
		v.errs.add(v.at("load.keys", "load"), "load.keys = %d: must be at least 1", l.Keys)
	}
	m := l.Mix
	for _, share := range []struct {
		name string
		v    float64
	}{{"put", m.Put}, {"get", m.Get}, {"append", m.Append}, {"cas", m.CAS}} {
		if !(share.v >= 0 && share.v <= 1) {
			v.errs.add(v.at("load.mix."+share.name, "load.mix", "load"), "load.mix.%s = %v: must be in [0, 1]", share.name, share.v)
			return
		}
	}
	if sum := m.Put + m.Get + m.Append + m.CAS; !(math.Abs(sum-1) <= 1e-9) {
		v.errs.add(v.at("load.mix", "load"), "load.mix sums to %v, want 1 (put %v + get %v + append %v + cas %v)", sum, m.Put, m.Get, m.Append, m.CAS)
	}
}

// faults checks each fault alone and builds its behaviour once, so that
// bad parameters are caught now rather than when a run starts. It reports
// whether every fault is valid.
func (v *validator) faults() bool {
	s := v.s
	// With a bad n (already reported), ids are checked against the
	// largest cluster only, and the checks across faults do not run.
	size := s.Testnet.N
	if !validN(size) {
		size = 0
	}
	ok := len(v.broken) == 0 && size > 0
	for i := range s.Faults {
		f := &s.Faults[i]
		n := i + 1
		if v.broken[n] {
			continue
		}
		info, _ := Describe(f.Behaviour)
		key := func(k string) int { return v.at(fmt.Sprintf("fault[%d].%s", n, k), fmt.Sprintf("fault[%d]", n)) }
		good := true
		fail := func(line int, format string, args ...any) {
			v.errs.add(line, "%s: %s", faultLabel(n, f.Behaviour), fmt.Sprintf(format, args...))
			good, ok = false, false
		}
		_, hasNodes := v.ix.lines[fmt.Sprintf("fault[%d].nodes", n)]
		switch {
		case info.Network && (hasNodes || len(f.Nodes) > 0):
			fail(key("nodes"), "a %s is a network fault: remove nodes (it acts on links, and makes no replica faulty)", f.Behaviour)
		case !info.Network && len(f.Nodes) == 0:
			fail(key("nodes"), "nodes must list the replicas the fault is on")
		}
		switch {
		case f.From >= s.Duration:
			fail(key("from"), "from = %v is not before the end of the run (duration = %v)", f.From, s.Duration)
		case f.Until > s.Duration:
			fail(key("until"), "until = %v is after the end of the run (duration = %v)", f.Until, s.Duration)
		case f.Until != 0 && f.Until <= f.From:
			fail(key("until"), "until = %v is not after from = %v", f.Until, f.From)
		}
		if info.NeedsUntil && f.Until == 0 {
			fail(f.Line, "missing until: %s needs the time the replica comes back", f.Behaviour)
		}
		if info.Permanent && f.Until != 0 {
			fail(key("until"), "%s is permanent: remove until (or use crash-recover)", f.Behaviour)
		}
		if !good {
			continue
		}
		if _, err := f.Build(size, faultSeed(s.Seed, i)); err != nil {
			for _, e := range flatten(err) {
				var pe *ParamError
				if errors.As(e, &pe) {
					fail(key(pe.Param), "%s", pe.Msg)
				} else {
					fail(f.Line, "%v", e)
				}
			}
		}
	}
	return ok
}

// validN reports whether n is a cluster size the protocol accepts.
func validN(n int) bool { return n >= 4 && n <= pbft.MaxViewChanges && (n-1)%3 == 0 }

// flatten returns the errors err joins, or err itself.
func flatten(err error) []error {
	if j, ok := err.(interface{ Unwrap() []error }); ok {
		return j.Unwrap()
	}
	return []error{err}
}
