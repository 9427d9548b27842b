#!/usr/bin/env bash
# it_scenarios.sh: every scenario in scenarios/ runs in the simulator, meets
# its own [expect] lines and gives exactly its golden digests
# (tests/golden/NAME.digest) -- with the build under test and with every
# build in GOLDEN_BUILDS (`make test` passes the gcc and clang release
# builds), so digests are the same across compilers, optimisation levels,
# sanitizers and machines. A broken scenario file is refused with file:line
# before anything runs (exit 2).
set -u
BUILD=${BUILD:-build}
tmp=$(mktemp -d /tmp/sy-scn.XXXXXX)
trap 'rm -rf "$tmp"' EXIT
fail=0

builds="$BUILD ${GOLDEN_BUILDS:-}"
for b in $builds; do
	[ -x "$b/switchyard" ] || { echo "it_scenarios: $b/switchyard is not built (GOLDEN_BUILDS=${GOLDEN_BUILDS:-})"; exit 1; }
done

for s in scenarios/*.scn; do
	name=$(basename "$s" .scn)
	golden="tests/golden/$name.digest"
	if [ ! -f "$golden" ]; then
		echo "it_scenarios: $golden is missing (make golden writes it)"; fail=1; continue
	fi
	for b in $builds; do
		out="$tmp/$name.$(echo "$b" | tr / _)"
		if ! tests/golden.sh print "$b/switchyard" "$s" "$out" >"$out.golden"; then
			echo "it_scenarios: $s with $b failed:"; tail -25 "$out.txt"; fail=1; continue
		fi
		if ! diff <(grep -v '^#' "$golden") "$out.golden" >"$out.diff"; then
			echo "it_scenarios: $s with $b: digests differ from $golden (< golden, > this run):"
			cat "$out.diff"; fail=1; continue
		fi
		echo "it_scenarios: $s with $b: $(grep '^result' "$out.txt"), golden digests match"
	done
done

printf '[run]\nduration = 10s\n\n[traffic voice]\ncpss = 10\n' >"$tmp/bad.scn"
"$BUILD/switchyard" sim "$tmp/bad.scn" >"$tmp/bad.out" 2>&1
rc=$?
if [ $rc -ne 2 ] || ! grep -q "bad.scn:5: unknown key 'cpss'" "$tmp/bad.out"; then
	echo "it_scenarios: a bad scenario was not refused with file:line (rc $rc):"; cat "$tmp/bad.out"; fail=1
else
	echo "it_scenarios: bad scenario refused: $(cat "$tmp/bad.out")"
fi
exit $fail
