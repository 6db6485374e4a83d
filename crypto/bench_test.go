package crypto

import (
	"fmt"
	"testing"

	"github.com/oasisprotocol/curve25519-voi/primitives/ed25519"
)

// benchMsg is about the size of a PBFT prepare or commit.
var benchMsg = make([]byte, 128)

func BenchmarkSign(b *testing.B) {
	k := DeriveKey([]byte("bench"), "k")
	d := NewDomain("bench")
	b.ReportAllocs()
	for b.Loop() {
		d.Sign(k, 1, benchMsg)
	}
}

func BenchmarkVerify(b *testing.B) {
	k := DeriveKey([]byte("bench"), "k")
	d := NewDomain("bench")
	pub, sig := k.Public(), d.Sign(k, 1, benchMsg)
	b.Run("cached", func(b *testing.B) {
		b.ReportAllocs()
		for b.Loop() {
			if !d.Verify(pub, 1, benchMsg, sig) {
				b.Fatal("rejected")
			}
		}
	})
	// What Verify would cost without the expanded-key cache.
	b.Run("uncached", func(b *testing.B) {
		b.ReportAllocs()
		signed := d.appendSigned(nil, 1, benchMsg)
		for b.Loop() {
			if !ed25519.VerifyWithOptions(pub[:], signed, sig[:], verifyOpts) {
				b.Fatal("rejected")
			}
		}
	})
}

func reportPerSig(b *testing.B, n int) {
	b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(b.N*n), "ns/sig")
}

func BenchmarkVerifyBatch(b *testing.B) {
	d := NewDomain("bench")
	for _, n := range []int{1, 16, 64, 256} {
		items := validItems(d, n) // n distinct keys
		b.Run(fmt.Sprintf("n=%d", n), func(b *testing.B) {
			b.ReportAllocs()
			for b.Loop() {
				if _, all := d.VerifyBatch(items); !all {
					b.Fatal("rejected")
				}
			}
			reportPerSig(b, n)
		})
	}
}

// BenchmarkVerifyBatchBad measures the fallback when the batch fails.
func BenchmarkVerifyBatchBad(b *testing.B) {
	d := NewDomain("bench")
	const n = 64
	items := validItems(d, n)
	for _, nbad := range []int{1, n} {
		bad := make([]bool, n)
		for i := range nbad {
			bad[(i*37+11)%n] = true
		}
		// Flip a bit of S only, so every bad item still parses and
		// costs the full curve arithmetic: the worst case.
		got := append([]VerifyItem(nil), items...)
		for i := range got {
			if bad[i] {
				got[i].Sig[40] ^= 1
			}
		}
		b.Run(fmt.Sprintf("n=%d/bad=%d", n, nbad), func(b *testing.B) {
			for b.Loop() {
				d.VerifyBatch(got)
			}
			reportPerSig(b, n)
		})
	}
}

func BenchmarkVerifyParallel(b *testing.B) {
	d := NewDomain("bench")
	const n = 64
	items := validItems(d, n)
	b.Run(fmt.Sprintf("n=%d", n), func(b *testing.B) {
		b.ReportAllocs()
		for b.Loop() {
			if _, all := d.VerifyParallel(items, 0); !all {
				b.Fatal("rejected")
			}
		}
		reportPerSig(b, n)
	})
}

func BenchmarkHash256B(b *testing.B) {
	data := make([]byte, 256)
	b.SetBytes(int64(len(data)))
	b.ReportAllocs()
	for b.Loop() {
		Hash(data)
	}
}
