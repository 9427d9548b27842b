#!/usr/bin/env bash
# it_overload.sh: overload control on the live switch (issue 9). `serve`
# with a transaction memory far too small for the offered rate ([node]
# sip_memory = 1MB: about 1,000 lingering transactions' worth, against
# SIPp's 300 calls/s that leave 4 transactions each for 32 s). New INVITEs
# past 90% of it must get 503 with Retry-After, counted as "txn"; every
# call that was admitted must end (its BYE served, never 503): SIPp's
# successful calls equal the switch's completed calls, and no call is left
# active. SIPp's failed calls are exactly the refused INVITEs.
set -u
source "$(dirname "$0")/lib.sh"
calls=${OVL_CALLS:-3000}
rate=${OVL_RATE:-300}

require_switchyard
require_tool sipp python3
require_run "sipp" '^ *SIPp v[0-9]' sipp -v

pick_ports 4
sw=${PORTS[0]} uas=${PORTS[1]} uac=${PORTS[2]} http=${PORTS[3]}

cat >"$TMP/serve.scn" <<CONF
[node]
# the load generator is one source at hundreds of requests a second: exempt from pike
pike_exempt = 127.0.0.1
sip = 127.0.0.1:$sw
http = 127.0.0.1:$http
sip_memory = 1MB
retry_after = 7s
osip_memory = 64MB
out = $TMP/out

[trunk local]
address = 127.0.0.1

[carrier sipp-uas]
prefixes = 1
address = 127.0.0.1:$uas
CONF

start_switchyard serve serve "$TMP/serve.scn"
start uas sipp -sn uas -i 127.0.0.1 -p "$uas" -nostdin -buff_size 4194304
wait_port uas udp "$uas"

(cd "$TMP" && timeout 120 sipp -sn uac -s 14155550100 -i 127.0.0.1 -p "$uac" -r "$rate" -m "$calls" \
	-buff_size 4194304 -nostdin -trace_stat -stf "$TMP/uac_stat.csv" -trace_msg -message_file "$TMP/uac_msg.log" \
	-fd 1 "127.0.0.1:$sw" >"$TMP/uac.log" 2>&1)
uac_rc=$?
check "sipp uac exit status (1: some calls failed)" "$uac_rc" 1

[ -s "$TMP/uac_stat.csv" ] || { show_log uac; fail "sipp uac wrote no statistics file"; }
read -r ok failed < <(python3 - "$TMP/uac_stat.csv" <<'PY'
import csv, sys
rows = list(csv.reader(open(sys.argv[1]), delimiter=';'))
h, last = rows[0], rows[-1]
print(last[h.index('SuccessfulCall(C)')], last[h.index('FailedCall(C)')])
PY
)
check_ge "SIPp successful calls (admitted)" "${ok:-none}" 1
check_ge "SIPp failed calls (refused)" "${failed:-none}" 1
check "SIPp calls accounted for" "$((ok + failed))" "$calls"
# Refusals by reason: transactions here, unless a busy machine makes the
# loop lag; a retransmitted INVITE is refused again (so at least).
rej=0
for r in txn calls lag memory; do
	rej=$((rej + $(metric "$http" "switchyard_sip_rejected_${r}_total")))
done
check_ge "/metrics new INVITEs refused (all reasons)" "$rej" "$failed"
check_ge "/metrics new INVITEs refused for transactions" "$(metric "$http" switchyard_sip_rejected_txn_total)" 1
check "/metrics calls completed" "$(metric_settles "$http" switchyard_calls_completed_total "$ok")" "$ok"
check "/metrics calls active" "$(metric_settles "$http" switchyard_calls_active 0)" 0
check_ge "/metrics transactions lingering" "$(metric "$http" switchyard_sip_txn_lingering)" 1
check_ge "/metrics transaction memory" "$(metric "$http" switchyard_sip_txn_memory_bytes)" 1
check "/metrics transaction memory limit" "$(metric "$http" switchyard_sip_txn_memory_limit_bytes)" 1048576
check "/metrics osip memory limit ([node] osip_memory)" "$(metric "$http" switchyard_sip_osip_memory_limit_bytes)" 67108864
# What SIPp received (its message log prints each unexpected message a
# second time: count the "received" copies): 503s with Retry-After, and
# never a 503 for a BYE.
received() { awk '/^UDP message received/ {r = 1; next} /^-----/ {r = 0} r' "$TMP/uac_msg.log"; }
n503=$(received | grep -c '^SIP/2.0 503 Service Unavailable')
check_ge "503s received by SIPp" "$n503" "$failed"
check "503s with Retry-After: 7" "$(received | grep -c '^Retry-After: 7')" "$n503"
check "503s answering a BYE" "$(received | grep -A12 '^SIP/2.0 503' | grep -c '^CSeq: [0-9]* BYE')" 0
alive uas || { show_log uas; fail "sipp uas died during the run"; }
stop_clean serve
[ "$SY_FAILS" = 0 ] || cp "$TMP/uac_msg.log" /tmp/txn-uac_msg.log
finish serve uac
