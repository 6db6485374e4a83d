package adversary

import (
	"slices"

	"github.com/bftbed/bftbed/pbft"
)

// Drop loses a fraction Rate of the replica's messages: outbound, inbound
// or both (Direction "out", "in", "both"; default "out"), optionally only to
// or from the replicas in Peers and only of the message types in Types.
type Drop struct {
	Rate      float64
	Direction string
	Peers     []pbft.ReplicaID
	Types     []pbft.MsgType
}

// Name implements Behaviour.
func (d *Drop) Name() string { return "drop" }

func (d *Drop) matches(peer pbft.ReplicaID, client bool, t pbft.MsgType) bool {
	if len(d.Peers) > 0 && (client || !slices.Contains(d.Peers, peer)) {
		return false
	}
	return len(d.Types) == 0 || slices.Contains(d.Types, t)
}

// Outbound implements Behaviour.
func (d *Drop) Outbound(ctx *Context, p Packet) []Packet {
	if d.Direction == "in" || !d.matches(p.To.Replica, p.To.Client, p.Msg.Type()) || ctx.Rand.Float64() >= d.Rate {
		return []Packet{p}
	}
	return nil
}

// Inbound reports whether the replica receives m from peer (from a client
// when client is set): the inbound half of Drop.
func (d *Drop) Inbound(ctx *Context, peer pbft.ReplicaID, client bool, m pbft.Message) bool {
	if d.Direction != "in" && d.Direction != "both" {
		return true
	}
	return !d.matches(peer, client, m.Type()) || ctx.Rand.Float64() >= d.Rate
}

// InboundFilter is implemented by behaviours that lose messages the faulty
// replica receives.
type InboundFilter interface {
	Inbound(ctx *Context, peer pbft.ReplicaID, client bool, m pbft.Message) bool
}
