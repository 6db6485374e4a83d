#!/usr/bin/env bash
# The whole-system benchmark of BENCHMARKS.md: a fresh 4-node testnet of
# real processes (libp2p, Pebble, every message signed and every step
# synced) and the load generator, all on this machine.
#
#   1. closed loop: CLIENTS clients for DURATION, RUNS times;
#   2. open loop at RATE operations/s (default: half the best closed-loop
#      throughput), served by a pool of CLIENTS clients, for the latency at
#      that load.
#
# It prints each run's summary and the CPU the node processes and the load
# generator used. Usage: bench/perf.sh (or `make perf`); CLIENTS, DURATION,
# RUNS, RATE, LOAD_FLAGS (more flags for every bftbed load) and KEEP=1
# (keep the testnet directory) are read from the environment.
set -euo pipefail

CLIENTS=${CLIENTS:-256}
DURATION=${DURATION:-30s}
RUNS=${RUNS:-3}
RATE=${RATE:-}
read -r -a extra <<<"${LOAD_FLAGS:-}"
BIN=${BIN:-bin/bftbed}

cd "$(dirname "$0")/.."
go build -o "$BIN" ./cmd/bftbed
dir=$(mktemp -d -t bftbed-perf.XXXXXX)
cleanup() {
	"$BIN" testnet down "$dir/tn" >/dev/null 2>&1 || true
	if [[ -z "${KEEP:-}" ]]; then rm -rf "$dir"; else echo "testnet kept in $dir/tn"; fi
}
trap cleanup EXIT

"$BIN" testnet init -n 4 -o "$dir/tn" >/dev/null
"$BIN" testnet up "$dir/tn" >"$dir/up.log" 2>&1 || { cat "$dir/up.log"; exit 1; }
pids=()
for f in "$dir"/tn/node-*/node.pid; do pids+=("$(cat "$f")"); done

# cpu_ticks prints the user+system clock ticks the node processes used.
cpu_ticks() {
	local sum=0 p
	for p in "${pids[@]}"; do
		# Fields 14 and 15 of /proc/PID/stat, after the "(comm)" field.
		read -r -a f < <(sed 's/^.*) //' "/proc/$p/stat")
		sum=$((sum + f[11] + f[12]))
	done
	echo "$sum"
}
hz=$(getconf CLK_TCK)

echo "machine: $(nproc) cores, $(awk '/MemTotal/ {printf "%.0f GiB", $2/1048576}' /proc/meminfo), $(uname -sr), $(go env GOVERSION)"
echo "testnet: $dir/tn (4 nodes)"

# load runs one bftbed load, then prints the nodes' and the generator's CPU.
load() {
	local before after out="$dir/load.json" t0 t1
	before=$(cpu_ticks)
	t0=$(date +%s.%N)
	/usr/bin/time -f "%U %S" -o "$dir/time" "$BIN" load --testnet "$dir/tn" --history=false --out "$out" "${extra[@]}" "$@" 2>/dev/null |
		grep -E '^(load on|committed|latency|errors)'
	t1=$(date +%s.%N)
	after=$(cpu_ticks)
	read -r u s <"$dir/time"
	awk -v n=$((after - before)) -v hz="$hz" -v u="$u" -v s="$s" -v t0="$t0" -v t1="$t1" \
		'BEGIN { w = t1 - t0; printf "cpu        nodes %.1f s, load generator %.1f s, over %.1f s: %.2f of the machine'"'"'s %d cores\n", n/hz, u+s, w, (n/hz+u+s)/w, '"$(nproc)"' }'
	best=$(python3 -c 'import json,sys; print(int(json.load(open(sys.argv[1]))["throughput"]))' "$out" 2>/dev/null || echo 0)
}

top=0
for i in $(seq "$RUNS"); do
	echo "--- closed loop, run $i"
	load --clients "$CLIENTS" --duration "$DURATION"
	((best > top)) && top=$best
done
RATE=${RATE:-$((top / 2))}
if ((RATE > 0)); then
	echo "--- open loop at $RATE ops/s"
	load --rate "$RATE" --clients "$CLIENTS" --duration "$DURATION"
fi
