#!/usr/bin/env bash
# it_soak.sh: sustained voice, longer than the 32 s that completed SIP
# transactions linger (RFC 3261 Timers H, J; RFC 6026 Timers L, M), so the
# switch runs with its transaction pool at its steady state, not fresh.
# `sipp -sn uac` -> `switchyard serve` (default settings: a [node] and one
# [carrier]) -> `sipp -sn uas`, SOAK_CPS calls per second for SOAK_SECONDS
# (default 1,500 for 60 s: 90,000 calls, ~190,000 transactions lingering at
# once). Passes when SIPp placed every call and none failed (a BYE answered
# 503 fails the call at SIPp), /metrics comes back to calls_active 0 with
# every call completed, and after a clean SIGTERM there is one CDR per call.
# Nothing here measures time. The bench at 5,000 CPS for 300 s is
# bench/voice-live.sh.
#
# The switch under test is the release build: ASan would measure the
# sanitizer, not the switch. `make test` runs this with BUILD=build/asan and
# GOLDEN_BUILDS="build build/clang" after building both; the soak takes the
# first of GOLDEN_BUILDS, else BUILD (SOAK_BUILD overrides).
set -u
source "$(dirname "$0")/lib.sh"
cps=${SOAK_CPS:-1500}
secs=${SOAK_SECONDS:-60}
calls=$((cps * secs))
soak_build=${SOAK_BUILD:-${GOLDEN_BUILDS:-$BUILD}}
soak_build=${soak_build%% *}
SY="$PWD/$soak_build/switchyard"

require_switchyard
require_tool sipp sqlite3 python3
require_run "sipp" '^ *SIPp v[0-9]' sipp -v
say "switch: $SY; $cps CPS for $secs s ($calls calls)"

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
prefixes = 1
address = 127.0.0.1:$uas
CONF

start_switchyard serve serve "$TMP/serve.scn"
start uas sipp -sn uas -i 127.0.0.1 -p "$uas" -nostdin -buff_size 4194304
wait_port uas udp "$uas"

# The bound is generous (a loaded machine runs SIPp late, never short).
(cd "$TMP" && timeout $((secs * 4 + 120)) sipp -sn uac -s 14155550100 -i 127.0.0.1 -p "$uac" \
	-r "$cps" -m "$calls" -buff_size 4194304 -nostdin -trace_stat -stf "$TMP/uac_stat.csv" -fd 5 -trace_err \
	"127.0.0.1:$sw" >"$TMP/uac.log" 2>&1)
check "sipp uac exit status" "$?" 0

[ -s "$TMP/uac_stat.csv" ] || { show_log uac; fail "sipp uac wrote no statistics file"; }
read -r created ok failed < <(python3 - "$TMP/uac_stat.csv" <<'PY'
import csv, sys
rows = list(csv.reader(open(sys.argv[1]), delimiter=';'))
h, last = rows[0], rows[-1]
print(last[h.index('TotalCallCreated')], last[h.index('SuccessfulCall(C)')], last[h.index('FailedCall(C)')])
PY
)
check "SIPp calls placed" "${created:-none}" "$calls"
check "SIPp successful calls" "${ok:-none}" "$calls"
check "SIPp failed calls" "${failed:-none}" 0
# Calls still up when SIPp stops (a lost BYE being retransmitted) end
# within 40 s: the bound is for a broken switch, not a measurement.
check "/metrics calls active" "$(metric_settles "$http" switchyard_calls_active 0 40)" 0
check "/metrics calls completed" "$(metric_settles "$http" switchyard_calls_completed_total "$calls")" "$calls"
alive uas || { show_log uas; fail "sipp uas died during the soak"; }

stop_clean serve
check "CDRs in sqlite" "$(sql "$TMP/out/cdrs.sqlite" 'select count(*) from cdrs')" "$calls"
check "answered CDRs" "$(sql "$TMP/out/cdrs.sqlite" "select count(*) from cdrs where disposition='ANSWERED'")" "$calls"
if [ "$SY_FAILS" != 0 ]; then
	grep -E 'Failed|Unexpected|503' "$TMP/uac.log" | tail -20
	ls "$TMP"/*_errors.log 2>/dev/null && tail -20 "$TMP"/*_errors.log
fi
finish serve
