"""MIGRATE from shoal as redis-server 7.0.15 answers it, and without stalling
the worker that owns the keys while the target is slow or silent.

Each scenario runs twice, once with a redis-server source and once with a
shoal source, each against a redis-server target of its own, and the replies
and the targets' contents must be the same. Fake targets (a socket that
never answers, one that closes every connection, one that answers late) show
the IOERR paths and that the source keeps serving other clients meanwhile.
"""
import socket
import threading
import time

import pytest

import helpers as h
from helpers import Error


class FakeTarget:
    """A listener on a free loopback port. mode: 'silent' (accepts, reads,
    never answers), 'close' (closes each connection after its first bytes),
    'late' (answers +OK to every command, `delay` s after it came)."""

    def __init__(self, mode, delay=0.0):
        self.mode = mode
        self.delay = delay
        self.port = h.free_port()
        self.lsock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        self.lsock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        self.lsock.bind(("127.0.0.1", self.port))
        self.lsock.listen(16)
        self.accepted = 0
        self.commands = []
        self.stopping = False
        self.conns = []
        self.thread = threading.Thread(target=self._run, daemon=True)
        self.thread.start()

    def _run(self):
        while not self.stopping:
            try:
                c, _ = self.lsock.accept()
            except OSError:
                return
            self.accepted += 1
            self.conns.append(c)
            threading.Thread(target=self._serve, args=(c,), daemon=True).start()

    def _serve(self, c):
        buf = b""
        try:
            while not self.stopping:
                data = c.recv(65536)
                if not data:
                    return
                if self.mode == "close":
                    c.close()
                    return
                buf += data
                cmds, buf = parse_commands(buf)
                self.commands.extend(cmds)
                if self.mode == "late" and cmds:
                    time.sleep(self.delay)
                    c.sendall(b"+OK\r\n" * len(cmds))
        except OSError:
            return

    def close(self):
        self.stopping = True
        try:
            self.lsock.close()
        except OSError:
            pass
        for c in self.conns:
            try:
                c.close()
            except OSError:
                pass


def parse_commands(buf):
    """Complete RESP arrays of bulk strings at the start of buf: (commands, rest)."""
    out = []
    while True:
        pos = 0
        if not buf.startswith(b"*"):
            return out, buf
        i = buf.find(b"\r\n")
        if i < 0:
            return out, buf
        n = int(buf[1:i])
        pos = i + 2
        args = []
        for _ in range(n):
            j = buf.find(b"\r\n", pos)
            if j < 0:
                return out, buf
            ln = int(buf[pos + 1:j])
            start = j + 2
            if len(buf) < start + ln + 2:
                return out, buf
            args.append(buf[start:start + ln])
            pos = start + ln + 2
        out.append(args)
        buf = buf[pos:]


@pytest.fixture
def fakes():
    made = []

    def make(mode, delay=0.0):
        f = FakeTarget(mode, delay)
        made.append(f)
        return f
    yield make
    for f in made:
        f.close()


def standalone_pair(servers, shoal_args=()):
    """(redis source, its target), (shoal source, its target), all standalone."""
    rs = servers.redis(base_args="standalone")
    rt = servers.redis(base_args="standalone")
    ss = servers.shoal(base_args="standalone", extra_args=list(shoal_args))
    st = servers.redis(base_args="standalone")
    return (rs, rt), (ss, st)


def run_script(src, target_port, script):
    """Runs script (a list of argument tuples; "PORT" is replaced by the
    target's port) on src; returns the replies."""
    out = []
    with src.raw() as c:
        for cmd in script:
            args = [str(target_port) if a == "PORT" else a for a in cmd]
            out.append(c.call(*args))
    return out


STRING_SCRIPT = [
    ("SET", "k1", "v15"), ("SET", "k2", "3"), ("PEXPIRE", "k2", "50000"), ("SET", "k3", "x"),
    ("MIGRATE", "127.0.0.1", "PORT", "k1", "0", "1000"),
    ("MIGRATE", "127.0.0.1", "PORT", "k1", "0", "1000"),
    ("EXISTS", "k1"),
    # (keys of one worker: without cluster mode shoal answers CROSSSLOT for
    # keys of different workers, docs/design.md §6)
    ("MIGRATE", "127.0.0.1", "PORT", "", "0", "1000", "KEYS", "k2", "{k2}nosuch"),
    ("EXISTS", "k2"),
    ("SET", "k1", "again"),
    ("MIGRATE", "127.0.0.1", "PORT", "k1", "0", "1000"),
    ("EXISTS", "k1"),
    ("MIGRATE", "127.0.0.1", "PORT", "k1", "0", "1000", "REPLACE"),
    ("EXISTS", "k1"),
    ("MIGRATE", "127.0.0.1", "PORT", "k3", "0", "0", "COPY"),
    ("GET", "k3"),
    ("MIGRATE", "127.0.0.1", "PORT", "k3", "0", "1000", "COPY"),
    ("MIGRATE", "127.0.0.1", "PORT", "", "0", "1000", "COPY", "REPLACE", "KEYS", "k3", "k3"),
    ("GET", "k3"),
    # argument errors, in 7.0.15's order
    ("MIGRATE", "127.0.0.1", "PORT", "k3", "0", "1000", "KEYS", "k3"),
    ("MIGRATE", "127.0.0.1", "PORT", "k3", "0", "1000", "AUTH"),
    ("MIGRATE", "127.0.0.1", "PORT", "k3", "0", "1000", "AUTH2", "u"),
    ("MIGRATE", "127.0.0.1", "PORT", "k3", "0", "1000", "BOGUS"),
    ("MIGRATE", "127.0.0.1", "PORT", "k3", "0", "soon"),
    ("MIGRATE", "127.0.0.1", "PORT", "k3", "x", "1000"),
    ("MIGRATE", "127.0.0.1", "PORT", "nosuch", "x", "1000"),
    ("MIGRATE", "127.0.0.1", "PORT", "k3"),
    # the target has no password: AUTH fails there, and the call says so
    ("SET", "k4", "y"),
    ("MIGRATE", "127.0.0.1", "PORT", "k4", "0", "1000", "AUTH", "pw"),
    ("MIGRATE", "127.0.0.1", "PORT", "k4", "0", "1000", "AUTH2", "default", "pw", "REPLACE"),
    ("EXISTS", "k4"),
    # a db the target does not have
    ("SET", "k5", "z"),
    ("MIGRATE", "127.0.0.1", "PORT", "k5", "99", "1000"),
    ("MIGRATE", "127.0.0.1", "PORT", "k5", "1", "1000"),
    ("EXISTS", "k5"),
    ("MIGRATE", "127.0.0.1", "PORT", "k5", "0", "1000"),
]


def target_state(t):
    with t.raw() as c:
        keys = sorted(c.call("KEYS", "*"))
        got = {}
        for k in keys:
            ttl = c.call("PTTL", k)
            got[k] = (c.call("DUMP", k), ttl > 0 and 40000 < ttl <= 50000 or ttl)
        with t.raw() as c1:
            assert c1.call("SELECT", "1") == "OK"
            got["db1"] = sorted(c1.call("KEYS", "*"))
        return got


def test_migrate_strings_standalone_as_redis(servers):
    (rs, rt), (ss, st) = standalone_pair(servers)
    want = run_script(rs, rt.port, STRING_SCRIPT)
    got = run_script(ss, st.port, STRING_SCRIPT)
    for cmd, w, g in zip(STRING_SCRIPT, want, got):
        assert g == w, f"{cmd}: shoal {g!r}, redis-server {w!r}"
    assert target_state(st) == target_state(rt)


def test_migrate_connect_refused_as_redis(servers):
    (rs, rt), (ss, st) = standalone_pair(servers)
    dead = h.free_port()
    script = [("SET", "k", "v"), ("MIGRATE", "127.0.0.1", "PORT", "k", "0", "500"), ("EXISTS", "k"),
              ("MIGRATE", "127.0.0.1", "notaport", "k", "0", "500"),
              ("MIGRATE", "127.0.0.1", "-5", "k", "0", "500"),
              ("MIGRATE", "nosuchhost.invalid", "PORT", "k", "0", "500"),
              ("MIGRATE", "127.0.0.1", "PORT", "", "0", "500", "KEYS", "a", "{a}b")]
    want = run_script(rs, dead, script)
    got = run_script(ss, dead, script)
    assert got == want
    # 7.0.15 sees a refused connect only at its first write
    assert got[1] == Error("IOERR error or timeout writing to target instance")
    assert got[4] == Error("IOERR error or timeout connecting to the client")


@pytest.mark.quiet   # bounds a latency from above (conftest.py: runs alone under xdist)
def test_migrate_silent_target_times_out_while_the_worker_serves(servers, fakes):
    """A target that never answers: IOERR after the timeout, the key stays;
    meanwhile the same (only) worker keeps answering another client."""
    rs = servers.redis(base_args="standalone")
    ss = servers.shoal(base_args="standalone", extra_args=["--worker-threads", "1"])
    silent = fakes("silent")
    with rs.raw(timeout=10) as c:
        c.call("SET", "k", "v")
        want = c.call("MIGRATE", "127.0.0.1", str(silent.port), "k", "0", "700")
        assert c.call("EXISTS", "k") == 1
    assert want == Error("IOERR error or timeout reading to target instance")

    with ss.raw(timeout=10) as c, ss.raw(timeout=10) as other:
        assert c.call("SET", "k", "v") == "OK"
        t0 = time.monotonic()
        c.send(h.encode("MIGRATE", "127.0.0.1", str(silent.port), "k", "0", "3000"))
        time.sleep(0.1)
        # the worker is not stalled: another client is served at once, many times
        lat = []
        for i in range(50):
            a = time.monotonic()
            assert other.call("SET", f"o{i}", "x") == "OK"
            assert other.call("GET", f"o{i}") == b"x"
            lat.append(time.monotonic() - a)
        assert time.monotonic() - t0 < 2.5, "the other client waited for the MIGRATE"
        assert max(lat) < 1.0, lat
        c.sock.settimeout(0.05)
        with pytest.raises(socket.timeout):
            c.sock.recv(1)                    # the MIGRATE has not answered yet
        c.sock.settimeout(10)
        got = c.read()[1]
        took = time.monotonic() - t0
    assert got == want
    assert 2.9 < took < 8.0, took
    with ss.raw() as c:
        assert c.call("GET", "k") == b"v"
        assert c.call("DBSIZE") == 51


def test_migrate_target_closing_retries_once_as_redis(servers, fakes):
    rs = servers.redis(base_args="standalone")
    ss = servers.shoal(base_args="standalone")
    results = {}
    for name, src in (("redis", rs), ("shoal", ss)):
        closer = fakes("close")
        with src.raw(timeout=10) as c:
            c.call("SET", "k", "v")
            results[name] = (c.call("MIGRATE", "127.0.0.1", str(closer.port), "k", "0", "2000"),
                             c.call("EXISTS", "k"))
        # the first connection and one retry
        h.wait_until(lambda: closer.accepted == 2, 3, what="two connections")
        time.sleep(0.2)
        assert closer.accepted == 2, (name, closer.accepted)
    assert results["shoal"] == results["redis"]
    assert results["shoal"][0] == Error("IOERR error or timeout reading to target instance")


def test_migrate_client_gone_while_suspended_still_completes(servers, fakes):
    """The client leaves while its MIGRATE waits: the target's late OK still
    deletes the key here (the target has it), and the node carries on."""
    ss = servers.shoal(base_args="standalone", extra_args=["--worker-threads", "1"])
    late = fakes("late", delay=1.0)
    with ss.raw() as c:
        assert c.call("SET", "gone", "v") == "OK"
        c.send(h.encode("MIGRATE", "127.0.0.1", str(late.port), "gone", "0", "3000"))
        h.wait_until(lambda: late.commands, 5, what="the RESTORE at the target")
    with ss.raw() as c:
        h.wait_until(lambda: c.call("EXISTS", "gone") == 0, 5, what="the key deleted after the late OK")
        assert c.call("PING") == "PONG"
    cmds = [x[0].upper() for x in late.commands]
    assert cmds == [b"SELECT", b"RESTORE"], late.commands


def test_migrate_reuses_one_connection_and_selects_once(servers, fakes):
    """As 7.0.15: one cached connection per host:port; SELECT only when the
    connection has not selected that db yet."""
    ss = servers.shoal(base_args="standalone", extra_args=["--worker-threads", "1"])
    late = fakes("late", delay=0.0)
    with ss.raw() as c:
        for k in ("a", "b", "c"):
            c.call("SET", k, "1")
        assert c.call("MIGRATE", "127.0.0.1", str(late.port), "a", "0", "1000") == "OK"
        assert c.call("MIGRATE", "127.0.0.1", str(late.port), "b", "0", "1000") == "OK"
        assert c.call("MIGRATE", "127.0.0.1", str(late.port), "c", "3", "1000", "AUTH", "pw") == "OK"
    assert late.accepted == 1
    with ss.raw() as c:
        assert h.info_dict(c.call("INFO", "stats"))["migrate_cached_sockets"] == "1"
    names = [x[0].upper() for x in late.commands]
    assert names == [b"SELECT", b"RESTORE", b"RESTORE", b"AUTH", b"SELECT", b"RESTORE"], late.commands
    assert late.commands[4] == [b"SELECT", b"3"]


def test_migrate_sends_strings_uncompressed_and_redis_restores_them(servers, fakes):
    """MIGRATE's payloads leave without LZF whatever rdbcompression says (a reshard's
    MIGRATE waited for the compression here and the decompression on the target): the
    100-byte value is in the RESTORE verbatim, redis-server 7.0.15 restores that payload
    to the same value, and DUMP still compresses as 7.0.15's does."""
    ss = servers.shoal(base_args="standalone", extra_args=["--worker-threads", "1"])
    rs = servers.redis(base_args="standalone")
    late = fakes("late", delay=0.0)
    value = b"v" * 100
    with ss.raw() as c, rs.raw() as r:
        c.call("SET", "k", value)
        r.call("SET", "k", value)
        dumped = c.call("DUMP", "k")
        assert dumped == r.call("DUMP", "k")
        assert value not in dumped                       # LZF, as redis-server's DUMP
        assert c.call("MIGRATE", "127.0.0.1", str(late.port), "k", "0", "1000") == "OK"
        restore = late.commands[-1]
        assert restore[0].upper() == b"RESTORE" and restore[1] == b"k", restore
        payload = restore[3]
        assert value in payload, payload
        assert r.call("RESTORE", "k2", "0", payload) == "OK"
        assert r.call("GET", "k2") == value


def test_migrate_and_restore_asking_in_the_command_table_as_redis(servers):
    rs = servers.redis(base_args="standalone")
    ss = servers.shoal(base_args="standalone")
    calls = [("COMMAND", "INFO", "migrate", "restore-asking", "restore", "dump"),
             ("COMMAND", "DOCS", "migrate"), ("COMMAND", "DOCS", "restore-asking"),
             ("COMMAND", "GETKEYS", "MIGRATE", "h", "1", "k", "0", "10"),
             ("COMMAND", "GETKEYS", "MIGRATE", "h", "1", "", "0", "10", "COPY", "AUTH2", "u", "p", "KEYS", "a", "b"),
             ("COMMAND", "GETKEYS", "MIGRATE", "h", "1", "", "0", "10", "AUTH", "keys", "KEYS", "a"),
             ("COMMAND", "GETKEYS", "RESTORE-ASKING", "k", "0", "x"),
             ("COMMAND", "GETKEYS", "MIGRATE", "h", "1", "k", "0", "10", "KEYS", "a")]
    def docs_facts(reply):
        # summary, complexity and history texts are our own words; the rest is Redis's
        name, body = reply[0], reply[1]
        d = dict(zip(body[0::2], body[1::2]))
        d.pop(b"summary")
        d.pop(b"complexity")
        d[b"history"] = [v for v, _ in d[b"history"]]
        return name, d

    with rs.raw() as r, ss.raw() as s:
        for call in calls:
            got, want = s.call(*call), r.call(*call)
            if call[1] == "DOCS":
                got, want = docs_facts(got), docs_facts(want)
            assert got == want, call


# --- every type, TTLs kept, both directions, standalone and cluster mode -----------------

def every_type_script(tag=""):
    """Commands that make keys of every type and encoding we serve; with a
    tag every key is {tag}-prefixed (one slot). Returns (commands, keys)."""
    p = "{%s}" % tag if tag else ""
    big = " ".join(f"m{i}" for i in range(300)).split()
    cmds = [
        ("SET", p + "str", "v15"), ("SET", p + "int", "3"), ("SET", p + "long", "a" * 200),
        ("SET", p + "raw", "".join(chr(65 + (i * 7) % 26) for i in range(60))),
        ("PFADD", p + "hll", "a", "b", "c"), ("SETBIT", p + "bits", "1000", "1"),
        ("RPUSH", p + "list", "a", "1", "-5", "b" * 70), ("RPUSH", p + "biglist", *[f"e{i}" * 20 for i in range(400)]),
        ("HSET", p + "hash", "f", "v", "n", "12"), ("HSET", p + "bighash", *[x for i in range(200) for x in (f"f{i}", f"v{i}")]),
        ("SADD", p + "iset", "1", "2", "300000"), ("SADD", p + "set", "a", "b", "c"), ("SADD", p + "bigset", *big),
        ("ZADD", p + "zset", "1", "a", "2.5", "b", "-3", "c"),
        ("ZADD", p + "bigzset", *[x for i in range(200) for x in (str(i * 1.5), f"z{i}")]),
        ("PEXPIRE", p + "str", "60000"), ("PEXPIRE", p + "list", "60000"), ("PEXPIRE", p + "bigzset", "60000"),
        ("PEXPIRE", p + "bighash", "60000"),
    ]
    keys = sorted({c[1] for c in cmds})
    return cmds, keys


# Hash-table encoded sets and hashes DUMP in their table's order, which
# depends on the process's hash seed: compared by content.
UNORDERED = {"bigset", "bighash", "set"}


def content(c, k):
    t = c.call("TYPE", k)
    if t == "set":
        return sorted(c.call("SMEMBERS", k))
    if t == "hash":
        return sorted(c.call("HGETALL", k))
    return c.call("DUMP", k)


def snapshot(srv, keys):
    with srv.raw() as c:
        return {k: (content(c, k) if k.split("}")[-1] in UNORDERED else c.call("DUMP", k), c.call("PTTL", k))
                for k in keys}


def assert_moved(before, after_target, ttl_slack=5000):
    for k, (payload, ttl) in before.items():
        got, gttl = after_target[k]
        assert got == payload, f"{k}: DUMP differs after MIGRATE"
        if ttl < 0:
            assert gttl == ttl, (k, ttl, gttl)
        else:
            assert ttl - ttl_slack < gttl <= ttl, (k, ttl, gttl)


def migrate_every_type(src, dst, cluster):
    cmds, keys = every_type_script("t" if cluster else "")
    with src.raw() as c:
        for cmd in cmds:
            r = c.call(*cmd)
            assert not isinstance(r, Error), (cmd, r)
    before = snapshot(src, keys)
    half = len(keys) // 2
    with src.raw(timeout=20) as c:
        # one key at a time, then the rest in one KEYS call
        for k in keys[:half]:
            assert c.call("MIGRATE", "127.0.0.1", str(dst.port), k, "0", "5000") == "OK", k
        assert c.call("MIGRATE", "127.0.0.1", str(dst.port), "", "0", "5000", "KEYS", *keys[half:]) == "OK"
        assert c.call("EXISTS", *keys) == 0
    assert_moved(before, snapshot(dst, keys))


def pair(servers, kinds, cluster):
    out = []
    for kind in kinds:
        if cluster:
            srv = servers.shoal() if kind == "shoal" else servers.redis()
            h.own_all_slots(srv)
        else:
            srv = (servers.shoal(base_args="standalone", extra_args=["--worker-threads", "1"])
                   if kind == "shoal" else servers.redis(base_args="standalone"))
        out.append(srv)
    return out


@pytest.mark.parametrize("cluster", [False, True], ids=["standalone", "cluster"])
@pytest.mark.parametrize("kinds", [("shoal", "redis"), ("redis", "shoal"), ("shoal", "shoal")],
                         ids=["shoal-to-redis", "redis-to-shoal", "shoal-to-shoal"])
def test_migrate_every_type_keeps_values_and_ttls(servers, kinds, cluster):
    src, dst = pair(servers, kinds, cluster)
    migrate_every_type(src, dst, cluster)


def test_dump_payloads_byte_equal_and_restore_both_ways(servers):
    """The same commands give the same DUMP bytes on both servers, and each
    server's payloads RESTORE on the other into keys that DUMP the same."""
    rs = servers.redis(base_args="standalone")
    ss = servers.shoal(base_args="standalone")
    cmds, keys = every_type_script()
    for srv in (rs, ss):
        with srv.raw() as c:
            for cmd in cmds:
                c.call(*cmd)
    def dumps(srv):
        with srv.raw() as c:
            return {k: c.call("DUMP", k) for k in keys}
    rd, sd = dumps(rs), dumps(ss)
    for k in keys:
        if k not in UNORDERED:
            assert sd[k] == rd[k], f"{k}: DUMP differs"
    for src_dump, dst, src in ((rd, ss, rs), (sd, rs, ss)):
        with dst.raw() as c, src.raw() as s:
            for k in keys:
                assert c.call("RESTORE", "copy:" + k, "0", src_dump[k]) == "OK", k
                if k in UNORDERED:
                    assert content(c, "copy:" + k) == content(s, k), k
                else:
                    assert c.call("DUMP", "copy:" + k) == src_dump[k], k


# --- RESTORE and RESTORE-ASKING: options and errors ----------------------------------------

V15 = bytes.fromhex("0003763135 0a00 53860f252711a89e".replace(" ", ""))   # "v15", spec §7.6
BAD_CRC = V15[:-1] + bytes([V15[-1] ^ 1])
V11 = V15[:-10] + b"\x0b\x00" + V15[-8:]                                 # RDB version 11
FAR = str(4102444800000)                                                 # 2100-01-01, ms


def restore_script(name):
    return [
        (name, "r1", "0", V15), (name, "r1", "0", V15), ("GET", "r1"),
        (name, "r1", "0", V15, "REPLACE"), (name, "r1", "-1", V15), (name, "r1", "x", V15),
        (name, "r1", "-1", V15, "REPLACE"), (name, "r1", "0", BAD_CRC, "REPLACE"),
        (name, "r1", "0", V11, "REPLACE"), (name, "r1", "0", b"short", "REPLACE"),
        (name, "r1", "0", b"\x00\x03v15", "REPLACE"),
        (name, "r2", "0", bytes.fromhex("0e") + V15[1:], "REPLACE"),
        (name, "r1", "0", V15, "REPLACE", "BOGUS"), (name, "r1", "0", V15, "REPLACE", "IDLETIME"),
        (name, "r1", "0", V15, "REPLACE", "IDLETIME", "-1"), (name, "r1", "0", V15, "REPLACE", "IDLETIME", "x"),
        (name, "r1", "0", V15, "REPLACE", "FREQ", "256"), (name, "r1", "0", V15, "REPLACE", "FREQ", "-1"),
        (name, "r1", "0", V15, "REPLACE", "IDLETIME", "5", "FREQ", "5"),
        (name, "r1", "0", V15, "REPLACE", "FREQ", "5", "IDLETIME", "5"),
        (name, "r1", "0", V15, "REPLACE", "IDLETIME", "100"), (name, "r1", "0", V15, "FREQ", "3", "REPLACE"),
        (name, "r1", "0", V15, "REPLACE", "REPLACE", "ABSTTL"), ("PTTL", "r1"),
        (name, "r1", FAR, V15, "REPLACE", "ABSTTL"), ("PEXPIRETIME", "r1"),
        (name, "r1", "1000", V15, "REPLACE", "ABSTTL"), ("EXISTS", "r1"),
        (name, "r3", "1", V15, "ABSTTL"), ("EXISTS", "r3"),
        (name, "r4", "100000", V15), ("TTL", "r4"),
        (name, "r4", "0", V15), (name,), (name, "r1"), (name, "r1", "0"),
    ]


@pytest.mark.parametrize("name", ["RESTORE", "RESTORE-ASKING"])
def test_restore_options_and_errors_as_redis(servers, name):
    """RESTORE and RESTORE-ASKING (here on a node that owns every slot: the
    ASKING part needs no import) answer as redis-server 7.0.15."""
    import diffhelpers as d
    rs = servers.redis()
    ss = servers.shoal()
    for srv in (rs, ss):
        h.own_all_slots(srv)
    d.assert_same(ss, rs, restore_script(name))


def test_restore_asking_without_cluster_mode_as_redis(servers):
    import diffhelpers as d
    rs = servers.redis(base_args="standalone")
    ss = servers.shoal(base_args="standalone")
    d.assert_same(ss, rs, [("RESTORE-ASKING", "a", "0", V15), ("GET", "a"), ("ASKING",)])


# --- what the replicas see, and keys written while their copy travels --------------------

@pytest.mark.parametrize("replica_kind", ["shoal", "redis"])
def test_migrate_dels_reach_replicas(servers, replica_kind):
    master = servers.shoal(base_args="standalone")
    replica = (servers.shoal(base_args="standalone") if replica_kind == "shoal"
               else servers.redis(base_args="standalone"))
    target = servers.redis(base_args="standalone")
    with replica.raw() as c:
        assert c.call("REPLICAOF", "127.0.0.1", str(master.port)) == "OK"

    def up():
        with replica.raw() as c:
            return h.info_dict(c.call("INFO", "replication")).get("master_link_status") == "up"
    h.wait_until(up, 30, what="replica link up")
    with master.raw() as c:
        for k in ("{a}1", "{a}2", "{a}3", "kept"):
            c.call("SET", k, "v")
        assert c.call("MIGRATE", "127.0.0.1", str(target.port), "", "0", "2000", "KEYS",
                      "{a}1", "{a}2", "{a}missing") == "OK"
        assert c.call("MIGRATE", "127.0.0.1", str(target.port), "{a}3", "0", "2000", "COPY") == "OK"
        assert c.call("SET", "after", "1") == "OK"
    with replica.raw() as c:
        h.wait_until(lambda: c.call("EXISTS", "after") == 1, 10, what="the replica caught up")
        assert c.call("EXISTS", "{a}1", "{a}2") == 0
        assert c.call("EXISTS", "{a}3", "kept") == 2
    with target.raw() as c:
        assert sorted(c.call("KEYS", "*")) == [b"{a}1", b"{a}2", b"{a}3"]


def test_migrate_key_written_in_flight_is_sent_again(servers, fakes):
    """shoal keeps serving writes to a key while its copy travels (7.0.15
    stalls everything instead): a key written meanwhile is sent again with
    REPLACE, one deleted meanwhile is deleted on the target, and only then
    does MIGRATE answer; no write is lost."""
    ss = servers.shoal(base_args="standalone", extra_args=["--worker-threads", "1"])
    late = fakes("late", delay=1.5)
    with ss.raw(timeout=15) as c, ss.raw() as other:
        c.call("SET", "{k}1", "before")
        c.call("SET", "{k}2", "doomed")
        c.call("SET", "{k}3", "still")
        c.send(h.encode("MIGRATE", "127.0.0.1", str(late.port), "", "0", "5000", "KEYS", "{k}1", "{k}2", "{k}3"))
        time.sleep(0.2)
        assert other.call("SET", "{k}1", "after") == "OK"
        assert other.call("DEL", "{k}2") == 1
        assert c.read()[1] == "OK"
        assert other.call("EXISTS", "{k}1", "{k}2", "{k}3") == 0
    names = [x[0].upper() for x in late.commands]
    assert names == [b"SELECT", b"RESTORE", b"RESTORE", b"RESTORE", b"RESTORE", b"DEL"], late.commands
    first, second = late.commands[1], late.commands[4]
    assert first[1] == b"{k}1" and b"before" in first[3] and len(first) == 4
    assert second[1] == b"{k}1" and b"after" in second[3] and second[4] == b"REPLACE"
    assert late.commands[5] == [b"DEL", b"{k}2"]


def test_migrate_to_a_target_that_does_not_own_the_slot(servers):
    """RESTORE-ASKING on a cluster node that neither owns nor imports the
    slot answers MOVED; MIGRATE passes it on as 7.0.15, and keeps the key."""
    results = {}
    for kind in ("redis", "shoal"):
        src = servers.shoal() if kind == "shoal" else servers.redis()
        dst = servers.shoal() if kind == "shoal" else servers.redis()
        h.own_all_slots(src)
        with dst.raw() as c:
            assert c.call("CLUSTER", "ADDSLOTSRANGE", "0", "100") == "OK"
        with src.raw() as c:
            c.call("SET", "foo", "bar")      # slot 12182: nobody owns it on dst
            r = c.call("MIGRATE", "127.0.0.1", str(dst.port), "foo", "0", "2000")
            results[kind] = (r.replace(str(dst.port), "PORT"), c.call("EXISTS", "foo"))
    assert results["shoal"] == results["redis"]


@pytest.mark.parametrize("kinds", [("shoal", "redis"), ("redis", "shoal")], ids=["shoal-to-redis", "redis-to-shoal"])
def test_migrate_big_values(servers, kinds):
    """Payloads larger than any socket buffer: written as the target reads."""
    src, dst = pair(servers, kinds, cluster=True)
    with src.raw(timeout=30) as c:
        c.call("SET", "{b}str", "x" * 3_000_000 + "".join(str(i) for i in range(100000)))
        for i in range(0, 60000, 5000):
            c.call("RPUSH", "{b}list", *[f"item-{j}" for j in range(i, i + 5000)])
        keys = ["{b}str", "{b}list"]
        before = {k: c.call("DUMP", k) for k in keys}
        assert c.call("MIGRATE", "127.0.0.1", str(dst.port), "", "0", "2000", "KEYS", *keys) == "OK"
        assert c.call("EXISTS", *keys) == 0
    with dst.raw(timeout=30) as c:
        for k in keys:
            assert c.call("DUMP", k) == before[k], k


def test_migrate_calls_to_one_target_queue_on_its_connection(servers, fakes):
    """Two clients' MIGRATEs to one target on one worker: the second waits
    for the first on the one cached connection (as 7.0.15 serves them one
    after the other), both answer, and the call is counted once each."""
    ss = servers.shoal(base_args="standalone", extra_args=["--worker-threads", "1"])
    late = fakes("late", delay=0.3)
    with ss.raw(timeout=10) as a, ss.raw(timeout=10) as b:
        a.call("SET", "x", "1")
        b.call("SET", "y", "2")
        a.call("CONFIG", "RESETSTAT")
        a.send(h.encode("MIGRATE", "127.0.0.1", str(late.port), "x", "0", "3000"))
        b.send(h.encode("MIGRATE", "127.0.0.1", str(late.port), "y", "0", "3000"))
        assert a.read()[1] == "OK"
        assert b.read()[1] == "OK"
        stats = h.info_dict(a.call("INFO", "commandstats"))
        assert stats["cmdstat_migrate"].startswith("calls=2,"), stats["cmdstat_migrate"]
        assert a.call("EXISTS", "x", "y") == 0
    assert late.accepted == 1
    assert [c[0].upper() for c in late.commands] == [b"SELECT", b"RESTORE", b"RESTORE"]
    # (the worker may read either client first)
    assert sorted(c[1] for c in late.commands[1:]) == [b"x", b"y"]


@pytest.mark.parametrize("kind", ["redis", "shoal"])
def test_migrate_cached_connection_closes_after_10s_unused(servers, fakes, kind):
    src = servers.shoal(base_args="standalone") if kind == "shoal" else servers.redis(base_args="standalone")
    late = fakes("late", delay=0.0)
    with src.raw() as c:
        c.call("SET", "k", "v")
        t0 = time.monotonic()
        assert c.call("MIGRATE", "127.0.0.1", str(late.port), "k", "0", "1000") == "OK"

        def cached():
            return int(h.info_dict(c.call("INFO", "stats"))["migrate_cached_sockets"])
        assert cached() == 1
        time.sleep(8)
        assert cached() == 1
        h.wait_until(lambda: cached() == 0, 6, interval=0.2, what="the cached connection closed")
        took = time.monotonic() - t0
    assert 10 <= took < 13.5, took


@pytest.mark.quiet   # bounds a delay from above: node timeout 1000 (conftest.py: runs alone under xdist)
def test_migrate_silent_target_leaves_bus_links_served(servers, fakes):
    """Cluster of two shoal nodes at node timeout 1000, the source with one
    worker (its bus links run there too): a MIGRATE waiting 3 s on a silent
    target must not make either node see the other as failing, and the
    source's other clients are served meanwhile."""
    import replhelpers as rh
    import bushelpers as bh
    args = ["--cluster-node-timeout", "1000"]
    a = servers.shoal(extra_args=args + ["--worker-threads", "1"])
    b = servers.shoal(extra_args=args)
    with a.raw() as c:
        assert c.call("CLUSTER", "ADDSLOTSRANGE", "0", "8191") == "OK"
    with b.raw() as c:
        assert c.call("CLUSTER", "ADDSLOTSRANGE", "8192", "16383") == "OK"
    rh.meet(b, a)
    h.wait_cluster_ok(a)
    h.wait_cluster_ok(b)
    silent = fakes("silent")

    def flags(viewer, other):
        oid = bh.myid(other)
        return [n["flags"] for n in bh.cluster_nodes(viewer) if n["id"] == oid][0]
    with a.raw(timeout=10) as c, a.raw() as other:
        assert c.call("SET", "bar", "v") == "OK"          # slot 5061: a's
        t0 = time.monotonic()
        c.send(h.encode("MIGRATE", "127.0.0.1", str(silent.port), "bar", "0", "3000"))
        while time.monotonic() - t0 < 2.8:
            assert other.call("GET", "bar") == b"v"
            for viewer, peer in ((a, b), (b, a)):
                f = flags(viewer, peer)
                assert "fail?" not in f and "fail" not in f, (viewer.port, f)
            time.sleep(0.1)
        assert c.read()[1] == Error("IOERR error or timeout reading to target instance")
        assert time.monotonic() - t0 >= 2.9


def test_migrate_inside_multi_as_redis(servers, fakes):
    """Inside MULTI/EXEC MIGRATE runs as 7.0.15 runs it (waiting on the
    target right there), with the commands around it seeing its effect."""
    (rs, rt), (ss, st) = standalone_pair(servers)
    dead = h.free_port()
    script = [
        ("SET", "{m}1", "a"), ("SET", "{m}2", "b"), ("SET", "{m}3", "c"),
        ("MULTI",), ("MIGRATE", "127.0.0.1", "PORT", "{m}1", "0", "1000"), ("EXISTS", "{m}1"),
        ("MIGRATE", "127.0.0.1", "PORT", "", "0", "1000", "COPY", "KEYS", "{m}2", "{m}x"),
        ("MIGRATE", "127.0.0.1", "PORT", "{m}1", "0", "1000"), ("MIGRATE", "127.0.0.1", "PORT", "{m}2", "0", "1000"),
        ("MIGRATE", "127.0.0.1", str(dead), "{m}3", "0", "1000"), ("GET", "{m}3"), ("EXEC",),
        ("EXISTS", "{m}1", "{m}2", "{m}3"),
    ]
    want = run_script(rs, rt.port, script)
    got = run_script(ss, st.port, script)
    assert got == want
    assert target_state(st) == target_state(rt)
    # a silent target inside MULTI: the timeout as outside it
    silent = fakes("silent")
    with ss.raw(timeout=10) as c:
        c.call("MULTI")
        c.call("MIGRATE", "127.0.0.1", str(silent.port), "{m}3", "0", "500")
        t0 = time.monotonic()
        assert c.call("EXEC") == [Error("IOERR error or timeout reading to target instance")]
        assert 0.45 < time.monotonic() - t0 < 3


# --- a slot moved between cluster nodes as redis-cli moves it -------------------------------

def two_master_cluster(servers, kinds):
    """a owns every slot, b none; both in one cluster."""
    import replhelpers as rh
    a = servers.shoal() if kinds[0] == "shoal" else servers.redis()
    b = servers.shoal() if kinds[1] == "shoal" else servers.redis()
    h.own_all_slots(a)
    rh.meet(b, a)
    h.wait_cluster_ok(b)
    return a, b


@pytest.mark.parametrize("kinds", [("shoal", "shoal"), ("shoal", "redis"), ("redis", "shoal")],
                         ids=["shoal-to-shoal", "shoal-to-redis", "redis-to-shoal"])
def test_slot_moved_with_migrate_as_redis_cli_does(servers, kinds):
    """SETSLOT IMPORTING on the target, MIGRATING on the source, then
    GETKEYSINSLOT + MIGRATE ... KEYS (RESTORE-ASKING on the target, which
    imports the slot) until the slot is empty, then SETSLOT NODE on both:
    every key arrives with its value and TTL and leaves the source."""
    import bushelpers as bh
    a, b = two_master_cluster(servers, kinds)
    aid, bid = bh.myid(a), bh.myid(b)
    cmds, keys = every_type_script("t")
    with a.raw() as c:
        for cmd in cmds:
            assert not isinstance(c.call(*cmd), Error), cmd
        slot = c.call("CLUSTER", "KEYSLOT", keys[0])
    before = snapshot(a, keys)
    with b.raw() as c:
        assert c.call("CLUSTER", "SETSLOT", str(slot), "IMPORTING", aid) == "OK"
    with a.raw(timeout=20) as c:
        assert c.call("CLUSTER", "SETSLOT", str(slot), "MIGRATING", bid) == "OK"
        moved = 0
        while True:
            batch = c.call("CLUSTER", "GETKEYSINSLOT", str(slot), "5")
            if not batch:
                break
            r = c.call("MIGRATE", "127.0.0.1", str(b.port), "", "0", "5000", "KEYS", *batch)
            assert r == "OK", r
            moved += len(batch)
        assert moved == len(keys)
        assert c.call("CLUSTER", "COUNTKEYSINSLOT", str(slot)) == 0
    for srv in (b, a):
        with srv.raw() as c:
            assert c.call("CLUSTER", "SETSLOT", str(slot), "NODE", bid) == "OK"
    with b.raw() as c:
        assert c.call("CLUSTER", "COUNTKEYSINSLOT", str(slot)) == len(keys)
    assert_moved(before, snapshot(b, keys))
    with a.raw() as c:
        r = c.call("GET", keys[0])
        assert isinstance(r, Error) and r.startswith(f"MOVED {slot} "), r


@pytest.mark.parametrize("kinds", [("shoal", "shoal"), ("shoal", "redis"), ("redis", "shoal")],
                         ids=["shoal-to-shoal", "shoal-to-redis", "redis-to-shoal"])
def test_redis_cli_reshard_moves_keys_with_migrate(servers, kinds):
    """redis-cli --cluster reshard drives the MIGRATEs: 300 slots with keys
    move, every key readable afterwards on exactly one node, TTLs kept."""
    import bushelpers as bh
    a, b = two_master_cluster(servers, kinds)
    aid, bid = bh.myid(a), bh.myid(b)
    keys = [f"key:{i}" for i in range(2000)]
    with a.raw() as c:
        for k in keys:
            c.send(h.encode("SET", k, k + ":v", "PX", "600000"))
        for k in keys:
            assert c.read()[1] == "OK"
    r = a.cli("--cluster", "reshard", f"127.0.0.1:{a.port}", "--cluster-from", aid, "--cluster-to", bid,
              "--cluster-slots", "300", "--cluster-yes", "--cluster-pipeline", "7", timeout=120)
    assert r.returncode == 0, r.stdout[-3000:] + r.stderr[-3000:]
    h.wait_until(lambda: a.cli("--cluster", "check", f"127.0.0.1:{a.port}").returncode == 0, 20,
                 interval=0.5, what="cluster check ok")
    where = {}
    for srv in (a, b):
        with srv.raw() as c:
            for k in keys:
                c.send(h.encode("EXISTS", k))
            for k in keys:
                if c.read()[1] == 1:
                    assert k not in where, f"{k} on two nodes"
                    where[k] = srv
    assert sorted(where) == sorted(keys)
    assert sum(1 for s in where.values() if s is b) > 0
    for srv in (a, b):
        with srv.raw() as c:
            for k in [k for k, s in where.items() if s is srv][:50]:
                assert c.call("GET", k) == (k + ":v").encode()
                assert 500000 < c.call("PTTL", k) <= 600000


@pytest.mark.parametrize("kinds", [("shoal", "shoal"), ("shoal", "redis")], ids=["shoal-to-shoal", "shoal-to-redis"])
def test_reshard_under_writes_loses_no_acknowledged_write(servers, kinds):
    """A redis-py RedisCluster client keeps overwriting keys while redis-cli
    reshards them away: each key ends with the last value acknowledged to
    the writer, on exactly one node (a key written while its copy travels
    is sent again, migrate.h)."""
    import bushelpers as bh
    from redis.cluster import RedisCluster
    a, b = two_master_cluster(servers, kinds)
    aid, bid = bh.myid(a), bh.myid(b)
    # 300 keys in slots 0-999, the 1,000 slots redis-cli moves first
    keys = []
    with a.raw() as c:
        i = 0
        while len(keys) < 300:
            if c.call("CLUSTER", "KEYSLOT", f"w:{i}") < 1000:
                keys.append(f"w:{i}")
            i += 1
    rc = RedisCluster(host="127.0.0.1", port=a.port, socket_timeout=10)
    last = {}
    for k in keys:
        rc.set(k, "0")
        last[k] = "0"
    stop = threading.Event()
    errors = []

    def writer():
        n = 0
        while not stop.is_set():
            n += 1
            for k in keys[n % 7::7]:
                try:
                    rc.set(k, str(n))
                    last[k] = str(n)
                except Exception as e:     # a failed write is not acknowledged: not counted
                    errors.append(repr(e))
    t = threading.Thread(target=writer, daemon=True)
    t.start()
    try:
        r = a.cli("--cluster", "reshard", f"127.0.0.1:{a.port}", "--cluster-from", aid, "--cluster-to", bid,
                  "--cluster-slots", "1000", "--cluster-yes", "--cluster-pipeline", "5", timeout=240)
        assert r.returncode == 0, r.stdout[-3000:] + r.stderr[-3000:]
    finally:
        stop.set()
        t.join(30)
    rc.close()
    where = {}
    for srv in (a, b):
        with srv.raw() as c:
            for k in keys:
                v = c.call("GET", k)
                if not isinstance(v, Error) and v is not None:
                    assert k not in where, f"{k} on two nodes"
                    where[k] = v.decode()
    assert sorted(where) == sorted(keys)
    lost = {k: (where[k], last[k]) for k in keys if where[k] != last[k]}
    assert not lost, lost


def test_migrate_cached_connection_closed_by_target_then_multi_then_async(servers):
    """The target drops the cached connection; a MIGRATE inside MULTI finds
    it dead, retries on a fresh one as 7.0.15 does, and a later MIGRATE
    outside MULTI uses that one."""
    ss = servers.shoal(base_args="standalone", extra_args=["--worker-threads", "1"])
    t = servers.redis(base_args="standalone")
    with ss.raw() as c, t.raw() as tc:
        for k in ("{z}1", "{z}2", "{z}3"):
            c.call("SET", k, k)
        assert c.call("MIGRATE", "127.0.0.1", str(t.port), "{z}1", "0", "2000") == "OK"
        assert tc.call("CLIENT", "KILL", "TYPE", "normal", "SKIPME", "yes") == 1
        c.call("MULTI")
        c.call("MIGRATE", "127.0.0.1", str(t.port), "{z}2", "0", "2000")
        assert c.call("EXEC") == ["OK"]
        assert c.call("MIGRATE", "127.0.0.1", str(t.port), "{z}3", "0", "2000") == "OK"
        assert c.call("EXISTS", "{z}1", "{z}2", "{z}3") == 0
        assert sorted(tc.call("KEYS", "*")) == [b"{z}1", b"{z}2", b"{z}3"]
        clients = tc.call("CLIENT", "LIST").decode().strip().splitlines()
        assert len(clients) == 2, clients        # ours, and the one connection of the node


def test_migrate_answered_on_its_worker_while_the_cache_is_full(servers, fakes):
    """A client's pipelined MIGRATEs on the worker of its keys, the cache of 64
    connections full: the first call's answer, written as its target's reply is read,
    runs the client's next MIGRATE at once, to a 65th target, which closes an idle
    cached connection to make room: the one whose reply was just read, idle now. The
    read of that connection must not go on with it (a use after free, which a build
    with ASan reports; conftest fails the test on the report)."""
    ss = servers.shoal(base_args="standalone", extra_args=["--worker-threads", "1"])
    targets = [fakes("late", delay=0.0) for _ in range(65)]
    with ss.raw(timeout=20) as c:
        assert c.call("SET", "k", "v") == "OK"
        for t in targets[:64]:
            assert c.call("MIGRATE", "127.0.0.1", str(t.port), "k", "0", "5000", "COPY") == "OK"
        assert h.info_dict(c.call("INFO", "stats"))["migrate_cached_sockets"] == "64"
        # the last connection made heads the cache's list: the first idle one it closes
        c.send(h.encode("MIGRATE", "127.0.0.1", str(targets[63].port), "k", "0", "5000", "COPY")
               + h.encode("MIGRATE", "127.0.0.1", str(targets[64].port), "k", "0", "5000", "COPY")
               + h.encode("PING"))
        assert c.read()[1] == "OK"
        assert c.read()[1] == "OK"
        assert c.read()[1] == "PONG"
        assert h.info_dict(c.call("INFO", "stats"))["migrate_cached_sockets"] == "64"
        assert c.call("GET", "k") == b"v"
    assert [x[1] for x in targets[64].commands] == [b"0", b"k"]
