# bftbed: build, test and measure. `make test` is what CI runs.
SHELL    := /bin/bash
.SHELLFLAGS := -o pipefail -c
GO       ?= go
FUZZTIME ?= 5s
SEEDS    ?= 500
RECOVER_SEEDS ?= 300
# Packages that start goroutines run under the race detector.
RACE_PKGS ?= ./crypto/... ./pbft/... ./store/... ./p2p/... ./testnet/ ./testnet/daemon/ ./bench/load/

.PHONY: all build test vet unit race sweep suite e2e examples fuzz benchsmoke bench perf clean

all: build

build:
	$(GO) build ./...
	$(GO) build -o bin/bftbed ./cmd/bftbed

# The README's test command.
test: vet unit race sweep suite e2e examples fuzz benchsmoke

vet:
	$(GO) vet ./...
	@test -z "$$(gofmt -l .)" || { echo "gofmt needed:"; gofmt -l .; exit 1; }

unit:
	$(GO) test -short -count=1 ./...

race:
	$(GO) test -short -race -count=1 $(RACE_PKGS)

# The seeded simulator over many seeds: n = 4 and n = 7 with 20% loss and
# crashes, and n = 4 with power cuts on Pebble storage.
sweep:
	$(GO) test -count=1 -run 'TestSweep' -v ./testnet/sim/ -args -sim.seeds=$(SEEDS) -sim.recover-seeds=$(RECOVER_SEEDS) \
	  | grep -E '^(=== RUN|--- |\s+sim_test.go:[0-9]+: (n=|crash-recover)|\s+sim_test.go:[0-9]+: .*(violation|seed)|ok|FAIL|PASS)'

# Every scenario of bench/scenarios under the simulator, checked.
suite:
	$(GO) test -count=1 -run 'TestStandardSuiteUnderSim|TestSweepNByBehaviour' ./bench/

# A scenario on a real 4-node testnet through the benchmark runner (the
# testnet end-to-end tests run in unit).
e2e:
	$(GO) test -count=1 -run 'TestRunTestnet' ./bench/

# The embedding example: a 4-node cluster over libp2p and Pebble in one
# program, with an application of its own.
examples:
	$(GO) run ./examples/embed

# Every fuzz target of every package, for FUZZTIME each.
fuzz:
	@for pkg in $$($(GO) list ./...); do \
	  for t in $$($(GO) test -list '^Fuzz' $$pkg | grep '^Fuzz'); do \
	    echo "fuzz $$pkg $$t ($(FUZZTIME))"; \
	    $(GO) test -run '^$$' -fuzz "^$$t$$" -fuzztime $(FUZZTIME) -fuzzminimizetime 2s $$pkg > /tmp/bftbed-fuzz.log 2>&1 || { cat /tmp/bftbed-fuzz.log; exit 1; }; \
	  done; \
	done

# Every benchmark once, so that one that breaks fails the tests; the
# numbers come from `make bench` and `make perf`.
benchsmoke:
	$(GO) test -count=1 -run '^$$' -bench . -benchtime 1x ./crypto/ ./pbft/... ./store/ ./p2p/ ./testnet/daemon/

bench:
	$(GO) test -run '^$$' -bench . -benchmem -benchtime 1s ./crypto/ ./pbft/... ./store/

# The whole-system benchmark: a 4-node testnet of real processes and the
# load generator on this machine (bench/perf.sh; CLIENTS, DURATION, RUNS,
# RATE from the environment). Its numbers go in BENCHMARKS.md.
perf:
	bench/perf.sh

clean:
	rm -rf bin
