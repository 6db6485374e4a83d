package adversary

import (
	"encoding/binary"

	"github.com/bftbed/bftbed/crypto"
	"github.com/bftbed/bftbed/pbft"
)

// Censor ignores the requests of a share of the clients: the faulty replica
// never receives them, so as primary it orders everyone else's requests but
// never theirs, and as a backup it neither relays them nor waits for them.
// Which clients are censored is drawn from the run's seed, per client, so
// the same clients are censored for the whole fault. The protocol's answer
// is the view-change timer, which waits for one request at a time:
// executing others must not keep it from expiring.
type Censor struct {
	// Share is the fraction of clients censored, in (0, 1].
	Share float64
	// Seed draws the censored clients.
	Seed uint64
}

// Name implements Behaviour.
func (c *Censor) Name() string { return "censor" }

// Outbound implements Behaviour: what the replica sends is untouched.
func (c *Censor) Outbound(_ *Context, p Packet) []Packet { return []Packet{p} }

// Inbound implements InboundFilter: a censored client's REQUEST, from the
// client or relayed by a replica, is lost.
func (c *Censor) Inbound(_ *Context, _ pbft.ReplicaID, _ bool, m pbft.Message) bool {
	req, ok := m.(*pbft.Request)
	return !ok || !c.Censors(req.Client)
}

// Censors reports whether client's requests are censored: a pure function
// of the seed and the client, so every process and every replay of a
// simulated run censors the same clients.
func (c *Censor) Censors(client pbft.ClientID) bool {
	b := binary.LittleEndian.AppendUint64(nil, c.Seed)
	d := crypto.Hash(append(b, client[:]...))
	return float64(binary.LittleEndian.Uint64(d[:8])>>11)/(1<<53) < c.Share
}
