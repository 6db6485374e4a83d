package testnet

import (
	"bytes"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"

	"github.com/pelletier/go-toml/v2"

	"github.com/bftbed/bftbed/crypto"
	"github.com/bftbed/bftbed/p2p"
	"github.com/bftbed/bftbed/pbft"
)

// DescriptionFile is the name of a testnet's description inside its
// directory.
const DescriptionFile = "testnet.toml"

// Description is a whole local testnet as `bftbed testnet init` generated
// it: what every tool (up, down, status, client, load, the benchmark
// runner) needs to find and reach its nodes, without parsing the nodes'
// own configuration files. It is DIR/testnet.toml.
//
// Paths in the file are relative to the testnet directory, so a testnet
// directory can be moved or copied as a whole; LoadDescription resolves
// them (see Path).
type Description struct {
	// Cluster names the testnet (signature domain and libp2p protocols).
	Cluster string `toml:"cluster"`
	// N is the number of replicas, 3F+1.
	N int `toml:"n"`
	// F is the number of faulty replicas tolerated.
	F int `toml:"f"`
	// ClientKey is a client key file generated with the testnet, for
	// tools that want a stable client identity.
	ClientKey string `toml:"client_key"`
	// Nodes lists the replicas in id order.
	Nodes []NodeEntry `toml:"node"`

	dir string // the testnet directory, absolute
}

// NodeEntry is one node of a Description.
type NodeEntry struct {
	ID int `toml:"id"`
	// Config is the node's configuration file (`bftbed node --config`).
	Config string `toml:"config"`
	// Log receives the node's stdout and stderr while it runs under
	// `bftbed testnet up`.
	Log string `toml:"log"`
	// PIDFile holds the process ID of the running node.
	PIDFile string `toml:"pid_file"`
	// DataDir is the node's store.
	DataDir string `toml:"data_dir"`
	// Libp2p is the node's listen multiaddr with its peer ID
	// (/ip4/127.0.0.1/tcp/P/p2p/12D3...).
	Libp2p string `toml:"libp2p"`
	// HTTP is the host:port of the node's status, health and metrics
	// endpoints.
	HTTP string `toml:"http"`
	// PublicKey is the node's Ed25519 public key in hex.
	PublicKey string `toml:"public_key"`
}

// LoadDescription reads dir/testnet.toml.
func LoadDescription(dir string) (*Description, error) {
	abs, err := canonicalDir(dir)
	if err != nil {
		return nil, err
	}
	path := filepath.Join(abs, DescriptionFile)
	data, err := os.ReadFile(path)
	if errors.Is(err, os.ErrNotExist) {
		return nil, fmt.Errorf("%s is not a testnet directory (no %s; create one with `bftbed testnet init -o %s`)", dir, DescriptionFile, dir)
	}
	if err != nil {
		return nil, err
	}
	d := &Description{}
	dec := toml.NewDecoder(bytes.NewReader(data)).DisallowUnknownFields()
	if err := dec.Decode(d); err != nil {
		return nil, fmt.Errorf("%s: %s", path, describeTOMLError(err))
	}
	d.dir = abs
	if err := d.Validate(); err != nil {
		return nil, fmt.Errorf("%s: %w", path, err)
	}
	return d, nil
}

// Validate checks the description for what the tools rely on.
func (d *Description) Validate() error {
	if d.N < 4 || (d.N-1)%3 != 0 || d.F != (d.N-1)/3 {
		return fmt.Errorf("n = %d, f = %d: want n = 3f+1 >= 4", d.N, d.F)
	}
	if len(d.Nodes) != d.N {
		return fmt.Errorf("%d nodes listed for n = %d", len(d.Nodes), d.N)
	}
	if d.Cluster == "" {
		return errors.New("no cluster name")
	}
	for i, nd := range d.Nodes {
		if nd.ID != i {
			return fmt.Errorf("node %d listed as id %d: ids must be 0..%d in order", i, nd.ID, d.N-1)
		}
		if nd.Config == "" || nd.Log == "" || nd.PIDFile == "" || nd.HTTP == "" || nd.Libp2p == "" {
			return fmt.Errorf("node %d: config, log, pid_file, http and libp2p are required", i)
		}
		if _, err := crypto.ParsePublicKey(nd.PublicKey); err != nil {
			return fmt.Errorf("node %d: public key: %w", i, err)
		}
	}
	return nil
}

// canonicalDir returns dir as an absolute path without symbolic links.
// Node processes are recognized by the config path on their command line,
// so every command must spell a testnet's paths the same way, whichever
// path to the directory the user typed.
func canonicalDir(dir string) (string, error) {
	abs, err := filepath.Abs(dir)
	if err != nil {
		return "", err
	}
	if real, err := filepath.EvalSymlinks(abs); err == nil {
		return real, nil
	}
	return abs, nil
}

// Save writes the description to dir/testnet.toml and remembers dir.
func (d *Description) Save(dir string) error {
	abs, err := canonicalDir(dir)
	if err != nil {
		return err
	}
	data, err := toml.Marshal(d)
	if err != nil {
		return err
	}
	header := "# A bftbed testnet, written by `bftbed testnet init`. Paths are relative to this directory.\n"
	if err := os.WriteFile(filepath.Join(abs, DescriptionFile), append([]byte(header), data...), 0o644); err != nil {
		return err
	}
	d.dir = abs
	return nil
}

// Dir returns the testnet directory (absolute).
func (d *Description) Dir() string { return d.dir }

// Path resolves a path of the description against the testnet directory.
func (d *Description) Path(p string) string {
	if p == "" || filepath.IsAbs(p) {
		return p
	}
	return filepath.Join(d.dir, p)
}

// Node returns node id's entry, or an error naming the valid ids. It
// accepts "2", "n2" and "node-2".
func (d *Description) Node(name string) (*NodeEntry, error) {
	s := strings.TrimPrefix(strings.TrimPrefix(name, "node-"), "n")
	var id int
	if _, err := fmt.Sscanf(s, "%d", &id); err != nil || fmt.Sprint(id) != s || id < 0 || id >= len(d.Nodes) {
		return nil, fmt.Errorf("no node %q in this testnet: nodes are 0..%d", name, len(d.Nodes)-1)
	}
	return &d.Nodes[id], nil
}

// Peers returns the replicas as a libp2p client sees them.
func (d *Description) Peers() ([]p2p.PeerInfo, error) {
	peers := make([]p2p.PeerInfo, len(d.Nodes))
	for i, nd := range d.Nodes {
		key, err := crypto.ParsePublicKey(nd.PublicKey)
		if err != nil {
			return nil, fmt.Errorf("node %d: %w", i, err)
		}
		peers[i] = p2p.PeerInfo{ID: pbft.ReplicaID(i), Key: key, Addrs: []string{nd.Libp2p}}
	}
	return peers, nil
}

// Keys returns the replicas' public keys by id.
func (d *Description) Keys() []crypto.PublicKey {
	keys := make([]crypto.PublicKey, len(d.Nodes))
	for i, nd := range d.Nodes {
		keys[i], _ = crypto.ParsePublicKey(nd.PublicKey) // checked by Validate
	}
	return keys
}

// Domain returns the testnet's signing domain.
func (d *Description) Domain() crypto.Domain { return crypto.NewDomain(d.Cluster) }

// StatusURL returns the URL of node id's /status endpoint.
func (nd *NodeEntry) StatusURL() string { return "http://" + nd.HTTP + "/status" }

// MetricsURL returns the URL of node id's /metrics endpoint.
func (nd *NodeEntry) MetricsURL() string { return "http://" + nd.HTTP + "/metrics" }

// HealthURL returns the URL of node id's /healthz endpoint.
func (nd *NodeEntry) HealthURL() string { return "http://" + nd.HTTP + "/healthz" }
