"""Numbered databases where operations reach past the current one, as redis-server 7.0.15
does it, compared side by side with a real redis-server (standalone nodes; keys spread over
three workers).

What it is for: DEBUG DIGEST covers every database (mixing each one's number), eviction
takes keys from every database, a blocked BLPOP is served only by a push to its own
database, FLUSHALL/FLUSHDB/SWAPDB fail only the WATCHes of keys that exist or existed,
MIGRATE writes into its destination-db argument, and client-side caching invalidates for an
SMOVE only what 7.0.15 signals.

What it must never do: relax an expectation to match our node; stop a process it did not
start.
"""
import time

import helpers as h

SA = "standalone"
DEBUG = ["--enable-debug-command", "yes"]


def _start(servers, kind, extra=()):
    if kind == "shoal":
        return servers.shoal(extra_args=["--worker-threads", "3"] + DEBUG + list(extra), base_args=SA)
    return servers.redis(extra_args=DEBUG + list(extra), base_args=SA)


def _both(servers, extra=()):
    return [_start(servers, "shoal", extra), _start(servers, "redis", extra)]


def _fill(c, db, n, tag):
    assert c.call("SELECT", str(db)) == "OK"
    for i in range(n):
        assert c.call("SET", f"k{i}", f"{tag}-{i}") == "OK"
    assert c.call("RPUSH", "list", "a", "b", tag) == 3
    assert c.call("HSET", "hash", "f", tag) == 1
    assert c.call("SADD", "set", "m1", tag) == 2
    assert c.call("ZADD", "zset", "1.5", tag) == 1
    assert c.call("SET", "ttl", tag, "EX", "1000") == "OK"


def test_debug_digest_covers_every_database(servers):
    got = {}
    for srv in _both(servers):
        with srv.raw() as c:
            steps = [c.call("DEBUG", "DIGEST")]
            _fill(c, 5, 40, "five")                   # database 5 alone: its number is mixed
            steps.append(c.call("DEBUG", "DIGEST"))
            _fill(c, 0, 40, "zero")
            _fill(c, 3, 40, "three")
            _fill(c, 9, 40, "nine")
            steps.append(c.call("DEBUG", "DIGEST"))
            assert c.call("SELECT", "3") == "OK"
            steps.append(c.call("DEBUG", "DIGEST"))  # the same whatever database is selected
            assert c.call("DEL", "k7") == 1
            steps.append(c.call("DEBUG", "DIGEST"))
            assert c.call("SWAPDB", "3", "9") == "OK"  # same data, other numbers: another digest
            steps.append(c.call("DEBUG", "DIGEST"))
            assert c.call("FLUSHDB") == "OK"
            steps.append(c.call("DEBUG", "DIGEST"))
        got[srv.kind] = steps
    assert got["shoal"] == got["redis"], got
    s = got["shoal"]
    assert s[0] == "0" * 40 and s[2] == s[3] and len({s[1], s[2], s[4], s[5], s[6]}) == 5


def _blocked_by_database(srv):
    """BLPOP on k (alone, and with a key of another worker) in database 0; pushes to k in
    database 1 leave it waiting; a push in database 0 serves it."""
    out = []
    for keys in (["k"], ["k", "other:1"], ["other:1", "k"]):
        with srv.raw() as a, srv.raw() as b:
            assert b.call("SELECT", "1") == "OK"
            assert b.call("RPUSH", "k", "in1-before") == 1   # there already: not the waiter's
            a.send(h.encode("BLPOP", *keys, "0"))
            h.wait_until(lambda: "blocked_clients:1" in b.call("INFO", "clients").decode(), 5,
                         what="the BLPOP blocked")
            out.append(b.call("RPUSH", "k", "in1"))
            out.append(b.call("LPUSH", "other:1", "in1"))
            time.sleep(0.2)
            got, _ = a.exchange(b"", idle=0.2)
            out.append(got)                                     # nothing: still waiting
            out.append(b.call("LRANGE", "k", "0", "-1"))
            assert b.call("SELECT", "0") == "OK"
            out.append(b.call("RPUSH", "k", "in0"))
            out.append(a.read()[1])
            out.append(b.call("EXISTS", "k"))
            assert b.call("FLUSHALL") == "OK"
    return out


def test_blocked_pop_is_served_from_its_own_database(servers):
    got = {srv.kind: _blocked_by_database(srv) for srv in _both(servers)}
    assert got["shoal"] == got["redis"], got


def _older_waiter_elsewhere(srv):
    """An older waiter on k in database 0 (on one worker, or over two) does not hold back
    a younger one on k in database 1 that a push there can serve."""
    out = []
    for older, younger in ((["k", "other:1"], ["k"]), (["k"], ["k", "other:1"]),
                           (["k", "other:1"], ["k", "other:1"])):
        with srv.raw() as x, srv.raw() as y, srv.raw() as p:
            x.send(h.encode("BLPOP", *older, "0"))
            h.wait_until(lambda: "blocked_clients:1" in p.call("INFO", "clients").decode(), 5,
                         what="the first BLPOP blocked")
            assert y.call("SELECT", "1") == "OK"
            y.send(h.encode("BLPOP", *younger, "0"))
            h.wait_until(lambda: "blocked_clients:2" in p.call("INFO", "clients").decode(), 5,
                         what="the second BLPOP blocked")
            assert p.call("SELECT", "1") == "OK"
            out.append(p.call("RPUSH", "k", "v1"))
            out.append(y.read()[1])
            assert p.call("SELECT", "0") == "OK"
            out.append(p.call("RPUSH", "k", "v0"))
            out.append(x.read()[1])
            assert p.call("FLUSHALL") == "OK"
    return out


def test_older_waiter_in_another_database_does_not_hold_back(servers):
    got = {srv.kind: _older_waiter_elsewhere(srv) for srv in _both(servers)}
    assert got["shoal"] == got["redis"], got


NAMES = [f"w{i}" for i in range(6)]       # spread over the workers


def _watch_then(srv, setup, watch_db, act):
    """Sets up, WATCHes every name of NAMES in watch_db, runs act from another connection,
    then one EXEC per name: which WATCHes held."""
    out = []
    for name in NAMES:
        with srv.raw() as a, srv.raw() as b:
            assert b.call("FLUSHALL") == "OK"
            for db, key in setup:
                assert b.call("SELECT", str(db)) == "OK"
                assert b.call("SET", key, "v") == "OK"
            assert a.call("SELECT", str(watch_db)) == "OK"
            assert a.call("WATCH", name) == "OK"
            for cmd in act:
                b.call(*cmd)
            assert a.call("MULTI") == "OK"
            a.call("PING")
            out.append((name, a.call("EXEC")))
    return out


WATCH_CASES = [
    # FLUSHALL: only the watched names that exist (in the watch's database) fail
    ([(0, "w0"), (0, "other"), (3, "w1")], 0, [("FLUSHALL",)]),
    ([(0, "w0"), (0, "other"), (3, "w1")], 3, [("FLUSHALL",)]),
    # FLUSHDB of the watch's database, and of another one
    ([(2, "w2"), (2, "other"), (0, "w3")], 2, [("SELECT", "2"), ("FLUSHDB",)]),
    ([(2, "w2"), (2, "other"), (0, "w3")], 0, [("SELECT", "2"), ("FLUSHDB",)]),
    # SWAPDB: a name that exists in either of the two databases
    ([(0, "w0"), (1, "w1"), (0, "other")], 0, [("SWAPDB", "0", "1")]),
    ([(0, "w0"), (1, "w1"), (1, "w4")], 1, [("SWAPDB", "1", "0")]),
    ([(0, "w0"), (1, "w1"), (5, "w5")], 5, [("SWAPDB", "0", "1")]),
]


def test_flush_and_swapdb_fail_only_watches_of_existing_keys(servers):
    got = {srv.kind: [_watch_then(srv, *case) for case in WATCH_CASES] for srv in _both(servers)}
    assert got["shoal"] == got["redis"], got


def _info_num(c, field):
    text = c.call("INFO").decode()
    return int([ln for ln in text.splitlines() if ln.startswith(field + ":")][0].split(":")[1])


def _evicts_from_db3(srv, policy):
    with srv.raw() as c:
        assert c.call("FLUSHALL") == "OK"
        assert c.call("CONFIG", "SET", "maxmemory", "0") == "OK"
        assert c.call("SELECT", "3") == "OK"
        assert c.call("DEBUG", "POPULATE", "20000", "key", "1000") == "OK"
        assert c.call("DBSIZE") == 20000
        before = _info_num(c, "evicted_keys")
        limit = _info_num(c, "used_memory") * 7 // 10
        assert c.call("CONFIG", "SET", "maxmemory-policy", policy) == "OK"
        assert c.call("CONFIG", "SET", "maxmemory", str(limit)) == "OK"
        assert c.call("SELECT", "0") == "OK"
        write = c.call("SET", "x", "y")                 # a write in database 0 evicts from 3
        h.wait_until(lambda: _info_num(c, "evicted_keys") > before, 10, what="an eviction")
        assert c.call("SELECT", "3") == "OK"
        seen = [-1]

        def settled():                                  # no eviction between two looks
            now = (c.call("DBSIZE"), _info_num(c, "evicted_keys"))
            same, seen[0] = now == seen[0], now
            return same
        h.wait_until(settled, 10, interval=0.2, what="the evictions to end")
        left, evicted = seen[0][0], seen[0][1] - before
        assert c.call("CONFIG", "SET", "maxmemory", "0") == "OK"
        return write, 0 < left < 20000, evicted >= 20000 - left


def test_eviction_takes_keys_of_every_database(servers):
    got = {srv.kind: [_evicts_from_db3(srv, p) for p in ("allkeys-lru", "allkeys-lfu", "allkeys-random")]
           for srv in _both(servers)}
    assert got["shoal"] == got["redis"], got
    assert got["shoal"][0] == ("OK", True, True)


def _migrate_between(src, dst):
    out = []
    with src.raw() as a, dst.raw() as b:
        assert a.call("SELECT", "2") == "OK"
        for k in ("m1", "{m}2", "{m}3", "m4"):      # KEYS: one worker's keys (docs/design.md)
            assert a.call("SET", k, f"from-2-{k}") == "OK"
        out.append(a.call("MIGRATE", "127.0.0.1", str(dst.port), "m1", "5", "5000"))
        out.append(a.call("MIGRATE", "127.0.0.1", str(dst.port), "", "7", "5000", "KEYS", "{m}2", "{m}3"))
        out.append(a.call("MIGRATE", "127.0.0.1", str(dst.port), "m4", "5", "5000", "COPY"))
        out.append(a.call("MIGRATE", "127.0.0.1", str(dst.port), "m4", "99", "5000"))
        out.append(a.call("MIGRATE", "127.0.0.1", str(dst.port), "m4", "x", "5000"))
        out.append(a.call("MIGRATE", "127.0.0.1", str(dst.port), "m4", "-1", "5000"))
        out.append(a.call("KEYS", "*"))
        for db in (0, 2, 5, 7):
            assert b.call("SELECT", str(db)) == "OK"
            out.append((db, sorted(b.call("KEYS", "*")), b.call("GET", "m1"), b.call("GET", "{m}3")))
    return out


def test_migrate_writes_into_its_destination_db(servers):
    got = {}
    for kind in ("shoal", "redis"):
        src, dst = _start(servers, kind), _start(servers, kind)
        got[kind] = _migrate_between(src, dst)
    assert got["shoal"] == got["redis"], got


def test_migrate_destination_db_in_cluster_mode(servers):
    """Cluster mode has database 0 only: MIGRATE to db 0 works, to another db the target
    refuses the SELECT, as between two redis-servers."""
    got = {}
    for kind in ("shoal", "redis"):
        make = servers.shoal if kind == "shoal" else servers.redis
        src, dst = make(), make()
        for srv in (src, dst):
            h.own_all_slots(srv)
        with src.raw() as a, dst.raw() as b:
            assert a.call("SET", "c1", "v1") == "OK"
            assert a.call("SET", "c2", "v2") == "OK"
            out = [a.call("MIGRATE", "127.0.0.1", str(dst.port), "c1", "0", "5000"),
                   a.call("MIGRATE", "127.0.0.1", str(dst.port), "c2", "5", "5000"),
                   a.call("EXISTS", "c1", "c2"), b.call("GET", "c1"), b.call("EXISTS", "c2")]
        got[kind] = out
    assert got["shoal"] == got["redis"], got


def _served_by_swapdb(srv):
    out = []
    for keys in (["k"], ["k", "other:1"]):
        with srv.raw() as a, srv.raw() as b:
            assert b.call("FLUSHALL") == "OK"
            assert b.call("RPUSH", "k", "from-0") == 1          # database 0
            assert a.call("SELECT", "1") == "OK"
            a.send(h.encode("BLPOP", *keys, "0"))
            h.wait_until(lambda: "blocked_clients:1" in b.call("INFO", "clients").decode(), 5,
                         what="the BLPOP blocked")
            out.append(b.call("SWAPDB", "0", "1"))                # k's list is database 1's now
            out.append(a.read()[1])
            out.append(b.call("DBSIZE"))
    return out


def test_swapdb_serves_a_blocked_pop(servers):
    got = {srv.kind: _served_by_swapdb(srv) for srv in _both(servers)}
    assert got["shoal"] == got["redis"], got
