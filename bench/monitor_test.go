package bench

import (
	"os"
	"strings"
	"testing"
	"time"

	"github.com/bftbed/bftbed/pbft"
)

func TestParseTraffic(t *testing.T) {
	text := `# HELP bftbed_p2p_frames_in_total Frames received that passed the framing rules.
# TYPE bftbed_p2p_frames_in_total counter
bftbed_p2p_frames_in_total{peer="1"} 120
bftbed_p2p_frames_in_total{peer="2"} 1.234567e+06
bftbed_p2p_frames_in_total{peer="clients"} 30
bftbed_p2p_frames_out_total{peer="1"} 7
bftbed_p2p_bytes_in_total{peer="1"} 1000
bftbed_p2p_bytes_out_total{peer="clients"} 64
bftbed_p2p_dropped_total{peer="1"} 99
go_goroutines 42
`
	tr, err := parseTraffic(strings.NewReader(text))
	if err != nil {
		t.Fatal(err)
	}
	if tr.framesIn != 120+1234567+30 || tr.framesOut != 7 || tr.bytesIn != 1000 || tr.bytesOut != 64 {
		t.Errorf("totals %+v", tr)
	}
	if tr.peerFramesIn[1] != 120 || tr.peerFramesIn[2] != 1234567 || len(tr.peerFramesIn) != 2 {
		t.Errorf("per peer %v", tr.peerFramesIn)
	}
}

func TestAgreementMonitor(t *testing.T) {
	a := newAgreementMonitor(map[pbft.ReplicaID]bool{0: true})
	d1, d2 := Digest{1}, Digest{2}
	if msg := a.observe(time.Second, 1, 5, d1); msg != "" {
		t.Errorf("first commit: %q", msg)
	}
	if msg := a.observe(time.Second, 0, 5, d2); msg != "" {
		t.Errorf("a Byzantine replica's commit was held against it: %q", msg)
	}
	if msg := a.observe(time.Second, 2, 5, d1); msg != "" || a.compared != 1 {
		t.Errorf("agreeing commit: %q, compared %d", msg, a.compared)
	}
	msg := a.observe(2*time.Second, 3, 5, d2)
	if !strings.Contains(msg, "AGREEMENT VIOLATED at 2s") || !strings.Contains(msg, "seq 5: replica 1") {
		t.Errorf("conflict: %q", msg)
	}
	if !strings.Contains(a.state(), "1 conflicts") {
		t.Errorf("state %q", a.state())
	}
	for seq := pbft.Seq(6); seq < 6+2*loudViolations; seq++ {
		a.observe(-1, 1, seq, d1)
		a.observe(-1, 2, seq, d2)
	}
	if a.count != 1+2*loudViolations || len(a.violations) > maxDetails {
		t.Errorf("count %d, kept %d", a.count, len(a.violations))
	}
}

func TestReadProc(t *testing.T) {
	if _, err := os.Stat("/proc/self/stat"); err != nil {
		t.Skip("no /proc")
	}
	p := readProc(os.Getpid())
	if !p.ok || p.rssBytes == 0 {
		t.Errorf("readProc(self) = %+v", p)
	}
	if readProc(1 << 30).ok {
		t.Error("readProc of no process succeeded")
	}
}

func TestRateAndProgressLine(t *testing.T) {
	h := []ratePoint{{0, 0}}
	for i := 1; i <= 30; i++ {
		h = appendRate(h, ratePoint{time.Duration(i) * 100 * time.Millisecond, uint64(i * 20)})
	}
	if r := rateOf(h); r < 199 || r > 201 {
		t.Errorf("rate %v, want 200", r)
	}
	if h[len(h)-1].at-h[0].at > rateWindow+100*time.Millisecond {
		t.Errorf("history spans %v", h[len(h)-1].at-h[0].at)
	}
	p := TestnetProgress{Phase: PhaseRunning, Elapsed: 5 * time.Second, Duration: 20 * time.Second, Rate: 312,
		View: 1, Up: 3, N: 4, Faults: []string{"crash-recover n3"}, Agreement: "agreement ok (9 seqs compared)"}
	want := "[  5s/20s]   312 req/s | view 1 | faults: crash-recover n3 | agreement ok (9 seqs compared) | up 3/4 | ops 0, errors 0"
	if got := p.Line(); got != want {
		t.Errorf("line\n got %q\nwant %q", got, want)
	}
}
