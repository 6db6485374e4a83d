package sim

import (
	"fmt"
	"strings"

	"github.com/bftbed/bftbed/crypto"
	"github.com/bftbed/bftbed/pbft"
)

// Violation is a broken safety property, or a replica that could not go on.
type Violation struct {
	Kind     string // "agreement", "exactly-once", "lost", "recovery", "storage"
	Seq      pbft.Seq
	Replicas []pbft.ReplicaID
	Digests  []crypto.Digest
	Detail   string
}

func (v Violation) String() string {
	s := fmt.Sprintf("%s violation", v.Kind)
	if v.Seq != 0 {
		s += fmt.Sprintf(" at seq %d", v.Seq)
	}
	if len(v.Replicas) > 0 {
		s += fmt.Sprintf(" replicas %v", v.Replicas)
	}
	if len(v.Digests) > 0 {
		s += fmt.Sprintf(" digests %v", v.Digests)
	}
	if v.Detail != "" {
		s += ": " + v.Detail
	}
	return s
}

// checker watches every execution as it happens.
type checker struct {
	// votes records, per replica, the digest of every PRE-PREPARE,
	// PREPARE and COMMIT it sent, by (type, view, seq), and the P of every
	// VIEW-CHANGE by view, to catch a correct replica that contradicts
	// itself (after a crash, for instance).
	votes map[voteKey]crypto.Digest
	// first records, per sequence number, the first replica to execute it
	// and the digest it executed.
	first      map[pbft.Seq]firstCommit
	violations []Violation
}

type firstCommit struct {
	replica pbft.ReplicaID
	digest  crypto.Digest
}

type voteKey struct {
	replica pbft.ReplicaID
	typ     pbft.MsgType
	view    pbft.View
	seq     pbft.Seq
}

func newChecker(n int) *checker {
	return &checker{first: map[pbft.Seq]firstCommit{}, votes: map[voteKey]crypto.Digest{}}
}

// signed is the equivocation check: a correct replica never signs two
// different digests for one (type, view, seq), nor two different
// VIEW-CHANGEs for one view.
func (c *checker) signed(id pbft.ReplicaID, m pbft.Message) {
	var k voteKey
	var d crypto.Digest
	switch m := m.(type) {
	case *pbft.PrePrepare:
		k, d = voteKey{id, m.Type(), m.View, m.Seq}, m.Digest
	case *pbft.Prepare:
		k, d = voteKey{id, m.Type(), m.View, m.Seq}, m.Digest
	case *pbft.Commit:
		k, d = voteKey{id, m.Type(), m.View, m.Seq}, m.Digest
	case *pbft.ViewChange:
		k, d = voteKey{id, m.Type(), m.View, 0}, crypto.Hash(pbft.SigningBytes(m))
	default:
		return
	}
	if old, ok := c.votes[k]; ok && old != d {
		c.fail(Violation{Kind: "equivocation", Seq: k.seq, Replicas: []pbft.ReplicaID{id}, Digests: []crypto.Digest{old, d},
			Detail: fmt.Sprintf("%s view %d signed twice with different contents", k.typ, k.view)})
		return
	}
	c.votes[k] = d
}

func (c *checker) fail(v Violation) {
	if len(c.violations) < 100 {
		c.violations = append(c.violations, v)
	}
}

// committed is the agreement check: no two replicas execute different
// batches at one sequence number.
func (c *checker) committed(id pbft.ReplicaID, b pbft.CommittedBatch) {
	f, ok := c.first[b.Seq]
	if !ok {
		c.first[b.Seq] = firstCommit{replica: id, digest: b.Digest}
		return
	}
	if f.digest != b.Digest {
		c.fail(Violation{Kind: "agreement", Seq: b.Seq, Replicas: []pbft.ReplicaID{f.replica, id}, Digests: []crypto.Digest{f.digest, b.Digest}})
	}
}

// caughtUp checks that every running replica executed as far as the
// furthest one: restarted and lagging replicas caught up.
func (c *checker) caughtUp(s *Simulator) {
	var top pbft.Seq
	for _, n := range s.nodes {
		if n.up() {
			top = max(top, n.core.Status().LastExecuted)
		}
	}
	for _, n := range s.nodes {
		if n.up() && !s.byzantine(n.id) && n.core.Status().LastExecuted < top {
			c.fail(Violation{Kind: "catch-up", Seq: n.core.Status().LastExecuted, Replicas: []pbft.ReplicaID{n.id},
				Detail: fmt.Sprintf("executed %d, others %d", n.core.Status().LastExecuted, top)})
		}
	}
}

// finalState checks exactly-once on every running replica: each client's key
// holds every token whose append the client saw complete, each exactly once,
// in order (on the replicas that executed everything), and never a token
// twice (on every replica).
func (c *checker) finalState(s *Simulator) {
	var top pbft.Seq
	for _, n := range s.nodes {
		if n.up() {
			top = max(top, n.core.Status().LastExecuted)
		}
	}
	for _, n := range s.nodes {
		if !n.up() {
			continue
		}
		upToDate := n.core.Status().LastExecuted == top
		for _, cl := range s.clients {
			val, _ := n.app.Get(cl.key())
			tokens := strings.Split(strings.TrimSuffix(string(val), ";"), ";")
			if len(val) == 0 {
				tokens = nil
			}
			seen := map[string]bool{}
			for _, t := range tokens {
				if seen[t] {
					c.fail(Violation{Kind: "exactly-once", Replicas: []pbft.ReplicaID{n.id}, Detail: fmt.Sprintf("client %d: token %q executed twice", cl.index, t)})
				}
				seen[t] = true
			}
			if !upToDate {
				continue
			}
			for _, t := range cl.appended {
				if !seen[strings.TrimSuffix(t, ";")] {
					c.fail(Violation{Kind: "lost", Replicas: []pbft.ReplicaID{n.id}, Detail: fmt.Sprintf("client %d: completed append %q missing", cl.index, t)})
				}
			}
		}
	}
}
