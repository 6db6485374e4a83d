package load

import (
	"errors"
	"fmt"
	"math"
	"strconv"
	"strings"
	"time"

	"github.com/bftbed/bftbed/pbft/kv"
)

// Defaults of Config's zero fields.
const (
	DefaultClients       = 32
	DefaultOpenClients   = 64 // open loop: the pool serving the rate
	DefaultPayload       = 64
	DefaultKeys          = 1000
	DefaultOpTimeout     = 10 * time.Second
	DefaultProgressEvery = 250 * time.Millisecond
	DefaultMaxHistory    = 1_000_000
)

// Config describes a load.
type Config struct {
	// Clients is the number of clients. Closed loop: each keeps one
	// operation outstanding (default 32). Open loop: the pool that
	// serves Rate, so at most Clients operations are outstanding
	// (default 64).
	Clients int
	// Rate is the offered load in operations per second; 0 means closed
	// loop.
	Rate float64
	// Duration is how long operations are issued (required).
	Duration time.Duration
	// MaxOps, if positive, stops issuing after this many operations.
	MaxOps int
	// Payload is the size in bytes of the values written (default 64).
	// Values are printable and unique per operation, so a history can be
	// checked for linearizability.
	Payload int
	// Keys is the number of distinct keys, chosen uniformly (default
	// 1000).
	Keys int
	// KeyPrefix starts every key (default "k").
	KeyPrefix string
	// Mix weighs the operation kinds (default: puts only).
	Mix Mix
	// OpTimeout bounds each operation (default 10s).
	OpTimeout time.Duration
	// Seed seeds the choice of keys and kinds (each client draws from its
	// own generator seeded with Seed and its index).
	Seed uint64
	// SkipWarmup skips the warm-up: by default every client first reads
	// one key, outside the measurement, so that connecting to the replicas
	// does not count as latency. (Reads change nothing, so the history
	// stays complete without them.) If every warm-up read fails, Run
	// returns ErrUnreachable rather than measure a cluster that answers
	// nobody; skip the warm-up to measure one anyway.
	SkipWarmup bool
	// Progress, if set, is called every ProgressEvery (default 250ms)
	// while operations run, and once at the end, from one goroutine.
	Progress      func(Progress)
	ProgressEvery time.Duration
	// MaxHistory bounds the records kept in Result.History (default 1
	// million, a few hundred MB with 64-byte values); operations past it
	// are still counted and measured.
	MaxHistory int
}

// withDefaults returns c with its zero fields set, or an error for a
// configuration that cannot run.
func (c Config) withDefaults() (Config, error) {
	if c.Duration <= 0 {
		return c, errors.New("load: duration must be positive")
	}
	if c.Rate < 0 || math.IsNaN(c.Rate) || math.IsInf(c.Rate, 0) {
		return c, fmt.Errorf("load: rate %v: want ops/s > 0, or 0 for a closed loop", c.Rate)
	}
	if c.Clients < 0 || c.Payload < 0 || c.Keys < 0 || c.MaxOps < 0 {
		return c, errors.New("load: clients, payload, keys and max ops must not be negative")
	}
	if c.Clients == 0 {
		c.Clients = DefaultClients
		if c.Rate > 0 {
			c.Clients = DefaultOpenClients
		}
	}
	if c.Payload == 0 {
		c.Payload = DefaultPayload
	}
	if c.Payload > kv.MaxValueSize {
		return c, fmt.Errorf("load: payload %d over the kv limit %d", c.Payload, kv.MaxValueSize)
	}
	if c.Keys == 0 {
		c.Keys = DefaultKeys
	}
	if c.KeyPrefix == "" {
		c.KeyPrefix = "k"
	}
	if c.Mix.total() == 0 {
		c.Mix = Mix{Put: 1}
	}
	if c.OpTimeout <= 0 {
		c.OpTimeout = DefaultOpTimeout
	}
	if c.ProgressEvery <= 0 {
		c.ProgressEvery = DefaultProgressEvery
	}
	if c.MaxHistory == 0 {
		c.MaxHistory = DefaultMaxHistory
	}
	return c, nil
}

// Mix weighs the operation kinds: each operation is a Put with probability
// Put / (Put+Get+Append+CAS), and so on.
type Mix struct {
	Put, Get, Append, CAS float64
}

func (m Mix) total() float64 { return m.Put + m.Get + m.Append + m.CAS }

// pick returns the kind for u drawn uniformly from [0, 1).
func (m Mix) pick(u float64) kv.OpKind {
	x := u * m.total()
	switch {
	case x < m.Put:
		return kv.OpPut
	case x < m.Put+m.Get:
		return kv.OpGet
	case x < m.Put+m.Get+m.Append:
		return kv.OpAppend
	}
	return kv.OpCAS
}

// String formats the mix as ParseMix reads it, omitting zero weights.
func (m Mix) String() string {
	var parts []string
	for _, p := range []struct {
		name string
		w    float64
	}{{"put", m.Put}, {"get", m.Get}, {"append", m.Append}, {"cas", m.CAS}} {
		if p.w > 0 {
			parts = append(parts, p.name+"="+strconv.FormatFloat(p.w, 'g', -1, 64))
		}
	}
	return strings.Join(parts, ",")
}

// ParseMix reads "put=8,get=2,append=1,cas=1": non-negative weights by
// operation name, at least one positive. Omitted kinds weigh 0.
func ParseMix(s string) (Mix, error) {
	var m Mix
	for part := range strings.SplitSeq(s, ",") {
		part = strings.TrimSpace(part)
		if part == "" {
			continue
		}
		name, val, ok := strings.Cut(part, "=")
		if !ok {
			return Mix{}, fmt.Errorf("mix %q: %q is not kind=weight", s, part)
		}
		w, err := strconv.ParseFloat(strings.TrimSpace(val), 64)
		if err != nil || w < 0 || math.IsInf(w, 0) || math.IsNaN(w) {
			return Mix{}, fmt.Errorf("mix %q: weight %q: want a number >= 0", s, val)
		}
		switch strings.ToLower(strings.TrimSpace(name)) {
		case "put":
			m.Put = w
		case "get":
			m.Get = w
		case "append":
			m.Append = w
		case "cas":
			m.CAS = w
		default:
			return Mix{}, fmt.Errorf("mix %q: unknown kind %q (want put, get, append or cas)", s, name)
		}
	}
	if m.total() <= 0 {
		return Mix{}, fmt.Errorf("mix %q: no positive weight", s)
	}
	return m, nil
}
