package crypto

import (
	"runtime"
	"sync"

	"github.com/oasisprotocol/curve25519-voi/primitives/ed25519"
)

// VerifyItem is one signature to check: Sig by Key over Msg under the tag
// Tag of the verifying Domain.
type VerifyItem struct {
	Key PublicKey
	Tag byte
	Msg []byte
	Sig Signature
}

// minBatch is the smallest input worth a batch: measured on amd64, a batch
// of one costs 1.5 single verifications and a batch of two breaks even.
const minBatch = 3

// minParallelChunk is the smallest share VerifyParallel gives a goroutine:
// smaller batches lose more per-signature speed than a core gains.
const minParallelChunk = 8

// VerifyBatch checks all items at once with curve25519-voi's batch verifier
// and returns ok[i] for each item and whether all are valid. An empty input
// is all valid.
//
// If the batch equation fails, every item is re-checked on its own, reusing
// the points and hashes already decoded for the batch, so exactly the bad
// items are rejected. This beats bisection: a batch is less than 2x faster
// than single verification, so re-batching halves costs more than the
// single checks it saves. Measured (µs/sig, re-check vs. bisection down to
// groups of 4): 64 items with 1 bad 38 vs 43, 8 bad 42 vs 95, all bad 38 vs
// 113; 256 items with 1 bad 36 vs 45. So a batch with bad signatures costs
// about 1.6 single verifications per item however many are bad.
//
// Results agree with [Domain.Verify] on every item: both use the same
// cofactored rules, under which a batch of valid signatures always passes.
func (d Domain) VerifyBatch(items []VerifyItem) (ok []bool, allValid bool) {
	ok = make([]bool, len(items))
	return ok, d.verifyBatchInto(items, ok)
}

// verifyBatchInto is VerifyBatch writing into ok, which has len(items).
func (d Domain) verifyBatchInto(items []VerifyItem, ok []bool) bool {
	if len(items) < minBatch {
		all := true
		for i := range items {
			it := &items[i]
			ok[i] = d.Verify(it.Key, it.Tag, it.Msg, it.Sig)
			all = all && ok[i]
		}
		return all
	}

	v := ed25519.NewBatchVerifierWithCapacity(len(items))
	// in[j] is the index in items of the j-th entry of v: items whose key
	// is not a curve point cannot be added and stay ok[i] == false.
	in := make([]int, 0, len(items))
	bp := getBuf()
	b := (*bp)[:0]
	for i := range items {
		it := &items[i]
		ek := expandedKeys.get(it.Key)
		if ek == nil {
			continue
		}
		// voi hashes the message inside Add and keeps no reference to
		// it, so one buffer serves every item.
		b = d.appendSigned(b[:0], it.Tag, it.Msg)
		v.AddExpandedWithOptions(ek, b, it.Sig[:], verifyOpts)
		in = append(in, i)
	}
	putBuf(bp, b)
	if len(in) == 0 {
		return false
	}

	// Verify runs the batch equation and, only if it fails, checks each
	// entry on its own. A nil reader draws the batch's random
	// coefficients from crypto/rand, which an attacker cannot predict.
	all, valid := v.Verify(nil)
	for j, i := range in {
		ok[i] = valid[j]
	}
	return all && len(in) == len(items)
}

// VerifyParallel splits items into contiguous shares, one per goroutine,
// and checks each share with [Domain.VerifyBatch]. workers <= 0 means
// GOMAXPROCS; fewer goroutines are used if shares would drop below 8 items.
// The result is the same as VerifyBatch's; a bad item only costs its own
// share the fallback to single verification.
func (d Domain) VerifyParallel(items []VerifyItem, workers int) (ok []bool, allValid bool) {
	if workers <= 0 {
		workers = runtime.GOMAXPROCS(0)
	}
	workers = min(workers, len(items)/minParallelChunk)
	if workers <= 1 {
		return d.VerifyBatch(items)
	}

	ok = make([]bool, len(items))
	shareOK := make([]bool, workers)
	var wg sync.WaitGroup
	for w := range workers {
		lo, hi := w*len(items)/workers, (w+1)*len(items)/workers
		run := func() { shareOK[w] = d.verifyBatchInto(items[lo:hi], ok[lo:hi]) }
		if w == workers-1 {
			run() // the caller's goroutine takes the last share
		} else {
			wg.Go(run)
		}
	}
	wg.Wait()
	allValid = true
	for _, a := range shareOK {
		allValid = allValid && a
	}
	return ok, allValid
}
