"""The master's replication stream as a replica receives it (docs/replication.md §2-§3),
read byte by byte by a hand-written replica: +FULLRESYNC, the $<len> RDB, then the effects of
writes as Redis propagates them (SELECT 0 first; relative TTLs made absolute; GETDEL as DEL; a
transaction as MULTI ... EXEC), and offsets that count exactly those bytes. Run against
shoal and, as proof of the test, redis-server 7.0.15."""
import socket
import time

import pytest

import helpers as h
import replhelpers as rh


class StreamReader:
    def __init__(self, port):
        self.sock = socket.create_connection(("127.0.0.1", port), timeout=10)
        self.buf = b""

    def _fill(self):
        data = self.sock.recv(65536)
        assert data, "the master closed the replication link"
        self.buf += data

    def line(self):
        while b"\r\n" not in self.buf:
            self._fill()
        ln, _, self.buf = self.buf.partition(b"\r\n")
        return ln

    def take(self, n):
        while len(self.buf) < n:
            self._fill()
        out, self.buf = self.buf[:n], self.buf[n:]
        return out

    def command(self):
        """One RESP array of bulk strings: (argv, raw byte length)."""
        hdr = self.line()
        assert hdr.startswith(b"*"), f"expected an array, got {hdr!r}"
        used = len(hdr) + 2
        argv = []
        for _ in range(int(hdr[1:])):
            bl = self.line()
            assert bl.startswith(b"$"), bl
            n = int(bl[1:])
            argv.append(self.take(n))
            assert self.take(2) == b"\r\n"
            used += len(bl) + 2 + n + 2
        return argv, used

    def call(self, *args):
        out = b"*%d\r\n" % len(args)
        for a in args:
            a = a if isinstance(a, bytes) else str(a).encode()
            out += b"$%d\r\n%s\r\n" % (len(a), a)
        self.sock.sendall(out)


@pytest.mark.parametrize("kind", ["shoal", "redis"])
def test_stream_carries_effects_with_exact_offsets(servers, kind):
    master = rh.start(servers, kind)
    h.own_all_slots(master)
    rh.fast_sync(master)
    with master.raw() as c:
        assert c.call("SET", "pre", "1") == "OK"
    r = StreamReader(master.port)
    r.call("PING")
    assert r.line() == b"+PONG"
    r.call("REPLCONF", "listening-port", "1")
    assert r.line() == b"+OK"
    r.call("REPLCONF", "capa", "psync2")          # no EOF capability: a $<len> payload
    assert r.line() == b"+OK"
    r.call("PSYNC", "?", "-1")
    ln = r.line()
    while ln == b"":                              # bare \n keep-alives
        ln = r.line()
    ln = ln.lstrip(b"\n")
    assert ln.startswith(b"+FULLRESYNC "), ln
    _, replid, off = ln.split(b" ")
    offset = int(off)
    bl = r.line().lstrip(b"\n")
    assert bl.startswith(b"$"), bl
    rdb = r.take(int(bl[1:]))
    assert rdb.startswith(b"REDIS0010") and replid in rdb and b"pre" in rdb

    now_ms = int(time.time() * 1000)
    with master.raw() as c:
        assert c.call("SET", "a", "1", "EX", "100") == "OK"
        assert c.call("SET", "b", "2") == "OK"
        assert c.call("EXPIRE", "b", "200") == 1
        assert c.call("GETDEL", "a") == b"1"
        assert c.call("MULTI") == "OK"
        assert c.call("SET", "{t}x", "1") == "QUEUED"
        assert c.call("INCR", "{t}x") == "QUEUED"
        ex = c.call("EXEC")
        assert isinstance(ex, list) and len(ex) == 2 and ex[1] == 2, ex
        assert c.call("SET", "done", "1") == "OK"

    got = []
    while True:
        argv, n = r.command()
        offset += n
        name = argv[0].upper()
        if argv == [b"ping"] or (name == b"REPLCONF"):
            continue
        got.append(argv)
        if argv[:2] == [b"SET", b"done"]:
            break
    names = [a[0].upper() for a in got]
    assert names[:2] == [b"SELECT", b"SET"], got
    assert got[0] == [b"SELECT", b"0"], got
    s = got[1]
    assert s[:3] == [b"SET", b"a", b"1"] and s[3].upper() == b"PXAT", s
    assert now_ms + 99_000 <= int(s[4]) <= now_ms + 101_000 + 5_000, (s, now_ms)
    assert got[2] == [b"SET", b"b", b"2"], got
    assert got[3][0].upper() == b"PEXPIREAT" and got[3][1] == b"b", got
    assert now_ms + 199_000 <= int(got[3][2]) <= now_ms + 206_000, (got[3], now_ms)
    assert got[4][0].upper() == b"DEL" and got[4][1:] == [b"a"], got
    assert [a[0].upper() for a in got[5:9]] == [b"MULTI", b"SET", b"INCR", b"EXEC"], got
    assert got[9][:2] == [b"SET", b"done"], got

    # The offset the master reports counts exactly the bytes it sent (pings included).
    seen = [offset]

    def same():
        # a periodic ping may follow: read whatever has arrived and count it too
        r.sock.settimeout(0.02)
        try:
            r._fill()
        except (socket.timeout, BlockingIOError):
            pass
        r.sock.settimeout(10)
        while r.buf.startswith(b"*"):
            try:
                argv, n = r.command()
            except (socket.timeout, BlockingIOError):
                break
            assert argv == [b"ping"] or argv[0].upper() == b"REPLCONF", argv
            seen[0] += n
        return int(rh.info(master).get("master_repl_offset", "0")) == seen[0]
    h.wait_until(same, 5, interval=0.05,
                 what=f"master_repl_offset == FULLRESYNC offset + stream bytes read ({seen[0]})")
    r.sock.close()


def _sync_stream(srv):
    """What a pre-PSYNC replica (SYNC, as Redis's test suite attaches to a node's stream)
    reads: the first line, whether the RDB came whole, and the commands after it, twice
    (a second SYNC after the first one's stream ran)."""
    with srv.raw() as c:
        assert c.call("CONFIG", "SET", "repl-ping-replica-period", "3600") == "OK"
        assert c.call("SET", "pre", "1") == "OK"
    out = []
    readers = []
    for round_ in range(2):
        r = StreamReader(srv.port)
        readers.append(r)
        r.sock.sendall(b"SYNC\r\n")
        first = r.line()
        while first in (b"", b"\n"):               # bare \n keep-alives
            first = r.line()
        first = first.lstrip(b"\n")
        out.append(first[:1])                     # "$": no +FULLRESYNC line before the RDB
        rdb = r.take(int(first[1:]))
        out.append(rdb.startswith(b"REDIS") and b"pre" in rdb)
        time.sleep(0.3)                           # the sync point is behind us
        with srv.raw() as c:
            assert c.call("SET", f"a{round_}", "1") == "OK"
            assert c.call("INCR", f"a{round_}") == 2
            assert c.call("SET", "done", "1") == "OK"
        got = []
        while True:
            argv, _ = r.command()
            got.append([argv[0].lower()] + argv[1:])
            if argv[0].lower() == b"set" and argv[1] == b"done":
                break
        out.append(got)
    for r in readers:
        r.sock.close()
    return out


def test_sync_gives_the_stream_as_redis(servers):
    """SYNC: a full sync with no +FULLRESYNC line, the RDB with its length, then the
    stream, starting with a SELECT at every new sync point and with no PING while the
    ping period has not come (shoal refused SYNC; then pinged at once and left the
    SELECT out of a second sync's stream)."""
    node = servers.shoal(base_args="standalone")
    ref = servers.redis(base_args="standalone")
    want = _sync_stream(ref)
    assert want[2][0] == [b"select", b"0"], want
    assert _sync_stream(node) == want


def _sync_link_after_timeout(srv):
    """A SYNC replica never sends REPLCONF ACK: 7.0.15 flags it pre-PSYNC and never
    drops it for want of ACKs (replicationCron skips it), as `redis-cli --replica`
    relies on. What it reads after repl-timeout has passed several times over."""
    with srv.raw() as c:
        assert c.call("CONFIG", "SET", "repl-timeout", "1") == "OK"
        assert c.call("CONFIG", "SET", "repl-ping-replica-period", "3600") == "OK"
    r = StreamReader(srv.port)
    r.sock.sendall(b"SYNC\r\n")
    first = r.line()
    while first in (b"", b"\n"):
        first = r.line()
    first = first.lstrip(b"\n")
    r.take(int(first[1:]))
    # replicationCron checks once a second: 4 s is past repl-timeout (1 s) four times
    time.sleep(4)
    with srv.raw() as c:
        assert c.call("SET", "after", "timeout") == "OK"
    got = []
    try:
        while True:
            argv, _ = r.command()
            got.append([a.lower() for a in argv])
            if argv[0].lower() == b"set":
                break
    except AssertionError as e:               # the master closed the link
        got.append(str(e))
    r.sock.close()
    return got


def test_sync_replica_is_not_dropped_for_want_of_acks(servers):
    """shoal dropped a SYNC replica after repl-timeout (no REPLCONF ACK ever comes)."""
    node = servers.shoal(base_args="standalone")
    ref = servers.redis(base_args="standalone")
    want = _sync_link_after_timeout(ref)
    assert want[-1] == [b"set", b"after", b"timeout"], want
    assert _sync_link_after_timeout(node) == want
