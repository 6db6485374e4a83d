package sim

import (
	"time"

	"github.com/bftbed/bftbed/adversary"
	"github.com/bftbed/bftbed/crypto"
	"github.com/bftbed/bftbed/pbft"
	"github.com/bftbed/bftbed/pbft/kv"
)

// node is one simulated replica: a core, its application and its storage.
// A crash throws away the core and the application; the storage survives,
// as a disk whose every Save was synced.
type node struct {
	sim     *Simulator
	id      pbft.ReplicaID
	key     crypto.PrivateKey
	disk    disk
	storage pbft.Storage
	app     *kv.Store
	core    *pbft.Replica
	// incarnation grows at each crash, so that timers and deliveries
	// scheduled for an earlier life are dropped.
	incarnation int
	// crashMidStep makes the next step crash after its Persist is
	// durable and before it sends anything.
	crashMidStep bool
	// paused freezes the replica; held keeps what happens meanwhile.
	paused bool
	held   []func()
	// twin marks the second instance of a twins fault, and twinOf points
	// from the first to it while it runs.
	twin   bool
	twinOf *node
}

func (n *node) up() bool { return n.core != nil }

// start boots the replica, from its storage when rec is non-nil.
func (n *node) start(rec *pbft.Recovered) {
	cfg := n.sim.opts.Protocol
	cfg.ID, cfg.N = n.id, n.sim.opts.N
	n.app = kv.New()
	core, err := pbft.NewReplica(cfg, n.app, pbft.KeySigner{Domain: n.sim.domain, Key: n.key}, rec)
	if err != nil {
		n.sim.check.fail(Violation{Kind: "recovery", Detail: err.Error(), Replicas: []pbft.ReplicaID{n.id}})
		return
	}
	n.core = core
	n.handle(core.Start())
}

// crash stops the replica at once: nothing it has not saved survives.
func (n *node) crash() {
	n.sim.tracef("n%d CRASH", n.id)
	if o := n.sim.opts.Observer; o != nil && !n.twin {
		o.Crashed(time.Duration(n.sim.sched.now), n.id)
	}
	if n.sim.observe != nil && !n.twin {
		n.sim.observe(observation{"crash", n.id})
	}
	n.core, n.app, n.storage = nil, nil, nil
	n.crashMidStep = false
	n.disk.powerCut()
	n.incarnation++
	n.sim.stats.Crashes++
}

// restart recovers the replica from its storage.
func (n *node) restart() {
	st, err := n.disk.open()
	if err != nil {
		n.sim.check.fail(Violation{Kind: "recovery", Detail: err.Error(), Replicas: []pbft.ReplicaID{n.id}})
		return
	}
	n.storage = st
	rec, err := st.Load()
	if err != nil {
		n.sim.check.fail(Violation{Kind: "recovery", Detail: err.Error(), Replicas: []pbft.ReplicaID{n.id}})
		return
	}
	n.sim.tracef("n%d RESTART", n.id)
	if o := n.sim.opts.Observer; o != nil {
		o.Restarted(time.Duration(n.sim.sched.now), n.id)
	}
	if n.sim.observe != nil {
		n.sim.observe(observation{"restart", n.id})
	}
	delete(n.sim.stats.CommitsAfterRestart, n.id)
	n.sim.stats.Restarts++
	n.start(rec)
}

// deliver hands bytes from the network to the replica.
func (n *node) deliver(from int, data []byte) {
	n.whenRunning(n.incarnation, func() {
		m, err := n.sim.decode(data)
		if err != nil {
			n.sim.stats.Rejected++
			n.sim.tracef("n%d reject: %v", n.id, err)
			return
		}
		if !n.sim.inbound(n, from, m) {
			return
		}
		n.sim.tracef("n%d recv %s", n.id, describe(m))
		if o := n.sim.opts.Observer; o != nil && !n.twin {
			o.Delivered(time.Duration(n.sim.sched.now), from, int(n.id), m.Type())
		}
		if _, ok := m.(*pbft.State); ok && !n.twin {
			n.sim.stats.StateChunks[n.id]++
		}
		n.handle(n.core.Receive(m))
	})
}

// whenRunning runs f now if the replica is up in incarnation inc, later if
// it is paused (a stopped process keeps its sockets: what arrives waits),
// and never if it crashed since.
func (n *node) whenRunning(inc int, f func()) {
	switch {
	case n.incarnation != inc || !n.up():
	case n.paused:
		n.held = append(n.held, f)
	default:
		f()
	}
}

// handle carries out a Ready in the order the core requires: persist, then
// send, then arm timers.
func (n *node) handle(rd pbft.Ready) {
	if err := n.storage.Save(&rd.Persist); err != nil {
		n.sim.check.fail(Violation{Kind: "storage", Detail: err.Error(), Replicas: []pbft.ReplicaID{n.id}})
		return
	}
	if n.crashMidStep {
		n.sim.tracef("n%d crashes after persisting, before sending %d messages", n.id, len(rd.Messages)+len(rd.Replies))
		n.crash()
		return
	}
	for _, b := range rd.Committed {
		if !n.sim.byzantine(n.id) {
			n.sim.check.committed(n.id, b)
		}
		if o := n.sim.opts.Observer; o != nil && !n.twin {
			o.Committed(time.Duration(n.sim.sched.now), n.id, b)
		}
	}
	if o := n.sim.opts.Observer; o != nil && !n.twin && n.core != nil {
		o.Stepped(time.Duration(n.sim.sched.now), n.core.Status())
	}
	if v := rd.Persist.View; v != nil && !v.Changing {
		n.sim.noteView(v.View)
	}
	for _, env := range rd.Messages {
		if !n.twin {
			n.sim.check.signed(n.id, env.Msg)
			if _, ok := env.Msg.(*pbft.Commit); ok {
				n.sim.stats.CommitsAfterRestart[n.id]++
			}
		}
		if env.Broadcast {
			n.emitAll(env.Msg)
		} else if int(env.To) < len(n.sim.nodes) && env.To != n.id {
			n.emit(adversary.ToReplica(env.To), env.Msg, nil)
		}
	}
	for _, rep := range rd.Replies {
		n.emit(adversary.Dest{Client: true, ClientID: rep.Client}, rep, nil)
	}
	inc := n.incarnation
	scale := n.sim.timerScale(n.id)
	for _, t := range rd.Timers {
		if t.After == 0 {
			continue
		}
		t := t
		n.sim.sched.after(int64(float64(t.After)*scale), func() {
			n.whenRunning(inc, func() { n.handle(n.core.Fire(t.Kind, t.Gen)) })
		})
	}
}
