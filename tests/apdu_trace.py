"""The daemon's APDU trace ([trace] file): a pcap of GSMTAP SIM records,
one per exchange (command APDU, then the response), stamped when the
exchange completed.  Shared by the tests and benchmarks that read it; the
daemon's own writer is checked against tshark in tests/integration."""
import struct

# Ethernet-less IPv4 + UDP + GSMTAP header before the APDU
_HEAD = 20 + 8 + 16


def records(path):
    """(microseconds since the epoch, APDU bytes) for every record."""
    raw = open(path, "rb").read()
    magic = struct.unpack_from("=I", raw, 0)[0]
    assert magic == 0xA1B2C3D4, "not a native-order microsecond pcap"
    out, off = [], 24
    while off + 16 <= len(raw):
        sec, usec, incl, _ = struct.unpack_from("=IIII", raw, off)
        out.append((sec * 1000000 + usec, raw[off + 16 + _HEAD:off + 16 + incl]))
        off += 16 + incl
    return out


def ber_len(b, i):
    """A BER-TLV length at b[i]: (length, index of the value)."""
    if b[i] < 0x80:
        return b[i], i + 1
    k = b[i] & 0x7F
    return int.from_bytes(b[i + 1:i + 1 + k], "big"), i + 1 + k


def tlvs(b):
    """SIMPLE-TLVs by tag without the comprehension bit; the first wins."""
    i, out = 0, {}
    while i + 1 < len(b):
        t = b[i] & 0x7F
        l, i = ber_len(b, i + 1)
        out.setdefault(t, b[i:i + l])
        i += l
    return out


def fetched(p):
    """A FETCH record's proactive command: (type, channel or 0, TLVs), or None."""
    if p[1] != 0x12 or len(p) <= 7 or p[5] != 0xD0:
        return None
    l, i = ber_len(p, 6)
    t = tlvs(p[i:i + l])
    dev = t.get(0x02, b"\0\0")[1]
    return t.get(0x01, b"\0\0")[1], dev & 7 if 0x21 <= dev <= 0x27 else 0, t


def response(p):
    """A TERMINAL RESPONSE record's TLVs, or None."""
    return tlvs(p[5:5 + p[4]]) if p[1] == 0x14 else None
