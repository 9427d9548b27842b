#!/usr/bin/env bash
# bench/live-sms.sh BUILD_DIR: SMS over real sockets on loopback, durability
# on: `switchyard load` (the applications) -> `switchyard serve` (the SMSC,
# its segment-log queue, group commit) -> `switchyard carriers` (the upstream SMSC),
# receipts all the way back. Prints the load's JSON line (achieved TPS,
# latencies). Three processes share the machine's cores.
set -u
build=${1:-build}
bin="$PWD/$build/switchyard"
tps=${SY_LIVE_TPS:-30000}
secs=${SY_LIVE_SECS:-10}
sync=${SY_LIVE_SYNC:-normal} # [node] sync: full fdatasyncs every group commit before the responses
nodes=${SY_LIVE_NODES:-1}     # [node] nodes: SMSC instances (threads of serve); > 1: the applications are
name=${SY_LIVE_NAME:-sms-live} # an account group of 2 x nodes members, one bind each, spread over them
binds=4 group=""
if [ "$nodes" -gt 1 ]; then
	binds=$((2 * nodes)) group="count = $binds"
fi
tmp=$(mktemp -d /tmp/sy-live-sms.XXXXXX)
pids=()
keep=${SY_LIVE_KEEP:-} # set: the folder (logs, serve's output) is kept and named on stderr
trap 'for p in "${pids[@]}"; do kill $p 2>/dev/null; done; wait 2>/dev/null; if [ -n "$keep" ]; then echo "live-sms: kept $tmp" >&2; else rm -rf "$tmp"; fi' EXIT
base=$((28000 + ($$ % 500) * 10))
cat >"$tmp/live.scn" <<CONF
[run]
duration = ${secs}s
drain = 60s

[node]
sip = 127.0.0.1:$base
smpp = 127.0.0.1:$((base + 1))
http = 127.0.0.1:$((base + 2))
out = $tmp/out
sync = $sync
nodes = $nodes

[account app]
smpp = yes
password = secret
$group

[smpp-carrier up]
prefixes = 1 44
address = 127.0.0.1:$((base + 3))
binds = 4
window = 500
delivery = 100% delay 100ms..1s

[traffic sms]
account = app
tps = $tps
binds = $binds
window = 500
to = +1XXXXXXXXXX 80% +44XXXXXXXXXX 20%
length = 20..140
CONF
"$bin" carriers "$tmp/live.scn" --ready-file "$tmp/carriers.ready" >"$tmp/carriers.log" 2>&1 &
pids+=($!)
"$bin" serve "$tmp/live.scn" --ready-file "$tmp/serve.ready" >"$tmp/serve.log" 2>&1 &
pids+=($!)
# wait for every listener (bounded: 30 s), never a fixed sleep
for i in $(seq 300); do
	[ -s "$tmp/carriers.ready" ] && [ -s "$tmp/serve.ready" ] && break
	for p in "${pids[@]}"; do
		kill -0 "$p" 2>/dev/null || { echo "live-sms: a process died at start:" >&2; cat "$tmp"/*.log >&2; exit 1; }
	done
	sleep 0.1
done
[ -s "$tmp/serve.ready" ] || { echo "live-sms: serve not ready after 30 s" >&2; exit 1; }
"$bin" load "$tmp/live.scn" --target "127.0.0.1:$base" --smpp-target "127.0.0.1:$((base + 1))" \
	--bench "$name" >"$tmp/load.out" 2>"$tmp/load.err"
grep '^{"bench"' "$tmp/load.err" | tail -1 | sed "s/}\$/,\"sync\":\"$sync\",\"nodes\":$nodes}/"
