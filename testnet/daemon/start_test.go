package daemon_test

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"net"
	"net/http"
	"os"
	"strings"
	"testing"

	"github.com/cockroachdb/pebble/v2"

	"github.com/bftbed/bftbed/crypto"
	"github.com/bftbed/bftbed/pbft"
	"github.com/bftbed/bftbed/store"
	"github.com/bftbed/bftbed/testnet"
	"github.com/bftbed/bftbed/testnet/daemon"
)

// TestStartErrors: each mistake that keeps a node from starting is an
// error saying what is wrong, and a failed start releases what it opened.
func TestStartErrors(t *testing.T) {
	c := newTestNet(t, 4, testProtocol())
	base := c.cfgs[0]
	keyFile := base.Path(base.KeyFile)

	if err := os.Chmod(keyFile, 0o644); err != nil {
		t.Fatal(err)
	}
	_, err := c.start(0, daemon.Options{})
	if !errors.Is(err, crypto.ErrKeyFilePermissions) || !strings.Contains(err.Error(), keyFile) {
		t.Errorf("world-readable key file: %v", err)
	}
	if err := os.Chmod(keyFile, 0o600); err != nil {
		t.Fatal(err)
	}

	busy, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer busy.Close()

	cases := []struct {
		name string
		edit func(cfg *testnet.NodeConfig)
		want string
	}{
		{"another replica's key", func(cfg *testnet.NodeConfig) { cfg.KeyFile = "node1.key" }, "holds key"},
		{"missing key file", func(cfg *testnet.NodeConfig) { cfg.KeyFile = "nowhere.key" }, "no such file"},
		{"bad log level", func(cfg *testnet.NodeConfig) { cfg.LogLevel = "loud" }, "log_level"},
		{"bad broadcast", func(cfg *testnet.NodeConfig) { cfg.Broadcast = "pigeon" }, "broadcast"},
		{"http address in use", func(cfg *testnet.NodeConfig) { cfg.HTTP = busy.Addr().String() }, "address already in use"},
		{"bad listen address", func(cfg *testnet.NodeConfig) { cfg.Listen = []string{"/ip4/127.0.0.1/udp/x"} }, "udp"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			cfg := *base
			tc.edit(&cfg)
			opts := daemon.Options{}
			if tc.name != "bad log level" {
				opts.Logger = quietLog
			}
			d, err := daemon.Start(&cfg, opts)
			if err == nil {
				d.Stop()
				t.Fatal("Start succeeded")
			}
			if !strings.Contains(err.Error(), tc.want) {
				t.Errorf("error %q does not say %q", err, tc.want)
			}
			t.Log(err)
		})
	}
	// The failed starts released the store (Pebble's lock) and the ports.
	c.mustStart(0, daemon.Options{})
}

// TestLoneNode runs one replica of four, alone: it is not healthy, says
// why, serves its endpoints, and Run stops it cleanly when its context
// ends; it then starts again from its data directory.
func TestLoneNode(t *testing.T) {
	c := newTestNet(t, 4, testProtocol())
	c.cfgs[0].HTTP = fmt.Sprintf("127.0.0.1:%d", freePorts(t, 1)[0])
	ctx, cancel := context.WithCancel(context.Background())
	logs := &logBuffer{}
	opts := daemon.Options{Logger: newTestLogger(logs), ConfigureHost: c.hostTweak}
	done := make(chan error, 1)
	go func() { done <- daemon.Run(ctx, c.cfgs[0], opts) }()

	addr := c.cfgs[0].HTTP
	eventually(t, "http up", func() bool {
		resp, err := http.Get("http://" + addr + "/healthz")
		if err == nil {
			resp.Body.Close()
		}
		return err == nil
	})
	code, body := get(t, addr, "/healthz")
	if code != http.StatusServiceUnavailable || !strings.Contains(string(body), "connected to 0 other replicas, need 2") {
		t.Errorf("/healthz alone: %d %q", code, body)
	}
	var st daemon.Status
	getJSON(t, addr, "/status", &st)
	if st.Healthy || len(st.Peers) != 3 || st.Peers[0].Connected || st.LastExecuted != 0 {
		t.Errorf("/status alone: %+v", st)
	}
	var commits []daemon.Commit
	getJSON(t, addr, "/commits", &commits)
	if len(commits) != 0 {
		t.Errorf("/commits: %+v", commits)
	}

	cancel()
	if err := <-done; err != nil {
		t.Fatalf("Run: %v", err)
	}
	for _, want := range []string{"node daemon started", "shutdown requested", "node daemon stopped"} {
		if !strings.Contains(logs.String(), want) {
			t.Errorf("log lacks %q:\n%s", want, logs)
		}
	}
	if _, err := http.Get("http://" + addr + "/healthz"); err == nil {
		t.Error("HTTP still served after Run returned")
	}
	c.mustStart(0, daemon.Options{})
}

// TestCorruptMetaRecord: a damaged record that store.Open itself checks
// (the view status) is refused like one found by Load, and ResetState
// moves the store aside.
func TestCorruptMetaRecord(t *testing.T) {
	c := newTestNet(t, 4, testProtocol())
	dir := c.cfgs[0].Path(c.cfgs[0].DataDir)
	st, err := store.Open(dir, store.Options{Logger: quietLog})
	if err != nil {
		t.Fatal(err)
	}
	if err := st.Save(&pbft.Persist{View: &pbft.ViewStatus{View: 3}}); err != nil {
		t.Fatal(err)
	}
	if err := st.Close(); err != nil {
		t.Fatal(err)
	}
	key := []byte("mv") // store's key of the view status
	db, err := pebble.Open(dir, &pebble.Options{Logger: quietPebble{}})
	if err != nil {
		t.Fatal(err)
	}
	if err := db.Set(key, []byte("garbage"), pebble.Sync); err != nil {
		t.Fatal(err)
	}
	if err := db.Close(); err != nil {
		t.Fatal(err)
	}

	_, err = c.start(0, daemon.Options{})
	var ce *store.CorruptionError
	if !errors.As(err, &ce) || !bytes.Equal(ce.Key, key) || !strings.Contains(err.Error(), "--reset-state") {
		t.Fatalf("start: %v; want a corruption error naming key %x", err, key)
	}
	d := c.mustStart(0, daemon.Options{ResetState: true})
	if d.MovedAside() == "" || d.Status().View != 0 {
		t.Fatalf("moved aside to %q, view %d", d.MovedAside(), d.Status().View)
	}
	if _, err := os.Stat(d.MovedAside()); err != nil {
		t.Fatal(err)
	}
	c.stop(0)
	// A sound store with ResetState is left alone.
	d = c.mustStart(0, daemon.Options{ResetState: true})
	if d.MovedAside() != "" {
		t.Errorf("a sound store was moved aside to %s", d.MovedAside())
	}
}
