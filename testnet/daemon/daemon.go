package daemon

import (
	"cmp"
	"context"
	"errors"
	"fmt"
	"github.com/bftbed/bftbed/adversary"
	"log/slog"
	"net"
	"net/http"
	"os"
	"sync"
	"time"

	"github.com/bftbed/bftbed/crypto"
	"github.com/bftbed/bftbed/p2p"
	"github.com/bftbed/bftbed/pbft"
	"github.com/bftbed/bftbed/pbft/kv"
	"github.com/bftbed/bftbed/testnet"
)

// Options adjust how Start runs a node beyond its configuration file. The
// zero value runs the kv application with logs on stderr.
type Options struct {
	// ResetState makes Start recover from a corrupt store instead of
	// refusing it: the damaged data directory is moved aside (to
	// DataDir.corrupt-<UTC time>), the node starts with an empty store and
	// catches up from its peers by state transfer. It is logged loudly.
	// It changes nothing when the store is sound.
	ResetState bool
	// App is the replicated application; nil means a new kv store
	// (pbft/kv). An embedder passes its own. Start hands it to the node,
	// which restores it from the store.
	App pbft.Application
	// Logger receives the daemon's, the node's, the host's and the store's
	// logs; nil means a text handler on stderr at the configuration's
	// log level.
	Logger *slog.Logger
	// OnCommit, if set, is called for each executed batch, in sequence
	// order, after the daemon recorded it. It runs on the replica's core
	// goroutine: it must be quick and must not call Stop.
	OnCommit func(pbft.CommittedBatch)
	// VerifyWorkers is the number of goroutines that check one group of
	// signatures; 0 means the configuration's verify_workers, and if that
	// is 0 too, GOMAXPROCS (pbft.NodeConfig.VerifyWorkers).
	VerifyWorkers int
	// ConfigureHost, if set, adjusts the libp2p host's configuration
	// before it starts (queue sizes, back-off, frame size).
	ConfigureHost func(*p2p.HostConfig)
	// CommitLog is how many executed batches /commits keeps; 0 means
	// DefaultCommitLog.
	CommitLog int
}

// DefaultCommitLog is how many executed batches a daemon keeps for
// /commits: at 5,000 requests/s in batches of 50, about 40 seconds, which
// leaves a monitor polling every second plenty of slack.
const DefaultCommitLog = 4096

// shutdownTimeout bounds how long Stop waits for HTTP requests in progress.
const shutdownTimeout = 5 * time.Second

// Daemon is one running replica: its store, host, node and HTTP server.
// Its methods are safe for concurrent use.
type Daemon struct {
	cfg     *testnet.NodeConfig
	log     *slog.Logger
	domain  crypto.Domain
	f       int
	started time.Time

	store   *loadedStore
	host    *p2p.Host
	node    *pbft.Node
	commits *commitLog
	metrics *metrics
	// adv is the node's transport under the adversary: a pass-through
	// until a scenario's faults are posted to /adversary.
	adv *adversary.Transport
	key crypto.PrivateKey

	httpLn  net.Listener
	httpSrv *http.Server

	// movedAside is where a corrupt data directory went (ResetState).
	movedAside string

	stopOnce sync.Once
	stopped  chan struct{} // closed once Stop finished
	stopErr  error
}

// Run starts the node described by cfg, runs it until ctx ends or the node
// stops on a fatal error, then stops it gracefully. It returns nil after a
// clean stop, the startup error if it could not start, and otherwise the
// error that stopped the node or its shutdown.
func Run(ctx context.Context, cfg *testnet.NodeConfig, opts Options) error {
	d, err := Start(cfg, opts)
	if err != nil {
		return err
	}
	return d.Wait(ctx)
}

// Wait runs the daemon until ctx ends or the node stops on a fatal error,
// then stops it (Stop) and returns Stop's error: nil for a shutdown asked
// for by ctx, the fatal error otherwise.
func (d *Daemon) Wait(ctx context.Context) error {
	select {
	case <-ctx.Done():
		d.log.Info("shutdown requested", "cause", context.Cause(ctx))
	case <-d.node.Done():
	}
	return d.Stop()
}

// Start starts the node described by cfg and returns once it runs, or an
// error naming what prevented it: a configuration mistake, a key file
// others may read, a corrupt store (see Options.ResetState), an address in
// use. Stop it with Stop.
func Start(cfg *testnet.NodeConfig, opts Options) (_ *Daemon, err error) {
	if err := cfg.Validate(); err != nil {
		return nil, fmt.Errorf("node config: %w", err)
	}
	logger := opts.Logger
	if logger == nil {
		if logger, err = NewLogger(os.Stderr, cfg.LogLevel); err != nil {
			return nil, fmt.Errorf("node config: %w", err)
		}
	}
	d := &Daemon{
		cfg:     cfg,
		log:     logger.With("replica", cfg.ID),
		domain:  crypto.NewDomain(cfg.Cluster),
		f:       (len(cfg.Peers) - 1) / 3,
		started: time.Now(),
		commits: newCommitLog(opts.CommitLog),
		stopped: make(chan struct{}),
	}
	defer func() {
		if err != nil {
			d.release()
		}
	}()

	key, err := crypto.ReadKeyFile(cfg.Path(cfg.KeyFile))
	if err != nil {
		return nil, fmt.Errorf("replica %d: %w", cfg.ID, err)
	}
	if pub := cfg.Keys()[cfg.ID]; key.Public() != pub {
		return nil, fmt.Errorf("replica %d: key file %s holds key %s, but the configuration gives replica %d the key %s",
			cfg.ID, cfg.Path(cfg.KeyFile), key.Public(), cfg.ID, pub)
	}
	mode, err := p2p.ParseBroadcastMode(cfg.Broadcast)
	if err != nil {
		return nil, fmt.Errorf("node config: %w", err)
	}
	peers := HostPeers(cfg)

	if d.store, err = d.openStore(opts.ResetState); err != nil {
		return nil, err
	}

	hc := p2p.HostConfig{
		ClusterID:   cfg.Cluster,
		Domain:      d.domain,
		Key:         key,
		Peers:       peers,
		ListenAddrs: cfg.Listen,
		Broadcast:   mode,
		Logger:      d.log,
	}
	if opts.ConfigureHost != nil {
		opts.ConfigureHost(&hc)
	}
	if d.host, err = p2p.NewHost(hc); err != nil {
		return nil, fmt.Errorf("replica %d: %w", cfg.ID, err)
	}

	app := opts.App
	if app == nil {
		app = kv.New()
	}
	d.metrics = newMetrics(d)
	onCommit := func(b pbft.CommittedBatch) {
		d.commits.add(b)
		d.metrics.batchSize.Observe(float64(len(b.Batch)))
		if opts.OnCommit != nil {
			opts.OnCommit(b)
		}
	}
	d.key = key
	d.adv = adversary.NewTransport(d.host.Replica(pbft.ReplicaID(cfg.ID)))
	nc := pbft.NodeConfig{
		Protocol:      cfg.Protocol.PBFT(cfg.ID, len(cfg.Peers)),
		Domain:        d.domain,
		Key:           key,
		Replicas:      cfg.Keys(),
		App:           app,
		Storage:       d.store,
		Transport:     d.adv,
		TimerScale:    d.adv.TimerScale,
		Logger:        logger,
		VerifyWorkers: cmp.Or(opts.VerifyWorkers, cfg.VerifyWorkers),
		OnCommit:      onCommit,
	}
	if d.node, err = pbft.StartNode(nc); err != nil {
		return nil, fmt.Errorf("replica %d: %w", cfg.ID, err)
	}
	if opts.ResetState && d.movedAside == "" {
		d.log.Info("reset-state: the store is sound; nothing was reset", "data_dir", d.dataDir())
	}

	if cfg.HTTP != "" {
		if err := d.serveHTTP(cfg.HTTP); err != nil {
			return nil, err
		}
	}
	st := d.node.Status()
	d.log.Info("node daemon started", "cluster", cfg.Cluster, "n", len(cfg.Peers),
		"p2p", d.host.Addrs(), "http", d.HTTPAddr(), "data_dir", cfg.Path(cfg.DataDir),
		"view", uint64(st.View), "last_executed", uint64(st.LastExecuted), "stable", uint64(st.StableSeq))
	return d, nil
}

// Stop shuts the daemon down: it stops serving HTTP, stops the node, then
// closes the store and the host (see release). It returns the error that had stopped the
// node, if one did, joined with any shutdown error; nil for a clean stop.
// Stop may be called more than once, from any goroutine.
func (d *Daemon) Stop() error {
	d.stopOnce.Do(func() {
		d.log.Info("node daemon stopping")
		if d.httpSrv != nil {
			ctx, cancel := context.WithTimeout(context.Background(), shutdownTimeout)
			if err := d.httpSrv.Shutdown(ctx); err != nil {
				d.log.Warn("http shutdown", "err", err)
			}
			cancel()
		}
		var st pbft.Status
		if d.node != nil {
			st = d.node.Status()
		}
		d.stopErr = d.release()
		if d.stopErr != nil {
			d.log.Error("node daemon stopped", "err", d.stopErr, "last_executed", uint64(st.LastExecuted))
		} else {
			d.log.Info("node daemon stopped", "last_executed", uint64(st.LastExecuted), "stable", uint64(st.StableSeq))
		}
		close(d.stopped)
	})
	<-d.stopped
	return d.stopErr
}

// release stops and closes what Start opened: first the node, which uses
// the host and the store; then the store, since nothing writes to it any
// more and it is what a restart depends on (every Save is already synced,
// so this only releases Pebble's lock and files); then the host, whose
// Close waits for its network goroutines and can take longest. It is also
// how a failed Start cleans up.
func (d *Daemon) release() error {
	var errs []error
	if d.node != nil {
		errs = append(errs, d.node.Stop())
	}
	if d.store != nil {
		errs = append(errs, d.store.Close())
	}
	if d.host != nil {
		errs = append(errs, d.host.Close())
	}
	return errors.Join(errs...)
}
