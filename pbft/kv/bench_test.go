package kv_test

import (
	"fmt"
	"testing"

	"github.com/bftbed/bftbed/pbft"
	"github.com/bftbed/bftbed/pbft/kv"
)

// BenchmarkExecutePut64B executes batches of 100 puts of 64-byte values to
// 100 distinct keys (so after the first batch each put overwrites a key).
func BenchmarkExecutePut64B(b *testing.B) {
	const batch = 100
	value := make([]byte, 64)
	ops := make([]pbft.Operation, batch)
	for i := range ops {
		ops[i] = pbft.Operation{Op: kv.EncodePut([]byte(fmt.Sprintf("key-%08d", i)), value)}
	}
	s := kv.New()
	b.SetBytes(batch * 64)
	b.ReportAllocs()
	for b.Loop() {
		s.Execute(1, ops)
	}
	b.ReportMetric(float64(b.N*batch)/b.Elapsed().Seconds(), "ops/s")
}

// BenchmarkSnapshot10k snapshots a store of 10,000 keys (16-byte keys,
// 64-byte values); bytes/s is the snapshot size over the time.
func BenchmarkSnapshot10k(b *testing.B) {
	s := kv.New()
	value := make([]byte, 64)
	ops := make([]pbft.Operation, 10000)
	for i := range ops {
		ops[i] = pbft.Operation{Op: kv.EncodePut([]byte(fmt.Sprintf("key-%012d", i)), value)}
	}
	s.Execute(1, ops)
	b.SetBytes(int64(len(s.Snapshot())))
	b.ReportAllocs()
	for b.Loop() {
		s.Snapshot()
	}
}
