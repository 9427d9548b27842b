#!/usr/bin/env bash
# it_tshark.sh: Wireshark's SIP dissector accepts every message the switch
# sends and receives. tshark captures loopback on the run's ports while SIPp
# calls through `switchyard serve`; then the capture must hold both legs of
# every call (INVITE, ACK, BYE and their 200s, one Call-ID per leg and call)
# and no frame may be flagged malformed or carry an expert error. Every
# tshark run must exit 0 with nothing on stderr but its root warning: a
# display filter tshark rejects is a failure, never "0 frames in error".
set -u
source "$(dirname "$0")/lib.sh"
calls=${TSHARK_CALLS:-100}

require_switchyard
require_tool tshark sipp python3
require_run "tshark" '^TShark \(Wireshark\) [0-9]' tshark -v
require_run "sipp" '^ *SIPp v[0-9]' sipp -v

pick_ports 4
sw=${PORTS[0]} uas=${PORTS[1]} uac=${PORTS[2]} http=${PORTS[3]}
printf '[node]\nsip = 127.0.0.1:%s\nhttp = 127.0.0.1:%s\nout = %s/out\n\n[trunk local]\naddress = 127.0.0.1\n\n[carrier c]\nprefixes = 1\naddress = 127.0.0.1:%s\n' \
	"$sw" "$http" "$TMP" "$uas" >"$TMP/serve.scn"
chmod 777 "$TMP" # dumpcap may drop privileges to write the capture
start tshark tshark -q -i lo -f "udp and (port $sw or port $uas or port $uac)" -w "$TMP/cap.pcapng"
wait_log tshark "^Capturing on "
start_switchyard serve serve "$TMP/serve.scn"
start uas sipp -sn uas -i 127.0.0.1 -p "$uas" -nostdin
wait_port uas udp "$uas"
(cd "$TMP" && timeout 120 sipp -sn uac -s 14155550100 -i 127.0.0.1 -p "$uac" -r 50 -m "$calls" -nostdin \
	"127.0.0.1:$sw" >"$TMP/uac.log" 2>&1)
uac_rc=$?
check "sipp uac exit status (0: every call succeeded)" "$uac_rc" 0

# tshark_run ARGS...: tshark -r on the capture; its output in TS_OUT. Fails
# the test when tshark exits non-zero or says anything on stderr besides
# its warning about running as root.
tshark_run() {
	TS_OUT=$(tshark -r "$TMP/cap.pcapng" -d "udp.port==$sw,sip" -d "udp.port==$uas,sip" "$@" 2>"$TMP/ts.err")
	local rc=$?
	local err
	err=$(grep -v '^Running as user "root" and group "root"\. This could be dangerous\.$' "$TMP/ts.err")
	[ $rc = 0 ] && [ -z "$err" ] && return 0
	TS_ERR="tshark $* exited $rc: $err"
	return 1
}
# count FILTER: COUNT is the number of frames matching a display filter.
count() {
	tshark_run -Y "$1" || fail "$TS_ERR"
	COUNT=$(printf '%s' "$TS_OUT" | grep -c .)
}

# The filter check itself must be able to fail: a misspelt field is refused.
if tshark_run -Y 'sip.Methd == "INVITE"'; then
	fail "tshark accepted a misspelt display filter: its counts cannot be trusted"
fi
say "ok: tshark refuses a bad filter ($(head -1 <<<"$TS_ERR"))"

# Everything the calls sent is in the capture once a datagram sent after
# them is: an OPTIONS from the uac's port, which the switch answers.
python3 - "$sw" "$uac" <<'PY' || fail "the switch did not answer the closing OPTIONS"
import socket, sys
sw, uac = int(sys.argv[1]), int(sys.argv[2])
s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
s.bind(("127.0.0.1", uac))
s.settimeout(10)
m = ("OPTIONS sip:x@127.0.0.1 SIP/2.0\r\nVia: SIP/2.0/UDP 127.0.0.1:%d;branch=z9hG4bK-end\r\n"
     "From: <sip:t@x>;tag=end\r\nTo: <sip:s@x>\r\nCall-ID: it-tshark-end\r\nCSeq: 1 OPTIONS\r\n"
     "Max-Forwards: 70\r\nContent-Length: 0\r\n\r\n" % uac)
s.sendto(m.encode(), ("127.0.0.1", sw))
sys.exit(0 if s.recv(2000).startswith(b"SIP/2.0 200") else 1)
PY
end_seen() { tshark -r "$TMP/cap.pcapng" -d "udp.port==$sw,sip" -Y 'sip.Call-ID == "it-tshark-end"' 2>/dev/null | grep -q .; }
sy_wait tshark "the closing OPTIONS in the capture" "$READY_TIMEOUT" end_seen
stop tshark INT
check "tshark capture exit status" "$STATUS" 0

count "sip"
say "$COUNT SIP frames captured"
# Both legs of every call: the uac->switch leg and the switch->uas leg.
count "sip.Method == \"INVITE\" && udp.dstport == $sw"
check_ge "INVITEs caller -> switch" "$COUNT" "$calls"
count "sip.Method == \"INVITE\" && udp.dstport == $uas"
check_ge "INVITEs switch -> carrier" "$COUNT" "$calls"
count 'sip.Method == "ACK"'
check_ge "ACKs" "$COUNT" $((2 * calls))
count 'sip.Method == "BYE"'
check_ge "BYEs" "$COUNT" $((2 * calls))
count 'sip.Status-Code == 200 && sip.CSeq.method != "OPTIONS"'
check_ge "200 OK responses (INVITE and BYE, both legs)" "$COUNT" $((4 * calls))
tshark_run -Y 'sip.Method == "INVITE"' -T fields -e sip.Call-ID || fail "$TS_ERR"
check "distinct Call-IDs of INVITEs (one per leg and call)" "$(printf '%s\n' "$TS_OUT" | sort -u | grep -c .)" $((2 * calls))
count "_ws.malformed || _ws.expert.severity >= error"
check "frames malformed or with an expert error" "$COUNT" 0
if [ "$COUNT" != 0 ]; then
	echo "it_tshark: Wireshark flags these frames:"
	tshark -r "$TMP/cap.pcapng" -d "udp.port==$sw,sip" -d "udp.port==$uas,sip" \
		-Y "_ws.malformed || _ws.expert.severity >= error" -V 2>&1 | head -60
fi
stop_clean serve
finish serve uas
