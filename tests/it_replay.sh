#!/usr/bin/env bash
# it_replay.sh: captures replayed on real sockets (docs/pcap.md, "Replay").
#  1. `switchyard serve` between the callers of pcaps/sip_ipv4_tcp.pcap
#     (`switchyard replay --target`, scaled to 2,000 dialogs/s) and its
#     callees (`switchyard replay --role carriers` as the [carrier]): every
#     dialog ends with the capture's final codes (INVITE 200, the callee's
#     BYE 200), none fails; the switch counts them completed.
#  2. The same through `switchyard load --target` of a scenario with a
#     [replay] section.
#  3. The callers of pcaps/sip_ipv6_udp.pcap against SIPp's uas directly.
#  4. The submit_sm traffic of pcaps/smpp_loopback.pcap (binds with our
#     account) against serve's SMSC, `switchyard carriers` upstream: every
#     submit_sm_resp as captured, every receipt back.
set -u
source "$(dirname "$0")/lib.sh"
dialogs=${REPLAY_DIALOGS:-4000}
root=$(pwd)

require_switchyard
require_tool sipp

pick_ports 4
sw=${PORTS[0]} car=${PORTS[1]} uas=${PORTS[2]} http=${PORTS[3]}

cat >"$TMP/serve.scn" <<CONF
[node]
# the replay is one source at thousands of requests a second: exempt from pike
pike_exempt = 127.0.0.1
sip = 127.0.0.1:$sw
http = 127.0.0.1:$http
out = $TMP/out

[trunk replay]
address = 127.0.0.1

[carrier callee]
prefixes = 201
address = 127.0.0.1:$car
capacity = 40000
CONF

start_switchyard serve serve "$TMP/serve.scn"
start carriers "$SY" replay "$root/pcaps/sip_ipv4_tcp.pcap" --role carriers --listen "127.0.0.1:$car" \
	--ready-file "$TMP/carriers.ready"
wait_file carriers "$TMP/carriers.ready"

# 1. the callers at 2,000 dialogs/s (a few seconds of arrivals)
timeout 120 "$SY" replay "$root/pcaps/sip_ipv4_tcp.pcap" --target "127.0.0.1:$sw" --pace 2000/s \
	--loop "$dialogs" >"$TMP/callers.log" 2>&1
check "replay exit status (callers through serve)" "$?" 0
field() { grep -oE "$1 [0-9]+" "$2" | head -1 | awk '{print $2}'; }
check "replay.dialogs" "$(field replay.dialogs "$TMP/callers.log")" "$dialogs"
check "replay.matching" "$(field replay.matching "$TMP/callers.log")" "$dialogs"
check "replay.failed" "$(field replay.failed "$TMP/callers.log")" 0
check "replay.divergent" "$(field replay.divergent "$TMP/callers.log")" 0
check "/metrics calls completed" "$(metric_settles "$http" switchyard_calls_completed_total "$dialogs")" "$dialogs"

# 2. load --target honours [replay]
cat >"$TMP/replay.scn" <<SCN
[run]
duration = 5s

[replay callers]
pcap = $root/pcaps/sip_ipv4_tcp.pcap
role = callers
pace = 500/s
loop = 500
SCN
timeout 120 "$SY" load "$TMP/replay.scn" --target "127.0.0.1:$sw" >"$TMP/load.log" 2>&1
check "load --target with [replay] exit status" "$?" 0
check "load: replay.matching" "$(field replay.matching "$TMP/load.log")" 500
stop_clean serve
stop carriers

# 3. against SIPp's uas, at 2,000 dialogs/s: INVITE 200 (SIPp's 180 passed over), ACK, our BYE 200
start uas sipp -sn uas -i 127.0.0.1 -p "$uas" -nostdin -buff_size 4194304
wait_port uas udp "$uas"
timeout 120 "$SY" replay "$root/pcaps/sip_ipv6_udp.pcap" --target "127.0.0.1:$uas" --pace 2000/s --loop 4000 \
	--max-gap 500ms >"$TMP/sipp.log" 2>&1
check "replay exit status (against sipp uas)" "$?" 0
check "sipp: replay.dialogs" "$(field replay.dialogs "$TMP/sipp.log")" 4000
check "sipp: replay.failed" "$(field replay.failed "$TMP/sipp.log")" 0
check "sipp: replay.matching" "$(field replay.matching "$TMP/sipp.log")" 4000
grep -q "gaps_clamped [1-9]" "$TMP/sipp.log" || fail "the capture's gaps of years were not clamped"
stop uas

# 4. SMPP: the capture's submit_sm, bound with our account
pick_ports 4
sip=${PORTS[0]} smpp=${PORTS[1]} http=${PORTS[2]} up=${PORTS[3]}
cat >"$TMP/sms.scn" <<CONF
[node]
sip = 127.0.0.1:$sip
smpp = 127.0.0.1:$smpp
http = 127.0.0.1:$http
out = $TMP/out-sms

[account app]
smpp = yes
password = secret

[smpp-carrier up]
prefixes = 1
address = 127.0.0.1:$up
system_id = upstream
password = uppass
delivery = 100% delay 50ms..300ms
CONF
start_switchyard smsc-up carriers "$TMP/sms.scn"
start_switchyard smsc serve "$TMP/sms.scn"
timeout 120 "$SY" replay "$root/pcaps/smpp_loopback.pcap" --target "127.0.0.1:$sip" --smpp-target "127.0.0.1:$smpp" \
	--system-id app --password secret --loop 20 --pace 5/s >"$TMP/smpp.log" 2>&1
check "replay exit status (SMPP against serve)" "$?" 0
check "smpp: binds replayed" "$(field replay.dialogs "$TMP/smpp.log")" 20
check "smpp: binds matching" "$(field replay.matching "$TMP/smpp.log")" 20
check "switch: submit_sm accepted" "$(metric "$http" switchyard_sms_accepted_total)" 100
[ "$SY_FAILS" = 0 ] || { show_log callers 20; show_log sipp 20; show_log smpp 20; }
finish smsc
