# tests/lib.sh: what every integration script (tests/it_*.sh) shares, sourced
# right after `set -u`. Tools that must be there (a missing or broken one is a
# failure, never a skip), free ports, a scratch folder, and processes started
# in the background, waited for until they are ready (a ready file, a port
# that listens, a log line) within a bound, and stopped and cleaned up by the
# PIDs this script started, never by name. Nothing here sleeps a fixed time
# before talking to a process: the waits poll in short steps until a
# condition holds or the bound runs out, and then print the process's log.
#
# Names: a script sets nothing; T is its name (it_x), BUILD the build folder
# (default build), SY the switchyard binary, TMP a fresh scratch folder
# (kept when KEEP is set). Each process started gets a NAME; its log is
# $TMP/NAME.log and its PID ${PID[NAME]}.

cd "$(dirname "${BASH_SOURCE[0]}")/.." || exit 1 # paths below are from the repository root
BUILD=${BUILD:-build}
SY="$PWD/$BUILD/switchyard"
T=$(basename "$0" .sh)
# Bounds (seconds); generous, as an ASan build on a loaded 2-core machine is
# slow, and they only matter when something is broken.
READY_TIMEOUT=${READY_TIMEOUT:-30}
STOP_TIMEOUT=${STOP_TIMEOUT:-30}
POLL_S=0.02

declare -A PID=()
declare -a SY_STARTED=() # in start order, for cleanup
SY_FAILS=0

say() { echo "$T: $*"; }

# fail MESSAGE: the test cannot go on. Exit 1 (cleanup runs from the trap).
# Inside $(...) it ends only that subshell: the message then goes to stderr
# too, and the caller's check sees a value that is not a number.
fail() {
	echo "$T: FAIL: $*"
	[ "$BASHPID" = "$$" ] || echo "$T: FAIL: $*" >&2
	exit 1
}

# show_log NAME [LINES]: the tail of a process's log, for a failure report.
show_log() {
	local f="$TMP/$1.log"
	echo "--- $1 log ($f, last ${2:-30} lines)"
	if [ -s "$f" ]; then tail -n "${2:-30}" "$f"; else echo "(empty)"; fi
}

# ---- tools -----------------------------------------------------------------

# require_tool NAME...: each must be on PATH.
require_tool() {
	local t
	for t in "$@"; do
		command -v "$t" >/dev/null 2>&1 ||
			fail "'$t' is needed and missing (bash ci/install-deps.sh installs it)"
	done
}

# require_run WHAT PATTERN CMD...: CMD must print PATTERN (a grep -E
# regex); proves a tool runs at all, not only that its name resolves.
require_run() {
	local what=$1 pat=$2 out
	shift 2
	out=$("$@" 2>&1)
	printf '%s\n' "$out" | grep -qE "$pat" ||
		fail "$what does not work: '$*' printed: $(printf '%s' "$out" | head -5)"
}

require_switchyard() {
	[ -x "$SY" ] || fail "$SY is missing: build it first (make, or make asan-build with BUILD=build/asan)"
}

# ---- scratch folder and cleanup ---------------------------------------------

TMP=$(mktemp -d "/tmp/sy-$T.XXXXXX") || fail "cannot create a scratch folder"
chmod 755 "$TMP"

# Stops what this script started and is still running: SIGTERM, a bounded
# wait, then SIGKILL. Only our own PIDs.
sy_cleanup() {
	local rc=$? p name
	trap - EXIT INT TERM
	for name in "${SY_STARTED[@]}"; do
		p=${PID[$name]:-}
		[ -n "$p" ] && kill -0 "$p" 2>/dev/null && kill -TERM "$p" 2>/dev/null
	done
	for name in "${SY_STARTED[@]}"; do
		p=${PID[$name]:-}
		[ -n "$p" ] || continue
		sy_wait_gone "$p" 10 || kill -KILL "$p" 2>/dev/null
		wait "$p" 2>/dev/null
	done
	if [ -n "${KEEP:-}" ]; then echo "$T: kept $TMP"; else rm -rf "$TMP"; fi
	exit "$rc"
}
trap sy_cleanup EXIT
trap 'exit 130' INT
trap 'exit 143' TERM

# ---- time ----------------------------------------------------------------

# Microseconds of wall time, from bash itself (no fork).
sy_now_us() {
	local t=${EPOCHREALTIME/./}
	echo "${t#0}"
}

# sy_wait_gone PID SECONDS: true once PID is gone (reaped by bash), false at the bound.
sy_wait_gone() {
	local end=$(($(sy_now_us) + $2 * 1000000))
	while kill -0 "$1" 2>/dev/null; do
		[ "$(sy_now_us)" -lt "$end" ] || return 1
		sleep "$POLL_S"
	done
	return 0
}

# ---- ports -------------------------------------------------------------------

# port_in_use PORT: true when any TCP or UDP socket (v4 or v6) is bound to it.
port_in_use() {
	local hex
	hex=$(printf ':%04X ' "$1")
	cat /proc/net/tcp /proc/net/tcp6 /proc/net/udp /proc/net/udp6 2>/dev/null |
		awk '{print $2}' | grep -q "${hex% }$"
}

# pick_ports N: sets PORTS to N consecutive ports that nothing uses now, from
# a random base so parallel runs rarely collide (and a collision is a loud
# "address in use" from the process, never a silent pass).
pick_ports() {
	local n=$1 try base i ok
	for try in $(seq 1 100); do
		base=$((20000 + (RANDOM % 600) * 20)) # below the ephemeral range
		ok=1
		for ((i = 0; i < n; i++)); do
			if port_in_use $((base + i)); then
				ok=0
				break
			fi
		done
		if [ $ok = 1 ]; then
			PORTS=()
			for ((i = 0; i < n; i++)); do PORTS+=($((base + i))); done
			return 0
		fi
	done
	fail "no $n free consecutive ports found"
}

# port_listening udp|tcp PORT: a UDP socket bound to PORT, or a TCP socket
# listening on it (state 0A), v4 or v6, as the kernel lists them.
port_listening() {
	local proto=$1 hex
	hex=$(printf '%04X' "$2")
	if [ "$proto" = udp ]; then
		cat /proc/net/udp /proc/net/udp6 2>/dev/null | awk -v h=":$hex" '$2 ~ h"$" {f=1} END {exit !f}'
	else
		cat /proc/net/tcp /proc/net/tcp6 2>/dev/null | awk -v h=":$hex" '$2 ~ h"$" && $4 == "0A" {f=1} END {exit !f}'
	fi
}

# ---- processes ---------------------------------------------------------------

# start NAME CMD...: runs CMD in the background, stdout and stderr to
# $TMP/NAME.log (appended, so a restart keeps the first run's log), and
# records its PID for wait_*, stop and cleanup.
start() {
	local name=$1
	shift
	"$@" >>"$TMP/$name.log" 2>&1 &
	PID[$name]=$!
	SY_STARTED+=("$name")
}

# start_err NAME ERRFILE CMD...: as start, with stderr to ERRFILE (when
# stdout is a report to read back, and stderr progress lines).
start_err() {
	local name=$1 err=$2
	shift 2
	"$@" >>"$TMP/$name.log" 2>>"$err" &
	PID[$name]=$!
	SY_STARTED+=("$name")
}

# sy_wait NAME WHAT SECONDS CONDITION...: polls CONDITION until it holds;
# fails with NAME's log when NAME exits first or the bound runs out.
sy_wait() {
	local name=$1 what=$2 secs=$3 pid=${PID[$1]}
	shift 3
	local t0 end
	t0=$(sy_now_us)
	end=$((t0 + secs * 1000000))
	until "$@"; do
		if ! kill -0 "$pid" 2>/dev/null; then
			wait "$pid" 2>/dev/null
			local rc=$?
			show_log "$name"
			fail "$name exited (status $rc) before $what"
		fi
		if [ "$(sy_now_us)" -ge "$end" ]; then
			show_log "$name"
			fail "$name: no $what within ${secs}s"
		fi
		sleep "$POLL_S"
	done
	say "$name ready ($what) after $((($(sy_now_us) - t0) / 1000)) ms"
}

# wait_file NAME FILE: NAME wrote FILE (a --ready-file).
wait_file() {
	sy_wait "$1" "ready file" "$READY_TIMEOUT" test -s "$2"
}

# wait_port NAME udp|tcp PORT: NAME's socket is bound (UDP) or listening (TCP).
wait_port() {
	sy_wait "$1" "$2 port $3" "$READY_TIMEOUT" port_listening "$2" "$3"
}

# wait_log NAME REGEX: NAME's log has a line matching REGEX (grep -E).
wait_log() {
	sy_wait "$1" "log line /$2/" "$READY_TIMEOUT" grep -qE "$2" "$TMP/$1.log"
}

# start_switchyard NAME SUBCOMMAND ARGS...: `switchyard SUBCOMMAND ARGS
# --ready-file F` (serve, carriers), waited for until every listener is open.
start_switchyard() {
	local name=$1
	shift
	local rf="$TMP/$name.ready"
	rm -f "$rf" # a stale file (a killed run) must not look ready
	start "$name" "$SY" "$@" --ready-file "$rf"
	wait_file "$name" "$rf"
}

# stop NAME [SIGNAL]: signals NAME (default TERM), waits for it to exit
# within STOP_TIMEOUT and sets STATUS to its exit status; a process that
# does not exit in time is a failure (killed, log shown).
stop() {
	local name=$1 sig=${2:-TERM} pid=${PID[$1]}
	kill -"$sig" "$pid" 2>/dev/null
	if ! sy_wait_gone "$pid" "$STOP_TIMEOUT"; then
		kill -KILL "$pid" 2>/dev/null
		show_log "$name"
		fail "$name did not exit within ${STOP_TIMEOUT}s of SIG$sig"
	fi
	wait "$pid" 2>/dev/null
	STATUS=$?
	PID[$name]=
}

# stop_clean NAME: SIGTERM, and the process must exit 0 (a switchyard
# process flushes its stores on SIGTERM; anything else is a failure).
stop_clean() {
	stop "$1" TERM
	[ "$STATUS" = 0 ] || {
		show_log "$1"
		fail "$1 exited with status $STATUS after SIGTERM (want 0)"
	}
}

# alive NAME: true while NAME runs.
alive() {
	[ -n "${PID[$1]:-}" ] && kill -0 "${PID[$1]}" 2>/dev/null
}

# scrape PORT: GET /metrics from 127.0.0.1:PORT into SCRAPE (bash's
# /dev/tcp: no interpreter start per poll); false when it cannot connect
# or the answer is not 200.
scrape() {
	SCRAPE=
	exec 9<>"/dev/tcp/127.0.0.1/$1" || return 1
	printf 'GET /metrics HTTP/1.0\r\nHost: 127.0.0.1\r\n\r\n' >&9
	SCRAPE=$(cat <&9)
	exec 9<&-
	[[ "$SCRAPE" == "HTTP/1."?" 200 "* ]]
}

# metric PORT NAME: the value of one sample on /metrics; a failed scrape or
# a missing sample fails the test.
metric() {
	scrape "$1" 2>/dev/null || fail "GET http://127.0.0.1:$1/metrics failed: ${SCRAPE:0:200}"
	local v
	v=$(printf '%s\n' "$SCRAPE" | tr -d '\r' | awk -v n="$2" '$1 == n {print $2; c++} END {exit c != 1}') ||
		fail "no single sample of $2 on http://127.0.0.1:$1/metrics"
	echo "$v"
}

# metric_settles PORT NAME WANT [SECONDS]: polls NAME until it equals WANT
# (counters that a last in-flight PDU or receipt still moves), within the
# bound; prints the last value either way, for check.
metric_settles() {
	local end=$(($(sy_now_us) + ${4:-10} * 1000000)) v
	while :; do
		v=$(metric "$1" "$2")
		[ "$v" = "$3" ] || [ "$(sy_now_us)" -ge "$end" ] && break
		sleep 0.1
	done
	echo "$v"
}

# sql DB QUERY: one value from an sqlite file, with the sqlite3 shell; an
# error (missing file, bad table) fails the test instead of reading as 0.
sql() {
	local v
	v=$(sqlite3 -readonly "$1" "$2" 2>&1) || fail "sqlite3 $1 '$2': $v"
	echo "$v"
}

# ---- checks -------------------------------------------------------------

# check WHAT GOT WANT: one line per check; a mismatch counts as a failure
# and the script goes on, so one run reports every broken check.
check() {
	if [ "$2" = "$3" ]; then
		say "ok: $1: $2"
	else
		say "FAIL: $1: got '$2', want '$3'"
		SY_FAILS=$((SY_FAILS + 1))
	fi
}

# check_ge WHAT GOT MIN: GOT is an integer at least MIN.
check_ge() {
	if [[ "$2" =~ ^[0-9]+$ ]] && [ "$2" -ge "$3" ]; then
		say "ok: $1: $2 (>= $3)"
	else
		say "FAIL: $1: got '$2', want at least $3"
		SY_FAILS=$((SY_FAILS + 1))
	fi
}

# finish [LOG NAMES...]: exit 0 when every check passed, else show the
# named logs and exit 1.
finish() {
	if [ "$SY_FAILS" -eq 0 ]; then
		say "PASS"
		exit 0
	fi
	local n
	for n in "$@"; do show_log "$n"; done
	say "$SY_FAILS check(s) failed"
	exit 1
}
