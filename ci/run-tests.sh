#!/usr/bin/env bash
# ci/run-tests.sh BUILD_DIR: runs the lint, every cmocka test binary and every
# integration script (tests/it_*.sh), and ends with one line
# "N passed, N failed" counting test cases. Exit status 1 if anything failed.
set -u
cd "$(dirname "$0")/.."
build=${1:-build}
passed=0
failed=0
failures=()

if ci/lint; then passed=$((passed + 1)); else failed=$((failed + 1)); failures+=("ci/lint"); fi
if ci/lint --self-test; then passed=$((passed + 1)); else failed=$((failed + 1)); failures+=("ci/lint --self-test"); fi

for t in "$build"/tests/test_*; do
	[ -x "$t" ] || continue
	name=$(basename "$t")
	out=$(mktemp)
	timeout 600 "$t" >"$out" 2>&1
	rc=$?
	cat "$out"
	p=$(grep -oE '^\[  PASSED  \] [0-9]+' "$out" | awk '{s+=$4} END {print s+0}')
	f=$(grep -oE '^\[  FAILED  \] [0-9]+' "$out" | awk '{s+=$4} END {print s+0}')
	if [ "$rc" -ne 0 ] && [ "$f" -eq 0 ]; then
		f=1 # crashed or timed out before cmocka could count
		echo "$name: exited with status $rc"
	fi
	passed=$((passed + p))
	failed=$((failed + f))
	[ "$f" -gt 0 ] && failures+=("$name")
	rm -f "$out"
done

for s in tests/it_*.sh; do
	[ -f "$s" ] || continue
	name=$(basename "$s" .sh)
	echo "[ RUN      ] $name"
	if BUILD="$build" timeout 900 bash "$s"; then
		echo "[       OK ] $name"
		passed=$((passed + 1))
	else
		echo "[  FAILED  ] $name"
		failed=$((failed + 1))
		failures+=("$name")
	fi
done

[ ${#failures[@]} -gt 0 ] && echo "failed: ${failures[*]}"
echo "$passed passed, $failed failed"
[ "$failed" -eq 0 ]
