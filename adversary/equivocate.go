package adversary

import (
	"slices"

	"github.com/bftbed/bftbed/pbft"
)

// Equivocate makes a replica tell two stories. The other replicas are split
// in two: Other sees an alternative history, everyone else the honest one.
//
//   - As primary, it signs two PRE-PREPAREs for each (view, seq): the honest
//     batch to one side and an alternative batch (the same batch without its
//     last request, which for a single request is the null request) to the
//     other.
//   - As backup, its PREPAREs and COMMITs to Other carry the alternative
//     digest of any batch it knows.
//   - In a view change its VIEW-CHANGE to Other claims nothing prepared, and
//     as the new primary its NEW-VIEW to Other has a doctored O.
//
// The alternative is derived from the honest batch alone, so colluding
// replicas that equivocate with the same split tell the same second story
// without talking to each other.
type Equivocate struct {
	// Other lists the replicas that see the alternative history. Empty
	// means a random half of the other replicas, drawn at first use.
	Other []pbft.ReplicaID
	alt   map[pbft.Digest]altBatch
}

type altBatch struct {
	digest pbft.Digest
	batch  []*pbft.Request
}

// Name implements Behaviour.
func (e *Equivocate) Name() string { return "equivocate" }

// Observe learns the batches of PRE-PREPAREs the replica receives, so that
// a backup can vote for their alternatives.
func (e *Equivocate) Observe(_ *Context, m pbft.Message) {
	if pp, ok := m.(*pbft.PrePrepare); ok {
		e.learn(pp)
	}
}

func (e *Equivocate) learn(pp *pbft.PrePrepare) altBatch {
	if e.alt == nil {
		e.alt = map[pbft.Digest]altBatch{}
	}
	if a, ok := e.alt[pp.Digest]; ok {
		return a
	}
	var batch []*pbft.Request
	if len(pp.Batch) > 0 {
		batch = pp.Batch[:len(pp.Batch)-1]
	}
	// The null request has no shorter version: its alternative is itself,
	// and rewrite leaves it alone.
	a := altBatch{digest: pbft.BatchDigest(batch), batch: batch}
	e.alt[pp.Digest] = a
	return a
}

func (e *Equivocate) inOther(ctx *Context, id pbft.ReplicaID) bool {
	if e.Other == nil {
		for i := 0; i < ctx.N; i++ {
			if pbft.ReplicaID(i) != ctx.Self && ctx.Rand.IntN(2) == 0 {
				e.Other = append(e.Other, pbft.ReplicaID(i))
			}
		}
		if e.Other == nil {
			e.Other = []pbft.ReplicaID{(ctx.Self + 1) % pbft.ReplicaID(ctx.N)}
		}
	}
	return slices.Contains(e.Other, id)
}

// Outbound implements Behaviour.
func (e *Equivocate) Outbound(ctx *Context, p Packet) []Packet {
	if pp, ok := p.Msg.(*pbft.PrePrepare); ok && pp.Replica == ctx.Self {
		e.learn(pp)
	}
	to, ok := replicaDest(p)
	if !ok || !e.inOther(ctx, to) {
		return []Packet{p}
	}
	if m := e.rewrite(ctx, p.Msg); m != nil {
		p.Msg, p.Data = m, nil
	}
	return []Packet{p}
}

// rewrite returns the alternative-history version of m, signed, or nil to
// send m unchanged.
func (e *Equivocate) rewrite(ctx *Context, m pbft.Message) pbft.Message {
	switch m := m.(type) {
	case *pbft.PrePrepare:
		if m.Replica != ctx.Self {
			return nil
		}
		a := e.learn(m)
		if a.digest == m.Digest {
			return nil
		}
		alt := &pbft.PrePrepare{View: m.View, Seq: m.Seq, Digest: a.digest, Replica: ctx.Self, Batch: a.batch}
		ctx.Sign(alt)
		return alt
	case *pbft.Prepare:
		a, ok := e.alt[m.Digest]
		if !ok || a.digest == m.Digest || m.Replica != ctx.Self {
			return nil
		}
		alt := &pbft.Prepare{View: m.View, Seq: m.Seq, Digest: a.digest, Replica: ctx.Self}
		ctx.Sign(alt)
		return alt
	case *pbft.Commit:
		a, ok := e.alt[m.Digest]
		if !ok || a.digest == m.Digest || m.Replica != ctx.Self {
			return nil
		}
		alt := &pbft.Commit{View: m.View, Seq: m.Seq, Digest: a.digest, Replica: ctx.Self}
		ctx.Sign(alt)
		return alt
	case *pbft.ViewChange:
		if m.Replica != ctx.Self || len(m.P) == 0 {
			return nil
		}
		alt := *m
		alt.P = nil
		ctx.Sign(&alt)
		return &alt
	case *pbft.NewView:
		if m.Replica != ctx.Self || len(m.O) == 0 {
			return nil
		}
		alt := *m
		alt.O = slices.Clone(m.O)
		first := *alt.O[0]
		if first.Digest == pbft.NullDigest {
			first.Digest = pbft.RequestDigest(&pbft.Request{})
		} else {
			first.Digest = pbft.NullDigest
		}
		ctx.Sign(&first)
		alt.O[0] = &first
		ctx.Sign(&alt)
		return &alt
	}
	return nil
}
