#!/usr/bin/env python3
"""fraud_probe.py SWITCH_PORT: one INVITE to a blocked range with a Call-ID
and a caller number built to break out of the alert's JSON strings (quotes,
a backslash, non-UTF-8 bytes), for tests/security/fraud.sh. Plays the trunk
(127.0.0.1); ACKs the final answer. Prints 'status N', 'reason TEXT' and
'call_id TEXT' (the Call-ID as the alert must show it: each byte that is not
printable ASCII as '?')."""
import socket, sys, time, uuid

SW = ("127.0.0.1", int(sys.argv[1]))
CID = 'x","action":"allow","y":"\\\xe9\xff' + uuid.uuid4().hex[:8]
CALLER = "1415555\xe9\xff0100"  # bytes that are not UTF-8 in a JSON string


def recv_final(s, t=10.0):
    end = time.time() + t
    while time.time() < end:
        s.settimeout(max(0.01, end - time.time()))
        try:
            d, _ = s.recvfrom(65535)
        except socket.timeout:
            break
        m = d.decode("latin-1")
        code = m.split(" ", 2)[1] if m.startswith("SIP/2.0 ") else ""
        if code >= "200":
            return m
    return None


def hdr(m, name):
    for line in m.split("\r\n"):
        if line.lower().startswith(name.lower() + ":"):
            return line.split(":", 1)[1].strip()
    return ""


s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
s.bind(("127.0.0.1", 0))
host, port = s.getsockname()
branch = "z9hG4bK" + uuid.uuid4().hex
via = f"Via: SIP/2.0/UDP {host}:{port};branch={branch};rport\r\n"
frm = f"From: <sip:{CALLER}@{host}>;tag=f1\r\n"
body = "v=0\r\no=a 1 1 IN IP4 127.0.0.1\r\ns=-\r\nc=IN IP4 127.0.0.1\r\nt=0 0\r\nm=audio 4000 RTP/AVP 0\r\n"
inv = (f"INVITE sip:88300012345@{SW[0]}:{SW[1]} SIP/2.0\r\n{via}Max-Forwards: 70\r\n{frm}"
       f"To: <sip:88300012345@{SW[0]}>\r\nCall-ID: {CID}\r\nCSeq: 1 INVITE\r\n"
       f"Contact: <sip:a@{host}:{port}>\r\nContent-Type: application/sdp\r\n"
       f"Content-Length: {len(body)}\r\n\r\n{body}")
s.sendto(inv.encode("latin-1"), SW)
m = recv_final(s)
if m is None:
    print("status none")
    sys.exit(0)
print("status", m.split(" ", 2)[1])
print("reason", hdr(m, "Reason"))
ack = (f"ACK sip:88300012345@{SW[0]}:{SW[1]} SIP/2.0\r\n{via}Max-Forwards: 70\r\n{frm}"
       f"To: {hdr(m, 'To')}\r\nCall-ID: {CID}\r\nCSeq: 1 ACK\r\nContent-Length: 0\r\n\r\n")
s.sendto(ack.encode("latin-1"), SW)
# as the alert must carry it: bytes that are not printable ASCII as '?'
print("call_id", "".join(c if " " <= c < "\x7f" else "?" for c in CID))
