// Package testnet describes and runs bftbed testnets: the configuration of
// one node (a TOML file per node), the description of a whole testnet, and
// (in its subpackages and the command) generating, starting and stopping
// them. The deterministic simulator lives in testnet/sim.
package testnet

import (
	"bytes"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"time"

	"github.com/pelletier/go-toml/v2"

	"github.com/bftbed/bftbed/crypto"
	"github.com/bftbed/bftbed/pbft"
)

// NodeConfig is the configuration file of one node (`bftbed node --config`).
// Relative paths are relative to the file's directory.
type NodeConfig struct {
	// ID is the replica number, 0..n-1.
	ID int `toml:"id"`
	// Cluster names the testnet: it separates signature domains and
	// libp2p protocols, so two testnets never mix.
	Cluster string `toml:"cluster"`
	// KeyFile holds the node's Ed25519 private key (mode 0600).
	KeyFile string `toml:"key_file"`
	// DataDir holds the node's Pebble store.
	DataDir string `toml:"data_dir"`
	// Listen lists the libp2p listen multiaddrs.
	Listen []string `toml:"listen"`
	// HTTP is the address of the metrics, status and health endpoints.
	HTTP string `toml:"http"`
	// Broadcast is "direct" (default) or "gossip".
	Broadcast string `toml:"broadcast"`
	// LogLevel is debug, info, warn or error.
	LogLevel string `toml:"log_level"`
	// VerifyWorkers is how many goroutines check one group of signatures;
	// 0 means one per core. Nodes that share a machine do better with
	// their share of its cores (fewer goroutines, larger batches):
	// `testnet init` writes cores/n, at least 1.
	VerifyWorkers int `toml:"verify_workers,omitempty"`
	// Peers lists every replica of the testnet, this one included.
	Peers []PeerConfig `toml:"peer"`
	// Protocol holds the PBFT parameters, the same on every node.
	Protocol ProtocolConfig `toml:"protocol"`

	dir string // the config file's directory
}

// PeerConfig is one replica as the others know it.
type PeerConfig struct {
	ID        int      `toml:"id"`
	PublicKey string   `toml:"public_key"` // hex Ed25519 public key
	Addrs     []string `toml:"addrs"`      // libp2p multiaddrs
	HTTP      string   `toml:"http"`       // its status endpoint, for tools
}

// ProtocolConfig is the PBFT part of a node's configuration.
type ProtocolConfig struct {
	CheckpointInterval int      `toml:"checkpoint_interval"`
	WatermarkWindow    int      `toml:"watermark_window"`
	MaxBatch           int      `toml:"max_batch"`
	MaxInFlight        int      `toml:"max_in_flight"`
	BatchTimeout       Duration `toml:"batch_timeout"`
	RequestTimeout     Duration `toml:"request_timeout"`
}

// Duration is a time.Duration written as a Go duration string ("500ms").
type Duration time.Duration

// MarshalText implements encoding.TextMarshaler.
func (d Duration) MarshalText() ([]byte, error) { return []byte(time.Duration(d).String()), nil }

// UnmarshalText implements encoding.TextUnmarshaler.
func (d *Duration) UnmarshalText(b []byte) error {
	v, err := time.ParseDuration(string(b))
	if err != nil {
		return err
	}
	*d = Duration(v)
	return nil
}

// DefaultProtocol returns the protocol parameters of generated testnets.
func DefaultProtocol() ProtocolConfig {
	c := pbft.DefaultConfig(0, 4)
	return ProtocolConfig{
		CheckpointInterval: int(c.CheckpointInterval),
		WatermarkWindow:    int(c.WatermarkWindow),
		MaxBatch:           c.MaxBatch,
		MaxInFlight:        c.MaxInFlight,
		BatchTimeout:       Duration(c.BatchTimeout),
		RequestTimeout:     Duration(c.RequestTimeout),
	}
}

// PBFT returns the core configuration of replica id of n.
func (p ProtocolConfig) PBFT(id, n int) pbft.Config {
	c := pbft.DefaultConfig(pbft.ReplicaID(id), n)
	c.CheckpointInterval = pbft.Seq(p.CheckpointInterval)
	c.WatermarkWindow = pbft.Seq(p.WatermarkWindow)
	c.MaxBatch = p.MaxBatch
	c.MaxInFlight = p.MaxInFlight
	c.BatchTimeout = time.Duration(p.BatchTimeout)
	c.RequestTimeout = time.Duration(p.RequestTimeout)
	return c
}

// LoadNodeConfig reads and checks a node configuration file. Errors name the
// file, and the line for syntax errors and unknown fields.
func LoadNodeConfig(path string) (*NodeConfig, error) {
	data, err := os.ReadFile(path)
	if err != nil {
		return nil, fmt.Errorf("node config: %w", err)
	}
	cfg := &NodeConfig{Protocol: DefaultProtocol(), Broadcast: "direct", LogLevel: "info"}
	dec := toml.NewDecoder(bytes.NewReader(data)).DisallowUnknownFields()
	if err := dec.Decode(cfg); err != nil {
		return nil, fmt.Errorf("node config %s: %s", path, describeTOMLError(err))
	}
	cfg.dir = filepath.Dir(path)
	if err := cfg.Validate(); err != nil {
		return nil, fmt.Errorf("node config %s: %w", path, err)
	}
	return cfg, nil
}

// describeTOMLError renders go-toml's errors with their line numbers.
func describeTOMLError(err error) string {
	var sm *toml.StrictMissingError
	if errors.As(err, &sm) && len(sm.Errors) > 0 {
		row, _ := sm.Errors[0].Position()
		return fmt.Sprintf("line %d: unknown field %q", row, strings.Join(sm.Errors[0].Key(), "."))
	}
	var de *toml.DecodeError
	if errors.As(err, &de) {
		row, col := de.Position()
		return fmt.Sprintf("line %d, column %d: %s", row, col, de.Error())
	}
	return err.Error()
}

// Validate checks the configuration for mistakes a node cannot run with.
func (c *NodeConfig) Validate() error {
	n := len(c.Peers)
	if n < 4 || (n-1)%3 != 0 {
		return fmt.Errorf("%d peers: a testnet has n = 3f+1 >= 4 replicas", n)
	}
	seen := map[int]bool{}
	for i, p := range c.Peers {
		if p.ID != i || seen[p.ID] {
			return fmt.Errorf("peer %d: ids must be 0..%d in order", i, n-1)
		}
		seen[p.ID] = true
		if _, err := crypto.ParsePublicKey(p.PublicKey); err != nil {
			return fmt.Errorf("peer %d: public key: %w", p.ID, err)
		}
	}
	if c.ID < 0 || c.ID >= n {
		return fmt.Errorf("id %d out of range 0..%d", c.ID, n-1)
	}
	if c.Cluster == "" || c.KeyFile == "" || c.DataDir == "" {
		return errors.New("cluster, key_file and data_dir are required")
	}
	if c.Broadcast != "direct" && c.Broadcast != "gossip" {
		return fmt.Errorf("broadcast %q: want direct or gossip", c.Broadcast)
	}
	if c.VerifyWorkers < 0 {
		return fmt.Errorf("verify_workers %d: want 0 (every core) or more", c.VerifyWorkers)
	}
	cfg := c.Protocol.PBFT(c.ID, n)
	return cfg.Validate()
}

// Path resolves a path from the configuration against its file's directory.
func (c *NodeConfig) Path(p string) string {
	if p == "" || filepath.IsAbs(p) {
		return p
	}
	return filepath.Join(c.dir, p)
}

// Keys returns the replicas' public keys by id.
func (c *NodeConfig) Keys() []crypto.PublicKey {
	keys := make([]crypto.PublicKey, len(c.Peers))
	for i, p := range c.Peers {
		keys[i], _ = crypto.ParsePublicKey(p.PublicKey)
	}
	return keys
}

// Save writes the configuration as TOML.
func (c *NodeConfig) Save(path string) error {
	data, err := toml.Marshal(c)
	if err != nil {
		return err
	}
	return os.WriteFile(path, data, 0o644)
}
