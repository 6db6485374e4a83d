package adversary

import "github.com/bftbed/bftbed/pbft"

// Forge sends, next to each of the replica's PREPAREs and COMMITs, with
// probability Rate, two forgeries: the same vote claiming to come from
// another replica (its signature is then invalid for the claimed sender),
// and the same vote for another sequence number under the original
// signature (a valid signature that does not match the contents).
// Receivers must reject both when they authenticate them.
type Forge struct {
	Rate float64
}

// Name implements Behaviour.
func (f *Forge) Name() string { return "forge" }

// Outbound implements Behaviour.
func (f *Forge) Outbound(ctx *Context, p Packet) []Packet {
	out := []Packet{p}
	if p.To.Client || ctx.Rand.Float64() >= f.Rate {
		return out
	}
	victim := pbft.ReplicaID(ctx.Rand.IntN(ctx.N))
	if victim == ctx.Self {
		victim = (victim + 1) % pbft.ReplicaID(ctx.N)
	}
	switch m := p.Msg.(type) {
	case *pbft.Prepare:
		impostor, tampered := *m, *m
		impostor.Replica = victim
		tampered.Seq++
		out = append(out, Packet{To: p.To, Msg: &impostor, Delay: p.Delay}, Packet{To: p.To, Msg: &tampered, Delay: p.Delay})
	case *pbft.Commit:
		impostor, tampered := *m, *m
		impostor.Replica = victim
		tampered.Seq++
		out = append(out, Packet{To: p.To, Msg: &impostor, Delay: p.Delay}, Packet{To: p.To, Msg: &tampered, Delay: p.Delay})
	}
	return out
}
