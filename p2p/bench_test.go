package p2p_test

import (
	"fmt"
	"log/slog"
	"slices"
	"sync"
	"sync/atomic"
	"syscall"
	"testing"
	"time"

	"github.com/bftbed/bftbed/p2p"
	"github.com/bftbed/bftbed/pbft"
)

// BenchmarkBroadcast measures normal-case broadcasts on 4 hosts on
// loopback: every host broadcasts b.N signed messages of the given size,
// with at most window of its own in flight (a message is in flight until
// all 3 others have it): 1 shows the latency of an idle network, 32 the
// throughput under load. It reports
//
//   - msgs/s: broadcasts completed per second, for the whole cluster;
//   - p50-us, p99-us: latency from Broadcast to arrival on Receive, per copy;
//   - cpu-us/msg: process CPU time (user+system, all 4 hosts and this
//     harness) per broadcast.
//
// "gossip-noauth" is gossip with the validator's signature check off: it
// separates GossipSub's own cost from the Ed25519 verification that its
// validator must do (and the direct path leaves to the Node).
//
// Run with a fixed count, e.g. -bench Broadcast -benchtime 3000x.
func BenchmarkBroadcast(b *testing.B) {
	for _, mode := range []string{"direct", "gossip", "gossip-noauth"} {
		for _, size := range []int{256, 4096} {
			for _, window := range []int{1, 32} {
				b.Run(fmt.Sprintf("%s/%dB/window=%d", mode, size, window), func(b *testing.B) {
					benchBroadcast(b, mode, size, window)
				})
			}
		}
	}
}

func benchBroadcast(b *testing.B, mode string, size, benchWindow int) {
	const n = 4
	m := p2p.BroadcastDirect
	if mode != "direct" {
		m = p2p.BroadcastGossip
	}
	// The cluster helper takes a *testing.T; this is its logic for a B.
	hosts := make([]*p2p.Host, n)
	tr := make([]pbft.Transport, n)
	for i := range n {
		h, err := p2p.NewHost(p2p.HostConfig{
			ClusterID:  testCluster,
			Key:        replicaKey(i),
			Peers:      peerInfos(n),
			Broadcast:  m,
			MinBackoff: 20 * time.Millisecond,
			MaxBackoff: 500 * time.Millisecond,
			Logger:     slog.New(slog.DiscardHandler),
		})
		if err != nil {
			b.Fatal(err)
		}
		defer h.Close()
		if mode == "gossip-noauth" {
			p2p.SkipGossipAuth(h)
		}
		hosts[i], tr[i] = h, h.Replica(pbft.ReplicaID(i))
	}
	for i := range n {
		for j := range n {
			if i != j {
				if err := hosts[j].SetPeerAddrs(pbft.ReplicaID(i), hosts[i].Addrs()); err != nil {
					b.Fatal(err)
				}
			}
		}
	}
	deadline := time.Now().Add(waitLimit)
	for !benchReady(hosts, m) {
		if time.Now().After(deadline) {
			b.Fatal("cluster not connected")
		}
		time.Sleep(10 * time.Millisecond)
	}

	// Pre-sign every message: signing is the Node's cost, not ours.
	count := b.N
	msgs := make([][][]byte, n)
	ck := clientKey(0)
	opLen := size - len(request(ck, 0, 0))
	if opLen >= 128 {
		opLen-- // the op's length prefix takes two bytes
	}
	for i := range n {
		msgs[i] = make([][]byte, count)
		for k := range count {
			msgs[i][k] = request(ck, uint64(i)<<32|uint64(k), opLen)
		}
	}
	if got := len(msgs[0][0]); got != size {
		b.Fatalf("message of %d bytes, want %d", got, size)
	}

	sent := make([][]atomic.Int64, n) // send time of each message
	arrived := make([][]atomic.Int32, n)
	window := make([]chan struct{}, n)
	for i := range n {
		sent[i] = make([]atomic.Int64, count)
		arrived[i] = make([]atomic.Int32, count)
		window[i] = make(chan struct{}, benchWindow)
	}
	lat := make([][]time.Duration, n)
	var wg sync.WaitGroup
	for j := range n {
		wg.Add(1)
		go func() {
			defer wg.Done()
			lat[j] = make([]time.Duration, 0, 3*count)
			timeout := time.NewTimer(time.Minute)
			defer timeout.Stop()
			for range (n - 1) * count {
				var f []byte
				select {
				case f = <-tr[j].Receive():
				case <-timeout.C:
					b.Errorf("host %d: only %d of %d frames", j, len(lat[j]), (n-1)*count)
					return
				}
				now := time.Now().UnixNano()
				msg, err := pbft.Unmarshal(f)
				if err != nil {
					b.Errorf("host %d: %v", j, err)
					return
				}
				ts := msg.(*pbft.Request).Timestamp
				i, k := int(ts>>32), int(ts&(1<<32-1))
				lat[j] = append(lat[j], time.Duration(now-sent[i][k].Load()))
				if arrived[i][k].Add(1) == n-1 {
					<-window[i]
				}
			}
		}()
	}

	cpu0 := cpuTime()
	b.ResetTimer()
	start := time.Now()
	var sg sync.WaitGroup
	for i := range n {
		sg.Add(1)
		go func() {
			defer sg.Done()
			for k := range count {
				window[i] <- struct{}{}
				sent[i][k].Store(time.Now().UnixNano())
				tr[i].Broadcast(msgs[i][k])
			}
		}()
	}
	sg.Wait()
	wg.Wait()
	elapsed := time.Since(start)
	b.StopTimer()
	cpu := cpuTime() - cpu0

	var all []time.Duration
	for _, l := range lat {
		all = append(all, l...)
	}
	if len(all) == 0 {
		return
	}
	slices.Sort(all)
	total := float64(n * count)
	b.ReportMetric(total/elapsed.Seconds(), "msgs/s")
	b.ReportMetric(float64(all[len(all)/2].Microseconds()), "p50-us")
	b.ReportMetric(float64(all[len(all)*99/100].Microseconds()), "p99-us")
	b.ReportMetric(float64(cpu.Microseconds())/total, "cpu-us/msg")
	var drops uint64
	for _, h := range hosts {
		st := h.Stats()
		drops += st.Gossip.Dropped + st.Gossip.Lost
		for _, r := range st.Replicas {
			drops += r.Dropped
		}
	}
	if drops > 0 {
		b.Errorf("%d frames dropped", drops)
	}
}

func benchReady(hosts []*p2p.Host, m p2p.BroadcastMode) bool {
	for _, h := range hosts {
		st := h.Stats()
		for _, r := range st.Replicas {
			if !r.Connected {
				return false
			}
		}
		if m == p2p.BroadcastGossip && st.GossipPeers < len(hosts)-1 {
			return false
		}
	}
	return true
}

// cpuTime returns the process's user+system CPU time so far.
func cpuTime() time.Duration {
	var ru syscall.Rusage
	if err := syscall.Getrusage(syscall.RUSAGE_SELF, &ru); err != nil {
		return 0
	}
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}
