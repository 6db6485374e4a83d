package adversary

import (
	"sync"
	"testing"
	"time"

	"github.com/bftbed/bftbed/crypto"
	"github.com/bftbed/bftbed/pbft"
)

// recordingTransport records what reaches the network.
type recordingTransport struct {
	mu   sync.Mutex
	sent map[pbft.ReplicaID][][]byte
	in   chan []byte
}

func newRecording() *recordingTransport {
	return &recordingTransport{sent: map[pbft.ReplicaID][][]byte{}, in: make(chan []byte, 16)}
}

func (r *recordingTransport) Send(to pbft.ReplicaID, data []byte) {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.sent[to] = append(r.sent[to], append([]byte(nil), data...))
}
func (r *recordingTransport) Broadcast(data []byte) {
	for i := pbft.ReplicaID(1); i < 4; i++ {
		r.Send(i, data)
	}
}
func (r *recordingTransport) SendClient(pbft.ClientID, []byte) {}
func (r *recordingTransport) Receive() <-chan []byte           { return r.in }
func (r *recordingTransport) Close() error                     { close(r.in); return nil }

func (r *recordingTransport) count(to pbft.ReplicaID) int {
	r.mu.Lock()
	defer r.mu.Unlock()
	return len(r.sent[to])
}

func testPrePrepare(t *testing.T, domain crypto.Domain, key crypto.PrivateKey) []byte {
	t.Helper()
	client := crypto.DeriveKey([]byte("rt"), "client")
	req := &pbft.Request{Client: client.Public(), Timestamp: 1, Op: []byte("op")}
	pbft.Sign(domain, client, req)
	req2 := &pbft.Request{Client: client.Public(), Timestamp: 2, Op: []byte("op2")}
	pbft.Sign(domain, client, req2)
	batch := []*pbft.Request{req, req2}
	pp := &pbft.PrePrepare{View: 0, Seq: 1, Digest: pbft.BatchDigest(batch), Replica: 0, Batch: batch}
	pbft.Sign(domain, key, pp)
	return pbft.Marshal(pp)
}

// TestRuntimeAppliesFaultsOnARealTransport checks the runtime's wrapper:
// link rules cut links, a silent replica sends nothing while its fault
// lasts, and an equivocating primary's second story is validly signed.
func TestRuntimeAppliesFaultsOnARealTransport(t *testing.T) {
	domain := crypto.NewDomain("rt")
	key := crypto.DeriveKey([]byte("rt"), "replica/0")
	data := testPrePrepare(t, domain, key)
	start := time.Now()

	inner := newRecording()
	rt := NewRuntime(0, 4, key, domain, []Fault{
		{Behaviour: &Partition{Groups: [][]pbft.ReplicaID{{0, 1}, {2, 3}}}, Until: time.Hour},
	}, start, 1)
	tr := rt.Wrap(inner)
	tr.Broadcast(data)
	if inner.count(1) != 1 || inner.count(2) != 0 || inner.count(3) != 0 {
		t.Fatalf("partition {0,1}|{2,3}: sent to 1, 2, 3: %d %d %d", inner.count(1), inner.count(2), inner.count(3))
	}

	inner = newRecording()
	rt = NewRuntime(0, 4, key, domain, []Fault{{Nodes: []pbft.ReplicaID{0}, Behaviour: &Silent{}, Until: time.Hour}}, start, 1)
	rt.Wrap(inner).Broadcast(data)
	if inner.count(1)+inner.count(2)+inner.count(3) != 0 {
		t.Fatal("a silent replica sent")
	}

	inner = newRecording()
	rt = NewRuntime(0, 4, key, domain, []Fault{{Nodes: []pbft.ReplicaID{0}, Behaviour: &Equivocate{Other: []pbft.ReplicaID{3}}, Until: time.Hour}}, start, 1)
	rt.Wrap(inner).Broadcast(data)
	keys := func(id pbft.ReplicaID) (crypto.PublicKey, bool) { return key.Public(), id == 0 }
	var digests []pbft.Digest
	for _, to := range []pbft.ReplicaID{1, 3} {
		if inner.count(to) != 1 {
			t.Fatalf("replica %d got %d messages", to, inner.count(to))
		}
		m, err := pbft.Unmarshal(inner.sent[to][0])
		if err != nil {
			t.Fatal(err)
		}
		if err := pbft.Authenticate(domain, keys, m); err != nil {
			t.Fatalf("to %d: %v", to, err)
		}
		digests = append(digests, m.(*pbft.PrePrepare).Digest)
	}
	if digests[0] == digests[1] {
		t.Fatal("replicas 1 and 3 were told the same story")
	}

	// A fault that has not started yet changes nothing.
	inner = newRecording()
	rt = NewRuntime(0, 4, key, domain, []Fault{{Nodes: []pbft.ReplicaID{0}, Behaviour: &Silent{}, From: time.Hour}}, start, 1)
	rt.Wrap(inner).Broadcast(data)
	if inner.count(1) != 1 {
		t.Fatal("a fault acted before its window")
	}
}
