package testnet

import (
	"errors"
	"fmt"
	"math/rand/v2"
	"net"
	"os"
	"path/filepath"
	"regexp"
	"runtime"
	"strconv"
	"strings"

	"github.com/bftbed/bftbed/crypto"
	"github.com/bftbed/bftbed/p2p"
)

// GenerateOptions says what testnet Generate writes.
type GenerateOptions struct {
	// Dir is the testnet directory; it must not exist or be empty unless
	// Force is set.
	Dir string
	// N is the number of replicas, 3f+1 >= 4.
	N int
	// Cluster names the testnet; empty means the directory's base name.
	Cluster string
	// BasePort is the first port; node i listens for libp2p on
	// BasePort+2i and for HTTP on BasePort+2i+1. 0 picks a free range.
	BasePort int
	// Seed, if set, derives every key from it (crypto.DeriveKey(seed,
	// "replica/i") and "client"), so the same seed gives the same
	// testnet. Otherwise keys come from crypto.GenerateKey.
	Seed string
	// Protocol holds the PBFT parameters of every node.
	Protocol ProtocolConfig
	// Broadcast is "direct" (default) or "gossip"; LogLevel is the nodes'
	// log level (default "info").
	Broadcast, LogLevel string
	// Force lets Generate replace the testnet files in a non-empty Dir
	// (keys, node-*, testnet.toml). It still refuses while a node of the
	// old testnet runs.
	Force bool
}

// Port ranges: generated testnets stay below Linux's ephemeral range
// (32768-60999), so that the ports a node picks for its outgoing
// connections never take a port another node is about to listen on.
const (
	minBasePort = 20000
	maxBasePort = 32000
	// portAttempts bounds the search for a free range.
	portAttempts = 200
)

// clusterName matches the names allowed for a cluster: they become part
// of libp2p protocol IDs and topic names, so they stay plain.
var (
	clusterName     = regexp.MustCompile(`^[A-Za-z0-9][A-Za-z0-9._-]{0,63}$`)
	notClusterChars = regexp.MustCompile(`[^A-Za-z0-9._-]+`)
	nodeDirName     = regexp.MustCompile(`^node-[0-9]+$`)
)

// Generate writes a testnet: keys/node-i.key and keys/client.key (0600),
// node-i/config.toml (with paths relative to it), node-i/data/, and
// testnet.toml, the description it returns.
func Generate(opts GenerateOptions) (*Description, error) {
	n := opts.N
	if n < 4 || (n-1)%3 != 0 {
		return nil, fmt.Errorf("-n %d: a PBFT testnet has n = 3f+1 replicas with f >= 1 (4, 7, 10, 13, ...)", n)
	}
	dir, err := filepath.Abs(opts.Dir)
	if err != nil {
		return nil, err
	}
	cluster := opts.Cluster
	if cluster == "" {
		cluster = defaultClusterName(dir)
	}
	if !clusterName.MatchString(cluster) {
		return nil, fmt.Errorf("cluster name %q: use 1-64 letters, digits, '.', '_' or '-'", cluster)
	}
	if err := prepareDir(dir, opts.Force); err != nil {
		return nil, err
	}
	base := opts.BasePort
	if base == 0 {
		if base, err = findFreeBase(2 * n); err != nil {
			return nil, err
		}
	} else if err := checkPorts(base, 2*n); err != nil {
		return nil, err
	}
	protocol := opts.Protocol
	if protocol == (ProtocolConfig{}) {
		protocol = DefaultProtocol()
	}
	broadcast, logLevel := opts.Broadcast, opts.LogLevel
	if broadcast == "" {
		broadcast = "direct"
	}
	if logLevel == "" {
		logLevel = "info"
	}

	keys, clientKey, err := makeKeys(n, opts.Seed)
	if err != nil {
		return nil, err
	}
	d := &Description{Cluster: cluster, N: n, F: (n - 1) / 3, ClientKey: "keys/client.key"}
	peers := make([]PeerConfig, n)
	for i := range n {
		libp2pPort, httpPort := base+2*i, base+2*i+1
		pub := keys[i].Public()
		pid, err := p2p.PeerID(pub)
		if err != nil {
			return nil, err
		}
		listen := fmt.Sprintf("/ip4/127.0.0.1/tcp/%d", libp2pPort)
		http := net.JoinHostPort("127.0.0.1", strconv.Itoa(httpPort))
		peers[i] = PeerConfig{ID: i, PublicKey: pub.Hex(), Addrs: []string{listen}, HTTP: http}
		node := fmt.Sprintf("node-%d", i)
		d.Nodes = append(d.Nodes, NodeEntry{
			ID:        i,
			Config:    filepath.Join(node, "config.toml"),
			Log:       filepath.Join(node, "node.log"),
			PIDFile:   filepath.Join(node, "node.pid"),
			DataDir:   filepath.Join(node, "data"),
			Libp2p:    listen + "/p2p/" + pid.String(),
			HTTP:      http,
			PublicKey: pub.Hex(),
		})
	}
	if err := writeFiles(dir, d, keys, clientKey, peers, protocol, broadcast, logLevel); err != nil {
		return nil, err
	}
	return d, nil
}

// writeFiles writes the keys, the node configurations and the description.
func writeFiles(dir string, d *Description, keys []crypto.PrivateKey, clientKey crypto.PrivateKey,
	peers []PeerConfig, protocol ProtocolConfig, broadcast, logLevel string) error {
	if err := os.MkdirAll(filepath.Join(dir, "keys"), 0o700); err != nil {
		return err
	}
	if err := crypto.WriteKeyFile(filepath.Join(dir, d.ClientKey), clientKey); err != nil {
		return err
	}
	for i, nd := range d.Nodes {
		keyFile := filepath.Join(dir, "keys", fmt.Sprintf("node-%d.key", i))
		if err := crypto.WriteKeyFile(keyFile, keys[i]); err != nil {
			return err
		}
		nodeDir := filepath.Join(dir, filepath.Dir(nd.Config))
		if err := os.MkdirAll(filepath.Join(dir, nd.DataDir), 0o755); err != nil {
			return err
		}
		cfg := &NodeConfig{
			ID:        i,
			Cluster:   d.Cluster,
			KeyFile:   filepath.Join("..", "keys", filepath.Base(keyFile)),
			DataDir:   "data",
			Listen:    peers[i].Addrs,
			HTTP:      nd.HTTP,
			Broadcast: broadcast,
			LogLevel:  logLevel,
			// The nodes of a testnet share this machine's cores.
			VerifyWorkers: max(1, runtime.NumCPU()/len(d.Nodes)),
			Peers:         peers,
			Protocol:      protocol,
		}
		if err := cfg.Validate(); err != nil {
			return fmt.Errorf("node %d: %w", i, err)
		}
		if err := cfg.Save(filepath.Join(nodeDir, "config.toml")); err != nil {
			return err
		}
	}
	return d.Save(dir)
}

// makeKeys returns the replicas' keys and the client key, derived from seed
// when it is set.
func makeKeys(n int, seed string) ([]crypto.PrivateKey, crypto.PrivateKey, error) {
	keys := make([]crypto.PrivateKey, n)
	if seed != "" {
		for i := range keys {
			keys[i] = crypto.DeriveKey([]byte(seed), fmt.Sprintf("replica/%d", i))
		}
		return keys, crypto.DeriveKey([]byte(seed), "client"), nil
	}
	for i := range keys {
		k, err := crypto.GenerateKey()
		if err != nil {
			return nil, crypto.PrivateKey{}, err
		}
		keys[i] = k
	}
	client, err := crypto.GenerateKey()
	return keys, client, err
}

// defaultClusterName derives a cluster name from the directory's name.
func defaultClusterName(dir string) string {
	name := notClusterChars.ReplaceAllString(filepath.Base(dir), "-")
	if len(name) > 64 {
		name = name[len(name)-64:]
	}
	name = strings.TrimLeft(name, "._-")
	if name == "" {
		return "testnet"
	}
	return name
}

// prepareDir makes sure dir can take a new testnet: it is created if
// absent; a non-empty one is refused unless force, and then its old
// testnet files are removed — but never while one of its nodes runs.
func prepareDir(dir string, force bool) error {
	entries, err := os.ReadDir(dir)
	if errors.Is(err, os.ErrNotExist) {
		return os.MkdirAll(dir, 0o755)
	}
	if err != nil {
		return err
	}
	if len(entries) == 0 {
		return nil
	}
	if !force {
		return fmt.Errorf("%s exists and is not empty: choose another directory or pass --force to replace its testnet", dir)
	}
	if old, err := LoadDescription(dir); err == nil {
		for i := range old.Nodes {
			if pid, running := old.Running(i); running {
				return fmt.Errorf("node %d of the testnet in %s is running (pid %d): stop it first with `bftbed testnet down %s`", i, dir, pid, dir)
			}
		}
	}
	for _, e := range entries {
		name := e.Name()
		if name == "keys" || name == DescriptionFile || nodeDirName.MatchString(name) {
			if err := os.RemoveAll(filepath.Join(dir, name)); err != nil {
				return err
			}
		}
	}
	return nil
}

// findFreeBase returns a base port such that count consecutive ports are
// free on 127.0.0.1. It tries random bases so that testnets generated one
// after another (before any of them runs) rarely get the same range.
func findFreeBase(count int) (int, error) {
	span := maxBasePort - minBasePort - count
	for range portAttempts {
		base := minBasePort + rand.IntN(span/2)*2
		if checkPorts(base, count) == nil {
			return base, nil
		}
	}
	return 0, fmt.Errorf("no %d free consecutive ports found between %d and %d: pass --base-port", count, minBasePort, maxBasePort)
}

// checkPorts reports the first of ports base..base+count-1 that cannot be
// listened on at 127.0.0.1.
func checkPorts(base, count int) error {
	if base < 1024 || base+count-1 > 65535 {
		return fmt.Errorf("base port %d: ports %d..%d must lie in 1024..65535", base, base, base+count-1)
	}
	for p := base; p < base+count; p++ {
		l, err := net.Listen("tcp", net.JoinHostPort("127.0.0.1", strconv.Itoa(p)))
		if err != nil {
			return fmt.Errorf("port %d is in use (ports %d..%d are needed): pick another --base-port", p, base, base+count-1)
		}
		l.Close()
	}
	return nil
}
