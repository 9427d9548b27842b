#!/usr/bin/env bash
# it_hep.sh: HEPv3 export to a collector. `switchyard serve` with
# `[node] hep = 127.0.0.1:PORT` routes SIPp calls (sipp uac -> switch ->
# sipp uas) while two independent decoders read what it exports:
#  (a) tshark captures loopback on PORT and decodes it as HEP
#      (`-d udp.port==PORT,hep`, with tests/tshark/hep.lua: Wireshark 4.0 has
#      no HEP dissector of its own) with Wireshark's SIP dissector inside:
#      every HEP packet carries SIP, none is malformed, and their count is the
#      SIP messages the switch received and sent (/metrics sip rx + tx);
#  (b) the npm package hep-js (sipcapture's HEP library) decodes each packet
#      (tests/npm/hep_collect.js): capture id, auth key, node name, family,
#      protocol, addresses and ports, a time within the run, and a payload
#      that starts with a SIP start line.
# The Lua dissector is itself checked on a packet hep-js encoded, so tshark
# does not merely read back what switchyard's encoder meant. The same serve
# writes --pcap: one tap, both sinks, and the HEP packets are not in the
# capture. Last, a serve without `hep` exports nothing and has no hep
# counters (off by default).
set -u
source "$(dirname "$0")/lib.sh"
calls=${HEP_CALLS:-10}
hep_id=2742

require_switchyard
require_tool tshark sipp node python3
require_run "tshark" '^TShark \(Wireshark\) [0-9]' tshark -v
[ -d tests/npm/node_modules/hep-js ] || fail "npm package hep-js missing (bash ci/install-deps.sh installs it)"

pick_ports 6
sw=${PORTS[0]} uas=${PORTS[1]} uac=${PORTS[2]} http=${PORTS[3]} hep=${PORTS[4]} hep2=${PORTS[5]}
conf() { # conf EXTRA: the switch's config, with [node] lines EXTRA
	printf '[node]\npike_exempt = 127.0.0.1\nsip = 127.0.0.1:%s\nhttp = 127.0.0.1:%s\nout = %s/out\n%b\n[trunk local]\naddress = 127.0.0.1\n\n[carrier c]\nprefixes = 1\naddress = 127.0.0.1:%s\n' \
		"$sw" "$http" "$TMP" "$1" "$uas"
}
conf "hep = 127.0.0.1:$hep\nhep_id = $hep_id\nhep_password = it-hep-key\nhep_node = it-hep-node" >"$TMP/serve.scn"

chmod 777 "$TMP" # dumpcap may drop privileges to write the capture
start tshark tshark -q -i lo -f "udp and (port $hep or port $hep2)" -w "$TMP/hep.pcapng"
wait_log tshark "^Capturing on "
start collector node tests/npm/hep_collect.js "$hep" 0 300
wait_log collector "listening on udp"

# tshark_run ARGS...: tshark -r on the capture with the HEP dissector; its
# output in TS_OUT; fails on a non-zero exit or anything on stderr but the
# root warning (a Lua error or a refused filter is never "0 frames").
tshark_run() {
	TS_OUT=$(tshark -r "$TMP/hep.pcapng" -X lua_script:tests/tshark/hep.lua -d "udp.port==$hep,hep" \
		-d "udp.port==$hep2,hep" "$@" 2>"$TMP/ts.err")
	local rc=$?
	local err
	err=$(grep -v '^Running as user "root" and group "root"\. This could be dangerous\.$' "$TMP/ts.err")
	[ $rc = 0 ] && [ -z "$err" ] && return 0
	TS_ERR="tshark $* exited $rc: $err"
	return 1
}
count() { # count FILTER: COUNT frames match it
	tshark_run -Y "$1" || fail "$TS_ERR"
	COUNT=$(printf '%s' "$TS_OUT" | grep -c .)
}

# The dissector on hep-js's own encoding: one packet to the second port.
t_js=1433719443
node - "$hep2" "$t_js" <<'JS' || fail "hep-js could not send its packet"
const HEPjs = require('./tests/npm/node_modules/hep-js');
const dgram = require('dgram');
const [port, t] = [parseInt(process.argv[2], 10), parseInt(process.argv[3], 10)];
const sip = 'OPTIONS sip:js@127.0.0.1 SIP/2.0\r\nVia: SIP/2.0/UDP 192.168.1.23:5061;branch=z9hG4bK-js\r\n' +
	'From: <sip:a@h>;tag=1\r\nTo: <sip:js@h>\r\nCall-ID: it-hep-js\r\nCSeq: 1 OPTIONS\r\nContent-Length: 0\r\n\r\n';
const pkt = HEPjs.encapsulate(sip, {protocolFamily: 2, protocol: 17, payloadType: 1, captureId: 4242,
	capturePass: 'jspass', hepNodeName: 'jsnode', timeSeconds: t, timeUseconds: 979, srcIp: '192.168.1.23',
	dstIp: '192.168.100.1', srcPort: 5061, dstPort: 5062});
const s = dgram.createSocket('udp4');
s.send(pkt, port, '127.0.0.1', (e) => { s.close(); process.exit(e ? 1 : 0); });
JS

t0=$(date +%s)
start_switchyard serve serve "$TMP/serve.scn" --pcap "$TMP/serve.pcap"
grep -q "HEPv3 copies of SIP to udp:127.0.0.1:$hep (capture id $hep_id, auth key sent in clear)" "$TMP/serve.log" ||
	{ show_log serve; fail "serve did not say where HEP goes"; }
start uas sipp -sn uas -i 127.0.0.1 -p "$uas" -nostdin
wait_port uas udp "$uas"
(cd "$TMP" && timeout 120 sipp -sn uac -s 14155550100 -i 127.0.0.1 -p "$uac" -r 10 -m "$calls" -nostdin \
	"127.0.0.1:$sw" >"$TMP/uac.log" 2>&1)
check "sipp uac exit status (0: every call succeeded)" "$?" 0

# HEP packets sent = SIP messages received + sent, once the last is counted.
hep_matches_sip() {
	rx=$(metric "$http" switchyard_sip_rx_total)
	tx=$(metric "$http" switchyard_sip_tx_total)
	sent=$(metric "$http" switchyard_hep_sent_total)
	[ "$sent" = $((rx + tx)) ]
}
sy_wait serve "hep sent = sip rx + tx" "$READY_TIMEOUT" hep_matches_sip
say "the switch received $rx and sent $tx SIP messages; HEP packets sent: $sent"
check_ge "SIP messages through the switch (2 legs x 6 per call at least)" "$((rx + tx))" $((12 * calls))
check "/metrics hep dropped" "$(metric "$http" switchyard_hep_dropped_total)" 0
check "/metrics hep oversize" "$(metric "$http" switchyard_hep_oversize_total)" 0
t1=$(date +%s)

# Both decoders must have every packet before they are read.
js_count() { grep -c '"len"' "$TMP/collector.log"; }
js_has_all() { [ "$(js_count)" -ge "$sent" ]; }
sy_wait collector "$sent HEP packets decoded by hep-js" "$READY_TIMEOUT" js_has_all
ts_has_all() { [ "$(tshark -r "$TMP/hep.pcapng" -Y "udp.dstport == $hep" 2>/dev/null | grep -c .)" -ge "$sent" ]; }
sy_wait tshark "$sent HEP packets in the capture" "$READY_TIMEOUT" ts_has_all
stop tshark INT
check "tshark capture exit status" "$STATUS" 0
stop collector TERM

# (a) tshark. The filters themselves must be able to fail.
if tshark_run -Y 'hep.capture_idd == 1'; then
	fail "tshark accepted a misspelt HEP field: its counts cannot be trusted"
fi
count "udp.dstport == $hep"
check "HEP packets captured" "$COUNT" "$sent"
count "udp.dstport == $hep && hep && sip"
check "HEP packets tshark decodes as HEP with SIP inside" "$COUNT" "$sent"
count "udp.dstport == $hep && hep.capture_id == $hep_id && hep.auth_key == \"it-hep-key\" && hep.node_name == \"it-hep-node\""
check "HEP packets with capture id, auth key and node name" "$COUNT" "$sent"
count "udp.dstport == $hep && (hep.src_port == $sw || hep.dst_port == $sw) && hep.src_ip4 == 127.0.0.1"
check "HEP packets to or from the switch's SIP port" "$COUNT" "$sent"
count "udp.dstport == $hep && sip.Method == \"INVITE\" && hep.dst_port == $sw"
check "INVITEs caller -> switch" "$COUNT" "$calls"
count "udp.dstport == $hep && sip.Method == \"INVITE\" && hep.dst_port == $uas"
check "INVITEs switch -> carrier" "$COUNT" "$calls"
count "udp.dstport == $hep && sip.Status-Code == 200 && sip.CSeq.method == \"BYE\""
check "200 OK to BYE (both legs)" "$COUNT" $((2 * calls))
count "_ws.malformed || _ws.expert.severity >= error"
check "frames malformed or with an expert error" "$COUNT" 0
count "udp.dstport == $hep2 && hep.capture_id == 4242 && hep.ts_sec == $t_js && hep.ts_usec == 979 && hep.auth_key == \"jspass\" && hep.node_name == \"jsnode\" && hep.ip_family == 2 && hep.proto_type == 1 && hep.src_port == 5061 && hep.dst_ip4 == 192.168.100.1 && sip.Call-ID == \"it-hep-js\""
check "the dissector reads hep-js's own packet" "$COUNT" 1

# (b) hep-js, field by field.
python3 - "$TMP/collector.log" "$sent" "$sw" "$uas" "$uac" "$hep_id" "$t0" "$t1" <<'PY' >"$TMP/js.check"
import json, re, sys
path = sys.argv[1]
sent, sw, uas, uac, cid, t0, t1 = map(int, sys.argv[2:9])
rows = [json.loads(l) for l in open(path) if l.startswith('{')]
pk = [r for r in rows if 'len' in r]
errs = [r for r in rows if 'error' in r]
start = re.compile(r'^(SIP/2\.0 [1-6]\d\d .*|[A-Z]+ \S+ SIP/2\.0)$')
bad = []
for r in pk:
    ports = {r['srcPort'], r['dstPort']}
    ok = (r['captureId'] == cid and r['capturePass'] == 'it-hep-key' and r['hepNodeName'] == 'it-hep-node'
          and r['protocolFamily'] == 2 and r['protocol'] == 17 and r['payloadType'] == 1
          and r['srcIp'] == '127.0.0.1' and r['dstIp'] == '127.0.0.1'
          and sw in ports and len(ports & {sw, uas, uac}) == 2
          and t0 - 1 <= r['timeSeconds'] <= t1 + 1 and 0 <= r['timeUseconds'] < 1000000
          and start.match(r['firstLine']) is not None)
    if not ok:
        bad.append(r)
invites = sum(1 for r in pk if r['firstLine'].startswith('INVITE '))
print(len(pk), len(errs), len(bad), invites)
for r in bad[:3]:
    print('bad:', json.dumps(r), file=sys.stderr)
PY
read -r js_n js_err js_bad js_inv <"$TMP/js.check"
check "packets hep-js decoded" "${js_n:-none}" "$sent"
check "packets hep-js could not decode" "${js_err:-none}" 0
check "packets with a field hep-js read wrong" "${js_bad:-none}" 0
check "INVITEs hep-js saw (both legs)" "${js_inv:-none}" $((2 * calls))
stop_clean serve
check "serve's exit line of hep counters" "$(grep -oE 'hep +hep\.sent [0-9]+, hep\.bytes [0-9]+, hep\.dropped 0' "$TMP/serve.log" | grep -oE 'sent [0-9]+')" "sent $sent"

# --pcap and hep share one tap: the capture has every SIP message and none
# of the HEP packets (the exporter sends beside the tap, not through it).
pcap_count() { tshark -r "$TMP/serve.pcap" -d "udp.port==$sw,sip" -Y "$1" 2>/dev/null | grep -c .; }
check "SIP messages in serve's --pcap capture" "$(pcap_count sip)" "$sent"
check "HEP packets in serve's --pcap capture" "$(pcap_count "udp.port == $hep")" 0

# Off by default: no hep line, no HEP counters, nothing sent.
conf "" >"$TMP/plain.scn"
start_switchyard plain serve "$TMP/plain.scn"
scrape "$http" || fail "GET /metrics of the switch without hep failed"
check "hep counters on /metrics without hep" "$(printf '%s\n' "$SCRAPE" | grep -c '^switchyard_hep_')" 0
check "HEP log lines without hep" "$(grep -c HEP "$TMP/plain.log")" 0
stop_clean plain
finish serve uas collector
