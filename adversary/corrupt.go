package adversary

import "github.com/bftbed/bftbed/pbft"

// Corrupt flips Bytes random bytes (default 1) in a fraction Rate of the
// replica's outgoing frames. Receivers must reject them, at the decoder or
// at the signature check, and carry on.
type Corrupt struct {
	Rate  float64
	Bytes int
}

// Name implements Behaviour.
func (c *Corrupt) Name() string { return "corrupt" }

// Outbound implements Behaviour.
func (c *Corrupt) Outbound(ctx *Context, p Packet) []Packet {
	if ctx.Rand.Float64() >= c.Rate {
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
