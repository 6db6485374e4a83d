package pbft

import (
	"errors"
	"fmt"
	"log/slog"
	"sync"
	"sync/atomic"

	"github.com/bftbed/bftbed/crypto"
)

// NodeConfig configures a Node.
type NodeConfig struct {
	// Protocol holds the replica's protocol parameters, its ID included.
	Protocol Config
	// Domain is the testnet's signing domain; Key is this replica's
	// private key, whose public key must be Replicas[Protocol.ID].
	Domain crypto.Domain
	Key    crypto.PrivateKey
	// Replicas holds the public key of each replica, indexed by ID.
	Replicas []crypto.PublicKey
	// App is the replicated state machine. Only the Node's core goroutine
	// calls it.
	App Application
	// Storage keeps what the core must not forget. StartNode loads it;
	// the Node neither opens nor closes it.
	Storage Storage
	// Transport connects the replica to its peers and clients. The Node
	// neither opens nor closes it.
	Transport Transport
	// Logger receives the Node's structured logs; nil discards them.
	Logger *slog.Logger
	// VerifyWorkers is the number of goroutines that check one group of
	// signatures; <= 0 means GOMAXPROCS.
	VerifyWorkers int
	// OnCommit, if set, is called on the core goroutine for each executed
	// batch, in sequence order, once it is durable. It must be quick (the
	// replica waits for it) and must not call Stop, which waits for the
	// core goroutine.
	OnCommit func(CommittedBatch)
	// TimerScale, if set, multiplies every timer the core arms: an
	// adversary skews a replica's clock with it (> 1 slow, < 1 fast).
	TimerScale func() float64
}

// ErrTransportClosed stops a Node whose transport closed its Receive
// channel: a replica that cannot hear its peers can do nothing useful.
var ErrTransportClosed = errors.New("pbft: node: transport closed")

// Node runs a replica: it drives the deterministic core (Replica) with
// messages from its Transport and with a real clock, persists each step's
// output in its Storage before sending anything, and sends the messages and
// replies.
//
// Three kinds of goroutine share the work. The receive goroutine reads
// frames, decodes them and checks all their signatures in batches (spread
// over VerifyWorkers goroutines), then hands the authentic messages, in
// arrival order, to the core goroutine. The core goroutine is the only one
// that touches the Replica and the Application: it steps the core with every
// event already queued (group commit), saves the merged output with one
// Storage.Save, then sends, then arms timers. Timers are time.AfterFunc
// callbacks that post their expiry back to the core goroutine.
type Node struct {
	cfg   NodeConfig
	id    ReplicaID
	keys  ReplicaKeys
	core  *Replica
	log   *slog.Logger
	trans Transport
	// rx is trans.Receive(), read by the receive goroutine and measured
	// (len) by Stats.
	rx <-chan []byte

	// inbox carries groups of authenticated messages, in arrival order,
	// from the receive goroutine to the core goroutine.
	inbox chan []Message
	// fires carries timer expiries to the core goroutine.
	fires  chan timerFire
	timers nodeTimers
	// encBuf is the core goroutine's reused encoding buffer.
	encBuf []byte

	status atomic.Pointer[Status]
	stats  nodeCounters

	quit     chan struct{} // closed to ask every goroutine to return
	quitOnce sync.Once
	done     chan struct{} // closed once every goroutine returned
	wg       sync.WaitGroup
	errMu    sync.Mutex
	err      error
}

// inboxGroups is how many verified groups may wait for the core goroutine:
// enough to keep verification running while the core works, few enough that
// a slow core pushes back on the transport (which then drops) instead of
// buffering without bound.
const inboxGroups = 8

// StartNode loads cfg.Storage, builds the replica core, carries out its
// first Ready and starts the Node's goroutines. Stop it with Stop.
func StartNode(cfg NodeConfig) (*Node, error) {
	if err := cfg.check(); err != nil {
		return nil, err
	}
	rec, err := cfg.Storage.Load()
	if err != nil {
		return nil, fmt.Errorf("pbft: node: load storage: %w", err)
	}
	core, err := NewReplica(cfg.Protocol, cfg.App, KeySigner{Domain: cfg.Domain, Key: cfg.Key}, rec)
	if err != nil {
		return nil, err
	}
	keys := append([]crypto.PublicKey(nil), cfg.Replicas...)
	n := &Node{
		cfg:   cfg,
		id:    cfg.Protocol.ID,
		keys:  func(id ReplicaID) (crypto.PublicKey, bool) { return keyOfReplica(keys, id) },
		core:  core,
		log:   cfg.Logger,
		trans: cfg.Transport,
		rx:    cfg.Transport.Receive(),
		inbox: make(chan []Message, inboxGroups),
		fires: make(chan timerFire, 2*int(numTimers)),
		quit:  make(chan struct{}),
		done:  make(chan struct{}),
	}
	if n.log == nil {
		n.log = slog.New(slog.DiscardHandler)
	}
	n.log = n.log.With("replica", int(n.id))
	n.timers.node = n
	st := core.Status()
	n.status.Store(&st)
	// The first Ready is carried out before any goroutine starts, so a
	// storage that fails at once fails StartNode.
	if err := n.carryOut(core.Start()); err != nil {
		n.timers.stopAll()
		n.shutdown(err) // releases a timer callback waiting in post
		return nil, err
	}
	n.log.Info("node started", "view", uint64(st.View), "last_executed", uint64(st.LastExecuted), "stable", uint64(st.StableSeq))
	n.wg.Add(2)
	go n.receiveLoop()
	go n.coreLoop()
	go func() {
		n.wg.Wait()
		if err := n.Err(); err != nil {
			n.log.Error("node stopped", "err", err)
		} else {
			n.log.Info("node stopped")
		}
		close(n.done)
	}()
	return n, nil
}

// check reports the first configuration error.
func (cfg *NodeConfig) check() error {
	switch {
	case cfg.App == nil || cfg.Storage == nil || cfg.Transport == nil:
		return errors.New("pbft: node: App, Storage and Transport are required")
	case len(cfg.Replicas) != cfg.Protocol.N:
		return fmt.Errorf("pbft: node: %d replica keys for n = %d", len(cfg.Replicas), cfg.Protocol.N)
	case cfg.Key.IsZero():
		return errors.New("pbft: node: no private key")
	}
	if err := cfg.Protocol.Validate(); err != nil {
		return err
	}
	if cfg.Key.Public() != cfg.Replicas[cfg.Protocol.ID] {
		// Peers would reject everything this replica signs.
		return fmt.Errorf("pbft: node: key %s is not replica %d's (%s)", cfg.Key.Public(), cfg.Protocol.ID, cfg.Replicas[cfg.Protocol.ID])
	}
	return nil
}

func keyOfReplica(keys []crypto.PublicKey, id ReplicaID) (crypto.PublicKey, bool) {
	if int(id) >= len(keys) {
		return crypto.PublicKey{}, false
	}
	return keys[id], true
}

// Status returns the replica's status after its last step. It is safe to
// call from any goroutine.
func (n *Node) Status() Status { return *n.status.Load() }

// Stop stops the Node's goroutines and timers and waits for them. It closes
// neither the Transport nor the Storage, which the caller owns: close them
// after Stop. It returns the error that stopped the Node, if one did before
// (a failed Save, a closed transport), and nil for a clean stop. Stop may be
// called more than once, from any goroutine.
func (n *Node) Stop() error {
	n.shutdown(nil)
	<-n.done
	return n.Err()
}

// Done returns a channel closed once the Node has stopped, by Stop or by a
// fatal error (see Err).
func (n *Node) Done() <-chan struct{} { return n.done }

// Err returns the fatal error that stopped the Node, or nil.
func (n *Node) Err() error {
	n.errMu.Lock()
	defer n.errMu.Unlock()
	return n.err
}

// shutdown records err (the first non-nil one wins) and asks every
// goroutine to return.
func (n *Node) shutdown(err error) {
	if err != nil {
		n.errMu.Lock()
		if n.err == nil {
			n.err = err
		}
		n.errMu.Unlock()
	}
	n.quitOnce.Do(func() { close(n.quit) })
}

// NodeStats counts what a Node did with its inbound frames and its output.
// The counters only grow; VerifyQueue and CoreQueue are instantaneous.
type NodeStats struct {
	// Frames is the number of frames read from the transport.
	Frames uint64
	// Malformed frames did not decode.
	Malformed uint64
	// Rejected messages decoded but were dropped before verification: a
	// message kind replicas never accept (REPLY) or one naming an unknown
	// replica.
	Rejected uint64
	// BadSignature messages held at least one invalid signature.
	BadSignature uint64
	// Delivered messages were authentic and handed to the core.
	Delivered uint64
	// Steps counts core steps (messages and timer fires); Saves counts
	// Storage.Save calls, one per group of steps with something to persist.
	Steps, Saves uint64
	// Sent counts frames handed to the transport (a broadcast counts once).
	Sent uint64
	// In counts the frames that decoded, by message type, before their
	// signatures are checked (so In[t] includes the rejected and badly
	// signed messages of type t). Out counts the frames handed to the
	// transport by message type, replies included (a broadcast counts
	// once); its sum is Sent.
	In, Out MsgCounts
	// CommittedBatches and CommittedRequests count the batches executed
	// (null batches included) and the requests in them, since StartNode.
	// Batches re-executed while loading Storage are not counted.
	CommittedBatches, CommittedRequests uint64
	// ViewChanges counts the times the replica moved to a higher view:
	// each view change it started or joined, and each later view it
	// tried when one failed.
	ViewChanges uint64
	// VerifyQueue is the number of frames waiting in the transport's
	// Receive channel to be decoded and verified; CoreQueue the number
	// of authentic messages waiting for the core goroutine.
	VerifyQueue, CoreQueue int
}

// MsgCounts counts messages by type: MsgCounts[t] is the count of MsgType
// t (index 0 and unknown types stay 0).
type MsgCounts [len(msgTypeNames)]uint64

// msgCounters is the live, atomic form of MsgCounts.
type msgCounters [len(msgTypeNames)]atomic.Uint64

// add counts one message of type t; unknown types are not counted (they
// never decode).
func (c *msgCounters) add(t MsgType, n uint64) {
	if int(t) < len(c) {
		c[t].Add(n)
	}
}

func (c *msgCounters) load() (out MsgCounts) {
	for i := range c {
		out[i] = c[i].Load()
	}
	return out
}

type nodeCounters struct {
	frames, malformed, rejected, badSig, delivered, steps, saves, sent atomic.Uint64
	in, out                                                            msgCounters
	batches, requests, viewChanges                                     atomic.Uint64
	// coreQueue is the number of messages sent to inbox and not yet
	// stepped: raised before a group is queued, lowered as it is taken.
	coreQueue atomic.Int64
}

// Stats returns the Node's counters. It is safe to call from any goroutine.
func (n *Node) Stats() NodeStats {
	c := &n.stats
	return NodeStats{
		Frames: c.frames.Load(), Malformed: c.malformed.Load(), Rejected: c.rejected.Load(),
		BadSignature: c.badSig.Load(), Delivered: c.delivered.Load(),
		Steps: c.steps.Load(), Saves: c.saves.Load(), Sent: c.sent.Load(),
		In: c.in.load(), Out: c.out.load(),
		CommittedBatches: c.batches.Load(), CommittedRequests: c.requests.Load(),
		ViewChanges: c.viewChanges.Load(),
		VerifyQueue: len(n.rx), CoreQueue: int(max(c.coreQueue.Load(), 0)),
	}
}
