#!/usr/bin/env bash
# it_layering.sh: the live peers stand without the simulator.
# 1. $BUILD/switchyard-load (cmd/load/main.c + cmd/peers.c, linked from
#    peers/, core/live/ and core/ only) holds no symbol of the simulator:
#    nothing named sim_* (sim_run_*, sim_node_*, sim_at, ...), defined or
#    wanted. The same nm on $BUILD/switchyard must find sim_run_create and
#    sim_node_add, so the pattern is known to match the simulator's names.
# 2. cmd/peers.c and cmd/load/ include no sim/ header; nothing under core/
#    but core/conf includes the scenario header (components take their own
#    configs, core/conf/node.h builds them).
# 3. It works: `switchyard-load carriers` is the carrier, `switchyard serve`
#    routes to it, `switchyard-load load` calls through serve; every call
#    is answered and completed.
set -u
source "$(dirname "$0")/lib.sh"
LOAD_BIN="$PWD/$BUILD/switchyard-load"
calls=${LAYERING_CALLS:-40}

require_switchyard
require_tool nm sqlite3
[ -x "$LOAD_BIN" ] || fail "$LOAD_BIN is missing: build it first (make all)"

# 1. Symbols (nm must see the binary's own first: an empty nm proves nothing).
check "switchyard-load: cmd_load and world_parse_file present" \
	"$(nm "$LOAD_BIN" | awk '{print $NF}' | grep -cE '^(cmd_load|world_parse_file)$')" 2
sim_syms=$(nm "$LOAD_BIN" | awk '{print $NF}' | grep -E '^sim_' | sort -u)
check "switchyard-load: simulator symbols (want none)" "$(printf '%s' "$sim_syms" | tr '\n' ' ')" ""
main_syms=$(nm "$SY" | awk '{print $NF}' | grep -cE '^(sim_run_create|sim_node_add)$')
check "switchyard: sim_run_create and sim_node_add found (the pattern matches)" "$main_syms" 2

# 2. Includes.
check "cmd/peers.c, cmd/load/: sim/ headers (want none)" \
	"$(grep -lE '^[[:space:]]*#[[:space:]]*include[[:space:]]*"sim/' cmd/peers.c cmd/load/*.c | tr '\n' ' ')" ""

check "core/ outside core/conf: files that include scn.h (want none)" \
	"$(grep -rln 'scn.h' core/ | grep -v '^core/conf/' | tr '\n' ' ')" ""

# 3. A load through the switch, with the load binary on both ends.
pick_ports 4
sw=${PORTS[0]} http=${PORTS[1]} car=${PORTS[2]} smpp=${PORTS[3]}
cat >"$TMP/switch.scn" <<CONF
[run]
duration = 10s
drain = 30s

[node]
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

[traffic voice]
cps = 10
calls = $calls
to = +1XXXXXXXXXX
hold = 200ms..600ms

[expect]
calls.completed >= 1
CONF
rf="$TMP/carriers.ready"
start carriers "$LOAD_BIN" carriers "$TMP/switch.scn" --ready-file "$rf"
wait_file carriers "$rf"
start_switchyard serve serve "$TMP/switch.scn"
timeout 120 "$LOAD_BIN" load "$TMP/switch.scn" --target "127.0.0.1:$sw" >"$TMP/load.log" 2>"$TMP/load.err"
rc=$?
sed "s/^/$T: load: /" "$TMP/load.log"
check "switchyard-load load: exit status" "$rc" 0
check "switchyard-load load: every call answered" \
	"$(grep -c "^voice: offered $calls  answered $calls  failed 0  timeouts 0 " "$TMP/load.log")" 1
stop_clean serve
stop_clean carriers
far=$(grep -h '^carrier far:' "$TMP/carriers.log" | tail -1)
check "switchyard-load carriers: far answered" "$(sed -n 's/.* answered \([0-9]*\) .*/\1/p' <<<"$far")" "$calls"
check "serve: answered CDRs" "$(sql "$TMP/out/cdrs.sqlite" "select count(*) from cdrs where disposition='ANSWERED'")" \
	"$calls"
finish serve carriers
