#!/usr/bin/env bash
# it_tshark.sh: Wireshark's SIP dissector accepts every message the switch
# sends and receives. tshark captures loopback on the run's ports while SIPp
# calls through `switchyard serve`; then no frame may be flagged malformed
# or carry an expert error, and both legs must show up.
set -u
BUILD=${BUILD:-build}
bin="$PWD/$BUILD/switchyard"
tmp=$(mktemp -d /tmp/sy-tshark.XXXXXX)
chmod 777 "$tmp"
pids=()
cleanup() {
	for p in "${pids[@]}"; do kill "$p" 2>/dev/null; done
	wait 2>/dev/null
	rm -rf "$tmp"
}
trap cleanup EXIT
command -v tshark >/dev/null || { echo "it_tshark: tshark is missing (ci/install-deps.sh)"; exit 1; }
base=$((33000 + ($$ % 1000) * 10))
sw=$base uas=$((base + 1)) uac=$((base + 2))
printf '[node]\nsip = 127.0.0.1:%s\nhttp = 127.0.0.1:%s\nout = %s/out\n\n[carrier c]\nprefixes = 1\naddress = 127.0.0.1:%s\n' \
	"$sw" "$((base + 3))" "$tmp" "$uas" >"$tmp/serve.scn"
tshark -q -i lo -f "udp and (port $sw or port $uas or port $uac)" -w "$tmp/cap.pcapng" >"$tmp/tshark.log" 2>&1 &
tshark_pid=$!
pids+=($tshark_pid)
for _ in $(seq 50); do grep -q "Capturing" "$tmp/tshark.log" 2>/dev/null && break; sleep 0.1; done
"$bin" serve "$tmp/serve.scn" >"$tmp/serve.log" 2>&1 &
pids+=($!)
sipp -sn uas -i 127.0.0.1 -p "$uas" -nostdin >"$tmp/uas.log" 2>&1 &
pids+=($!)
sleep 0.5
(cd "$tmp" && timeout 60 sipp -sn uac -s 14155550100 -i 127.0.0.1 -p "$uac" -r 50 -m 100 -nostdin "127.0.0.1:$sw" \
	>"$tmp/uac.log" 2>&1)
uac_rc=$?
sleep 0.5
kill -INT "$tshark_pid" 2>/dev/null
wait "$tshark_pid" 2>/dev/null
count() { tshark -r "$tmp/cap.pcapng" -d "udp.port==$sw,sip" -d "udp.port==$uas,sip" -Y "$1" 2>/dev/null | wc -l; }
sip=$(count "sip")
bad=$(count "_ws.malformed || _ws.expert.severity >= error")
invites=$(count "sip.Method == \"INVITE\"")
echo "it_tshark: sipp uac exit=$uac_rc; $sip SIP frames captured, $invites INVITEs (both legs), $bad malformed or in error"
fail=0
[ "$uac_rc" = 0 ] || { echo "it_tshark: SIPp reported failed calls"; fail=1; }
[ "$invites" -ge 200 ] || { echo "it_tshark: expected 200 INVITEs (100 per leg), saw $invites"; fail=1; }
[ "$bad" = 0 ] || {
	echo "it_tshark: Wireshark flags these frames:"
	tshark -r "$tmp/cap.pcapng" -Y "_ws.malformed || _ws.expert.severity >= error" -V 2>/dev/null | head -60
	fail=1
}
exit $fail
