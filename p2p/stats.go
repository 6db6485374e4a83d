package p2p

import (
	"log/slog"
	"sync"
	"sync/atomic"
	"time"

	"github.com/bftbed/bftbed/pbft"
)

// Stats is a snapshot of a host's counters, for the node daemon to export
// (to Prometheus, as counters and gauges) and for tests. Counters only grow
// while the host is open.
//
// Replicas are counted one by one; clients are counted together, in
// Clients, because a per-client series would grow with every client that
// ever connected.
type Stats struct {
	// Replicas holds one entry per replica in HostConfig.Peers other than
	// this host, in the order of Peers.
	Replicas []PeerStats
	// Clients aggregates the traffic with all clients: inbound requests on
	// a replica host, and nothing on a client host (whose replicas are in
	// Replicas).
	Clients PeerStats
	// Gossip counts the broadcast path through GossipSub: frames and bytes
	// published (out) and delivered (in, also counted under the forwarding
	// replica), its publish queue, and its drops.
	Gossip PeerStats

	// ConnectedPeers is the number of peers (replicas and clients) with at
	// least one open connection.
	ConnectedPeers int
	// ClientStreams is the number of clients with a reply stream open
	// (each has a writer goroutine and queue until it idles out).
	ClientStreams int
	// GossipPeers is the number of replicas subscribed to the topic, as
	// GossipSub sees them (0 in direct mode).
	GossipPeers int
	// GarbageFrames counts frames that failed the framing rules or the
	// strict decoder, on every stream; each one disconnected its sender.
	GarbageFrames uint64
	// GossipRejected counts GossipSub messages the validator rejected
	// (undecodable or badly signed).
	GossipRejected uint64
	// Unroutable counts frames with no destination: an unknown replica ID,
	// a client that is not connected, or a send after Close.
	Unroutable uint64
	// Blocked is the number of peers currently refused for sending garbage.
	Blocked int
}

// PeerStats counts the traffic with one peer (or an aggregate).
type PeerStats struct {
	// Replica is the peer's replica ID (Replicas entries only).
	Replica pbft.ReplicaID
	// Connected reports an open connection to the peer (Replicas only).
	Connected bool
	// FramesIn and BytesIn count frames received from the peer that passed
	// the decoder, and their payload bytes.
	FramesIn, BytesIn uint64
	// FramesOut and BytesOut count frames written and flushed to the
	// peer's stream (or published, for Gossip), and their payload bytes.
	FramesOut, BytesOut uint64
	// QueueDepth is the number of frames waiting to be written now.
	QueueDepth int
	// Dropped counts frames dropped because the queue was full.
	Dropped uint64
	// Lost counts frames given up after they left the queue: GossipSub
	// publishes that failed. (A direct stream's failed writes are
	// retried on the next stream, not lost.)
	Lost uint64
	// Garbage counts garbage frames received from the peer.
	Garbage uint64
	// Reconnects counts outbound streams opened after the first one: each
	// is a recovery from a lost connection or stream.
	Reconnects uint64
}

// counters is the live, atomic form of PeerStats. One exists per replica
// peer, one for all clients, and one for gossip.
type counters struct {
	framesIn, bytesIn   atomic.Uint64
	framesOut, bytesOut atomic.Uint64
	dropped, lost       atomic.Uint64
	garbage, reconnects atomic.Uint64
	queued              atomic.Int64 // frames in queues (and held by writers)

	dropLog rateLog
}

func (c *counters) snapshot() PeerStats {
	return PeerStats{
		FramesIn:   c.framesIn.Load(),
		BytesIn:    c.bytesIn.Load(),
		FramesOut:  c.framesOut.Load(),
		BytesOut:   c.bytesOut.Load(),
		QueueDepth: int(max(c.queued.Load(), 0)),
		Dropped:    c.dropped.Load(),
		Lost:       c.lost.Load(),
		Garbage:    c.garbage.Load(),
		Reconnects: c.reconnects.Load(),
	}
}

// received counts one good inbound frame of n bytes.
func (c *counters) received(n int) {
	c.framesIn.Add(1)
	c.bytesIn.Add(uint64(n))
}

// rateLogInterval is the least time between two overflow warnings about one
// peer. Overflow happens in bursts of thousands of frames when a peer stalls;
// one line a second with the count says as much as thousands of lines.
const rateLogInterval = time.Second

// rateLog rate-limits a repeated warning: it logs at most once per
// rateLogInterval and reports how many events each line stands for.
type rateLog struct {
	mu      sync.Mutex
	last    time.Time
	pending uint64
}

// event records one occurrence and logs, at warn, if the last line is old
// enough.
func (r *rateLog) event(log *slog.Logger, msg string, args ...any) {
	r.mu.Lock()
	r.pending++
	now := time.Now()
	if now.Sub(r.last) < rateLogInterval {
		r.mu.Unlock()
		return
	}
	n := r.pending
	r.pending = 0
	r.last = now
	r.mu.Unlock()
	log.Warn(msg, append(args, "count", n, "per", rateLogInterval)...)
}
