package adversary

import (
	"math/rand/v2"
	"slices"

	"github.com/bftbed/bftbed/pbft"
)

// registry lists every behaviour a scenario can name. Each entry documents
// its parameters (the CLI and the README print them) and builds a fresh
// value: behaviours keep state (replay's memory, equivocate's alternative
// batches), so one run must never inherit another's.
var registry = []*BehaviourInfo{
	{
		Name: "equivocate", Doc: "tell two stories: signed conflicting PRE-PREPAREs (as primary), PREPAREs, COMMITs, VIEW-CHANGEs and NEW-VIEWs",
		Params: []Param{{Name: "other", Type: "[ids]", Default: "a random half of the other replicas, from the seed", Doc: "the replicas that see the alternative history"}},
		build:  buildEquivocate,
	},
	{
		Name: "silent", Doc: "stay connected but send nothing to the other replicas (clients still get replies)",
		Params: []Param{{Name: "only_as_primary", Type: "bool", Default: "false", Doc: "stay silent only while primary"}},
		build:  func(r *paramReader) Behaviour { return &Silent{OnlyAsPrimary: r.bool("only_as_primary")} },
	},
	{
		Name: "censor", Doc: "ignore the requests of a share of the clients (as primary: order everyone's requests but theirs)",
		Params: []Param{{Name: "share", Type: "rate (0,1]", Default: "0.5", Doc: "share of the clients censored, drawn per client from the seed"}},
		build: func(r *paramReader) Behaviour {
			return &Censor{Share: r.rate("share", 0.5, false), Seed: r.env.Seed}
		},
	},
	{
		Name: "forge", Doc: "follow PREPAREs and COMMITs with an impostor copy (another sender) and a tampered copy (another seq)",
		Params: []Param{{Name: "rate", Type: "rate (0,1]", Default: "1", Doc: "share of votes followed by forgeries"}},
		build:  func(r *paramReader) Behaviour { return &Forge{Rate: r.rate("rate", 1, false)} },
	},
	{
		Name: "replay", Doc: "follow messages with old, validly signed ones",
		Params: []Param{
			{Name: "rate", Type: "rate (0,1]", Default: "1", Doc: "share of messages followed by an old one"},
			{Name: "keep", Type: "int 1..1048576", Default: "512", Doc: "how many messages are remembered"},
		},
		build: func(r *paramReader) Behaviour {
			return &Replay{Rate: r.rate("rate", 1, false), Keep: r.integer("keep", 512, 1, 1<<20)}
		},
	},
	{
		Name: "corrupt", Doc: "flip bytes in outgoing frames, or (resign) lie in validly signed STATE and REPLY messages",
		Params: []Param{
			{Name: "rate", Type: "rate (0,1]", Default: "1", Doc: "share of frames corrupted"},
			{Name: "bytes", Type: "int 1..1024", Default: "1", Doc: "bytes flipped per frame"},
			{Name: "resign", Type: "bool", Default: "false", Doc: "alter the data of STATE and REPLY messages and sign the result"},
		},
		build: func(r *paramReader) Behaviour {
			return &Corrupt{Rate: r.rate("rate", 1, false), Bytes: r.integer("bytes", 1, 1, 1024), Resign: r.bool("resign")}
		},
	},
	{
		Name: "slow", Doc: "delay every outgoing message by a drawn duration",
		Params: []Param{
			{Name: "dist", Type: `"constant" | "uniform" | "pareto"`, Default: `"constant"`, Doc: "the distribution of delays"},
			{Name: "delay", Type: "duration", Required: true, Doc: "the delay (constant), or the least delay (uniform, pareto)"},
			{Name: "max", Type: "duration", Doc: "the largest delay: required for uniform, an optional cap for pareto, not allowed for constant"},
			{Name: "alpha", Type: "number > 0", Default: "1.5", Doc: "the pareto shape (pareto only): smaller means a longer tail"},
		},
		build: buildSlow,
	},
	{
		Name: "skew", Doc: "run the replica's timers fast or slow",
		Params: []Param{{Name: "factor", Type: "number > 0", Required: true, Doc: "timer durations are multiplied by it: < 1 is a fast clock, > 1 a slow one"}},
		build:  func(r *paramReader) Behaviour { return &Skew{Factor: r.positive("factor", 1)} },
	},
	{
		Name: "drop", Doc: "lose a share of the replica's messages",
		Params: []Param{
			{Name: "rate", Type: "rate [0,1]", Default: "1", Doc: "share of matching messages lost"},
			{Name: "direction", Type: `"out" | "in" | "both"`, Default: `"out"`, Doc: "lose messages the replica sends, receives, or both"},
			{Name: "peers", Type: "[ids]", Default: "all", Doc: "only messages to or from these replicas (client traffic is then spared)"},
			{Name: "types", Type: "[names]", Default: "all", Doc: "only these message types, by their paper names: " + quoteAll(msgTypeNames())},
		},
		build: func(r *paramReader) Behaviour {
			return &Drop{
				Rate: r.rate("rate", 1, true), Direction: r.enum("direction", "out", "out", "in", "both"),
				Peers: r.ids("peers"), Types: r.msgTypes("types"),
			}
		},
	},
	{
		Name: "partition", Doc: "split the network (a network fault: no nodes)", Network: true,
		Params: []Param{
			{Name: "groups", Type: "[[ids], ...]", Doc: "replicas hear only their own group; a replica in no group hears everyone"},
			{Name: "oneway_from", Type: "[ids]", Doc: "with oneway_to: messages from these replicas to those are lost"},
			{Name: "oneway_to", Type: "[ids]", Doc: "with oneway_from: the replicas that stop hearing oneway_from (they are still heard)"},
		},
		build: buildPartition,
	},
	{
		Name: "isolate", Doc: "cut the fault's nodes off from every other replica, both ways (clients still reach them)",
		build: func(r *paramReader) Behaviour {
			if len(r.env.Nodes) == 0 {
				r.fail("", "isolate needs the nodes to cut off")
			}
			return &Isolate{Nodes: slices.Clone(r.env.Nodes)}
		},
	},
	lifecycle(CrashStop, "kill the replica at from; it never returns (no until)"),
	lifecycle(CrashRecover, "kill the replica at from (a power cut) and restart it from its storage at until"),
	lifecycle(Pause, "freeze the replica at from (SIGSTOP) and resume it at until"),
	lifecycle(Twins, "run a second honest instance under the replica's identity from from to until"),
}

func lifecycle(kind LifecycleKind, doc string) *BehaviourInfo {
	return &BehaviourInfo{
		Name: kind.String(), Doc: doc, Lifecycle: true,
		NeedsUntil: kind == CrashRecover || kind == Pause, Permanent: kind == CrashStop,
		build: func(*paramReader) Behaviour { return &LifecycleFault{Kind: kind} },
	}
}

// buildEquivocate fixes the split from the seed when the scenario leaves it
// open, so that a scenario runs the same way in the simulator and on a
// testnet (the behaviour would otherwise draw it from the replica's own
// randomness at first use).
func buildEquivocate(r *paramReader) Behaviour {
	e := &Equivocate{Other: r.ids("other")}
	for _, id := range e.Other {
		if slices.Contains(r.env.Nodes, id) {
			r.fail("other", "other lists replica %d, which is one of the fault's own nodes", id)
			break
		}
	}
	if e.Other != nil || r.env.N == 0 {
		return e
	}
	var rest []pbft.ReplicaID
	for id := range pbft.ReplicaID(r.env.N) {
		if !slices.Contains(r.env.Nodes, id) {
			rest = append(rest, id)
		}
	}
	rng := rand.New(rand.NewPCG(r.env.Seed, 0x65717569766f6361)) // "equivoca"
	rng.Shuffle(len(rest), func(i, j int) { rest[i], rest[j] = rest[j], rest[i] })
	if k := (len(rest) + 1) / 2; k > 0 {
		e.Other = rest[:k]
		slices.Sort(e.Other)
	}
	return e
}

func buildSlow(r *paramReader) Behaviour {
	s := &Slow{
		Dist:  r.enum("dist", "constant", "constant", "uniform", "pareto"),
		Delay: r.duration("delay", 0),
		Max:   r.duration("max", 0),
	}
	switch s.Dist {
	case "constant":
		if r.has("max") {
			r.fail("max", "max does not apply to a constant delay (use dist = \"uniform\" or \"pareto\")")
		}
	case "uniform":
		if !r.has("max") {
			r.fail("max", "missing parameter \"max\": a uniform delay needs the largest delay")
		} else if !r.failed("max") && !r.failed("delay") && s.Max <= s.Delay {
			r.fail("max", "max (%v) must be greater than delay (%v)", s.Max, s.Delay)
		}
	case "pareto":
		s.Alpha = r.positive("alpha", 1.5)
		if r.has("max") && !r.failed("max") && !r.failed("delay") && s.Max < s.Delay {
			r.fail("max", "max (%v) must not be less than delay (%v)", s.Max, s.Delay)
		}
	}
	if s.Dist != "pareto" && r.has("alpha") {
		r.fail("alpha", "alpha applies only to dist = \"pareto\"")
	}
	return s
}

func buildPartition(r *paramReader) Behaviour {
	p := &Partition{Groups: r.groups("groups"), From: r.ids("oneway_from"), To: r.ids("oneway_to")}
	oneway := r.has("oneway_from") || r.has("oneway_to")
	switch {
	case r.has("groups") && oneway:
		r.fail("groups", "give either groups or oneway_from and oneway_to, not both")
	case !r.has("groups") && !oneway:
		r.fail("", "a partition needs groups, or oneway_from and oneway_to")
	case oneway && !r.has("oneway_to"):
		r.fail("oneway_from", "oneway_from needs oneway_to")
	case oneway && !r.has("oneway_from"):
		r.fail("oneway_to", "oneway_to needs oneway_from")
	}
	if r.has("groups") && p.Groups != nil && len(p.Groups) < 2 {
		r.fail("groups", "groups must list at least two groups")
	}
	seen := map[pbft.ReplicaID]bool{}
	for _, g := range p.Groups {
		for _, id := range g {
			if seen[id] {
				r.fail("groups", "groups put replica %d in two groups", id)
				return p
			}
			seen[id] = true
		}
	}
	for _, id := range p.From {
		if slices.Contains(p.To, id) {
			r.fail("oneway_to", "replica %d is in both oneway_from and oneway_to", id)
			break
		}
	}
	return p
}
