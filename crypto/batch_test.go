package crypto

import (
	"fmt"
	"math/rand/v2"
	"sync"
	"testing"
)

// corruption turns a valid item into an invalid one.
type corruption func(it *VerifyItem, other PublicKey)

var corruptions = []struct {
	name string
	f    corruption
}{
	{"msg", func(it *VerifyItem, _ PublicKey) { it.Msg = append([]byte("x"), it.Msg...) }},
	{"sigR", func(it *VerifyItem, _ PublicKey) { it.Sig[3] ^= 0x10 }},
	{"sigS", func(it *VerifyItem, _ PublicKey) { it.Sig[40] ^= 0x01 }},
	{"tag", func(it *VerifyItem, _ PublicKey) { it.Tag++ }},
	{"key", func(it *VerifyItem, other PublicKey) { it.Key = other }},
	{"notAPoint", func(it *VerifyItem, _ PublicKey) { it.Key = mustKey("02" + zeros(31)) }},
	{"smallOrderKey", func(it *VerifyItem, _ PublicKey) { it.Key = PublicKey{} }},
	{"zeroSig", func(it *VerifyItem, _ PublicKey) { it.Sig = Signature{} }},
	{"highS", func(it *VerifyItem, _ PublicKey) { it.Sig[63] |= 0xf0 }},
}

var batchKeys = func() []PrivateKey {
	ks := make([]PrivateKey, 300)
	for i := range ks {
		ks[i] = DeriveKey([]byte("batch test"), fmt.Sprintf("key/%d", i))
	}
	return ks
}()

// validItems returns n valid items over distinct keys, tags and messages.
func validItems(d Domain, n int) []VerifyItem {
	items := make([]VerifyItem, n)
	for i := range items {
		k := batchKeys[i%len(batchKeys)]
		msg := []byte(fmt.Sprintf("message %d", i))
		tag := byte(i % 5)
		items[i] = VerifyItem{Key: k.Public(), Tag: tag, Msg: msg, Sig: d.Sign(k, tag, msg)}
	}
	return items
}

// corrupt returns a copy of items with the items where bad[i] is set
// corrupted, cycling through all corruption kinds starting at kind.
func corrupt(items []VerifyItem, bad []bool, kind int) []VerifyItem {
	out := append([]VerifyItem(nil), items...)
	for i := range out {
		if bad[i] {
			other := batchKeys[(i+1)%len(batchKeys)].Public()
			corruptions[(kind+i)%len(corruptions)].f(&out[i], other)
		}
	}
	return out
}

// checkBatch verifies items in every way and requires each result to match
// want exactly, and single verification to agree.
func checkBatch(t *testing.T, d Domain, items []VerifyItem, want []bool) {
	t.Helper()
	wantAll := true
	for i := range want {
		wantAll = wantAll && want[i]
		if got := d.Verify(items[i].Key, items[i].Tag, items[i].Msg, items[i].Sig); got != want[i] {
			t.Fatalf("Verify(item %d) = %v, want %v", i, got, want[i])
		}
	}
	ok, all := d.VerifyBatch(items)
	if len(ok) != len(items) {
		t.Fatalf("VerifyBatch returned %d results for %d items", len(ok), len(items))
	}
	for i := range want {
		if ok[i] != want[i] {
			t.Fatalf("VerifyBatch: ok[%d] = %v, want %v (bad=%v)", i, ok[i], want[i], want)
		}
	}
	if all != wantAll {
		t.Fatalf("VerifyBatch: allValid = %v, want %v", all, wantAll)
	}
}

func TestVerifyBatchEmpty(t *testing.T) {
	d := NewDomain("t")
	for _, items := range [][]VerifyItem{nil, {}} {
		ok, all := d.VerifyBatch(items)
		if len(ok) != 0 || !all {
			t.Fatalf("VerifyBatch(empty) = %v, %v; want [], true", ok, all)
		}
		ok, all = d.VerifyParallel(items, 4)
		if len(ok) != 0 || !all {
			t.Fatalf("VerifyParallel(empty) = %v, %v; want [], true", ok, all)
		}
	}
}

func TestVerifyBatchAllGoodAllBad(t *testing.T) {
	d := NewDomain("testnet-1")
	// 94 and up is where voi stops using precomputed key tables.
	for _, n := range []int{1, 2, 3, 4, 16, 93, 94, 130} {
		items := validItems(d, n)
		good := make([]bool, n)
		bad := make([]bool, n)
		for i := range good {
			good[i] = true
			bad[i] = true
		}
		t.Run(fmt.Sprintf("n=%d/good", n), func(t *testing.T) { checkBatch(t, d, items, good) })
		for kind := range corruptions {
			t.Run(fmt.Sprintf("n=%d/bad/%s", n, corruptions[kind].name), func(t *testing.T) {
				// corrupt marks bad items, so want is !bad: all false.
				checkBatch(t, d, corrupt(items, bad, kind), make([]bool, n))
			})
		}
	}
}

func TestVerifyBatchOneBadEachPosition(t *testing.T) {
	d := NewDomain("testnet-1")
	for _, n := range []int{2, 3, 5, 16, 33} {
		items := validItems(d, n)
		for pos := range n {
			bad := make([]bool, n)
			bad[pos] = true
			want := make([]bool, n)
			for i := range want {
				want[i] = !bad[i]
			}
			t.Run(fmt.Sprintf("n=%d/pos=%d", n, pos), func(t *testing.T) {
				checkBatch(t, d, corrupt(items, bad, pos), want)
			})
		}
	}
	// And the edges of a batch too large for voi's precomputation.
	items := validItems(d, 100)
	for _, pos := range []int{0, 1, 49, 50, 98, 99} {
		bad := make([]bool, len(items))
		bad[pos] = true
		want := make([]bool, len(items))
		for i := range want {
			want[i] = !bad[i]
		}
		checkBatch(t, d, corrupt(items, bad, pos), want)
	}
}

func TestVerifyBatchRandomPatterns(t *testing.T) {
	d := NewDomain("testnet-1")
	rng := rand.New(rand.NewPCG(1, 2))
	items := validItems(d, 64)
	for round := range 40 {
		n := 1 + rng.IntN(len(items))
		density := []float64{0.02, 0.1, 0.5, 0.9}[round%4]
		bad := make([]bool, n)
		want := make([]bool, n)
		for i := range bad {
			bad[i] = rng.Float64() < density
			want[i] = !bad[i]
		}
		got := corrupt(items[:n], bad, round)
		t.Run(fmt.Sprintf("round=%d/n=%d", round, n), func(t *testing.T) { checkBatch(t, d, got, want) })
	}
}

func TestVerifyBatchWrongDomain(t *testing.T) {
	items := validItems(NewDomain("testnet-1"), 20)
	ok, all := NewDomain("testnet-2").VerifyBatch(items)
	if all {
		t.Fatal("batch from another cluster verified")
	}
	for i, v := range ok {
		if v {
			t.Fatalf("item %d from another cluster verified", i)
		}
	}
}

func TestVerifyBatchDoesNotModifyItems(t *testing.T) {
	d := NewDomain("t")
	items := validItems(d, 10)
	bad := make([]bool, 10)
	bad[3] = true
	items = corrupt(items, bad, 0)
	before := fmt.Sprint(items)
	d.VerifyBatch(items)
	d.VerifyParallel(items, 2)
	if fmt.Sprint(items) != before {
		t.Fatal("verification modified its input")
	}
}

func TestVerifyParallelAgrees(t *testing.T) {
	d := NewDomain("testnet-1")
	rng := rand.New(rand.NewPCG(3, 4))
	all := validItems(d, 100)
	for _, n := range []int{1, 7, 8, 16, 17, 64, 100} {
		for _, workers := range []int{-1, 0, 1, 2, 3, 7, 1000} {
			bad := make([]bool, n)
			want := make([]bool, n)
			for i := range bad {
				bad[i] = rng.IntN(6) == 0
				want[i] = !bad[i]
			}
			items := corrupt(all[:n], bad, n+workers)
			bok, ball := d.VerifyBatch(items)
			pok, pall := d.VerifyParallel(items, workers)
			if len(pok) != n || pall != ball {
				t.Fatalf("n=%d workers=%d: VerifyParallel allValid=%v len=%d, VerifyBatch allValid=%v", n, workers, pall, len(pok), ball)
			}
			for i := range want {
				if pok[i] != want[i] || bok[i] != want[i] {
					t.Fatalf("n=%d workers=%d: item %d parallel=%v batch=%v want=%v", n, workers, i, pok[i], bok[i], want[i])
				}
			}
		}
	}
}

// TestConcurrentVerify runs all verifiers at once, for the race detector:
// they share the key cache and buffer pool.
func TestConcurrentVerify(t *testing.T) {
	d := NewDomain("testnet-1")
	items := validItems(d, 40)
	bad := make([]bool, len(items))
	bad[7], bad[30] = true, true
	items = corrupt(items, bad, 0)
	var wg sync.WaitGroup
	errs := make(chan string, 16)
	for g := range 4 {
		wg.Go(func() {
			var ok []bool
			switch g % 3 {
			case 0:
				ok, _ = d.VerifyBatch(items)
			case 1:
				ok, _ = d.VerifyParallel(items, 3)
			default:
				ok = make([]bool, len(items))
				for i, it := range items {
					ok[i] = d.Verify(it.Key, it.Tag, it.Msg, it.Sig)
				}
			}
			for i := range ok {
				if ok[i] == bad[i] {
					errs <- fmt.Sprintf("goroutine %d: item %d = %v", g, i, ok[i])
					return
				}
			}
		})
	}
	wg.Wait()
	close(errs)
	for e := range errs {
		t.Error(e)
	}
}

func TestKeyCacheBounded(t *testing.T) {
	c := newKeyCache(4)
	keys := make([]PublicKey, 20)
	for i := range keys {
		keys[i] = batchKeys[i].Public()
	}
	var wg sync.WaitGroup
	for g := range 4 {
		wg.Go(func() {
			for r := range 50 {
				k := keys[(g*7+r)%len(keys)]
				ek := c.get(k)
				if ek == nil || ek.CompressedY() != [32]byte(k) {
					t.Errorf("cache returned the wrong key for %v", k)
					return
				}
			}
		})
	}
	wg.Wait()
	if n := c.len(); n > 8 {
		t.Fatalf("cache holds %d keys, want at most 2 generations of 4", n)
	}
	// A hot key survives a stream of one-off keys.
	hot := keys[0]
	first := c.get(hot)
	for _, k := range keys[1:] {
		c.get(k)
		if c.get(hot) != first {
			t.Fatal("hot key was evicted")
		}
	}
	if c.get(mustKey("02"+zeros(31))) != nil {
		t.Fatal("a non-point was expanded")
	}
}
