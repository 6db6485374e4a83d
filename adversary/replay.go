package adversary

import "github.com/bftbed/bftbed/pbft"

// Replay resends old, validly signed messages: with probability Rate, each
// outgoing message is followed by a message the replica saw or sent earlier
// (from an earlier view or sequence number), to the same destination.
// Receivers must recognise them as stale and change nothing.
type Replay struct {
	Rate float64
	// Keep bounds the messages remembered (default 512).
	Keep int
	// Sent counts the old messages sent again.
	Sent int
	old  []pbft.Message
}

// Name implements Behaviour.
func (r *Replay) Name() string { return "replay" }

// Observe remembers received messages.
func (r *Replay) Observe(_ *Context, m pbft.Message) { r.remember(m) }

func (r *Replay) remember(m pbft.Message) {
	switch m.(type) {
	case *pbft.Request, *pbft.Reply:
		return
	}
	keep := r.Keep
	if keep <= 0 {
		keep = 512
	}
	if len(r.old) >= keep {
		copy(r.old, r.old[1:])
		r.old = r.old[:len(r.old)-1]
	}
	r.old = append(r.old, m)
}

// Outbound implements Behaviour.
func (r *Replay) Outbound(ctx *Context, p Packet) []Packet {
	out := []Packet{p}
	if !p.To.Client && len(r.old) > 0 && ctx.Rand.Float64() < r.Rate {
		// The oldest half is the most likely to be stale.
		old := r.old[ctx.Rand.IntN((len(r.old)+1)/2)]
		out = append(out, Packet{To: p.To, Msg: old, Delay: p.Delay})
		r.Sent++
	}
	if !p.To.Client {
		r.remember(p.Msg)
	}
	return out
}
