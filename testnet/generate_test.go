package testnet

import (
	"os"
	"path/filepath"
	"runtime"
	"strconv"
	"strings"
	"testing"

	"github.com/bftbed/bftbed/crypto"
)

func TestGenerate(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "my testnet")
	d, err := Generate(GenerateOptions{Dir: dir, N: 7, BasePort: 28000, Protocol: ProtocolConfig{}})
	if err != nil {
		t.Fatal(err)
	}
	if d.N != 7 || d.F != 2 || d.Cluster != "my-testnet" || len(d.Nodes) != 7 {
		t.Fatalf("description %+v", d)
	}
	again, err := LoadDescription(dir)
	if err != nil {
		t.Fatal(err)
	}
	if again.Cluster != d.Cluster || len(again.Nodes) != 7 || again.Nodes[3] != d.Nodes[3] {
		t.Fatalf("reloaded %+v", again)
	}
	for i, nd := range d.Nodes {
		cfg, err := LoadNodeConfig(d.Path(nd.Config))
		if err != nil {
			t.Fatal(err)
		}
		key, err := crypto.ReadKeyFile(cfg.Path(cfg.KeyFile))
		if err != nil {
			t.Fatalf("node %d key: %v", i, err)
		}
		if key.Public().Hex() != nd.PublicKey || cfg.Peers[i].PublicKey != nd.PublicKey {
			t.Fatalf("node %d: key file and description disagree", i)
		}
		if st, err := os.Stat(cfg.Path(cfg.DataDir)); err != nil || !st.IsDir() {
			t.Fatalf("node %d data dir: %v", i, err)
		}
		if cfg.DataDir != "data" || filepath.IsAbs(cfg.KeyFile) {
			t.Fatalf("node %d: paths %q %q are not relative", i, cfg.DataDir, cfg.KeyFile)
		}
		wantLibp2p := "/ip4/127.0.0.1/tcp/" + strconv.Itoa(28000+2*i)
		if cfg.Listen[0] != wantLibp2p || !strings.HasPrefix(nd.Libp2p, wantLibp2p+"/p2p/12D3Koo") {
			t.Fatalf("node %d libp2p %v %s", i, cfg.Listen, nd.Libp2p)
		}
		if nd.HTTP != "127.0.0.1:"+strconv.Itoa(28001+2*i) || cfg.HTTP != nd.HTTP {
			t.Fatalf("node %d http %s", i, nd.HTTP)
		}
		if cfg.Protocol != DefaultProtocol() {
			t.Fatalf("protocol %+v", cfg.Protocol)
		}
		if want := max(1, runtime.NumCPU()/7); cfg.VerifyWorkers != want {
			t.Fatalf("node %d verify_workers %d, want %d (the nodes share the cores)", i, cfg.VerifyWorkers, want)
		}
	}

	// A broken value is refused with its name.
	cfg, err := LoadNodeConfig(d.Path(d.Nodes[0].Config))
	if err != nil {
		t.Fatal(err)
	}
	cfg.VerifyWorkers = -1
	bad := filepath.Join(t.TempDir(), "bad.toml")
	if err := cfg.Save(bad); err != nil {
		t.Fatal(err)
	}
	if _, err := LoadNodeConfig(bad); err == nil || !strings.Contains(err.Error(), "verify_workers") {
		t.Fatalf("verify_workers = -1: %v", err)
	}
	for _, name := range []string{"client.key", "node-0.key"} {
		st, err := os.Stat(filepath.Join(dir, "keys", name))
		if err != nil || st.Mode().Perm() != 0o600 {
			t.Fatalf("%s: %v %v", name, err, st.Mode())
		}
	}
	if _, err := crypto.ReadKeyFile(d.Path(d.ClientKey)); err != nil {
		t.Fatal(err)
	}
}

func TestGenerateSeedReproducible(t *testing.T) {
	a, err := Generate(GenerateOptions{Dir: t.TempDir(), N: 4, Seed: "s1", Cluster: "c"})
	if err != nil {
		t.Fatal(err)
	}
	b, err := Generate(GenerateOptions{Dir: t.TempDir(), N: 4, Seed: "s1", Cluster: "c"})
	if err != nil {
		t.Fatal(err)
	}
	c, err := Generate(GenerateOptions{Dir: t.TempDir(), N: 4, Seed: "s2", Cluster: "c"})
	if err != nil {
		t.Fatal(err)
	}
	for i := range a.Nodes {
		if a.Nodes[i].PublicKey != b.Nodes[i].PublicKey || a.Nodes[i].PublicKey == c.Nodes[i].PublicKey {
			t.Fatalf("node %d: seeds do not fix the keys", i)
		}
		if want := crypto.DeriveKey([]byte("s1"), "replica/"+strconv.Itoa(i)).Public().Hex(); a.Nodes[i].PublicKey != want {
			t.Fatalf("node %d: not DeriveKey(seed, replica/i)", i)
		}
	}
	ka, _ := crypto.ReadKeyFile(a.Path(a.ClientKey))
	if !ka.Equal(crypto.DeriveKey([]byte("s1"), "client")) {
		t.Fatal("client key not derived from the seed")
	}
}

func TestGenerateFreePortsDoNotCollide(t *testing.T) {
	a, err := Generate(GenerateOptions{Dir: t.TempDir(), N: 4})
	if err != nil {
		t.Fatal(err)
	}
	seen := map[string]bool{}
	for _, nd := range a.Nodes {
		for _, addr := range []string{nd.HTTP, strings.Split(nd.Libp2p, "/")[4]} {
			port := addr[strings.LastIndex(addr, ":")+1:]
			if seen[port] {
				t.Fatalf("port %s used twice", port)
			}
			seen[port] = true
		}
	}
}

func TestGenerateErrors(t *testing.T) {
	for _, n := range []int{0, 1, 3, 5, 6, 8} {
		_, err := Generate(GenerateOptions{Dir: t.TempDir(), N: n})
		if err == nil || !strings.Contains(err.Error(), "3f+1") {
			t.Errorf("n = %d: %v", n, err)
		}
	}
	if _, err := Generate(GenerateOptions{Dir: t.TempDir(), N: 4, Cluster: "bad name/x"}); err == nil {
		t.Error("bad cluster name accepted")
	}
	if _, err := Generate(GenerateOptions{Dir: t.TempDir(), N: 4, BasePort: 80}); err == nil {
		t.Error("privileged base port accepted")
	}

	dir := t.TempDir()
	if err := os.WriteFile(filepath.Join(dir, "notes.txt"), []byte("mine"), 0o644); err != nil {
		t.Fatal(err)
	}
	_, err := Generate(GenerateOptions{Dir: dir, N: 4})
	if err == nil || !strings.Contains(err.Error(), "--force") {
		t.Fatalf("non-empty dir: %v", err)
	}
	first, err := Generate(GenerateOptions{Dir: dir, N: 4, Force: true})
	if err != nil {
		t.Fatal(err)
	}
	second, err := Generate(GenerateOptions{Dir: dir, N: 4, Force: true})
	if err != nil {
		t.Fatal(err)
	}
	if first.Nodes[0].PublicKey == second.Nodes[0].PublicKey {
		t.Fatal("--force kept the old keys")
	}
	if _, err := os.Stat(filepath.Join(dir, "notes.txt")); err != nil {
		t.Fatal("--force removed a file that is not the testnet's")
	}
}

func TestDescriptionNode(t *testing.T) {
	d, err := Generate(GenerateOptions{Dir: t.TempDir(), N: 4})
	if err != nil {
		t.Fatal(err)
	}
	for _, name := range []string{"2", "n2", "node-2"} {
		if nd, err := d.Node(name); err != nil || nd.ID != 2 {
			t.Errorf("Node(%q) = %v, %v", name, nd, err)
		}
	}
	for _, name := range []string{"4", "-1", "x", "2x", "", "n"} {
		if _, err := d.Node(name); err == nil {
			t.Errorf("Node(%q) accepted", name)
		}
	}
	peers, err := d.Peers()
	if err != nil || len(peers) != 4 || peers[3].ID != 3 {
		t.Fatalf("peers %v %v", peers, err)
	}
}

func TestLoadDescriptionErrors(t *testing.T) {
	dir := t.TempDir()
	if _, err := LoadDescription(dir); err == nil || !strings.Contains(err.Error(), "testnet init") {
		t.Fatalf("missing description: %v", err)
	}
	if err := os.WriteFile(filepath.Join(dir, DescriptionFile), []byte("cluster = 'x'\nn = 5\nf = 1\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	if _, err := LoadDescription(dir); err == nil {
		t.Fatal("n = 5 accepted")
	}
	if err := os.WriteFile(filepath.Join(dir, DescriptionFile), []byte("cluster = 'x'\nbogus = 1\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	if _, err := LoadDescription(dir); err == nil || !strings.Contains(err.Error(), "bogus") {
		t.Fatalf("unknown field: %v", err)
	}
}

func TestDefaultClusterName(t *testing.T) {
	for dir, want := range map[string]string{
		"/tmp/tn":                       "tn",
		"/tmp/.hidden":                  "hidden",
		"/tmp/a b":                      "a-b",
		"/":                             "testnet",
		"/x/" + strings.Repeat("a", 80): strings.Repeat("a", 64),
	} {
		if got := defaultClusterName(dir); got != want || !clusterName.MatchString(got) {
			t.Errorf("%q: %q, want %q", dir, got, want)
		}
	}
}
