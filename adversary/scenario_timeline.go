package adversary

import (
	"cmp"
	"fmt"
	"slices"
	"strings"
	"time"

	"github.com/bftbed/bftbed/pbft"
)

// span is a fault's window on the run's timeline, [from, end): a fault
// without until (crash-stop among them) lasts to the end of the run.
type span struct {
	n         int // 1-based, as errors number faults
	f         *FaultSpec
	info      BehaviourInfo
	from, end time.Duration
}

func (v *validator) spans() []span {
	out := make([]span, len(v.s.Faults))
	for i := range v.s.Faults {
		f := &v.s.Faults[i]
		info, _ := Describe(f.Behaviour)
		out[i] = span{n: i + 1, f: f, info: info, from: f.From, end: v.s.until(f)}
	}
	return out
}

func (a span) overlaps(b span) bool { return a.from < b.end && b.from < a.end }

// sharedNode returns the lowest replica both faults are on.
func (a span) sharedNode(b span) (pbft.ReplicaID, bool) {
	for _, id := range slices.Sorted(slices.Values(a.f.Nodes)) {
		if slices.Contains(b.f.Nodes, id) {
			return id, true
		}
	}
	return 0, false
}

func (a span) is(kind LifecycleKind) bool {
	lf, ok := a.f.behaviourKind()
	return ok && lf == kind
}

// behaviourKind returns the lifecycle kind the fault names, if any.
func (f *FaultSpec) behaviourKind() (LifecycleKind, bool) {
	for _, k := range []LifecycleKind{CrashStop, CrashRecover, Pause, Twins} {
		if k.String() == f.Behaviour {
			return k, true
		}
	}
	return 0, false
}

// conflicts rejects faults on one replica that cannot both hold: two
// lifecycle faults at once (a replica cannot be paused and crashed, or
// crashed twice), anything on a replica after its crash-stop, and a
// behaviour on a replica while it is crashed, which would silently do
// nothing. Each fault is reported once, at the fault to change.
func (v *validator) conflicts() {
	sp := v.spans()
	reported := map[int]bool{}
	for j := range sp {
		for i := range j {
			a, b := sp[i], sp[j]
			id, ok := a.sharedNode(b)
			if !ok || !a.overlaps(b) {
				continue
			}
			at, msg := conflict(a, b)
			if msg != "" && !reported[at.n] {
				reported[at.n] = true
				v.errs.add(at.f.Line, "%s on replica %d %s", faultLabel(at.n, at.f.Behaviour), id, msg)
			}
		}
	}
}

// conflict explains why a and b cannot overlap on a replica, and names the
// fault to report it at; "" when they can.
func conflict(a, b span) (span, string) {
	switch {
	case a.is(CrashStop) || b.is(CrashStop):
		cs, o := a, b
		if !a.is(CrashStop) {
			cs, o = b, a
		}
		return o, fmt.Sprintf("runs past %v, when fault %d (crash-stop) stops that replica for good (end it by %v)", cs.from, cs.n, cs.from)
	case a.info.Lifecycle && b.info.Lifecycle:
		return b, fmt.Sprintf("overlaps fault %d (%s, %v to %v): a replica goes through one lifecycle fault at a time", a.n, a.f.Behaviour, a.from, a.end)
	case a.is(CrashRecover) || b.is(CrashRecover):
		cr, o := a, b
		if !a.is(CrashRecover) {
			cr, o = b, a
		}
		return o, fmt.Sprintf("overlaps its crash in fault %d (crash-recover, %v to %v): a crashed replica sends and receives nothing, so the fault would do nothing then (end it by %v or start it at %v)", cr.n, cr.from, cr.end, cr.from, cr.end)
	}
	return span{}, ""
}

// beyondF rejects more than f faulty replicas at any instant, unless the
// scenario allows it. The number of faulty replicas only grows when a fault
// starts, so it is enough to count at each start: the distinct replicas of
// the faults active then. Network faults (a partition) make no replica
// faulty; every other fault does, isolate and crashes included, because a
// replica the protocol cannot count on is one of the f it tolerates.
func (v *validator) beyondF() {
	if v.s.AllowBeyondF {
		return
	}
	sp := v.spans()
	f := v.s.F()
	starts := make([]span, 0, len(sp))
	for _, a := range sp {
		if !a.info.Network {
			starts = append(starts, a)
		}
	}
	slices.SortStableFunc(starts, func(a, b span) int { return cmp.Compare(a.from, b.from) })
	for _, s := range starts {
		var nodes []pbft.ReplicaID
		var faults []int
		last := s
		for _, a := range starts {
			if a.from > s.from || a.end <= s.from {
				continue
			}
			faults = append(faults, a.n)
			for _, id := range a.f.Nodes {
				if !slices.Contains(nodes, id) {
					nodes = append(nodes, id)
				}
			}
			if a.from == s.from && a.n > last.n {
				last = a
			}
		}
		if len(nodes) > f {
			slices.Sort(nodes)
			slices.Sort(faults)
			in := "faults"
			if len(faults) == 1 {
				in = "fault"
			}
			v.errs.add(last.f.Line, "%d replicas are faulty at once from %v (replicas %s, in %s %s), more than f = %d for n = %d (set allow_beyond_f = true if that is the point)",
				len(nodes), s.from, list(nodes), in, list(faults), f, v.s.Testnet.N)
			return
		}
	}
}

// list joins numbers with commas.
func list[T any](xs []T) string {
	out := make([]string, len(xs))
	for i, x := range xs {
		out[i] = fmt.Sprint(x)
	}
	return strings.Join(out, ", ")
}
