#!/usr/bin/env bash
# it_load.sh: `switchyard load` as a voice load generator on real sockets.
# 1. against SIPp's built-in uas (`sipp -sn uas`): 500 calls at 100 cps;
# 2. through the switch: `switchyard carriers` is the carrier, `switchyard
#    serve` routes to it, `switchyard load` calls through serve.
# Passes when both loads report 500 calls offered, answered and completed
# and exit 0.
set -u
BUILD=${BUILD:-build}
bin="$PWD/$BUILD/switchyard"
calls=${LOAD_CALLS:-500}
cps=${LOAD_CPS:-100}
tmp=$(mktemp -d /tmp/sy-load.XXXXXX)
pids=()
cleanup() {
	for p in "${pids[@]}"; do kill "$p" 2>/dev/null; done
	wait 2>/dev/null
	[ -n "${KEEP:-}" ] || rm -rf "$tmp"
}
trap cleanup EXIT

# Ports chosen per run so parallel runs on one machine do not collide.
base=$((20000 + ($$ % 2000) * 10))
sipp_uas=$base sw=$((base + 1)) http=$((base + 2)) car=$((base + 3)) smpp=$((base + 4))

# Duration is a bound: the `calls` cap ends arrivals after ~calls/cps s.
traffic="[run]
duration = $((calls / cps * 2 + 5))s
drain = 30s

[traffic voice]
cps = $cps
calls = $calls
to = +1XXXXXXXXXX
hold = 500ms..1500ms"

fail=0
# check NAME LOG RC: the load's report must show every call through.
check() {
	local name=$1 log=$2 rc=$3
	sed "s/^/it_load: $name: /" "$log"
	grep -q "^voice: offered $calls  answered $calls  failed 0  timeouts 0 " "$log" ||
		{ echo "it_load: $name: expected $calls calls offered and answered, none failed"; fail=1; }
	grep -q "^voice: completed $calls  still up at drain end 0  BYE failed 0 " "$log" ||
		{ echo "it_load: $name: expected $calls calls completed"; fail=1; }
	[ "$rc" = 0 ] || { echo "it_load: $name: switchyard load exited $rc"; fail=1; }
}

# 1. SIPp as the far end.
printf '%s\n' "$traffic" >"$tmp/sipp.scn"
sipp -sn uas -i 127.0.0.1 -p "$sipp_uas" -nostdin -buff_size 4194304 >"$tmp/sipp.log" 2>&1 &
sipp_pid=$!
pids+=($sipp_pid)
sleep 0.5
kill -0 "$sipp_pid" 2>/dev/null || { echo "it_load: sipp -sn uas did not start:"; cat "$tmp/sipp.log"; exit 1; }
timeout 120 "$bin" load "$tmp/sipp.scn" --target "127.0.0.1:$sipp_uas" >"$tmp/load1.log" 2>"$tmp/load1.err"
check "vs sipp uas" "$tmp/load1.log" $?
kill "$sipp_pid" 2>/dev/null

# 2. Through switchyard serve to switchyard carriers.
cat >"$tmp/switch.scn" <<CONF
[node]
sip = 127.0.0.1:$sw
http = 127.0.0.1:$http
smpp = 127.0.0.1:$smpp
out = $tmp/out

[carrier far]
prefixes = 1
address = 127.0.0.1:$car
answer = 100% ring 10ms..50ms

$traffic
CONF
"$bin" carriers "$tmp/switch.scn" >"$tmp/carriers.log" 2>&1 &
carriers_pid=$!
pids+=($carriers_pid)
"$bin" serve "$tmp/switch.scn" >"$tmp/serve.log" 2>&1 &
serve_pid=$!
pids+=($serve_pid)
sleep 1
for p in "$carriers_pid:carriers" "$serve_pid:serve"; do
	if ! kill -0 "${p%%:*}" 2>/dev/null; then
		echo "it_load: switchyard ${p#*:} did not start:"; cat "$tmp/${p#*:}.log"; exit 1
	fi
done
timeout 120 "$bin" load "$tmp/switch.scn" --target "127.0.0.1:$sw" >"$tmp/load2.log" 2>"$tmp/load2.err"
check "via serve" "$tmp/load2.log" $?
kill -TERM "$serve_pid" "$carriers_pid" 2>/dev/null
for _ in $(seq 50); do kill -0 "$serve_pid" 2>/dev/null || kill -0 "$carriers_pid" 2>/dev/null || break; sleep 0.2; done
echo "it_load: carrier: $(grep -h '^carrier far:' "$tmp/carriers.log" | tail -1)"

if [ $fail -ne 0 ]; then
	echo "--- load stderr (tail)"; tail -5 "$tmp/load1.err" "$tmp/load2.err"
	echo "--- serve.log (tail)"; tail -20 "$tmp/serve.log"
	echo "--- carriers.log (tail)"; tail -5 "$tmp/carriers.log"
else
	echo "it_load: PASS"
fi
exit $fail
