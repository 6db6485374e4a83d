package bench

import (
	"bufio"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net"
	"net/http"
	"strconv"
	"strings"
	"time"

	"github.com/bftbed/bftbed/testnet"
	"github.com/bftbed/bftbed/testnet/daemon"
)

// commitsLimit is the page size asked of /commits: small answers, and a
// monitor that fell behind reads several pages.
const commitsLimit = 1024

// monitorClient makes the monitor's HTTP requests. It keeps connections
// alive (a new TCP connection per request would cost the nodes, which
// share the machine, more than the requests) and asks for no compression:
// on loopback gzip only burns the nodes' CPU.
type monitorClient struct {
	c       *http.Client
	timeout time.Duration
}

func newMonitorClient(nodes int, timeout time.Duration) *monitorClient {
	tr := &http.Transport{
		DialContext:         (&net.Dialer{Timeout: timeout}).DialContext,
		MaxIdleConns:        4 * nodes,
		MaxIdleConnsPerHost: 4,
		IdleConnTimeout:     time.Minute,
		DisableCompression:  true,
	}
	return &monitorClient{c: &http.Client{Transport: tr}, timeout: timeout}
}

// close drops the idle connections.
func (mc *monitorClient) close() { mc.c.CloseIdleConnections() }

// get GETs url and hands the body to read, bounded by the client's timeout.
func (mc *monitorClient) get(ctx context.Context, url string, read func(io.Reader) error) error {
	ctx, cancel := context.WithTimeout(ctx, mc.timeout)
	defer cancel()
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, url, nil)
	if err != nil {
		return err
	}
	resp, err := mc.c.Do(req)
	if err != nil {
		return err
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		_, _ = io.Copy(io.Discard, io.LimitReader(resp.Body, 64<<10))
		return fmt.Errorf("%s: %s", url, resp.Status)
	}
	err = read(io.LimitReader(resp.Body, 16<<20))
	// Drain what read left, so the connection can be reused.
	_, _ = io.Copy(io.Discard, io.LimitReader(resp.Body, 64<<10))
	return err
}

// status GETs a node's /status.
func (mc *monitorClient) status(ctx context.Context, nd *testnet.NodeEntry) (*testnet.NodeStatus, error) {
	st := &testnet.NodeStatus{}
	err := mc.get(ctx, nd.StatusURL(), func(r io.Reader) error { return json.NewDecoder(r).Decode(st) })
	if err != nil {
		return nil, err
	}
	return st, nil
}

// commits GETs the batches a node executed after seq, up to commitsLimit.
func (mc *monitorClient) commits(ctx context.Context, nd *testnet.NodeEntry, after uint64) ([]daemon.Commit, error) {
	url := fmt.Sprintf("http://%s/commits?after=%d&limit=%d", nd.HTTP, after, commitsLimit)
	var out []daemon.Commit
	err := mc.get(ctx, url, func(r io.Reader) error { return json.NewDecoder(r).Decode(&out) })
	return out, err
}

// trafficCounters are a node's p2p counters from /metrics: totals over
// every peer label (replicas, clients, gossip), and the frames received
// from each replica, which serve as heartbeats.
type trafficCounters struct {
	framesIn, framesOut, bytesIn, bytesOut uint64
	peerFramesIn                           map[int]uint64
}

// traffic GETs a node's /metrics and reads its p2p counters.
func (mc *monitorClient) traffic(ctx context.Context, nd *testnet.NodeEntry) (*trafficCounters, error) {
	var t *trafficCounters
	err := mc.get(ctx, nd.MetricsURL(), func(r io.Reader) error {
		var err error
		t, err = parseTraffic(r)
		return err
	})
	return t, err
}

// The metric families parseTraffic reads (see testnet/daemon/metrics.go).
const (
	metricFramesIn  = "bftbed_p2p_frames_in_total"
	metricFramesOut = "bftbed_p2p_frames_out_total"
	metricBytesIn   = "bftbed_p2p_bytes_in_total"
	metricBytesOut  = "bftbed_p2p_bytes_out_total"
)

// parseTraffic reads the p2p counters from Prometheus's text format. It
// looks only at lines starting with "bftbed_p2p_", so the Go runtime's
// metrics cost a prefix comparison each.
func parseTraffic(r io.Reader) (*trafficCounters, error) {
	t := &trafficCounters{peerFramesIn: map[int]uint64{}}
	sc := bufio.NewScanner(r)
	sc.Buffer(make([]byte, 0, 64<<10), 1<<20)
	for sc.Scan() {
		line := sc.Text()
		if !strings.HasPrefix(line, "bftbed_p2p_") {
			continue
		}
		name, rest, ok := strings.Cut(line, "{")
		if !ok {
			continue
		}
		labels, value, ok := strings.Cut(rest, "} ")
		if !ok {
			continue
		}
		f, err := strconv.ParseFloat(strings.TrimSpace(value), 64)
		if err != nil || f < 0 {
			continue
		}
		v := uint64(f)
		switch name {
		case metricFramesIn:
			t.framesIn += v
			if peer, err := strconv.Atoi(labelValue(labels, "peer")); err == nil {
				t.peerFramesIn[peer] = v
			}
		case metricFramesOut:
			t.framesOut += v
		case metricBytesIn:
			t.bytesIn += v
		case metricBytesOut:
			t.bytesOut += v
		}
	}
	return t, sc.Err()
}

// labelValue returns the value of label name in `a="x",b="y"`, or "".
func labelValue(labels, name string) string {
	for part := range strings.SplitSeq(labels, ",") {
		k, v, ok := strings.Cut(part, "=")
		if ok && k == name {
			return strings.Trim(v, `"`)
		}
	}
	return ""
}
