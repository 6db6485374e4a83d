package bench

import (
	"fmt"
	"math/rand/v2"
	"os"
	"strings"
	"time"

	"github.com/bftbed/bftbed/adversary"
	"github.com/bftbed/bftbed/pbft"
	"github.com/bftbed/bftbed/pbft/kv"
	"github.com/bftbed/bftbed/testnet/sim"
)

// CheckSimulator is the verdict of the simulator's own invariants, checked
// as the run went: agreement at every execution, no correct replica signing
// two different messages for one slot, and every running replica caught up
// at the end.
const CheckSimulator = "simulator"

// RunSim runs a scenario in the deterministic simulator, in virtual time,
// and returns its result, checked (a linearizability violation's
// visualisation goes to dir). The same scenario and seed give the same
// result, run after run.
// trace, if set, receives one line per simulated event.
func RunSim(sc *adversary.Scenario, seed uint64, dir string, trace func(string)) (*Result, error) {
	opts, rec, err := simOptions(sc, seed)
	if err != nil {
		return nil, err
	}
	opts.Trace = trace
	out, err := sim.Run(opts)
	if err != nil {
		return nil, err
	}
	res := newResult(sc, ModeSim, seed)
	rec.Finish(res, out.Stats.VirtualTime)
	Check(res, CheckOptions{Dir: dir})
	res.Verdicts = append(res.Verdicts, simVerdict(out, res.Expect.ViolatesSafety))
	return res, nil
}

// simOptions translates a scenario into the simulator's options, with an
// observer feeding a Recorder.
func simOptions(sc *adversary.Scenario, seed uint64) (sim.Options, *Recorder, error) {
	n := sc.Testnet.N
	opts := sim.DefaultOptions(seed, n)
	opts.Mix = "scenario"
	opts.Protocol = sc.Testnet.Config(0)
	opts.Net = sim.NetOptions{MinDelay: sc.Network.MinDelay, MaxDelay: sc.Network.MaxDelay, Loss: sc.Network.Loss, Duplicate: sc.Network.Duplicate}
	opts.FaultNet = opts.Net
	opts.Crashes = 0
	sc.Seed = seed
	faults, err := sc.BuildFaults()
	if err != nil {
		return opts, nil, err
	}
	opts.Faults = faults
	opts.FaultStart, opts.FaultEnd = sc.FaultWindow()
	opts.FaultEnd = max(opts.FaultEnd, sc.RecoveryStart())
	opts.BeyondF = sc.AllowBeyondF
	for _, f := range faults {
		if lc, ok := f.Behaviour.(adversary.Lifecycle); ok && lc.Lifecycle() == adversary.CrashRecover {
			opts.Pebble = true // a crash is a power cut on a real store
		}
	}
	opts.Clients = sc.Load.Clients
	opts.Think = sc.Load.Think
	if sc.Load.Rate > 0 {
		// The simulated clients are closed-loop; a rate becomes the
		// think time that offers it.
		opts.Think = time.Duration(float64(sc.Load.Clients) / sc.Load.Rate * float64(time.Second))
	}
	opts.Workload = mixWorkload(sc.Load)
	opts.LoadUntil = sc.Duration
	opts.OpsAfterFaults = 1
	opts.Deadline = sc.Duration + 2*time.Minute
	rec := NewRecorder(n, sampleInterval(sc.Duration))
	opts.Observer = &simObserver{rec: rec, n: n}
	return opts, rec, nil
}

// sampleInterval gives about a hundred samples per run, between 50ms and 1s.
func sampleInterval(d time.Duration) time.Duration {
	return min(max(d/100, 50*time.Millisecond), time.Second).Round(10 * time.Millisecond)
}

// newResult fills what a result says about its scenario.
func newResult(sc *adversary.Scenario, mode string, seed uint64) *Result {
	res := &Result{
		Scenario: Scenario{Name: sc.Name, Description: sc.Description, Mode: mode, Seed: seed,
			N: sc.Testnet.N, F: sc.F(), Duration: sc.Duration, File: sc.Source},
		Expect: Expect{ViolatesSafety: !sc.Expect.Safety, RecoverWithin: sc.Expect.RecoverWithin, MaxWait: sc.Expect.MaxWait},
	}
	if text, err := os.ReadFile(sc.Source); err == nil {
		res.Scenario.Text = string(text)
	}
	faults, _ := sc.BuildFaults()
	for _, f := range faults {
		w := FaultWindow{Behaviour: f.Behaviour.Name(), Nodes: f.Nodes, From: f.From, Until: f.Until,
			Byzantine: adversary.Byzantine(f.Behaviour), NetworkOnly: adversary.NetworkOnly(f.Behaviour)}
		if p, ok := f.Behaviour.(*adversary.Partition); ok && len(w.Nodes) == 0 {
			w.Nodes = partitionSide(p)
		}
		res.Faults = append(res.Faults, w)
	}
	return res
}

func partitionSide(p *adversary.Partition) []pbft.ReplicaID {
	if len(p.Groups) > 0 {
		return p.Groups[0]
	}
	return p.From
}

// mixWorkload draws operations from a scenario's mix over its key space.
// Written values are unique (client, counter), which makes stale reads
// visible to the linearizability checker.
func mixWorkload(l adversary.LoadSpec) sim.Workload {
	counters := map[int]int{}
	return func(rng *rand.Rand, client int) []byte {
		counters[client]++
		key := []byte(fmt.Sprintf("k%d", rng.IntN(max(l.Keys, 1))))
		val := []byte(fmt.Sprintf("c%d.%d.", client, counters[client]))
		if pad := l.Payload - len(val); pad > 0 {
			val = append(val, strings.Repeat("x", pad)...)
		}
		x := rng.Float64()
		switch {
		case x < l.Mix.Put:
			return kv.EncodePut(key, val)
		case x < l.Mix.Put+l.Mix.Get:
			return kv.EncodeGet(key)
		case x < l.Mix.Put+l.Mix.Get+l.Mix.Append:
			return kv.EncodeAppend(key, val)
		default:
			return kv.EncodeCAS(key, nil, val)
		}
	}
}

// simObserver feeds the simulator's events to a Recorder.
type simObserver struct {
	rec *Recorder
	n   int
}

func (o *simObserver) Committed(at time.Duration, replica pbft.ReplicaID, b pbft.CommittedBatch) {
	o.rec.Commit(at, replica, b)
}
func (o *simObserver) Stepped(at time.Duration, st pbft.Status) { o.rec.Status(at, st) }
func (o *simObserver) Sent(at time.Duration, from, to int, m pbft.Message, size int) {
	o.rec.Sent(at, from, size)
	if cp, ok := m.(*pbft.Checkpoint); ok && from >= 0 && cp.Replica == pbft.ReplicaID(from) {
		o.rec.OwnCheckpoint(cp.Replica, cp.Seq, cp.State)
	}
}
func (o *simObserver) Delivered(at time.Duration, from, to int, typ pbft.MsgType) {
	o.rec.Received(at, to, from, 0)
}
func (o *simObserver) Crashed(time.Duration, pbft.ReplicaID)   {}
func (o *simObserver) Restarted(time.Duration, pbft.ReplicaID) {}
func (o *simObserver) Operation(op sim.Operation) {
	o.rec.Operation(opFromSim(op))
}

// opFromSim turns a simulated client operation into a history record.
func opFromSim(op sim.Operation) Op {
	rec := Op{Client: ClientName(op.ClientID), Timestamp: op.Timestamp, Start: op.Start, End: op.End, Completed: op.Done}
	if kop, err := kv.DecodeOp(op.Op); err == nil {
		o := OpFromKV(kop)
		rec.Kind, rec.Key, rec.Value, rec.Expected = o.Kind, o.Key, o.Value, o.Expected
	}
	if op.Done {
		if r, err := kv.DecodeResult(op.Result); err == nil {
			rec.Output = ResultFromKV(r)
		}
	}
	return rec
}

// simVerdict reports the simulator's own invariants.
func simVerdict(out *sim.Result, violationExpected bool) Verdict {
	v := Verdict{Name: CheckSimulator, Pass: len(out.Violations) == 0, ExpectPass: !violationExpected || len(out.Violations) == 0}
	if v.Pass {
		v.Summary = fmt.Sprintf("no violation in %d events (%d messages, %d lost, %d cut, %d rejected)",
			out.Stats.Events, out.Stats.MessagesSent, out.Stats.MessagesLost, out.Stats.MessagesCut, out.Stats.Rejected)
		return v
	}
	v.Summary = fmt.Sprintf("%d violations", len(out.Violations))
	for _, x := range out.Violations {
		v.Details = append(v.Details, x.String())
	}
	return v
}
