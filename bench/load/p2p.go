package load

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"sync/atomic"
	"time"

	"github.com/bftbed/bftbed/crypto"
	"github.com/bftbed/bftbed/p2p"
	"github.com/bftbed/bftbed/pbft"
)

// P2PTarget makes pbft clients that reach the replicas over libp2p, each
// with a fresh key and its own client host: the real network path of a
// testnet.
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
}

// NewClient implements Target.
func (t *P2PTarget) NewClient(_ context.Context, _ int) (Client, error) {
	key, err := crypto.GenerateKey()
	if err != nil {
		return nil, err
	}
	return DialP2P(t.Cluster, t.Peers, key, t.RetryTimeout, t.Logger)
}

// DialP2P returns a client with key over a new libp2p client host: what a
// one-shot command (`bftbed client`) uses too.
func DialP2P(cluster string, peers []p2p.PeerInfo, key crypto.PrivateKey, retry time.Duration, logger *slog.Logger) (Client, error) {
	if logger == nil {
		logger = slog.New(slog.NewTextHandler(io.Discard, nil))
	}
	tr, err := p2p.NewClientTransport(p2p.HostConfig{ClusterID: cluster, Key: key, Peers: peers, Logger: logger})
	if err != nil {
		return nil, err
	}
	rec := &TimestampRecorder{ClientTransport: tr}
	keys := make([]crypto.PublicKey, len(peers))
	for i, p := range peers {
		if int(p.ID) != i {
			tr.Close()
			return nil, fmt.Errorf("load: peer %d listed as replica %d: want ids in order", i, p.ID)
		}
		keys[i] = p.Key
	}
	c, err := pbft.NewClient(pbft.ClientConfig{
		N: len(peers), Domain: crypto.NewDomain(cluster), Key: key,
		Replicas: keys, Transport: rec, RetryTimeout: retry,
	})
	if err != nil {
		tr.Close()
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
	return errors.Join(c.Client.Close(), c.Transport.Close())
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
