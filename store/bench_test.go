package store

import (
	"testing"

	"github.com/bftbed/bftbed/pbft"
)

// benchSteps returns n typical normal-case steps of a backup, one Persist
// each: a PRE-PREPARE with a batch of 100 requests of 64-byte operations,
// 3 PREPAREs, 3 COMMITs and the executed batch. Every 128th sequence number
// also carries a snapshot and a CHECKPOINT, and 3 sequence numbers later one
// more Persist makes it stable (and garbage collects the log below it), as
// in a steady run.
func benchSteps(n int, interval pbft.Seq) []*pbft.Persist {
	f := newFixture(100, 64, interval)
	var steps []*pbft.Persist
	pending := pbft.Seq(0)
	for len(steps) < n {
		steps = append(steps, f.normalSteps(true, 3)...)
		if f.seq%interval == 0 {
			pending = f.seq
		}
		if pending != 0 && f.seq == pending+3 {
			steps = append(steps, f.stableStep(pending))
			pending = 0
		}
	}
	return steps[:n]
}

// BenchmarkSaveStep measures the cost of persistence: one synced Save per
// core step, on the real file system (b.TempDir()). It reports synced
// saves/s, the bytes each Save writes to the WAL, and the bytes persisted
// per committed request.
func BenchmarkSaveStep(b *testing.B) {
	steps := benchSteps(b.N, 128)
	s, err := Open(b.TempDir(), Options{})
	if err != nil {
		b.Fatal(err)
	}
	defer s.Close()
	b.ResetTimer()
	for _, p := range steps {
		if err := s.Save(p); err != nil {
			b.Fatal(err)
		}
	}
	b.StopTimer()
	st := s.Stats()
	b.ReportMetric(float64(st.Saves)/b.Elapsed().Seconds(), "saves/s")
	b.ReportMetric(float64(st.Bytes)/float64(st.Saves), "B/save")
	if st.Requests > 0 {
		b.ReportMetric(float64(st.Bytes)/float64(st.Requests), "B/request")
	}
	b.ReportMetric(float64(s.DiskUsage()), "disk-B")
}

// BenchmarkLoad measures recovery after 1,000 steps of BenchmarkSaveStep:
// with no stable checkpoint (Load reads all 1,000 sequence numbers, more
// than a watermark window ever holds) and with one every 128 (a steady
// run: Load reads the sequence numbers above the last stable checkpoint).
func BenchmarkLoad(b *testing.B) {
	for _, c := range []struct {
		name     string
		interval pbft.Seq
	}{{"no-checkpoint", 1 << 30}, {"checkpoint-every-128", 128}} {
		b.Run(c.name, func(b *testing.B) {
			dir := b.TempDir()
			s, err := Open(dir, Options{})
			if err != nil {
				b.Fatal(err)
			}
			for _, p := range benchSteps(1000, c.interval) {
				if err := s.Save(p); err != nil {
					b.Fatal(err)
				}
			}
			// Reopen, so that Load reads what recovery would.
			if err := s.Close(); err != nil {
				b.Fatal(err)
			}
			if s, err = Open(dir, Options{}); err != nil {
				b.Fatal(err)
			}
			defer s.Close()
			var rec *pbft.Recovered
			for b.Loop() {
				if rec, err = s.Load(); err != nil {
					b.Fatal(err)
				}
			}
			b.ReportMetric(float64(len(rec.Log)), "messages")
			b.ReportMetric(float64(len(rec.Executed)), "batches")
		})
	}
}
