#!/usr/bin/env bash
# it_sipp.sh: SIPp against the live switch. `sipp -sn uas` is the carrier,
# `switchyard serve` routes to it, and `sipp -sn uac -r 200 -m 2000` calls
# through it. Passes when SIPp counts 2000 successful calls and 0 failed,
# and switchyard wrote 2000 CDRs (sqlite and CSV).
set -u
BUILD=${BUILD:-build}
bin="$PWD/$BUILD/switchyard"
calls=${SIPP_CALLS:-2000}
rate=${SIPP_RATE:-200}
tmp=$(mktemp -d /tmp/sy-sipp.XXXXXX)
pids=()
cleanup() {
	for p in "${pids[@]}"; do kill "$p" 2>/dev/null; done
	wait 2>/dev/null
	rm -rf "$tmp"
}
trap cleanup EXIT

# Ports chosen per run so parallel runs on one machine do not collide.
base=$((20000 + ($$ % 2000) * 10))
sw=$base uas=$((base + 1)) uac=$((base + 2)) http=$((base + 3))

cat >"$tmp/serve.scn" <<CONF
[node]
sip = 127.0.0.1:$sw
http = 127.0.0.1:$http
out = $tmp/out

[carrier sipp-uas]
prefixes = 1 44
address = 127.0.0.1:$uas
capacity = 5000
CONF

"$bin" serve "$tmp/serve.scn" >"$tmp/serve.log" 2>&1 &
pids+=($!)
serve_pid=$!
sipp -sn uas -i 127.0.0.1 -p "$uas" -nostdin -buff_size 4194304 >"$tmp/uas.log" 2>&1 &
pids+=($!)
sleep 1
if ! kill -0 "$serve_pid" 2>/dev/null; then
	echo "it_sipp: switchyard serve did not start:"; cat "$tmp/serve.log"; exit 1
fi

cd "$tmp"
timeout 120 sipp -sn uac -s 14155550100 -i 127.0.0.1 -p "$uac" -r "$rate" -m "$calls" \
	-buff_size 4194304 -nostdin -trace_stat -stf "$tmp/uac_stat.csv" -fd 1 \
	"127.0.0.1:$sw" >"$tmp/uac.log" 2>&1
uac_rc=$?
cd - >/dev/null

# SIPp's own statistics: the last row of its stat file.
read -r ok failed < <(python3 - "$tmp/uac_stat.csv" <<'PY'
import csv, sys
rows = list(csv.reader(open(sys.argv[1]), delimiter=';'))
h, last = rows[0], rows[-1]
print(last[h.index('SuccessfulCall(C)')], last[h.index('FailedCall(C)')])
PY
)
echo "it_sipp: sipp uac exit=$uac_rc successful=$ok failed=$failed"

# The switch's own counters, as Prometheus scrapes them.
metric=$(python3 -c "
import urllib.request
t = urllib.request.urlopen('http://127.0.0.1:$http/metrics', timeout=5).read().decode()
print([l.split()[1] for l in t.splitlines() if l.startswith('switchyard_calls_completed_total ')][0])" 2>&1)
echo "it_sipp: /metrics switchyard_calls_completed_total $metric"

# Stop the switch cleanly: it flushes its CDRs on SIGTERM.
kill -TERM "$serve_pid"
for _ in $(seq 50); do kill -0 "$serve_pid" 2>/dev/null || break; sleep 0.2; done
cdrs=$(sqlite3 "$tmp/out/cdrs.sqlite" 'select count(*) from cdrs' 2>/dev/null || echo 0)
answered=$(sqlite3 "$tmp/out/cdrs.sqlite" "select count(*) from cdrs where disposition='ANSWERED'" 2>/dev/null || echo 0)
csv=$(($(wc -l <"$tmp/out/cdrs.csv" 2>/dev/null || echo 1) - 1))
echo "it_sipp: switchyard wrote $cdrs CDRs in sqlite ($answered answered), $csv in CSV"

fail=0
[ "$ok" = "$calls" ] || { echo "it_sipp: expected $calls successful calls, SIPp counted $ok"; fail=1; }
[ "$failed" = 0 ] || { echo "it_sipp: SIPp counted $failed failed calls"; fail=1; }
[ "$cdrs" = "$calls" ] || { echo "it_sipp: expected $calls CDRs, found $cdrs"; fail=1; }
[ "$answered" = "$calls" ] || { echo "it_sipp: expected $calls answered CDRs, found $answered"; fail=1; }
[ "$csv" = "$calls" ] || { echo "it_sipp: expected $calls CSV rows, found $csv"; fail=1; }
[ "$metric" = "$calls" ] || { echo "it_sipp: /metrics says $metric completed calls"; fail=1; }
if [ $fail -ne 0 ]; then
	echo "--- serve.log (tail)"; tail -20 "$tmp/serve.log"
	echo "--- uac.log (tail)"; tail -20 "$tmp/uac.log"
fi
exit $fail
