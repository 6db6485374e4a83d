package adversary

import (
	"math"
	"time"
)

// Slow delays every outgoing message of the replica by a duration drawn from
// a distribution: "constant" (Delay), "uniform" (between Delay and Max), or
// "pareto" (a long tail: at least Delay, shape Alpha, capped at Max).
type Slow struct {
	Dist       string
	Delay, Max time.Duration
	Alpha      float64
}

// Name implements Behaviour.
func (s *Slow) Name() string { return "slow" }

// Outbound implements Behaviour.
func (s *Slow) Outbound(ctx *Context, p Packet) []Packet {
	p.Delay += s.draw(ctx)
	return []Packet{p}
}

func (s *Slow) draw(ctx *Context) time.Duration {
	switch s.Dist {
	case "uniform":
		if s.Max <= s.Delay {
			return s.Delay
		}
		return s.Delay + time.Duration(ctx.Rand.Int64N(int64(s.Max-s.Delay)+1))
	case "pareto":
		alpha := s.Alpha
		if alpha <= 0 {
			alpha = 1.5
		}
		u := 1 - ctx.Rand.Float64() // in (0, 1]
		d := time.Duration(float64(s.Delay) / math.Pow(u, 1/alpha))
		if s.Max > 0 && d > s.Max {
			d = s.Max
		}
		return d
	}
	return s.Delay
}

// Skew runs the replica's timers fast (Factor < 1) or slow (Factor > 1): a
// replica whose clock runs fast suspects the primary too early; a slow one
// notices a faulty primary late.
type Skew struct {
	Factor float64
}

// Name implements Behaviour.
func (s *Skew) Name() string { return "skew" }

// Outbound implements Behaviour: skew does not touch messages.
func (s *Skew) Outbound(_ *Context, p Packet) []Packet { return []Packet{p} }

// TimerScale implements TimerScaler.
func (s *Skew) TimerScale() float64 { return s.Factor }
