package pbft_test

// Data-driven scenario tests of the replica core, in the style of etcd
// raft's interaction tests: each file in testdata/ is a story (a script of
// commands with the expected trace under each), run by
// github.com/cockroachdb/datadriven. Regenerate the expected output with
//
//	go test ./pbft/ -run TestInteraction -rewrite
//
// and read every changed line before committing it.
//
// The environment (interaction_env_test.go) is n cores with the kv
// application, MemoryStorage each, real Ed25519 keys derived from
// "interaction", and clients. The tests are in package pbft_test because
// pbft/kv imports pbft; the few internals they show (log, watermarks,
// timers, computeO) come from hooks in interaction_export_test.go. Nothing is delivered by itself: every message
// sent is queued per recipient, and delivery is Marshal, Unmarshal,
// Authenticate, Receive. Replies go straight to their client (through the
// codec and Authenticate too).
//
// Trace format: a delivered message is printed at the left margin as
// "from->to TYPE fields"; indented under it is what the recipient did:
// "i->all" / "i->j" sends, "i: timer ..." arming, and events ("i executes",
// "i: view change to view v", "i: enters view v", "i: stable checkpoint",
// "i ignores it" (the core did nothing with it), "i rejects: <Authenticate
// error>", "i is down: message lost", "cK accepts ...").
// Digests show 6 hex digits ("null" for the null request); batches show
// as [c<client>/t<timestamp> <op>]; a VIEW-CHANGE's P lists its prepared
// certificates as n<seq>@v<view>:<digest>; C and a STATE's proof list the
// replicas whose checkpoints they hold. The harness also prints
// "DOUBLE EXECUTION" and "DIVERGENCE" lines whenever a replica executes a
// sequence number twice or two replicas execute different digests at one.
//
// Commands:
//
//	init n=4 [k=4] [l=8] [batch=1] [inflight=8] [clients=2]
//	    A fresh cluster: k is the checkpoint interval K, l the watermark
//	    window L, batch the largest batch.
//	request client=0 op=put:x=1 [to=all|(1,2)] [ts=5]
//	    The client signs a request (op is put:k=v, append:k=v or get:k) and
//	    sends it to the primary it believes in, or to the given replicas.
//	    With ts, the request is signed with that timestamp by hand,
//	    bypassing the client core (a replay of an old timestamp).
//	resend client=0 [to=all]
//	    The client sends its last request again (same timestamp).
//	deliver [from=..] [to=..] [type=..] [seq=..] [view=..] [count=N] [once] [quiet]
//	    Deliver queued messages matching the filter (each a value or a list
//	    such as to=(1,2); from=c0 is a client) in FIFO order until none is
//	    left; with once, only those queued before the command; with count,
//	    at most N. quiet prints events only.
//	drop [filters]    discard the matching queued messages.
//	queue [filters]   list the matching queued messages.
//	fire replica=1 timer=request|batch|fetch [quiet]
//	    Fire the timer at the generation the replica last armed.
//	status [key=x]    each replica's view, execution, watermarks, log size,
//	                  timers and (with key) the kv value.
//	log replica=1     the replica's log: certificates per sequence number.
//	crash replica=2 / restart replica=2
//	    Drop the core (messages to it are lost while it is down) / rebuild
//	    it from its MemoryStorage with Load.
//	forge-preprepare replica=0 view=0 seq=1 (client=1 | op=.. client=1 ts=9 | null) to=(1,2)
//	    A PRE-PREPARE signed with the replica's key for a batch of the
//	    client's last request (or a new one, or the null request).
//	forge-vote type=PREPARE|COMMIT replica=3 view=0 seq=1 (client=0 | null) to=(1)
//	    A PREPARE or COMMIT signed with the replica's key for the digest of
//	    a batch of the client's last request (or of the null request).
//	forge-viewchange replica=3 view=7 to=(0)
//	    A VIEW-CHANGE signed with the replica's key, with its stable
//	    checkpoint and no prepared certificates.
//	forge-newview replica=1 view=1 vcs=(1,2,3) to=(2,3) [strip-p=R [keep-sig]] [bad-prepare=R] [o-null=N]
//	    A NEW-VIEW signed with the replica's key. V holds the VIEW-CHANGEs
//	    the listed replicas sent for view, in that order; O is computed
//	    from that V and signed, like the NEW-VIEW, with the replica's key.
//	    Then, to forge: strip-p empties the P of R's VIEW-CHANGE and
//	    re-signs it with R's key (keep-sig keeps the old signature);
//	    bad-prepare makes R fabricate, with its own key, another replica's
//	    PREPARE in its first prepared certificate (and re-sign its
//	    VIEW-CHANGE); o-null makes O's entry for seq N the null request.
//	forge-state replica=2 to=3 [corrupt]
//	    A STATE with the replica's stable checkpoint, proof and snapshot;
//	    corrupt swaps in a well-formed snapshot of a different kv state.
//	replies client=0  the replies the client got and what it accepted.
//	agreement         per sequence number, the digest each replica executed.

import (
	"fmt"
	"maps"
	"slices"
	"strconv"
	"strings"
	"testing"

	"github.com/bftbed/bftbed/pbft"
	"github.com/cockroachdb/datadriven"
)

func TestInteraction(t *testing.T) {
	datadriven.Walk(t, "testdata", func(t *testing.T, path string) {
		var e *ienv
		datadriven.RunTest(t, path, func(t *testing.T, d *datadriven.TestData) string {
			if d.Cmd == "init" {
				e = newIEnv(t, intArg(t, d, "n", 4), pbft.Seq(intArg(t, d, "k", 4)), pbft.Seq(intArg(t, d, "l", 8)),
					intArg(t, d, "batch", 1), intArg(t, d, "inflight", 8), intArg(t, d, "clients", 2), intArg(t, d, "chunk", 1<<20))
				e.out.take()
				return "ok\n"
			}
			if e == nil {
				t.Fatalf("%s: init first", d.Pos)
			}
			e.t = t
			e.out.quiet = d.HasArg("quiet")
			e.run(t, d)
			return e.out.take()
		})
	})
}

func (e *ienv) run(t *testing.T, d *datadriven.TestData) {
	switch d.Cmd {
	case "request":
		e.cmdRequest(t, d)
	case "resend":
		c := e.client(t, d)
		for _, to := range e.targets(t, d, "to", []pbft.ReplicaID{c.core.Primary()}) {
			e.enqueue(-1-c.idx, to, c.last)
		}
	case "deliver":
		e.cmdDeliver(t, d)
	case "drop", "queue":
		f := parseFilter(d)
		for _, m := range e.queue {
			if f.match(m) {
				e.out.msg("%s->%d %s", endpointName(m.from), m.to, e.describe(m.msg))
			}
		}
		if d.Cmd == "drop" {
			e.queue = slices.DeleteFunc(e.queue, func(m *imsg) bool { return f.match(m) })
			e.out.msg("(dropped)")
		}
	case "fire":
		var kind pbft.TimerKind
		switch s := strArg(t, d, "timer", "request"); s {
		case "request":
			kind = pbft.TimerRequest
		case "batch":
			kind = pbft.TimerBatch
		case "fetch":
			kind = pbft.TimerFetch
		default:
			t.Fatalf("%s: unknown timer %q", d.Pos, s)
		}
		e.fire(e.replica(t, d), kind)
	case "status":
		e.cmdStatus(d)
	case "log":
		e.cmdLog(e.replica(t, d))
	case "crash":
		nd := e.nodes[e.replica(t, d)]
		nd.core, nd.app, nd.timers = nil, nil, [numTimerKinds]pbft.TimerCmd{}
		e.out.msg("%d crashed", nd.id)
	case "restart":
		nd := e.nodes[e.replica(t, d)]
		rec, err := nd.storage.Load()
		if err != nil {
			t.Fatalf("%s: load: %v", d.Pos, err)
		}
		e.out.msg("%d restarts from storage", nd.id)
		e.start(nd, rec)
	case "forge-preprepare":
		e.cmdForgePrePrepare(t, d)
	case "forge-vote":
		e.cmdForgeVote(t, d)
	case "forge-viewchange":
		e.cmdForgeViewChange(t, d)
	case "forge-newview":
		e.cmdForgeNewView(t, d)
	case "forge-state":
		e.cmdForgeState(t, d)
	case "replies":
		e.cmdReplies(e.client(t, d))
	case "agreement":
		e.cmdAgreement()
	default:
		t.Fatalf("%s: unknown command %q", d.Pos, d.Cmd)
	}
}

func (e *ienv) cmdRequest(t *testing.T, d *datadriven.TestData) {
	c := e.client(t, d)
	op, err := parseOp(strArg(t, d, "op", ""))
	if err != nil {
		t.Fatalf("%s: %v", d.Pos, err)
	}
	var req *pbft.Request
	if d.HasArg("ts") {
		req = &pbft.Request{Client: c.core.ID(), Timestamp: uint64(intArg(t, d, "ts", 0)), Op: op}
		pbft.Sign(e.domain, c.key, req)
	} else {
		req = c.core.Submit(op)
	}
	c.last = req
	for _, to := range e.targets(t, d, "to", []pbft.ReplicaID{c.core.Primary()}) {
		e.out.msg("c%d->%d REQUEST %s", c.idx, to, e.requestString(req))
		e.enqueue(-1-c.idx, to, req)
	}
}

func (e *ienv) cmdDeliver(t *testing.T, d *datadriven.TestData) {
	f := parseFilter(d)
	limit := intArg(t, d, "count", 1<<30)
	maxID := 1 << 62
	if d.HasArg("once") {
		maxID = e.nextID
	}
	n := 0
	for ; n < limit; n++ {
		m := e.take(f, maxID)
		if m == nil {
			break
		}
		if n > 100000 {
			t.Fatalf("%s: delivery does not quiesce", d.Pos)
		}
		e.deliver(m)
	}
	if e.out.quiet {
		e.out.line(false, "delivered %d messages", n)
	} else if n == 0 {
		e.out.msg("(nothing to deliver)")
	}
}

func (e *ienv) cmdStatus(d *datadriven.TestData) {
	key, withKey := d.Arg("key")
	for _, nd := range e.nodes {
		if nd.core == nil {
			e.out.msg("%d: down", nd.id)
			continue
		}
		in := pbft.Inspect(nd.core)
		mode := "normal"
		if in.Changing {
			mode = "view-changing"
		}
		var timers []string
		for _, k := range in.TimersOn {
			timers = append(timers, k.String())
		}
		s := fmt.Sprintf("%d: view=%d %s exec=%d stable=%d h=%d H=%d log=%d timers=[%s]",
			nd.id, in.View, mode, in.LastExec, in.Stable.Seq, in.Stable.Seq, in.Stable.Seq+in.Window,
			in.LogSlots, strings.Join(timers, ","))
		if withKey {
			for _, k := range key.Vals {
				if v, ok := nd.app.Get([]byte(k)); ok {
					s += fmt.Sprintf(" %s=%q", k, v)
				} else {
					s += fmt.Sprintf(" %s=<absent>", k)
				}
			}
		}
		e.out.msg("%s", s)
	}
}

func (e *ienv) cmdLog(id pbft.ReplicaID) {
	if e.nodes[id].core == nil {
		e.out.msg("%d: down", id)
		return
	}
	in := pbft.Inspect(e.nodes[id].core)
	e.out.msg("%d: h=%d H=%d exec=%d", id, in.Stable.Seq, in.Stable.Seq+in.Window, in.LastExec)
	for _, s := range in.Slots {
		line := fmt.Sprintf("n=%d", s.Seq)
		if s.Prepared != nil {
			pp := s.Prepared.PrePrepare
			line += fmt.Sprintf(" prepared=v%d:%s", pp.View, short(pp.Digest))
		}
		if s.Committed {
			line += fmt.Sprintf(" committed=v%d", s.CommitVw)
		}
		for _, c := range s.Certs {
			pp := "-"
			if c.PrePrepare != nil {
				pp = short(c.PrePrepare.Digest)
			}
			line += fmt.Sprintf(" | v%d pp=%s prepares=%s commits=%s", c.View, pp, votes(c.Prepares), votes(c.Commits))
		}
		e.out.msg("  %s", line)
	}
	for _, n := range slices.Sorted(maps.Keys(in.CPSenders)) {
		e.out.msg("  checkpoints n=%d from %v", n, in.CPSenders[n])
	}
}

// votes prints who voted and for which digest.
func votes(m map[pbft.ReplicaID]pbft.Digest) string {
	var parts []string
	for _, id := range slices.Sorted(maps.Keys(m)) {
		parts = append(parts, fmt.Sprintf("%d:%s", id, short(m[id])))
	}
	return "[" + strings.Join(parts, " ") + "]"
}

func (e *ienv) cmdReplies(c *iclient) {
	for _, rep := range c.replies {
		e.out.msg("from %d: %s", rep.Replica, e.describe(rep))
	}
	for _, ts := range slices.Sorted(maps.Keys(c.accepted)) {
		e.out.msg("accepted t=%d result %s", ts, resultString(c.accepted[ts]))
	}
	if len(c.accepted) == 0 {
		e.out.msg("accepted nothing")
	}
}

func (e *ienv) cmdAgreement() {
	seqs := map[pbft.Seq]bool{}
	for _, ex := range e.executed {
		for n := range ex {
			seqs[n] = true
		}
	}
	for _, n := range slices.Sorted(maps.Keys(seqs)) {
		byDigest := map[string][]string{}
		for id, ex := range e.executed {
			if d, ok := ex[n]; ok {
				byDigest[short(d)] = append(byDigest[short(d)], fmt.Sprint(id))
			}
		}
		var parts []string
		for _, d := range slices.Sorted(maps.Keys(byDigest)) {
			parts = append(parts, fmt.Sprintf("%s at [%s]", d, strings.Join(byDigest[d], ",")))
		}
		verdict := "agree"
		if len(byDigest) > 1 {
			verdict = "DIVERGENCE"
		}
		e.out.msg("n=%d %s: %s", n, verdict, strings.Join(parts, " "))
	}
}

// Argument helpers.

func intArg(t *testing.T, d *datadriven.TestData, key string, def int) int {
	arg, ok := d.Arg(key)
	if !ok {
		return def
	}
	v, err := strconv.Atoi(arg.SingleVal(t))
	if err != nil {
		t.Fatalf("%s: %s: %v", d.Pos, key, err)
	}
	return v
}

func strArg(t *testing.T, d *datadriven.TestData, key, def string) string {
	arg, ok := d.Arg(key)
	if !ok {
		return def
	}
	return arg.SingleVal(t)
}

func (e *ienv) replica(t *testing.T, d *datadriven.TestData) pbft.ReplicaID {
	id := intArg(t, d, "replica", -1)
	if id < 0 || id >= len(e.nodes) {
		t.Fatalf("%s: need replica=0..%d", d.Pos, len(e.nodes)-1)
	}
	return pbft.ReplicaID(id)
}

func (e *ienv) client(t *testing.T, d *datadriven.TestData) *iclient {
	i := intArg(t, d, "client", 0)
	if i < 0 || i >= len(e.cls) {
		t.Fatalf("%s: no client %d", d.Pos, i)
	}
	return e.cls[i]
}

// targets parses a list of replicas ("all" is every replica).
func (e *ienv) targets(t *testing.T, d *datadriven.TestData, key string, def []pbft.ReplicaID) []pbft.ReplicaID {
	arg, ok := d.Arg(key)
	if !ok {
		return def
	}
	var out []pbft.ReplicaID
	for _, v := range arg.Vals {
		if v == "all" {
			for _, nd := range e.nodes {
				out = append(out, nd.id)
			}
			continue
		}
		id, err := strconv.Atoi(v)
		if err != nil || id < 0 || id >= len(e.nodes) {
			t.Fatalf("%s: bad replica %q", d.Pos, v)
		}
		out = append(out, pbft.ReplicaID(id))
	}
	return out
}

func parseFilter(d *datadriven.TestData) filter {
	vals := func(key string) []string {
		arg, _ := d.Arg(key)
		return arg.Vals
	}
	return filter{from: vals("from"), to: vals("to"), typ: vals("type"), seq: vals("seq"), view: vals("view")}
}
