#!/usr/bin/env bash
# bench/voice-live.sh BUILD_DIR: sustained voice over real sockets on
# loopback, default settings: `sipp -sn uac` -> `switchyard serve` (a [node]
# with one [carrier]) -> `sipp -sn uas`, at CPS calls per second for SECONDS
# (default 5,000 for 300 s, the acceptance test of issue 9; override with
# SY_VOICE_LIVE_CPS and SY_VOICE_LIVE_SECONDS). Prints one JSON line:
#   calls, failed            SIPp uac's own statistics (all calls it placed)
#   us_per_call              serve's CPU (utime+stime, /proc/PID/stat) over
#                            the run and the drain, per call
#   sipp_uac_us_per_call     SIPp uac's CPU per call (bash `times`)
#   rss_mb                   serve's peak RSS, sampled every SY_VOICE_LIVE_SAMPLE s
#   rss_tail_first_mb/last_mb, rss_tail_slope_mb_per_min
#                            the samples over the run's last 200 s (or last
#                            two thirds of a shorter run): flat means no leak;
#                            rss_tail_halves_slope_mb_per_min: each half's slope
#                            (a leak keeps its rate, the allocator settling slows)
#   drain_s, calls_active    seconds after SIPp ended until /metrics said
#                            switchyard_calls_active 0 (bound 40 s), and the value then
#   cdrs                     CDR rows in sqlite after a clean SIGTERM
#   setup_p50_ms, setup_p99_ms
#                            SIPp uac's response times (INVITE sent to 200
#                            received, its rtd; -trace_rtt), every call
#   share                    SY_VOICE_LIVE_SHARE=P: serve runs in a cgroup
#                            of its own held to P% of one core (CPU quota
#                            P x 100 us every 10 ms), so the knee is the
#                            switch's and not SIPp's; null when not asked
# The line says "ok":true only when failed == 0, calls_active == 0 within the
# bound and cdrs == calls; "knee_ok" when besides setup_p99_ms is at most
# SY_VOICE_LIVE_SETUP_MS (default 50), the criterion of
# bench/voice-live-knee.scn. Three processes share the machine's cores.
set -u
build=${1:-build}
bin="$PWD/$build/switchyard"
cps=${SY_VOICE_LIVE_CPS:-5000}
secs=${SY_VOICE_LIVE_SECONDS:-300}
sample=${SY_VOICE_LIVE_SAMPLE:-5}
share=${SY_VOICE_LIVE_SHARE:-}
setup_bound=${SY_VOICE_LIVE_SETUP_MS:-50}
cg=
calls=$((cps * secs))
tmp=$(mktemp -d /tmp/sy-voice-live.XXXXXX)
pids=()
cleanup() {
	for p in "${pids[@]}"; do kill "$p" 2>/dev/null; done
	wait 2>/dev/null
	[ -n "$cg" ] && rmdir "$cg" 2>/dev/null
	[ -n "${KEEP:-}" ] && echo "voice-live: kept $tmp" >&2 || rm -rf "$tmp"
}
trap cleanup EXIT
log() { echo "voice-live: $*" >&2; }

command -v sipp >/dev/null || { log "sipp is missing (bash ci/install-deps.sh)"; exit 1; }
[ -x "$bin" ] || { log "$bin is missing"; exit 1; }
base=$((30000 + ($$ % 400) * 10))
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

# cpu_ticks PID: utime+stime of PID, in clock ticks (fields 14 and 15; the
# command name in field 2 may hold spaces, so count from its ')').
cpu_ticks() {
	local s
	s=$(<"/proc/$1/stat") || return 1
	s=${s##*) }
	set -- $s
	echo $((${12} + ${13}))
}
rss_kb() { awk '$1 == "VmRSS:" {print $2}' "/proc/$1/status" 2>/dev/null; }
metric() { # metric NAME: one sample from serve's /metrics, empty on failure
	exec 9<>"/dev/tcp/127.0.0.1/$http" 2>/dev/null || return 1
	printf 'GET /metrics HTTP/1.0\r\nHost: 127.0.0.1\r\n\r\n' >&9
	tr -d '\r' <&9 | awk -v n="$1" '$1 == n {print $2}'
	exec 9<&-
}
# wait_until SECONDS CMD...: polls CMD every 50 ms until it holds; false at the bound.
wait_until() {
	local end=$((${EPOCHREALTIME%.*} + $1))
	shift
	while ! "$@"; do
		[ "${EPOCHREALTIME%.*}" -lt "$end" ] || return 1
		sleep 0.05
	done
}
udp_bound() { grep -qi ":$(printf '%04X' "$1") " /proc/net/udp; }

# cgroup_make PERCENT: a CPU cgroup held to PERCENT of one core (v2 cpu.max
# or v1 cfs quota), its path in $cg; serve is moved into it once started.
cgroup_make() {
	local quota=$(($1 * 100)) name=switchyard-voice-live-$$
	if [ -e /sys/fs/cgroup/cgroup.controllers ]; then
		cg=/sys/fs/cgroup/$name
		mkdir "$cg" && echo "$quota 10000" >"$cg/cpu.max"
	else
		cg=/sys/fs/cgroup/cpu/$name
		mkdir "$cg" && echo 10000 >"$cg/cpu.cfs_period_us" && echo "$quota" >"$cg/cpu.cfs_quota_us"
	fi
}
if [ -n "$share" ]; then
	case $share in [1-9] | [1-9][0-9] | 100) ;; *) log "SY_VOICE_LIVE_SHARE is a percent, 1 to 100"; exit 1 ;; esac
	cgroup_make "$share" || { log "cannot make a CPU cgroup (root and a cgroup cpu controller are needed)"; exit 1; }
fi

"$bin" serve "$tmp/serve.scn" --ready-file "$tmp/serve.ready" >"$tmp/serve.log" 2>&1 &
serve=$!
pids+=($serve)
if [ -n "$cg" ]; then
	echo "$serve" >"$cg/cgroup.procs" || { log "cannot move serve into $cg"; exit 1; }
fi
sipp -sn uas -i 127.0.0.1 -p "$uas" -nostdin -buff_size 4194304 >"$tmp/uas.log" 2>&1 &
pids+=($!)
wait_until 30 test -s "$tmp/serve.ready" || { log "serve not ready"; tail "$tmp/serve.log" >&2; exit 1; }
wait_until 30 udp_bound "$uas" || { log "sipp uas not listening"; exit 1; }

# RSS sampler: "seconds_since_start kb" lines, until told to stop.
(
	t0=${EPOCHREALTIME%.*}
	while [ ! -e "$tmp/stop-sampling" ] && kill -0 "$serve" 2>/dev/null; do
		echo "$((${EPOCHREALTIME%.*} - t0)) $(rss_kb "$serve")"
		sleep "$sample"
	done
) >"$tmp/rss.txt" &
sampler=$!

log "sipp uac -r $cps -m $calls ($secs s) -> serve -> sipp uas"
c0=$(cpu_ticks "$serve")
t0=$EPOCHREALTIME
# `times` in the subshell prints its children's CPU: SIPp uac's alone.
(
	cd "$tmp" && timeout $((secs * 2 + 120)) sipp -sn uac -s 14155550100 -i 127.0.0.1 -p "$uac" \
		-r "$cps" -m "$calls" -buff_size 4194304 -nostdin -trace_stat -stf "$tmp/uac_stat.csv" -fd 1 \
		-trace_rtt -rtt_freq 1000 \
		"127.0.0.1:$sw" >"$tmp/uac.log" 2>&1
	echo "rc $?"
	times
) >"$tmp/uac.times"
t1=$EPOCHREALTIME
# Drain: calls still up when SIPp stops must end within 40 s.
active_zero() { [ "$(metric switchyard_calls_active)" = 0 ]; }
wait_until 40 active_zero
active=$(metric switchyard_calls_active)
t2=$EPOCHREALTIME
c1=$(cpu_ticks "$serve")
touch "$tmp/stop-sampling"
wait "$sampler"

kill -TERM "$serve"
wait "$serve"
serve_rc=$?
cdrs=$(sqlite3 -readonly "$tmp/out/cdrs.sqlite" 'select count(*) from cdrs' 2>/dev/null || echo -1)

read -r placed failed < <(python3 - "$tmp/uac_stat.csv" <<'PY'
import csv, sys
try:
    rows = list(csv.reader(open(sys.argv[1]), delimiter=';'))
    h, last = rows[0], rows[-1]
    print(last[h.index('TotalCallCreated')], last[h.index('FailedCall(C)')])
except Exception:
    print(-1, -1)
PY
)
# `times` prints two lines; the second is the children's "user sys" (XmY.YYYs).
uac_cpu_s=$(awk '/^rc/ {next} {n++} n == 2 {split($1, u, /[ms]/); split($2, s, /[ms]/); print u[1] * 60 + u[2] + s[1] * 60 + s[2]}' "$tmp/uac.times")
uac_rc=$(awk '/^rc/ {print $2}' "$tmp/uac.times")
python3 - "$tmp/rss.txt" "$secs" "$cps" "$placed" "$failed" "$((c1 - c0))" "$tick" "$uac_cpu_s" \
	"$t0" "$t1" "$t2" "${active:-none}" "$cdrs" "$uac_rc" "$serve_rc" "$tmp" "${share:-}" "$setup_bound" <<'PY'
import glob, json, sys
(rss_f, secs, cps, placed, failed, ticks, tick, uac_cpu, t0, t1, t2, active, cdrs, uac_rc,
 serve_rc, tmp, share, setup_bound) = sys.argv[1:]
# SIPp's rtt file: "Date_ms;response_time_ms;rtd_no" per call answered.
rtts = []
for path in glob.glob(tmp + "/uac_*_rtt.csv"):
    for line in open(path):
        p = line.strip().split(";")
        if len(p) >= 2:
            try:
                rtts.append(float(p[1]))
            except ValueError:
                pass
rtts.sort()
pct = lambda q: round(rtts[min(len(rtts) - 1, int(q * len(rtts)))], 3) if rtts else None
secs, cps, placed, failed, cdrs = int(secs), int(cps), int(placed), int(failed), int(cdrs)
samples = []
for line in open(rss_f):
    p = line.split()
    if len(p) == 2:
        samples.append((int(p[0]), int(p[1]) / 1024.0))
peak = max((m for _, m in samples), default=0.0)
# The tail: the run's last 200 s (or its last two thirds when shorter).
run_end = float(t1) - float(t0)
tail_from = run_end - min(200.0, run_end * 2 / 3)
tail = [(t, m) for t, m in samples if tail_from <= t <= run_end]
def fit(pts):  # least-squares slope, MB per minute
    if len(pts) < 2:
        return 0.0
    n = len(pts)
    mt = sum(t for t, _ in pts) / n
    mm = sum(m for _, m in pts) / n
    var = sum((t - mt) ** 2 for t, _ in pts)
    return sum((t - mt) * (m - mm) for t, m in pts) / var * 60 if var else 0.0
slope = fit(tail)
# Each half of the tail on its own: a leak grows at a steady rate, the
# allocator settling into its working set grows ever slower.
half = len(tail) // 2
per = lambda cpu_s: round(cpu_s * 1e6 / placed, 1) if placed > 0 else None
ok = (failed == 0 and placed == cps * secs and active == "0" and cdrs == placed
      and uac_rc == "0" and serve_rc == "0")
print(json.dumps({
    "bench": "voice-live", "cps": cps, "seconds": secs, "calls": placed, "failed": failed,
    "us_per_call": per(int(ticks) / int(tick)),
    "rss_mb": round(peak, 1),
    "rss_tail_first_mb": round(tail[0][1], 1) if tail else None,
    "rss_tail_last_mb": round(tail[-1][1], 1) if tail else None,
    "rss_tail_slope_mb_per_min": round(slope, 2),
    "rss_tail_halves_slope_mb_per_min": [round(fit(tail[:half]), 2), round(fit(tail[half:]), 2)],
    "sipp_uac_us_per_call": per(float(uac_cpu or 0)),
    "wall_s": round(float(t1) - float(t0), 1),
    "drain_s": round(float(t2) - float(t1), 1), "calls_active": int(active) if active.isdigit() else None,
    "cdrs": cdrs, "ok": ok,
    "share": int(share) if share else None,
    "setup_p50_ms": pct(0.50), "setup_p99_ms": pct(0.99), "setup_samples": len(rtts),
    "knee_ok": ok and bool(rtts) and pct(0.99) <= float(setup_bound)}, separators=(",", ":")))
PY
