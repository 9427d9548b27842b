#!/usr/bin/env python3
"""sipauth_probe.py: SIP attacks on who may use the switch, run by
tests/security/sipauth.sh against a live `serve`. Each attack prints one
PASS or FAIL line; exit status 1 when any failed.

The carrier is a UDP socket of ours that never answers. "The carrier
received nothing" is shown without waiting for silence: after each attack a
control INVITE that must be routed is sent, and when the carrier has it, the
switch (one thread, one socket, loopback) sent it after anything the attack
made it send, so the carrier's queue then holds everything: it must be the
control INVITE alone.

usage: sipauth_probe.py MODE SWITCH_PORT CARRIER_PORT
  MODE trunk: the switch has [trunk ok] address = 127.0.0.2 and no users
  MODE digest: [user alice] password = s3cret, realm sy.test, [trunk ok] 127.0.0.2
"""
import hashlib
import os
import socket
import sys

MODE, SW, CAR = sys.argv[1], int(sys.argv[2]), int(sys.argv[3])
REALM, USER, PASSWORD = "sy.test", "alice", "s3cret"
RURI = "sip:15551234567@127.0.0.1:%d" % SW
fails = 0
seq = 0


def result(ok, what, detail=""):
    global fails
    print("%s: %s%s" % ("PASS" if ok else "FAIL", what, (" (" + detail + ")") if detail and not ok else ""))
    fails += 0 if ok else 1


def sock(ip):
    s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    s.bind((ip, 0))
    s.settimeout(5.0)
    return s


def invite(s, callid, branch, cseq=1, auth="", caller="14155550100"):
    ip, port = s.getsockname()
    return ("INVITE %s SIP/2.0\r\n"
            "Via: SIP/2.0/UDP %s:%d;branch=z9hG4bK%s;rport\r\n"
            "Max-Forwards: 70\r\n"
            "From: <sip:%s@%s>;tag=t%s\r\n"
            "To: <sip:15551234567@127.0.0.1>\r\n"
            "Call-ID: %s\r\n"
            "CSeq: %d INVITE\r\n"
            "Contact: <sip:caller@%s:%d>\r\n"
            "%s"
            "Content-Length: 0\r\n\r\n" % (RURI, ip, port, branch, caller, ip, callid, callid, cseq, ip, port, auth)).encode()


def final(s, callid):
    """The final response to our INVITE with this Call-ID (bounded)."""
    for _ in range(50):
        try:
            data = s.recv(65535).decode(errors="replace")
        except socket.timeout:
            return 0, ""
        if ("Call-ID: %s\r\n" % callid) not in data:
            continue
        code = int(data.split(" ", 2)[1])
        if code >= 200:
            return code, data
    return 0, ""


def send(s, msg):
    s.sendto(msg, ("127.0.0.1", SW))


def call(src, auth="", callid=None):
    global seq
    seq += 1
    callid = callid or "probe-%d-%d" % (os.getpid(), seq)
    s = sock(src)
    send(s, invite(s, callid, "b%d" % seq, auth=auth))
    return s, callid


class Carrier:
    """Our carrier: answers every INVITE 486 (so the switch stops
    retransmitting it) and remembers the B-leg Call-IDs it has seen."""

    def __init__(self):
        self.s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
        self.s.bind(("127.0.0.1", CAR))
        self.s.settimeout(5.0)
        self.seen = set()

    def next_invite(self):
        """The next INVITE with a Call-ID not seen before, or None."""
        for _ in range(200):
            try:
                data, peer = self.s.recvfrom(65535)
            except socket.timeout:
                return None
            text = data.decode(errors="replace")
            if not text.startswith("INVITE "):
                continue
            hdrs = {}
            vias = []
            for line in text.split("\r\n")[1:]:
                if not line:
                    break
                k, _, v = line.partition(":")
                if k.strip().lower() == "via":
                    vias.append(line)
                hdrs.setdefault(k.strip().lower(), v.strip())
            resp = ("SIP/2.0 486 Busy Here\r\n" + "\r\n".join(vias) + "\r\n"
                    "From: %s\r\nTo: %s;tag=car\r\nCall-ID: %s\r\nCSeq: %s\r\nContent-Length: 0\r\n\r\n"
                    % (hdrs["from"], hdrs["to"], hdrs["call-id"], hdrs["cseq"]))
            self.s.sendto(resp.encode(), peer)
            if hdrs["call-id"] in self.seen:
                continue  # a retransmission crossed our 486
            self.seen.add(hdrs["call-id"])
            return text
        return None


CONTROL_CALLER = "19990000001"


def control(car):
    """A control INVITE from the trunk (127.0.0.2, caller CONTROL_CALLER)
    must reach the carrier; returns how many other new INVITEs the carrier
    got before it (-1: the control never arrived)."""
    global seq
    seq += 1
    s = sock("127.0.0.2")
    cid = "control-%d-%d" % (os.getpid(), seq)
    send(s, invite(s, cid, "c%d" % seq, caller=CONTROL_CALLER))
    others = 0
    for _ in range(100):
        text = car.next_invite()
        if text is None:
            return -1
        if ("sip:%s@" % CONTROL_CALLER) in text.split("\r\nTo:")[0]:
            s.close()
            return others
        others += 1
    return -1


def routed(car):
    """The carrier got a new INVITE that is not a control one."""
    text = car.next_invite()
    return text is not None and ("sip:%s@" % CONTROL_CALLER) not in text


def h(alg, text):
    return hashlib.new("sha256" if alg == "SHA-256" else "md5", text.encode()).hexdigest()


def challenge(data, alg):
    for line in data.split("\r\n"):
        if line.lower().startswith("proxy-authenticate:") and ("algorithm=%s" % alg) in line:
            return line.split('nonce="', 1)[1].split('"', 1)[0], line
    return None, ""


def creds(alg, nonce, nc, password=PASSWORD, cnonce="c0ffee"):
    ha1 = h(alg, "%s:%s:%s" % (USER, REALM, password))
    ha2 = h(alg, "INVITE:%s" % RURI)
    resp = h(alg, "%s:%s:%s:%s:auth:%s" % (ha1, nonce, nc, cnonce, ha2))
    return ('Proxy-Authorization: Digest username="%s", realm="%s", nonce="%s", uri="%s", response="%s", '
            'algorithm=%s, qop=auth, nc=%s, cnonce="%s"\r\n' % (USER, REALM, nonce, RURI, resp, alg, nc, cnonce))


car = Carrier()

if MODE == "trunk":
    s, cid = call("127.0.0.1")
    code, _ = final(s, cid)
    result(code == 403, "INVITE from an unlisted address is answered 403", "got %d" % code)
    before = control(car)
    result(before == 0, "the carrier received nothing from the unlisted INVITE", "%d INVITEs before the control" % before)
    # an unlisted address that claims a trunk's number in From changes nothing
    s, cid = call("127.0.0.3")
    code, _ = final(s, cid)
    result(code == 403, "INVITE from another unlisted loopback address is answered 403", "got %d" % code)
    before = control(car)
    result(before == 0, "the carrier received nothing from it", "%d INVITEs before the control" % before)
else:
    # no credentials: a challenge, both algorithms, nothing routed
    s, cid = call("127.0.0.1")
    code, data = final(s, cid)
    nonce, line = challenge(data, "SHA-256")
    result(code == 407 and nonce is not None and challenge(data, "MD5")[0] is not None,
           "INVITE without credentials is challenged 407 (SHA-256 and MD5)", "got %d" % code)
    # wrong password
    s, cid = call("127.0.0.1", creds("SHA-256", nonce, "00000001", password="guess"))
    code, data = final(s, cid)
    result(code == 407, "a wrong password is answered 407 again", "got %d" % code)
    before = control(car)
    result(before == 0, "the carrier received nothing from the unauthenticated INVITEs", "%d before the control" % before)
    # a nonce the switch never issued
    s, cid = call("127.0.0.1", creds("SHA-256", "00" * 32, "00000001"))
    code, _ = final(s, cid)
    result(code == 407, "a made-up nonce is answered 407", "got %d" % code)
    # the right password is routed...
    s, cid = call("127.0.0.1")
    code, data = final(s, cid)
    nonce, _ = challenge(data, "MD5")
    good = creds("MD5", nonce, "00000001")
    s, cid = call("127.0.0.1", good)
    result(routed(car), "the right password (MD5 digest) is routed to the carrier")
    # ...and the same credentials replayed (new transaction and Call-ID,
    # from another address) are refused
    s, cid = call("127.0.0.3", good)
    code, data = final(s, cid)
    result(code == 407 and "stale=true" in data, "a replayed nonce/nc is refused (407, stale=true)", "got %d" % code)
    before = control(car)
    result(before == 0, "the carrier received nothing from the replay", "%d before the control" % before)
    # the owner's next nc on the same nonce still works
    s, cid = call("127.0.0.1", creds("MD5", nonce, "00000002"))
    result(routed(car), "the owner's next nc (00000002) is routed")

sys.exit(1 if fails else 0)
