package daemon_test

import (
	"bytes"
	"errors"
	"fmt"
	"net/http"
	"os"
	"strings"
	"testing"

	"github.com/cockroachdb/pebble/v2"
	"github.com/prometheus/client_golang/prometheus/testutil/promlint"
	dto "github.com/prometheus/client_model/go"
	"github.com/prometheus/common/expfmt"
	"github.com/prometheus/common/model"

	"github.com/bftbed/bftbed/pbft"
	"github.com/bftbed/bftbed/store"
	"github.com/bftbed/bftbed/testnet/daemon"
)

// TestDaemonCluster runs a 4-replica testnet of daemons on loopback and
// goes through a node's life: requests, the HTTP endpoints, a graceful
// restart from disk, a corrupt store refused and then reset, and garbage on
// the libp2p endpoint. The steps share one testnet, in order, because
// starting one costs more than each step.
func TestDaemonCluster(t *testing.T) {
	c := newTestNet(t, 4, testProtocol())
	c.startAll()
	clients := []*pbft.Client{c.client(0), c.client(1), c.client(2), c.client(3)}
	for i := range c.ds {
		eventually(t, fmt.Sprintf("replica %d healthy", i), func() bool { return c.ds[i].Status().Healthy })
	}
	c.load(clients, 20, "first")
	c.converged(1)

	t.Run("metrics", func(t *testing.T) { checkMetrics(t, c.ds[0]) })
	t.Run("status", func(t *testing.T) { checkStatus(t, c) })
	t.Run("commits", func(t *testing.T) { checkCommits(t, c) })
	t.Run("restart", func(t *testing.T) { checkRestart(t, c, clients) })
	t.Run("corrupt store", func(t *testing.T) { checkCorruption(t, c, clients) })
	t.Run("garbage", func(t *testing.T) { checkGarbage(t, c, clients) })
	t.Run("primary down", func(t *testing.T) { checkViewChange(t, c, clients) })
}

// checkViewChange stops the primary: the others change views, say so in
// their metrics and status, and keep committing; the old primary then
// rejoins.
func checkViewChange(t *testing.T, c *testNet, clients []*pbft.Client) {
	st := c.converged(1)
	primary := st.Primary
	c.stop(primary)
	c.load(clients, 3, "primary-down")
	backup := (primary + 1) % len(c.ds)
	after := c.ds[backup].Status()
	if after.View <= st.View || after.Primary == primary {
		t.Fatalf("status after the primary stopped: %+v (before %+v)", after, st)
	}
	fams := scrape(t, c.ds[backup])
	if v := value(fams, "bftbed_view_changes_total"); v < 1 {
		t.Errorf("bftbed_view_changes_total = %v", v)
	}
	if v := value(fams, "bftbed_view"); v != float64(after.View) {
		t.Errorf("bftbed_view = %v, status says %d", v, after.View)
	}
	if v := value(fams, "bftbed_messages_in_total", "type", "VIEW-CHANGE"); v < 1 {
		t.Errorf("no VIEW-CHANGE counted in: %v", v)
	}
	c.mustStart(primary, daemon.Options{})
	c.converged(after.LastExecuted)
}

// wantFamilies are the metric families the brief of the daemon promises.
var wantFamilies = []string{
	"bftbed_view", "bftbed_view_changing", "bftbed_last_executed_seq",
	"bftbed_committed_requests_total", "bftbed_batch_size_requests", "bftbed_view_changes_total",
	"bftbed_stable_checkpoint_seq", "bftbed_messages_in_total", "bftbed_messages_out_total",
	"bftbed_signature_failures_total", "bftbed_malformed_frames_total",
	"bftbed_verify_queue_depth", "bftbed_core_queue_depth", "bftbed_p2p_queue_depth",
	"bftbed_peers_connected", "bftbed_peer_up", "bftbed_p2p_dropped_total",
	"bftbed_p2p_garbage_frames_total", "bftbed_storage_saves_total", "bftbed_storage_bytes_total",
	"bftbed_storage_disk_usage_bytes", "go_goroutines", "process_cpu_seconds_total",
}

// scrape fetches and parses a daemon's /metrics.
func scrape(t *testing.T, d *daemon.Daemon) map[string]*dto.MetricFamily {
	t.Helper()
	code, body := get(t, d.HTTPAddr(), "/metrics")
	if code != http.StatusOK {
		t.Fatalf("/metrics: %d %s", code, body)
	}
	p := expfmt.NewTextParser(model.UTF8Validation)
	fams, err := p.TextToMetricFamilies(bytes.NewReader(body))
	if err != nil {
		t.Fatalf("/metrics does not parse: %v", err)
	}
	problems, err := promlint.New(bytes.NewReader(body)).Lint()
	if err != nil {
		t.Fatal(err)
	}
	for _, p := range problems {
		if strings.HasPrefix(p.Metric, "bftbed_") {
			t.Errorf("promlint: %s: %s", p.Metric, p.Text)
		}
	}
	return fams
}

// value returns the value of the metric of fam whose labels include want
// (name=value pairs), summed over the matching series.
func value(fams map[string]*dto.MetricFamily, fam string, want ...string) float64 {
	f := fams[fam]
	if f == nil {
		return -1
	}
	sum := 0.0
	for _, m := range f.Metric {
		if !hasLabels(m, want...) {
			continue
		}
		switch {
		case m.Counter != nil:
			sum += m.Counter.GetValue()
		case m.Gauge != nil:
			sum += m.Gauge.GetValue()
		case m.Histogram != nil:
			sum += float64(m.Histogram.GetSampleCount())
		}
	}
	return sum
}

func hasLabels(m *dto.Metric, want ...string) bool {
	for i := 0; i+1 < len(want); i += 2 {
		found := false
		for _, l := range m.Label {
			if l.GetName() == want[i] && l.GetValue() == want[i+1] {
				found = true
			}
		}
		if !found {
			return false
		}
	}
	return true
}

func checkMetrics(t *testing.T, d *daemon.Daemon) {
	fams := scrape(t, d)
	for _, name := range wantFamilies {
		if fams[name] == nil {
			t.Errorf("metric family %s missing", name)
		}
	}
	for _, m := range []struct {
		fam    string
		labels []string
	}{
		{"bftbed_committed_requests_total", nil},
		{"bftbed_last_executed_seq", nil},
		{"bftbed_batch_size_requests", nil},
		{"bftbed_messages_in_total", []string{"type", "PREPARE"}},
		{"bftbed_messages_in_total", []string{"type", "COMMIT"}},
		{"bftbed_messages_in_total", []string{"type", "REQUEST"}},
		{"bftbed_messages_out_total", []string{"type", "REPLY"}},
		{"bftbed_messages_out_total", []string{"type", "COMMIT"}},
		{"bftbed_storage_saves_total", nil},
		{"bftbed_storage_bytes_total", nil},
		{"bftbed_storage_disk_usage_bytes", nil},
		{"bftbed_p2p_frames_in_total", []string{"peer", "clients"}},
	} {
		if v := value(fams, m.fam, m.labels...); v <= 0 {
			t.Errorf("%s%v = %v, want > 0", m.fam, m.labels, v)
		}
	}
	if v := value(fams, "bftbed_peers_connected"); v != 3 {
		t.Errorf("bftbed_peers_connected = %v, want 3", v)
	}
	for _, p := range []string{"1", "2", "3"} {
		if v := value(fams, "bftbed_peer_up", "peer", p); v != 1 {
			t.Errorf("bftbed_peer_up{peer=%s} = %v, want 1", p, v)
		}
	}
	if v := value(fams, "bftbed_signature_failures_total"); v != 0 {
		t.Errorf("signature failures %v in a clean run", v)
	}
	// The per-type counters add up to the totals (the cluster is idle).
	st := d.Node().Stats()
	var in, out uint64
	for t := range st.In {
		in += st.In[t]
		out += st.Out[t]
	}
	if in != st.Frames-st.Malformed || out != st.Sent || st.CommittedRequests == 0 || st.CommittedBatches == 0 {
		t.Errorf("stats %+v: in %d, out %d", st, in, out)
	}
}

func checkStatus(t *testing.T, c *testNet) {
	for i, d := range c.ds {
		var st daemon.Status
		getJSON(t, d.HTTPAddr(), "/status", &st)
		if st.ID != i || st.Cluster != testCluster || !st.Healthy || st.LastExecuted == 0 ||
			st.CommittedRequests == 0 || st.Uptime <= 0 || len(st.StableState) != 64 || st.ViewChanging {
			t.Errorf("replica %d: /status %+v", i, st)
		}
		if len(st.Peers) != 3 {
			t.Errorf("replica %d: peers %+v", i, st.Peers)
		}
		for _, p := range st.Peers {
			if p.ID == i || !p.Connected {
				t.Errorf("replica %d: peer %+v", i, p)
			}
		}
		if code, body := get(t, d.HTTPAddr(), "/healthz"); code != http.StatusOK || string(body) != "ok\n" {
			t.Errorf("replica %d: /healthz %d %q", i, code, body)
		}
	}
}

// checkCommits reads /commits from every replica and checks they agree
// batch by batch.
func checkCommits(t *testing.T, c *testNet) {
	st := c.converged(1)
	byReplica := make([][]daemon.Commit, len(c.ds))
	for i, d := range c.ds {
		getJSON(t, d.HTTPAddr(), "/commits?after=0", &byReplica[i])
		cs := byReplica[i]
		if len(cs) == 0 || cs[len(cs)-1].Seq != st.LastExecuted {
			t.Fatalf("replica %d: %d commits, last %+v; want up to %d", i, len(cs), cs[len(cs)-1:], st.LastExecuted)
		}
		for j := 1; j < len(cs); j++ {
			if cs[j].Seq != cs[j-1].Seq+1 {
				t.Fatalf("replica %d: commits jump from %d to %d", i, cs[j-1].Seq, cs[j].Seq)
			}
		}
	}
	for i := 1; i < len(byReplica); i++ {
		if fmt.Sprint(byReplica[i]) != fmt.Sprint(byReplica[0]) {
			t.Fatalf("replicas 0 and %d executed different batches:\n%v\n%v", i, byReplica[0], byReplica[i])
		}
	}
	var tail []daemon.Commit
	after := st.LastExecuted - 2
	getJSON(t, c.ds[1].HTTPAddr(), fmt.Sprintf("/commits?after=%d&limit=1", after), &tail)
	if len(tail) != 1 || tail[0].Seq != after+1 {
		t.Errorf("after=%d&limit=1: %+v", after, tail)
	}
	if code, _ := get(t, c.ds[1].HTTPAddr(), "/commits?after=x"); code != http.StatusBadRequest {
		t.Errorf("after=x: status %d, want 400", code)
	}
}

// checkRestart stops replica 3 gracefully, runs past several checkpoints
// without it, restarts it from its data directory and waits for it to
// catch up.
func checkRestart(t *testing.T, c *testNet, clients []*pbft.Client) {
	before := c.ds[3].Status().LastExecuted
	c.stop(3)
	// The others still reach 2f = 2 replicas: healthy.
	eventually(t, "replica 0 to see replica 3 gone", func() bool {
		return !c.ds[0].Status().Peers[2].Connected
	})
	if code, body := get(t, c.ds[0].HTTPAddr(), "/healthz"); code != http.StatusOK {
		t.Errorf("replica 0 with one peer down: /healthz %d %s", code, body)
	}
	c.load(clients[:2], 30, "while-down")
	ahead := c.converged(before + 16).LastExecuted

	d := c.mustStart(3, daemon.Options{})
	if st := d.Status(); st.LastExecuted < before {
		t.Errorf("restarted replica 3 at %d, it had executed %d before", st.LastExecuted, before)
	}
	st := c.converged(ahead)
	t.Logf("replica 3: executed %d before the stop, the others reached %d, caught up to %d", before, ahead, st.LastExecuted)
	c.load(clients, 3, "after-restart")
	c.converged(st.LastExecuted + 1)
}

// checkCorruption damages a record of a stopped replica's store: the
// daemon refuses to start, naming the record, until it is started with
// ResetState, which moves the store aside and catches up.
func checkCorruption(t *testing.T, c *testNet, clients []*pbft.Client) {
	const victim = 2
	c.stop(victim)
	dir := c.cfgs[victim].Path(c.cfgs[victim].DataDir)
	key := corruptRecord(t, dir)

	_, err := c.start(victim, daemon.Options{})
	var ce *store.CorruptionError
	var dce *daemon.CorruptStoreError
	if !errors.As(err, &dce) || !errors.As(err, &ce) || !bytes.Equal(ce.Key, key) {
		t.Fatalf("start on a corrupt store: %v; want a CorruptStoreError naming key %x", err, key)
	}
	for _, want := range []string{fmt.Sprintf("%x", key), "--reset-state", dir} {
		if !strings.Contains(err.Error(), want) {
			t.Errorf("error %q does not say %q", err, want)
		}
	}
	t.Log(err)
	if _, err := os.Stat(dir); err != nil {
		t.Fatalf("refusing to start touched the data directory: %v", err)
	}

	c.load(clients[:2], 20, "while-corrupt")
	ahead := c.converged(1).LastExecuted
	d := c.mustStart(victim, daemon.Options{ResetState: true})
	moved := d.MovedAside()
	if !strings.HasPrefix(moved, dir+".corrupt-") {
		t.Fatalf("moved aside to %q", moved)
	}
	if _, err := os.Stat(moved); err != nil {
		t.Fatalf("the corrupt store is gone: %v", err)
	}
	if log := c.logs[victim].String(); !strings.Contains(log, "level=WARN") || !strings.Contains(log, "STATE RESET") {
		t.Errorf("no loud warning in the log:\n%s", log)
	}
	st := c.converged(ahead)
	if st.StableSeq == 0 {
		t.Errorf("status %+v", st)
	}
	fams := scrape(t, c.ds[victim])
	if v := value(fams, "bftbed_messages_in_total", "type", "STATE"); v <= 0 {
		t.Errorf("the reset replica caught up without a STATE message (%v)", v)
	}
	c.load(clients, 3, "after-reset")
	c.converged(st.LastExecuted + 1)
}

// corruptRecord flips a byte in the value of a record the store reads on
// recovery (a log message, an executed batch or the stable snapshot),
// directly with Pebble, and returns its key.
func corruptRecord(t *testing.T, dir string) []byte {
	t.Helper()
	db, err := pebble.Open(dir, &pebble.Options{Logger: quietPebble{}})
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	var key, val []byte
	for _, kind := range []byte{'l', 'x', 's'} {
		it, err := db.NewIter(&pebble.IterOptions{LowerBound: []byte{kind}, UpperBound: []byte{kind + 1}})
		if err != nil {
			t.Fatal(err)
		}
		// The first of each kind is above the stable checkpoint (or, for
		// snapshots, its own): Load reads it.
		if it.First() {
			key, val = append([]byte(nil), it.Key()...), append([]byte(nil), it.Value()...)
		}
		it.Close()
		if key != nil {
			break
		}
	}
	if key == nil {
		t.Fatal("no record to corrupt")
	}
	val[len(val)-1] ^= 0x20
	if err := db.Set(key, val, pebble.Sync); err != nil {
		t.Fatal(err)
	}
	return key
}
