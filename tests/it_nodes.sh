#!/usr/bin/env bash
# it_nodes.sh: [node] nodes = N, the SMSC as N instances (docs/operations.md,
# "One SMSC per core"), in the simulator:
# - nodes = 1 written out is the run without the key: the same event-log
#   digest as the scenario's golden one;
# - nodes = 2 and 4 of the SMS scenarios (a crash of the switch, a power cut
#   with sync = full, a carrier dropping its binds, one that does not
#   deduplicate) meet the scenarios' own [expect] lines (0 lost, 0
#   duplicate where they say so) with the same messages offered as nodes = 1
#   (accepted + skipped), every accepted one receipted and given an outcome,
#   as many lost (0, or the bounded sync = normal loss); receipts cross
#   instances (forwarded), none is lost on the way;
# - [traffic sms] over an account group spreads the binds, so both
#   instances carry messages (sms-nodes-spread.scn);
# - bad values and unsupported combinations are refused with file:line.
set -u
BUILD=${BUILD:-build}
bin=$BUILD/switchyard
tmp=$(mktemp -d /tmp/sy-nodes.XXXXXX)
# variants live next to the originals (their tariffs/ and pcaps/ paths are
# relative); dot names keep them out of scenarios/*.scn
trap 'rm -rf "$tmp" scenarios/.it-nodes-$$-*.scn' EXIT
fail=0

variant() { # scenario n -> path of a copy with [node] nodes = n
	local s=$1 n=$2 f="scenarios/.it-nodes-$$-$(basename "$1" .scn)-$2.scn"
	if grep -q '^\[node\]' "$s"; then
		sed "s/^\[node\]\$/[node]\nnodes = $n/" "$s" >"$f"
	else
		{ cat "$s"; printf '\n[node]\nnodes = %s\n' "$n"; } >"$f"
	fi
	echo "$f"
}

metric() { # report.json key
	grep -o "\"$2\": *-\?[0-9.]*" "$1" | head -1 | sed 's/.*: *//'
}

for name in sms-basic sms-crash-nodedup sms-power-loss; do
	s=scenarios/$name.scn
	for n in 1 2 4; do
		f=$(variant "$s" "$n")
		out=$tmp/$name-$n
		if ! "$bin" sim "$f" --quiet --out "$out" >"$out.txt" 2>&1; then
			echo "it_nodes: $name with nodes = $n failed its [expect] lines:"; grep -E 'FAIL|error' "$out.txt" | head; fail=1; continue
		fi
		if [ "$n" = 1 ]; then
			want=$(grep '^digest' "tests/golden/$name.digest")
			got=$(tail -1 "$out.txt")
			if [ "$want" != "$got" ]; then
				echo "it_nodes: $name with nodes = 1 written out: digest $got, golden $want"; fail=1
			fi
			continue
		fi
		# The same messages offered: an arrival while the application has
		# no bind (the crash's downtime, whose end moves by a hop with
		# the handoff) is skipped, so accepted + skipped is what must
		# match; every accepted message is receipted and has an outcome.
		r1=$tmp/$name-1/report.json rn=$out/report.json
		a=$(($(metric "$r1" sms.accepted) + $(metric "$r1" sms.skipped)))
		b=$(($(metric "$rn" sms.accepted) + $(metric "$rn" sms.skipped)))
		[ "$a" = "$b" ] || { echo "it_nodes: $name: accepted + skipped is $b with nodes = $n, $a with nodes = 1"; fail=1; }
		[ "$(metric "$rn" sms.lost)" = "$(metric "$r1" sms.lost)" ] ||
			{ echo "it_nodes: $name: sms.lost $(metric "$rn" sms.lost) with nodes = $n, $(metric "$r1" sms.lost) with 1"; fail=1; }
		acc=$(metric "$rn" sms.accepted)
		out_n=$(($(metric "$rn" sms.delivered) + $(metric "$rn" sms.undeliverable) + $(metric "$rn" sms.expired)))
		if [ "$(metric "$rn" sms.dlr)" != "$acc" ] || [ "$out_n" != "$acc" ]; then
			echo "it_nodes: $name with nodes = $n: accepted $acc, receipted $(metric "$rn" sms.dlr), delivered + undeliverable + expired $out_n"; fail=1
		fi
		fwd=$(metric "$out/report.json" sms.receipts_forwarded)
		flost=$(metric "$out/report.json" sms.receipts_forward_lost)
		nodes=$(metric "$out/report.json" sms.nodes)
		if [ "$nodes" != "$n" ] || [ "${fwd:-0}" -le 0 ] || [ "$flost" != 0 ]; then
			echo "it_nodes: $name with nodes = $n: sms.nodes $nodes, receipts forwarded $fwd, forward lost $flost"; fail=1
		fi
		echo "it_nodes: $name with nodes = $n: $(grep '^result' "$out.txt"), accepted $(metric "$out/report.json" sms.accepted), lost $(metric "$out/report.json" sms.lost), receipts forwarded $fwd"
	done
done

# the scenario that hands the binds over: nodes = 4 too (its golden is nodes = 2)
f=scenarios/.it-nodes-$$-sms-nodes-4.scn
sed 's/^nodes = 2$/nodes = 4/; s/^sms.nodes == 2$/sms.nodes == 4/' scenarios/sms-nodes.scn >"$f"
if "$bin" sim "$f" --quiet --out "$tmp/sn4" >"$tmp/sn4.txt" 2>&1; then
	echo "it_nodes: sms-nodes with nodes = 4: $(grep '^result' "$tmp/sn4.txt"), binds handed $(metric "$tmp/sn4/report.json" sms.binds_handed)"
else
	echo "it_nodes: sms-nodes with nodes = 4 failed:"; grep -E 'FAIL|error' "$tmp/sn4.txt" | head; fail=1
fi

# the account's instance crashes alone (switch-2): receipts forwarded to it
# meanwhile are counted and left unanswered, the carriers send them again;
# nothing acknowledged is lost
f=scenarios/.it-nodes-$$-sms-nodes-c2.scn
sed 's/^node = switch crash 3s$/node = switch-2 crash 3s/; s/^sms.receipts_forward_lost == 0$/sms.receipts_forward_lost > 0/' \
	scenarios/sms-nodes.scn >"$f"
if "$bin" sim "$f" --quiet --out "$tmp/c2" >"$tmp/c2.txt" 2>&1; then
	echo "it_nodes: sms-nodes, switch-2 crashing alone: $(grep '^result' "$tmp/c2.txt"), receipts forwarded to it while down $(metric "$tmp/c2/report.json" sms.receipts_forward_lost)"
else
	echo "it_nodes: sms-nodes, switch-2 crashing alone, failed:"; grep -E 'FAIL|error' "$tmp/c2.txt" | head; fail=1
fi
# and its power cut alone, with sync = full: nothing acknowledged lost either
sed 's/^node = switch crash 3s$/node = switch-2 power-loss 3s/; s/^sms.receipts_forward_lost == 0$/sms.receipts_forward_lost > 0/; s/^nodes = 2$/nodes = 2\nsync = full/' \
	scenarios/sms-nodes.scn >"$f"
if "$bin" sim "$f" --quiet --out "$tmp/p2" >"$tmp/p2.txt" 2>&1 && [ "$(metric "$tmp/p2/report.json" power.count)" = 1 ]; then
	echo "it_nodes: sms-nodes, switch-2's power cut alone (sync = full): $(grep '^result' "$tmp/p2.txt"), lost $(metric "$tmp/p2/report.json" sms.lost)"
else
	echo "it_nodes: sms-nodes, switch-2's power cut alone, failed:"; grep -E 'FAIL|error|^power' "$tmp/p2.txt" | head; fail=1
fi
sed 's/^node = switch crash 3s$/node = switch-3 crash 3s/' scenarios/sms-nodes.scn >"$f"
"$bin" sim "$f" --quiet --out "$tmp/c3" >"$tmp/c3.txt" 2>&1
rc=$?
if [ $rc -ne 2 ] || ! grep -q "unknown node 'switch-3'" "$tmp/c3.txt"; then
	echo "it_nodes: switch-3 with nodes = 2: exit $rc, not refused:"; head -3 "$tmp/c3.txt"; fail=1
fi

# An account group spreads the load (sms-nodes-spread: [traffic sms] over
# apps-0 .. apps-3, bind i as member i mod 4): both instances carry
# messages. Some of the binds are handed to instance 2, not all; each
# instance's MDRs (one a part) are of its own members only, both hold some,
# and together they are every part accepted; each part is receipted and
# given an outcome, none lost. The same run with one account (count = 1)
# puts every bind on one instance, and the check says so.
spread_check() { # scenario outdir -> what is wrong, exit 1; nothing, exit 0
	local r=$2/report.json binds handed adopted acc m1 m2 both out_n
	binds=$(sed -n '/^\[traffic sms\]/,/^\[/s/^binds = //p' "$1")
	handed=$(metric "$r" sms.binds_handed) adopted=$(metric "$r" sms.binds_adopted)
	acc=$(metric "$r" sms.accepted)
	m1=$(($(wc -l <"$2/mdrs.csv") - 1)) m2=$(($(wc -l <"$2/node2/mdrs.csv") - 1))
	both=$(comm -12 <(tail -n +2 "$2/mdrs.csv" | cut -d, -f2 | sort -u) <(tail -n +2 "$2/node2/mdrs.csv" | cut -d, -f2 | sort -u))
	out_n=$(($(metric "$r" sms.delivered) + $(metric "$r" sms.undeliverable) + $(metric "$r" sms.expired)))
	local why=""
	[ "${handed:-0}" -gt 0 ] && [ "$handed" -lt "$binds" ] && [ "$adopted" = "$handed" ] ||
		why="$why binds handed $handed, adopted $adopted of $binds;"
	[ "$m1" -gt 0 ] && [ "$m2" -gt 0 ] || why="$why MDRs $m1 on instance 1, $m2 on instance 2;"
	[ -z "$both" ] || why="$why accounts on both instances: $(echo $both);"
	[ $((m1 + m2)) = "$acc" ] && [ "$(metric "$r" sms.dlr)" = "$acc" ] && [ "$out_n" = "$acc" ] ||
		why="$why accepted $acc, MDRs $m1 + $m2, receipted $(metric "$r" sms.dlr), with an outcome $out_n;"
	[ "$(metric "$r" sms.lost)" = 0 ] || why="$why lost $(metric "$r" sms.lost);"
	local busy2
	busy2=$(metric "$r" cpu.busy_node2)
	awk -v b="${busy2:-0}" 'BEGIN { exit !(b > 0) }' || why="$why instance 2 busy ${busy2:-0} ms;"
	[ -z "$why" ] || { echo "$why"; return 1; }
}
s=scenarios/sms-nodes-spread.scn
"$bin" sim "$s" --quiet --out "$tmp/spread" >"$tmp/spread.txt" 2>&1
rc=$?
if [ $rc -eq 0 ] && why=$(spread_check "$s" "$tmp/spread"); then
	echo "it_nodes: sms-nodes-spread: $(grep '^result' "$tmp/spread.txt"), accepted $(metric "$tmp/spread/report.json" sms.accepted): $(($(wc -l <"$tmp/spread/mdrs.csv") - 1)) on instance 1, $(($(wc -l <"$tmp/spread/node2/mdrs.csv") - 1)) on instance 2, binds handed $(metric "$tmp/spread/report.json" sms.binds_handed)"
else
	[ -f "$tmp/spread/report.json" ] && why=$(spread_check "$s" "$tmp/spread")
	echo "it_nodes: sms-nodes-spread failed (exit $rc):${why:-}"; grep -E 'FAIL|error' "$tmp/spread.txt" | head; fail=1
fi
f=scenarios/.it-nodes-$$-sms-nodes-spread-1.scn
sed 's/^count = 4$/count = 1/; /^\[expect\]$/,$d' "$s" >"$f"
if ! "$bin" sim "$f" --quiet --out "$tmp/spread1" >"$tmp/spread1.txt" 2>&1; then
	echo "it_nodes: sms-nodes-spread with one account failed:"; grep -E 'FAIL|error' "$tmp/spread1.txt" | head; fail=1
elif why=$(spread_check "$f" "$tmp/spread1"); then
	echo "it_nodes: sms-nodes-spread with one account (count = 1) passed the spread check"; fail=1
else
	echo "it_nodes: sms-nodes-spread with one account: not spread, as it should not be:$why"
fi

# refused: out of range, not a number, with [fraud] (one instance only)
for v in 0 17 two -1; do
	printf '[run]\nduration = 1s\n\n[node]\nnodes = %s\n' "$v" >"$tmp/bad.scn"
	"$bin" sim "$tmp/bad.scn" --quiet --out "$tmp/bad" >"$tmp/bad.out" 2>&1
	rc=$?
	if [ $rc -ne 2 ] || ! grep -q "bad.scn:5:.*nodes" "$tmp/bad.out"; then
		echo "it_nodes: nodes = $v: exit $rc, not refused with file:line:"; cat "$tmp/bad.out"; fail=1
	fi
done
f=$(variant scenarios/fraud-mix.scn 2)
"$bin" sim "$f" --quiet --out "$tmp/fraud" >"$tmp/fraud.out" 2>&1
rc=$?
if [ $rc -eq 0 ] || ! grep -q "nodes = 2 with \[fraud\]" "$tmp/fraud.out"; then
	echo "it_nodes: nodes = 2 with [fraud]: exit $rc, not refused:"; head -5 "$tmp/fraud.out"; fail=1
fi

[ $fail -eq 0 ] && echo "it_nodes: ok"
exit $fail
