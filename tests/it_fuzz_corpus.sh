#!/usr/bin/env bash
# it_fuzz_corpus.sh: every fuzz harness (fuzz/NAME_fuzz.c), built with the
# normal compiler and fuzz/replay_main.c as $BUILD/fuzz-replay/NAME, runs
# over its committed corpus fuzz/corpus/NAME/: the seeds from the real
# captures and the tests, and every input that once crashed a parser. Under
# `make test` that is ASan+UBSan on gcc, so a crash, a leak or UB found
# once by `make fuzz` stays fixed. Fails when a harness has no replay
# binary or no corpus (nothing would be checked).
set -u
BUILD=${BUILD:-build}
tmp=$(mktemp -d /tmp/sy-fuzzcorpus.XXXXXX)
trap 'rm -rf "$tmp"' EXIT
fails=0
names=0
for src in fuzz/*_fuzz.c; do
	name=$(basename "$src" _fuzz.c)
	names=$((names + 1))
	bin=$BUILD/fuzz-replay/$name
	if [ ! -x "$bin" ]; then
		echo "it_fuzz_corpus: $bin is missing (make tests-built)"
		fails=$((fails + 1))
		continue
	fi
	if [ -z "$(ls -A "fuzz/corpus/$name" 2>/dev/null)" ]; then
		echo "it_fuzz_corpus: fuzz/corpus/$name/ is empty or missing"
		fails=$((fails + 1))
		continue
	fi
	# One line per input on stderr names the one that crashed; keep it quiet
	# unless something failed.
	if timeout 600 "$bin" "fuzz/corpus/$name" >"$tmp/$name.out" 2>"$tmp/$name.err"; then
		echo "it_fuzz_corpus: $name: $(cat "$tmp/$name.out")"
	else
		echo "it_fuzz_corpus: $name FAILED (exit $?); last lines:"
		grep -v '^replay: fuzz/' "$tmp/$name.err" | head -30
		grep '^replay: fuzz/' "$tmp/$name.err" | tail -1
		fails=$((fails + 1))
	fi
done
[ "$names" -ge 6 ] || { echo "it_fuzz_corpus: only $names harnesses in fuzz/"; fails=$((fails + 1)); }
[ "$fails" -eq 0 ]
