#!/usr/bin/env bash
# it_load.sh: `switchyard load` as a voice load generator on real sockets.
# 1. against SIPp's built-in uas (`sipp -sn uas`): 500 calls at 100 cps;
# 2. through the switch: `switchyard carriers` is the carrier, `switchyard
#    serve` routes to it, `switchyard load` calls through serve.
# Passes when both loads report 500 calls offered, answered and completed
# and exit 0, the carrier answered 500, and serve stops cleanly with 500
# answered CDRs written.
set -u
source "$(dirname "$0")/lib.sh"
calls=${LOAD_CALLS:-500}
cps=${LOAD_CPS:-100}

require_switchyard
require_tool sipp sqlite3
require_run "sipp" '^ *SIPp v[0-9]' sipp -v

pick_ports 5
sipp_uas=${PORTS[0]} sw=${PORTS[1]} http=${PORTS[2]} car=${PORTS[3]} smpp=${PORTS[4]}

# Duration is a bound: the `calls` cap ends arrivals after ~calls/cps s.
traffic="[run]
duration = $((calls / cps * 2 + 5))s
drain = 30s

[traffic voice]
cps = $cps
calls = $calls
to = +1XXXXXXXXXX
hold = 500ms..1500ms"

# check_load NAME LOG RC: the load's report must show every call through.
check_load() {
	local name=$1 log=$2 rc=$3
	sed "s/^/$T: $name: /" "$log"
	check "$name: load exit status" "$rc" 0
	check "$name: offered, answered, none failed" \
		"$(grep -c "^voice: offered $calls  answered $calls  failed 0  timeouts 0 " "$log")" 1
	check "$name: every call completed" \
		"$(grep -c "^voice: completed $calls  still up at drain end 0  BYE failed 0 " "$log")" 1
}

# 1. SIPp as the far end.
printf '%s\n' "$traffic" >"$TMP/sipp.scn"
start sipp sipp -sn uas -i 127.0.0.1 -p "$sipp_uas" -nostdin -buff_size 4194304
wait_port sipp udp "$sipp_uas"
timeout 120 "$SY" load "$TMP/sipp.scn" --target "127.0.0.1:$sipp_uas" >"$TMP/load1.log" 2>"$TMP/load1.err"
check_load "vs sipp uas" "$TMP/load1.log" $?
alive sipp || { show_log sipp; fail "sipp uas died during the load"; }
stop sipp

# 2. Through switchyard serve to switchyard carriers.
cat >"$TMP/switch.scn" <<CONF
[node]
# the load generator is one source at hundreds of requests a second: exempt from pike
pike_exempt = 127.0.0.1
sip = 127.0.0.1:$sw
http = 127.0.0.1:$http
smpp = 127.0.0.1:$smpp
out = $TMP/out

[trunk local]
address = 127.0.0.1

[carrier far]
prefixes = 1
address = 127.0.0.1:$car
answer = 100% ring 10ms..50ms

$traffic
CONF
start_switchyard carriers carriers "$TMP/switch.scn"
start_switchyard serve serve "$TMP/switch.scn"
timeout 120 "$SY" load "$TMP/switch.scn" --target "127.0.0.1:$sw" >"$TMP/load2.log" 2>"$TMP/load2.err"
check_load "via serve" "$TMP/load2.log" $?
stop_clean serve
stop_clean carriers
far=$(grep -h '^carrier far:' "$TMP/carriers.log" | tail -1)
say "carrier: $far"
check "carrier far answered" "$(sed -n 's/.* answered \([0-9]*\) .*/\1/p' <<<"$far")" "$calls"
check "serve: answered CDRs" "$(sql "$TMP/out/cdrs.sqlite" "select count(*) from cdrs where disposition='ANSWERED'")" "$calls"

if [ "$SY_FAILS" != 0 ]; then
	echo "--- load stderr (tail)"
	tail -5 "$TMP/load1.err" "$TMP/load2.err"
fi
finish serve carriers
