package load

import (
	"context"
	"fmt"
	"testing"
	"time"

	"github.com/bftbed/bftbed/crypto"
	"github.com/bftbed/bftbed/p2p"
	"github.com/bftbed/bftbed/pbft"
	"github.com/bftbed/bftbed/pbft/kv"
)

// memTarget makes pbft clients of an in-process cluster on the in-memory
// network, through the same PBFTClient adapter as P2PTarget.
type memTarget struct {
	net    *p2p.MemNetwork
	domain crypto.Domain
	pubs   []crypto.PublicKey
}

func (m *memTarget) NewClient(_ context.Context, i int) (Client, error) {
	key := crypto.DeriveKey([]byte("load test"), fmt.Sprintf("client/%d", i))
	tr := RecordTimestamps(m.net.Client(key.Public()))
	c, err := pbft.NewClient(pbft.ClientConfig{N: len(m.pubs), Domain: m.domain, Key: key, Replicas: m.pubs, Transport: tr})
	if err != nil {
		return nil, err
	}
	return &PBFTClient{Client: c, Transport: tr}, nil
}

// TestAgainstPBFT runs a short closed-loop load on a real 4-replica
// cluster and checks what the history says against the replicas' state.
func TestAgainstPBFT(t *testing.T) {
	const n = 4
	domain := crypto.NewDomain("load-test")
	target := &memTarget{net: p2p.NewMemNetwork(n), domain: domain}
	defer target.net.Close()
	var keys []crypto.PrivateKey
	for i := range n {
		k := crypto.DeriveKey([]byte("load test"), fmt.Sprintf("replica/%d", i))
		keys = append(keys, k)
		target.pubs = append(target.pubs, k.Public())
	}
	stores := make([]*kv.Store, n)
	for i := range n {
		stores[i] = kv.New()
		node, err := pbft.StartNode(pbft.NodeConfig{
			Protocol: pbft.DefaultConfig(pbft.ReplicaID(i), n), Domain: domain, Key: keys[i],
			Replicas: target.pubs, App: stores[i], Storage: pbft.NewMemoryStorage(),
			Transport: target.net.Replica(pbft.ReplicaID(i)),
		})
		if err != nil {
			t.Fatal(err)
		}
		defer node.Stop()
	}
	res, err := Run(context.Background(), Config{
		Clients: 4, Duration: 500 * time.Millisecond, Keys: 5, Mix: Mix{Put: 1, Get: 1, CAS: 1},
	}, target)
	if err != nil {
		t.Fatal(err)
	}
	if res.Committed < 10 || res.Errors != 0 {
		t.Fatalf("committed %d errors %d %v", res.Committed, res.Errors, res.ErrorCounts)
	}
	// Timestamps read off the wire increase per client.
	last := map[int]uint64{}
	for _, r := range res.History {
		if r.Timestamp <= last[r.Client] {
			t.Fatalf("client %d: timestamp %d after %d", r.Client, r.Timestamp, last[r.Client])
		}
		last[r.Client] = r.Timestamp
	}
	for i, id := range res.ClientIDs {
		if len(id) != 64 {
			t.Fatalf("client %d id %q", i, id)
		}
	}
}
