#!/usr/bin/env bash
# it_malformed.sh: bad SIP on the live socket. Requests that parse but lack a
# mandatory header get 400, unparseable datagrams are dropped, and the switch
# keeps serving (an OPTIONS afterwards gets 200). /metrics counts every bad
# datagram, and the switch still stops cleanly on SIGTERM.
set -u
source "$(dirname "$0")/lib.sh"

require_switchyard
require_tool python3

pick_ports 2
port=${PORTS[0]} http=${PORTS[1]}
printf '[node]\nsip = 127.0.0.1:%s\nhttp = 127.0.0.1:%s\nout = %s/out\n\n[trunk local]\naddress = 127.0.0.1\n\n[carrier c]\nprefixes = 1\naddress = 127.0.0.1:9\n' \
	"$port" "$http" "$TMP" >"$TMP/serve.scn"
start_switchyard serve serve "$TMP/serve.scn"
python3 - "$port" <<'PY'
import socket, sys, random
port = int(sys.argv[1])
s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
s.bind(("127.0.0.1", 0))
s.settimeout(2.0)
me = "127.0.0.1:%d" % s.getsockname()[1]
def req(lines, body=""):
    return ("\r\n".join(lines) + "\r\nContent-Length: %d\r\n\r\n" % len(body) + body).encode()
base = ["OPTIONS sip:x@127.0.0.1 SIP/2.0", "Via: SIP/2.0/UDP %s;branch=z9hG4bK-%d" % (me, 1),
        "From: <sip:a@x>;tag=1", "To: <sip:b@x>", "Call-ID: bad-%d", "CSeq: 1 OPTIONS", "Max-Forwards: 70"]
fails = 0
def expect(data, want, what):
    global fails
    s.sendto(data, ("127.0.0.1", port))
    try:
        got = s.recv(65535).decode(errors="replace").split("\r\n")[0]
    except socket.timeout:
        got = None
    ok = (want is None and got is None) or (want is not None and got is not None and got.startswith("SIP/2.0 %d" % want))
    print("it_malformed: %s: %-34s -> %s" % ("ok" if ok else "FAIL", what, got))
    if not ok:
        fails += 1
        print("it_malformed:   expected %s" % want)
n = 0
# A response must echo From and To (RFC 3261 8.2.6.2): without them no
# response can be matched by the sender, so those requests are dropped.
for drop, want, what in [(4, 400, "missing Call-ID"), (5, 400, "missing CSeq"), (2, None, "missing From (dropped)"),
                         (3, None, "missing To (dropped)")]:
    n += 1
    lines = [l.replace("branch=z9hG4bK-1", "branch=z9hG4bK-x%d" % n).replace("bad-%d", "bad-%d" % n) for l in base]
    del lines[drop]
    expect(req(lines), want, what)
lines = [l.replace("bad-%d", "bad-m").replace("z9hG4bK-1", "z9hG4bK-m") for l in base]
lines[5] = "CSeq: 1 INVITE"
expect(req(lines), 400, "CSeq method mismatch")
random.seed(7)
for i in range(300):  # unparseable noise: dropped, never answered, never a crash
    s.sendto(bytes(random.getrandbits(8) for _ in range(random.randint(1, 1400))), ("127.0.0.1", port))
expect(b"", None, "empty datagram")
expect(b"INVITE\r\n\r\n", None, "truncated start line")
good = [l.replace("bad-%d", "good").replace("z9hG4bK-1", "z9hG4bK-good") for l in base]
expect(req(good), 200, "valid OPTIONS after the abuse")
sys.exit(1 if fails else 0)
PY
rc=$?
[ $rc = 0 ] || SY_FAILS=$((SY_FAILS + 1))
alive serve || { show_log serve; fail "switchyard serve died"; }
check "/metrics malformed SIP datagrams" "$(metric "$http" switchyard_sip_malformed_total)" 307
stop_clean serve
finish serve
