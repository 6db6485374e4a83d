package p2p

import (
	"bufio"
	"context"
	"math/rand/v2"
	"sync/atomic"
	"time"

	"github.com/libp2p/go-libp2p/core/network"
	"github.com/libp2p/go-libp2p/core/peer"
	"github.com/libp2p/go-libp2p/p2p/net/swarm"

	"github.com/bftbed/bftbed/pbft"
)

// Direct streams: each host opens one long-lived stream to each peer it
// sends to, and writes it from one goroutine fed by a bounded queue. The
// stream is one-way (the peer opens its own stream back), so each side's
// writer and reader are independent and neither waits for the other.
//
// Why a queue and a writer per peer rather than writing from Send: Send
// must return at once (the Node calls it from its event loop), and a peer
// that is slow, dead or reconnecting must only cost its own queue. When the
// queue is full the frame is dropped and counted; PBFT retransmits what
// matters.

// Buffer sizes of a stream's reader and writer. The writer's buffer
// coalesces the frames that queued while the last write was in progress
// into one write (one Noise record, one yamux frame), which is most of the
// throughput under load; a lone frame is flushed at once.
const (
	readBufSize  = 32 << 10
	writeBufSize = 64 << 10
)

// outFrame is a queued frame: a length prefix and payload in one buffer.
// The buffer is shared by every writer a Broadcast queued it to and is never
// modified.
type outFrame struct {
	buf  []byte
	size int // payload bytes
}

// writer owns the outbound stream to one peer.
type writer struct {
	h    *Host
	pid  peer.ID
	name string    // "r<id>" or "c<key>", for logs
	c    *counters // where its traffic is counted

	q        chan outFrame
	qbytes   atomic.Int64 // bytes in q
	maxBytes int64
	wakeC    chan struct{}

	// replica: keep a stream open at all times, reconnecting with
	// back-off; the connection also carries GossipSub. Otherwise (a reply
	// writer to a client's host or gateway) use the connection the peer
	// opened, give up when it is gone, and retire when idle.
	replica bool
}

func newWriter(h *Host, pid peer.ID, name string, c *counters, qlen int, replica bool) *writer {
	return &writer{
		h:        h,
		pid:      pid,
		name:     name,
		c:        c,
		q:        make(chan outFrame, qlen),
		maxBytes: int64(h.cfg.QueueBytes),
		wakeC:    make(chan struct{}, 1),
		replica:  replica,
	}
}

// wake makes the writer re-check its stream (a connection closed, or the
// peer's addresses changed). It never blocks.
func (w *writer) wake() {
	select {
	case w.wakeC <- struct{}{}:
	default:
	}
}

// enqueue queues f, or drops and counts it if the queue is full in frames
// or bytes. A single frame always fits an empty queue, whatever its size.
func (w *writer) enqueue(f outFrame) bool {
	n := int64(len(f.buf))
	if b := w.qbytes.Add(n); b > w.maxBytes && b != n {
		w.qbytes.Add(-n)
		w.overflow()
		return false
	}
	w.c.queued.Add(1)
	select {
	case w.q <- f:
		return true
	default:
		w.c.queued.Add(-1)
		w.qbytes.Add(-n)
		w.overflow()
		return false
	}
}

func (w *writer) overflow() {
	w.c.dropped.Add(1)
	w.c.dropLog.event(w.h.log, "p2p: outbound queue full; frames dropped", "peer", w.name)
}

// run is the writer's goroutine. It takes the frames that are queued
// (up to writeBufSize bytes of them, or one bigger frame) as a batch,
// writes them to the stream and flushes. A batch whose write fails stays
// for the next stream, after a back-off: a peer that restarts gets what was
// queued for it. That makes delivery at-least-once across a reconnection (a
// frame that got through just before the failure is sent again); PBFT's
// messages are idempotent, so a duplicate costs only its decoding.
func (w *writer) run() {
	var (
		s       network.Stream
		bw      *bufio.Writer
		batch   []outFrame // taken from q, not yet flushed
		opened  bool       // a stream was opened before
		active  time.Time  // last successful flush
		backoff = w.h.cfg.MinBackoff
		idleC   <-chan time.Time
		idle    *time.Timer
	)
	if !w.replica {
		idle = time.NewTimer(w.h.cfg.ClientIdle)
		defer idle.Stop()
		idleC = idle.C
	}
	reset := func() {
		if s != nil {
			_ = s.Reset()
			s = nil
		}
	}
	defer reset()
	// pause waits out the back-off after a failure, and grows it.
	pause := func() bool {
		ok := w.sleep(jitter(backoff))
		backoff = min(2*backoff, w.h.cfg.MaxBackoff)
		return ok
	}

	for {
		if s == nil && (w.replica || len(batch) > 0) {
			var err error
			if s, err = w.open(); err != nil {
				if !w.replica {
					// The client left: its pending replies are
					// useless, and it will retransmit its request.
					w.giveUp(len(batch))
					return
				}
				w.h.log.Debug("p2p: cannot reach replica", "peer", w.name, "err", err, "retry_in", backoff)
				if !pause() {
					return
				}
				continue
			}
			if opened {
				w.c.reconnects.Add(1)
				w.h.log.Info("p2p: stream to peer re-established", "peer", w.name)
			}
			opened = true
			if bw == nil {
				bw = bufio.NewWriterSize(s, writeBufSize)
			} else {
				bw.Reset(s)
			}
		}
		if len(batch) == 0 {
			select {
			case <-w.h.done:
				return
			case f := <-w.q:
				batch = w.take(batch, f)
			case <-w.wakeC:
				if s != nil && s.Conn().IsClosed() {
					reset()
				}
				continue
			case <-idleC:
				if quiet := time.Since(active); quiet < w.h.cfg.ClientIdle {
					idle.Reset(w.h.cfg.ClientIdle - quiet)
					continue
				}
				if w.retire() {
					return
				}
				idle.Reset(w.h.cfg.ClientIdle)
				continue
			}
		}
		// Coalesce what else is queued, up to a buffer's worth.
		// (This goroutine is q's only receiver: len(q) > 0 means the
		// receive does not block.)
		for size := batchBytes(batch); size < writeBufSize && len(w.q) > 0; {
			f := <-w.q
			batch = w.take(batch, f)
			size += len(f.buf)
		}
		if s == nil {
			continue // open one first
		}
		if err := w.flush(s, bw, batch); err != nil {
			w.h.log.Debug("p2p: write failed", "peer", w.name, "err", err, "frames", len(batch))
			reset()
			if !pause() {
				return
			}
			continue
		}
		backoff = w.h.cfg.MinBackoff
		active = time.Now()
		var n uint64
		for i := range batch {
			n += uint64(batch[i].size)
			batch[i] = outFrame{}
		}
		w.c.framesOut.Add(uint64(len(batch)))
		w.c.bytesOut.Add(n)
		w.c.queued.Add(-int64(len(batch)))
		batch = batch[:0]
	}
}

// take appends f, just received from q, to batch.
func (w *writer) take(batch []outFrame, f outFrame) []outFrame {
	w.qbytes.Add(-int64(len(f.buf)))
	return append(batch, f)
}

func batchBytes(batch []outFrame) int {
	n := 0
	for _, f := range batch {
		n += len(f.buf)
	}
	return n
}

// flush writes batch to s through bw and flushes it, each write bounded by
// the write timeout so that a peer that stops reading cannot stall us.
func (w *writer) flush(s network.Stream, bw *bufio.Writer, batch []outFrame) error {
	deadline := time.Now().Add(w.h.cfg.WriteTimeout)
	_ = s.SetWriteDeadline(deadline)
	for _, f := range batch {
		if _, err := bw.Write(f.buf); err != nil {
			return err
		}
	}
	return bw.Flush()
}

// open opens a stream to the peer. For a replica it dials if needed, after
// clearing the swarm's own dial back-off for it (at least 5s after a
// failure, growing to minutes), since the writer runs its own, shorter one.
// (Forcing a direct dial instead crashes libp2p v0.51 when the host closes
// during the dial.) For a client it only uses an existing connection, since
// clients do not listen.
func (w *writer) open() (network.Stream, error) {
	ctx, cancel := context.WithTimeout(w.h.ctx, w.h.cfg.DialTimeout)
	defer cancel()
	if w.replica {
		if sw, ok := w.h.h.Network().(*swarm.Swarm); ok {
			sw.Backoff().Clear(w.pid)
		}
	} else {
		ctx = network.WithNoDial(ctx, "bftbed reply to client")
	}
	return w.h.h.NewStream(ctx, w.pid, w.h.proto)
}

// sleep waits d, or less if the writer is woken; it reports false if the
// host closed.
func (w *writer) sleep(d time.Duration) bool {
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-w.h.done:
		return false
	case <-t.C:
	case <-w.wakeC:
	}
	return true
}

// jitter returns a duration uniformly drawn from [d/2, d], so that peers
// that lost the same replica do not redial it in lockstep.
func jitter(d time.Duration) time.Duration {
	if d <= 1 {
		return d
	}
	return d/2 + rand.N(d/2+1)
}

// retire removes an idle client writer. It reports false if frames arrived
// meanwhile. Holding clientMu excludes enqueues (which hold it shared), so
// no frame can be queued to a retired writer.
func (w *writer) retire() bool {
	w.h.clientMu.Lock()
	defer w.h.clientMu.Unlock()
	if len(w.q) > 0 {
		return false
	}
	if w.h.clientOut[w.pid] == w {
		delete(w.h.clientOut, w.pid)
	}
	return true
}

// giveUp removes a client writer whose client is unreachable and counts its
// frames (held, the ones it had taken, and the queued ones) as unroutable.
func (w *writer) giveUp(held int) {
	w.h.clientMu.Lock()
	if w.h.clientOut[w.pid] == w {
		delete(w.h.clientOut, w.pid)
	}
	w.h.clientMu.Unlock()
	// No enqueue can reach w now: drain what is there.
	n := held
	for done := false; !done; {
		select {
		case f := <-w.q:
			w.qbytes.Add(-int64(len(f.buf)))
			n++
		default:
			done = true
		}
	}
	w.c.queued.Add(-int64(n))
	w.h.unroutable.Add(uint64(n))
}

// newOutFrame frames data, or reports false (and counts the drop in c) if
// data cannot be a frame: empty, which the receiver would take for garbage,
// or over the frame limit, which it would refuse.
func (h *Host) newOutFrame(data []byte, c *counters) (outFrame, bool) {
	if len(data) == 0 || len(data) > h.cfg.MaxFrameSize {
		c.dropped.Add(1)
		h.log.Warn("p2p: frame not sent: size out of range", "size", len(data), "max", h.cfg.MaxFrameSize)
		return outFrame{}, false
	}
	return outFrame{buf: newFrame(data), size: len(data)}, true
}

// send queues data for replica to.
func (h *Host) send(to pbft.ReplicaID, data []byte) {
	if h.isClosed() {
		h.unroutable.Add(1)
		return
	}
	if h.isReplica && to == h.self {
		h.sendSelf(data)
		return
	}
	rp := h.byID[to]
	if rp == nil || rp.w == nil {
		h.unroutable.Add(1)
		return
	}
	if f, ok := h.newOutFrame(data, &rp.c); ok {
		rp.w.enqueue(f)
	}
}

// sendSelf delivers a replica's message to itself, as MemNetwork does,
// without the network; it drops the frame if the Receive channel is full
// rather than wait on its own reader.
func (h *Host) sendSelf(data []byte) {
	if !h.enter() { // Close must not close recv under us
		h.unroutable.Add(1)
		return
	}
	defer h.wg.Done()
	select {
	case h.recv <- append([]byte(nil), data...):
	default:
		h.byID[h.self].c.dropped.Add(1)
	}
}

// broadcast sends data to every other replica, by GossipSub or by direct
// streams.
func (h *Host) broadcast(data []byte) {
	if h.isClosed() {
		h.unroutable.Add(1)
		return
	}
	if h.gossip != nil {
		h.gossip.publish(data)
		return
	}
	h.broadcastDirect(data)
}

// broadcastDirect queues one shared frame to every other replica's writer.
func (h *Host) broadcastDirect(data []byte) {
	var f outFrame
	for _, rp := range h.replicas {
		if rp.w == nil {
			continue
		}
		if f.buf == nil {
			var ok bool
			if f, ok = h.newOutFrame(data, &rp.c); !ok {
				return
			}
		}
		rp.w.enqueue(f)
	}
}

// connected reports whether pid has a connection to this host.
func (h *Host) connected(pid peer.ID) bool {
	return h.h.Network().Connectedness(pid) == network.Connected
}

// sendClient queues a reply for client id on the writer of the peer its
// requests come from (routes.go), or of its own identity, starting
// the writer if there is none. Replies to one peer share its writer, so a
// gateway's replies are coalesced into few writes.
func (h *Host) sendClient(id pbft.ClientID, data []byte) {
	if h.isClosed() {
		h.unroutable.Add(1)
		return
	}
	f, ok := h.newOutFrame(data, &h.clientsC)
	if !ok {
		return
	}
	pid, routed := h.routes.lookup(id)
	if !routed {
		var err error
		if pid, err = PeerID(id); err != nil {
			h.unroutable.Add(1)
			return
		}
	}
	h.clientMu.RLock()
	w := h.clientOut[pid]
	if w != nil {
		w.enqueue(f)
	}
	h.clientMu.RUnlock()
	if w != nil {
		return
	}
	if !h.connected(pid) {
		h.unroutable.Add(1) // not connected: the client will retransmit
		return
	}
	h.clientMu.Lock()
	defer h.clientMu.Unlock()
	if w = h.clientOut[pid]; w == nil {
		w = newWriter(h, pid, h.peerName(pid), &h.clientsC, h.cfg.ClientQueueLen, false)
		if !h.spawn(w.run) {
			h.unroutable.Add(1)
			return
		}
		h.clientOut[pid] = w
	}
	w.enqueue(f)
}

// handleStream reads an inbound stream: every frame must pass the framing
// rules and the strict decoder before it reaches Receive; the first one
// that does not costs the sender its connection and score.
func (h *Host) handleStream(s network.Stream) {
	if !h.enter() {
		_ = s.Reset()
		return
	}
	defer h.wg.Done()
	defer s.Reset() //nolint:errcheck // the stream is done either way

	pid := s.Conn().RemotePeer()
	if h.byPeer[pid] == nil {
		if h.client {
			return // a client only hears from its replicas
		}
		if _, err := PublicKey(pid); err != nil {
			return // not an Ed25519 identity: not a bftbed node
		}
	}
	c := h.countersOf(pid)
	fromReplica := h.byPeer[pid] != nil
	br := bufio.NewReaderSize(s, readBufSize)
	for {
		f, err := readFrame(br, h.cfg.MaxFrameSize)
		var m pbft.Message
		if err == nil {
			var derr error
			if m, derr = pbft.Unmarshal(f); derr != nil {
				err = garbagef("undecodable: %v", derr)
			}
		}
		if err != nil {
			if isGarbage(err) {
				h.penalize(pid, err)
			}
			return
		}
		c.received(len(f))
		if h.client {
			h.gateway.dispatch(m, f, c)
			continue
		}
		if req, ok := m.(*pbft.Request); ok && !fromReplica {
			h.routes.learn(req.Client, pid, h.connected)
		}
		if !h.deliver(f) {
			return
		}
	}
}
