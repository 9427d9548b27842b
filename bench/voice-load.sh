#!/usr/bin/env bash
# bench/voice-load.sh BUILD_DIR: what a call costs the load generator.
# One `switchyard serve` (default settings, one [carrier]) and one
# `sipp -sn uas` behind it; against them, one after the other in the same
# run and at the same rate, `sipp -sn uac` and then `switchyard load` each
# place CPS calls per second for SECONDS (default 5,000 for 30 s; override
# with SY_VOICE_LOAD_CPS and SY_VOICE_LOAD_SECONDS). Calls are as SIPp's
# built-in uac places them: answered at once, hung up at once (hold 0).
# Prints one JSON line: each generator's CPU per call (bash `times`: user and
# system, and the system share), its calls and failed calls, and serve's CPU
# per call in each phase (/proc/PID/stat).
set -u
build=${1:-build}
bin="$PWD/$build/switchyard"
cps=${SY_VOICE_LOAD_CPS:-5000}
secs=${SY_VOICE_LOAD_SECONDS:-30}
calls=$((cps * secs))
tmp=$(mktemp -d /tmp/sy-voice-load.XXXXXX)
pids=()
cleanup() {
	for p in "${pids[@]}"; do kill "$p" 2>/dev/null; done
	wait 2>/dev/null
	[ -n "${KEEP:-}" ] && echo "voice-load: kept $tmp" >&2 || rm -rf "$tmp"
}
trap cleanup EXIT
log() { echo "voice-load: $*" >&2; }

command -v sipp >/dev/null || { log "sipp is missing (bash ci/install-deps.sh)"; exit 1; }
[ -x "$bin" ] || { log "$bin is missing"; exit 1; }
base=$((34000 + ($$ % 400) * 10))
sw=$base http=$((base + 1)) uas=$((base + 2)) uac=$((base + 3))
tick=$(getconf CLK_TCK)

cat >"$tmp/serve.scn" <<CONF
[node]
# the load generator is one source at hundreds of requests a second: exempt from pike
pike_exempt = 127.0.0.1
sip = 127.0.0.1:$sw
http = 127.0.0.1:$http
out = $tmp/out

[trunk local]
address = 127.0.0.1

[carrier sipp-uas]
prefixes = 1
address = 127.0.0.1:$uas
CONF
cat >"$tmp/load.scn" <<CONF
[run]
duration = $((secs + 5))s
drain = 60s

[traffic voice]
cps = $cps
calls = $calls
to = +1415555XXXX
hold = 0ms..1ms
CONF

cpu_ticks() { # utime+stime of PID in clock ticks
	local s
	s=$(<"/proc/$1/stat") || return 1
	s=${s##*) }
	set -- $s
	echo $((${12} + ${13}))
}
metric() {
	exec 9<>"/dev/tcp/127.0.0.1/$http" 2>/dev/null || return 1
	printf 'GET /metrics HTTP/1.0\r\nHost: 127.0.0.1\r\n\r\n' >&9
	tr -d '\r' <&9 | awk -v n="$1" '$1 == n {print $2}'
	exec 9<&-
}
wait_until() {
	local end=$((${EPOCHREALTIME%.*} + $1))
	shift
	while ! "$@"; do
		[ "${EPOCHREALTIME%.*}" -lt "$end" ] || return 1
		sleep 0.05
	done
}
udp_bound() { grep -qi ":$(printf '%04X' "$1") " /proc/net/udp; }
active_zero() { [ "$(metric switchyard_calls_active)" = 0 ]; }
# times_cpu FILE: "user_s sys_s" of the children, from `times` output in FILE.
times_cpu() {
	awk '/^rc/ {next} {n++} n == 2 {split($1, u, /[ms]/); split($2, s, /[ms]/); print u[1] * 60 + u[2], s[1] * 60 + s[2]}' "$1"
}

"$bin" serve "$tmp/serve.scn" --ready-file "$tmp/serve.ready" >"$tmp/serve.log" 2>&1 &
serve=$!
pids+=($serve)
sipp -sn uas -i 127.0.0.1 -p "$uas" -nostdin -buff_size 4194304 >"$tmp/uas.log" 2>&1 &
pids+=($!)
wait_until 30 test -s "$tmp/serve.ready" || { log "serve not ready"; exit 1; }
wait_until 30 udp_bound "$uas" || { log "sipp uas not listening"; exit 1; }

log "phase 1: sipp uac -r $cps -m $calls"
c0=$(cpu_ticks "$serve")
(
	cd "$tmp" && timeout $((secs * 2 + 120)) sipp -sn uac -s 14155550100 -i 127.0.0.1 -p "$uac" \
		-r "$cps" -m "$calls" -buff_size 4194304 -nostdin -trace_stat -stf "$tmp/uac_stat.csv" -fd 1 \
		"127.0.0.1:$sw" >"$tmp/uac.log" 2>&1
	echo "rc $?"
	times
) >"$tmp/uac.times"
wait_until 40 active_zero
c1=$(cpu_ticks "$serve")

log "phase 2: switchyard load, $cps CPS, $calls calls"
(
	timeout $((secs * 2 + 120)) "$bin" load "$tmp/load.scn" --target "127.0.0.1:$sw" >"$tmp/load.log" 2>"$tmp/load.err"
	echo "rc $?"
	times
) >"$tmp/load.times"
wait_until 40 active_zero
c2=$(cpu_ticks "$serve")

read -r uac_placed uac_failed < <(python3 - "$tmp/uac_stat.csv" <<'PY'
import csv, sys
try:
    rows = list(csv.reader(open(sys.argv[1]), delimiter=';'))
    h, last = rows[0], rows[-1]
    print(last[h.index('TotalCallCreated')], last[h.index('FailedCall(C)')])
except Exception:
    print(-1, -1)
PY
)
# load's report: "voice: offered N  answered N  failed N  timeouts N ..."
read -r ld_offered ld_answered ld_failed ld_timeouts < <(sed -n 's/^voice: offered \([0-9]*\)  answered \([0-9]*\)  failed \([0-9]*\)  timeouts \([0-9]*\).*/\1 \2 \3 \4/p' "$tmp/load.log" | tail -1)
python3 - "$cps" "$secs" "$tick" "$uac_placed" "$uac_failed" "$(times_cpu "$tmp/uac.times")" \
	"${ld_offered:--1}" "$((${ld_failed:-0} + ${ld_timeouts:-0}))" "$(times_cpu "$tmp/load.times")" \
	"$((c1 - c0))" "$((c2 - c1))" <<'PY'
import json, sys
cps, secs, tick, up, uf, ucpu, lp, lf, lcpu, s1, s2 = sys.argv[1:]
cps, secs, tick, up, uf, lp, lf = map(int, (cps, secs, tick, up, uf, lp, lf))
def split(cpu):
    p = cpu.split()
    return (float(p[0]), float(p[1])) if len(p) == 2 else (0.0, 0.0)
def per(s, n):
    return round(s * 1e6 / n, 1) if n > 0 else None
uu, us = split(ucpu)
lu, ls = split(lcpu)
print(json.dumps({
    "bench": "voice-load", "cps": cps, "seconds": secs,
    "load_calls": lp, "load_failed": lf, "load_us_per_call": per(lu + ls, lp),
    "load_sys_pct": round(100 * ls / (lu + ls)) if lu + ls > 0 else None,
    "sipp_uac_calls": up, "sipp_uac_failed": uf, "sipp_uac_us_per_call": per(uu + us, up),
    "sipp_uac_sys_pct": round(100 * us / (uu + us)) if uu + us > 0 else None,
    "serve_us_per_call_sipp": per(int(s1) / tick, up), "serve_us_per_call_load": per(int(s2) / tick, lp),
    "ok": uf == 0 and lf == 0 and up == cps * secs and lp == cps * secs}, separators=(",", ":")))
PY
