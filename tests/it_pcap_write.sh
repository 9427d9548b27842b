#!/usr/bin/env bash
# it_pcap_write.sh: --pcap writes captures Wireshark reads like real ones.
#  1. `sim scenarios/demo.scn` with and without --pcap: the same report and
#     digest (the capture touches neither the run nor the simulated disk).
#  2. tshark decodes every frame of that capture: no malformed frame, no
#     expert item of severity warning or worse; frames = the switch's
#     sip.rx + sip.tx (one frame per datagram); the distinct Call-IDs of
#     INVITEs the callers' host (10.0.2.1) sent = the report's calls attempted.
#  3. sms-basic.scn: the SMPP over TCP decodes as SMPP (handshakes,
#     sequence numbers, FINs without a complaint); submit_sm PDUs from the
#     applications' host (10.0.4.1) = the report's submitted parts.
#  4. `serve --pcap` while SIPp calls through it: the same checks against
#     /metrics' switchyard_sip_rx_total + _tx_total (the UDP frames) and
#     SIPp's call count, the file complete after SIGTERM. Its HTTP API is
#     in it too: curl's GET /health and POST /sms (202 with the account's
#     token, 401 without) decode as HTTP with their status codes, and every
#     request tshark sees (the /metrics scrapes too) has its response in
#     the capture; a second serve killed with SIGKILL
#     leaves a capture tshark still reads without a word (flushed on frame
#     boundaries at least every second).
#  5. `load --pcap` calling `carriers --pcap`: each capture clean, with the
#     20 INVITEs and 20 BYE 200s of the run.
# Every tshark run must exit 0 with nothing on stderr but its root warning
# (as tests/it_tshark.sh): a filter tshark rejects is a failure.
set -u
source "$(dirname "$0")/lib.sh"
calls=${PCAP_CALLS:-50}

require_switchyard
require_tool tshark sipp python3 curl
require_run "tshark" '^TShark \(Wireshark\) [0-9]' tshark -v
require_run "sipp" '^ *SIPp v[0-9]' sipp -v

# tshark_run FILE ARGS...: tshark -r FILE; output in TS_OUT; false (TS_ERR
# set) when tshark exits non-zero or says anything but its root warning.
tshark_run() {
	local f=$1
	shift
	TS_OUT=$(tshark -r "$f" "$@" 2>"$TMP/ts.err")
	local rc=$? err
	err=$(grep -v '^Running as user "root" and group "root"\. This could be dangerous\.$' "$TMP/ts.err")
	[ $rc = 0 ] && [ -z "$err" ] && return 0
	TS_ERR="tshark -r $f $* exited $rc: $err"
	return 1
}
# count FILE FILTER: COUNT = frames matching a display filter.
count() {
	tshark_run "$1" -Y "$2" || fail "$TS_ERR"
	COUNT=$(printf '%s' "$TS_OUT" | grep -c .)
}
# clean FILE WHAT: no frame malformed or with an expert item of warning or
# worse, with tshark validating the IP, UDP and TCP checksums (off by
# default: a bad checksum is otherwise no expert item at all).
CSUM=(-o ip.check_checksum:TRUE -o udp.check_checksum:TRUE -o tcp.check_checksum:TRUE)
clean() {
	local bad='_ws.malformed || _ws.expert.severity >= warning'
	tshark_run "$1" "${CSUM[@]}" -Y "$bad" || fail "$TS_ERR"
	check "$2: frames malformed or with an expert warning/error (checksums validated)" \
		"$(printf '%s' "$TS_OUT" | grep -c .)" 0
	[ -z "$TS_OUT" ] || tshark -r "$1" "${CSUM[@]}" -Y "$bad" -V 2>&1 | head -60
}
# frames FILE: FRAMES = every frame in the file.
frames() {
	tshark_run "$1" -T fields -e frame.number || fail "$TS_ERR"
	FRAMES=$(printf '%s' "$TS_OUT" | grep -c .)
}
# field REPORT REGEX: the number after REGEX in a report line.
field() { grep -oE "$2 [0-9]+" "$1" | head -1 | grep -oE '[0-9]+$'; }

# ---- 1. sim: the same run with and without a capture ----
"$SY" sim scenarios/demo.scn --quiet --out "$TMP/a" >"$TMP/a.txt" || fail "sim demo.scn failed"
"$SY" sim scenarios/demo.scn --quiet --out "$TMP/b" --pcap "$TMP/run.pcap" >"$TMP/b.txt" ||
	fail "sim demo.scn --pcap failed"
check "sim report with and without --pcap (out folder aside)" \
	"$(sed "s|$TMP/b|OUT|g" "$TMP/b.txt" | md5sum)" "$(sed "s|$TMP/a|OUT|g" "$TMP/a.txt" | md5sum)"
check "sim digest with and without --pcap" "$(grep '^digest' "$TMP/b.txt")" "$(grep '^digest' "$TMP/a.txt")"

# ---- 2. the capture against the report ----
# The filter checks must be able to fail: a misspelt field is refused.
if tshark_run "$TMP/run.pcap" -Y 'sip.Methd == "INVITE"'; then
	fail "tshark accepted a misspelt display filter: its counts cannot be trusted"
fi
clean "$TMP/run.pcap" "demo.pcap"
frames "$TMP/run.pcap"
rx=$(field "$TMP/b.txt" 'sip +rx')
tx=$(field "$TMP/b.txt" ', tx')
check "demo.pcap frames = the switch's sip rx + tx ($rx + $tx)" "$FRAMES" $((rx + tx))
count "$TMP/run.pcap" 'sip'
check "demo.pcap frames decoded as SIP" "$COUNT" "$FRAMES"
tshark_run "$TMP/run.pcap" -Y 'sip.Method == "INVITE" && ip.src == 10.0.2.1' -T fields -e sip.Call-ID ||
	fail "$TS_ERR"
check "distinct INVITE Call-IDs from the callers = calls attempted" \
	"$(printf '%s\n' "$TS_OUT" | sort -u | grep -c .)" "$(field "$TMP/b.txt" 'attempted')"
# The checksums are right, not merely unchecked: tshark validates them here
# (status 1 = good).
tshark_run "$TMP/run.pcap" -o udp.check_checksum:TRUE -o ip.check_checksum:TRUE \
	-Y 'udp.checksum.status != 1 || ip.checksum.status != 1' || fail "$TS_ERR"
check "demo.pcap frames whose IP or UDP checksum is not good" "$(printf '%s' "$TS_OUT" | grep -c .)" 0

# ---- 3. SMPP over TCP ----
"$SY" sim scenarios/sms-basic.scn --quiet --out "$TMP/s" --pcap "$TMP/sms.pcap" >"$TMP/s.txt" ||
	fail "sim sms-basic.scn --pcap failed"
clean "$TMP/sms.pcap" "sms.pcap"
tshark_run "$TMP/sms.pcap" -o tcp.check_checksum:TRUE -Y 'tcp.checksum.status != 1' || fail "$TS_ERR"
check "sms.pcap TCP segments whose checksum tshark does not find good" "$(printf '%s' "$TS_OUT" | grep -c .)" 0
# A part the switch received but had not answered when it crashed (20 s) is
# sent again after the rebind, with the same content: each part counts once.
tshark_run "$TMP/sms.pcap" -Y 'ip.src == 10.0.4.1 && smpp.command_id == 0x00000004' -T fields -E separator='|' \
	-e smpp.source_addr -e smpp.destination_addr -e smpp.message || fail "$TS_ERR"
check "distinct submit_sm (source, destination, message) from the applications = the report's submitted parts" \
	"$(printf '%s\n' "$TS_OUT" | awk -F'|' '{n = split($1, s, ","); split($2, d, ","); split($3, m, ",")
		for (i = 1; i <= n; i++) print s[i] "|" d[i] "|" m[i]}' | sort -u | grep -c .)" \
	"$(grep -oE '\(([0-9]+) parts\)' "$TMP/s.txt" | grep -oE '[0-9]+')"
count "$TMP/sms.pcap" 'tcp.len > 0 && !smpp'
check "sms.pcap data segments not decoded as SMPP" "$COUNT" 0

# ---- 4. serve ----
pick_ports 6
sw=${PORTS[0]} uas=${PORTS[1]} uac=${PORTS[2]} http=${PORTS[3]} smpp=${PORTS[4]} up=${PORTS[5]}
# The SMS upstream ($up) is never started: POST /sms answers 202 once the
# message is stored, and a connection that never opens leaves no frame.
cat >"$TMP/serve.scn" <<CONF
[node]
sip = 127.0.0.1:$sw
smpp = 127.0.0.1:$smpp
http = 127.0.0.1:$http
out = $TMP/out

[trunk local]
address = 127.0.0.1

[carrier c]
prefixes = 1
address = 127.0.0.1:$uas

[account shop]
password = secret
token = tok-123

[smpp-carrier up]
prefixes = 44
address = 127.0.0.1:$up
system_id = upstream
password = uppass
CONF
start_switchyard serve serve "$TMP/serve.scn" --pcap "$TMP/serve.pcap"
start uas sipp -sn uas -i 127.0.0.1 -p "$uas" -nostdin
wait_port uas udp "$uas"
(cd "$TMP" && timeout 120 sipp -sn uac -s 14155550100 -i 127.0.0.1 -p "$uac" -r 50 -m "$calls" -nostdin \
	"127.0.0.1:$sw" >"$TMP/uac.log" 2>&1)
check "sipp uac exit status (0: every call succeeded)" "$?" 0
check "calls active once SIPp is done" "$(metric_settles "$http" switchyard_calls_active 0)" 0
srx=$(metric "$http" switchyard_sip_rx_total)
stx=$(metric "$http" switchyard_sip_tx_total)
# http_code URL CURL-ARGS...: the status curl got.
http_code() { curl -s -o /dev/null -w '%{http_code}' --max-time 10 "$@"; }
check "GET /health" "$(http_code "http://127.0.0.1:$http/health")" 200
sms='{"from":"+15551234","to":"+447700900123","text":"captured"}'
check "POST /sms with the token" "$(http_code -H 'Authorization: Bearer tok-123' -H 'Content-Type: application/json' \
	-d "$sms" "http://127.0.0.1:$http/sms")" 202
check "POST /sms with a wrong token" "$(http_code -H 'Authorization: Bearer nope' -H 'Content-Type: application/json' \
	-d "$sms" "http://127.0.0.1:$http/sms")" 401
stop_clean serve
clean "$TMP/serve.pcap" "serve.pcap"
count "$TMP/serve.pcap" udp
check "serve.pcap UDP frames = /metrics sip rx + tx ($srx + $stx)" "$COUNT" $((srx + stx))
count "$TMP/serve.pcap" 'http.request.method == "GET" && http.request.uri == "/health"'
check "serve.pcap GET /health requests" "$COUNT" 1
count "$TMP/serve.pcap" 'http.request.method == "POST" && http.request.uri == "/sms"'
check "serve.pcap POST /sms requests" "$COUNT" 2
tshark_run "$TMP/serve.pcap" -Y "http.response && tcp.srcport == $http" -T fields -e http.response.code \
	-e http.response_for.uri || fail "$TS_ERR"
for want in "200	http://127.0.0.1:$http/health" "202	http://127.0.0.1:$http/sms" "401	http://127.0.0.1:$http/sms"; do
	check "serve.pcap responses \"$want\"" "$(printf '%s\n' "$TS_OUT" | grep -cxF "$want")" 1
done
count "$TMP/serve.pcap" 'http.request'
check_ge "serve.pcap HTTP requests (the /metrics scrapes with curl's)" "$COUNT" 5
nreq=$COUNT
count "$TMP/serve.pcap" "http.response && tcp.srcport == $http"
check "serve.pcap HTTP responses = requests" "$COUNT" "$nreq"
tshark_run "$TMP/serve.pcap" -2 -Y 'http.request && !http.response_in' || fail "$TS_ERR" # -2: links need both passes
check "serve.pcap HTTP requests without their response" "$(printf '%s' "$TS_OUT" | grep -c .)" 0
tshark_run "$TMP/serve.pcap" -d "udp.port==$sw,sip" -d "udp.port==$uas,sip" -Y 'sip.Method == "INVITE"' \
	-T fields -e sip.Call-ID || fail "$TS_ERR"
check "serve.pcap distinct INVITE Call-IDs (one per leg and call)" \
	"$(printf '%s\n' "$TS_OUT" | sort -u | grep -c .)" $((2 * calls))
count "$TMP/serve.pcap" "sip.Method == \"INVITE\" && udp.srcport == $uac && ip.src == 127.0.0.1"
check "serve.pcap INVITEs from SIPp's uac, on loopback addresses" "$COUNT" "$calls"

# A capture cut short by SIGKILL: what reached the file is whole frames.
start_switchyard serve2 serve "$TMP/serve.scn" --pcap "$TMP/killed.pcap"
(cd "$TMP" && timeout 120 sipp -sn uac -s 14155550100 -i 127.0.0.1 -p "$uac" -r 50 -m 10 -nostdin \
	"127.0.0.1:$sw" >"$TMP/uac2.log" 2>&1)
has_frames() { [ "$(stat -c %s "$TMP/killed.pcap")" -gt 24 ]; }
sy_wait serve2 "frames flushed to killed.pcap" "$READY_TIMEOUT" has_frames
stop serve2 KILL
tshark_run "$TMP/killed.pcap" -T fields -e frame.number || fail "after SIGKILL: $TS_ERR"
check_ge "frames readable in the capture of a killed serve" "$(printf '%s' "$TS_OUT" | grep -c .)" 1
clean "$TMP/killed.pcap" "killed.pcap"
stop uas

# ---- 5. load calling carriers, each writing its side ----
pick_ports 1
car=${PORTS[0]}
printf '[run]\nduration = 5s\ndrain = 10s\n\n[carrier c]\nprefixes = 1\naddress = 127.0.0.1:%s\nanswer = 100%% ring 100ms..200ms\n\n[traffic voice]\ncps = 20\ncalls = 20\nto = +1XXXXXXXXXX\nhold = 200ms..500ms\n' \
	"$car" >"$TMP/lc.scn"
start_switchyard carriers carriers "$TMP/lc.scn" --pcap "$TMP/carriers.pcap"
timeout 120 "$SY" load "$TMP/lc.scn" --target "127.0.0.1:$car" --pcap "$TMP/load.pcap" >"$TMP/load.log" 2>&1
check "load --pcap exit status" "$?" 0
stop_clean carriers
for side in load carriers; do
	clean "$TMP/$side.pcap" "$side.pcap"
	count "$TMP/$side.pcap" "sip.Method == \"INVITE\" && udp.dstport == $car"
	check "$side.pcap INVITEs to the carrier" "$COUNT" 20
	count "$TMP/$side.pcap" "sip.Status-Code == 200 && sip.CSeq.method == \"BYE\""
	check "$side.pcap 200s to BYE" "$COUNT" 20
done
finish serve uas carriers
