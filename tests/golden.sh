#!/usr/bin/env bash
# tests/golden.sh: the golden digests of a scenario run, shared by
# tests/it_golden.sh (check) and `make golden` (rewrite).
#
#   tests/golden.sh print BIN SCENARIO OUTDIR   run it, print its golden text
#   tests/golden.sh write BIN                   rewrite tests/golden/*.digest
#
# The golden text is the event-log digest (the report's last line) and the
# SHA-256 of every deterministic file the run writes: the report, the CDRs,
# the MDRs and the time series. sqlite files are left out: their bytes
# depend on the sqlite version, not only on the run. The run must pass its
# own [expect] lines: a scenario that fails is not a golden reference.
set -u
cd "$(dirname "$0")/.."

golden_print() { # bin scenario outdir
	local bin=$1 scn=$2 out=$3 rc
	rm -rf "$out"
	"$bin" sim "$scn" --quiet --out "$out" >"$out.txt" 2>"$out.err"
	rc=$?
	if [ $rc -ne 0 ]; then
		echo "golden: $bin sim $scn exited $rc (an [expect] failed or the run broke):" >&2
		grep -E 'FAIL|error' "$out.txt" "$out.err" | head -20 >&2
		return 1
	fi
	tail -1 "$out.txt" | grep -E '^digest +sha256:[0-9a-f]{64}$' || {
		echo "golden: the last line of the report is not the digest:" >&2
		tail -3 "$out.txt" >&2
		return 1
	}
	local f
	for f in report.json cdrs.csv mdrs.csv udrs.csv series.csv; do
		[ -f "$out/$f" ] || continue
		printf '%-12s sha256:%s\n' "$f" "$(sha256sum <"$out/$f" | cut -d' ' -f1)"
	done
}

case "${1:-}" in
print)
	[ $# -eq 4 ] || { echo "usage: tests/golden.sh print BIN SCENARIO OUTDIR" >&2; exit 2; }
	golden_print "$2" "$3" "$4"
	;;
write)
	[ $# -eq 2 ] || { echo "usage: tests/golden.sh write BIN" >&2; exit 2; }
	[ -x "$2" ] || { echo "golden: $2 is not built" >&2; exit 1; }
	tmp=$(mktemp -d /tmp/sy-golden.XXXXXX)
	trap 'rm -rf "$tmp"' EXIT
	for s in scenarios/*.scn; do
		name=$(basename "$s" .scn)
		{
			echo "# $s with its own seed: the event-log digest and the deterministic outputs."
			echo "# Rewritten by 'make golden'; a commit that changes it says why."
			golden_print "$2" "$s" "$tmp/$name"
		} >"$tmp/$name.digest" || exit 1
		if ! cmp -s "$tmp/$name.digest" "tests/golden/$name.digest"; then
			cp "$tmp/$name.digest" "tests/golden/$name.digest"
			echo "golden: tests/golden/$name.digest rewritten"
		else
			echo "golden: tests/golden/$name.digest unchanged"
		fi
	done
	for g in tests/golden/*.digest; do
		[ -f "scenarios/$(basename "$g" .digest).scn" ] || { rm -f "$g"; echo "golden: $g removed (no scenario)"; }
	done
	;;
*)
	echo "usage: tests/golden.sh print BIN SCENARIO OUTDIR | write BIN" >&2
	exit 2
	;;
esac
