package adversary

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// FuzzParseScenario feeds arbitrary bytes to the scenario parser: it must
// return a scenario or line-numbered errors, never panic, and a scenario
// it accepts must build.
func FuzzParseScenario(f *testing.F) {
	for _, glob := range []string{"testdata/*/*.toml", filepath.Join(benchScenarios, "*.toml")} {
		files, _ := filepath.Glob(glob)
		for _, path := range files {
			data, err := os.ReadFile(path)
			if err == nil {
				f.Add(data)
			}
		}
	}
	f.Add([]byte("fault = [{behaviour = \"silent\", nodes = [1]}, {behaviour = \"partition\", groups = [[0], [1, 2]]}]"))
	f.Add([]byte("[[fault]]\nbehaviour = \"drop\"\nnodes = [0]\ntypes = [\"PREPARE\", 3]\n[fault.x]\ny = 1"))
	f.Fuzz(func(t *testing.T, data []byte) {
		s, err := ParseScenario("fuzz.toml", data)
		if err != nil {
			for _, line := range strings.Split(err.Error(), "\n") {
				if !strings.HasPrefix(line, "fuzz.toml") {
					t.Fatalf("error line without the file: %q", line)
				}
			}
			return
		}
		if _, err := s.BuildFaults(); err != nil {
			t.Fatalf("a valid scenario does not build: %v", err)
		}
		s.FaultWindow()
	})
}
