#!/usr/bin/env bash
# it_perf_gate: the performance gate (ci/perf-gate, docs/perf-gate.md).
# 1. `ci/perf-gate` on the release build against the committed
#    bench/baseline.json passes: no figure more than 3% worse (this is the
#    gate itself, run by make test).
# 2. bench/rating built with a calibrated busy loop in the rating path
#    (-DSY_PERF_GATE_SLOWDOWN, $(BUILD)/perf-slow/rating, ~10% of a rated CDR)
#    makes the gate fail, with a table naming rated_cdr, a change between
#    +5% and +20%, and exit status 1.
# 3. --write rewrites a baseline (a copy) with the figure, and the same
#    build then passes against it with a change of 0.00%.
# Instruction counts, never time: valgrind's callgrind. The ASan build
# cannot run under valgrind, so the gate uses the release build PERF_BUILD
# (default build), whatever BUILD the suite runs.
set -u
source "$(dirname "$0")/lib.sh"
require_tool valgrind
require_tool python3
REL=${PERF_BUILD:-build}

make -s --no-print-directory BUILD="$REL" "$REL/switchyard" "$REL/bench/rating" "$REL/bench/fraud_detect" \
	"$REL/perf-slow/rating" >"$TMP/make.log" 2>&1 || { cat "$TMP/make.log"; fail "building the gate's programs"; }

# 1: the gate on this tree
if ci/perf-gate --build "$REL" >"$TMP/gate.txt" 2>"$TMP/gate.err"; then
	say "gate passes on this tree"
else
	cat "$TMP/gate.txt" "$TMP/gate.err"
	fail "the perf gate fails on this tree (a figure >3% worse than bench/baseline.json: see docs/perf-gate.md)"
fi
cat "$TMP/gate.txt"

# 2: the injected slowdown
ci/perf-gate --build "$REL" --only rated_cdr --prog rating="$REL/perf-slow/rating" >"$TMP/slow.txt" 2>"$TMP/slow.err"
rc=$?
cat "$TMP/slow.txt"
[ "$rc" -eq 1 ] || fail "with the slowdown the gate exited $rc, not 1"
grep -E '^rated_cdr .*FAIL: more than 3% worse' "$TMP/slow.txt" >/dev/null || fail "no failing rated_cdr row in the table"
grep -q '^perf-gate: FAILED: rated_cdr$' "$TMP/slow.txt" || fail "the verdict does not name rated_cdr"
change=$(awk '$1 == "rated_cdr" { sub(/%/, "", $4); print $4 }' "$TMP/slow.txt")
python3 -c "import sys; c = float('$change'); sys.exit(0 if 5 <= c <= 20 else 1)" ||
	fail "the slowdown measured $change%, not about +10% (recalibrate PERF_SLOWDOWN in the Makefile)"
say "slowdown caught: rated_cdr $change%"

# 3: --write moves a baseline
cp bench/baseline.json "$TMP/baseline.json"
ci/perf-gate --build "$REL" --only rated_cdr --prog rating="$REL/perf-slow/rating" --write \
	--baseline "$TMP/baseline.json" >/dev/null 2>&1 || fail "--write failed"
ci/perf-gate --build "$REL" --only rated_cdr --prog rating="$REL/perf-slow/rating" \
	--baseline "$TMP/baseline.json" >"$TMP/moved.txt" 2>&1 || { cat "$TMP/moved.txt"; fail "no pass after --write"; }
grep -qE '^rated_cdr .* [-+]0\.00%  ok' "$TMP/moved.txt" || { cat "$TMP/moved.txt"; fail "the written baseline is not the measured figure"; }
python3 -c "import json, sys; b = json.load(open('$TMP/baseline.json')); sys.exit(0 if len(b) >= 6 and b['rated_cdr']['ops'] > 0 else 1)" ||
	fail "--write --only dropped the other figures"
say "ok"
