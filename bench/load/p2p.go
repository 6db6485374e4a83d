package load

import (
	"cmp"
	"context"
	"errors"
	"fmt"
	"log/slog"
	"sync"
	"sync/atomic"
	"time"

	"github.com/bftbed/bftbed/crypto"
	"github.com/bftbed/bftbed/p2p"
	"github.com/bftbed/bftbed/pbft"
)

// DefaultClientsPerHost is how many of a run's clients share one libp2p
// host unless P2PTarget.ClientsPerHost says otherwise.
const DefaultClientsPerHost = 64

// P2PTarget makes pbft clients that reach the replicas over libp2p, each
// with a fresh key: the real network path of a testnet. Clients share
// libp2p hosts (p2p.ClientGateway) in groups of ClientsPerHost, the way an
// application server carries many users' signed requests: a group's
// requests and replies are coalesced into few writes, as they would be on
// such a server.
type P2PTarget struct {
	// Cluster is the testnet's name (signature domain and protocols).
	Cluster string
	// Peers lists the replicas and their addresses, in id order.
	Peers []p2p.PeerInfo
	// RetryTimeout is the clients' first retransmission timeout; 0 means
	// pbft.DefaultRetryTimeout.
	RetryTimeout time.Duration
	// Logger receives the client hosts' warnings (a replica that cannot
	// be reached, say); nil discards them, since a load run reports
	// failures through its results.
	Logger *slog.Logger
	// ClientsPerHost is how many clients share one libp2p host: 0 means
	// DefaultClientsPerHost, 1 gives every client a host of its own.
	ClientsPerHost int

	mu    sync.Mutex
	hosts map[int]*sharedGateway // by group, i / ClientsPerHost
}

// sharedGateway is a gateway and the number of open clients on it.
type sharedGateway struct {
	g     *p2p.ClientGateway
	users int
}

// NewClient implements Target: the i-th client joins the gateway of its
// group, starting it if it is the group's first.
func (t *P2PTarget) NewClient(_ context.Context, i int) (Client, error) {
	key, err := crypto.GenerateKey()
	if err != nil {
		return nil, err
	}
	group := i / cmp.Or(t.ClientsPerHost, DefaultClientsPerHost)
	g, err := t.acquire(group)
	if err != nil {
		return nil, err
	}
	tr, err := g.Attach(key.Public())
	if err != nil {
		t.release(group)
		return nil, err
	}
	c, err := newPBFTClient(t.Cluster, t.Peers, key, t.RetryTimeout, tr)
	if err != nil {
		tr.Close()
		t.release(group)
		return nil, err
	}
	c.release = func() error { return t.release(group) }
	return c, nil
}

// acquire returns group's gateway, starting it if needed, and counts one
// more user of it.
func (t *P2PTarget) acquire(group int) (*p2p.ClientGateway, error) {
	t.mu.Lock()
	defer t.mu.Unlock()
	sg := t.hosts[group]
	if sg == nil {
		key, err := crypto.GenerateKey()
		if err != nil {
			return nil, err
		}
		g, err := p2p.NewClientGateway(p2p.HostConfig{ClusterID: t.Cluster, Key: key, Peers: t.Peers, Logger: discardIfNil(t.Logger)})
		if err != nil {
			return nil, err
		}
		if t.hosts == nil {
			t.hosts = make(map[int]*sharedGateway)
		}
		sg = &sharedGateway{g: g}
		t.hosts[group] = sg
	}
	sg.users++
	return sg.g, nil
}

// release counts one user of group's gateway less, and closes it after
// its last.
func (t *P2PTarget) release(group int) error {
	t.mu.Lock()
	defer t.mu.Unlock()
	sg := t.hosts[group]
	if sg == nil {
		return nil
	}
	if sg.users--; sg.users > 0 {
		return nil
	}
	delete(t.hosts, group)
	return sg.g.Close()
}

// discardIfNil returns logger, or one that discards everything if it is nil.
func discardIfNil(logger *slog.Logger) *slog.Logger {
	if logger == nil {
		return slog.New(slog.DiscardHandler)
	}
	return logger
}

// DialP2P returns a client with key over a new libp2p client host: what a
// one-shot command (`bftbed client`) uses too.
func DialP2P(cluster string, peers []p2p.PeerInfo, key crypto.PrivateKey, retry time.Duration, logger *slog.Logger) (Client, error) {
	tr, err := p2p.NewClientTransport(p2p.HostConfig{ClusterID: cluster, Key: key, Peers: peers, Logger: discardIfNil(logger)})
	if err != nil {
		return nil, err
	}
	c, err := newPBFTClient(cluster, peers, key, retry, tr)
	if err != nil {
		tr.Close()
		return nil, err
	}
	return c, nil
}

// newPBFTClient returns the client with key over tr; closing it closes tr.
func newPBFTClient(cluster string, peers []p2p.PeerInfo, key crypto.PrivateKey, retry time.Duration, tr pbft.ClientTransport) (*PBFTClient, error) {
	keys := make([]crypto.PublicKey, len(peers))
	for i, p := range peers {
		if int(p.ID) != i {
			return nil, fmt.Errorf("load: peer %d listed as replica %d: want ids in order", i, p.ID)
		}
		keys[i] = p.Key
	}
	rec := RecordTimestamps(tr)
	c, err := pbft.NewClient(pbft.ClientConfig{
		N: len(peers), Domain: crypto.NewDomain(cluster), Key: key,
		Replicas: keys, Transport: rec, RetryTimeout: retry,
	})
	if err != nil {
		return nil, err
	}
	return &PBFTClient{Client: c, Transport: rec}, nil
}

// PBFTClient adapts a pbft.Client to Client. Transport must be the
// client's transport wrapped by RecordTimestamps, so that Invoke can tell
// the request's timestamp; Close closes both.
type PBFTClient struct {
	Client    *pbft.Client
	Transport *TimestampRecorder

	release func() error // after Close: the shared host's reference
}

// ID implements Client: the hex of the client's public key.
func (c *PBFTClient) ID() string {
	id := c.Client.ID()
	return id.Hex()
}

// Invoke implements Client.
func (c *PBFTClient) Invoke(ctx context.Context, op []byte) ([]byte, uint64, error) {
	res, err := c.Client.Invoke(ctx, op)
	return res, c.Transport.Last(), err
}

// Close implements Client.
func (c *PBFTClient) Close() error {
	err := errors.Join(c.Client.Close(), c.Transport.Close())
	if c.release != nil {
		err = errors.Join(err, c.release())
	}
	return err
}

// TimestampRecorder is a pbft.ClientTransport that remembers the timestamp
// of the last request sent through it. pbft.Client does not expose its
// requests' timestamps, and the history needs them to match operations to
// the replicas' logs; reading them off the wire is exact.
type TimestampRecorder struct {
	pbft.ClientTransport
	last atomic.Uint64
}

// Send implements pbft.ClientTransport. The Client sends every new request
// with Send before any retransmission by Broadcast, so Send alone sees
// every timestamp.
func (t *TimestampRecorder) Send(to pbft.ReplicaID, data []byte) {
	if m, err := pbft.Unmarshal(data); err == nil {
		if req, ok := m.(*pbft.Request); ok {
			t.last.Store(req.Timestamp)
		}
	}
	t.ClientTransport.Send(to, data)
}

// RecordTimestamps wraps t in a TimestampRecorder.
func RecordTimestamps(t pbft.ClientTransport) *TimestampRecorder {
	return &TimestampRecorder{ClientTransport: t}
}

// Last returns the timestamp of the last request sent.
func (t *TimestampRecorder) Last() uint64 { return t.last.Load() }
