package adversary

import "github.com/bftbed/bftbed/pbft"

// Silent stays connected and sends nothing to the other replicas: always,
// or, with OnlyAsPrimary, only while it is the primary (a leader that stalls
// the protocol while it looks alive). It still answers clients, so only the
// protocol notices.
type Silent struct {
	OnlyAsPrimary bool
}

// Name implements Behaviour.
func (s *Silent) Name() string { return "silent" }

// Outbound implements Behaviour.
func (s *Silent) Outbound(ctx *Context, p Packet) []Packet {
	if p.To.Client {
		return []Packet{p}
	}
	if s.OnlyAsPrimary && pbft.ReplicaID(uint64(ctx.View)%uint64(ctx.N)) != ctx.Self {
		return []Packet{p}
	}
	return nil
}
