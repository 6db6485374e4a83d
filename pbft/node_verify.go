package pbft

import (
	"context"
	"log/slog"

	"github.com/bftbed/bftbed/crypto"
)

// Bounds of one verification group. A group is whatever frames are already
// waiting when the receive goroutine looks (it never waits to fill one), so
// under light load a message is checked alone, at once, and under heavy load
// the batch verifier gets the large batches that make it fast.
const (
	maxGroupFrames = 256
	maxGroupItems  = 4096
)

// receiveLoop reads frames, decodes and authenticates them a group at a
// time, and hands each group's authentic messages to the core goroutine in
// arrival order. It runs until the Node stops or the transport closes.
func (n *Node) receiveLoop() {
	defer n.wg.Done()
	rx := n.rx
	var g verifyGroup
	for {
		var data []byte
		var ok bool
		select {
		case data, ok = <-rx:
		case <-n.quit:
			return
		}
		closed := !ok
		if ok {
			g.add(n, data)
		drain:
			for len(g.msgs) < maxGroupFrames && len(g.items) < maxGroupItems {
				select {
				case data, ok = <-rx:
					if !ok {
						closed = true
						break drain
					}
					g.add(n, data)
				default:
					break drain
				}
			}
		}
		if msgs := g.verify(n); len(msgs) > 0 {
			n.stats.coreQueue.Add(int64(len(msgs)))
			select {
			case n.inbox <- msgs:
			case <-n.quit:
				return
			}
		}
		if closed {
			n.log.Warn("transport closed; stopping")
			n.shutdown(ErrTransportClosed)
			return
		}
	}
}

// verifyGroup collects decoded messages and their signatures, to check all
// the signatures of a group in one parallel batch verification.
type verifyGroup struct {
	msgs []Message
	// ends[i] is the end, in items, of msgs[i]'s signatures (which start
	// at ends[i-1]).
	ends  []int
	items []crypto.VerifyItem
}

// add decodes one frame and queues its signatures. Frames that do not
// decode, and messages a replica never accepts, are counted and dropped.
func (g *verifyGroup) add(n *Node, data []byte) {
	n.stats.frames.Add(1)
	m, err := Unmarshal(data)
	if err != nil {
		n.stats.malformed.Add(1)
		n.log.Debug("drop malformed frame", "len", len(data), "err", err)
		return
	}
	n.stats.in.add(m.Type(), 1)
	if m.Type() == MsgReply {
		// Only clients take replies: checking its signature would be
		// wasted work.
		n.stats.rejected.Add(1)
		n.log.Debug("drop message", "type", m.Type().String(), "err", "replicas take no REPLY")
		return
	}
	items, err := SignatureItems(m, n.keys)
	if err != nil {
		n.stats.rejected.Add(1)
		n.log.Debug("drop message", "type", m.Type().String(), "err", err)
		return
	}
	g.msgs = append(g.msgs, m)
	g.items = append(g.items, items...)
	g.ends = append(g.ends, len(g.items))
}

// verify checks every queued signature and returns the messages whose
// signatures are all valid, in arrival order; it then empties the group.
func (g *verifyGroup) verify(n *Node) []Message {
	if len(g.msgs) == 0 {
		return nil
	}
	ok, all := n.cfg.Domain.VerifyParallel(g.items, n.cfg.VerifyWorkers)
	out := make([]Message, 0, len(g.msgs))
	debug := n.log.Enabled(context.Background(), slog.LevelDebug)
	start := 0
	for i, m := range g.msgs {
		end := g.ends[i]
		if all || allTrue(ok[start:end]) {
			out = append(out, m)
		} else {
			n.stats.badSig.Add(1)
			if debug {
				// Authenticate again only to say which signature
				// is bad: rare, and only when someone is listening.
				n.log.Debug("drop message with a bad signature", "type", m.Type().String(), "err", Authenticate(n.cfg.Domain, n.keys, m))
			}
		}
		start = end
	}
	// Drop the references so the group's messages can be collected.
	clear(g.msgs)
	clear(g.items)
	g.msgs, g.items, g.ends = g.msgs[:0], g.items[:0], g.ends[:0]
	return out
}

func allTrue(ok []bool) bool {
	for _, b := range ok {
		if !b {
			return false
		}
	}
	return true
}
