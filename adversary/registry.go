package adversary

import (
	"errors"
	"fmt"
	"slices"
	"strings"

	"github.com/bftbed/bftbed/pbft"
)

// Param documents one parameter of a behaviour.
type Param struct {
	// Name is the key in a [[fault]] table.
	Name string
	// Type is what the value must be, for humans: "bool", "rate",
	// "duration", "[ids]", ...
	Type string
	// Default is the value used when the key is absent ("" when the
	// parameter is required or has no value by default).
	Default string
	// Required reports that the fault must set the parameter.
	Required bool
	// Doc says what the parameter does.
	Doc string
}

// BehaviourInfo describes a behaviour as scenario files name it.
type BehaviourInfo struct {
	// Name is the behaviour's name in scenario files ("equivocate").
	Name string
	// Doc is a one-line summary.
	Doc string
	// Params lists the parameters the behaviour accepts, in the order the
	// documentation gives them.
	Params []Param
	// Network marks a fault on the network rather than on replicas: it
	// has no nodes and makes no replica faulty (a partition).
	Network bool
	// Lifecycle marks a fault the runner carries out on the replica
	// itself (crash, pause, twins): at most one at a time per replica.
	Lifecycle bool
	// NeedsUntil marks a fault that must end (crash-recover, pause);
	// Permanent one that must not (crash-stop).
	NeedsUntil, Permanent bool

	build func(r *paramReader) Behaviour
}

// BuildEnv is what building a behaviour may depend on besides its
// parameters: the cluster size (0 when unknown: replica ids are then only
// checked against the largest cluster), the replicas the fault is on, and a
// seed for the choices the parameters leave open.
type BuildEnv struct {
	N     int
	Nodes []pbft.ReplicaID
	Seed  uint64
}

// ParamError is a problem with one parameter of a behaviour (Param is ""
// when the problem is not tied to one).
type ParamError struct {
	Behaviour, Param, Msg string
}

// Error implements error.
func (e *ParamError) Error() string { return e.Behaviour + ": " + e.Msg }

// Behaviours returns the names of the behaviours, sorted.
func Behaviours() []string {
	names := make([]string, 0, len(registry))
	for _, b := range registry {
		names = append(names, b.Name)
	}
	slices.Sort(names)
	return names
}

// Describe returns the description of the behaviour called name.
func Describe(name string) (BehaviourInfo, bool) {
	for _, b := range registry {
		if b.Name == name {
			info := *b
			info.Params = slices.Clone(b.Params) // callers may not edit the registry
			return info, true
		}
	}
	return BehaviourInfo{}, false
}

// NewBehaviour returns a fresh behaviour called name with the given
// parameters (values as a TOML decoder produces them, or plain Go values:
// ints, floats, bools, strings, time.Duration, slices of these). It knows
// neither the cluster nor the fault's nodes: isolate cannot be built this
// way, and equivocate without other draws its split at run time. Use
// BuildEnv.NewBehaviour when they are known.
//
// Behaviours and their parameters, as written in a [[fault]] table of a
// scenario file (every parameter is optional unless marked required):
//
//	equivocate     other = [ids]: the replicas that see the second story.
//	               Default: a random half (rounded up) of the replicas the
//	               fault is not on, drawn from the scenario's seed.
//	silent         only_as_primary = bool (default false): stay silent only
//	               while primary.
//	forge          rate = (0,1] (default 1): share of PREPAREs and COMMITs
//	               followed by two forgeries.
//	replay         rate = (0,1] (default 1): share of messages followed by
//	               an old one; keep = int (default 512): messages remembered.
//	corrupt        rate = (0,1] (default 1): share of frames corrupted;
//	               bytes = int (default 1): bytes flipped per frame;
//	               resign = bool (default false): lie in validly signed
//	               STATE and REPLY messages instead of garbling frames.
//	slow           dist = "constant" | "uniform" | "pareto" (default
//	               "constant"); delay = duration (required): the constant
//	               delay, or the least one; max = duration: the largest delay
//	               (required for uniform, a cap for pareto, not allowed for
//	               constant); alpha = number > 0 (pareto only, default 1.5).
//	skew           factor = number > 0 (required): timer durations are
//	               multiplied by it (< 1: a fast clock, > 1: a slow one).
//	drop           rate = [0,1] (default 1): share of matching messages lost;
//	               direction = "out" | "in" | "both" (default "out");
//	               peers = [ids] (default all): only messages to or from
//	               these replicas; types = ["PREPARE", ...] (default all):
//	               only these message types (pbft.MsgType names).
//	partition      groups = [[ids], [ids], ...]: replicas hear only their own
//	               group (a replica in no group hears everyone); or
//	               oneway_from = [ids] with oneway_to = [ids]: messages from
//	               the first set to the second are lost, the other way works.
//	               Exactly one of the two forms. A partition is a network
//	               fault: the fault has no nodes.
//	isolate        no parameters: the fault's nodes are cut off from every
//	               other replica (clients still reach them).
//	crash-stop     no parameters; permanent, so no until.
//	crash-recover  no parameters; until is required (the restart).
//	pause          no parameters; until is required (the resume).
//	twins          no parameters: a second honest instance runs under the
//	               replica's identity until until (or the end of the run).
func NewBehaviour(name string, params map[string]any) (Behaviour, error) {
	return BuildEnv{}.NewBehaviour(name, params)
}

// NewBehaviour returns a fresh behaviour called name with the given
// parameters, checking replica ids against e.N. A bad parameter gives a
// *ParamError, several an error that unwraps to several.
func (e BuildEnv) NewBehaviour(name string, params map[string]any) (Behaviour, error) {
	info, ok := Describe(name)
	if !ok {
		return nil, fmt.Errorf("unknown behaviour %q (known: %s)", name, strings.Join(Behaviours(), ", "))
	}
	r := &paramReader{info: &info, env: e, m: params}
	r.checkKeys()
	b := r.info.build(r)
	if len(r.errs) == 1 {
		return nil, r.errs[0]
	}
	if len(r.errs) > 1 {
		return nil, errors.Join(r.errs...)
	}
	return b, nil
}

// allowed lists the parameter names of info, for error messages.
func (info *BehaviourInfo) allowed() string {
	if len(info.Params) == 0 {
		return "none"
	}
	names := make([]string, len(info.Params))
	for i, p := range info.Params {
		names[i] = p.Name
	}
	return strings.Join(names, ", ")
}
