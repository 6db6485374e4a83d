package pbft_test

import (
	"context"
	"fmt"
	"log"
	"strconv"
	"time"

	"github.com/bftbed/bftbed/crypto"
	"github.com/bftbed/bftbed/p2p"
	"github.com/bftbed/bftbed/pbft"
)

// adder is the replicated service of the example: a running sum. Like
// every Application it is deterministic, and it answers every operation,
// even one it cannot parse.
type adder struct{ sum int64 }

// Execute adds each operation's number to the sum and returns the new sum.
func (c *adder) Execute(_ pbft.Seq, ops []pbft.Operation) [][]byte {
	results := make([][]byte, len(ops))
	for i, op := range ops {
		n, err := strconv.ParseInt(string(op.Op), 10, 64)
		if err != nil {
			results[i] = []byte("error: not a number")
			continue
		}
		c.sum += n
		results[i] = strconv.AppendInt(nil, c.sum, 10)
	}
	return results
}

// Snapshot and Restore let a lagging replica catch up from a checkpoint.
func (c *adder) Snapshot() []byte { return strconv.AppendInt(nil, c.sum, 10) }

func (c *adder) Restore(b []byte) error {
	n, err := strconv.ParseInt(string(b), 10, 64)
	if err != nil {
		return err
	}
	c.sum = n
	return nil
}

// Run a 4-replica cluster (tolerating one Byzantine replica) in one process
// on the in-memory transport, and use it through a Client.
func Example() {
	const n = 4
	domain := crypto.NewDomain("example")
	// Fixed keys for a reproducible example; use crypto.GenerateKey (and
	// key files) for real deployments.
	seed := []byte("example seed")
	keys := make([]crypto.PrivateKey, n)
	pubs := make([]crypto.PublicKey, n)
	for i := range keys {
		keys[i] = crypto.DeriveKey(seed, fmt.Sprintf("replica/%d", i))
		pubs[i] = keys[i].Public()
	}

	network := p2p.NewMemNetwork(n)
	defer network.Close()
	for i := range n {
		id := pbft.ReplicaID(i)
		node, err := pbft.StartNode(pbft.NodeConfig{
			Protocol:  pbft.DefaultConfig(id, n),
			Domain:    domain,
			Key:       keys[i],
			Replicas:  pubs,
			App:       &adder{},
			Storage:   pbft.NewMemoryStorage(),
			Transport: network.Replica(id),
		})
		if err != nil {
			log.Fatal(err)
		}
		defer node.Stop() // runs before network.Close
	}

	clientKey := crypto.DeriveKey(seed, "client")
	client, err := pbft.NewClient(pbft.ClientConfig{
		N:         n,
		Domain:    domain,
		Key:       clientKey,
		Replicas:  pubs,
		Transport: network.Client(clientKey.Public()),
	})
	if err != nil {
		log.Fatal(err)
	}
	defer client.Close()

	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	for _, op := range []string{"5", "10", "-3", "ten"} {
		result, err := client.Invoke(ctx, []byte(op))
		if err != nil {
			log.Fatal(err)
		}
		fmt.Printf("add %s: %s\n", op, result)
	}
	// Output:
	// add 5: 5
	// add 10: 15
	// add -3: 12
	// add ten: error: not a number
}
