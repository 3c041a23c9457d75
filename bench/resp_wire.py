"""RESP on the wire for the bench's scripts (run.py, drill_cluster.py, reshard_bench.py):
encoding a command, reading one reply from a buffered socket file, a kept-open connection,
and the cluster slot of a key. bench/ is not a package: the scripts import this with
bench/ on sys.path.

Replies come back as: str for a simple string, '-ERR ...' str for an error (so callers can
show it as it is), int, bytes for a bulk string, list for an array, None for a null."""

import socket


def encode(args):
    """One command as a RESP array of bulk strings; bytes go as they are, anything else
    as str(x) in UTF-8."""
    args = [x if isinstance(x, bytes) else str(x).encode() for x in args]
    return b"".join([b"*%d\r\n" % len(args)] + [b"$%d\r\n%s\r\n" % (len(a), a) for a in args])


def read_reply(f):
    """Reads one reply from f (a socket's makefile("rb")); ConnectionError when the
    connection closes mid-reply or the reply's type byte is unknown."""
    line = f.readline()
    if not line.endswith(b"\r\n"):
        raise ConnectionError("connection closed mid-reply")
    t, rest = line[:1], line[1:-2]
    if t == b"+":
        return rest.decode()
    if t == b"-":
        return "-" + rest.decode()
    if t == b":":
        return int(rest)
    if t == b"$":
        n = int(rest)
        return None if n < 0 else f.read(n + 2)[:-2]
    if t == b"*":
        n = int(rest)
        return None if n < 0 else [read_reply(f) for _ in range(n)]
    raise ConnectionError(f"unexpected reply type {line!r}")


def key_slot(key):
    """The cluster slot of key (str or bytes): CRC16 (XMODEM) of its {tag} when it has a
    non-empty one, else of the whole key, mod 16384, as CLUSTER KEYSLOT."""
    k = key if isinstance(key, bytes) else key.encode()
    s = k.find(b"{")
    if s >= 0:
        e = k.find(b"}", s + 1)
        if e > s + 1:
            k = k[s + 1:e]
    crc = 0
    for byte in k:
        crc ^= byte << 8
        for _ in range(8):
            crc = ((crc << 1) ^ 0x1021) if crc & 0x8000 else crc << 1
            crc &= 0xFFFF
    return crc % 16384


class Conn:
    """A kept-open client connection to a loopback port, Nagle off (a request is one
    small write and its latency is what the benches measure)."""

    def __init__(self, port, timeout=5.0):
        self.sock = socket.create_connection(("127.0.0.1", port), timeout=timeout)
        self.sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        self.f = self.sock.makefile("rb")

    def send(self, *args):
        self.sock.sendall(encode(args))

    def reply(self):
        return read_reply(self.f)

    def call(self, *args):
        self.send(*args)
        return self.reply()

    def close(self):
        try:
            self.f.close()
            self.sock.close()
        except OSError:
            pass
