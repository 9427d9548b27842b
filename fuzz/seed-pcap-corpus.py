#!/usr/bin/env python3
"""fuzz/seed-pcap-corpus.py: writes the seed corpus of fuzz/pcap_fuzz.c into
fuzz/corpus/pcap/: the real captures of pcaps/ (git stores the same bytes
once), and small synthetic captures for what those lack: each link type
(Ethernet with 802.1Q and QinQ tags, SLL, SLL2, raw IP, BSD NULL and LOOP),
IPv4 fragments out of order, an IPv6 fragment header, TCP segments out of
order with a retransmission, SIP messages packed in a segment, SMPP PDUs
split and packed; in pcap (micro- and nanosecond), pcapng, and a copy cut
mid-frame. The frames-* files hold the same frames in the harness's raw
frame format (2-byte length prefixes). Re-run after changing it; the output
is committed."""
import os
import shutil
import struct

ROOT = os.path.normpath(os.path.join(os.path.dirname(os.path.abspath(__file__)), ".."))
OUT = os.path.join(ROOT, "fuzz", "corpus", "pcap")

A4, B4 = bytes([10, 0, 0, 1]), bytes([10, 0, 0, 2])
A6, B6 = bytes.fromhex("20010db8" + "00" * 11 + "01"), bytes.fromhex("20010db8" + "00" * 11 + "02")

INVITE = (b"INVITE sip:bob@example.com SIP/2.0\r\nVia: SIP/2.0/TCP 10.0.0.1;branch=z9hG4bK-1\r\n"
          b"Call-ID: seed@fuzz\r\nCSeq: 1 INVITE\r\nContent-Length: 4\r\n\r\nv=0\n")
OK200 = b"SIP/2.0 200 OK\r\nCall-ID: seed@fuzz\r\nCSeq: 1 INVITE\r\nl: 0\r\n\r\n"


def ipv4(proto, payload, ident=1, off=0, more=False):
    return struct.pack(">BBHHHBBH4s4s", 0x45, 0, 20 + len(payload), ident, (0x2000 if more else 0) | off // 8,
                       64, proto, 0, A4, B4) + payload


def ipv6(proto, payload, frag=None):
    if frag is not None:
        ident, off, more = frag
        payload = struct.pack(">BBHI", proto, 0, off | int(more), ident) + payload
        proto = 44
    return struct.pack(">IHBB16s16s", 0x60000000, len(payload), proto, 64, A6, B6) + payload


def udp(payload, sport=5060, dport=5060):
    return struct.pack(">HHHH", sport, dport, 8 + len(payload), 0) + payload


def tcp(seq, flags, payload=b"", sport=40000, dport=5060):
    return struct.pack(">HHIIBBHHH", sport, dport, seq, 0, 5 << 4, flags, 65535, 0, 0) + payload


def ether(ethertype, payload, vlans=0):
    tags = b"".join(struct.pack(">HH", 0x88a8 if i == 0 and vlans > 1 else 0x8100, 100 + i) for i in range(vlans))
    return b"\x02\x00\x00\x00\x00\x01\x02\x00\x00\x00\x00\x02" + tags + struct.pack(">H", ethertype) + payload


def pcap(linktype, frames, nano=False):
    out = struct.pack("<IHHiIII", 0xa1b23c4d if nano else 0xa1b2c3d4, 2, 4, 0, 0, 65535, linktype)
    for i, f in enumerate(frames):
        out += struct.pack("<IIII", 1700000000 + i, 1000 * i, len(f), len(f)) + f
    return out


def pcapng(linktype, frames):
    out = struct.pack("<IIIHHqI", 0x0a0d0d0a, 28, 0x1a2b3c4d, 1, 0, -1, 28)
    out += struct.pack("<IIHHII", 1, 20, linktype, 0, 65535, 20)
    for i, f in enumerate(frames):
        pad = (4 - len(f) % 4) % 4
        us = (1700000000 + i) * 1000000
        n = 32 + len(f) + pad
        out += struct.pack("<IIIIIII", 6, n, 0, us >> 32, us & 0xffffffff, len(f), len(f)) + f + b"\0" * pad
        out += struct.pack("<I", n)
    return out


def framed(frames):
    return b"".join(struct.pack(">H", len(f) & 0x0fff | 0x4000) + f for f in frames)


def smpp(cmd, seqno, body=b""):
    return struct.pack(">IIII", 16 + len(body), cmd, 0, seqno) + body


def seeds():
    sip_udp4, sip_udp6 = ipv4(17, udp(INVITE)), ipv6(17, udp(OK200))
    yield "eth-vlan", 1, [ether(0x0800, sip_udp4, 1), ether(0x86dd, sip_udp6, 2)]
    yield "sll", 113, [struct.pack(">HHHQH", 0, 1, 6, 0, 0x0800) + sip_udp4]
    yield "sll2", 276, [struct.pack(">HHIHBBQ", 0x86dd, 0, 1, 1, 0, 6, 0) + sip_udp6]
    yield "raw", 101, [sip_udp4, sip_udp6]
    yield "null", 0, [struct.pack("<I", 2) + sip_udp4, struct.pack("<I", 30) + sip_udp6]
    yield "loop", 108, [struct.pack(">I", 2) + sip_udp4, struct.pack(">I", 24) + sip_udp6]
    body = INVITE.replace(b"Content-Length: 4", b"Content-Length: 1200") + bytes(range(97, 123)) * 46
    dgram = udp(body)
    frags = [ether(0x0800, ipv4(17, dgram[o:o + 512], 7, o, o + 512 < len(dgram))) for o in (0, 512, 1024)]
    yield "ipv4-frag-ooo", 1, [frags[2], frags[0], frags[0], frags[1]]
    frags6 = [ether(0x86dd, ipv6(17, dgram[o:o + 640], (99, o, o + 640 < len(dgram))))
              for o in range(0, len(dgram), 640)]
    yield "ipv6-frag", 1, frags6[::-1]
    s0 = 1001
    stream = b"\r\n" + INVITE + OK200
    yield "tcp-ooo-retrans", 1, [
        ether(0x0800, ipv4(6, tcp(1000, 2))),
        ether(0x0800, ipv4(6, tcp(s0 + 60, 0x18, stream[60:]))),
        ether(0x0800, ipv4(6, tcp(s0, 0x18, stream[:30]))),
        ether(0x0800, ipv4(6, tcp(s0, 0x18, stream[:30]))),
        ether(0x0800, ipv4(6, tcp(s0 + 30, 0x18, stream[30:60]))),
        ether(0x0800, ipv4(6, tcp(s0 + len(stream), 0x11))),
    ]
    pdus = smpp(9, 1, b"esme\0secret\0\0\x34\0\0\0") + smpp(4, 2, b"\0" * 30) + smpp(0x15, 3)
    yield "tcp-smpp", 1, [
        ether(0x0800, ipv4(6, tcp(5000, 2, sport=50000, dport=2775))),
        ether(0x0800, ipv4(6, tcp(5001, 0x18, pdus[:40], sport=50000, dport=2775))),
        ether(0x0800, ipv4(6, tcp(5041, 0x18, pdus[40:], sport=50000, dport=2775))),
    ]


def main():
    os.makedirs(OUT, exist_ok=True)
    for name in sorted(os.listdir(os.path.join(ROOT, "pcaps"))):
        if name.endswith(".pcap"):
            shutil.copyfile(os.path.join(ROOT, "pcaps", name), os.path.join(OUT, "real-" + name))
    for name, lt, frames in seeds():
        files = {name + ".pcap": pcap(lt, frames), "frames-" + name: framed(frames)}
        if name in ("eth-vlan", "tcp-ooo-retrans"):
            files[name + ".pcapng"] = pcapng(lt, frames)
            files[name + "-ns.pcap"] = pcap(lt, frames, nano=True)
            whole = pcap(lt, frames)
            files[name + "-cut.pcap"] = whole[:len(whole) - 7]
        for fname, data in files.items():
            with open(os.path.join(OUT, fname), "wb") as f:
                f.write(data)


if __name__ == "__main__":
    main()
