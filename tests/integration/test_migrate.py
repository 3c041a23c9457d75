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
        c.send(h.encode("MIGRATE", "127.0.0.1", str(silent.port), "k", "0", "1500"))
        time.sleep(0.1)
        # the worker is not stalled: another client is served at once, many times
        lat = []
        for i in range(50):
            a = time.monotonic()
            assert other.call("SET", f"o{i}", "x") == "OK"
            assert other.call("GET", f"o{i}") == b"x"
            lat.append(time.monotonic() - a)
        assert time.monotonic() - t0 < 1.4, "the other client waited for the MIGRATE"
        assert max(lat) < 0.5, lat
        got = c.read()[1]
        took = time.monotonic() - t0
    assert got == want
    assert 1.3 < took < 5.0, took
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
    late = fakes("late", delay=0.6)
    with ss.raw() as c:
        assert c.call("SET", "gone", "v") == "OK"
        c.send(h.encode("MIGRATE", "127.0.0.1", str(late.port), "gone", "0", "3000"))
        time.sleep(0.1)
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
    names = [x[0].upper() for x in late.commands]
    assert names == [b"SELECT", b"RESTORE", b"RESTORE", b"AUTH", b"SELECT", b"RESTORE"], late.commands
    assert late.commands[4] == [b"SELECT", b"3"]


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
