"""Helpers for the replication integration tests (tests/integration/test_repl*.py).

What it is for: building master/replica pairs of shoal-node and redis-server 7.0.15 the
way a cluster does (ADDSLOTSRANGE on the master, CLUSTER MEET, CLUSTER REPLICATE),
driving a reproducible mix of writes through redis-py, reading INFO replication / ROLE,
and comparing two nodes' keyspaces key by key (SCAN + GET + PTTL); plus ReplProxy, a
TCP proxy between a replica and its master that can tamper with the first full
synchronisation it sees (docs/replication.md §1, §2, §5).

What it must never do: stop or signal a process that the test did not start, sleep
for a fixed long time where a poll with a deadline works, or make the tampered bytes
"nicer" than asked: the bad-input tests depend on the exact damage.
"""
import random
import re
import socket
import threading
import time

import helpers as h
import bushelpers as bh

KIND_NAMES = {"shoal": "shoal-node", "redis": "redis-server"}


# --- pairs ---------------------------------------------------------------------

def start(servers, kind, extra_args=()):
    return servers.shoal(extra_args=extra_args) if kind == "shoal" else \
        servers.redis(extra_args=extra_args)


def label(srv):
    return f"{KIND_NAMES[srv.kind]} :{srv.port}"


def info(srv, section="replication", timeout=5.0):
    with srv.raw(timeout=timeout) as c:
        v = c.call("INFO", section)
    assert not isinstance(v, h.Error), f"INFO {section} on {label(srv)}: {v}"
    return h.info_dict(v)


def config_set(srv, name, value):
    """CONFIG SET; returns the reply (an h.Error when the node refuses it)."""
    with srv.raw() as c:
        return c.call("CONFIG", "SET", name, str(value))


def fast_sync(srv):
    """No 5 s wait for more replicas before a disk-less full sync (repl-diskless-sync-delay 0),
    so that the tests do not spend most of their time waiting. Asserted: shoal knows the
    directive (config_table.c), redis-server does."""
    r = config_set(srv, "repl-diskless-sync-delay", 0)
    assert r == "OK", f"CONFIG SET repl-diskless-sync-delay 0 on {label(srv)}: {r!r}"


def knows(viewer, node_id):
    """True when `viewer` lists node_id in CLUSTER NODES, out of handshake and connected."""
    for n in bh.cluster_nodes(viewer):
        if n["id"] == node_id:
            return "handshake" not in n["flags"] and "noaddr" not in n["flags"] and \
                (("myself" in n["flags"]) or n["link"] == "connected")
    return False


def meet(replica, master, timeout=30.0):
    """replica MEETs master (at the master's real port); waits until each knows the other."""
    mid, rid = bh.myid(master), bh.myid(replica)
    with replica.raw() as c:
        r = c.call("CLUSTER", "MEET", "127.0.0.1", str(master.port))
        assert r == "OK", f"CLUSTER MEET on {label(replica)}: {r!r}"
    h.wait_until(lambda: knows(replica, mid) and knows(master, rid), timeout, interval=0.1,
                 what=f"{label(replica)} and {label(master)} knowing each other after MEET")
    return mid, rid


def replicate(replica, master_id):
    with replica.raw() as c:
        r = c.call("CLUSTER", "REPLICATE", master_id)
    assert r == "OK", f"CLUSTER REPLICATE {master_id} on {label(replica)}: {r!r}"


def link_up(replica):
    return info(replica).get("master_link_status") == "up"


def wait_link_up(replica, timeout=60.0, what=None):
    h.wait_until(lambda: link_up(replica), timeout, interval=0.1,
                 what=what or f"master_link_status:up on {label(replica)} "
                              f"(last: {_safe_info(replica)})")


def _safe_info(srv):
    try:
        d = info(srv, timeout=2)
        keep = ("role", "master_host", "master_port", "master_link_status",
                "master_sync_in_progress", "slave_repl_offset", "master_repl_offset",
                "connected_slaves", "slave0")
        return {k: d[k] for k in keep if k in d}
    except Exception as e:  # noqa: BLE001 - only for an error message
        return repr(e)


def make_pair(servers, master_kind, replica_kind, master=None, writes_before=None):
    """Starts (or uses) a master owning every slot and a fresh replica of the given kinds,
    optionally fills the master first (writes_before(master)), then makes the replica
    follow it with CLUSTER REPLICATE and waits for the link to come up."""
    if master is None:
        master = start(servers, master_kind)
        h.own_all_slots(master)
    fast_sync(master)
    replica = start(servers, replica_kind)
    mid, _ = meet(replica, master)
    if writes_before:
        writes_before(master)
    replicate(replica, mid)
    wait_link_up(replica)
    return master, replica, mid


def add_replica(servers, master, kind, master_id):
    replica = start(servers, kind)
    meet(replica, master)
    replicate(replica, master_id)
    wait_link_up(replica)
    return replica


# --- writes ----------------------------------------------------------------------

LONG_VALUE = "a" * 100          # compressible: LZF in an RDB written by redis-server
INT_VALUES = ("1", "-1", "12345", "100000", "1099511627776", "007", "-0")


def value_for(rng, i):
    r = rng.random()
    if r < 0.15:
        return rng.choice(INT_VALUES)
    if r < 0.25:
        return LONG_VALUE + str(i)
    if r < 0.30:
        return bytes(rng.randrange(256) for _ in range(rng.randint(0, 40)))
    return f"v{i}-" + "x" * rng.randint(0, 30)


def write_mix(srv, n, seed, prefix="k", batch=500):
    """n writes through redis-py (pipelined, not transactional): SET, SET EX/PX, INCR,
    APPEND, EXPIRE, DEL and some keys that expire within 50 ms (their DEL must reach the
    replica). Every reply is checked. Returns the number of commands sent."""
    rng = random.Random(seed)
    cl = srv.client()
    try:
        sent = 0
        while sent < n:
            p = cl.pipeline(transaction=False)
            ops = []
            for i in range(sent, min(n, sent + batch)):
                k = f"{prefix}:{i % 3000}"
                r = rng.random()
                if r < 0.35:
                    p.set(k, value_for(rng, i)); ops.append("SET")
                elif r < 0.50:
                    p.set(k, value_for(rng, i), ex=rng.randint(200, 2000)); ops.append("SET EX")
                elif r < 0.60:
                    p.set(k, value_for(rng, i), px=rng.randint(200000, 2000000))
                    ops.append("SET PX")
                elif r < 0.72:
                    p.incr(f"{prefix}:n:{i % 500}"); ops.append("INCR")
                elif r < 0.82:
                    p.append(k, "+" + str(i)); ops.append("APPEND")
                elif r < 0.90:
                    p.expire(k, rng.randint(300, 3000)); ops.append("EXPIRE")
                elif r < 0.96:
                    p.delete(k); ops.append("DEL")
                else:
                    p.set(f"short:{prefix}:{i}", "gone", px=50); ops.append("SET PX 50")
            replies = p.execute(raise_on_error=False)
            for op, rep in zip(ops, replies):
                assert not isinstance(rep, Exception), f"{op} on {label(srv)} answered {rep!r}"
            sent += len(ops)
        return sent
    finally:
        cl.close()


def concurrently(*fns, timeout=300):
    """Runs each function in its own thread; re-raises the first exception."""
    errors = []

    def run(fn):
        try:
            fn()
        except BaseException as e:  # noqa: BLE001 - re-raised below
            errors.append(e)
    threads = [threading.Thread(target=run, args=(fn,), daemon=True) for fn in fns]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout)
        assert not t.is_alive(), "a concurrent writer did not finish"
    if errors:
        raise errors[0]


class Writer(threading.Thread):
    """Writes SETs to srv in the background until stop(); counts them; keeps the first
    error (a master must keep accepting writes while its replica restarts)."""

    def __init__(self, srv, prefix):
        super().__init__(daemon=True)
        self.srv, self.prefix = srv, prefix
        self.count = 0
        self.error = None
        self._halt = threading.Event()

    def run(self):
        try:
            cl = self.srv.client()
            while not self._halt.is_set():
                p = cl.pipeline(transaction=False)
                for _ in range(50):
                    i = self.count
                    if i % 7 == 0:
                        p.set(f"{self.prefix}:{i}", f"w{i}", px=600000)
                    else:
                        p.set(f"{self.prefix}:{i}", f"w{i}")
                    self.count += 1
                for rep in p.execute(raise_on_error=False):
                    if isinstance(rep, Exception):
                        raise AssertionError(f"background SET on {label(self.srv)}: {rep!r}")
                time.sleep(0.01)
            cl.close()
        except Exception as e:  # noqa: BLE001 - reported by stop()
            self.error = e

    def stop(self):
        self._halt.set()
        self.join(30)
        assert not self.is_alive(), "background writer did not stop"
        assert self.error is None, f"background writer failed: {self.error!r}"
        return self.count


# --- reading and comparing -----------------------------------------------------

def _connect_readonly(conn):
    conn.on_connect()
    conn.send_command("READONLY")
    r = conn.read_response()
    if r not in (b"OK", "OK"):
        raise AssertionError(f"READONLY on port {conn.port} answered {r!r}")


def readonly_client(srv):
    """A redis-py client whose every connection sends READONLY first (reads on a replica)."""
    return srv.client(redis_connect_func=_connect_readonly)


def dump(srv, batch=1000):
    """{key: (value, pttl)} of every key srv shows (SCAN, then GET + PTTL pipelined)."""
    cl = readonly_client(srv)
    try:
        keys, cursor = set(), 0
        while True:
            cursor, chunk = cl.scan(cursor, count=1000)
            keys.update(chunk)
            if int(cursor) == 0:
                break
        keys = sorted(keys)
        out = {}
        for i in range(0, len(keys), batch):
            part = keys[i:i + batch]
            p = cl.pipeline(transaction=False)
            for k in part:
                p.get(k)
                p.pttl(k)
            rep = p.execute(raise_on_error=False)
            for j, k in enumerate(part):
                out[k] = (rep[2 * j], rep[2 * j + 1])
        return out
    finally:
        cl.close()


def diff_dumps(a, b, ttl_tolerance_ms=3000):
    """Differences between two dumps as readable strings (empty list = equal)."""
    problems = []
    only_a = sorted(set(a) - set(b))
    only_b = sorted(set(b) - set(a))
    if only_a:
        problems.append(f"{len(only_a)} keys only on the first, e.g. {only_a[:5]}")
    if only_b:
        problems.append(f"{len(only_b)} keys only on the second, e.g. {only_b[:5]}")
    bad_val, bad_ttl = [], []
    for k in sorted(set(a) & set(b)):
        (va, ta), (vb, tb) = a[k], b[k]
        if va != vb:
            bad_val.append((k, va, vb))
        elif (ta < 0 or tb < 0) and ta != tb:
            bad_ttl.append((k, ta, tb))
        elif ta >= 0 and tb >= 0 and abs(ta - tb) > ttl_tolerance_ms:
            bad_ttl.append((k, ta, tb))
    if bad_val:
        problems.append(f"{len(bad_val)} values differ, e.g. {bad_val[:3]}")
    if bad_ttl:
        problems.append(f"{len(bad_ttl)} TTLs differ by more than {ttl_tolerance_ms} ms "
                        f"(or one has none), e.g. {bad_ttl[:3]}")
    return problems


def assert_same_data(master, replica, timeout=15.0):
    """The replica shows exactly the master's keys, values and TTLs (polled: a just
    expired key may need the master's DEL to arrive)."""
    last = {}

    def same():
        m, r = dump(master), dump(replica)
        last["p"] = diff_dumps(m, r)
        last["n"] = len(m)
        return not last["p"]
    try:
        h.wait_until(same, timeout, interval=0.5, what="equal data")
    except TimeoutError:
        raise AssertionError(f"{label(replica)} does not hold {label(master)}'s data "
                             f"(first = master, {last.get('n')} keys): {last.get('p')}") from None
    return last["n"]


def offsets(master, replica):
    return (int(info(master)["master_repl_offset"]),
            int(info(replica).get("slave_repl_offset", "-1")))


def wait_offsets_equal(master, replica, timeout=20.0):
    last = {}

    def eq():
        last["o"] = offsets(master, replica)
        return last["o"][0] == last["o"][1] and last["o"][0] > 0
    try:
        h.wait_until(eq, timeout, interval=0.1, what="offsets")
    except TimeoutError:
        raise AssertionError(f"master_repl_offset of {label(master)} and slave_repl_offset of "
                             f"{label(replica)} never agreed within {timeout} s; last "
                             f"(master, replica) = {last.get('o')}") from None
    return last["o"][0]


def wait_cmd(master, n, timeout_ms=5000):
    """WAIT on a fresh connection. On redis-server 7.0.15 WAIT waits for the calling
    client's last write, which a fresh connection has none of: it answers at once with
    every replica that acked anything, however far behind. To know that a write reached
    a replica, WAIT on the connection that wrote it."""
    with master.raw(timeout=timeout_ms / 1000 + 10) as c:
        return c.call("WAIT", str(n), str(timeout_ms))


def wait_acked(master, n, timeout=60.0):
    """Repeats WAIT n 1000 until it answers >= n (a replica that is re-syncing)."""
    last = {}

    def ok():
        last["v"] = wait_cmd(master, n, 1000)
        return isinstance(last["v"], int) and last["v"] >= n
    try:
        h.wait_until(ok, timeout, interval=0.1, what="WAIT")
    except TimeoutError:
        raise AssertionError(f"WAIT {n} on {label(master)} never reached {n} within "
                             f"{timeout} s (last answer {last.get('v')!r})") from None


def role(srv):
    with srv.raw() as c:
        return c.call("ROLE")


def log_since(srv, offset):
    return srv.log()[offset:]


def grep_log(srv, offset, pattern):
    return [ln for ln in log_since(srv, offset).splitlines() if re.search(pattern, ln, re.I)]


# --- a tampering proxy between a replica and its master ------------------------

def crc64_table():
    poly = 0x95AC9329AC4BC9B5       # 0xad93d23594c935a9 reflected (Redis' crc64, Jones)
    t = []
    for i in range(256):
        c = i
        for _ in range(8):
            c = (c >> 1) ^ poly if c & 1 else c >> 1
        t.append(c)
    return t


_CRC_T = crc64_table()


def crc64(data, crc=0):
    t = _CRC_T
    for b in data:
        crc = t[(crc ^ b) & 0xFF] ^ (crc >> 8)
    return crc


assert crc64(b"123456789") == 0xE9C6D914C4B8D9CA


def _rdb_len(p, pos):
    """(value, new_pos, special): an RDB length, or a special string encoding number."""
    b = p[pos]
    t = b >> 6
    if t == 0:
        return b & 0x3F, pos + 1, False
    if t == 1:
        return ((b & 0x3F) << 8) | p[pos + 1], pos + 2, False
    if b == 0x80:
        return int.from_bytes(p[pos + 1:pos + 5], "big"), pos + 5, False
    if b == 0x81:
        return int.from_bytes(p[pos + 1:pos + 9], "big"), pos + 9, False
    if t == 3:
        return b & 0x3F, pos + 1, True
    raise ValueError(f"bad RDB length byte {b:#x} at {pos}")


def _rdb_skip_string(p, pos):
    v, pos, special = _rdb_len(p, pos)
    if not special:
        return pos + v
    if v in (0, 1, 2):
        return pos + (1, 2, 4)[v]
    if v == 3:
        clen, pos, _ = _rdb_len(p, pos)
        _, pos, _ = _rdb_len(p, pos)
        return pos + clen
    raise ValueError(f"bad RDB string encoding {v} at {pos}")


def rdb_key_records(p):
    """Offsets of the value-type byte of every key record of an RDB that holds strings only."""
    assert p[:5] == b"REDIS", p[:16]
    pos, recs = 9, []
    while True:
        op = p[pos]
        pos += 1
        if op == 0xFA:
            pos = _rdb_skip_string(p, _rdb_skip_string(p, pos))
        elif op == 0xFE:
            pos = _rdb_len(p, pos)[1]
        elif op == 0xFB:
            pos = _rdb_len(p, _rdb_len(p, pos)[1])[1]
        elif op == 0xFC:
            pos += 8
        elif op == 0xFD:
            pos += 4
        elif op == 0xF8:
            pos = _rdb_len(p, pos)[1]
        elif op == 0xF9:
            pos += 1
        elif op == 0xF5:
            pos = _rdb_skip_string(p, pos)
        elif op == 0xFF:
            return recs
        elif op == 0:
            recs.append(pos - 1)
            pos = _rdb_skip_string(p, _rdb_skip_string(p, pos))
        else:
            raise ValueError(f"proxy: RDB record type {op} at {pos - 1} (strings only expected)")


def with_crc(p):
    """The RDB with its CRC64 trailer recomputed (left zero if it was zero: no checksum)."""
    if p[-8:] == b"\0" * 8:
        return bytes(p)
    return bytes(p[:-8]) + crc64(p[:-8]).to_bytes(8, "little")


GARBAGE_REPLIES = {
    # PSYNC answered with binary noise, then the connection is closed
    "noise": bytes(random.Random(7).randrange(256) for _ in range(300)),
    # a FULLRESYNC line that is not one, then a bulk header that is not one
    "badfullresync": b"+FULLRESYNC nothex -12x\r\n$abc\r\nREDIS0010",
    # a valid FULLRESYNC, then an absurd bulk length
    "hugebulk": b"+FULLRESYNC " + b"f" * 40 + b" 1\r\n$99999999999999999999\r\n",
    # an error that is not NOMASTERLINK/LOADING
    "error": b"-ERR what is PSYNC\r\n",
}


class ReplProxy:
    """Listens on a free loopback port and forwards every connection to the master's real
    port. It watches the replica's handshake for PSYNC and the master's reply to it; in
    a tampering mode it rewrites PSYNC to `PSYNC ? -1` (forcing a full sync) and damages
    the RDB payload that follows +FULLRESYNC:

      honest      forward everything as it is
      truncate    forward the first half of the RDB, then close both sides
      crc         flip one byte of the CRC64 trailer
      type        change the value type of the middle key record to TYPE (0x15) and
                  recompute the CRC, so that only the type is wrong
      garbage:<g> do not forward PSYNC; answer it with GARBAGE_REPLIES[g] and close

    Counters: psyncs (list of (PSYNC line as sent by the replica, mode)), fullsyncs and
    tampered (full syncs seen / damaged), framings ("eof" for $EOF:<mark>, "len" for
    $<length>, one per full sync)."""

    TYPE = 0x15     # 7.2's STREAM_LISTPACKS_3, which 7.0.15 (and shoal) do not load

    def __init__(self, master_port):
        self.master_port = master_port
        self.port = h.free_port()
        self.mode = "honest"
        self.lock = threading.Lock()
        self.psyncs = []
        self.fullsyncs = 0
        self.tampered = 0
        self.framings = []          # "eof" or "len", one per full sync seen
        self.errors = []
        self.pairs = []
        self.lsock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        self.lsock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        self.lsock.bind(("127.0.0.1", self.port))
        self.lsock.listen(16)
        self.closed = False
        self.thread = threading.Thread(target=self._accept, daemon=True)
        self.thread.start()

    def set_mode(self, mode, drop=True):
        """Switches mode; with drop, closes the current connections so that the replica
        reconnects (and meets the new mode at once)."""
        with self.lock:
            self.mode = mode
            pairs = list(self.pairs)
        if drop:
            for pr in pairs:
                pr.close()

    def close(self):
        self.closed = True
        try:
            self.lsock.close()
        except OSError:
            pass
        with self.lock:
            pairs = list(self.pairs)
        for pr in pairs:
            pr.close()

    def _accept(self):
        while not self.closed:
            try:
                cs, _ = self.lsock.accept()
            except OSError:
                return
            try:
                ms = socket.create_connection(("127.0.0.1", self.master_port), timeout=5)
            except OSError as e:
                self.errors.append(f"connect to master: {e!r}")
                cs.close()
                continue
            with self.lock:
                pr = _ProxyPair(self, cs, ms, self.mode)
                self.pairs.append(pr)
            pr.start()


class _ProxyPair:
    def __init__(self, proxy, cs, ms, mode):
        self.proxy, self.cs, self.ms, self.mode = proxy, cs, ms, mode
        for s in (cs, ms):
            s.settimeout(None)
            s.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        self.closed = False
        self.psync_index = None      # number of replica commands before PSYNC
        self.psync_seen = threading.Event()

    def start(self):
        threading.Thread(target=self._up, daemon=True).start()
        threading.Thread(target=self._down, daemon=True).start()

    def close(self):
        if self.closed:
            return
        self.closed = True
        for s in (self.cs, self.ms):
            try:
                s.shutdown(socket.SHUT_RDWR)
            except OSError:
                pass
            try:
                s.close()
            except OSError:
                pass
        with self.proxy.lock:
            if self in self.proxy.pairs:
                self.proxy.pairs.remove(self)

    # replica -> master: parse commands until PSYNC, then plain forwarding
    def _up(self):
        buf, ncmds = b"", 0
        try:
            while not self.closed:
                chunk = self.cs.recv(65536)
                if not chunk:
                    break
                if self.psync_index is not None:
                    self.ms.sendall(chunk)
                    continue
                buf += chunk
                out = b""
                while True:
                    cmd, used = _parse_command(buf)
                    if cmd is None:
                        break
                    raw, buf = buf[:used], buf[used:]
                    if cmd and cmd[0].upper() == b"PSYNC":
                        self._on_psync(cmd, ncmds, out)
                        out = b""
                        if self.closed:
                            return
                        raw = (h.encode("PSYNC", "?", "-1")
                               if self.mode in ("truncate", "crc", "type") else raw)
                        self.ms.sendall(raw + buf)
                        buf = b""
                        break
                    if cmd:
                        ncmds += 1
                    out += raw
                if out:
                    self.ms.sendall(out)
        except OSError:
            pass
        self.close()

    def _on_psync(self, cmd, ncmds, pending):
        line = b" ".join(cmd).decode("latin-1")
        with self.proxy.lock:
            self.proxy.psyncs.append((line, self.mode))
        if pending:
            self.ms.sendall(pending)
        self.psync_index = ncmds
        self.psync_seen.set()
        if self.mode.startswith("garbage:"):
            # Wait for the replies to what came before PSYNC to be forwarded, so that the
            # replica reads the garbage as the answer to PSYNC itself.
            deadline = time.monotonic() + 3
            while self.replies_forwarded < ncmds and time.monotonic() < deadline:
                time.sleep(0.01)
            try:
                self.cs.sendall(GARBAGE_REPLIES[self.mode.split(":", 1)[1]])
                time.sleep(0.3)
            except OSError:
                pass
            self.close()

    replies_forwarded = 0

    # master -> replica: count replies until the PSYNC reply, damage the RDB if asked
    def _down(self):
        buf = b""
        try:
            # 1. replies to the commands before PSYNC (simple lines), then the PSYNC reply
            while True:
                while True:
                    buf = self._forward_newlines(buf)
                    i = buf.find(b"\r\n")
                    if i < 0:
                        break
                    if self.psync_index is not None and self.replies_forwarded >= self.psync_index:
                        break
                    self.cs.sendall(buf[:i + 2])
                    buf = buf[i + 2:]
                    self.replies_forwarded += 1
                if self.psync_index is not None and self.replies_forwarded >= self.psync_index \
                        and b"\r\n" in buf:
                    break
                chunk = self.ms.recv(65536)
                if not chunk:
                    raise EOFError
                buf += chunk
            i = buf.find(b"\r\n")
            line, buf = buf[:i + 2], buf[i + 2:]
            self.cs.sendall(line)
            if not line.startswith(b"+FULLRESYNC"):
                self._pump(buf)
                return
            with self.proxy.lock:
                self.proxy.fullsyncs += 1
            # 2. the bulk header ($EOF:<mark> or $<len>), after any keep-alive newlines
            while True:
                buf = self._forward_newlines(buf)
                if b"\r\n" in buf:
                    break
                chunk = self.ms.recv(65536)
                if not chunk:
                    raise EOFError
                buf += chunk
            i = buf.find(b"\r\n")
            hdr, buf = buf[:i + 2], buf[i + 2:]
            mark = None
            with self.proxy.lock:
                self.proxy.framings.append("eof" if hdr.startswith(b"$EOF:") else "len")
            if hdr.startswith(b"$EOF:"):
                mark = hdr[5:-2]
                while mark not in buf:
                    chunk = self.ms.recv(65536)
                    if not chunk:
                        raise EOFError
                    buf += chunk
                j = buf.index(mark)
                payload, rest = buf[:j], buf[j + len(mark):]
            else:
                n = int(hdr[1:-2])
                while len(buf) < n:
                    chunk = self.ms.recv(65536)
                    if not chunk:
                        raise EOFError
                    buf += chunk
                payload, rest = buf[:n], buf[n:]
            self._send_payload(hdr, payload, mark)
            self._pump(rest)
        except (OSError, EOFError, ValueError) as e:
            if not self.closed and not isinstance(e, (OSError, EOFError)):
                self.proxy.errors.append(repr(e))
        self.close()

    def _forward_newlines(self, buf):
        k = 0
        while k < len(buf) and buf[k:k + 1] == b"\n":
            k += 1
        if k:
            self.cs.sendall(buf[:k])
        return buf[k:]

    def _send_payload(self, hdr, payload, mark):
        mode = self.mode
        if mode == "honest" or mode.startswith("garbage:"):
            self.cs.sendall(hdr + payload + (mark or b""))
            return
        with self.proxy.lock:
            self.proxy.tampered += 1
        if mode == "truncate":
            self.cs.sendall(hdr + payload[:len(payload) // 2])
            time.sleep(0.2)
            raise EOFError
        p = bytearray(payload)
        if mode == "crc":
            p[-3] ^= 0x5A
        elif mode == "type":
            recs = rdb_key_records(p)
            assert recs, "proxy: the RDB holds no key record to damage"
            p[recs[len(recs) // 2]] = ReplProxy.TYPE
            p = bytearray(with_crc(p))
        self.cs.sendall(hdr + bytes(p) + (mark or b""))

    def _pump(self, buf):
        if buf:
            self.cs.sendall(buf)
        while not self.closed:
            chunk = self.ms.recv(65536)
            if not chunk:
                break
            self.cs.sendall(chunk)


def _parse_command(buf):
    """(list of arguments, bytes used) for one RESP array or inline line at the start of
    buf; ([], used) for an empty inline line; (None, 0) when incomplete."""
    if not buf:
        return None, 0
    if buf[:1] != b"*":
        i = buf.find(b"\n")
        if i < 0:
            return None, 0
        return buf[:i].strip().split(), i + 1
    i = buf.find(b"\r\n")
    if i < 0:
        return None, 0
    n = int(buf[1:i])
    pos, args = i + 2, []
    for _ in range(n):
        j = buf.find(b"\r\n", pos)
        if j < 0:
            return None, 0
        ln = int(buf[pos + 1:j])
        if len(buf) < j + 2 + ln + 2:
            return None, 0
        args.append(buf[j + 2:j + 2 + ln])
        pos = j + 2 + ln + 2
    return args, pos
