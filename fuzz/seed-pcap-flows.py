#!/usr/bin/env python3
"""fuzz/seed-pcap-flows.py: writes seed inputs of the pcap_flows harness
(fuzz/pcap_flows_fuzz.c) into fuzz/corpus/pcap_flows/: the SIP and SMPP
messages of each capture in pcaps/ (read with tshark, so needs it) in the
harness's record format, and a few hand-made runs (a call with a CANCEL,
RFC 2543 ACKs, a REGISTER through a proxy, stamps going back). Re-run after
adding a capture; the output is committed."""
import os
import subprocess
import sys

ROOT = os.path.normpath(os.path.join(os.path.dirname(os.path.abspath(__file__)), ".."))
OUT = os.path.join(ROOT, "fuzz", "corpus", "pcap_flows")


def record(smpp, src, dst, step_ms, payload, back=False, v6=False):
    b0 = (1 if smpp else 0) | (src & 3) << 1 | (dst & 3) << 3 | (0x20 if v6 else 0) | (0x80 if back else 0)
    step = min(step_ms, 0xFFFF)
    n = min(len(payload), 0xFFFF)
    return bytes([b0, step >> 8, step & 0xFF, n >> 8, n & 0xFF]) + payload[:n]


def from_capture(path):
    fields = ["frame.time_epoch", "ip.src", "ipv6.src", "ip.dst", "ipv6.dst", "udp.payload", "tcp.payload", "smpp.command_id"]
    cmd = ["tshark", "-r", path, "-Y", "sip || (smpp && !_ws.malformed)", "-T", "fields", "-E", "separator=|"]
    for f in fields:
        cmd += ["-e", f]
    out = subprocess.run(cmd, capture_output=True, text=True, check=True).stdout
    hosts, recs, last = {}, [], None
    for line in out.splitlines():
        t, s4, s6, d4, d6, udp, tcp, smpp = line.split("|")
        src, dst, hexp = s4 or s6, d4 or d6, udp or tcp
        if not hexp:
            continue
        for h in (src, dst):
            hosts.setdefault(h, len(hosts) % 4)
        ms = 0 if last is None else int(max(0.0, float(t) - last) * 1000)
        last = float(t)
        recs.append(record(bool(smpp), hosts[src], hosts[dst], ms, bytes.fromhex(hexp), v6=bool(s6)))
    return b"".join(recs)


def sip(start, cid, branch, cseq, method, ftag="f", ttag=""):
    to = "<sip:bob@b>" + (";tag=" + ttag if ttag else "")
    via = "SIP/2.0/UDP 10.0.0.1:5060" + (";branch=" + branch if branch else "")
    return ("%s\r\nVia: %s\r\nFrom: <sip:alice@a>;tag=%s\r\nTo: %s\r\nCall-ID: %s\r\nCSeq: %d %s\r\n"
            "Content-Length: 0\r\n\r\n" % (start, via, ftag, to, cid, cseq, method)).encode()


def hand_made():
    inv = "INVITE sip:bob@b SIP/2.0"
    r = lambda code: "SIP/2.0 %d X" % code
    cancel = [record(0, 0, 1, 0, sip(inv, "c", "z9hG4bK1", 1, "INVITE")),
              record(0, 1, 0, 5, sip(r(100), "c", "z9hG4bK1", 1, "INVITE")),
              record(0, 0, 1, 5, sip("CANCEL sip:bob@b SIP/2.0", "c", "z9hG4bK1", 1, "CANCEL")),
              record(0, 1, 0, 5, sip(r(200), "c", "z9hG4bK1", 1, "CANCEL", ttag="t")),
              record(0, 1, 0, 5, sip(r(487), "c", "z9hG4bK1", 1, "INVITE", ttag="t")),
              record(0, 0, 1, 5, sip("ACK sip:bob@b SIP/2.0", "c", "z9hG4bK1", 1, "ACK", ttag="t"))]
    rfc2543 = [record(0, 0, 1, 0, sip(inv, "o", "", 1, "INVITE")),
               record(0, 1, 0, 5, sip(r(200), "o", "", 1, "INVITE", ttag="t")),
               record(0, 1, 0, 500, sip(r(200), "o", "", 1, "INVITE", ttag="t")),
               record(0, 0, 1, 5, sip("ACK sip:bob@b SIP/2.0", "o", "", 1, "ACK", ttag="t")),
               record(0, 1, 0, 65535, sip("BYE sip:alice@a SIP/2.0", "o", "", 9, "BYE", ftag="t", ttag="f"), v6=True),
               record(0, 0, 1, 3000, sip(r(200), "o", "", 9, "BYE", ftag="t", ttag="f"), back=True)]
    proxy = [record(0, 0, 1, 0, sip("REGISTER sip:b SIP/2.0", "r", "z9hG4bKa", 1, "REGISTER")),
             record(0, 1, 2, 1, sip("REGISTER sip:b SIP/2.0", "r", "z9hG4bKb", 1, "REGISTER")),
             record(0, 2, 1, 1, sip(r(401), "r", "z9hG4bKb", 1, "REGISTER", ttag="x")),
             record(0, 1, 0, 1, sip(r(401), "r", "z9hG4bKa", 1, "REGISTER", ttag="x")),
             record(0, 3, 0, 1, b"garbage\r\n\r\n"),
             record(1, 0, 3, 1, bytes(16)),
             record(1, 0, 3, 1, bytes([0, 0, 0, 16, 0, 0, 0, 9, 0, 0, 0, 0, 0, 0, 0, 1]))]
    return {"hand-cancel": b"".join(cancel), "hand-rfc2543": b"".join(rfc2543), "hand-proxy": b"".join(proxy)}


def main():
    os.makedirs(OUT, exist_ok=True)
    seeds = hand_made()
    pcaps = os.path.join(ROOT, "pcaps")
    for name in sorted(os.listdir(pcaps)):
        if name.endswith(".pcap"):
            data = from_capture(os.path.join(pcaps, name))
            if data:
                seeds["pcap-" + name[:-5]] = data
    for name, data in sorted(seeds.items()):
        with open(os.path.join(OUT, name), "wb") as f:
            f.write(data)
        print("fuzz/corpus/pcap_flows/%s: %d bytes" % (name, len(data)))


if __name__ == "__main__":
    sys.exit(main())
