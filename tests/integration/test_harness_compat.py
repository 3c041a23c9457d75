"""What Redis's test harnesses wait for and call, compared
with redis-server 7.0.15 run the same way: the startup banner with " PID: <pid>",
CLIENT PAUSE / CLIENT UNPAUSE across every worker, DEBUG POPULATE and
DEBUG SET-ACTIVE-EXPIRE.
"""
import threading
import time

import pytest

import helpers as h

DEBUG = ["--enable-debug-command", "yes"]
WORKERS = ["--worker-threads", "3"]


def pair(servers, args=()):
    """shoal (3 workers) and redis-server, each owning every slot."""
    a = servers.shoal(extra_args=DEBUG + WORKERS + list(args))
    b = servers.redis(extra_args=DEBUG + list(args))
    for s in (a, b):
        h.own_all_slots(s)
    return a, b


def timed(conn, *args):
    t0 = time.monotonic()
    r = conn.raw(*args)
    return r, time.monotonic() - t0


# --- banner ---------------------------------------------------------------------

def test_banner_has_port_and_pid_before_server_initialized(servers):
    for srv in (servers.shoal(extra_args=["--always-show-logo", "yes"]),
                servers.redis(extra_args=["--always-show-logo", "yes"])):
        out = srv.output()
        assert f" PID: {srv.pid}" in out, srv.kind
        assert f"Port: {srv.port}" in out, srv.kind
        assert out.index(f" PID: {srv.pid}") < out.index("Server initialized"), srv.kind
    # without it (and no terminal on stdout) neither prints one
    for srv in (servers.shoal(), servers.redis()):
        assert f" PID: {srv.pid}" not in srv.output(), srv.kind


# --- CLIENT PAUSE ---------------------------------------------------------------

PAUSE_ERRORS = [
    ("CLIENT", "PAUSE", "-1"),
    ("CLIENT", "PAUSE", "abc"),
    ("CLIENT", "PAUSE", "1.5"),
    ("CLIENT", "PAUSE", " 10"),
    ("CLIENT", "PAUSE", "10", "foo"),
    ("CLIENT", "PAUSE", "abc", "foo"),          # the mode is checked first
    ("CLIENT", "PAUSE", "10", "write", "extra"),
    ("CLIENT", "PAUSE"),
    ("CLIENT", "UNPAUSE", "x"),
    ("CLIENT", "PAUSE", "99999999999999999999"),
]


def test_client_pause_argument_errors(servers):
    a, b = pair(servers)
    with a.raw() as ca, b.raw() as cb:
        for args in PAUSE_ERRORS:
            assert ca.raw(*args) == cb.raw(*args), args
        assert ca.raw("CLIENT", "PAUSE", "0") == cb.raw("CLIENT", "PAUSE", "0") == b"+OK\r\n"
        assert ca.raw("SET", "k", "v") == b"+OK\r\n"        # a 0 ms pause is already over
        # A deadline past the clock's range: Redis's rule (7.2 words it; 7.0.15 overflows
        # and pauses for nothing). Nothing is paused either way.
        assert ca.raw("CLIENT", "PAUSE", "9223372036854775807") == b"-ERR timeout is out of range\r\n"
        assert ca.raw("CLIENT", "PAUSE", "9223372036854775807", "WRITE") == \
            b"-ERR timeout is out of range\r\n"
        assert ca.raw("SET", "k", "v") == b"+OK\r\n"
        assert ca.raw("CLIENT", "HELP")[:1] == b"*"
        assert ca.call("COMMAND", "INFO", "client|pause") == cb.call("COMMAND", "INFO", "client|pause")
        assert ca.call("COMMAND", "INFO", "client|unpause") == cb.call("COMMAND", "INFO", "client|unpause")


@pytest.mark.quiet   # bounds a latency from above (conftest.py: runs alone under xdist)
def test_client_pause_write_holds_writes_on_every_worker(servers):
    for srv in pair(servers):
        conns = [srv.raw() for _ in range(6)]          # dealt over the workers
        try:
            assert conns[0].raw("SET", "x", "0") == b"+OK\r\n"
            assert conns[0].raw("CLIENT", "PAUSE", "900", "WRITE") == b"+OK\r\n"
            # reads, unknown commands and arity errors are answered at once
            for c in conns:
                r, dt = timed(c, "GET", "x")
                assert r == b"$1\r\n0\r\n" and dt < 0.4, (srv.kind, r, dt)
            r, dt = timed(conns[1], "SET", "x")
            assert r.startswith(b"-ERR wrong number of arguments") and dt < 0.4, srv.kind
            r, dt = timed(conns[1], "NOSUCHCMD")
            assert r.startswith(b"-ERR unknown command") and dt < 0.4, srv.kind
            # every worker's writer waits for the end of the pause
            results = {}

            def write(i, c):
                results[i] = timed(c, "SET", f"k{i}", "v")

            threads = [threading.Thread(target=write, args=(i, c)) for i, c in enumerate(conns[1:])]
            for t in threads:
                t.start()
            for t in threads:
                t.join(10)
            for i, (r, dt) in results.items():
                assert r == b"+OK\r\n" and dt > 0.4, (srv.kind, i, r, dt)
            assert len(results) == len(conns) - 1
            # a queued write waits when it is queued, a read-only EXEC does not
            assert conns[0].raw("CLIENT", "PAUSE", "600", "WRITE") == b"+OK\r\n"
            assert conns[1].raw("MULTI") == b"+OK\r\n"
            r, dt = timed(conns[1], "GET", "x")
            assert r == b"+QUEUED\r\n" and dt < 0.4, srv.kind
            r, dt = timed(conns[1], "EXEC")
            assert r == b"*1\r\n$1\r\n0\r\n" and dt < 0.4, srv.kind
            assert conns[1].raw("MULTI") == b"+OK\r\n"
            r, dt = timed(conns[1], "SET", "x", "1")
            assert r == b"+QUEUED\r\n" and dt > 0.2, (srv.kind, dt)
            assert conns[1].raw("EXEC") == b"*1\r\n+OK\r\n"
        finally:
            for c in conns:
                c.close()


@pytest.mark.quiet   # bounds a latency from above (conftest.py: runs alone under xdist)
def test_client_pause_all_and_unpause(servers):
    for srv in pair(servers):
        with srv.raw() as a, srv.raw() as b, srv.raw() as c:
            assert a.raw("CLIENT", "PAUSE", "700") == b"+OK\r\n"           # ALL by default
            r, dt = timed(b, "PING")
            assert r == b"+PONG\r\n" and dt > 0.4, (srv.kind, dt)
            # ALL holds even the client that paused (and its UNPAUSE)
            assert a.raw("CLIENT", "PAUSE", "700", "ALL") == b"+OK\r\n"
            r, dt = timed(a, "CLIENT", "UNPAUSE")
            assert r == b"+OK\r\n" and dt > 0.4, (srv.kind, dt)
            # UNPAUSE releases held writers at once
            assert a.raw("CLIENT", "PAUSE", "60000", "WRITE") == b"+OK\r\n"
            b.send(h.encode("SET", "y", "1"))
            assert not _answered(b, 0.3), srv.kind
            t0 = time.monotonic()
            assert c.raw("CLIENT", "UNPAUSE") == b"+OK\r\n"
            assert b.read()[0] == b"+OK\r\n"
            assert time.monotonic() - t0 < 1.0
            # pauses combine: the more restrictive mode and the later end
            assert a.raw("CLIENT", "PAUSE", "800", "WRITE") == b"+OK\r\n"
            r, dt = timed(c, "CLIENT", "PAUSE", "100", "ALL")
            assert r == b"+OK\r\n" and dt < 0.4, (srv.kind, dt)
            r, dt = timed(b, "GET", "y")
            assert r == b"$1\r\n1\r\n" and dt > 0.4, (srv.kind, dt)


def _answered(conn, wait):
    conn.sock.settimeout(wait)
    try:
        chunk = conn.sock.recv(65536)
    except OSError:
        return False
    finally:
        conn.sock.settimeout(conn.timeout)
    conn.buf += chunk
    return bool(chunk)


def test_client_pause_keeps_expired_keys(servers):
    """Redis's own check: neither active nor lazy expiry deletes a key while
    clients are paused; the key reads as absent; it goes once unpaused."""
    for srv in pair(servers):
        with srv.raw() as c:
            before = int(h.info_dict(c.call("INFO", "stats"))["expired_keys"])
            assert c.raw("MULTI") == b"+OK\r\n"
            assert c.raw("SET", "foo{t}", "bar", "PX", "10") == b"+QUEUED\r\n"
            assert c.raw("SET", "bar{t}", "foo", "PX", "10") == b"+QUEUED\r\n"
            assert c.raw("CLIENT", "PAUSE", "50000", "WRITE") == b"+QUEUED\r\n"
            assert c.raw("EXEC") == b"*3\r\n+OK\r\n+OK\r\n+OK\r\n"
            time.sleep(0.3)
            assert c.raw("GET", "foo{t}") == b"$-1\r\n"
            assert c.raw("GET", "bar{t}") == b"$-1\r\n"
            assert c.call("DBSIZE") == 2, srv.kind
            assert int(h.info_dict(c.call("INFO", "stats"))["expired_keys"]) == before, srv.kind
            assert c.raw("CLIENT", "UNPAUSE") == b"+OK\r\n"
            c.raw("GET", "foo{t}")
            c.raw("GET", "bar{t}")
            h.wait_until(lambda: int(h.info_dict(c.call("INFO", "stats"))["expired_keys"]) == before + 2,
                         5, what=f"{srv.kind}: keys expire after the pause")


# --- DEBUG POPULATE / SET-ACTIVE-EXPIRE -----------------------------------------

POPULATE_ERRORS = [
    ("DEBUG", "POPULATE"),
    ("DEBUG", "POPULATE", "-1"),
    ("DEBUG", "POPULATE", "abc"),
    ("DEBUG", "POPULATE", "1", "p", "-1"),
    ("DEBUG", "POPULATE", "1", "p", "x"),
    ("DEBUG", "POPULATE", "1", "p", "1", "extra"),
    ("DEBUG", "SET-ACTIVE-EXPIRE"),
    ("DEBUG", "SET-ACTIVE-EXPIRE", "1", "2"),
]


def _contents(conn):
    keys = sorted(conn.call("KEYS", "*"))
    return [(k, conn.call("GET", k)) for k in keys]


def test_debug_populate_as_redis(servers):
    got = {}
    for srv in pair(servers):
        with srv.raw() as c:
            errs = [c.raw(*a) for a in POPULATE_ERRORS]
            assert c.raw("SET", "key:3", "mine") == b"+OK\r\n"
            assert c.raw("SET", "key:4", "gone", "PX", "1") == b"+OK\r\n"
            time.sleep(0.05)
            out = [
                c.raw("DEBUG", "POPULATE", "0"),
                c.raw("DEBUG", "POPULATE", "300"),
                c.raw("DEBUG", "POPULATE", "20", "pre", "3"),
                c.raw("DEBUG", "POPULATE", "20", "pad", "12"),
                c.raw("DEBUG", "POPULATE", "5", "{tag}", "0"),
                c.raw("DEBUG", "POPULATE", "4", "L" * 200),        # names cut at 127 bytes
                c.raw("DEBUG", "POPULATE", "3", "nul\x00tail"),    # the prefix ends at NUL
                c.call("DBSIZE"),
            ]
            got[srv.kind] = (errs, out, _contents(c))
    assert got["shoal"] == got["redis"]
    errs, out, contents = got["shoal"]
    assert errs[1] == b"-ERR value is out of range, must be positive\r\n"
    assert dict(contents)[b"key:3"] == b"mine" and dict(contents)[b"key:4"] == b"value:4"
    assert dict(contents)[b"pad:7"] == b"value:7\x00\x00\x00\x00\x00"


def test_debug_set_active_expire(servers):
    got = {}
    for srv in pair(servers):
        with srv.raw() as c:
            assert c.raw("DEBUG", "SET-ACTIVE-EXPIRE", "0") == b"+OK\r\n"
            for i in range(50):
                assert c.raw("SET", f"t{i}", "v", "PX", "20") == b"+OK\r\n"
            time.sleep(1.5)       # well past several expiry cycles
            n_before = c.call("DBSIZE")
            expired = int(h.info_dict(c.call("INFO", "stats"))["expired_keys"])
            touched = c.raw("GET", "t7")
            n_after = c.call("DBSIZE")
            # anything but 0 turns it back on (atoi), as Redis reads it
            assert c.raw("DEBUG", "SET-ACTIVE-EXPIRE", "5") == b"+OK\r\n"
            h.wait_until(lambda: c.call("DBSIZE") == 0, 10, what=f"{srv.kind}: active expiry resumes")
            assert c.raw("DEBUG", "SET-ACTIVE-EXPIRE", "abc") == b"+OK\r\n"   # atoi: 0
            assert c.raw("SET", "z", "v", "PX", "20") == b"+OK\r\n"
            time.sleep(0.8)
            still = c.call("DBSIZE")
            got[srv.kind] = (n_before, expired, touched, n_after, still)
    assert got["shoal"] == got["redis"] == (50, 0, b"$-1\r\n", 49, 1)


def test_debug_help_lists_served_subcommands_as_redis(servers):
    a = servers.shoal(extra_args=DEBUG)
    b = servers.redis(extra_args=DEBUG)
    with a.raw() as ca, b.raw() as cb:
        ours, theirs = ca.call("DEBUG", "HELP"), cb.call("DEBUG", "HELP")
    assert ours[0] == theirs[0]
    for sub in ("POPULATE", "SET-ACTIVE-EXPIRE", "SLEEP", "DROP-CLUSTER-PACKET-FILTER"):
        i = next(k for k, line in enumerate(ours) if line.startswith(sub + " "))
        j = theirs.index(ours[i])
        # the subcommand's whole description, line for line
        k = i + 1
        while k < len(ours) and ours[k].startswith("    "):
            assert ours[k] == theirs[j + k - i], sub
            k += 1
