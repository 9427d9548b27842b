#!/usr/bin/env bash
# bench/knee-calibrate.sh [BUILD_DIR]: the live figures the simulator's CPU model is calibrated
# from (docs/operations.md, "Capacity in the simulator"). SIPp uac -> serve ->
# SIPp uas on loopback, default settings, at each rate in KNEE_RATES for
# KNEE_SECONDS; prints one JSON line per rate with the switch's CPU per call
# (utime + stime from /proc/PID/stat over the run, divided by the calls) and
# SIPp's failed calls. Short runs: the machine is shared.
set -u
BUILD=${1:-${BUILD:-build}}
source "$(dirname "$0")/../tests/lib.sh"
rates=${KNEE_RATES:-1000 3000 5000}
seconds=${KNEE_SECONDS:-20}

require_switchyard
require_tool sipp python3
pick_ports 4
sw=${PORTS[0]} uas=${PORTS[1]} uac=${PORTS[2]} http=${PORTS[3]}
cat >"$TMP/serve.scn" <<CONF
[node]
sip = 127.0.0.1:$sw
http = 127.0.0.1:$http
out = $TMP/out

[trunk local]
address = 127.0.0.1

[carrier sipp-uas]
prefixes = 1 44
address = 127.0.0.1:$uas
capacity = 100000
CONF

tck=$(getconf CLK_TCK)
cpu_ticks() { awk '{print $14 + $15}' "/proc/$1/stat"; }

for r in $rates; do
	rm -rf "$TMP/out"
	start_switchyard serve serve "$TMP/serve.scn"
	start uas sipp -sn uas -i 127.0.0.1 -p "$uas" -nostdin -buff_size 4194304
	wait_port uas udp "$uas"
	calls=$((r * seconds))
	t0=$(cpu_ticks "${PID[serve]}")
	(cd "$TMP" && timeout $((seconds * 4 + 60)) sipp -sn uac -s 14155550100 -i 127.0.0.1 -p "$uac" -r "$r" \
		-m "$calls" -buff_size 4194304 -nostdin -trace_stat -stf "$TMP/uac_stat_$r.csv" -fd 1 \
		"127.0.0.1:$sw" >"$TMP/uac.log" 2>&1)
	t1=$(cpu_ticks "${PID[serve]}")
	read -r ok failed < <(python3 - "$TMP/uac_stat_$r.csv" <<'PY'
import csv, sys
rows = list(csv.reader(open(sys.argv[1]), delimiter=';'))
h, last = rows[0], rows[-1]
print(last[h.index('SuccessfulCall(C)')], last[h.index('FailedCall(C)')])
PY
)
	us=$(((t1 - t0) * 1000000 / tck / calls))
	echo "{\"bench\":\"knee-calibrate\",\"cps\":$r,\"seconds\":$seconds,\"calls\":$calls,\"ok\":${ok:-0},\"failed\":${failed:-0},\"serve_cpu_s\":$(((t1 - t0) / tck)),\"us_per_call\":$us}"
	stop serve
	stop uas
done
