package load

import (
	"math/rand/v2"
	"strconv"
	"strings"

	"github.com/bftbed/bftbed/pbft/kv"
)

// opGen makes one client's operations. It is used by one goroutine.
type opGen struct {
	cfg    *Config
	client int
	rng    *rand.Rand
	n      int               // operations made so far
	seen   map[string]string // the last value this client saw per key, for CAS
}

func newOpGen(cfg *Config, client int) *opGen {
	return &opGen{
		cfg:    cfg,
		client: client,
		rng:    rand.New(rand.NewPCG(cfg.Seed, uint64(client))),
		seen:   make(map[string]string),
	}
}

// genOp is an operation to send, with its record filled but for timing
// and result.
type genOp struct {
	bytes []byte
	rec   Record
}

// next returns the client's next operation.
func (g *opGen) next() genOp {
	g.n++
	kind := g.cfg.Mix.pick(g.rng.Float64())
	key := g.cfg.KeyPrefix + strconv.Itoa(g.rng.IntN(g.cfg.Keys))
	rec := Record{Client: g.client, Kind: kind.String(), Key: key}
	var op []byte
	switch kind {
	case kv.OpPut:
		rec.Value = g.value()
		op = kv.EncodePut([]byte(key), []byte(rec.Value))
	case kv.OpGet:
		op = kv.EncodeGet([]byte(key))
	case kv.OpAppend:
		rec.Value = g.value()
		op = kv.EncodeAppend([]byte(key), []byte(rec.Value))
	case kv.OpCAS:
		// Expecting the value last seen makes some swaps succeed; a
		// constant or random expectation would (almost) never match.
		rec.Expected, rec.Value = g.seen[key], g.value()
		op = kv.EncodeCAS([]byte(key), []byte(rec.Expected), []byte(rec.Value))
	}
	return genOp{bytes: op, rec: rec}
}

// observe remembers the value a completed operation left on its key.
func (g *opGen) observe(rec *Record) {
	if rec.Result == nil || rec.Result.Err != "" {
		return
	}
	switch rec.Kind {
	case "Put":
		g.seen[rec.Key] = rec.Value
	default:
		g.seen[rec.Key] = rec.Result.Value
	}
	// Bound the memory of a long run over many keys.
	if len(g.seen) > 4*g.cfg.Keys {
		clear(g.seen)
	}
}

// value returns a printable value of cfg.Payload bytes (longer if the
// payload is too small to hold it) that no other operation of the run
// writes: "c<client>-<n>-" padded with letters. Unique values let a
// linearizability checker tell every write apart.
func (g *opGen) value() string {
	prefix := "c" + strconv.Itoa(g.client) + "-" + strconv.Itoa(g.n) + "-"
	if len(prefix) >= g.cfg.Payload {
		return prefix
	}
	var b strings.Builder
	b.Grow(g.cfg.Payload)
	b.WriteString(prefix)
	for b.Len() < g.cfg.Payload {
		b.WriteByte(byte('a' + (b.Len() % 26)))
	}
	return b.String()
}
