#!/usr/bin/env bash
# it_scenarios.sh: every scenario in scenarios/ runs in the simulator and
# meets its own [expect] lines; a broken scenario file is refused with
# file:line before anything runs (exit 2).
set -u
BUILD=${BUILD:-build}
bin="$BUILD/switchyard"
tmp=$(mktemp -d /tmp/sy-scn.XXXXXX)
trap 'rm -rf "$tmp"' EXIT
fail=0
for s in scenarios/*.scn; do
	name=$(basename "$s" .scn)
	if "$bin" sim "$s" --quiet --out "$tmp/$name" >"$tmp/$name.txt" 2>&1; then
		echo "it_scenarios: $s: $(grep '^result' "$tmp/$name.txt")"
	else
		echo "it_scenarios: $s failed:"; cat "$tmp/$name.txt"; fail=1
	fi
done
printf '[run]\nduration = 10s\n\n[traffic voice]\ncpss = 10\n' >"$tmp/bad.scn"
"$bin" sim "$tmp/bad.scn" >"$tmp/bad.out" 2>&1
rc=$?
if [ $rc -ne 2 ] || ! grep -q "bad.scn:5: unknown key 'cpss'" "$tmp/bad.out"; then
	echo "it_scenarios: a bad scenario was not refused with file:line (rc $rc):"; cat "$tmp/bad.out"; fail=1
else
	echo "it_scenarios: bad scenario refused: $(cat "$tmp/bad.out")"
fi
exit $fail
