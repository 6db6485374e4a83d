package pbft_test

import (
	"fmt"
	"testing"

	"github.com/bftbed/bftbed/crypto"
	"github.com/bftbed/bftbed/pbft"
	"github.com/bftbed/bftbed/pbft/kv"
)

// benchCluster is n cores wired to each other directly: messages go from one
// core's Ready to the others' Receive without encoding or verification, so
// the benchmark measures the protocol core itself (its signing included).
type benchCluster struct {
	cores []*pbft.Replica
	queue []benchMsg
}

type benchMsg struct {
	to pbft.ReplicaID
	m  pbft.Message
}

func newBenchCluster(b *testing.B, n, batch int) *benchCluster {
	domain := crypto.NewDomain("bench")
	c := &benchCluster{}
	for i := 0; i < n; i++ {
		cfg := pbft.DefaultConfig(pbft.ReplicaID(i), n)
		cfg.MaxBatch = batch
		key := crypto.DeriveKey([]byte("bench"), fmt.Sprintf("replica/%d", i))
		r, err := pbft.NewReplica(cfg, kv.New(), pbft.KeySigner{Domain: domain, Key: key}, nil)
		if err != nil {
			b.Fatal(err)
		}
		c.cores = append(c.cores, r)
		c.route(pbft.ReplicaID(i), r.Start())
	}
	return c
}

func (c *benchCluster) route(from pbft.ReplicaID, rd pbft.Ready) {
	for _, env := range rd.Messages {
		if !env.Broadcast {
			c.queue = append(c.queue, benchMsg{env.To, env.Msg})
			continue
		}
		for i := range c.cores {
			if pbft.ReplicaID(i) != from {
				c.queue = append(c.queue, benchMsg{pbft.ReplicaID(i), env.Msg})
			}
		}
	}
}

func (c *benchCluster) drain() {
	for len(c.queue) > 0 {
		m := c.queue[0]
		c.queue = c.queue[1:]
		c.route(m.to, c.cores[m.to].Receive(m.m))
	}
}

// BenchmarkReplicaStep measures the normal case through four cores: one
// full batch of puts from PRE-PREPARE to execution at every replica, per
// request. Signing dominates: each replica signs a PREPARE (or the
// PRE-PREPARE), a COMMIT and one REPLY per request.
func BenchmarkReplicaStep(b *testing.B) {
	for _, batch := range []int{1, 10, 100} {
		b.Run(fmt.Sprintf("batch=%d", batch), func(b *testing.B) {
			c := newBenchCluster(b, 4, batch)
			domain := crypto.NewDomain("bench")
			var clients []*pbft.ClientCore
			for i := 0; i < batch; i++ {
				clients = append(clients, pbft.NewClientCore(4, domain, crypto.DeriveKey([]byte("bench"), fmt.Sprintf("client/%d", i)), 0))
			}
			value := make([]byte, 64)
			b.ReportAllocs()
			b.ResetTimer()
			for i := 0; i < b.N; i++ {
				b.StopTimer()
				reqs := make([]*pbft.Request, batch)
				for j, cl := range clients {
					reqs[j] = cl.Submit(kv.EncodePut([]byte(fmt.Sprintf("k%d", j)), value))
				}
				b.StartTimer()
				for _, req := range reqs {
					c.route(0, c.cores[0].Receive(req))
				}
				c.drain()
			}
			b.StopTimer()
			if got := c.cores[3].Status().LastExecuted; got != pbft.Seq(b.N) {
				b.Fatalf("executed %d batches, want %d", got, b.N)
			}
			b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(b.N*batch), "ns/request")
		})
	}
}
