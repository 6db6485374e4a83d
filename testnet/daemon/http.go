package daemon

import (
	"encoding/json"
	"fmt"
	"net"
	"net/http"
	"net/http/pprof"
	"strconv"
	"time"

	"github.com/prometheus/client_golang/prometheus/promhttp"

	"github.com/bftbed/bftbed/testnet"
)

// Status is the JSON document of /status: the type the testnet tools
// decode, so the two sides cannot drift apart.
type Status = testnet.NodeStatus

// PeerStatus is one other replica in Status.
type PeerStatus = testnet.PeerStatus

// maxCommits caps one /commits answer; a monitor that is further behind
// asks again from the last seq it got.
const maxCommits = DefaultCommitLog

// httpTimeouts bound a slow or stalled HTTP client: the endpoints answer
// at once, so nothing legitimate needs longer.
const (
	httpReadTimeout  = 10 * time.Second
	httpWriteTimeout = 30 * time.Second
	httpIdleTimeout  = 2 * time.Minute
)

// serveHTTP listens on addr and serves the endpoints. Listening happens
// here, synchronously, so an address in use fails Start.
func (d *Daemon) serveHTTP(addr string) error {
	ln, err := net.Listen("tcp", addr)
	if err != nil {
		return fmt.Errorf("replica %d: http: %w", d.cfg.ID, err)
	}
	d.httpLn = ln
	d.httpSrv = &http.Server{
		Handler:           d.Handler(),
		ReadHeaderTimeout: httpReadTimeout,
		ReadTimeout:       httpReadTimeout,
		WriteTimeout:      httpWriteTimeout,
		IdleTimeout:       httpIdleTimeout,
	}
	go func() {
		if err := d.httpSrv.Serve(ln); err != nil && err != http.ErrServerClosed {
			d.log.Error("http server stopped", "err", err)
		}
	}()
	return nil
}

// Handler returns the daemon's HTTP endpoints (/metrics, /status,
// /commits, /healthz, /adversary and Go's /debug/pprof profiles), for an
// embedder that serves them on its own server.
func (d *Daemon) Handler() http.Handler {
	mux := http.NewServeMux()
	mux.Handle("GET /metrics", promhttp.HandlerFor(d.metrics.reg, promhttp.HandlerOpts{
		ErrorLog: slogPrinter{d}, ErrorHandling: promhttp.ContinueOnError,
	}))
	mux.HandleFunc("GET /status", func(w http.ResponseWriter, _ *http.Request) {
		writeJSON(w, d.Status())
	})
	mux.HandleFunc("GET /commits", d.serveCommits)
	mux.HandleFunc("POST /adversary", d.serveAdversary)
	mux.HandleFunc("DELETE /adversary", d.serveAdversary)
	// Profiles of a live node: where a benchmark's CPU goes, per process.
	mux.HandleFunc("GET /debug/pprof/", pprof.Index)
	mux.HandleFunc("GET /debug/pprof/profile", pprof.Profile)
	mux.HandleFunc("GET /debug/pprof/trace", pprof.Trace)
	mux.HandleFunc("GET /debug/pprof/symbol", pprof.Symbol)
	mux.HandleFunc("GET /debug/pprof/cmdline", pprof.Cmdline)
	mux.HandleFunc("GET /healthz", func(w http.ResponseWriter, _ *http.Request) {
		w.Header().Set("Content-Type", "text/plain; charset=utf-8")
		if ok, why := d.health(); !ok {
			w.WriteHeader(http.StatusServiceUnavailable)
			fmt.Fprintln(w, why)
			return
		}
		fmt.Fprintln(w, "ok")
	})
	return mux
}

// serveCommits answers /commits?after=SEQ[&limit=N].
func (d *Daemon) serveCommits(w http.ResponseWriter, r *http.Request) {
	q := r.URL.Query()
	var after uint64
	if s := q.Get("after"); s != "" {
		v, err := strconv.ParseUint(s, 10, 64)
		if err != nil {
			http.Error(w, "after: want a sequence number", http.StatusBadRequest)
			return
		}
		after = v
	}
	limit := maxCommits
	if s := q.Get("limit"); s != "" {
		v, err := strconv.Atoi(s)
		if err != nil || v <= 0 {
			http.Error(w, "limit: want a positive number", http.StatusBadRequest)
			return
		}
		limit = min(v, maxCommits)
	}
	writeJSON(w, d.Commits(after, limit))
}

func writeJSON(w http.ResponseWriter, v any) {
	w.Header().Set("Content-Type", "application/json")
	_ = json.NewEncoder(w).Encode(v) // the client went away: nothing to do
}

// Status returns what /status reports.
func (d *Daemon) Status() Status {
	st := d.node.Status()
	ok, _ := d.health()
	s := Status{
		ID:                d.cfg.ID,
		Cluster:           d.cfg.Cluster,
		View:              uint64(st.View),
		ViewChanging:      st.ViewChanging,
		Primary:           int(st.Primary),
		LastExecuted:      uint64(st.LastExecuted),
		StableSeq:         uint64(st.StableSeq),
		StableState:       st.StableState.Hex(),
		Healthy:           ok,
		Uptime:            testnet.Uptime(d.uptime()),
		CommittedRequests: d.node.Stats().CommittedRequests,
		Peers:             []PeerStatus{},
	}
	if !d.isStopped() {
		for _, p := range d.host.Stats().Replicas {
			s.Peers = append(s.Peers, PeerStatus{ID: int(p.Replica), Connected: p.Connected})
		}
	}
	return s
}

// Commits returns, in sequence order, up to limit of the last executed
// batches whose seq is above after (all that are kept if limit <= 0).
func (d *Daemon) Commits(after uint64, limit int) []Commit {
	return d.commits.after(after, limit)
}

// health reports whether the node runs and reaches at least 2f other
// replicas (so that, with itself, it can form quorums of 2f+1), and why
// not.
func (d *Daemon) health() (bool, string) {
	select {
	case <-d.node.Done():
		if err := d.node.Err(); err != nil {
			return false, "node stopped: " + err.Error()
		}
		return false, "node stopped"
	default:
	}
	if d.isStopped() {
		return false, "node stopped"
	}
	connected := 0
	for _, p := range d.host.Stats().Replicas {
		if p.Connected {
			connected++
		}
	}
	if connected < 2*d.f {
		return false, fmt.Sprintf("connected to %d other replicas, need %d (2f)", connected, 2*d.f)
	}
	return true, ""
}

func (d *Daemon) uptime() time.Duration { return time.Since(d.started) }

// isStopped reports whether Stop has finished (the host is closed).
func (d *Daemon) isStopped() bool {
	select {
	case <-d.stopped:
		return true
	default:
		return false
	}
}

// slogPrinter logs promhttp's errors.
type slogPrinter struct{ d *Daemon }

func (p slogPrinter) Println(v ...any) { p.d.log.Warn("metrics: " + fmt.Sprint(v...)) }
