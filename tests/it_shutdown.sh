#!/usr/bin/env bash
# it_shutdown.sh: SIGTERM ends every call, and waits for the ends to be
# heard. SIPp uac places long calls (60 s) through `serve` to SIPp uas; with
# all of them up, serve gets SIGTERM: it sends BYE on both legs of each,
# keeps its loop running until both SIPps have answered every BYE (within
# [node] shutdown_grace), and exits 0 with a CDR per call. The carrier's
# SIPp, which ends a call only when it has answered the BYE, counts every
# call successful; serve's log says how many transactions finished.
set -u
source "$(dirname "$0")/lib.sh"
calls=${SHUTDOWN_CALLS:-20}

require_switchyard
require_tool sipp sqlite3
require_run "sipp" '^ *SIPp v[0-9]' sipp -v

pick_ports 4
sw=${PORTS[0]} uas=${PORTS[1]} uac=${PORTS[2]} http=${PORTS[3]}
cat >"$TMP/serve.scn" <<CONF
[node]
sip = 127.0.0.1:$sw
http = 127.0.0.1:$http
out = $TMP/out
shutdown_grace = 10s

[trunk local]
address = 127.0.0.1

[carrier sipp]
prefixes = 1
address = 127.0.0.1:$uas
CONF

start_switchyard serve serve "$TMP/serve.scn"
start uas sipp -sn uas -i 127.0.0.1 -p "$uas" -m "$calls" -nostdin
wait_port uas udp "$uas"
start uac sipp -sn uac -s 14155550123 -i 127.0.0.1 -p "$uac" -r "$calls" -m "$calls" -d 60000 -nostdin \
	"127.0.0.1:$sw"
check "/metrics calls active before SIGTERM" "$(metric_settles "$http" switchyard_calls_active "$calls")" "$calls"

stop_clean serve
finished=$(sed -n 's/.*shutdown: \([0-9]*\) transactions finished in .*/\1/p' "$TMP/serve.log")
check_ge "BYEs (both legs) answered before exit" "${finished:-none}" $((2 * calls))
check "transactions left unanswered (log)" "$(grep -c 'unanswered' "$TMP/serve.log")" 0
# the carrier's SIPp answered every BYE and ran each call to its end
sy_wait_gone "${PID[uas]}" 30 || { show_log uas; fail "sipp uas did not finish its $calls calls"; }
wait "${PID[uas]}"
check "sipp uas (carrier) exit status: every call ended by BYE" "$?" 0
PID[uas]=
check "CDRs" "$(sql "$TMP/out/cdrs.sqlite" 'select count(*) from cdrs')" "$calls"
finish serve
