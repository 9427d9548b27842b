#!/usr/bin/env bash
# bench/run.sh BUILD_DIR: runs every benchmark and prints one JSON line each;
# the lines are also appended to bench/results.jsonl with the git commit,
# the machine's core count and the date. Timings on shared machines are
# noisy: compare ratios within one run, or callgrind instruction counts.
set -u
cd "$(dirname "$0")/.."
build=${1:-build}
commit=$(git rev-parse --short HEAD 2>/dev/null || echo unknown)
cores=$(nproc)
when=$(date -u +%Y-%m-%dT%H:%M:%SZ)
out=$(mktemp)

emit() { # add the run's context to a bench JSON line
	local line=$1
	line="${line%\}},\"commit\":\"$commit\",\"cores\":$cores,\"date\":\"$when\"}"
	echo "$line"
	echo "$line" >>bench/results.jsonl
}

# Scenario benchmarks: the simulator at the target rates.
for spec in "voice-sim:bench/voice-10k.scn" "voice-sim-fraud:bench/voice-10k-fraud.scn" "sms-sim:bench/sms-100k.scn" "voice-knee:bench/voice-knee.scn" "ussd-sim:bench/ussd-sim.scn" ${SY_BENCH_EXTRA_SCN:-}; do
	name=${spec%%:*} scn=${spec#*:}
	[ -f "$scn" ] || continue
	echo "bench: $name ($scn) ..." >&2
	"$build/switchyard" sim "$scn" --quiet --bench "$name" --out "$build/bench-out/$name" >/dev/null 2>"$out"
	line=$(grep '^{"bench"' "$out" | tail -1)
	[ -n "$line" ] && emit "$line" || { echo "bench: $name produced no result" >&2; cat "$out" >&2; }
done

# Live benchmarks: bench/*.sh start real processes on loopback.
for b in bench/*.sh; do
	[ "$b" = bench/run.sh ] && continue
	echo "bench: $(basename "$b") ..." >&2
	"$b" "$build" 2>/dev/null | grep '^{"bench"' | while read -r line; do emit "$line"; done
done

# Program benchmarks: bench/*.c, each prints JSON lines.
for b in "$build"/bench/*; do
	[ -x "$b" ] || continue
	echo "bench: $(basename "$b") ..." >&2
	"$b" >"$out" 2>/dev/null
	grep '^{"bench"' "$out" | while read -r line; do emit "$line"; done
done
rm -f "$out"
