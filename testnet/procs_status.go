package testnet

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"strconv"
	"sync"
	"time"
)

// NodeStatus is a node's /status document, as the node daemon serves it.
type NodeStatus struct {
	ID           int    `json:"id"`
	Cluster      string `json:"cluster"`
	View         uint64 `json:"view"`
	ViewChanging bool   `json:"view_changing"`
	Primary      int    `json:"primary"`
	LastExecuted uint64 `json:"last_executed"`
	StableSeq    uint64 `json:"stable_seq"`
	// StableState is the digest of the stable checkpoint's state.
	StableState string       `json:"stable_state"`
	Peers       []PeerStatus `json:"peers"`
	Healthy     bool         `json:"healthy"`
	Uptime      Uptime       `json:"uptime"`
	// CommittedRequests counts the client requests the node executed.
	CommittedRequests uint64 `json:"committed_requests"`
}

// PeerStatus is one peer in NodeStatus.Peers.
type PeerStatus struct {
	ID        int  `json:"id"`
	Connected bool `json:"connected"`
}

// ConnectedPeers counts the peers the node is connected to.
func (s *NodeStatus) ConnectedPeers() int {
	n := 0
	for _, p := range s.Peers {
		if p.Connected {
			n++
		}
	}
	return n
}

// Uptime is a node's uptime. It decodes from a Go duration string
// ("1m30s") or a number of seconds, so that tools keep working whichever
// form the daemon settles on.
type Uptime time.Duration

// MarshalJSON writes the uptime as a number of seconds.
func (u Uptime) MarshalJSON() ([]byte, error) {
	return strconv.AppendFloat(nil, time.Duration(u).Seconds(), 'f', -1, 64), nil
}

// UnmarshalJSON implements json.Unmarshaler.
func (u *Uptime) UnmarshalJSON(b []byte) error {
	var s string
	if err := json.Unmarshal(b, &s); err == nil {
		d, err := time.ParseDuration(s)
		if err != nil {
			return fmt.Errorf("uptime %q: %w", s, err)
		}
		*u = Uptime(d)
		return nil
	}
	secs, err := strconv.ParseFloat(string(b), 64)
	if err != nil {
		return fmt.Errorf("uptime %s: want a duration string or seconds", b)
	}
	*u = Uptime(secs * float64(time.Second))
	return nil
}

// httpClient is used for every status and health request. Requests are
// also bounded by their contexts.
var httpClient = &http.Client{Timeout: 2 * time.Second}

// FetchStatus GETs node nd's /status.
func FetchStatus(ctx context.Context, nd *NodeEntry) (*NodeStatus, error) {
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, nd.StatusURL(), nil)
	if err != nil {
		return nil, err
	}
	resp, err := httpClient.Do(req)
	if err != nil {
		return nil, err
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(io.LimitReader(resp.Body, 1<<20))
	if err != nil {
		return nil, err
	}
	if resp.StatusCode != http.StatusOK {
		return nil, fmt.Errorf("%s: %s", nd.StatusURL(), resp.Status)
	}
	st := &NodeStatus{}
	if err := json.Unmarshal(body, st); err != nil {
		return nil, fmt.Errorf("%s: %w", nd.StatusURL(), err)
	}
	return st, nil
}

// CheckHealth GETs node nd's /healthz: nil when it answers 200.
func CheckHealth(ctx context.Context, nd *NodeEntry) error {
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, nd.HealthURL(), nil)
	if err != nil {
		return err
	}
	resp, err := httpClient.Do(req)
	if err != nil {
		return err
	}
	_, _ = io.Copy(io.Discard, io.LimitReader(resp.Body, 64<<10))
	resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		return fmt.Errorf("healthz: %s", resp.Status)
	}
	return nil
}

// NodeReport is what is known of one node: its process and its status.
type NodeReport struct {
	ID      int
	PID     int  // from the pid file, 0 if none
	Running bool // the pid is this node's live process
	// Status is the node's /status, nil if it could not be fetched
	// (StatusErr says why).
	Status    *NodeStatus
	StatusErr error
}

// Report fetches every node's status concurrently, each bounded by ctx.
func (d *Description) Report(ctx context.Context) []NodeReport {
	out := make([]NodeReport, len(d.Nodes))
	var wg sync.WaitGroup
	for i := range d.Nodes {
		wg.Go(func() {
			r := NodeReport{ID: i}
			r.PID, r.Running = d.Running(i)
			r.Status, r.StatusErr = FetchStatus(ctx, &d.Nodes[i])
			out[i] = r
		})
	}
	wg.Wait()
	return out
}
