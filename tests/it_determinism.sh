#!/usr/bin/env bash
# it_determinism.sh: the same scenario and seed give byte-identical outputs
# (digest, report, CDRs in CSV and sqlite, series) -- run twice with the build
# under test and once with every build in GOLDEN_BUILDS (other compilers and
# optimisation levels); another seed gives a different digest and CDRs. Every
# run must pass its [expect] lines. Across machines, tests/golden/ holds the
# digests (checked by it_scenarios.sh).
set -u
BUILD=${BUILD:-build}
tmp=$(mktemp -d /tmp/sy-det.XXXXXX)
trap 'rm -rf "$tmp"' EXIT
scn=scenarios/voice-basic.scn
files="report.json cdrs.csv cdrs.sqlite series.csv"

run() { # bin seed outdir
	"$1" sim "$scn" --seed "$2" --quiet --out "$3" >"$3.txt" 2>"$3.err"
	local rc=$?
	if [ $rc -ne 0 ]; then
		echo "it_determinism: $1 --seed $2 exited $rc (a failed [expect] counts as a failure):"
		cat "$3.txt" "$3.err" | tail -30
		exit 1
	fi
	tail -1 "$3.txt"
}
same() { # dirA dirB what
	local f ok=0
	for f in $files; do
		[ -f "$1/$f" ] || { echo "it_determinism: $1/$f was not written"; ok=1; continue; }
		cmp -s "$1/$f" "$2/$f" || { echo "it_determinism: $3: $f differs"; ok=1; }
	done
	# report.txt names its output folder; the rest must be the same bytes
	cmp -s <(sed "s#$1#OUT#g" "$1/report.txt") <(sed "s#$2#OUT#g" "$2/report.txt") ||
		{ echo "it_determinism: $3: report.txt differs"; ok=1; }
	return $ok
}

fail=0
for b in $BUILD ${GOLDEN_BUILDS:-}; do
	[ -x "$b/switchyard" ] || { echo "it_determinism: $b/switchyard is not built"; exit 1; }
done
d1=$(run "$BUILD/switchyard" 7 "$tmp/a") || { echo "$d1"; exit 1; }
d2=$(run "$BUILD/switchyard" 7 "$tmp/b") || { echo "$d2"; exit 1; }
d3=$(run "$BUILD/switchyard" 8 "$tmp/c") || { echo "$d3"; exit 1; }
echo "it_determinism: $BUILD seed 7: $d1"
echo "it_determinism: $BUILD seed 7: $d2"
echo "it_determinism: $BUILD seed 8: $d3"
case "$d1" in digest*sha256:*) ;; *) echo "it_determinism: last line is not the digest"; fail=1 ;; esac
[ "$d1" = "$d2" ] || { echo "it_determinism: same seed, different digests"; fail=1; }
[ "$d1" != "$d3" ] || { echo "it_determinism: seeds 7 and 8 gave the same digest"; fail=1; }
same "$tmp/a" "$tmp/b" "same build, same seed" || fail=1
cmp -s "$tmp/a/cdrs.csv" "$tmp/c/cdrs.csv" && { echo "it_determinism: seeds 7 and 8 gave the same CDRs"; fail=1; }
[ "$(wc -l <"$tmp/a/cdrs.csv")" -gt 1000 ] || { echo "it_determinism: too few CDRs"; fail=1; }
i=0
for b in ${GOLDEN_BUILDS:-}; do
	i=$((i + 1))
	d=$(run "$b/switchyard" 7 "$tmp/x$i") || { echo "$d"; exit 1; }
	echo "it_determinism: $b seed 7: $d"
	[ "$d" = "$d1" ] || { echo "it_determinism: $b and $BUILD give different digests"; fail=1; }
	same "$tmp/a" "$tmp/x$i" "$b vs $BUILD" || fail=1
done
exit $fail
