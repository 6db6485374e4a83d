package pbft_test

import (
	"fmt"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/bftbed/bftbed/crypto"
	"github.com/bftbed/bftbed/pbft"
	"github.com/bftbed/bftbed/pbft/kv"
)

// The environment of the interaction tests: n replica cores and some
// clients joined by a network that delivers nothing by itself. Every message
// a core or client sends is marshalled and queued, per recipient, until a
// script delivers or drops it; delivery is Unmarshal, Authenticate, Receive,
// exactly as on a real network. See interaction_test.go for the commands.

// ienv is one scenario's cluster.
type ienv struct {
	t      testing.TB
	cfg    pbft.Config // the template: ID is set per replica
	domain crypto.Domain
	keys   []crypto.PrivateKey
	nodes  []*inode
	cls    []*iclient
	queue  []*imsg
	nextID int
	// vcSent is the last VIEW-CHANGE each replica sent for each view, for
	// forge-newview.
	vcSent map[vcKey]*pbft.ViewChange
	// executed is what each replica executed at each sequence number, over
	// all its lives: the agreement check.
	executed []map[pbft.Seq]pbft.Digest
	out      *printer
}

// numTimerKinds is the number of the core's timer kinds.
const numTimerKinds = int(pbft.TimerFetch) + 1

type vcKey struct {
	replica pbft.ReplicaID
	view    pbft.View
}

// inode is one replica: a core (nil while crashed), its application, its
// storage (which survives a crash, as a synced disk) and its armed timers.
type inode struct {
	id      pbft.ReplicaID
	storage *pbft.MemoryStorage
	app     *kv.Store
	core    *pbft.Replica
	timers  [numTimerKinds]pbft.TimerCmd
}

// iclient is one client: its core, its last request and the replies it got.
type iclient struct {
	idx      int
	key      crypto.PrivateKey
	core     *pbft.ClientCore
	last     *pbft.Request
	replies  []*pbft.Reply
	accepted map[uint64][]byte
}

// imsg is a message in flight. from is a replica id, or -1-i for client i.
type imsg struct {
	id   int
	from int
	to   pbft.ReplicaID
	data []byte
	msg  pbft.Message // decoded once, for filters and printing
}

// Endpoint names: "2" for replica 2, "c0" for client 0.
func endpointName(from int) string {
	if from < 0 {
		return fmt.Sprintf("c%d", -1-from)
	}
	return fmt.Sprint(from)
}

func newIEnv(t testing.TB, n int, k, l pbft.Seq, batch, inflight, clients, chunk int) *ienv {
	e := &ienv{
		t:      t,
		domain: crypto.NewDomain("interaction"),
		vcSent: map[vcKey]*pbft.ViewChange{},
		out:    &printer{},
		cfg: pbft.Config{
			N: n, CheckpointInterval: k, WatermarkWindow: l,
			MaxBatch: batch, MaxInFlight: inflight,
			BatchTimeout: 10 * time.Millisecond, RequestTimeout: time.Second,
			StateChunkSize: chunk,
		},
	}
	for i := range n {
		e.keys = append(e.keys, crypto.DeriveKey([]byte("interaction"), fmt.Sprintf("replica/%d", i)))
		e.nodes = append(e.nodes, &inode{id: pbft.ReplicaID(i), storage: pbft.NewMemoryStorage()})
		e.executed = append(e.executed, map[pbft.Seq]pbft.Digest{})
	}
	for i := range clients {
		key := crypto.DeriveKey([]byte("interaction"), fmt.Sprintf("client/%d", i))
		e.cls = append(e.cls, &iclient{
			idx: i, key: key, core: pbft.NewClientCore(n, e.domain, key, 0),
			accepted: map[uint64][]byte{},
		})
	}
	for _, nd := range e.nodes {
		e.start(nd, nil)
	}
	return e
}

// start boots a replica's core, from rec if non-nil.
func (e *ienv) start(nd *inode, rec *pbft.Recovered) {
	cfg := e.cfg
	cfg.ID = nd.id
	nd.app = kv.New()
	core, err := pbft.NewReplica(cfg, nd.app, pbft.KeySigner{Domain: e.domain, Key: e.keys[nd.id]}, rec)
	if err != nil {
		e.t.Fatalf("replica %d: %v", nd.id, err)
	}
	nd.core = core
	nd.timers = [numTimerKinds]pbft.TimerCmd{}
	before := core.Status()
	if rd := core.Start(); !rd.Empty() {
		e.apply(nd, rd, before)
	}
}

func (e *ienv) replicaKey(id pbft.ReplicaID) (crypto.PublicKey, bool) {
	if int(id) >= len(e.keys) {
		return crypto.PublicKey{}, false
	}
	return e.keys[id].Public(), true
}

// clientName returns "c<i>" for a client of the environment.
func (e *ienv) clientName(id pbft.ClientID) string {
	for _, c := range e.cls {
		if c.core.ID() == id {
			return fmt.Sprintf("c%d", c.idx)
		}
	}
	return "c?" + id.String()[:6]
}

// enqueue marshals m and queues it for replica to.
func (e *ienv) enqueue(from int, to pbft.ReplicaID, m pbft.Message) {
	data := pbft.Marshal(m)
	dec, err := pbft.Unmarshal(data)
	if err != nil {
		e.t.Fatalf("unmarshal of own message %s: %v", m.Type(), err)
	}
	e.nextID++
	e.queue = append(e.queue, &imsg{id: e.nextID, from: from, to: to, data: data, msg: dec})
}

// decode is the network's side of delivery: bytes to an authenticated
// message.
func (e *ienv) decode(data []byte) (pbft.Message, error) {
	m, err := pbft.Unmarshal(data)
	if err != nil {
		return nil, err
	}
	if err := pbft.Authenticate(e.domain, e.replicaKey, m); err != nil {
		return nil, err
	}
	return m, nil
}

// deliver hands one queued message to its recipient and prints the
// response.
func (e *ienv) deliver(m *imsg) {
	e.out.msg("%s->%d %s", endpointName(m.from), m.to, e.describe(m.msg))
	nd := e.nodes[m.to]
	if nd.core == nil {
		e.out.minor("%d is down: message lost", m.to)
		return
	}
	dec, err := e.decode(m.data)
	if err != nil {
		e.out.event("%d rejects: %v", m.to, err)
		return
	}
	before := nd.core.Status()
	e.apply(nd, nd.core.Receive(dec), before)
}

// apply carries out a Ready like a runtime: persist, then send, then
// replies and timers. It prints what the replica did.
func (e *ienv) apply(nd *inode, rd pbft.Ready, before pbft.Status) {
	id := nd.id
	if rd.Empty() && nd.core.Status() == before {
		e.out.minor("%d ignores it", id)
		return
	}
	if err := nd.storage.Save(&rd.Persist); err != nil {
		e.t.Fatalf("replica %d: save: %v", id, err)
	}
	for _, b := range rd.Committed {
		e.out.event("%d executes n=%d v=%d d=%s %s", id, b.Seq, b.View, short(b.Digest), e.batchString(b.Batch))
		if _, again := e.executed[id][b.Seq]; again {
			e.out.event("%d: DOUBLE EXECUTION of n=%d", id, b.Seq)
		}
		e.executed[id][b.Seq] = b.Digest
		for other, ex := range e.executed {
			if d, ok := ex[b.Seq]; ok && d != b.Digest {
				e.out.event("DIVERGENCE at n=%d: %d executed %s, %d executed %s", b.Seq, id, short(b.Digest), other, short(d))
			}
		}
	}
	for _, env := range rd.Messages {
		if vc, ok := env.Msg.(*pbft.ViewChange); ok && vc.Replica == id {
			e.vcSent[vcKey{id, vc.View}] = vc
		}
		if env.Broadcast {
			e.out.send("%d->all %s", id, e.describe(env.Msg))
			for _, to := range e.nodes {
				if to.id != id {
					e.enqueue(int(id), to.id, env.Msg)
				}
			}
		} else {
			e.out.send("%d->%d %s", id, env.To, e.describe(env.Msg))
			e.enqueue(int(id), env.To, env.Msg)
		}
	}
	for _, rep := range rd.Replies {
		e.out.send("%d->%s %s", id, e.clientName(rep.Client), e.describe(rep))
		e.toClient(rep)
	}
	for _, tc := range rd.Timers {
		nd.timers[tc.Kind] = tc
		if tc.After == 0 {
			e.out.timer("%d: timer %s off", id, tc.Kind)
		} else {
			e.out.timer("%d: timer %s on (%s)", id, tc.Kind, tc.After)
		}
	}
	after := nd.core.Status()
	switch {
	case after.View != before.View || after.ViewChanging != before.ViewChanging:
		if after.ViewChanging {
			e.out.event("%d: view change to view %d", id, after.View)
		} else {
			e.out.event("%d: enters view %d (primary %d)", id, after.View, after.Primary)
		}
	}
	if after.StableSeq != before.StableSeq {
		e.out.event("%d: stable checkpoint n=%d s=%s", id, after.StableSeq, short(after.StableState))
	}
	if last := lastCommitted(rd, before.LastExecuted); after.LastExecuted != last {
		e.out.event("%d: state transfer: last executed %d -> %d", id, last, after.LastExecuted)
	}
}

func lastCommitted(rd pbft.Ready, last pbft.Seq) pbft.Seq {
	for _, b := range rd.Committed {
		last = max(last, b.Seq)
	}
	return last
}

// toClient delivers a reply to its client through the codec and
// Authenticate.
func (e *ienv) toClient(rep *pbft.Reply) {
	dec, err := e.decode(pbft.Marshal(rep))
	if err != nil {
		e.out.event("client rejects reply: %v", err)
		return
	}
	rep = dec.(*pbft.Reply)
	for _, c := range e.cls {
		if c.core.ID() != rep.Client {
			continue
		}
		c.replies = append(c.replies, rep)
		if result, done := c.core.OnReply(rep); done {
			c.accepted[rep.Timestamp] = result
			e.out.event("c%d accepts t=%d result %s", c.idx, rep.Timestamp, resultString(result))
		}
	}
}

// fire fires a replica's timer with the generation it last armed.
func (e *ienv) fire(id pbft.ReplicaID, kind pbft.TimerKind) {
	nd := e.nodes[id]
	tc := nd.timers[kind]
	if nd.core == nil || tc.After == 0 {
		e.out.event("%d: timer %s is not armed", id, kind)
		return
	}
	e.out.msg("%d: timer %s fires", id, kind)
	before := nd.core.Status()
	e.apply(nd, nd.core.Fire(kind, tc.Gen), before)
}

// filter selects queued messages.
type filter struct {
	from, to, typ, seq, view []string
}

func (f filter) match(m *imsg) bool {
	has := func(list []string, v string) bool { return len(list) == 0 || slices.Contains(list, v) }
	if !has(f.from, endpointName(m.from)) || !has(f.to, fmt.Sprint(m.to)) || !has(f.typ, m.msg.Type().String()) {
		return false
	}
	v, n, ok := viewSeq(m.msg)
	if len(f.seq) > 0 && (!ok || !slices.Contains(f.seq, fmt.Sprint(n))) {
		return false
	}
	if len(f.view) > 0 && (!ok || !slices.Contains(f.view, fmt.Sprint(v))) {
		return false
	}
	return true
}

// viewSeq returns the view and sequence number of a normal-case or
// checkpoint message.
func viewSeq(m pbft.Message) (pbft.View, pbft.Seq, bool) {
	switch m := m.(type) {
	case *pbft.PrePrepare:
		return m.View, m.Seq, true
	case *pbft.Prepare:
		return m.View, m.Seq, true
	case *pbft.Commit:
		return m.View, m.Seq, true
	case *pbft.Checkpoint:
		return 0, m.Seq, true
	case *pbft.ViewChange:
		return m.View, 0, true
	case *pbft.NewView:
		return m.View, 0, true
	}
	return 0, 0, false
}

// take removes and returns the first queued message matching f among those
// whose id is at most maxID.
func (e *ienv) take(f filter, maxID int) *imsg {
	for i, m := range e.queue {
		if m.id <= maxID && f.match(m) {
			e.queue = slices.Delete(e.queue, i, i+1)
			return m
		}
	}
	return nil
}

// printer collects a command's output. Lines are messages delivered (or
// timers fired), what was sent in response, timers, and events (execution,
// view and checkpoint changes, rejections, ignored or lost messages). quiet
// keeps the events that change something: no ignored or lost messages.
type printer struct {
	sb    strings.Builder
	quiet bool
}

func (p *printer) line(indent bool, format string, args ...any) {
	if indent && !p.quiet {
		p.sb.WriteString("  ")
	}
	fmt.Fprintf(&p.sb, format, args...)
	p.sb.WriteByte('\n')
}

func (p *printer) msg(format string, args ...any) {
	if !p.quiet {
		p.line(false, format, args...)
	}
}

func (p *printer) send(format string, args ...any) {
	if !p.quiet {
		p.line(true, format, args...)
	}
}

func (p *printer) timer(format string, args ...any) {
	if !p.quiet {
		p.line(true, format, args...)
	}
}

func (p *printer) event(format string, args ...any) {
	p.line(true, format, args...)
}

// minor is an event quiet leaves out: a message ignored, or lost because
// its recipient is down.
func (p *printer) minor(format string, args ...any) {
	if !p.quiet {
		p.line(true, format, args...)
	}
}

func (p *printer) take() string {
	s := p.sb.String()
	p.sb.Reset()
	p.quiet = false
	return s
}
