#!/usr/bin/env bash
# bench/ussd-live.sh BUILD_DIR: USSD over real sockets on loopback.
# `switchyard load` (the operator's USSD node and its handsets, one SMPP
# bind) -> `switchyard serve` (the gateway, a menu it serves itself, one UDR
# per dialogue in sqlite and CSV). Two runs against the same serve process:
# a warm-up, then the measured one, so the figure is from a process that
# has already carried traffic. Prints the measured load's JSON line
# (achieved dialogues/s, step latency percentiles) with serve's peak RSS
# and the UDRs it wrote. SY_USSD_RATE dialogues/s (default 2000) for
# SY_USSD_SECS seconds (default 60); users think 0.5..1.5 s per screen.
set -u
build=${1:-build}
bin="$PWD/$build/switchyard"
rate=${SY_USSD_RATE:-2000}
secs=${SY_USSD_SECS:-60}
tmp=$(mktemp -d /tmp/sy-ussd-live.XXXXXX)
serve_pid=
trap '[ -n "$serve_pid" ] && kill $serve_pid 2>/dev/null; wait 2>/dev/null; [ -n "${SY_KEEP:-}" ] || rm -rf "$tmp"' EXIT
base=$((29000 + ($$ % 500) * 10))
cat >"$tmp/serve.scn" <<CONF
[node]
sip = 127.0.0.1:$base
http = 127.0.0.1:$((base + 1))
out = $tmp/out

[ussd]
listen = 127.0.0.1:$((base + 2))
session_timeout = 60s

[ussd-link operator]
mode = accept
system_id = opnode
password = Bench26
session_ref = its_session_info
release_op = 32
window = 5000

[ussd-service *123#]
menu = bank

[ussd-menu bank]
start = main
screen main = MyBank\n1. Balance\n2. Send money\n3. Airtime
option main 1 = balance
option main 2 = send_to
option main 3 = airtime
end balance = Your balance is 1,250.00 KES.
screen send_to = Recipient's number:
input send_to = send_amount
screen send_amount = Send to {input}. Amount in KES:
input send_amount = send_confirm
screen send_confirm = Send {input} KES?\n1. Confirm\n2. Cancel
option send_confirm 1 = sent
option send_confirm 2 = cancelled
end sent = Done.
end cancelled = Cancelled.
screen airtime = Airtime\n1. 10 KES\n2. 50 KES
option airtime 1 = airtime_ok
option airtime 2 = airtime_ok
end airtime_ok = Airtime request received.
CONF
load_scn() { # NAME SECONDS
	cat >"$tmp/$1.scn" <<CONF
[run]
duration = ${2}s
drain = 30s

[traffic ussd]
rate = $rate
arrivals = poisson
codes = *123#
paths = 1 30%, 2*0722000111*100*1 50%, 3*1 20%
think = 500ms..1500ms
msisdn = 2547XXXXXXXX
handsets = 1000000
system_id = opnode
password = Bench26
session_ref = its_session_info
release_op = 32
CONF
}
load_scn warm 10
load_scn run "$secs"
"$bin" serve "$tmp/serve.scn" --ready-file "$tmp/ready" >"$tmp/serve.log" 2>&1 &
serve_pid=$!
for _ in $(seq 1 200); do # readiness: the ready file, bounded at 20 s
	[ -s "$tmp/ready" ] && break
	kill -0 $serve_pid 2>/dev/null || { cat "$tmp/serve.log" >&2; exit 1; }
	sleep 0.1
done
[ -s "$tmp/ready" ] || { echo "ussd-live: serve not ready" >&2; exit 1; }
args=(--target "127.0.0.1:$base" --ussd-target "127.0.0.1:$((base + 2))")
"$bin" load "$tmp/warm.scn" "${args[@]}" >"$tmp/warm.out" 2>&1 || {
	echo "ussd-live: the warm-up run failed" >&2
	tail -n 5 "$tmp/warm.out" >&2
}
"$bin" load "$tmp/run.scn" "${args[@]}" --bench ussd-live >"$tmp/load.out" 2>"$tmp/load.err"
line=$(grep '^{"bench"' "$tmp/load.err" | tail -1)
rss_kb=$(awk '/VmHWM/ {print $2}' /proc/$serve_pid/status 2>/dev/null)
kill -TERM $serve_pid 2>/dev/null
wait $serve_pid 2>/dev/null
serve_pid=
udrs=$(($(wc -l <"$tmp/out/udrs.csv" 2>/dev/null || echo 1) - 1))
[ -n "$line" ] || { echo "ussd-live: no bench line" >&2; tail -n 5 "$tmp/load.out" "$tmp/load.err" >&2; exit 1; }
echo "${line%\}},\"offered_per_s\":$rate,\"serve_rss_mb\":$((${rss_kb:-0} / 1024)),\"udrs_both_runs\":$udrs,\"cores\":$(nproc)}"
