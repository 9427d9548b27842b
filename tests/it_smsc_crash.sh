#!/usr/bin/env bash
# it_smsc_crash.sh: kill -9 the live SMSC under load and restart it on the
# same output folder. `switchyard carriers` is the upstream SMSC (it writes
# one line per received message key), `switchyard serve` the SMSC under
# test, `switchyard load` the applications (they write every id that got a
# submit_sm_resp OK, and rebind after the crash). Passes when every acked id
# reached the carrier, none was delivered twice (a "KEY dup" line is a
# deduplicated re-send: allowed), and the load got a receipt for every
# acked message.
set -u
BUILD=${BUILD:-build}
bin="$PWD/$BUILD/switchyard"
tps=${CRASH_TPS:-2000}
secs=${CRASH_SECS:-12}
crash_after=${CRASH_AFTER:-4}
tmp=$(mktemp -d /tmp/sy-smsc-crash.XXXXXX)
pids=()
cleanup() {
	for p in "${pids[@]}"; do kill "$p" 2>/dev/null; done
	wait 2>/dev/null
	[ -n "${KEEP:-}" ] || rm -rf "$tmp"
}
trap cleanup EXIT

# Ports chosen per run so parallel runs on one machine do not collide.
base=$((20000 + ($$ % 2000) * 10))
sip=$base smpp=$((base + 1)) http=$((base + 2)) up=$((base + 3))

cat >"$tmp/crash.scn" <<CONF
[run]
duration = ${secs}s
drain = 60s

[node]
sip = 127.0.0.1:$sip
smpp = 127.0.0.1:$smpp
http = 127.0.0.1:$http
out = $tmp/out

[account app]
password = secret

[smpp-carrier up]
prefixes = 1
address = 127.0.0.1:$up
system_id = upstream
password = uppass
binds = 2
delivery = 100% delay 100ms..1s

[traffic sms]
account = app
tps = $tps
binds = 2
window = 100
to = +1XXXXXXXXXX
length = 20..60
CONF

start_serve() {
	"$bin" serve "$tmp/crash.scn" >>"$tmp/serve.log" 2>&1 &
	serve_pid=$!
	pids+=($serve_pid)
}

"$bin" carriers "$tmp/crash.scn" --keys "$tmp/keys.txt" >"$tmp/carriers.log" 2>&1 &
carriers_pid=$!
pids+=($carriers_pid)
start_serve
sleep 1
for p in "$carriers_pid:carriers" "$serve_pid:serve"; do
	if ! kill -0 "${p%%:*}" 2>/dev/null; then
		echo "it_smsc_crash: switchyard ${p#*:} did not start:"; cat "$tmp/${p#*:}.log"; exit 1
	fi
done

timeout $((secs + 120)) "$bin" load "$tmp/crash.scn" --target "127.0.0.1:$sip" --smpp-target "127.0.0.1:$smpp" \
	--acked "$tmp/acked.txt" >"$tmp/load.log" 2>"$tmp/load.err" &
load_pid=$!
pids+=($load_pid)

sleep "$crash_after"
before=$(wc -l <"$tmp/keys.txt")
kill -9 "$serve_pid"
wait "$serve_pid" 2>/dev/null
echo "it_smsc_crash: killed serve (kill -9) after ${crash_after}s at $tps TPS; carrier had $before messages"
echo "=== restart" >>"$tmp/serve.log"
sleep 1
start_serve
sleep 1
kill -0 "$serve_pid" 2>/dev/null || { echo "it_smsc_crash: serve did not restart:"; tail -20 "$tmp/serve.log"; exit 1; }

wait "$load_pid"
load_rc=$?
cat "$tmp/load.log"
kill -TERM "$serve_pid" "$carriers_pid" 2>/dev/null
for _ in $(seq 50); do kill -0 "$serve_pid" 2>/dev/null || kill -0 "$carriers_pid" 2>/dev/null || break; sleep 0.2; done
grep -h 'recover' "$tmp/serve.log" | head -3

# Every acked id must be a delivered key at the carrier, exactly once.
read -r acked uniq delivered missing twice dups < <(python3 - "$tmp/acked.txt" "$tmp/keys.txt" <<'PY'
import collections, sys
acked = [l.strip() for l in open(sys.argv[1]) if l.strip()]
plain, dups = collections.Counter(), 0
for l in open(sys.argv[2]):
    f = l.split()
    if len(f) == 1:
        plain[f[0]] += 1
    elif len(f) == 2 and f[1] == 'dup':
        dups += 1
missing = [a for a in set(acked) if plain[a] == 0]
twice = [k for k, n in plain.items() if n > 1]
for a in sorted(missing)[:5]:
    print('missing', a, file=sys.stderr)
for k in sorted(twice)[:5]:
    print('twice', k, file=sys.stderr)
print(len(acked), len(set(acked)), sum(plain.values()), len(missing), len(twice), dups)
PY
)
echo "it_smsc_crash: acked $acked ids ($uniq distinct); carrier received $delivered messages" \
	"($dups deduplicated re-sends); acked but never delivered: $missing; delivered twice: $twice"

fail=0
[ "${acked:-0}" -gt 0 ] || { echo "it_smsc_crash: no message was acked"; fail=1; }
[ "${uniq:-0}" = "${acked:-x}" ] || { echo "it_smsc_crash: the SMSC returned the same id twice"; fail=1; }
[ "${missing:-1}" = 0 ] || { echo "it_smsc_crash: $missing acked messages never reached the carrier"; fail=1; }
[ "${twice:-1}" = 0 ] || { echo "it_smsc_crash: $twice messages reached the carrier twice"; fail=1; }
[ "$load_rc" = 0 ] || { echo "it_smsc_crash: switchyard load exited $load_rc (acked messages without a receipt?)"; fail=1; }
if [ $fail -ne 0 ]; then
	echo "--- load.err (tail)"; tail -10 "$tmp/load.err"
	echo "--- serve.log (tail)"; tail -20 "$tmp/serve.log"
	echo "--- carriers.log (tail)"; tail -5 "$tmp/carriers.log"
else
	echo "it_smsc_crash: PASS"
fi
exit $fail
