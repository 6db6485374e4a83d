package sim

import (
	"time"

	"github.com/bftbed/bftbed/adversary"
	"github.com/bftbed/bftbed/pbft"
)

// The adversary in the simulator: faulty replicas run the honest core, and
// their outgoing messages pass through the behaviours of the faults active
// on them; link rules decide what the network carries; lifecycle faults
// crash, pause or duplicate replicas on schedule.

// activeFaults returns the faults on replica id now, in scenario order.
func (s *Simulator) activeFaults(id pbft.ReplicaID) []*adversary.Fault {
	var out []*adversary.Fault
	now := time.Duration(s.sched.now)
	for i := range s.opts.Faults {
		f := &s.opts.Faults[i]
		if f.Applies(id) && f.ActiveAt(now) {
			out = append(out, f)
		}
	}
	return out
}

// advContext is what a behaviour of replica n may use.
func (n *node) advContext() *adversary.Context {
	ctx := &adversary.Context{
		Self: n.id, N: n.sim.opts.N, Key: n.key, Domain: n.sim.domain,
		Now: time.Duration(n.sim.sched.now), Rand: n.sim.rng,
	}
	if n.core != nil {
		ctx.View = n.core.Status().View
	}
	return ctx
}

// emitAll sends m to every other replica.
func (n *node) emitAll(m pbft.Message) {
	faults := n.sim.activeFaults(n.id)
	var data []byte
	if len(faults) == 0 {
		data = pbft.Marshal(m) // one encoding for every copy
	}
	for _, to := range n.sim.nodes {
		if to.id != n.id {
			n.emitVia(faults, adversary.ToReplica(to.id), m, data)
		}
	}
}

// emit sends m to one destination.
func (n *node) emit(to adversary.Dest, m pbft.Message, data []byte) {
	n.emitVia(n.sim.activeFaults(n.id), to, m, data)
}

// emitVia passes one copy of m through the behaviours of faults, then puts
// what comes out on the network.
func (n *node) emitVia(faults []*adversary.Fault, to adversary.Dest, m pbft.Message, data []byte) {
	pkts := []adversary.Packet{{To: to, Msg: m, Data: data}}
	if len(faults) > 0 {
		ctx := n.advContext()
		for _, f := range faults {
			var next []adversary.Packet
			for _, p := range pkts {
				out := f.Behaviour.Outbound(ctx, p)
				if len(out) == 0 {
					n.sim.stats.MessagesLost++ // an omission
				}
				next = append(next, out...)
			}
			pkts = next
		}
	}
	for _, p := range pkts {
		data := p.Data
		if data == nil {
			data = pbft.Marshal(p.Msg)
		}
		if o := n.sim.opts.Observer; o != nil && !n.twin {
			to := clientEnd
			if !p.To.Client {
				to = int(p.To.Replica)
			}
			o.Sent(time.Duration(n.sim.sched.now), int(n.id), to, p.Msg, len(data))
		}
		if p.To.Client {
			for _, c := range n.sim.clients {
				if c.core.ID() == p.To.ClientID {
					n.sim.send(int(n.id), clientEnd, c.deliver, data, p.Delay)
				}
			}
			continue
		}
		n.sim.toReplica(int(n.id), p.To.Replica, data, p.Delay)
	}
}

// toReplica sends data to replica to: to both instances while it has a twin.
func (s *Simulator) toReplica(from int, to pbft.ReplicaID, data []byte, extra time.Duration) {
	if int(to) >= len(s.nodes) {
		return
	}
	target := s.nodes[to]
	s.send(from, int(to), func(b []byte) { target.deliver(from, b) }, data, extra)
	if tw := target.twinOf; tw != nil {
		s.send(from, int(to), func(b []byte) { tw.deliver(from, b) }, data, extra)
	}
}

// linkAllowed applies the link rules of the faults active now.
func (s *Simulator) linkAllowed(from, to pbft.ReplicaID) bool {
	now := time.Duration(s.sched.now)
	for i := range s.opts.Faults {
		f := &s.opts.Faults[i]
		if rule, ok := f.Behaviour.(adversary.LinkRule); ok && f.ActiveAt(now) && !rule.Allow(from, to, now) {
			return false
		}
	}
	return true
}

// inbound lets the behaviours of a faulty receiver see (and possibly lose)
// a message before its core does.
func (s *Simulator) inbound(n *node, from int, m pbft.Message) bool {
	faults := s.activeFaults(n.id)
	if len(faults) == 0 {
		return true
	}
	ctx := n.advContext()
	for _, f := range faults {
		if o, ok := f.Behaviour.(adversary.Observer); ok {
			o.Observe(ctx, m)
		}
		if in, ok := f.Behaviour.(adversary.InboundFilter); ok && !in.Inbound(ctx, pbft.ReplicaID(max(from, 0)), from < 0, m) {
			s.stats.MessagesLost++
			return false
		}
	}
	return true
}

// timerScale is the product of the timer skews active on replica id.
func (s *Simulator) timerScale(id pbft.ReplicaID) float64 {
	scale := 1.0
	for _, f := range s.activeFaults(id) {
		if sk, ok := f.Behaviour.(adversary.TimerScaler); ok && sk.TimerScale() > 0 {
			scale *= sk.TimerScale()
		}
	}
	return scale
}

// scheduleLifecycle plans the crash, pause and twins faults.
func (s *Simulator) scheduleLifecycle() {
	for i := range s.opts.Faults {
		f := &s.opts.Faults[i]
		lc, ok := f.Behaviour.(adversary.Lifecycle)
		if !ok {
			continue
		}
		kind := lc.Lifecycle()
		for _, id := range f.Nodes {
			if int(id) >= len(s.nodes) {
				continue
			}
			n := s.nodes[id]
			s.sched.at(int64(f.From), func() { s.lifecycleStart(n, kind) })
			if f.Until > 0 {
				s.sched.at(int64(f.Until), func() { s.lifecycleEnd(n, kind) })
			}
		}
	}
}

func (s *Simulator) lifecycleStart(n *node, kind adversary.LifecycleKind) {
	switch kind {
	case adversary.CrashStop, adversary.CrashRecover:
		if n.up() {
			n.crash()
		}
	case adversary.Pause:
		s.tracef("n%d PAUSE", n.id)
		n.paused = true
	case adversary.Twins:
		s.startTwin(n)
	}
}

func (s *Simulator) lifecycleEnd(n *node, kind adversary.LifecycleKind) {
	switch kind {
	case adversary.CrashRecover:
		if !n.up() {
			n.restart()
		}
	case adversary.Pause:
		s.tracef("n%d RESUME (%d held events)", n.id, len(n.held))
		n.paused = false
		held := n.held
		n.held = nil
		for _, f := range held {
			f()
		}
	case adversary.Twins:
		if tw := n.twinOf; tw != nil {
			tw.crash()
			n.twinOf = nil
		}
	}
}

// startTwin starts a second honest instance of n under n's identity, from a
// copy of n's durable state: from now on both receive everything sent to
// the replica, and both send.
func (s *Simulator) startTwin(n *node) {
	if n.storage == nil || n.twinOf != nil {
		return
	}
	rec, err := n.storage.Load()
	if err != nil {
		s.check.fail(Violation{Kind: "recovery", Detail: "twin: " + err.Error(), Replicas: []pbft.ReplicaID{n.id}})
		return
	}
	tw := &node{sim: s, id: n.id, key: n.key, disk: &memDisk{}, twin: true}
	st, _ := tw.disk.open()
	tw.storage = st
	s.tracef("n%d TWIN starts", n.id)
	n.twinOf = tw
	tw.start(rec)
}

// byzantine reports whether replica id is ever Byzantine in this run: the
// safety checks do not hold it to its word.
func (s *Simulator) byzantine(id pbft.ReplicaID) bool {
	for i := range s.opts.Faults {
		if f := &s.opts.Faults[i]; f.Applies(id) && adversary.Byzantine(f.Behaviour) {
			return true
		}
	}
	return false
}
