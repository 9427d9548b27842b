#!/usr/bin/env bash
# fuzz/run.sh SECONDS NAME...   runs build/fuzz/NAME_fuzz for SECONDS each,
#                               on fuzz/corpus/NAME/ plus what earlier runs
#                               found (build/fuzz/corpus/NAME/, where new
#                               inputs go), and prints one line per harness
#                               from libFuzzer's final stats.
# fuzz/run.sh merge NAME...     minimises build/fuzz/corpus/NAME/ into the
#                               committed fuzz/corpus/NAME/ (-merge=1 adds
#                               only inputs that reach new coverage).
# Exit status 1 when any harness crashed, leaked, hit UB or timed out; its
# input is kept as build/fuzz/artifacts/NAME-crash-... (see docs/fuzzing.md).
set -u
cd "$(dirname "$0")/.."
what=${1:?usage: fuzz/run.sh SECONDS|merge NAME...}
shift
out=build/fuzz
mkdir -p "$out/artifacts" "$out/logs"
# Bigger inputs are not more interesting; HTTP needs room for a 64 KB body.
max_len() { case $1 in http) echo 70000 ;; scn) echo 16384 ;; pcap) echo 65536 ;; *) echo 8192 ;; esac; }
failed=()
summary=()
for name in "$@"; do
	bin=$out/${name}_fuzz
	[ -x "$bin" ] || { echo "fuzz/run.sh: $bin not built (make fuzz-build)"; exit 1; }
	mkdir -p "$out/corpus/$name" "fuzz/corpus/$name"
	dict=()
	[ -f "fuzz/$name.dict" ] && dict=(-dict="fuzz/$name.dict")
	log=$out/logs/$name.log
	if [ "$what" = merge ]; then
		"$bin" -merge=1 -max_len="$(max_len "$name")" "${dict[@]}" "fuzz/corpus/$name" "$out/corpus/$name" >"$log" 2>&1 \
			|| failed+=("$name")
		summary+=("$(printf '%-10s %s' "$name" "$(grep -E 'MERGE-OUTER: [0-9]+ new files' "$log" | tail -1)")")
		continue
	fi
	echo "fuzz: $name for ${what}s (log: $log)"
	"$bin" -max_total_time="$what" -max_len="$(max_len "$name")" -timeout=10 -rss_limit_mb=2048 \
		-print_final_stats=1 -artifact_prefix="$out/artifacts/$name-" "${dict[@]}" \
		"$out/corpus/$name" "fuzz/corpus/$name" >"$log" 2>&1
	rc=$?
	execs=$(grep -oE 'stat::number_of_executed_units: *[0-9]+' "$log" | grep -oE '[0-9]+$' || echo '?')
	cov=$(grep -oE '(cov|ft): [0-9]+' "$log" | tail -2 | tr '\n' ' ')
	if [ "$rc" -ne 0 ]; then
		failed+=("$name")
		grep -E '^(==[0-9]+==ERROR|SUMMARY)|runtime error|Test unit written' "$log" | head -5
	fi
	summary+=("$(printf '%-10s rc=%d execs=%s %s' "$name" "$rc" "${execs:-?}" "$cov")")
done
printf '%s\n' "${summary[@]}"
if [ ${#failed[@]} -gt 0 ]; then
	echo "fuzz: FAILED: ${failed[*]} (inputs in $out/artifacts/)"
	exit 1
fi
