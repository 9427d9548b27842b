#!/usr/bin/env bash
# it_sipp.sh: SIPp against the live switch. `sipp -sn uas` is the carrier,
# `switchyard serve` routes to it, and `sipp -sn uac -r 200 -m 2000` calls
# through it. Passes when SIPp counts 2000 successful calls and 0 failed,
# the switch's /metrics says 2000 completed, and after a clean SIGTERM the
# switch has written 2000 answered CDRs (sqlite and CSV).
set -u
source "$(dirname "$0")/lib.sh"
calls=${SIPP_CALLS:-2000}
rate=${SIPP_RATE:-200}

require_switchyard
require_tool sipp sqlite3 python3
require_run "sipp" '^ *SIPp v[0-9]' sipp -v

pick_ports 4
sw=${PORTS[0]} uas=${PORTS[1]} uac=${PORTS[2]} http=${PORTS[3]}

cat >"$TMP/serve.scn" <<CONF
[node]
# the load generator is one source at hundreds of requests a second: exempt from pike
pike_exempt = 127.0.0.1
sip = 127.0.0.1:$sw
http = 127.0.0.1:$http
out = $TMP/out

[trunk local]
address = 127.0.0.1

[carrier sipp-uas]
prefixes = 1 44
address = 127.0.0.1:$uas
capacity = 5000
CONF

start_switchyard serve serve "$TMP/serve.scn"
start uas sipp -sn uas -i 127.0.0.1 -p "$uas" -nostdin -buff_size 4194304
wait_port uas udp "$uas"

(cd "$TMP" && timeout 120 sipp -sn uac -s 14155550100 -i 127.0.0.1 -p "$uac" -r "$rate" -m "$calls" \
	-buff_size 4194304 -nostdin -trace_stat -stf "$TMP/uac_stat.csv" -fd 1 \
	"127.0.0.1:$sw" >"$TMP/uac.log" 2>&1)
uac_rc=$?
check "sipp uac exit status" "$uac_rc" 0

# SIPp's own statistics: the last row of its stat file.
[ -s "$TMP/uac_stat.csv" ] || { show_log uac; fail "sipp uac wrote no statistics file"; }
read -r ok failed < <(python3 - "$TMP/uac_stat.csv" <<'PY'
import csv, sys
rows = list(csv.reader(open(sys.argv[1]), delimiter=';'))
h, last = rows[0], rows[-1]
print(last[h.index('SuccessfulCall(C)')], last[h.index('FailedCall(C)')])
PY
)
check "SIPp successful calls" "${ok:-none}" "$calls"
check "SIPp failed calls" "${failed:-none}" 0
# The switch's own counters, as Prometheus scrapes them.
check "/metrics calls completed" "$(metric_settles "$http" switchyard_calls_completed_total "$calls")" "$calls"
check "/metrics calls active" "$(metric_settles "$http" switchyard_calls_active 0)" 0
# the process as dashboards read it: memory, heap, descriptors, CPU time
check_ge "/metrics process_resident_memory_bytes" "$(metric "$http" process_resident_memory_bytes)" 1000000
check_ge "/metrics switchyard_heap_inuse_bytes" "$(metric "$http" switchyard_heap_inuse_bytes)" 100000
check_ge "/metrics process_open_fds (sockets, stores)" "$(metric "$http" process_open_fds)" 5
cpu=$(metric "$http" process_cpu_seconds_total)
check "/metrics process_cpu_seconds_total above 0" "$(awk -v v="$cpu" 'BEGIN {print (v > 0) ? "yes" : v}')" yes
alive uas || { show_log uas; fail "sipp uas died during the run"; }

# Stop the switch cleanly: it flushes its CDRs on SIGTERM.
stop_clean serve
check "CDRs in sqlite" "$(sql "$TMP/out/cdrs.sqlite" 'select count(*) from cdrs')" "$calls"
check "answered CDRs in sqlite" "$(sql "$TMP/out/cdrs.sqlite" "select count(*) from cdrs where disposition='ANSWERED'")" "$calls"
[ -f "$TMP/out/cdrs.csv" ] || fail "no $TMP/out/cdrs.csv"
check "CDR rows in CSV" "$(($(wc -l <"$TMP/out/cdrs.csv") - 1))" "$calls"
[ "$SY_FAILS" = 0 ] || show_log uac 20
finish serve
