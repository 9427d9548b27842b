#!/usr/bin/env bash
# it_pcap_info.sh: `switchyard pcap info` finds in each capture of pcaps/
# that carries SIP the dialogs tshark finds: the same Call-IDs, and per
# Call-ID the same request methods and status codes (tshark -Y sip is the
# reference); in each that carries SMPP, the PDUs by command and the bind's
# system_id tshark decodes. --filter keeps what tshark's filter keeps. A cut capture, a
# capture header followed by random bytes, random bytes alone, a missing
# file and a bad filter exit 2 with an error naming the file (and the frame
# where there is one).
set -u
source "$(dirname "$0")/lib.sh"

require_switchyard
require_tool tshark python3
require_run "tshark" '^TShark \(Wireshark\) [0-9]' tshark -v

# tshark_sip FILE [FILTER]: "Call-ID|method|code" per SIP message.
tshark_sip() {
	local out
	out=$(tshark -r "$1" -Y "sip${2:+ && ($2)}" -T fields -E separator='|' -e sip.Call-ID -e sip.Method \
		-e sip.Status-Code 2>"$TMP/ts.err") || fail "tshark -r $1 failed: $(cat "$TMP/ts.err")"
	printf '%s\n' "$out"
}

# ladders: each Call-ID with its methods and codes and how many times each
# was seen, one Call-ID per line, from tshark's fields (stdin) or from
# `pcap info --json` (file $1).
ladders_tshark() {
	python3 -c '
import collections, sys
d = collections.defaultdict(collections.Counter)
for line in sys.stdin:
    line = line.rstrip("\n")
    if not line:
        continue
    cids, methods, codes = line.split("|")
    for cid in set(cids.split(",")):  # a TCP segment may carry more than one message
        for tok in methods.split(",") + codes.split(","):
            if tok:
                d[cid][tok] += 1
for cid in sorted(d):
    print(cid, " ".join("%s*%d" % kv for kv in sorted(d[cid].items())))
'
}
ladders_info() {
	python3 -c '
import collections, json, sys
j = json.load(open(sys.argv[1]))
for dg in sorted(j["dialogs"], key=lambda x: x["call_id"]):
    c = collections.Counter(m.get("method") or str(m.get("code")) for m in dg["messages"])
    print(dg["call_id"], " ".join("%s*%d" % kv for kv in sorted(c.items())))
' "$1"
}

n_files=0
for f in pcaps/*.pcap; do
	ref=$(tshark_sip "$f")
	[ -n "$ref" ] || continue
	n_files=$((n_files + 1))
	name=$(basename "$f" .pcap)
	"$SY" pcap info "$f" --json >"$TMP/$name.json" 2>"$TMP/$name.err"
	check "$name: pcap info --json exit status" "$?" 0
	want=$(printf '%s\n' "$ref" | ladders_tshark)
	got=$(ladders_info "$TMP/$name.json" 2>&1)
	check "$name: Call-IDs with their methods and codes (counted), as tshark" "$got" "$want"
	"$SY" pcap info "$f" >"$TMP/$name.txt" 2>"$TMP/$name.err"
	check "$name: pcap info exit status" "$?" 0
	dialogs=$(printf '%s\n' "$ref" | cut -d'|' -f1 | sort -u | wc -l)
	msgs=$(printf '%s\n' "$ref" | wc -l)
	summary=$(tail -n 1 "$TMP/$name.txt")
	check "$name: summary line's dialogs and SIP messages" \
		"$(printf '%s\n' "$summary" | grep -oE '^summary: [0-9]+ dialogs|[0-9]+ SIP messages' | tr '\n' ' ')" \
		"summary: $dialogs dialogs $msgs SIP messages "
done
check "captures with SIP in pcaps/" "$n_files" 4

# SMPP: each capture's PDUs by command and the bind's system_id, as tshark
# decodes them (port 2775 is SMPP's registered port). tshark's heuristic
# also takes two TCP frames of the RTP capture for a replace_sm it then
# flags malformed: those are not SMPP.
n_smpp=0
for f in pcaps/*.pcap; do
	ref=$(tshark -r "$f" -Y 'smpp && !_ws.malformed' -T fields -E separator='|' -e smpp.command_id -e smpp.system_id 2>"$TMP/ts.err") ||
		fail "tshark -r $f failed: $(cat "$TMP/ts.err")"
	[ -n "$ref" ] || continue
	n_smpp=$((n_smpp + 1))
	name=$(basename "$f" .pcap)
	"$SY" pcap info "$f" --json >"$TMP/$name.json"
	check "$name: pcap info --json exit status" "$?" 0
	want=$(printf '%s\n' "$ref" | python3 -c '
import sys
n = {"pdus": 0, "submits": 0, "submit_resps": 0, "delivers": 0, "deliver_resps": 0}
ids = []
for line in sys.stdin:
    cmds, sid = line.rstrip("\n").split("|")
    for c in cmds.split(","):
        n["pdus"] += 1
        k = {0x4: "submits", 0x80000004: "submit_resps", 0x5: "delivers", 0x80000005: "deliver_resps"}.get(int(c, 16))
        if k:
            n[k] += 1
        if int(c, 16) in (1, 2, 9):
            ids.append(sid)
print(" ".join("%s=%d" % kv for kv in sorted(n.items())), "system_ids=" + ",".join(sorted(ids)))
')
	got=$(python3 -c '
import json, sys
j = json.load(open(sys.argv[1]))
keys = ["pdus", "submits", "submit_resps", "delivers", "deliver_resps"]
n = {k: sum(b[k] for b in j["binds"]) for k in keys}
ids = [b["system_id"] for b in j["binds"] if b["bind"]]
print(" ".join("%s=%d" % kv for kv in sorted(n.items())), "system_ids=" + ",".join(sorted(ids)))
' "$TMP/$name.json" 2>&1)
	check "$name: SMPP PDUs by command and system_ids, as tshark" "$got" "$want"
done
check_ge "captures with SMPP in pcaps/" "$n_smpp" 1

# --filter: only the proxy's UDP leg of the two-hop registration.
f=pcaps/sip_ipv4_tcp_retrans.pcap
"$SY" pcap info "$f" --filter udp --json >"$TMP/udp.json"
check "--filter udp: exit status" "$?" 0
check "--filter udp: the messages tshark keeps" \
	"$(python3 -c 'import json,sys; print(json.load(open(sys.argv[1]))["sip_messages"])' "$TMP/udp.json")" \
	"$(tshark_sip "$f" udp | wc -l)"
check "--filter udp: one leg" \
	"$(python3 -c 'import json,sys; print(len(json.load(open(sys.argv[1]))["dialogs"][0]["legs"]))' "$TMP/udp.json")" 1

# The timing of pcaps/sip_ipv6_udp.pcap (years between frames) is warned about.
"$SY" pcap info pcaps/sip_ipv6_udp.pcap >"$TMP/v6.txt"
check "sip_ipv6_udp: a warning about jumping timestamps" \
	"$(grep -c '^warning: timestamps jump by more than an hour' "$TMP/v6.txt")" 1

# bad FILE PATTERN WHAT: exit 2 and an error on stderr matching PATTERN.
bad() {
	local out rc
	out=$("$SY" pcap info "$1" "${@:4}" 2>&1 >/dev/null)
	rc=$?
	check "$3: exit status" "$rc" 2
	check "$3: the error names it" "$(printf '%s\n' "$out" | grep -cE "$2")" 1
}
head -c 3001 pcaps/sip_ipv4_tcp.pcap >"$TMP/cut.pcap"
bad "$TMP/cut.pcap" "^switchyard pcap info: $TMP/cut.pcap: frame 9: truncated" "a capture cut inside frame 9"
python3 -c '
import random, sys
random.seed(11)
hdr = open("pcaps/sip_ipv4_tcp.pcap", "rb").read(24)
open(sys.argv[1], "wb").write(hdr + bytes(random.getrandbits(8) for _ in range(4096)))
open(sys.argv[2], "wb").write(bytes(random.getrandbits(8) for _ in range(4096)))
' "$TMP/random.pcap" "$TMP/noise.pcap"
bad "$TMP/random.pcap" "^switchyard pcap info: $TMP/random.pcap: frame 1: " "a pcap header and random bytes"
bad "$TMP/noise.pcap" "^switchyard pcap info: $TMP/noise.pcap: not a capture" "random bytes"
bad "$TMP/missing.pcap" "^switchyard pcap info: $TMP/missing.pcap: " "a missing file"
bad pcaps/sip_ipv4_tcp.pcap 'filter "port \(\(": ' "a filter that does not compile" --filter 'port (('
"$SY" pcap info >/dev/null 2>&1
check "no file: exit status" "$?" 2

finish
