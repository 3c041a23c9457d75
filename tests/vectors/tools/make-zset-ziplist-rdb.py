#!/usr/bin/env python3
"""Writes rdb-zset-ziplist.rdb: an RDB version 9 file (as Redis 6.x wrote one) with
sorted sets in the ZSET_ZIPLIST encoding (RDB type 12), built by hand from the
ziplist layout (no Redis code): zlbytes, zltail, zllen, entries (prevlen, encoding,
data), 0xFF. Members and scores alternate, lowest score first; a score that is an
integer is stored as a ziplist integer, others as their text.

Keys:
  zzl:small  six members: every integer width (immediate 0..12, int8, int16, int24,
             int32, int64 members), text and integer scores, a negative and a
             fractional score, "inf"
  zzl:long   a member of 300 bytes (so the next entry's prevlen takes 5 bytes and a
             7.0.15 loader turns it into a skiplist: longer than zset-max-listpack-value)
  zzl:ttl    two members and an absolute expiry far in the future (year 2100)
Usage: make-zset-ziplist-rdb.py OUT
"""
import struct
import sys


def crc64(data, crc=0):
    # Jones CRC-64 (reflected, poly 0xad93d23594c935a9), as RDB files use it
    poly = 0x95AC9329AC4BC9B5
    for b in data:
        crc ^= b
        for _ in range(8):
            crc = (crc >> 1) ^ poly if crc & 1 else crc >> 1
    return crc


def zl_entry(value, prevlen):
    head = bytes([prevlen]) if prevlen < 254 else b"\xfe" + struct.pack("<I", prevlen)
    if isinstance(value, int):
        if 0 <= value <= 12:
            body = bytes([0xF1 + value])
        elif -128 <= value <= 127:
            body = b"\xfe" + struct.pack("<b", value)
        elif -32768 <= value <= 32767:
            body = b"\xc0" + struct.pack("<h", value)
        elif -(1 << 23) <= value < (1 << 23):
            body = b"\xf0" + struct.pack("<i", value)[:3]
        elif -(1 << 31) <= value < (1 << 31):
            body = b"\xd0" + struct.pack("<i", value)
        else:
            body = b"\xe0" + struct.pack("<q", value)
    else:
        s = value.encode() if isinstance(value, str) else value
        if len(s) < 64:
            body = bytes([len(s)]) + s
        elif len(s) < 16384:
            body = bytes([0x40 | (len(s) >> 8), len(s) & 0xFF]) + s
        else:
            body = b"\x80" + struct.pack(">I", len(s)) + s
    return head + body


def ziplist(values):
    entries, prev, tail = b"", 0, 10
    for v in values:
        e = zl_entry(v, prev)
        tail = 10 + len(entries)
        entries += e
        prev = len(e)
    total = 10 + len(entries) + 1
    return struct.pack("<IIH", total, tail if values else 10, len(values)) + entries + b"\xff"


def rdb_len(n):
    if n < 64:
        return bytes([n])
    if n < 16384:
        return bytes([0x40 | (n >> 8), n & 0xFF])
    return b"\x80" + struct.pack(">I", n)


def rdb_string(s):
    s = s.encode() if isinstance(s, str) else s
    return rdb_len(len(s)) + s


def zset_record(key, pairs, expire_ms=None):
    flat = []
    for member, score in pairs:
        flat += [member, score]
    out = b""
    if expire_ms is not None:
        out += b"\xfc" + struct.pack("<q", expire_ms)
    return out + b"\x0c" + rdb_string(key) + rdb_string(ziplist(flat))


def main(path):
    small = [("5", "-2.5"), (7, -1), ("neg", 0), (100, 3), ("mid", "3.25"), (-300, 12),
             (70000, 40000), (3000000000, 5000000000), ("big", "inf")]
    long_ = [("a", 1), ("x" * 300, 2), ("b", 3)]
    ttl = [("t1", 1), ("t2", "1.5")]
    body = b"REDIS0009"
    body += b"\xfa" + rdb_string("redis-ver") + rdb_string("6.2.0")
    body += b"\xfe\x00" + b"\xfb" + rdb_len(3) + rdb_len(1)
    body += zset_record("zzl:small", small)
    body += zset_record("zzl:long", long_)
    body += zset_record("zzl:ttl", ttl, expire_ms=4102444800000)
    body += b"\xff"
    body += struct.pack("<Q", crc64(body))
    with open(path, "wb") as f:
        f.write(body)


if __name__ == "__main__":
    main(sys.argv[1])
