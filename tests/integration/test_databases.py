"""Numbered databases (SELECT, MOVE, SWAPDB, COPY ... DB, `databases`) as redis-server 7.0.15
has them, compared side by side with a real redis-server.

What it is for: a standalone node (cluster-enabled no) has `databases` databases (16 by
default); clients SELECT one and every keyed command, DBSIZE, KEYS, SCAN, RANDOMKEY and
FLUSHDB work on it, MOVE and COPY ... DB cross between them, SWAPDB exchanges two for every
client at once, INFO keyspace has a line per non-empty database, CLIENT LIST a `db=`,
MULTI/EXEC and WATCH follow the client's database, keyspace notifications name it, and a
Lua script keeps its caller's database (a SELECT inside it lasts for the script only). In
cluster mode only database 0 exists, with 7.0.15's errors. Keys are spread over several
worker threads (no hash tags), so a database's keys live on every worker.

What it must never do: relax an expectation to match our node; stop a process it did not
start.
"""
import time

import pytest

import helpers as h

SA = "standalone"


def _start(servers, kind, extra=()):
    if kind == "shoal":
        return servers.shoal(extra_args=["--worker-threads", "3"] + list(extra), base_args=SA)
    return servers.redis(extra_args=list(extra), base_args=SA)


def _replies(srv, cmds, proto=2):
    out = []
    with srv.raw() as c:
        if proto == 3:
            assert isinstance(c.call("HELLO", "3"), h.Map)
        for cmd in cmds:
            c.send(h.encode(*cmd))
            out.append(c.read()[0])
    return out


def _compare(shoal, redis, cmds, proto=2):
    a, b = _replies(shoal, cmds, proto), _replies(redis, cmds, proto)
    bad = [(" ".join(map(str, c)), x, y) for c, x, y in zip(cmds, a, b) if x != y]
    assert not bad, "shoal and redis-server answer differently:\n" + \
        "\n".join(f"  {c}: shoal {x!r} redis {y!r}" for c, x, y in bad)


KEYS = [f"key:{i}" for i in range(12)]

DB_CMDS = [
    ("SELECT", "0"), ("SELECT", "15"), ("SELECT", "16"), ("SELECT", "-1"), ("SELECT", "x"),
    ("SELECT", "99999999999"), ("SELECT", "3"),
    *[("SET", k, f"v3-{k}") for k in KEYS], ("DBSIZE",), ("GET", "key:1"),
    ("SELECT", "0"), ("DBSIZE",), ("GET", "key:1"), ("EXISTS", "key:1"),
    ("SET", "key:1", "zero"), ("SET", "only0", "x"), ("DBSIZE",),
    ("MOVE", "key:1", "3"), ("MOVE", "only0", "3"), ("MOVE", "only0", "0"), ("MOVE", "nope", "3"),
    ("MOVE", "only0", "16"), ("MOVE", "only0", "-1"), ("MOVE", "only0", "x"), ("EXISTS", "only0"),
    ("SELECT", "3"), ("GET", "only0"), ("DBSIZE",), ("EXPIRE", "key:2", "1000"),
    ("MOVE", "key:2", "5"), ("SELECT", "5"), ("TTL", "key:2"), ("SELECT", "3"),
    ("COPY", "key:3", "key:3", "DB", "7"), ("COPY", "key:3", "key:3"), ("COPY", "key:3", "c", "DB", "3"),
    ("COPY", "key:3", "c", "DB", "16"), ("COPY", "key:3", "c", "DB", "x"), ("COPY", "key:3", "c", "DB"),
    ("COPY", "key:4", "key:5", "DB", "7"), ("COPY", "key:4", "key:5", "DB", "7"),
    ("COPY", "key:4", "key:5", "DB", "7", "REPLACE"), ("COPY", "nope", "x", "DB", "7"),
    ("SELECT", "7"), ("GET", "key:3"), ("GET", "key:5"), ("DBSIZE",), ("SELECT", "3"),
    ("SWAPDB", "3", "7"), ("DBSIZE",), ("GET", "key:5"), ("SWAPDB", "7", "3"), ("DBSIZE",),
    ("SWAPDB", "0", "16"), ("SWAPDB", "-1", "0"), ("SWAPDB", "x", "1"), ("SWAPDB", "1", "x"),
    ("SWAPDB", "2", "2"), ("SWAPDB", "0", "9"), ("SELECT", "9"), ("DBSIZE",), ("GET", "key:1"),
    ("SWAPDB", "9", "0"), ("SELECT", "0"), ("DBSIZE",),
    ("SELECT", "7"), ("FLUSHDB",), ("DBSIZE",), ("SELECT", "3"), ("DBSIZE",),
    ("SELECT", "5"), ("RANDOMKEY",), ("SELECT", "12"), ("RANDOMKEY",), ("KEYS", "*"),
    ("SCAN", "0"), ("DBSIZE",),
    ("SELECT", "3"), ("MULTI",), ("SET", "t1", "a"), ("SELECT", "4"), ("SET", "t1", "b"),
    ("GET", "t1"), ("EXEC",), ("GET", "t1"), ("SELECT", "3"), ("GET", "t1"),
    ("MULTI",), ("SELECT", "99"), ("EXEC",),
    ("SELECT", "6"), ("EVAL", "return redis.call('GET', KEYS[1])", "1", "key:1"),
    ("SET", "key:1", "six"),
    ("EVAL", "redis.call('SELECT', '3'); return redis.call('GET', KEYS[1])", "1", "key:1"),
    ("GET", "key:1"), ("EVAL", "return redis.call('SELECT', '77')", "0"),
    ("EVAL", "redis.call('SELECT', '0'); redis.call('SET', KEYS[1], 'from-lua'); return 1", "1", "lua"),
    ("GET", "lua"), ("SELECT", "0"), ("GET", "lua"),
    ("FLUSHALL",), ("DBSIZE",), ("SELECT", "3"), ("DBSIZE",),
    ("SET", "r", "in3"), ("RESET",), ("GET", "r"), ("DBSIZE",),
]


@pytest.mark.parametrize("proto", [2, 3])
def test_databases_as_redis(servers, proto):
    s, r = _start(servers, "shoal"), _start(servers, "redis")
    _compare(s, r, DB_CMDS, proto)


def _keyspace_lines(srv):
    with srv.raw() as c:
        text = c.call("INFO", "keyspace").decode()
    return [ln for ln in text.splitlines() if ln.startswith("db")]


def test_info_keyspace_and_client_list(servers):
    got = {}
    for kind in ("shoal", "redis"):
        srv = _start(servers, kind)
        with srv.raw() as c:
            for db, n in ((0, 3), (2, 5), (11, 1)):
                c.call("SELECT", str(db))
                for i in range(n):
                    c.call("SET", f"k{i}", "v")
                c.call("SET", "ttl", "v", "EX", "1000")
            c.call("SELECT", "11")
            line = c.call("CLIENT", "INFO").decode()
        lines = [ln.split(",avg_ttl=")[0] for ln in _keyspace_lines(srv)]
        got[kind] = (lines, " db=11 " in line)
    assert got["shoal"] == got["redis"]
    assert got["shoal"][0] == ["db0:keys=4,expires=1", "db2:keys=6,expires=1", "db11:keys=2,expires=1"]
    assert got["shoal"][1]


def _expired_then_info(srv, db, pipelined):
    """GET of a key whose TTL passed (the cron's expiry sweep is off, so only the GET
    deletes it), then INFO keyspace: the keyspace lines then. Pipelined behind the GET
    on one worker, where no cron can run between the two; with several, the GET may run
    on another worker than INFO, so INFO is sent once the GET is answered."""
    with srv.raw() as c:
        assert c.call("DEBUG", "SET-ACTIVE-EXPIRE", "0") == "OK"
        c.call("SELECT", str(db))
        for i in range(4):
            c.call("SET", f"k{i}", "v")
        c.call("SET", "gone", "v", "PX", "30")
        c.call("SET", "gone2", "v", "PX", "30")
        c.call("SET", "stays", "v", "EX", "1000")
        time.sleep(0.3)               # past the deadlines, and past a few of the counts' cron publishes
        if pipelined:
            c.send(h.encode("GET", "gone") + h.encode("INFO", "keyspace"))
            assert c.read()[1] is None
            text = c.read()[1].decode()
        else:
            assert c.call("GET", "gone") is None
            text = c.call("INFO", "keyspace").decode()
        after_one = [ln.split(",avg_ttl=")[0] for ln in text.splitlines() if ln.startswith("db")]
        assert c.call("GET", "gone2") is None
        after_two = [ln.split(",avg_ttl=")[0] for ln in _keyspace_lines(srv)]
        assert c.call("DEBUG", "SET-ACTIVE-EXPIRE", "1") == "OK"
    return after_one, after_two


@pytest.mark.parametrize("workers", [1, 3])
def test_info_keyspace_counts_a_lazy_expiry_at_once(servers, workers):
    """keys= and expires= are the dicts' sizes in 7.0.15, so a key a GET finds expired
    and deletes is gone from INFO keyspace at once, in database 0 and in another
    (failed before: the counts stayed as the worker's last cron published them; with
    one worker always, with three unless a cron ran between the GET and INFO)."""
    got = {}
    for kind in ("shoal", "redis"):
        srv = _start(servers, kind, ["--enable-debug-command", "local"]
                     + (["--worker-threads", str(workers)] if kind == "shoal" else []))
        got[kind] = [_expired_then_info(srv, db, kind == "redis" or workers == 1) for db in (0, 3)]
    assert got["shoal"] == got["redis"]
    assert got["redis"] == [(["db0:keys=6,expires=2"], ["db0:keys=5,expires=1"]),
                            (["db0:keys=5,expires=1", "db3:keys=6,expires=2"],
                             ["db0:keys=5,expires=1", "db3:keys=5,expires=1"])]


def test_databases_directive(servers):
    cmds = [("SELECT", "3"), ("SELECT", "4"), ("CONFIG", "GET", "databases"), ("MOVE", "k", "4"),
            ("SWAPDB", "0", "4"), ("COPY", "k", "c", "DB", "4")]
    s = _start(servers, "shoal", ["--databases", "4"])
    r = _start(servers, "redis", ["--databases", "4"])
    _compare(s, r, cmds)


def test_watch_is_per_database(servers):
    out = {}
    for kind in ("shoal", "redis"):
        srv = _start(servers, kind)
        with srv.raw() as a, srv.raw() as b:
            a.call("SELECT", "2")
            a.call("WATCH", "w")
            b.call("SET", "w", "db0")          # another database: the WATCH holds
            a.call("MULTI")
            a.call("SET", "w", "x")
            first = a.call("EXEC")
            a.call("WATCH", "w")
            b.call("SELECT", "2")
            b.call("SET", "w", "db2")          # the watched database: EXEC fails
            a.call("MULTI")
            a.call("SET", "w", "y")
            second = a.call("EXEC")
            a.call("WATCH", "w")                 # database 2, w exists
            b.call("SELECT", "5")
            b.call("SET", "other", "1")
            b.call("FLUSHDB")                    # another database emptied: the WATCH holds
            a.call("MULTI")
            a.call("SET", "w", "z")
            third = a.call("EXEC")
            a.call("WATCH", "w")
            b.call("SELECT", "2")
            b.call("FLUSHDB")                    # the watched key's database emptied
            a.call("MULTI")
            a.call("SET", "w", "q")
            fourth = a.call("EXEC")
        out[kind] = (first, second, third, fourth)
    assert out["shoal"] == out["redis"]
    assert out["shoal"] == (["OK"], None, ["OK"], None)


def test_notifications_name_the_database(servers):
    out = {}
    for kind in ("shoal", "redis"):
        srv = _start(servers, kind, ["--notify-keyspace-events", "KEA"])
        with srv.raw() as sub, srv.raw() as c:
            sub.call("PSUBSCRIBE", "__key*@*__:*")
            c.call("SELECT", "5")
            c.call("SET", "n", "1")
            c.call("MOVE", "n", "6")
            c.call("SELECT", "6")
            c.call("COPY", "n", "m", "DB", "2")
            msgs = []
            for _ in range(8):
                m = sub.read()[1]
                msgs.append((m[2], m[3]))
        out[kind] = sorted(msgs)
    assert out["shoal"] == out["redis"]
    assert (b"__keyspace@5__:n", b"set") in out["shoal"]
    assert (b"__keyevent@6__:move_to", b"n") in out["shoal"]
    assert (b"__keyevent@2__:copy_to", b"m") in out["shoal"]


CLUSTER_CMDS = [
    ("SELECT", "0"), ("SELECT", "1"), ("SELECT", "16"), ("SELECT", "x"), ("MOVE", "k", "1"),
    ("MOVE", "k", "0"), ("SWAPDB", "0", "1"), ("SWAPDB", "0", "0"), ("SET", "k", "v"),
    ("COPY", "k", "c", "DB", "1"), ("COPY", "k", "c", "DB", "0"), ("COPY", "k", "c", "DB", "16"),
    ("COPY", "k", "k", "DB", "0"),
]


@pytest.mark.parametrize("proto", [2, 3])
def test_cluster_mode_has_database_0_only(servers, proto):
    s = h.single_node(servers, "shoal")
    r = h.single_node(servers, "redis")
    _compare(s, r, CLUSTER_CMDS, proto)


def test_monitor_shows_the_database(servers):
    out = {}
    for kind in ("shoal", "redis"):
        srv = _start(servers, kind)
        with srv.raw() as mon, srv.raw() as c:
            assert mon.call("MONITOR") == "OK"
            c.call("SET", "a", "1")
            c.call("SELECT", "4")
            c.call("SET", "b", "2")
            c.call("EVAL", "redis.call('SELECT', '6'); return redis.call('SET', 'c', '3')", "0")
            lines = [mon.read()[1] for _ in range(6)]
        out[kind] = [ln.split(" ", 1)[1].split("]")[0].split(" ")[0] + " " + ln.split("] ", 1)[1]
                     for ln in lines]
    assert out["shoal"] == out["redis"]
    assert out["shoal"][:3] == ['[0 "SET" "a" "1"', '[4 "SELECT" "4"', '[4 "SET" "b" "2"']
