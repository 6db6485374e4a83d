package daemon_test

import (
	"context"
	"fmt"
	"log/slog"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/bftbed/bftbed/pbft"
	"github.com/bftbed/bftbed/pbft/kv"
	"github.com/bftbed/bftbed/testnet"
	"github.com/bftbed/bftbed/testnet/daemon"
)

// BenchmarkDaemon4 runs 4 daemons in one process (libp2p on loopback,
// Pebble with synced writes, the default protocol parameters) and 64
// closed-loop clients putting 64-byte values, each on its own libp2p host
// (host=each) or all on one gateway host (host=shared); req/s is the
// cluster's throughput. Everything shares the
// machine's cores, as pbft's BenchmarkCluster4 does on its in-memory
// network and storage: the difference between the two is the cost of the
// real network and disk.
func BenchmarkDaemon4(b *testing.B) {
	const clients = 64
	c := newTestNet(b, 4, testnet.DefaultProtocol())
	for i := range c.cfgs {
		c.cfgs[i].HTTP = "" // no scrapes here
		c.mustStart(i, daemon.Options{Logger: slog.New(slog.DiscardHandler)})
	}
	own := make([]*pbft.Client, clients)
	for i := range own {
		own[i] = c.client(i)
	}
	shared := c.gatewayClients(clients, clients)
	b.Run(fmt.Sprintf("clients=%d/host=each", clients), func(b *testing.B) { benchPuts(b, c, own) })
	b.Run(fmt.Sprintf("clients=%d/host=shared", clients), func(b *testing.B) { benchPuts(b, c, shared) })
}

func benchPuts(b *testing.B, c *testNet, cls []*pbft.Client) {
	value := make([]byte, 64)
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Minute)
	defer cancel()
	start := c.ds[0].Node().Stats()
	startSeq := c.ds[0].Status().LastExecuted
	var next atomic.Int64
	cpu0 := processCPU()
	b.ResetTimer()
	var wg sync.WaitGroup
	for i, cl := range cls {
		key := fmt.Appendf(nil, "key-%02d", i)
		wg.Go(func() {
			for next.Add(1) <= int64(b.N) {
				if _, err := cl.Invoke(ctx, kv.EncodePut(key, value)); err != nil {
					b.Error(err)
					return
				}
			}
		})
	}
	wg.Wait()
	b.StopTimer()
	// The whole process's CPU, clients included: what the 2-core budget
	// has to cover.
	b.ReportMetric(float64(processCPU()-cpu0)/float64(time.Microsecond)/float64(b.N), "cpu-us/req")
	b.ReportMetric(float64(b.N)/b.Elapsed().Seconds(), "req/s")
	b.ReportMetric(0, "ns/op")
	st := c.ds[0].Status()
	b.ReportMetric(float64(b.N)/float64(max(st.LastExecuted-startSeq, 1)), "req/batch")
	b.ReportMetric(float64(st.View), "views")
	end := c.ds[0].Node().Stats()
	b.ReportMetric(float64(end.Saves-start.Saves)/b.Elapsed().Seconds(), "saves/s")
	var dropped uint64
	for _, d := range c.ds {
		hs := d.Host().Stats()
		for _, p := range hs.Replicas {
			dropped += p.Dropped
		}
		dropped += hs.Clients.Dropped
	}
	b.ReportMetric(float64(dropped), "dropped")
}
