#!/usr/bin/env python3
"""sipwire_probe.py SWITCH_PORT CARRIER_PORT HTTP_PORT: the attacks of
tests/security/sipwire.sh against a live `switchyard serve`, over UDP on
loopback. Plays the caller (127.0.0.1), the carrier (127.0.0.1:CARRIER_PORT),
an attacker (another port, then 127.0.0.2), a victim that must hear
nothing (127.0.0.1, its own port) and a legitimate client (127.0.0.3).
Prints one 'name value' line per observation; the shell script checks
them. Every wait is bounded; absence is observed over a bounded window."""
import socket, sys, time, uuid, urllib.request

SW = ("127.0.0.1", int(sys.argv[1]))
CAR_PORT, HTTP = int(sys.argv[2]), int(sys.argv[3])


def sock(ip="127.0.0.1", port=0):
    s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    s.bind((ip, port))
    return s


def recv(s, t=2.0, want=None):
    """The first datagram (whose first line starts with want) within t s."""
    end = time.time() + t
    while True:
        left = end - time.time()
        if left <= 0:
            return None
        s.settimeout(left)
        try:
            d, _ = s.recvfrom(65535)
        except socket.timeout:
            return None
        m = d.decode(errors="replace")
        if want is None or m.startswith(want):
            return m


def drain(s, t=1.0):
    """Every datagram within t s (absence is observed over a window)."""
    out = []
    while True:
        m = recv(s, t)
        if m is None:
            return out
        out.append(m)
        t = 0.3


def hdr(m, name):
    for line in m.split("\r\n"):
        if line.lower().startswith(name.lower() + ":"):
            return line.split(":", 1)[1].strip()
    return ""


def tag(v):
    return v.split(";tag=", 1)[1].split(";")[0] if ";tag=" in v else ""


def reply(s, req, code, to_tag=None, extra=""):
    """A response to req (Vias, From, To, Call-ID, CSeq copied)."""
    lines = [f"SIP/2.0 {code} X"]
    for line in req.split("\r\n")[1:]:
        if line.lower().startswith(("via:", "v:")):
            lines.append(line)
    to = hdr(req, "To")
    if to_tag and ";tag=" not in to:
        to += ";tag=" + to_tag
    lines += [f"From: {hdr(req, 'From')}", f"To: {to}", f"Call-ID: {hdr(req, 'Call-ID')}",
              f"CSeq: {hdr(req, 'CSeq')}"]
    if extra:
        lines.append(extra)
    s.sendto(("\r\n".join(lines) + "\r\nContent-Length: 0\r\n\r\n").encode(), SW)


def request(s, method, cid, ftag, ttag, cseq, via_host=None, rport=True, callee="15551234"):
    host, port = s.getsockname()
    via = via_host or f"{host}:{port}"
    to = f"<sip:{callee}@{SW[0]}>" + (f";tag={ttag}" if ttag else "")
    body = "v=0\r\no=a 1 1 IN IP4 127.0.0.1\r\ns=-\r\nc=IN IP4 127.0.0.1\r\nt=0 0\r\nm=audio 4000 RTP/AVP 0\r\n" \
        if method == "INVITE" else ""
    m = (f"{method} sip:{callee}@{SW[0]}:{SW[1]} SIP/2.0\r\n"
         f"Via: SIP/2.0/UDP {via};branch=z9hG4bK{uuid.uuid4().hex}{';rport' if rport else ''}\r\n"
         f"Max-Forwards: 70\r\nFrom: <sip:4420001@{host}>;tag={ftag}\r\nTo: {to}\r\n"
         f"Call-ID: {cid}\r\nCSeq: {cseq} {method}\r\nContact: <sip:alice@{host}:{port}>\r\n")
    if body:
        m += "Content-Type: application/sdp\r\n"
    m += f"Content-Length: {len(body)}\r\n\r\n{body}"
    s.sendto(m.encode(), SW)


def metric(name):
    t = urllib.request.urlopen(f"http://127.0.0.1:{HTTP}/metrics", timeout=5).read().decode()
    for line in t.splitlines():
        if line.split(" ")[0] == name:
            return line.split(" ")[1]
    return "missing"


def out(k, v):
    print(k, v, flush=True)


caller, carrier = sock(), sock(port=CAR_PORT)
attacker, victim = sock(), sock()
vport = victim.getsockname()[1]

# 1. A real call: caller -> switch -> carrier, answered and ACKed.
cid, ftag = uuid.uuid4().hex + "@127.0.0.1", "c" + uuid.uuid4().hex[:8]
request(caller, "INVITE", cid, ftag, None, 1)
binv = recv(carrier, 5, "INVITE")
out("call_b_invite", int(binv is not None))
reply(carrier, binv, 200, "car1", f"Contact: <sip:gw@127.0.0.1:{CAR_PORT}>\r\nContent-Type: application/sdp")
ok = recv(caller, 5, "SIP/2.0 200")
out("call_answered", int(ok is not None))
atag = tag(hdr(ok, "To"))
request(caller, "ACK", cid, ftag, atag, 1)
b_ack = recv(carrier, 5, "ACK")
out("call_acked", int(b_ack is not None))
out("active_after_answer", metric("switchyard_calls_active"))

# 2. Forged BYEs: the right Call-ID and tags from another source port; a
# wrong To tag from the caller's own source. Both 481; the call stays.
request(attacker, "BYE", cid, ftag, atag, 2)
r = recv(attacker, 3, "SIP/2.0")
out("forged_bye_source_answer", (r or "none").split("\r\n")[0].split(" ")[1] if r else "none")
request(caller, "BYE", cid, ftag, atag + "x", 2)
r = recv(caller, 3, "SIP/2.0")
out("forged_bye_tag_answer", r.split("\r\n")[0].split(" ")[1] if r else "none")
out("carrier_byes_after_forgery", sum(m.startswith("BYE") for m in drain(carrier)))
out("active_after_forgery", metric("switchyard_calls_active"))
out("refused_source", metric("switchyard_sip_dialog_refused_source_total"))
out("refused_tag", metric("switchyard_sip_dialog_refused_tag_total"))

# 3. A forged Via without rport naming the victim: the answer goes to the
# packet's source (the attacker), nothing to the victim.
request(attacker, "OPTIONS", uuid.uuid4().hex, "o1", None, 1, via_host=f"127.0.0.1:{vport}", rport=False)
request(attacker, "INVITE", uuid.uuid4().hex, "o2", None, 1, via_host=f"127.0.0.1:{vport}", rport=False,
        callee="999")
got = drain(attacker)
out("via_answers_to_source", len(got))
out("via_to_victim", len(drain(victim)))

# 4. The caller's real BYE still ends the call.
request(caller, "BYE", cid, ftag, atag, 3)
r = recv(caller, 3, "SIP/2.0")
out("real_bye_answer", r.split("\r\n")[0].split(" ")[1] if r else "none")
bbye = recv(carrier, 3, "BYE")
if bbye:
    reply(carrier, bbye, 200)
out("carrier_got_real_bye", int(bbye is not None))

# 5. A stray 2xx with an unknown Call-ID and a Contact naming the victim:
# one ACK and one BYE to its source, nothing to the victim, nothing more.
stray = (f"SIP/2.0 200 OK\r\nVia: SIP/2.0/UDP 127.0.0.1:{SW[1]};branch=z9hG4bKnosuch{uuid.uuid4().hex}\r\n"
         f"From: <sip:a@127.0.0.1>;tag=x\r\nTo: <sip:b@127.0.0.1>;tag=y\r\nCall-ID: {uuid.uuid4().hex}\r\n"
         f"CSeq: 1 INVITE\r\nContact: <sip:b@127.0.0.1:{vport}>\r\nContent-Length: 0\r\n\r\n")
attacker.sendto(stray.encode(), SW)
got = drain(attacker, 2.0)
out("stray_acks", sum(m.startswith("ACK") for m in got))
out("stray_byes", sum(m.startswith("BYE") for m in got))
out("stray_to_victim", len(drain(victim)))

# 6. A flood from 127.0.0.2 is blocked (pike), counted, and a legitimate
# source (127.0.0.3) is still served.
flood, legit = sock("127.0.0.2"), sock("127.0.0.3")
for i in range(int(sys.argv[4]) if len(sys.argv) > 4 else 300):
    request(flood, "OPTIONS", f"flood{i}", "f", None, 1)
out("flood_answers", len(drain(flood)))
request(flood, "OPTIONS", "flood-after", "f", None, 1)
out("flood_after_block", len(drain(flood)))
request(legit, "OPTIONS", "legit", "l", None, 1)
r = recv(legit, 3, "SIP/2.0")
out("legit_answer", r.split("\r\n")[0].split(" ")[1] if r else "none")
out("pike_limited", metric("switchyard_sip_pike_sources_limited_total"))
out("pike_dropped", metric("switchyard_sip_pike_dropped_total"))
out("active_end", metric("switchyard_calls_active"))
