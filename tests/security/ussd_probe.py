"""tests/security/ussd_probe.py CMD PORT ARGS...: the attacks of
tests/security/ussd.sh on the USSD gateway's SMPP listener of a live serve
(127.0.0.1:PORT), in raw SMPP 3.4 over TCP from a chosen 127/8 source. Each
command prints one line of key=value results; every wait is bounded and
nothing asserts how long anything took.

  bind PORT SRC SYSTEM_ID PASSWORD        status=
  guess PORT SRC SYSTEM_ID                statuses= closed= reconnect_refused=
  flood PORT SRC N GOOD_SRC SYSTEM_ID PASSWORD   idle_open= bind= resp= op= text=
  idle PORT SRC SECONDS                   closed_by_server=
  malformed PORT SRC SYSTEM_ID PASSWORD CORPUS_DIR   sent= answered= statuses= corpus= reconnects=
"""
import os
import socket
import struct
import sys
import time

BIND_TRX, BIND_TRX_RESP = 0x09, 0x80000009
SUBMIT_SM, SUBMIT_SM_RESP = 0x04, 0x80000004
DELIVER_SM, DELIVER_SM_RESP = 0x05, 0x80000005
ENQUIRE_LINK, ENQUIRE_LINK_RESP = 0x15, 0x80000015
GENERIC_NACK = 0x80000000


def pdu(cmd, seq, body=b"", status=0):
    return struct.pack(">IIII", 16 + len(body), cmd, status, seq) + body


def cstr(s):
    return (s.encode() if isinstance(s, str) else s) + b"\0"


def tlv(tag, value):
    return struct.pack(">HH", tag, len(value)) + value


def deliver_sm(seq, msisdn, code, text, tlvs):
    body = cstr("USSD") + bytes([1, 1]) + cstr(msisdn) + bytes([0, 0]) + cstr(code)
    body += bytes([0, 0, 0]) + b"\0\0" + bytes([0, 0, 0, 0, len(text)]) + text + tlvs
    return pdu(DELIVER_SM, seq, body)


class Conn:
    def __init__(self, port, src, timeout=5.0):
        self.s = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        self.s.bind((src, 0))
        self.s.settimeout(timeout)
        self.s.connect(("127.0.0.1", port))
        self.buf = b""
        self.seq = 0
        self.pending = []

    def send(self, data):
        try:
            self.s.sendall(data)
            return True
        except OSError:
            return False

    def next_seq(self):
        self.seq += 1
        return self.seq

    def recv_pdu(self, timeout=5.0):
        """(cmd, status, seq, body), "closed" or None (nothing in time)."""
        end = time.monotonic() + timeout
        while True:
            if len(self.buf) >= 4:
                n = struct.unpack(">I", self.buf[:4])[0]
                if 16 <= n <= len(self.buf):
                    p, self.buf = self.buf[:n], self.buf[n:]
                    cmd, st, seq = struct.unpack(">III", p[4:16])
                    return cmd, st, seq, p[16:]
            left = end - time.monotonic()
            if left <= 0:
                return None
            self.s.settimeout(left)
            try:
                d = self.s.recv(65536)
            except socket.timeout:
                return None
            except OSError:
                return "closed"
            if not d:
                return "closed"
            self.buf += d

    def wait_for(self, cmds, timeout=5.0):
        """The next PDU with a command in cmds (answering enquire_link);
        others are kept, in order, for a later wait (the gateway may send
        its submit_sm before the deliver_sm_resp)."""
        for i, r in enumerate(self.pending):
            if r[0] in cmds:
                return self.pending.pop(i)
        end = time.monotonic() + timeout
        while time.monotonic() < end:
            r = self.recv_pdu(end - time.monotonic())
            if r is None or r == "closed":
                return r
            if r[0] == ENQUIRE_LINK:
                self.send(pdu(ENQUIRE_LINK_RESP, r[2]))
            elif r[0] in cmds:
                return r
            else:
                self.pending.append(r)
        return None

    def bind(self, sid, pwd):
        body = cstr(sid) + cstr(pwd) + cstr("") + bytes([0x34, 0, 0]) + b"\0"
        if not self.send(pdu(BIND_TRX, self.next_seq(), body)):
            return "closed"
        r = self.wait_for({BIND_TRX_RESP, GENERIC_NACK})
        return "none" if r is None else r if r == "closed" else r[1]

    def closed_within(self, timeout):
        return self.recv_pdu(timeout) == "closed"

    def close(self):
        self.s.close()


def out(**kv):
    print(" ".join("%s=%s" % (k, v) for k, v in kv.items()), flush=True)


def cmd_bind(port, src, sid, pwd):
    c = Conn(port, src)
    out(status=c.bind(sid, pwd))
    c.close()


def cmd_guess(port, src, sid):
    c = Conn(port, src)
    sts = [str(c.bind(sid, "guess%d" % i)) for i in range(3)]
    fourth = c.bind(sid, "guess3")
    closed = 1 if fourth == "closed" or c.closed_within(2) else 0
    c.close()
    # The source now backs off: its next stream is closed unanswered (a
    # source not blocked would get a bind_resp, whatever the password).
    try:
        c = Conn(port, src)
        refused = 1 if c.bind(sid, "guess4") == "closed" else 0
        c.close()
    except OSError:
        refused = 1
    out(statuses=",".join(sts), closed=closed, reconnect_refused=refused)


def cmd_flood(port, src, n, good, sid, pwd):
    conns = []
    for _ in range(int(n)):
        try:
            conns.append(Conn(port, src))
        except OSError:
            pass
    time.sleep(0.5)  # let the gateway close what it refuses (a settle, not a measured time)
    held = sum(0 if c.closed_within(0.2) else 1 for c in conns)
    # While they are held, a good node from another source binds and dials.
    g = Conn(port, good)
    st = g.bind(sid, pwd)
    resp, op, text = dialogue(g, 0x41) if st == 0 else ("none", "none", "")
    g.close()
    for c in conns:
        c.close()
    out(idle_open=held, bind=st, resp=resp, op=op, text=text or "-")


def cmd_idle(port, src, seconds):
    c = Conn(port, src)
    out(closed_by_server=1 if c.closed_within(float(seconds)) else 0)
    c.close()


def dialogue(c, ref):
    """A PSSR indication for *123#; the gateway's deliver_sm_resp status,
    and its submit_sm's ussd_service_op and text."""
    tlvs = tlv(0x0501, bytes([1])) + tlv(0x1383, bytes([ref, 0]))
    c.send(deliver_sm(c.next_seq(), "447700900123", "*123#", b"*123#", tlvs))
    r = c.wait_for({DELIVER_SM_RESP, GENERIC_NACK})
    resp = "none" if r is None else r if r == "closed" else r[1]
    s = c.wait_for({SUBMIT_SM})
    if s is None or s == "closed":
        return resp, "none", ""
    c.send(pdu(SUBMIT_SM_RESP, s[2], b"\0"))
    b = s[3]
    op, text = "none", ""
    # service_type, src(ton npi addr), dst(ton npi addr), 3 octets, 2 strings, 4 octets, sm_length
    at = b.index(b"\0") + 1
    for _ in range(2):
        at = b.index(b"\0", at + 2) + 1
    at += 3
    for _ in range(2):
        at = b.index(b"\0", at) + 1
    at += 4
    n = b[at]
    text = b[at + 1:at + 1 + n].decode("latin-1").replace("\n", "|").replace(" ", "_")
    at += 1 + n
    while at + 4 <= len(b):
        tag, ln = struct.unpack(">HH", b[at:at + 4])
        if tag == 0x0501 and ln == 1:
            op = b[at + 4]
        at += 4 + ln
    return resp, op, text


def malformed_pdus():
    ok_tlvs = tlv(0x0501, bytes([1])) + tlv(0x1383, bytes([7, 0]))
    return [
        deliver_sm(1, "447700900123", "*123#", b"*123#", tlv(0x1383, bytes([7, 0]))),  # no op
        deliver_sm(2, "447700900123", "*123#", b"*123#", tlv(0x0501, bytes([0x44])) + tlv(0x1383, b"\7\0")),
        deliver_sm(3, "4477x", "*123#", b"*123#", ok_tlvs),  # letters in the MSISDN
        deliver_sm(4, "447700900123", "*123#", b"a" * 183, ok_tlvs),  # over a USSD string
        deliver_sm(5, "447700900123", "*123#", b"\x80\x81", ok_tlvs),  # not GSM septets
        deliver_sm(6, "447700900123", "*123#", b"*123#", tlv(0x0501, b"\1") + b"\x13\x83\x00\x09\x07\x00"),  # TLV overrun
        pdu(SUBMIT_SM, 7, deliver_sm(0, "447700900123", "*123#", b"x", ok_tlvs)[16:]),  # the gateway's direction
        pdu(0x00000777, 8, b"junk"),  # unknown command
        pdu(DELIVER_SM, 9, b"\x01\x02\x03"),  # body shorter than its fields
    ]


def corpus_files(d):
    return [os.path.join(d, f) for f in sorted(os.listdir(d)) if not f.startswith(".")]


def cmd_malformed(port, src, sid, pwd, corpus):
    c = Conn(port, src)
    assert c.bind(sid, pwd) == 0, "the good bind failed"
    sts = []
    for p in malformed_pdus():
        c.send(p)
        r = c.wait_for({DELIVER_SM_RESP, SUBMIT_SM_RESP, GENERIC_NACK}, 3)
        sts.append("none" if r is None else r if r == "closed" else "%d" % r[1])
    # Every fuzz corpus input as raw bytes on a bound stream; a stream the
    # gateway closes (lost framing) is replaced by a new bound one.
    sent = reconnects = 0
    for f in corpus_files(corpus):
        with open(f, "rb") as fh:
            data = fh.read()
        if not c.send(data) or c.closed_within(0.01):
            c.close()
            c = Conn(port, src)
            reconnects += 1
            if c.bind(sid, pwd) != 0:
                break
            c.send(data)
        sent += 1
    # The same gateway still talks.
    c.close()
    c = Conn(port, src)
    after = c.bind(sid, pwd)
    c.close()
    out(statuses=",".join(sts), corpus=sent, reconnects=reconnects, bind_after=after)


def main():
    cmd, port, args = sys.argv[1], int(sys.argv[2]), sys.argv[3:]
    {"bind": cmd_bind, "guess": cmd_guess, "flood": cmd_flood, "idle": cmd_idle,
     "malformed": cmd_malformed}[cmd](port, *args)


if __name__ == "__main__":
    main()
