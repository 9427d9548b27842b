#!/usr/bin/env bash
# bench/pcap-replay.sh BUILD_DIR: dialogs replayed per second of CPU in the
# simulator (bench/pcap-replay.scn: one captured call at 2,000 dialogs/s,
# callers and callee replayed, the switch simulated). Measured with
# /usr/bin/time (user + system CPU, peak RSS) around `switchyard sim`; the
# dialog count is the run's own replay.dialogs, and the run must pass its
# [expect] lines (0 failed, 0 divergent) or no line is printed.
set -u
build=${1:-build}
tmp=$(mktemp -d /tmp/sy-pcap-replay.XXXXXX)
trap 'rm -rf "$tmp"' EXIT
/usr/bin/time -f '%U %S %M' -o "$tmp/time" "$build/switchyard" sim bench/pcap-replay.scn --quiet \
	--out "$tmp/out" >"$tmp/report.txt" 2>&1 || { echo "pcap-replay: the run failed" >&2; tail -20 "$tmp/report.txt" >&2; exit 1; }
read -r user sys rss_kb <"$tmp/time"
dialogs=$(python3 -c 'import json,sys; print(json.load(open(sys.argv[1]))["metrics"]["replay.dialogs"])' "$tmp/out/report.json")
awk -v d="$dialogs" -v u="$user" -v s="$sys" -v r="$rss_kb" 'BEGIN {
	cpu = u + s
	printf "{\"bench\":\"pcap-replay\",\"dialogs\":%d,\"cpu_s\":%.2f,\"dialogs_per_cpu_s\":%.0f,\"rss_mb\":%.1f}\n", d, cpu, (cpu > 0 ? d / cpu : 0), r / 1024
}'
