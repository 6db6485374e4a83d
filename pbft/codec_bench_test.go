package pbft

import (
	"bytes"
	"testing"
)

// codecBenchMessages returns the benchmarked messages: a PRE-PREPARE with a
// batch of 100 requests of 64-byte operations, a PREPARE, and a VIEW-CHANGE
// with 10 prepared proofs (each a batch of 10 such requests and 2 prepares).
func codecBenchMessages() []struct {
	name string
	m    Message
} {
	op := bytes.Repeat([]byte("o"), 64)
	batch := func(n int, ts uint64) []*Request {
		var b []*Request
		for i := range n {
			r := &Request{Client: codecClientKeys[i%len(codecClientKeys)].Public(), Timestamp: ts + uint64(i), Op: op}
			codecSign(r)
			b = append(b, r)
		}
		return b
	}
	var proofs []*PreparedProof
	for i := range 10 {
		proofs = append(proofs, codecProof(4, Seq(101+i), batch(10, uint64(100*i))))
	}
	pp := codecPrePrepare(4, 100, batch(100, 1))
	return []struct {
		name string
		m    Message
	}{
		{"PrePrepare100", pp},
		{"Prepare", codecPrepare(4, 100, pp.Digest, 1)},
		{"ViewChange10", codecViewChange(5, 2, 96, proofs...)},
	}
}

func BenchmarkMarshal(b *testing.B) {
	for _, c := range codecBenchMessages() {
		b.Run(c.name, func(b *testing.B) {
			b.ReportAllocs()
			b.SetBytes(int64(len(Marshal(c.m))))
			for b.Loop() {
				Marshal(c.m)
			}
		})
	}
}

// BenchmarkAppendMarshal encodes into a reused buffer, as a transport with
// its own write buffer would: the cost of encoding without allocation.
func BenchmarkAppendMarshal(b *testing.B) {
	for _, c := range codecBenchMessages() {
		b.Run(c.name, func(b *testing.B) {
			buf := Marshal(c.m)
			b.ReportAllocs()
			b.SetBytes(int64(len(buf)))
			for b.Loop() {
				buf = AppendMarshal(buf[:0], c.m)
			}
		})
	}
}

func BenchmarkUnmarshal(b *testing.B) {
	for _, c := range codecBenchMessages() {
		b.Run(c.name, func(b *testing.B) {
			enc := Marshal(c.m)
			b.ReportAllocs()
			b.SetBytes(int64(len(enc)))
			for b.Loop() {
				if _, err := Unmarshal(enc); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}

func BenchmarkSigningBytesPrepare(b *testing.B) {
	p := codecPrepare(4, 100, NullDigest, 1)
	b.ReportAllocs()
	for b.Loop() {
		SigningBytes(p)
	}
}

func BenchmarkBatchDigest100(b *testing.B) {
	batch := codecBenchMessages()[0].m.(*PrePrepare).Batch
	b.ReportAllocs()
	for b.Loop() {
		BatchDigest(batch)
	}
}

// BenchmarkSignatureItems measures the work Authenticate adds to the
// signature checks themselves.
func BenchmarkSignatureItems(b *testing.B) {
	for _, c := range codecBenchMessages() {
		b.Run(c.name, func(b *testing.B) {
			b.ReportAllocs()
			for b.Loop() {
				if _, err := SignatureItems(c.m, codecKeys); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}
