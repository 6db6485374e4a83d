package pbft

import (
	"fmt"
	"testing"

	"github.com/bftbed/bftbed/crypto"
)

func TestReplyTreeProofs(t *testing.T) {
	for n := 1; n <= 40; n++ {
		replies := make([]*Reply, n)
		for i := range replies {
			replies[i] = &Reply{View: 3, Timestamp: uint64(100 + i), Client: codecClientKeys[i%len(codecClientKeys)].Public(), Replica: 1, Result: []byte(fmt.Sprint("r", i))}
		}
		r := &Replica{cfg: Config{ID: 1}, signer: KeySigner{Domain: codecDomain, Key: codecReplicaKeys[1]}}
		r.signReplies(replies)
		for i, rep := range replies {
			if err := Authenticate(codecDomain, codecKeys, rep); err != nil {
				t.Fatalf("n=%d reply %d: %v", n, i, err)
			}
			// Any change to what the reply claims breaks it. (Count alone
			// may change without changing the path's hashes; it claims
			// nothing about the result.)
			for _, tamper := range []func(*Reply){
				func(x *Reply) { x.Result = append(x.Result, '!') },
				func(x *Reply) { x.Timestamp++ },
				func(x *Reply) { x.Index = (x.Index + 1) % x.Count },
				func(x *Reply) {
					if len(x.Proof) > 0 {
						x.Proof[0][0] ^= 1
					} else {
						x.Root[0] ^= 1
					}
				},
				func(x *Reply) { x.View++ },
			} {
				bad := *rep
				bad.Proof = append([]Digest(nil), rep.Proof...)
				bad.Result = append([]byte(nil), rep.Result...)
				tamper(&bad)
				if n == 1 && bad.Index == rep.Index && bad.Count == rep.Count && bad.Timestamp == rep.Timestamp &&
					string(bad.Result) == string(rep.Result) && bad.View == rep.View && bad.Root == rep.Root {
					continue // the index change is a no-op for a tree of one
				}
				if Authenticate(codecDomain, codecKeys, &bad) == nil {
					t.Fatalf("n=%d reply %d: a tampered reply authenticates: %+v", n, i, bad)
				}
			}
		}
	}
}

func TestReplyProofOfAnotherTree(t *testing.T) {
	mk := func(results ...string) []*Reply {
		var out []*Reply
		for i, s := range results {
			out = append(out, &Reply{Timestamp: uint64(i + 1), Client: codecClientKeys[0].Public(), Replica: 2, Result: []byte(s)})
		}
		r := &Replica{cfg: Config{ID: 2}, signer: KeySigner{Domain: codecDomain, Key: codecReplicaKeys[2]}}
		r.signReplies(out)
		return out
	}
	a, b := mk("x", "y", "z"), mk("x", "y", "w")
	mixed := *a[2]
	mixed.Result = b[2].Result
	if Authenticate(codecDomain, codecKeys, &mixed) == nil {
		t.Fatal("a result from another tree authenticates under this root")
	}
}

func BenchmarkSignReplies100(b *testing.B) {
	replies := make([]*Reply, 100)
	r := &Replica{cfg: Config{ID: 1}, signer: KeySigner{Domain: codecDomain, Key: codecReplicaKeys[1]}}
	b.ReportAllocs()
	for i := 0; i < b.N; i++ {
		for j := range replies {
			replies[j] = &Reply{Timestamp: uint64(j), Client: codecClientKeys[0].Public(), Replica: 1, Result: make([]byte, 16)}
		}
		r.signReplies(replies)
	}
	b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(b.N*len(replies)), "ns/reply")
}

// TestAuthenticateReplyCache checks that remembering verified roots never
// lets a reply through that Authenticate would refuse.
func TestAuthenticateReplyCache(t *testing.T) {
	replies := make([]*Reply, 5)
	for i := range replies {
		replies[i] = &Reply{View: 1, Timestamp: uint64(i + 1), Client: codecClientKeys[0].Public(), Replica: 2, Result: []byte(fmt.Sprint(i))}
	}
	r := &Replica{cfg: Config{ID: 2}, signer: KeySigner{Domain: codecDomain, Key: codecReplicaKeys[2]}}
	r.signReplies(replies)
	for _, rep := range replies {
		if err := AuthenticateReply(codecDomain, codecKeys, rep); err != nil {
			t.Fatal(err)
		}
	}
	bad := *replies[3]
	bad.Result = []byte("forged")
	if AuthenticateReply(codecDomain, codecKeys, &bad) == nil {
		t.Fatal("a forged result under a remembered root authenticates")
	}
	other := *replies[3]
	other.Replica = 1 // same root and signature, claimed by another replica
	if AuthenticateReply(codecDomain, codecKeys, &other) == nil {
		t.Fatal("a remembered root authenticates for another replica")
	}
	if AuthenticateReply(crypto.NewDomain("elsewhere"), codecKeys, replies[0]) == nil {
		t.Fatal("a remembered root authenticates in another testnet")
	}
}
