package p2p

import (
	"context"
	"fmt"
	"log/slog"
	"sync/atomic"

	pubsub "github.com/libp2p/go-libp2p-pubsub"
	pb "github.com/libp2p/go-libp2p-pubsub/pb"
	"github.com/libp2p/go-libp2p/core/peer"

	"github.com/bftbed/bftbed/crypto"
	"github.com/bftbed/bftbed/pbft"
)

// The GossipSub broadcast path (BroadcastGossip).
//
// GossipSub's own message signing is off (StrictNoSign, no author): it would
// sign and verify every message a second time (LIMITS.md: 397us of CPU per
// message signed, against 32us unsigned), while every PBFT message already
// carries its sender's signature. Without a GossipSub signature, the topic
// validator is what stops a forged message from being forwarded: it runs
// the strict decoder and checks every signature in the message before
// GossipSub forwards or delivers it. A message that fails is rejected, and
// the peer that forwarded it (which, being honest, would have validated it
// first) is penalized like a garbage sender.
//
// Message IDs are the SHA-256 of the bytes, so the same message arriving by
// two paths is delivered once; the same bytes broadcast again within
// GossipSeenTTL are suppressed too.
//
// Only replicas join the topic: clients broadcast over direct streams, and
// the peer filter ignores any non-replica that tries to subscribe.

// gossipRPCOverhead is the room allowed for the RPC envelope around a
// message of MaxFrameSize.
const gossipRPCOverhead = 64 << 10

// gossipSubBuffer is the subscription's buffer of delivered messages.
// GossipSub drops messages for a subscriber that falls this far behind, so
// it is sized like a few rounds of a busy cluster.
const gossipSubBuffer = 4096

// gossip is a replica host's membership in the cluster's topic.
type gossip struct {
	h        *Host
	ps       *pubsub.PubSub
	topic    *pubsub.Topic
	sub      *pubsub.Subscription
	q        chan []byte // frames to publish
	rejected atomic.Uint64
	domain   crypto.Domain
	keys     pbft.ReplicaKeys

	// skipAuth, for benchmarks only, checks encoding but not signatures,
	// to separate the transport's cost from signature verification.
	skipAuth atomic.Bool
}

// messageID is the GossipSub message ID: the digest of the PBFT message.
func messageID(m *pb.Message) string {
	d := crypto.Hash(m.Data)
	return string(d[:])
}

// newGossip joins the cluster topic; start starts its goroutines.
func newGossip(h *Host) (*gossip, error) {
	g := &gossip{
		h:      h,
		q:      make(chan []byte, h.cfg.QueueLen),
		domain: h.cfg.Domain,
		keys: func(id pbft.ReplicaID) (crypto.PublicKey, bool) {
			k, ok := h.keys[id]
			return k, ok
		},
	}
	ps, err := pubsub.NewGossipSub(h.ctx, h.h,
		pubsub.WithMessageSignaturePolicy(pubsub.StrictNoSign),
		pubsub.WithNoAuthor(),
		pubsub.WithMessageIdFn(messageID),
		// A replica's own broadcast goes straight to every replica on
		// the topic, not only to its mesh: one hop, as with direct
		// streams, and no loss while the mesh is still forming (the
		// default is off since pubsub v0.19).
		pubsub.WithFloodPublish(true),
		pubsub.WithPeerFilter(func(pid peer.ID, _ string) bool { return h.byPeer[pid] != nil }),
		pubsub.WithMaxMessageSize(h.cfg.MaxFrameSize+gossipRPCOverhead),
		pubsub.WithSeenMessagesTTL(h.cfg.GossipSeenTTL),
		// GossipSub's defaults (32 RPCs queued per peer, 32 messages
		// waiting for validation) drop messages silently under a burst
		// of broadcasts; PBFT's normal case is such bursts.
		pubsub.WithPeerOutboundQueueSize(h.cfg.QueueLen),
		pubsub.WithValidateQueueSize(h.cfg.QueueLen),
		// GossipSub logs routine events at info (every shutdown) and
		// warn (its connection-manager tags saturating under load);
		// only its errors are worth an operator's attention here.
		pubsub.WithLogger(slog.New(minLevel{h.log.Handler(), slog.LevelError})),
	)
	if err != nil {
		return nil, fmt.Errorf("p2p: gossipsub: %w", err)
	}
	g.ps = ps
	name := TopicName(h.cfg.ClusterID)
	if err := ps.RegisterTopicValidator(name, g.validate); err != nil {
		return nil, fmt.Errorf("p2p: gossip validator: %w", err)
	}
	if g.topic, err = ps.Join(name); err != nil {
		return nil, fmt.Errorf("p2p: join %s: %w", name, err)
	}
	if g.sub, err = g.topic.Subscribe(pubsub.WithBufferSize(gossipSubBuffer)); err != nil {
		return nil, fmt.Errorf("p2p: subscribe %s: %w", name, err)
	}
	return g, nil
}

func (g *gossip) start() {
	g.h.spawn(g.readLoop)
	g.h.spawn(g.publishLoop)
}

// validate is the topic validator. It runs for every message from the
// network before GossipSub delivers or forwards it, concurrently.
func (g *gossip) validate(_ context.Context, from peer.ID, msg *pubsub.Message) pubsub.ValidationResult {
	if from == g.h.h.ID() {
		// Our own Broadcast: the Node signed it; checking it would
		// only spend CPU.
		return pubsub.ValidationAccept
	}
	m, err := pbft.Unmarshal(msg.Data)
	if err == nil && !g.skipAuth.Load() {
		err = pbft.Authenticate(g.domain, g.keys, m)
	}
	if err != nil {
		g.rejected.Add(1)
		g.h.penalize(from, fmt.Errorf("gossip message rejected: %w", err))
		return pubsub.ValidationReject
	}
	return pubsub.ValidationAccept
}

// publish queues data for the publish goroutine, so that Broadcast never
// waits on GossipSub's event loop.
func (g *gossip) publish(data []byte) {
	c := &g.h.gossipC
	if len(data) == 0 || len(data) > g.h.cfg.MaxFrameSize {
		c.dropped.Add(1)
		g.h.log.Warn("p2p: broadcast not sent: size out of range", "size", len(data), "max", g.h.cfg.MaxFrameSize)
		return
	}
	c.queued.Add(1)
	select {
	case g.q <- append([]byte(nil), data...):
	default:
		c.queued.Add(-1)
		c.dropped.Add(1)
		c.dropLog.event(g.h.log, "p2p: gossip publish queue full; frames dropped")
	}
}

func (g *gossip) publishLoop() {
	c := &g.h.gossipC
	for {
		select {
		case <-g.h.done:
			return
		case f := <-g.q:
			if err := g.topic.Publish(g.h.ctx, f); err != nil {
				c.lost.Add(1)
				g.h.log.Debug("p2p: gossip publish failed", "err", err)
			} else {
				c.framesOut.Add(1)
				c.bytesOut.Add(uint64(len(f)))
			}
			c.queued.Add(-1)
		}
	}
}

// readLoop moves validated messages from the subscription to Receive.
func (g *gossip) readLoop() {
	self := g.h.h.ID()
	for {
		msg, err := g.sub.Next(g.h.ctx)
		if err != nil {
			return // cancelled: the host is closing
		}
		if msg.ReceivedFrom == self {
			continue // our own Broadcast
		}
		// GossipSub keeps msg (to answer IWANTs), and the reader owns
		// what it receives: it gets a copy.
		f := append([]byte(nil), msg.Data...)
		g.h.gossipC.received(len(f))
		g.h.countersOf(msg.ReceivedFrom).received(len(f))
		if !g.h.deliver(f) {
			return
		}
	}
}

// minLevel is a slog.Handler that drops records below level.
type minLevel struct {
	slog.Handler
	level slog.Level
}

func (m minLevel) Enabled(ctx context.Context, l slog.Level) bool {
	return l >= m.level && m.Handler.Enabled(ctx, l)
}

func (m minLevel) WithAttrs(as []slog.Attr) slog.Handler {
	return minLevel{m.Handler.WithAttrs(as), m.level}
}

func (m minLevel) WithGroup(name string) slog.Handler {
	return minLevel{m.Handler.WithGroup(name), m.level}
}
