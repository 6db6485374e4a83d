package adversary

import (
	"math/rand/v2"
	"sync"
	"sync/atomic"
	"time"

	"github.com/bftbed/bftbed/crypto"
	"github.com/bftbed/bftbed/pbft"
)

// Runtime runs a scenario's faults inside one replica of a real testnet:
// it wraps the replica's transport (message behaviours and link rules) and
// scales its timers (skew). Lifecycle faults (crash, pause, twins) are the
// runner's: it signals the replica's process.
//
// Every replica of the testnet runs a Runtime with the whole schedule: each
// one applies the faults on itself, and enforces the link rules for the
// messages it sends, so a partition holds in both directions and a one-way
// partition in one.
type Runtime struct {
	self   pbft.ReplicaID
	n      int
	key    crypto.PrivateKey
	domain crypto.Domain
	faults []Fault
	start  time.Time
	// View reports the replica's current view, for behaviours that act
	// only as primary. Set it once the node runs; nil means view 0.
	View func() pbft.View

	// mu serialises the behaviours: they keep state, and the node sends
	// from one goroutine while it receives on another.
	mu  sync.Mutex
	rng *rand.Rand
}

// NewRuntime returns the runtime of replica self for faults, whose times
// count from start.
func NewRuntime(self pbft.ReplicaID, n int, key crypto.PrivateKey, domain crypto.Domain, faults []Fault, start time.Time, seed uint64) *Runtime {
	return &Runtime{self: self, n: n, key: key, domain: domain, faults: faults, start: start,
		rng: rand.New(rand.NewPCG(seed, uint64(self)+1))}
}

func (rt *Runtime) now() time.Duration { return time.Since(rt.start) }

// active returns the faults on this replica now.
func (rt *Runtime) active(now time.Duration) []*Fault {
	var out []*Fault
	for i := range rt.faults {
		if f := &rt.faults[i]; f.Applies(rt.self) && f.ActiveAt(now) {
			out = append(out, f)
		}
	}
	return out
}

// allow applies the link rules active now to a message from this replica.
func (rt *Runtime) allow(to pbft.ReplicaID, now time.Duration) bool {
	for i := range rt.faults {
		f := &rt.faults[i]
		if rule, ok := f.Behaviour.(LinkRule); ok && f.ActiveAt(now) && !rule.Allow(rt.self, to, now) {
			return false
		}
	}
	return true
}

func (rt *Runtime) context(now time.Duration) *Context {
	ctx := &Context{Self: rt.self, N: rt.n, Key: rt.key, Domain: rt.domain, Now: now, Rand: rt.rng}
	if rt.View != nil {
		ctx.View = rt.View()
	}
	return ctx
}

// TimerScale is the product of the skews active on this replica now; the
// node multiplies every timer it arms by it.
func (rt *Runtime) TimerScale() float64 {
	scale := 1.0
	for _, f := range rt.active(rt.now()) {
		if s, ok := f.Behaviour.(TimerScaler); ok && s.TimerScale() > 0 {
			scale *= s.TimerScale()
		}
	}
	return scale
}

// Wrap returns t with the faults applied.
func (rt *Runtime) Wrap(t pbft.Transport) *Transport {
	w := NewTransport(t)
	w.SetRuntime(rt)
	return w
}

// Transport is a replica's transport under the adversary. Until a Runtime
// is set it passes everything through unchanged, so a node can always run
// with one and have faults switched on and off while it runs.
type Transport struct {
	inner pbft.Transport
	in    chan []byte
	rt    atomic.Pointer[Runtime]
}

// NewTransport wraps inner, with no faults yet.
func NewTransport(inner pbft.Transport) *Transport {
	w := &Transport{inner: inner, in: make(chan []byte, 1024)}
	go w.receive()
	return w
}

// SetRuntime switches the faults on (nil: off).
func (w *Transport) SetRuntime(rt *Runtime) { w.rt.Store(rt) }

// Runtime returns the faults in force, or nil.
func (w *Transport) Runtime() *Runtime { return w.rt.Load() }

// TimerScale is the Runtime's timer skew now, 1 without one: a node's
// pbft.NodeConfig.TimerScale.
func (w *Transport) TimerScale() float64 {
	if rt := w.rt.Load(); rt != nil {
		return rt.TimerScale()
	}
	return 1
}

// Send implements pbft.Transport.
func (w *Transport) Send(to pbft.ReplicaID, data []byte) {
	w.out(ToReplica(to), data)
}

// Broadcast implements pbft.Transport.
func (w *Transport) Broadcast(data []byte) {
	rt := w.rt.Load()
	if rt == nil {
		w.inner.Broadcast(data)
		return
	}
	now := rt.now()
	if len(rt.active(now)) == 0 && rt.allLinksOpen(now) {
		w.inner.Broadcast(data)
		return
	}
	for i := 0; i < rt.n; i++ {
		if id := pbft.ReplicaID(i); id != rt.self {
			w.out(ToReplica(id), data)
		}
	}
}

// SendClient implements pbft.Transport.
func (w *Transport) SendClient(c pbft.ClientID, data []byte) {
	w.out(Dest{Client: true, ClientID: c}, data)
}

func (rt *Runtime) allLinksOpen(now time.Duration) bool {
	for i := 0; i < rt.n; i++ {
		if id := pbft.ReplicaID(i); id != rt.self && !rt.allow(id, now) {
			return false
		}
	}
	return true
}

// out passes one outgoing copy through the behaviours and the link rules.
func (w *Transport) out(to Dest, data []byte) {
	rt := w.rt.Load()
	if rt == nil {
		w.put(to, data, 0)
		return
	}
	now := rt.now()
	faults := rt.active(now)
	if !to.Client && !rt.allow(to.Replica, now) {
		return
	}
	if len(faults) == 0 {
		w.put(to, data, 0)
		return
	}
	m, err := pbft.Unmarshal(data)
	if err != nil {
		return // not a message of ours: nothing to rewrite, nothing to send
	}
	rt.mu.Lock()
	pkts := []Packet{{To: to, Msg: m}}
	ctx := rt.context(now)
	for _, f := range faults {
		var next []Packet
		for _, p := range pkts {
			next = append(next, f.Behaviour.Outbound(ctx, p)...)
		}
		pkts = next
	}
	rt.mu.Unlock()
	for _, p := range pkts {
		b := p.Data
		if b == nil {
			b = pbft.Marshal(p.Msg)
		}
		w.put(p.To, b, p.Delay)
	}
}

// put hands bytes to the inner transport, after delay.
func (w *Transport) put(to Dest, data []byte, delay time.Duration) {
	send := func(b []byte) {
		if to.Client {
			w.inner.SendClient(to.ClientID, b)
		} else {
			w.inner.Send(to.Replica, b)
		}
	}
	if delay <= 0 {
		send(data)
		return
	}
	b := append([]byte(nil), data...) // the caller reuses data
	time.AfterFunc(delay, func() { send(b) })
}

// receive lets the behaviours of this replica see, and possibly lose,
// what it receives.
func (w *Transport) receive() {
	defer close(w.in)
	for data := range w.inner.Receive() {
		if w.keep(data) {
			w.in <- data
		}
	}
}

func (w *Transport) keep(data []byte) bool {
	rt := w.rt.Load()
	if rt == nil {
		return true
	}
	now := rt.now()
	faults := rt.active(now)
	if len(faults) == 0 {
		return true
	}
	m, err := pbft.Unmarshal(data)
	if err != nil {
		return true // the node's own checks reject it
	}
	from, client := sender(m)
	rt.mu.Lock()
	defer rt.mu.Unlock()
	ctx := rt.context(now)
	for _, f := range faults {
		if o, ok := f.Behaviour.(Observer); ok {
			o.Observe(ctx, m)
		}
		if in, ok := f.Behaviour.(InboundFilter); ok && !in.Inbound(ctx, from, client, m) {
			return false
		}
	}
	return true
}

// sender names who a message claims to come from (unauthenticated: the node
// checks signatures later; a forged sender only misleads a fault's filter).
func sender(m pbft.Message) (pbft.ReplicaID, bool) {
	switch m := m.(type) {
	case *pbft.Request:
		return 0, true
	case *pbft.PrePrepare:
		return m.Replica, false
	case *pbft.Prepare:
		return m.Replica, false
	case *pbft.Commit:
		return m.Replica, false
	case *pbft.Checkpoint:
		return m.Replica, false
	case *pbft.ViewChange:
		return m.Replica, false
	case *pbft.NewView:
		return m.Replica, false
	case *pbft.FetchState:
		return m.Replica, false
	case *pbft.State:
		return m.Replica, false
	case *pbft.Committed:
		return m.Replica, false
	case *pbft.Reply:
		return m.Replica, false
	}
	return 0, true
}

// Receive implements pbft.Transport.
func (w *Transport) Receive() <-chan []byte { return w.in }

// Close implements pbft.Transport.
func (w *Transport) Close() error { return w.inner.Close() }
