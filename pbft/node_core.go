package pbft

import (
	"context"
	"fmt"
	"log/slog"
)

// maxGroupEvents bounds the events (messages and timer fires) stepped
// before one Save. Larger groups amortise the synced write over more steps
// but delay the first message of the group; 256 is about one full batch of
// requests.
const maxGroupEvents = 256

// maxKeptEncBuf is the largest encode buffer kept between groups: a STATE
// message can be megabytes, and keeping that for every later PREPARE would
// waste memory.
const maxKeptEncBuf = 1 << 20

// coreLoop is the only goroutine that steps the core. It waits for an
// event, steps the core with it and with every event already queued behind
// it (up to maxGroupEvents), then carries out the merged output: one Save for
// the whole group (group commit), then the sends, then the timers.
func (n *Node) coreLoop() {
	defer n.wg.Done()
	defer n.timers.stopAll()
	for {
		var rd Ready
		steps := 0
		select {
		case <-n.quit:
			return
		case msgs := <-n.inbox:
			steps += n.deliver(&rd, msgs)
		case f := <-n.fires:
			steps += n.fire(&rd, f)
		}
	drain:
		for steps < maxGroupEvents {
			select {
			case msgs := <-n.inbox:
				steps += n.deliver(&rd, msgs)
			case f := <-n.fires:
				steps += n.fire(&rd, f)
			default:
				break drain
			}
		}
		n.stats.steps.Add(uint64(steps))
		if err := n.carryOut(rd); err != nil {
			n.shutdown(err)
			return
		}
	}
}

// deliver steps the core with authenticated messages and merges the
// output into rd.
func (n *Node) deliver(rd *Ready, msgs []Message) int {
	debug := n.log.Enabled(context.Background(), slog.LevelDebug)
	for _, m := range msgs {
		if debug {
			n.log.Debug("recv", "type", m.Type().String())
		}
		mergeReady(rd, n.core.Receive(m))
	}
	n.stats.delivered.Add(uint64(len(msgs)))
	n.stats.coreQueue.Add(-int64(len(msgs)))
	return len(msgs)
}

// fire steps the core with a timer expiry.
func (n *Node) fire(rd *Ready, f timerFire) int {
	n.log.Debug("timer", "kind", f.kind.String(), "gen", f.gen)
	mergeReady(rd, n.core.Fire(f.kind, f.gen))
	return 1
}

// mergeReady appends src to dst as if src's step came after dst's: Persist
// fields concatenate (the last view status and the highest stable checkpoint
// win), and so do messages, replies, timer commands and committed batches.
// Saving the merged Persist at once is equivalent to saving each in turn,
// since a Storage applies a Persist atomically and Stable only discards what
// lies at or below it.
func mergeReady(dst *Ready, src Ready) {
	if dst.Empty() {
		*dst = src
		return
	}
	p, q := &dst.Persist, &src.Persist
	if q.View != nil {
		p.View = q.View
	}
	p.Log = append(p.Log, q.Log...)
	p.Executed = append(p.Executed, q.Executed...)
	p.Snapshots = append(p.Snapshots, q.Snapshots...)
	if q.Stable != nil && (p.Stable == nil || q.Stable.Seq >= p.Stable.Seq) {
		p.Stable = q.Stable
	}
	dst.Messages = append(dst.Messages, src.Messages...)
	dst.Replies = append(dst.Replies, src.Replies...)
	dst.Timers = append(dst.Timers, src.Timers...)
	dst.Committed = append(dst.Committed, src.Committed...)
}

// carryOut does what a Ready asks, in the order the core requires: persist,
// then send, then arm timers. A failed Save is fatal and sends nothing: the
// replica must never send what it could forget.
func (n *Node) carryOut(rd Ready) error {
	if !rd.Persist.Empty() {
		if err := n.cfg.Storage.Save(&rd.Persist); err != nil {
			n.log.Error("storage save failed; stopping", "err", err)
			return fmt.Errorf("pbft: node: save: %w", err)
		}
		n.stats.saves.Add(1)
	}
	n.send(rd.Messages, rd.Replies)
	if len(rd.Committed) > 0 {
		reqs := 0
		for _, b := range rd.Committed {
			reqs += len(b.Batch)
		}
		n.stats.batches.Add(uint64(len(rd.Committed)))
		n.stats.requests.Add(uint64(reqs))
	}
	if n.cfg.OnCommit != nil {
		for _, b := range rd.Committed {
			n.cfg.OnCommit(b)
		}
	}
	n.timers.apply(rd.Timers)
	n.updateStatus()
	return nil
}

// send encodes each message once, into one reused buffer (the transport
// copies what it queues), and hands it to the transport.
func (n *Node) send(msgs []Envelope, replies []*Reply) {
	debug := n.log.Enabled(context.Background(), slog.LevelDebug)
	buf := n.encBuf
	sent := 0
	// byType is counted here and added to the atomic counters once per
	// call: a step's output is dozens of messages of a few types.
	var byType MsgCounts
	for _, env := range msgs {
		if sigPtr(env.Msg) == nil {
			continue // a nil message: nothing to send
		}
		if !env.Broadcast && (env.To == n.id || int(env.To) >= n.cfg.Protocol.N) {
			continue
		}
		buf = AppendMarshal(buf[:0], env.Msg)
		if env.Broadcast {
			n.trans.Broadcast(buf)
		} else {
			n.trans.Send(env.To, buf)
		}
		sent++
		if t := env.Msg.Type(); int(t) < len(byType) {
			byType[t]++
		}
		if debug {
			n.log.Debug("send", "type", env.Msg.Type().String(), "broadcast", env.Broadcast, "to", int(env.To))
		}
	}
	for _, rep := range replies {
		if rep == nil {
			continue
		}
		buf = AppendMarshal(buf[:0], rep)
		n.trans.SendClient(rep.Client, buf)
		sent++
		byType[MsgReply]++
	}
	n.stats.sent.Add(uint64(sent))
	for t, c := range byType {
		if c > 0 {
			n.stats.out[t].Add(c)
		}
	}
	if cap(buf) > maxKeptEncBuf {
		buf = nil
	}
	n.encBuf = buf
}

// updateStatus publishes the core's status for Status and logs view
// changes and new stable checkpoints.
func (n *Node) updateStatus() {
	st := n.core.Status()
	old := n.status.Load()
	if *old == st {
		return
	}
	if st.View > old.View {
		n.stats.viewChanges.Add(1)
	}
	if st.View != old.View || st.ViewChanging != old.ViewChanging {
		if st.ViewChanging {
			n.log.Info("view change", "view", uint64(st.View))
		} else {
			n.log.Info("new view", "view", uint64(st.View), "primary", int(st.Primary))
		}
	}
	if st.StableSeq != old.StableSeq {
		n.log.Info("stable checkpoint", "seq", uint64(st.StableSeq), "state", st.StableState.String())
	}
	n.status.Store(&st)
}
