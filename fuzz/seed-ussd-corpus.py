#!/usr/bin/env python3
"""fuzz/seed-ussd-corpus.py: writes the seed corpus of fuzz/ussd_fuzz.c into
fuzz/corpus/ussd/: SMPP PDUs as operators' USSD nodes and gateways send
them (SMPP 3.4 deliver_sm / submit_sm / data_sm with ussd_service_op
0x0501 and its_session_info 0x1383 or user_message_reference 0x0204): a
PSSR indication, a USSR request and its confirm, a PSSR response with the
end bit, a release by the vendor op 0x20, UCS2 and Latin-1 texts, a
message_payload text, a dialogue of several PDUs in one stream, and some
that must be refused (no op, an unknown op, a 183-septet text, a bad
MSISDN). Re-run after changing it; the output is committed."""
import os
import struct

ROOT = os.path.normpath(os.path.join(os.path.dirname(os.path.abspath(__file__)), ".."))
OUT = os.path.join(ROOT, "fuzz", "corpus", "ussd")

SUBMIT, DELIVER, DATA = 0x04, 0x05, 0x103
MSISDN, CODE = b"447700900123", b"*123#"


def tlv(tag, value):
    return struct.pack(">HH", tag, len(value)) + value


def op(v):
    return tlv(0x0501, bytes([v]))


def its(session, seq, end=False):
    return tlv(0x1383, bytes([session, seq << 1 | (1 if end else 0)]))


def umr(ref):
    return tlv(0x0204, struct.pack(">H", ref))


def pdu(cmd, seq, body):
    return struct.pack(">IIII", 16 + len(body), cmd, 0, seq) + body


def sm(cmd, seq, text, tlvs, dc=0, src=None, dst=None):
    """submit_sm / deliver_sm: the subscriber is deliver_sm's source and
    submit_sm's destination; the service code the other side."""
    sub, svc = (1, 1, MSISDN), (0, 0, CODE)
    s, d = (sub, svc) if cmd == DELIVER else (svc, sub)
    s, d = src or s, dst or d
    body = b"USSD\0" + bytes(s[:2]) + s[2] + b"\0" + bytes(d[:2]) + d[2] + b"\0"
    body += bytes([0, 0, 0]) + b"\0\0" + bytes([0, 0, dc, 0, len(text)]) + text
    return pdu(cmd, seq, body + tlvs)


def data_sm(seq, payload, tlvs):
    body = b"USSD\0" + bytes([1, 1]) + MSISDN + b"\0" + bytes([0, 0]) + CODE + b"\0" + bytes([0, 0, 0])
    return pdu(DATA, seq, body + tlvs + tlv(0x0424, payload))


MENU = "1. Balance\n2. Top up\n3. Bundles".encode()
SEEDS = {
    "pssr-indication": sm(DELIVER, 1, CODE, op(1) + its(0x2A, 0)),
    "pssr-indication-inputs": sm(DELIVER, 2, b"*123*1*2#", op(1) + its(0x2B, 0), dst=(0, 0, b"*123*1*2#")),
    "ussr-request": sm(SUBMIT, 3, MENU, op(2) + its(0x2A, 1)),
    "ussr-confirm": sm(DELIVER, 4, b"2", op(18) + its(0x2A, 2)),
    "pssr-response-end": sm(SUBMIT, 5, "Your balance is €5.00".encode("utf-8").replace(
        "€".encode(), b"\x1b\x65"), op(17) + its(0x2A, 3, end=True)),
    "release-end-bit": sm(DELIVER, 6, b"", op(18) + its(0x2A, 4, end=True)),
    "release-op": sm(DELIVER, 7, b"", op(0x20) + umr(0x1234)),
    "umr-confirm": sm(DELIVER, 8, b"1", op(18) + umr(0xBEEF)),
    "ucs2-request": sm(SUBMIT, 9, "Баланс: 100 ₽\n1. Пополнить".encode("utf-16-be"), op(2) + its(7, 1), dc=8),
    "latin1-confirm": sm(DELIVER, 10, "café".encode("latin-1"), op(18) + its(7, 2), dc=3),
    "data-sm-payload": data_sm(11, b"*123#", op(1) + umr(77)),
    "dialogue-stream": b"".join([
        sm(DELIVER, 20, CODE, op(1) + its(9, 0)),
        sm(SUBMIT, 21, MENU, op(2) + its(9, 1)),
        sm(DELIVER, 22, b"1", op(18) + its(9, 2)),
        sm(SUBMIT, 23, b"Balance 10.00", op(17) + its(9, 3, end=True)),
    ]),
    "bad-no-op": sm(DELIVER, 30, CODE, its(1, 0)),
    "bad-op-value": sm(DELIVER, 31, CODE, op(0x44) + its(1, 0)),
    "bad-183-septets": sm(DELIVER, 32, b"a" * 183, op(1) + its(1, 0)),
    "bad-msisdn": sm(DELIVER, 33, CODE, op(1) + its(1, 0), src=(1, 1, b"44770x")),
    "bad-ucs2-odd": sm(DELIVER, 34, b"\x04\x16\x04", op(18) + its(1, 1), dc=8),
    "bad-both-texts": sm(DELIVER, 35, b"x", op(18) + its(1, 1) + tlv(0x0424, b"y")),
}


def main():
    os.makedirs(OUT, exist_ok=True)
    for name, data in sorted(SEEDS.items()):
        with open(os.path.join(OUT, name), "wb") as f:
            f.write(data)


if __name__ == "__main__":
    main()
