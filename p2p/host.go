package p2p

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"sync"
	"sync/atomic"
	"time"

	"github.com/libp2p/go-libp2p"
	"github.com/libp2p/go-libp2p/core/host"
	"github.com/libp2p/go-libp2p/core/network"
	"github.com/libp2p/go-libp2p/core/peer"
	"github.com/libp2p/go-libp2p/core/peerstore"
	"github.com/libp2p/go-libp2p/core/protocol"
	rcmgr "github.com/libp2p/go-libp2p/p2p/host/resource-manager"
	"github.com/libp2p/go-libp2p/p2p/muxer/yamux"
	"github.com/libp2p/go-libp2p/p2p/net/connmgr"
	"github.com/libp2p/go-libp2p/p2p/security/noise"
	libp2ptls "github.com/libp2p/go-libp2p/p2p/security/tls"
	"github.com/libp2p/go-libp2p/p2p/transport/tcp"
	ma "github.com/multiformats/go-multiaddr"

	"github.com/bftbed/bftbed/crypto"
	"github.com/bftbed/bftbed/pbft"
)

// The libp2p transport, in outline (doc.go has the package overview):
//
//   - host.go: Host, its configuration, life cycle and pbft.Transport;
//   - identity.go: libp2p identities from bftbed's Ed25519 keys;
//   - frames.go: the length-prefixed frames of direct streams;
//   - direct.go: one writer goroutine and bounded queue per peer, and the
//     reader of inbound streams (framing + strict decoder before Receive);
//   - gossip.go: the GossipSub broadcast path and its validator;
//   - score.go: the block list for peers that send garbage;
//   - gateway.go: a client host carrying many clients (ClientGateway);
//   - client.go: one client's own host as a pbft.ClientTransport;
//   - routes.go: which connection a client's replies go back over;
//   - stats.go: the counters behind Host.Stats.
//
// Threads of control: per peer, one writer goroutine (outbound) and one
// reader goroutine per inbound stream (libp2p's stream handler); in gossip
// mode one publisher and one subscription reader. Close waits for all of
// them before it closes the Receive channel, so no frame is ever sent on a
// closed channel.

// BroadcastMode selects how a replica host carries Broadcast.
type BroadcastMode int

const (
	// BroadcastDirect writes the frame on the direct stream of each of the
	// other replicas (N-1 writes). It is the default: on a 4-replica
	// loopback cluster (BenchmarkBroadcast, 2 cores) it carried about 40
	// times the broadcasts per second of GossipSub at 32 in flight (148k
	// against 3.6k of 256 bytes), with a tenth of the idle latency (p50
	// 55us against 600us) and about a fortieth of the CPU per broadcast
	// (7us against 275us). Every replica is one hop from every other
	// anyway, and PBFT's messages are signed end to end, so GossipSub's
	// forwarding only adds copies (in a full mesh each message crosses
	// the network 3 times as often) and its validator adds a signature
	// check that the Node repeats.
	BroadcastDirect BroadcastMode = iota
	// BroadcastGossip publishes the frame on the cluster's GossipSub topic,
	// unsigned by GossipSub (the PBFT signature authenticates it) and
	// checked by a validator before it is forwarded. It pays off only when
	// replicas cannot all reach each other, or N is large enough that N-1
	// copies from the sender cost more than a mesh of degree ~6.
	BroadcastGossip
)

// String returns "direct" or "gossip".
func (m BroadcastMode) String() string {
	switch m {
	case BroadcastDirect:
		return "direct"
	case BroadcastGossip:
		return "gossip"
	}
	return fmt.Sprintf("BroadcastMode(%d)", int(m))
}

// ParseBroadcastMode parses "direct" or "gossip".
func ParseBroadcastMode(s string) (BroadcastMode, error) {
	switch s {
	case "direct":
		return BroadcastDirect, nil
	case "gossip":
		return BroadcastGossip, nil
	}
	return 0, fmt.Errorf("p2p: unknown broadcast mode %q (want direct or gossip)", s)
}

// PeerInfo describes one replica of the cluster.
type PeerInfo struct {
	// ID is the replica's index.
	ID pbft.ReplicaID
	// Key is the replica's Ed25519 public key; its libp2p peer ID is
	// PeerID(Key).
	Key crypto.PublicKey
	// Addrs are the replica's listen multiaddrs, e.g.
	// "/ip4/127.0.0.1/tcp/4001". A trailing /p2p/<id> must match Key. They
	// may be empty and set later with Host.SetPeerAddrs (a cluster whose
	// hosts listen on OS-assigned ports learns them after start).
	Addrs []string
}

// Defaults of HostConfig's tunables.
const (
	DefaultListenAddr    = "/ip4/127.0.0.1/tcp/0"
	DefaultQueueLen      = 4096
	DefaultQueueBytes    = 64 << 20
	DefaultClientQueue   = 256
	DefaultReceiveQueue  = 8192
	DefaultClientReplies = 256
	DefaultWriteTimeout  = 10 * time.Second
	DefaultDialTimeout   = 5 * time.Second
	DefaultMinBackoff    = 50 * time.Millisecond
	DefaultMaxBackoff    = 5 * time.Second
	DefaultBlockDuration = time.Minute
	DefaultClientIdle    = time.Minute
	DefaultGossipSeenTTL = 30 * time.Second
)

// HostConfig configures a Host. Zero fields take the defaults above.
type HostConfig struct {
	// ClusterID names the testnet. It is part of the stream protocol ID
	// and of the GossipSub topic, so hosts of two testnets never exchange
	// a frame even if they reach each other.
	ClusterID string
	// Domain is the signing domain the gossip validator checks signatures
	// in. The zero Domain means crypto.NewDomain(ClusterID).
	Domain crypto.Domain
	// Key is this node's key: a replica's (its public key is one of Peers)
	// or a client's. It is also the libp2p identity.
	Key crypto.PrivateKey
	// Peers lists every replica of the cluster, this one included.
	Peers []PeerInfo
	// ListenAddrs are the multiaddrs to listen on. A replica host defaults
	// to DefaultListenAddr (loopback, OS-assigned port); a client host
	// listens nowhere by default: its replicas reply over the connections
	// it opened.
	ListenAddrs []string
	// Broadcast selects the broadcast path of a replica host (default
	// BroadcastDirect). All replicas of a cluster must use the same one.
	Broadcast BroadcastMode

	// MaxFrameSize is the largest frame payload sent or accepted
	// (default DefaultMaxFrameSize). Sends of bigger frames are dropped
	// and counted; a peer sending one is disconnected.
	MaxFrameSize int
	// QueueLen and QueueBytes bound the outbound queue of each replica
	// peer, in frames and in bytes (defaults 4096 frames, 64 MiB).
	QueueLen, QueueBytes int
	// ClientQueueLen bounds the outbound queue of each client a replica
	// replies to (default 256 frames).
	ClientQueueLen int
	// ReceiveQueue is the capacity of a replica's Receive channel (default
	// 8192). When it is full, readers wait, which stops reading from the
	// network and pushes back on the senders (their queues fill and drop).
	// For a client host it bounds each client's queue of replies (default
	// DefaultClientReplies).
	ReceiveQueue int
	// WriteTimeout bounds one write to a stream (default 10s): a peer that
	// stops reading has its stream reset, so the writer can reconnect.
	WriteTimeout time.Duration
	// DialTimeout bounds one attempt to connect and open a stream
	// (default 5s).
	DialTimeout time.Duration
	// MinBackoff and MaxBackoff bound the exponential back-off between
	// attempts to reach a replica (defaults 50ms, 5s).
	MinBackoff, MaxBackoff time.Duration
	// BlockDuration is how long a peer that sent garbage is refused
	// (default 1 minute); it doubles with each offence, up to 64 times.
	BlockDuration time.Duration
	// ClientIdle is how long a replica keeps an idle stream to a client
	// (default 1 minute).
	ClientIdle time.Duration
	// GossipSeenTTL is how long GossipSub remembers a message ID, and so
	// suppresses a second broadcast of the same bytes (default 30s). Keep
	// it under PBFT's retransmission periods, since a retransmitted
	// message has the same ID.
	GossipSeenTTL time.Duration
	// Logger receives the host's warnings (default slog.Default()).
	Logger *slog.Logger
}

// withDefaults returns c with its zero fields set. client selects the
// defaults of a client host.
func (c HostConfig) withDefaults(client bool) HostConfig {
	if len(c.ListenAddrs) == 0 && !client {
		c.ListenAddrs = []string{DefaultListenAddr}
	}
	if c.Domain == (crypto.Domain{}) {
		c.Domain = crypto.NewDomain(c.ClusterID)
	}
	setDefault(&c.MaxFrameSize, DefaultMaxFrameSize)
	setDefault(&c.QueueLen, DefaultQueueLen)
	setDefault(&c.QueueBytes, DefaultQueueBytes)
	setDefault(&c.ClientQueueLen, DefaultClientQueue)
	setDefault(&c.ReceiveQueue, DefaultReceiveQueue)
	setDefault(&c.WriteTimeout, DefaultWriteTimeout)
	setDefault(&c.DialTimeout, DefaultDialTimeout)
	setDefault(&c.MinBackoff, DefaultMinBackoff)
	setDefault(&c.MaxBackoff, DefaultMaxBackoff)
	setDefault(&c.BlockDuration, DefaultBlockDuration)
	setDefault(&c.ClientIdle, DefaultClientIdle)
	setDefault(&c.GossipSeenTTL, DefaultGossipSeenTTL)
	c.MaxBackoff = max(c.MaxBackoff, c.MinBackoff)
	if c.Logger == nil {
		c.Logger = slog.Default()
	}
	return c
}

func setDefault[T int | time.Duration](p *T, d T) {
	if *p <= 0 {
		*p = d
	}
}

// ProtocolID returns the stream protocol of cluster clusterID's direct
// frames.
func ProtocolID(clusterID string) protocol.ID {
	return protocol.ID("/bftbed/" + clusterID + "/pbft/1.0.0")
}

// TopicName returns the GossipSub topic of cluster clusterID's broadcasts.
func TopicName(clusterID string) string {
	return "/bftbed/" + clusterID + "/pbft/broadcast/1.0.0"
}

// replicaPeer is one other replica as this host sees it.
type replicaPeer struct {
	info  PeerInfo
	pid   peer.ID
	addrs []ma.Multiaddr // parsed info.Addrs
	c     counters
	w     *writer // nil for this host's own entry
}

// Host is one node's libp2p host: a replica's (see Replica) or a client's
// (see NewClientTransport). It is safe for concurrent use.
type Host struct {
	cfg    HostConfig
	log    *slog.Logger
	h      host.Host
	proto  protocol.ID
	client bool // a client host: replies in, requests out

	self      pbft.ReplicaID
	isReplica bool

	replicas []*replicaPeer                  // in cfg.Peers order
	byID     map[pbft.ReplicaID]*replicaPeer // immutable after NewHost
	byPeer   map[peer.ID]*replicaPeer        // immutable after NewHost
	keys     map[pbft.ReplicaID]crypto.PublicKey

	clientsC  counters // aggregate of all clients
	clientMu  sync.RWMutex
	clientOut map[peer.ID]*writer // replies in flight, by client host or gateway
	routes    routeTable          // where each client's replies go

	gateway *ClientGateway // a client host's clients, by ID

	gossipC counters
	gossip  *gossip // nil unless Broadcast == BroadcastGossip

	scores     *scoreboard
	garbage    atomic.Uint64
	unroutable atomic.Uint64
	garbageLog rateLog

	recv   chan []byte
	ctx    context.Context
	cancel context.CancelFunc
	done   chan struct{} // closed by Close

	mu     sync.Mutex // guards closed and wg.Add against Close's wg.Wait
	closed bool
	wg     sync.WaitGroup
}

// NewHost starts a replica's host: cfg.Key must be the key of one of
// cfg.Peers. It listens, starts connecting to the other replicas (with
// back-off, forever, until Close) and, in gossip mode, joins the
// cluster's topic. Get its pbft.Transport with Replica.
func NewHost(cfg HostConfig) (*Host, error) {
	return newHost(cfg, nil)
}

// newHost starts a replica's host, or a client host if gw is not nil: a
// gateway's, whose inbound replies go to gw's clients.
func newHost(cfg HostConfig, gw *ClientGateway) (*Host, error) {
	client := gw != nil
	cfg = cfg.withDefaults(client)
	if cfg.Key.IsZero() {
		return nil, errors.New("p2p: HostConfig.Key is zero")
	}
	if cfg.Broadcast != BroadcastDirect && cfg.Broadcast != BroadcastGossip {
		return nil, fmt.Errorf("p2p: %v", cfg.Broadcast)
	}
	h := &Host{
		cfg:       cfg,
		log:       cfg.Logger.With("p2p", cfg.Key.Public().String()),
		proto:     ProtocolID(cfg.ClusterID),
		client:    client,
		gateway:   gw,
		byID:      make(map[pbft.ReplicaID]*replicaPeer, len(cfg.Peers)),
		byPeer:    make(map[peer.ID]*replicaPeer, len(cfg.Peers)),
		keys:      make(map[pbft.ReplicaID]crypto.PublicKey, len(cfg.Peers)),
		clientOut: make(map[peer.ID]*writer),
		scores:    newScoreboard(cfg.BlockDuration),
		done:      make(chan struct{}),
	}
	if !client { // a client host's replies go to its gateway's clients
		h.recv = make(chan []byte, cfg.ReceiveQueue)
	}
	self := cfg.Key.Public()
	for _, p := range cfg.Peers {
		pid, err := PeerID(p.Key)
		if err != nil {
			return nil, fmt.Errorf("p2p: replica %d: %w", p.ID, err)
		}
		if _, dup := h.byID[p.ID]; dup {
			return nil, fmt.Errorf("p2p: replica %d listed twice", p.ID)
		}
		if _, dup := h.byPeer[pid]; dup {
			return nil, fmt.Errorf("p2p: replica %d has the key of another replica", p.ID)
		}
		addrs, err := parseAddrs(p.Addrs, pid)
		if err != nil {
			return nil, fmt.Errorf("p2p: replica %d: %w", p.ID, err)
		}
		rp := &replicaPeer{info: p, pid: pid, addrs: addrs}
		h.replicas = append(h.replicas, rp)
		h.byID[p.ID] = rp
		h.byPeer[pid] = rp
		h.keys[p.ID] = p.Key
		if p.Key == self {
			h.self, h.isReplica = p.ID, true
		}
	}
	switch {
	case client && h.isReplica:
		return nil, fmt.Errorf("p2p: client key is replica %d's", h.self)
	case !client && !h.isReplica:
		return nil, fmt.Errorf("p2p: key %s is not one of the %d replicas' keys", self, len(cfg.Peers))
	}

	if err := h.startLibp2p(); err != nil {
		return nil, err
	}
	h.ctx, h.cancel = context.WithCancel(context.Background())

	for _, rp := range h.replicas {
		if h.isReplica && rp.info.ID == h.self {
			continue
		}
		h.h.Peerstore().AddAddrs(rp.pid, rp.addrs, peerstore.PermanentAddrTTL)
		// Replicas are never trimmed by the connection manager, however
		// many clients come and go.
		h.h.ConnManager().Protect(rp.pid, "bftbed-replica")
		rp.w = newWriter(h, rp.pid, fmt.Sprintf("r%d", rp.info.ID), &rp.c, cfg.QueueLen, true)
	}
	if cfg.Broadcast == BroadcastGossip && !client {
		g, err := newGossip(h)
		if err != nil {
			h.cancel()
			h.h.Close()
			return nil, err
		}
		h.gossip = g
	}
	// Take traffic and notifications, and start the goroutines, only
	// now that every field they read is set (and NewHost can no longer
	// fail halfway).
	h.h.SetStreamHandler(h.proto, h.handleStream)
	h.h.Network().Notify(&network.NotifyBundle{ConnectedF: h.onConnect, DisconnectedF: h.onDisconnect})
	for _, rp := range h.replicas {
		if rp.w != nil {
			h.spawn(rp.w.run)
		}
	}
	if h.gossip != nil {
		h.gossip.start()
	}
	return h, nil
}

// The connection manager's water marks.
const (
	connLowWater  = 768
	connHighWater = 1024
)

// resourceManager returns libp2p's resource manager with its default
// limits, scaled to the machine, except for connections: the defaults
// admit about 256 inbound connections (80 of them still handshaking), so
// the 257th client of a replica was refused for good. A replica admits up
// to twice the connection manager's high-water mark instead, which then
// trims them back.
func resourceManager() (network.ResourceManager, error) {
	conns := rcmgr.LimitVal(2 * connHighWater)
	limits := rcmgr.PartialLimitConfig{
		System:    rcmgr.ResourceLimits{ConnsInbound: conns, Conns: conns + 64},
		Transient: rcmgr.ResourceLimits{ConnsInbound: conns, Conns: conns + 64},
	}.Build(rcmgr.DefaultLimits.AutoScale())
	rm, err := rcmgr.NewResourceManager(rcmgr.NewFixedLimiter(limits))
	if err != nil {
		return nil, fmt.Errorf("p2p: resource manager: %w", err)
	}
	return rm, nil
}

// startLibp2p builds the libp2p host: TCP only, Noise (or TLS) and yamux,
// no relay, no NAT port mapping, no hole punching, no DHT or mDNS (peers
// are static), with the score-based gater and a connection manager.
func (h *Host) startLibp2p() error {
	sk, err := libp2pKey(h.cfg.Key)
	if err != nil {
		return err
	}
	// Beyond the high-water mark the manager trims the oldest unprotected
	// connections (clients'), cutting off their pending replies: leave
	// room for many directly connected clients (a gateway needs one).
	cm, err := connmgr.NewConnManager(connLowWater, connHighWater, connmgr.WithGracePeriod(time.Minute))
	if err != nil {
		return fmt.Errorf("p2p: connection manager: %w", err)
	}
	rm, err := resourceManager()
	if err != nil {
		cm.Close()
		return err
	}
	opts := []libp2p.Option{
		libp2p.Identity(sk),
		libp2p.NoTransports,
		libp2p.Transport(tcp.NewTCPTransport),
		libp2p.Security(noise.ID, noise.New),
		libp2p.Security(libp2ptls.ID, libp2ptls.New),
		libp2p.Muxer(yamux.ID, yamux.DefaultTransport),
		libp2p.DisableRelay(),
		libp2p.Ping(false),
		libp2p.DisableMetrics(),
		libp2p.ConnectionGater(h.scores),
		libp2p.ConnectionManager(cm),
		libp2p.ResourceManager(rm),
	}
	if len(h.cfg.ListenAddrs) > 0 {
		opts = append(opts, libp2p.ListenAddrStrings(h.cfg.ListenAddrs...))
	} else {
		opts = append(opts, libp2p.NoListenAddrs)
	}
	lh, err := libp2p.New(opts...)
	if err != nil {
		cm.Close()
		rm.Close()
		return fmt.Errorf("p2p: libp2p host: %w", err)
	}
	h.h = lh
	return nil
}

// parseAddrs parses a peer's multiaddrs, stripping a /p2p/<id> suffix after
// checking it names pid.
func parseAddrs(ss []string, pid peer.ID) ([]ma.Multiaddr, error) {
	out := make([]ma.Multiaddr, 0, len(ss))
	for _, s := range ss {
		a, err := ma.NewMultiaddr(s)
		if err != nil {
			return nil, fmt.Errorf("address %q: %w", s, err)
		}
		tpt, id := peer.SplitAddr(a)
		if id != "" && id != pid {
			return nil, fmt.Errorf("address %q names peer %s, want %s", s, id, pid)
		}
		if tpt == nil {
			return nil, fmt.Errorf("address %q has no transport part", s)
		}
		out = append(out, tpt)
	}
	return out, nil
}

// spawn runs fn in a goroutine that Close waits for, unless the host is
// closed already.
func (h *Host) spawn(fn func()) bool {
	h.mu.Lock()
	defer h.mu.Unlock()
	if h.closed {
		return false
	}
	h.wg.Add(1)
	go func() {
		defer h.wg.Done()
		fn()
	}()
	return true
}

// enter registers a goroutine libp2p started (a stream handler), so Close
// waits for it. It reports false if the host is closing.
func (h *Host) enter() bool {
	h.mu.Lock()
	defer h.mu.Unlock()
	if h.closed {
		return false
	}
	h.wg.Add(1)
	return true
}

// isClosed reports whether Close has begun.
func (h *Host) isClosed() bool {
	select {
	case <-h.done:
		return true
	default:
		return false
	}
}

// ID returns the host's libp2p peer ID.
func (h *Host) ID() peer.ID { return h.h.ID() }

// Addrs returns the host's listen multiaddrs, e.g.
// "/ip4/127.0.0.1/tcp/41234", with the OS-assigned ports filled in: what the
// other nodes put in PeerInfo.Addrs.
func (h *Host) Addrs() []string {
	var out []string
	for _, a := range h.h.Network().ListenAddresses() {
		out = append(out, a.String())
	}
	return out
}

// Self returns this host's replica ID, and false on a client host.
func (h *Host) Self() (pbft.ReplicaID, bool) { return h.self, h.isReplica }

// SetPeerAddrs replaces the addresses of replica id and makes the host try
// to reach it at once. It is how a cluster whose hosts listen on
// OS-assigned ports completes its peer list after starting them.
func (h *Host) SetPeerAddrs(id pbft.ReplicaID, addrs []string) error {
	rp := h.byID[id]
	if rp == nil || rp.w == nil {
		return fmt.Errorf("p2p: no replica peer %d", id)
	}
	as, err := parseAddrs(addrs, rp.pid)
	if err != nil {
		return fmt.Errorf("p2p: replica %d: %w", id, err)
	}
	ps := h.h.Peerstore()
	ps.ClearAddrs(rp.pid)
	ps.AddAddrs(rp.pid, as, peerstore.PermanentAddrTTL)
	rp.w.wake()
	return nil
}

// Stats returns a snapshot of the host's counters.
func (h *Host) Stats() Stats {
	st := Stats{
		Clients:        h.clientsC.snapshot(),
		Gossip:         h.gossipC.snapshot(),
		ConnectedPeers: len(h.h.Network().Peers()),
		GarbageFrames:  h.garbage.Load(),
		Unroutable:     h.unroutable.Load(),
		Blocked:        h.scores.blockedCount(),
	}
	h.clientMu.RLock()
	st.ClientStreams = len(h.clientOut)
	h.clientMu.RUnlock()
	if h.gossip != nil {
		st.GossipRejected = h.gossip.rejected.Load()
		st.GossipPeers = len(h.gossip.topic.ListPeers())
	}
	for _, rp := range h.replicas {
		if rp.w == nil {
			continue
		}
		ps := rp.c.snapshot()
		ps.Replica = rp.info.ID
		ps.Connected = h.h.Network().Connectedness(rp.pid) == network.Connected
		st.Replicas = append(st.Replicas, ps)
	}
	return st
}

// Close stops the host: it closes every connection, waits for its
// goroutines, and closes the Receive channel. Frames still queued are lost.
func (h *Host) Close() error {
	h.mu.Lock()
	if h.closed {
		h.mu.Unlock()
		return nil
	}
	h.closed = true
	close(h.done)
	h.mu.Unlock()

	// Cancelling the context stops GossipSub, its subscription and any
	// dial or publish in progress.
	h.cancel()
	err := h.h.Close()
	h.wg.Wait()
	if h.recv != nil {
		close(h.recv)
	}
	return err
}

// deliver hands a decoded-and-checked frame to the reader of Receive,
// waiting while the channel is full (back-pressure on the sender). It
// reports false if the host closed meanwhile.
func (h *Host) deliver(f []byte) bool {
	select {
	case h.recv <- f:
		return true
	case <-h.done:
		return false
	}
}

// countersOf returns the counters that traffic with pid goes under.
func (h *Host) countersOf(pid peer.ID) *counters {
	if rp := h.byPeer[pid]; rp != nil {
		return &rp.c
	}
	return &h.clientsC
}

// penalize blames pid for err (garbage on a stream, or a gossip message
// the validator rejected): it counts it, blocks pid for a while (longer on
// each offence) and closes its connections. The peer may be a faulty
// replica: it is blocked like anyone else, and reconnection resumes when
// the block expires.
func (h *Host) penalize(pid peer.ID, err error) {
	h.garbage.Add(1)
	h.countersOf(pid).garbage.Add(1)
	d := h.scores.block(pid)
	h.garbageLog.event(h.log, "p2p: peer sent garbage; disconnected and blocked",
		"peer", h.peerName(pid), "err", err, "blocked_for", d)
	// ClosePeer runs on another goroutine: the caller may be a stream
	// handler of pid's connection, or a pubsub validator.
	go h.h.Network().ClosePeer(pid) //nolint:errcheck // best effort
}

// peerName names pid in logs: "r<id>" for a replica, "c<key>" for a client.
func (h *Host) peerName(pid peer.ID) string {
	if rp := h.byPeer[pid]; rp != nil {
		return fmt.Sprintf("r%d", rp.info.ID)
	}
	if k, err := PublicKey(pid); err == nil {
		return "c" + k.String()
	}
	s := pid.String()
	return "?" + s[max(0, len(s)-8):]
}

// onConnect wakes the writer of a replica that just connected (it may have
// dialed us while our writer waited out a back-off), so the stream opens
// at once over the new connection. It must not block.
func (h *Host) onConnect(_ network.Network, c network.Conn) {
	if rp := h.byPeer[c.RemotePeer()]; rp != nil && rp.w != nil {
		rp.w.wake()
	}
}

// onDisconnect wakes the writer for the peer that lost a connection, so it
// notices a dead stream without waiting for its next frame and, for a
// replica, starts reconnecting. It runs on libp2p's notification
// goroutine and must not block.
func (h *Host) onDisconnect(_ network.Network, c network.Conn) {
	pid := c.RemotePeer()
	if rp := h.byPeer[pid]; rp != nil {
		if rp.w != nil {
			rp.w.wake()
		}
		return
	}
	h.clientMu.RLock()
	w := h.clientOut[pid]
	h.clientMu.RUnlock()
	if w != nil {
		w.wake()
	}
}

// Replica returns the host's pbft.Transport. id must be the host's own
// replica ID (the one whose key is HostConfig.Key); another id is a
// configuration error and panics, as MemNetwork.Replica does for an id out
// of range. Closing the transport closes the host.
func (h *Host) Replica(id pbft.ReplicaID) pbft.Transport {
	if !h.isReplica || id != h.self {
		panic(fmt.Sprintf("p2p: Replica(%d) of the host of %s", id, h.peerName(h.h.ID())))
	}
	return (*replicaTransport)(h)
}

// replicaTransport is a replica Host seen as a pbft.Transport.
type replicaTransport Host

var _ pbft.Transport = (*replicaTransport)(nil)

// Send implements pbft.Transport.
func (t *replicaTransport) Send(to pbft.ReplicaID, data []byte) { (*Host)(t).send(to, data) }

// Broadcast implements pbft.Transport.
func (t *replicaTransport) Broadcast(data []byte) { (*Host)(t).broadcast(data) }

// SendClient implements pbft.Transport.
func (t *replicaTransport) SendClient(c pbft.ClientID, data []byte) { (*Host)(t).sendClient(c, data) }

// Receive implements pbft.Transport.
func (t *replicaTransport) Receive() <-chan []byte { return t.recv }

// Close implements pbft.Transport.
func (t *replicaTransport) Close() error { return (*Host)(t).Close() }
