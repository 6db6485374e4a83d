package pbft

import (
	"encoding/hex"
	"fmt"
	"strings"

	"github.com/bftbed/bftbed/crypto"
)

// Sign sets m's Sig to d.Sign(k, byte(m.Type()), SigningBytes(m)): the
// message type is the signature's tag, so a signature on one type never
// verifies as another with the same fields. For a *Request, k is the
// client's key; for every other message, the sending replica's. Nested
// messages must already be signed, since their signatures are signed over.
// m must be a non-nil message of this package.
//
// A *Reply with no place in a tree (Count == 0) is signed on its own, as the
// only leaf of a tree of one.
func Sign(d crypto.Domain, k crypto.PrivateKey, m Message) {
	sig := sigPtr(m)
	if sig == nil {
		panic(fmt.Sprintf("pbft: Sign of a nil or foreign message (%T)", m))
	}
	if rep, ok := m.(*Reply); ok && rep.Count == 0 {
		rep.Root, rep.Index, rep.Count, rep.Proof = replyLeaf(rep), 0, 1, nil
	}
	var buf [512]byte // most messages are signed without allocating here
	*sig = d.Sign(k, byte(m.Type()), appendSigning(buf[:0], m))
}

// ReplicaKeys returns the public key of replica id, false if there is no
// such replica.
type ReplicaKeys func(id ReplicaID) (crypto.PublicKey, bool)

// SignatureItems lists every signature in m that must be valid for m to be
// authentic: m's own, by its replica's key from keys or, for a *Request, by
// the client's key (the ClientID is the public key); and every nested one:
// each request in a PrePrepare's batch (including the batches inside
// prepared proofs and O), each Checkpoint in C and Proof, each PrePrepare
// and Prepare in each PreparedProof, each ViewChange in V (recursively) and
// each PrePrepare in O. Each item's Msg is the signer's SigningBytes; the
// items share one buffer.
//
// It returns an error for a message naming an unknown replica, or holding a
// nil message where one is needed (Unmarshal never produces those), and for
// a nil m or one of a type foreign to this package.
func SignatureItems(m Message, keys ReplicaKeys) ([]crypto.VerifyItem, error) {
	// A first walk sizes the buffers, so the second fills them with one
	// allocation each.
	c := collector{mode: sizing}
	if err := c.message(m); err != nil {
		return nil, err
	}
	c = collector{
		mode:  filling,
		keys:  keys,
		items: make([]crypto.VerifyItem, 0, c.n),
		buf:   make([]byte, 0, c.size),
	}
	if err := c.message(m); err != nil {
		return nil, err
	}
	return c.items, nil
}

// Authenticate checks every signature SignatureItems lists for m with one
// batch verification. The error names the first bad signature: its message
// type, its signer and where it sits in m. It checks signatures and signers
// only: quorum sizes, views, and whether digests match batches
// (CheckBatchDigest) are the protocol core's to check.
func Authenticate(d crypto.Domain, keys ReplicaKeys, m Message) error {
	items, err := SignatureItems(m, keys)
	if err != nil {
		return err
	}
	ok, all := d.VerifyBatch(items)
	if all {
		return nil
	}
	for i := range items {
		if i >= len(ok) || !ok[i] {
			// Walk m again to find where item i came from: cheaper than
			// recording every item's position on the success path.
			loc := collector{mode: locating, keys: keys, locate: i}
			_ = loc.message(m)
			return loc.badSignature(m)
		}
	}
	return fmt.Errorf("pbft: authenticate %s: batch verification failed", m.Type())
}

// pathStep is one step of the position of a nested message: element idx of
// a list field, or the field itself when idx < 0.
type pathStep struct {
	field string
	idx   int
}

// maxDepth is the deepest nesting of a signed message:
// V[i].P[j].PrePrepare.Batch[k].
const maxDepth = 4

// The walks of a collector.
const (
	sizing   = iota // count the items and their signing bytes
	filling         // gather the items
	locating        // find where item number locate is
)

// collector walks a message, visiting each signed message in it in a fixed
// order.
type collector struct {
	mode int
	top  MsgType // the type of the message walked
	keys ReplicaKeys

	path  [maxDepth]pathStep
	depth int

	// sizing
	n    int // items
	size int // bytes of all signing bytes

	// filling
	buf   []byte // all signing bytes, back to back
	items []crypto.VerifyItem

	// locating
	locate   int
	found    bool
	foundAt  [maxDepth]pathStep
	foundLen int
	foundTyp MsgType
	foundKey crypto.PublicKey
	foundRep ReplicaID
}

func (c *collector) push(field string, idx int) {
	c.path[c.depth] = pathStep{field, idx}
	c.depth++
}

func (c *collector) pop() { c.depth-- }

// where formats a path.
func where(path []pathStep) string {
	var sb strings.Builder
	for i, s := range path {
		if i > 0 {
			sb.WriteByte('.')
		}
		sb.WriteString(s.field)
		if s.idx >= 0 {
			fmt.Fprintf(&sb, "[%d]", s.idx)
		}
	}
	return sb.String()
}

// fail returns the error for a problem at the current position in m.
func (c *collector) fail(format string, args ...any) error {
	msg := fmt.Sprintf(format, args...)
	if c.depth == 0 {
		return fmt.Errorf("pbft: authenticate %s: %s", c.top, msg)
	}
	return fmt.Errorf("pbft: authenticate %s: %s: %s", c.top, where(c.path[:c.depth]), msg)
}

// add visits the signature of the (non-nil) message m, by replica rep or,
// for a request, by its client.
func (c *collector) add(m Message, rep ReplicaID) error {
	if c.mode == sizing {
		c.n++
		c.size += 1 + signedSize(m)
		return nil
	}
	var key crypto.PublicKey
	if q, ok := m.(*Request); ok {
		key = q.Client
	} else {
		k, ok := c.keys(rep)
		if !ok {
			return c.fail("%s names unknown replica %d", m.Type(), rep)
		}
		key = k
	}
	if c.mode == locating {
		if c.n == c.locate {
			c.found, c.foundTyp, c.foundKey, c.foundRep = true, m.Type(), key, rep
			c.foundAt, c.foundLen = c.path, c.depth
		}
		c.n++
		return nil
	}
	// buf was sized by the first walk; should it grow anyway, the items
	// already made keep pointing at intact bytes of the old array.
	start := len(c.buf)
	c.buf = appendSigning(c.buf, m)
	c.items = append(c.items, crypto.VerifyItem{
		Key: key,
		Tag: byte(m.Type()),
		Msg: c.buf[start:len(c.buf):len(c.buf)],
		Sig: *sigPtr(m),
	})
	return nil
}

// badSignature describes the signature found by a locating walk.
func (c *collector) badSignature(m Message) error {
	if !c.found {
		return fmt.Errorf("pbft: authenticate %s: a signature is invalid", m.Type())
	}
	who := fmt.Sprintf("replica %d", c.foundRep)
	if c.foundTyp == MsgRequest {
		who = "client " + hex.EncodeToString(c.foundKey[:8])
	}
	if c.foundLen == 0 {
		return fmt.Errorf("pbft: authenticate %s: bad signature from %s", m.Type(), who)
	}
	return fmt.Errorf("pbft: authenticate %s: bad signature on %s from %s at %s",
		m.Type(), c.foundTyp, who, where(c.foundAt[:c.foundLen]))
}

// message gathers the signatures of a top-level message.
func (c *collector) message(m Message) error {
	if sigPtr(m) == nil {
		return fmt.Errorf("pbft: authenticate: nil or foreign message (%T)", m)
	}
	c.top = m.Type()
	switch x := m.(type) {
	case *Request:
		return c.add(x, 0)
	case *PrePrepare:
		return c.prePrepare(x)
	case *Prepare:
		return c.add(x, x.Replica)
	case *Commit:
		return c.add(x, x.Replica)
	case *Reply:
		// The signature covers the root; the result is authentic only if
		// its leaf lies under that root.
		if !CheckReplyProof(x) {
			return c.fail("%s from replica %d: result not under the signed root (index %d of %d)", MsgReply, x.Replica, x.Index, x.Count)
		}
		return c.add(x, x.Replica)
	case *Checkpoint:
		return c.add(x, x.Replica)
	case *ViewChange:
		return c.viewChange(x)
	case *NewView:
		if err := c.add(x, x.Replica); err != nil {
			return err
		}
		for i, vc := range x.V {
			c.push("V", i)
			if err := c.viewChange(vc); err != nil {
				return err
			}
			c.pop()
		}
		for i, pp := range x.O {
			c.push("O", i)
			if err := c.prePrepare(pp); err != nil {
				return err
			}
			c.pop()
		}
		return nil
	case *FetchState:
		return c.add(x, x.Replica)
	case *State:
		if err := c.add(x, x.Replica); err != nil {
			return err
		}
		return c.checkpoints("Proof", x.Proof)
	case *Committed:
		if err := c.add(x, x.Replica); err != nil {
			return err
		}
		c.push("PrePrepare", -1)
		if err := c.prePrepare(x.PrePrepare); err != nil {
			return err
		}
		c.pop()
		for i, cm := range x.Commits {
			c.push("Commits", i)
			if cm == nil {
				return c.fail("nil %s", MsgCommit)
			}
			if err := c.add(cm, cm.Replica); err != nil {
				return err
			}
			c.pop()
		}
		return nil
	}
	return nil // unreachable: sigPtr is nil for other types
}

func (c *collector) prePrepare(pp *PrePrepare) error {
	if pp == nil {
		return c.fail("nil %s", MsgPrePrepare)
	}
	if err := c.add(pp, pp.Replica); err != nil {
		return err
	}
	for i, q := range pp.Batch {
		c.push("Batch", i)
		if q == nil {
			return c.fail("nil %s", MsgRequest)
		}
		if err := c.add(q, 0); err != nil {
			return err
		}
		c.pop()
	}
	return nil
}

func (c *collector) checkpoints(field string, list []*Checkpoint) error {
	for i, cp := range list {
		c.push(field, i)
		if cp == nil {
			return c.fail("nil %s", MsgCheckpoint)
		}
		if err := c.add(cp, cp.Replica); err != nil {
			return err
		}
		c.pop()
	}
	return nil
}

func (c *collector) viewChange(vc *ViewChange) error {
	if vc == nil {
		return c.fail("nil %s", MsgViewChange)
	}
	if err := c.add(vc, vc.Replica); err != nil {
		return err
	}
	if err := c.checkpoints("C", vc.C); err != nil {
		return err
	}
	for i, p := range vc.P {
		c.push("P", i)
		if p == nil {
			return c.fail("nil prepared proof")
		}
		c.push("PrePrepare", -1)
		if err := c.prePrepare(p.PrePrepare); err != nil {
			return err
		}
		c.pop()
		for j, q := range p.Prepares {
			c.push("Prepares", j)
			if q == nil {
				return c.fail("nil %s", MsgPrepare)
			}
			if err := c.add(q, q.Replica); err != nil {
				return err
			}
			c.pop()
		}
		c.pop()
	}
	return nil
}
