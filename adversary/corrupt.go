package adversary

import "github.com/bftbed/bftbed/pbft"

// Corrupt flips Bytes random bytes (default 1) in a fraction Rate of the
// replica's outgoing frames. Receivers must reject them, at the decoder or
// at the signature check, and carry on.
//
// With Resign, the replica lies instead of garbling: it flips bytes in the
// data a STATE or a REPLY carries and signs the result with its own key, so
// the message authenticates but its contents are wrong. Other messages are
// left alone. Receivers must catch the lie by other means: a snapshot that
// does not hash to the digest 2f+1 replicas signed, a result that f others
// do not confirm.
type Corrupt struct {
	Rate   float64
	Bytes  int
	Resign bool
	// Lies counts the validly signed lies sent.
	Lies int
}

// Name implements Behaviour.
func (c *Corrupt) Name() string { return "corrupt" }

// Outbound implements Behaviour.
func (c *Corrupt) Outbound(ctx *Context, p Packet) []Packet {
	if ctx.Rand.Float64() >= c.Rate {
		return []Packet{p}
	}
	if c.Resign {
		if m := c.lie(ctx, p.Msg); m != nil {
			p.Msg, p.Data = m, nil
			c.Lies++
		}
		return []Packet{p}
	}
	data := p.Data
	if data == nil {
		data = pbft.Marshal(p.Msg)
	} else {
		data = append([]byte(nil), data...)
	}
	for range max(c.Bytes, 1) {
		i := ctx.Rand.IntN(len(data))
		data[i] ^= byte(1 + ctx.Rand.IntN(255))
	}
	p.Data = data
	return []Packet{p}
}

// lie returns a validly signed copy of m with its payload flipped, or nil.
func (c *Corrupt) lie(ctx *Context, m pbft.Message) pbft.Message {
	switch m := m.(type) {
	case *pbft.State:
		if len(m.Chunk) == 0 {
			return nil
		}
		alt := *m
		alt.Chunk = c.flip(ctx, m.Chunk)
		ctx.Sign(&alt)
		return &alt
	case *pbft.Reply:
		alt := *m
		alt.Result = c.flip(ctx, append(m.Result, 0))
		alt.Count = 0 // signed on its own
		ctx.Sign(&alt)
		return &alt
	}
	return nil
}

func (c *Corrupt) flip(ctx *Context, b []byte) []byte {
	b = append([]byte(nil), b...)
	for range max(c.Bytes, 1) {
		b[ctx.Rand.IntN(len(b))] ^= byte(1 + ctx.Rand.IntN(255))
	}
	return b
}
