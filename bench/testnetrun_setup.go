package bench

import (
	"fmt"
	"regexp"
	"strings"

	"github.com/bftbed/bftbed/adversary"
	"github.com/bftbed/bftbed/testnet"
)

// generateOptions is the testnet a scenario asks for: its size and
// protocol parameters, on free loopback ports, with keys derived from the
// seed (the same seed gives the same identities, so runs compare), in dir.
func generateOptions(sc *adversary.Scenario, dir string, seed uint64) testnet.GenerateOptions {
	t := sc.Testnet
	protocol := testnet.DefaultProtocol()
	protocol.MaxBatch = t.Batch
	protocol.BatchTimeout = testnet.Duration(t.BatchTimeout)
	protocol.CheckpointInterval = t.CheckpointInterval
	protocol.WatermarkWindow = t.WatermarkWindow
	protocol.RequestTimeout = testnet.Duration(t.RequestTimeout)
	// MaxInFlight is no scenario parameter: the default, as in the
	// simulator (adversary.TestnetSpec.Config).
	return testnet.GenerateOptions{
		Dir:      dir,
		N:        t.N,
		Cluster:  clusterName(sc.Name, seed),
		Seed:     fmt.Sprintf("bench/%d", seed),
		Protocol: protocol,
		// A directory given by the user may hold the testnet of an
		// earlier run kept with --keep; Generate still refuses while
		// one of its nodes runs.
		Force: true,
	}
}

var notClusterChars = regexp.MustCompile(`[^A-Za-z0-9._-]+`)

// clusterName names the testnet after the scenario and seed, within the
// characters and length testnet cluster names allow.
func clusterName(name string, seed uint64) string {
	suffix := fmt.Sprintf("-%d", seed)
	base := strings.Trim(notClusterChars.ReplaceAllString(name, "-"), "._-")
	if base == "" {
		base = "scenario"
	}
	base = "bench-" + base
	if len(base)+len(suffix) > 64 {
		base = base[:64-len(suffix)]
	}
	return base + suffix
}
