// Command embed runs a 4-replica bftbed cluster inside one program: each
// replica a daemon.Daemon with its own key file, Pebble store (in a
// temporary directory) and libp2p host on 127.0.0.1, all running the ledger
// application of ledger.go; a client then sends it operations over libp2p
// and prints the results. See README.md.
package main

import (
	"context"
	"fmt"
	"log/slog"
	"os"
	"path/filepath"
	"time"

	"github.com/bftbed/bftbed/crypto"
	"github.com/bftbed/bftbed/p2p"
	"github.com/bftbed/bftbed/pbft"
	"github.com/bftbed/bftbed/testnet"
	"github.com/bftbed/bftbed/testnet/daemon"
)

const (
	n       = 4 // 3f+1 replicas, tolerating f = 1 Byzantine one
	cluster = "embed-example"
)

func main() {
	if err := run(); err != nil {
		fmt.Fprintln(os.Stderr, "embed:", err)
		os.Exit(1)
	}
}

func run() error {
	dir, err := os.MkdirTemp("", "bftbed-embed-")
	if err != nil {
		return err
	}
	defer os.RemoveAll(dir)
	logger := slog.New(slog.NewTextHandler(os.Stderr, &slog.HandlerOptions{Level: slog.LevelWarn}))

	// Every replica has a key pair; each knows all the public keys.
	peers := make([]testnet.PeerConfig, n)
	for i := range peers {
		key, err := crypto.GenerateKey()
		if err != nil {
			return err
		}
		if err := crypto.WriteKeyFile(filepath.Join(dir, fmt.Sprintf("replica%d.key", i)), key); err != nil {
			return err
		}
		peers[i] = testnet.PeerConfig{ID: i, PublicKey: key.Public().Hex()}
	}

	// Start the replicas. They listen on OS-assigned ports, so they learn
	// each other's addresses from Connect once all have started.
	replicas := make([]*daemon.Daemon, n)
	for i := range replicas {
		cfg := &testnet.NodeConfig{
			ID: i, Cluster: cluster, Peers: peers, Protocol: testnet.DefaultProtocol(),
			KeyFile:   filepath.Join(dir, fmt.Sprintf("replica%d.key", i)),
			DataDir:   filepath.Join(dir, fmt.Sprintf("replica%d", i)),
			Listen:    []string{"/ip4/127.0.0.1/tcp/0"},
			Broadcast: "direct",
			// HTTP: "127.0.0.1:9100" would serve /metrics, /status, ...
		}
		d, err := daemon.Start(cfg, daemon.Options{App: newLedger(), Logger: logger})
		if err != nil {
			return err
		}
		defer d.Stop()
		replicas[i] = d
	}
	if err := daemon.Connect(replicas...); err != nil {
		return err
	}

	// A client has a key of its own and a libp2p host that dials the
	// replicas; a result counts once f+1 replicas sent matching signed
	// replies.
	clientKey, err := crypto.GenerateKey()
	if err != nil {
		return err
	}
	infos := make([]p2p.PeerInfo, n)
	keys := make([]crypto.PublicKey, n)
	for i, d := range replicas {
		infos[i] = d.PeerInfo()
		keys[i] = infos[i].Key
	}
	transport, err := p2p.NewClientTransport(p2p.HostConfig{ClusterID: cluster, Key: clientKey, Peers: infos, Logger: logger})
	if err != nil {
		return err
	}
	defer transport.Close()
	client, err := pbft.NewClient(pbft.ClientConfig{
		N: n, Domain: crypto.NewDomain(cluster), Key: clientKey, Replicas: keys, Transport: transport,
	})
	if err != nil {
		return err
	}
	defer client.Close()

	ctx, cancel := context.WithTimeout(context.Background(), 15*time.Second)
	defer cancel()
	for _, op := range []string{"mint alice 100", "pay alice bob 30", "pay bob carol 50", "pay bob carol 20", "balance carol", "burn alice 5"} {
		result, err := client.Invoke(ctx, []byte(op))
		if err != nil {
			return fmt.Errorf("%s: %w", op, err)
		}
		fmt.Printf("%-18s -> %s\n", op, result)
	}
	// The client had its answer from f+1 replicas; the slowest may still
	// be executing. Wait until all executed the same batches.
	for !agreed(replicas) {
		if ctx.Err() != nil {
			return fmt.Errorf("replicas did not converge: %w", ctx.Err())
		}
		time.Sleep(10 * time.Millisecond)
	}
	fmt.Printf("all %d replicas executed %d batches\n", n, replicas[0].Status().LastExecuted)
	return nil
}

// agreed reports whether every replica executed up to the same batch.
func agreed(replicas []*daemon.Daemon) bool {
	for _, d := range replicas[1:] {
		if d.Status().LastExecuted != replicas[0].Status().LastExecuted {
			return false
		}
	}
	return true
}
