package bench

import (
	"bytes"
	"encoding/csv"
	"image/png"
	"os"
	"path/filepath"
	"testing"
	"time"
)

func TestWriteSweep(t *testing.T) {
	var rows []SweepRow
	for _, b := range []string{"none", "crash", "equivocate"} {
		for _, n := range []float64{4, 7, 10, 13} {
			slow := map[string]float64{"none": 1, "crash": 1.2, "equivocate": 2}[b]
			rows = append(rows, SweepRow{
				Param: "n", Value: n, Behaviour: b,
				Throughput: 12000 / n / slow,
				P50:        time.Duration(n*slow) * ms, P99: time.Duration(4*n*slow) * ms,
				MsgsPerReq: 2 * n * n, OK: true,
			})
		}
	}
	dir := reportDir(t, "sweep")
	if err := WriteSweep(dir, rows); err != nil {
		t.Fatal(err)
	}
	f, err := os.Open(filepath.Join(dir, SweepFile))
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	recs, err := csv.NewReader(f).ReadAll()
	if err != nil {
		t.Fatal(err)
	}
	if len(recs) != 13 || recs[0][0] != "param" || recs[1][2] != "crash" || recs[1][1] != "4" {
		t.Fatalf("csv %v", recs[:2])
	}
	for _, name := range []string{SweepThroughputFile, SweepLatencyFile} {
		b, err := os.ReadFile(filepath.Join(dir, name))
		if err != nil {
			t.Fatal(err)
		}
		if _, err := png.Decode(bytes.NewReader(b)); err != nil {
			t.Fatalf("%s: %v", name, err)
		}
	}
	// A checked run becomes a row.
	r := synthetic(t)
	Check(r, CheckOptions{})
	row := SweepRowOf("n", 4, "crash+equivocate", r)
	if !row.OK || row.Throughput != r.Cost.Throughput || row.P99 != r.Cost.Latency.P99 || row.ViewChanges != 1 {
		t.Fatalf("%+v", row)
	}
}
