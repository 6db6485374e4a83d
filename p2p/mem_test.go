package p2p_test

import (
	"bytes"
	"sync"
	"testing"
	"time"

	"github.com/bftbed/bftbed/crypto"
	"github.com/bftbed/bftbed/p2p"
	"github.com/bftbed/bftbed/pbft"
)

// recv returns the next frame on ch, failing the test after a deadline.
func recv(t *testing.T, ch <-chan []byte) []byte {
	t.Helper()
	select {
	case b, ok := <-ch:
		if !ok {
			t.Fatal("receive channel closed")
		}
		return b
	case <-time.After(5 * time.Second):
		t.Fatal("no frame within 5s")
		return nil
	}
}

// empty fails if ch holds a frame now. Sends are synchronous (the frame is
// queued before Send returns), so this is not a race with a slow sender.
func empty(t *testing.T, name string, ch <-chan []byte) {
	t.Helper()
	select {
	case b := <-ch:
		t.Fatalf("%s: unexpected frame %q", name, b)
	default:
	}
}

var clientID = crypto.DeriveKey([]byte("p2p-test"), "client/0").Public()

func TestMemRouting(t *testing.T) {
	net := p2p.NewMemNetwork(4)
	defer net.Close()
	r := make([]pbft.Transport, 4)
	for i := range r {
		r[i] = net.Replica(pbft.ReplicaID(i))
	}
	c := net.Client(clientID)

	r[0].Send(2, []byte("to 2"))
	if got := recv(t, r[2].Receive()); string(got) != "to 2" {
		t.Fatalf("Send: got %q", got)
	}
	r[1].Broadcast([]byte("from 1"))
	for _, i := range []int{0, 2, 3} {
		if got := recv(t, r[i].Receive()); string(got) != "from 1" {
			t.Fatalf("Broadcast to %d: got %q", i, got)
		}
	}
	empty(t, "broadcaster", r[1].Receive())

	c.Broadcast([]byte("request"))
	for i := range r {
		if got := recv(t, r[i].Receive()); string(got) != "request" {
			t.Fatalf("client Broadcast to %d: got %q", i, got)
		}
	}
	r[3].SendClient(clientID, []byte("reply"))
	if got := recv(t, c.Receive()); string(got) != "reply" {
		t.Fatalf("SendClient: got %q", got)
	}
	// Unknown destinations are counted, not fatal.
	r[3].SendClient(crypto.PublicKey{1}, []byte("nobody"))
	r[0].Send(7, []byte("nobody"))
	if s := net.Stats(); s.Unroutable != 2 || s.Delivered != 9 {
		t.Fatalf("stats %+v, want 2 unroutable, 9 delivered", s)
	}
}

func TestMemCopiesOnSend(t *testing.T) {
	net := p2p.NewMemNetwork(4)
	defer net.Close()
	a, b, c := net.Replica(0), net.Replica(1), net.Replica(2)
	buf := []byte("original")
	a.Broadcast(buf)
	copy(buf, "CHANGED!")
	got1, got2 := recv(t, b.Receive()), recv(t, c.Receive())
	if string(got1) != "original" || string(got2) != "original" {
		t.Fatalf("receivers saw the sender's reuse: %q %q", got1, got2)
	}
	got1[0] = 'X' // receivers own their copies
	if string(got2) != "original" {
		t.Fatalf("receivers share a buffer: %q", got2)
	}
}

func TestMemOverflowDropsWithoutBlocking(t *testing.T) {
	net := p2p.NewMemNetwork(4, p2p.WithQueueLen(3))
	defer net.Close()
	a, b := net.Replica(0), net.Replica(1)
	for range 10 {
		a.Send(1, []byte("x")) // would block forever if sends blocked
	}
	if s := net.Stats(); s.Delivered != 3 || s.Overflowed != 7 {
		t.Fatalf("stats %+v, want 3 delivered, 7 overflowed", s)
	}
	for range 3 {
		recv(t, b.Receive())
	}
	empty(t, "replica 1", b.Receive())
}

func TestMemFilter(t *testing.T) {
	net := p2p.NewMemNetwork(4)
	defer net.Close()
	r := []pbft.Transport{net.Replica(0), net.Replica(1), net.Replica(2), net.Replica(3)}
	// Partition {0, 1} from {2, 3}.
	side := func(a p2p.Addr) bool { return !a.Client && a.Replica < 2 }
	net.SetFilter(func(from, to p2p.Addr, _ []byte) bool { return side(from) == side(to) })
	r[0].Broadcast([]byte("p"))
	if got := recv(t, r[1].Receive()); string(got) != "p" {
		t.Fatalf("same side: got %q", got)
	}
	empty(t, "replica 2", r[2].Receive())
	empty(t, "replica 3", r[3].Receive())
	if s := net.Stats(); s.Filtered != 2 {
		t.Fatalf("stats %+v, want 2 filtered", s)
	}
	net.SetFilter(nil)
	r[0].Send(3, []byte("healed"))
	if got := recv(t, r[3].Receive()); string(got) != "healed" {
		t.Fatalf("after heal: got %q", got)
	}
}

func TestMemCloseAndReopen(t *testing.T) {
	net := p2p.NewMemNetwork(4)
	defer net.Close()
	a, b := net.Replica(0), net.Replica(1)
	if net.Replica(1) != b {
		t.Fatal("an open replica's transport was not reused")
	}
	b.Close()
	b.Close() // idempotent
	if _, ok := <-b.Receive(); ok {
		t.Fatal("Receive not closed by Close")
	}
	a.Send(1, []byte("lost"))
	b2 := net.Replica(1)
	if b2 == b {
		t.Fatal("a closed replica's transport was reused")
	}
	a.Send(1, []byte("after restart"))
	if got := recv(t, b2.Receive()); string(got) != "after restart" {
		t.Fatalf("restarted replica got %q", got)
	}
	b.Send(0, []byte("from the dead"))
	empty(t, "replica 0", a.Receive())

	net.Close()
	if _, ok := <-a.Receive(); ok {
		t.Fatal("network Close left a Receive open")
	}
	if _, ok := <-net.Client(clientID).Receive(); ok {
		t.Fatal("endpoint made after Close is open")
	}
}

// TestMemConcurrent sends from many goroutines while endpoints close, for
// the race detector: no send may hit a closed channel.
func TestMemConcurrent(t *testing.T) {
	net := p2p.NewMemNetwork(4, p2p.WithQueueLen(64))
	var wg sync.WaitGroup
	for i := range 4 {
		tr := net.Replica(pbft.ReplicaID(i))
		wg.Go(func() {
			for range tr.Receive() {
			}
		})
		wg.Go(func() {
			msg := bytes.Repeat([]byte{byte(i)}, 100)
			for j := range 2000 {
				tr.Broadcast(msg)
				tr.SendClient(clientID, msg)
				if j == 1000 && i == 3 {
					tr.Close()
				}
			}
		})
	}
	c := net.Client(clientID)
	wg.Go(func() {
		for range c.Receive() {
		}
	})
	wg.Go(func() {
		for range 2000 {
			c.Broadcast([]byte("req"))
		}
		net.Close()
	})
	wg.Wait()
}
