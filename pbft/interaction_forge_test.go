package pbft_test

import (
	"testing"

	"github.com/bftbed/bftbed/pbft"
	"github.com/bftbed/bftbed/pbft/kv"
	"github.com/cockroachdb/datadriven"
)

// Byzantine injection for the interaction tests: messages signed with a
// replica's real key but built by the script, the way a faulty replica's
// signer or outbox would (see DESIGN.md: the adversary wraps the honest
// core). They are queued like any other message and go through Marshal,
// Unmarshal and Authenticate on delivery.

func (e *ienv) forgeSend(from pbft.ReplicaID, to []pbft.ReplicaID, m pbft.Message) {
	for _, id := range to {
		e.out.msg("%d->%d %s (forged)", from, id, e.describe(m))
		e.enqueue(int(from), id, m)
	}
}

// clone deep-copies a message through the codec, so forging never touches
// what a core holds.
func clone[M pbft.Message](t *testing.T, m M) M {
	c, err := pbft.Unmarshal(pbft.Marshal(m))
	if err != nil {
		t.Fatalf("clone %s: %v", m.Type(), err)
	}
	return c.(M)
}

func (e *ienv) cmdForgePrePrepare(t *testing.T, d *datadriven.TestData) {
	from := e.replica(t, d)
	var batch []*pbft.Request
	switch {
	case d.HasArg("null"):
	case d.HasArg("op"):
		c := e.client(t, d)
		op, err := parseOp(strArg(t, d, "op", ""))
		if err != nil {
			t.Fatalf("%s: %v", d.Pos, err)
		}
		req := &pbft.Request{Client: c.core.ID(), Timestamp: uint64(intArg(t, d, "ts", 1000)), Op: op}
		pbft.Sign(e.domain, c.key, req)
		batch = []*pbft.Request{req}
	default:
		c := e.client(t, d)
		if c.last == nil {
			t.Fatalf("%s: client %d sent no request", d.Pos, c.idx)
		}
		batch = []*pbft.Request{c.last}
	}
	pp := &pbft.PrePrepare{
		View: pbft.View(intArg(t, d, "view", 0)), Seq: pbft.Seq(intArg(t, d, "seq", 1)),
		Digest: pbft.BatchDigest(batch), Replica: from, Batch: batch,
	}
	pbft.Sign(e.domain, e.keys[from], pp)
	e.forgeSend(from, e.targets(t, d, "to", nil), pp)
}

func (e *ienv) cmdForgeVote(t *testing.T, d *datadriven.TestData) {
	from := e.replica(t, d)
	digest := pbft.NullDigest
	if !d.HasArg("null") {
		c := e.client(t, d)
		if c.last == nil {
			t.Fatalf("%s: client %d sent no request", d.Pos, c.idx)
		}
		digest = pbft.BatchDigest([]*pbft.Request{c.last})
	}
	v, n := pbft.View(intArg(t, d, "view", 0)), pbft.Seq(intArg(t, d, "seq", 1))
	var m pbft.Message
	switch typ := strArg(t, d, "type", "PREPARE"); typ {
	case "PREPARE":
		m = &pbft.Prepare{View: v, Seq: n, Digest: digest, Replica: from}
	case "COMMIT":
		m = &pbft.Commit{View: v, Seq: n, Digest: digest, Replica: from}
	default:
		t.Fatalf("%s: forge-vote type must be PREPARE or COMMIT, not %s", d.Pos, typ)
	}
	pbft.Sign(e.domain, e.keys[from], m)
	e.forgeSend(from, e.targets(t, d, "to", nil), m)
}

func (e *ienv) cmdForgeViewChange(t *testing.T, d *datadriven.TestData) {
	from := e.replica(t, d)
	vc := &pbft.ViewChange{View: pbft.View(intArg(t, d, "view", 1)), Replica: from}
	if r := e.nodes[from].core; r != nil {
		st := pbft.Inspect(r).Stable
		vc.Stable, vc.C = st.Seq, st.Proof
	}
	pbft.Sign(e.domain, e.keys[from], vc)
	e.vcSent[vcKey{from, vc.View}] = vc
	e.forgeSend(from, e.targets(t, d, "to", nil), vc)
}

func (e *ienv) cmdForgeNewView(t *testing.T, d *datadriven.TestData) {
	from := e.replica(t, d)
	v := pbft.View(intArg(t, d, "view", 1))
	var V []*pbft.ViewChange
	for _, id := range e.targets(t, d, "vcs", nil) {
		vc := e.vcSent[vcKey{id, v}]
		if vc == nil {
			t.Fatalf("%s: replica %d sent no VIEW-CHANGE for view %d", d.Pos, id, v)
		}
		V = append(V, clone(t, vc))
	}
	// O is what V implies, computed before any doctoring of V.
	O := pbft.ComputeOForTest(e.cfg, v, V)
	find := func(key string) *pbft.ViewChange {
		id := pbft.ReplicaID(intArg(t, d, key, -1))
		for _, vc := range V {
			if vc.Replica == id {
				return vc
			}
		}
		t.Fatalf("%s: %s: no VIEW-CHANGE from %d in V", d.Pos, key, id)
		return nil
	}
	if d.HasArg("strip-p") {
		vc := find("strip-p")
		vc.P = nil
		if !d.HasArg("keep-sig") {
			pbft.Sign(e.domain, e.keys[vc.Replica], vc)
		}
	}
	if d.HasArg("bad-prepare") {
		// The sender of the VIEW-CHANGE fabricates another replica's
		// PREPARE with its own key, then re-signs its VIEW-CHANGE over the
		// doctored P: the only bad signature is the prepare's.
		vc := find("bad-prepare")
		var p *pbft.Prepare
		if len(vc.P) > 0 {
			for _, q := range vc.P[0].Prepares {
				if q.Replica != vc.Replica {
					p = q
					break
				}
			}
		}
		if p == nil {
			t.Fatalf("%s: bad-prepare: VIEW-CHANGE of %d has no prepare of another replica", d.Pos, vc.Replica)
		}
		pbft.Sign(e.domain, e.keys[vc.Replica], p)
		pbft.Sign(e.domain, e.keys[vc.Replica], vc)
	}
	if d.HasArg("o-null") {
		n := pbft.Seq(intArg(t, d, "o-null", 0))
		for _, pp := range O {
			if pp.Seq == n {
				pp.Digest, pp.Batch = pbft.NullDigest, nil
			}
		}
	}
	wire := make([]*pbft.PrePrepare, len(O))
	for i, pp := range O {
		hdr := *pp
		hdr.Batch, hdr.Replica = nil, from
		pbft.Sign(e.domain, e.keys[from], &hdr)
		wire[i] = &hdr
	}
	nv := &pbft.NewView{View: v, V: V, O: wire, Replica: from}
	pbft.Sign(e.domain, e.keys[from], nv)
	e.forgeSend(from, e.targets(t, d, "to", nil), nv)
}

func (e *ienv) cmdForgeState(t *testing.T, d *datadriven.TestData) {
	from := e.replica(t, d)
	r := e.nodes[from].core
	if r == nil || pbft.Inspect(r).Snapshot == nil {
		t.Fatalf("%s: replica %d has no stable snapshot", d.Pos, from)
	}
	in := pbft.Inspect(r)
	snapshot := in.Snapshot
	if d.HasArg("corrupt") {
		// A well-formed snapshot of another state: x=evil.
		snap, err := pbft.RewriteStateForTest(in.Snapshot, func(app []byte) []byte {
			store := kv.New()
			if err := store.Restore(app); err != nil {
				t.Fatalf("%s: %v", d.Pos, err)
			}
			store.Execute(0, []pbft.Operation{{Op: kv.EncodePut([]byte("x"), []byte("evil"))}})
			return store.Snapshot()
		})
		if err != nil {
			t.Fatalf("%s: %v", d.Pos, err)
		}
		snapshot = snap
	}
	st := &pbft.State{Seq: in.Stable.Seq, Proof: in.Stable.Proof, Size: uint64(len(snapshot)), Chunk: snapshot, Replica: from}
	pbft.Sign(e.domain, e.keys[from], st)
	e.forgeSend(from, e.targets(t, d, "to", nil), st)
}
