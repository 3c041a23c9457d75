"""Standalone mode: multi-key commands whose keys different worker threads keep.

What it is for: redis-server without cluster mode runs MSET, RENAME, SUNIONSTORE,
LMOVE, ZUNIONSTORE, PFMERGE, BITOP, SORT ... STORE, MULTI/EXEC and WATCH over any
keys. shoal keeps each key on the worker of its slot; a call over keys of several
workers runs whole on one of them while the others wait (actors/worker/xcmd.c). This
file runs every such command, with its keys spread over three workers, against shoal
and redis-server and compares the replies byte for byte (RESP2 and RESP3) and the
final data (DEBUG DIGEST); checks that the calls are atomic under concurrent clients
(MSET/MGET, RENAME, MULTI transfers); and that a replica applies them.

What it must never do: stop a process it did not start, or pick keys whose worker it
did not compute (every spread key below is checked to sit on the worker it names).
"""
import random
import threading
import time

import pytest

import diffhelpers as dh
import helpers as h

SA = "standalone"
WORKERS = 3


def _on(worker, name):
    """A key named name:<n> that worker `worker` of WORKERS keeps."""
    for n in range(1000):
        k = f"{name}:{n}"
        if h.key_slot(k) % WORKERS == worker:
            return k
    raise AssertionError("no key found")


# Keys on workers 0, 1 and 2.
A, B, C = _on(0, "a"), _on(1, "b"), _on(2, "c")
D, E, F = _on(1, "d"), _on(2, "e"), _on(0, "f")
S1, S2, S3, SD = _on(0, "s1"), _on(1, "s2"), _on(2, "s3"), _on(1, "sdst")
L1, L2, L3 = _on(0, "l1"), _on(1, "l2"), _on(2, "l3")
Z1, Z2, Z3, ZD = _on(0, "z1"), _on(1, "z2"), _on(2, "z3"), _on(2, "zdst")
H1, H2, HD = _on(0, "h1"), _on(1, "h2"), _on(2, "hdst")
B1, B2, BD = _on(0, "bit1"), _on(1, "bit2"), _on(2, "bitdst")
W1, W2 = _on(1, "watch1"), _on(2, "watch2")


def test_keys_are_spread():
    assert [h.key_slot(k) % WORKERS for k in (A, B, C)] == [0, 1, 2]
    assert len({h.key_slot(k) % WORKERS for k in (S1, S2, S3)}) == 3
    assert len({h.key_slot(k) % WORKERS for k in (Z1, Z2, Z3)}) == 3
    # a known Redis slot, so the CRC above is Redis's
    assert h.key_slot("foo") == 12182


SCENARIO = [
    ("FLUSHALL",),
    # strings and generic keyspace commands
    ("MSET", A, "1", B, "2", C, "3"), ("MGET", A, B, C, D), ("MSETNX", A, "9", D, "9"),
    ("MSETNX", D, "4", E, "5"), ("MGET", A, B, C, D, E, F),
    ("EXISTS", A, B, C, D, E, F, A), ("TOUCH", A, B, F), ("DEL", A, F, B),
    ("UNLINK", C, D, F), ("MGET", A, B, C, D, E),
    ("SET", A, "x"), ("PEXPIRE", A, "100000"), ("RENAME", A, B), ("GET", A), ("GET", B),
    ("PTTL", A), ("EXISTS", B), ("PERSIST", B), ("RENAME", A, C), ("RENAMENX", B, E), ("RENAMENX", B, C),
    ("MGET", A, B, C, E), ("COPY", C, D), ("COPY", C, E), ("COPY", C, E, "REPLACE"),
    ("MGET", C, D, E), ("TYPE", E), ("LCS", C, E), ("SET", D, "ohmytext"), ("SET", E, "mynewtext"),
    ("LCS", D, E), ("LCS", D, E, "LEN"), ("LCS", D, E, "IDX", "MINMATCHLEN", "2", "WITHMATCHLEN"),
    # sets (integer members: intsets reply in order on both servers)
    ("SADD", S1, "1", "2", "3", "4"), ("SADD", S2, "3", "4", "5"), ("SADD", S3, "4", "6"),
    ("SINTER", S1, S2), ("SINTER", S1, S2, S3), ("SUNION", S1, S2, S3), ("SDIFF", S1, S2, S3),
    ("SINTERCARD", "3", S1, S2, S3), ("SINTERCARD", "2", S1, S2, "LIMIT", "1"),
    ("SINTERSTORE", SD, S1, S2), ("SMEMBERS", SD), ("SUNIONSTORE", SD, S1, S3), ("SMEMBERS", SD),
    ("SDIFFSTORE", SD, S1, S2), ("SMEMBERS", SD), ("SINTERSTORE", SD, S1, "nokey"), ("EXISTS", SD),
    ("SMOVE", S1, S3, "1"), ("SMOVE", S1, S3, "99"), ("SMEMBERS", S1), ("SMEMBERS", S3),
    ("SINTER", S1, A), ("SUNIONSTORE", S1, B, S2),
    ("SADD", S2, "str"), ("SINTERCARD", "2", S1, S2), ("SISMEMBER", S2, "str"),
    # lists
    ("RPUSH", L1, "a", "b", "c", "d"), ("RPUSH", L2, "x"),
    ("LMOVE", L1, L2, "LEFT", "RIGHT"), ("LMOVE", L1, L3, "RIGHT", "LEFT"), ("RPOPLPUSH", L2, L3),
    ("LRANGE", L1, "0", "-1"), ("LRANGE", L2, "0", "-1"), ("LRANGE", L3, "0", "-1"),
    ("LMPOP", "3", "nolist", L1, L2, "LEFT", "COUNT", "5"), ("LMPOP", "2", L2, L3, "RIGHT"),
    ("RPOPLPUSH", "nolist", L3), ("LMOVE", L3, B, "LEFT", "LEFT"),
    ("RPUSH", L1, "p", "q"), ("BLPOP", L2, L1, "0"), ("BRPOP", L3, L1, "1"),
    ("RPUSH", L2, "r"), ("BLMOVE", L2, L3, "LEFT", "LEFT", "0"), ("BRPOPLPUSH", L3, L1, "0"),
    ("BLMPOP", "0", "2", L2, L1, "LEFT", "COUNT", "2"), ("LRANGE", L1, "0", "-1"),
    ("LRANGE", L3, "0", "-1"),
    # sorted sets
    ("ZADD", Z1, "1", "a", "2", "b", "3", "c"), ("ZADD", Z2, "10", "b", "20", "c", "30", "d"),
    ("ZADD", Z3, "5", "c"),
    ("ZUNION", "2", Z1, Z2, "WITHSCORES"), ("ZINTER", "3", Z1, Z2, Z3, "WITHSCORES"),
    ("ZDIFF", "2", Z1, Z2, "WITHSCORES"), ("ZINTERCARD", "2", Z1, Z2),
    ("ZINTERCARD", "3", Z1, Z2, Z3, "LIMIT", "1"),
    ("ZUNIONSTORE", ZD, "3", Z1, Z2, Z3, "WEIGHTS", "1", "2", "3", "AGGREGATE", "MAX"),
    ("ZRANGE", ZD, "0", "-1", "WITHSCORES"), ("ZINTERSTORE", ZD, "2", Z1, Z2),
    ("ZRANGE", ZD, "0", "-1", "WITHSCORES"), ("ZDIFFSTORE", ZD, "2", Z2, Z1),
    ("ZRANGE", ZD, "0", "-1", "WITHSCORES"), ("ZRANGESTORE", Z3, Z2, "0", "1"),
    ("ZRANGE", Z3, "0", "-1", "WITHSCORES"),
    ("ZMPOP", "2", "nozset", Z1, "MIN", "COUNT", "2"), ("ZMPOP", "2", Z1, Z2, "MAX"),
    ("BZPOPMIN", "nozset", Z2, "0"), ("BZPOPMAX", Z1, Z3, "0"),
    ("BZMPOP", "0", "3", "nozset", Z1, Z2, "MIN", "COUNT", "10"),
    ("ZUNIONSTORE", ZD, "2", Z2, S1), ("ZRANGE", ZD, "0", "-1", "WITHSCORES"),
    ("ZUNION", "2", Z3, A),
    # hashes moved by RENAME and COPY
    ("HSET", H1, "f", "1", "g", "2"), ("RENAME", H1, H2), ("HGETALL", H2), ("COPY", H2, HD),
    ("HGETALL", HD), ("EXISTS", H1, H2, HD),
    # HyperLogLog
    ("PFADD", A, "x", "y", "z"), ("PFADD", B, "z", "w"), ("PFCOUNT", A, B), ("PFCOUNT", A, B, C),
    ("PFMERGE", C, A, B), ("PFCOUNT", C), ("PFMERGE", D, A, B), ("PFCOUNT", D),
    # bit operations
    ("SET", B1, "foobar"), ("SET", B2, "abcdef"), ("BITOP", "AND", BD, B1, B2), ("GET", BD),
    ("BITOP", "OR", BD, B1, B2), ("GET", BD), ("BITOP", "XOR", BD, B1, B2, "nokey"), ("GET", BD),
    ("BITOP", "NOT", BD, B1), ("GET", BD), ("BITOP", "AND", BD, "nokey", "nokey2"), ("EXISTS", BD),
    # SORT with STORE on another worker
    ("RPUSH", L1, "3", "1", "2"), ("SORT", L1, "STORE", L2), ("LRANGE", L2, "0", "-1"),
    ("SORT", L1, "DESC", "LIMIT", "0", "2", "STORE", L3), ("LRANGE", L3, "0", "-1"),
    ("SADD", S3, "9", "8"), ("SORT", S3, "STORE", L2), ("LRANGE", L2, "0", "-1"),
    ("SORT", "nokey", "STORE", L2), ("EXISTS", L2),
    # transactions over several workers
    ("MULTI",), ("SET", A, "t1"), ("SET", B, "t2"), ("INCR", C), ("MGET", A, B, C),
    ("RENAME", A, F), ("EXEC",), ("MGET", A, B, C, F),
    ("MULTI",), ("LPUSH", L1, "m"), ("LMOVE", L1, L3, "LEFT", "LEFT"), ("PING",),
    ("SUNIONSTORE", SD, S2, S3), ("EXEC",), ("SCARD", SD), ("SMISMEMBER", SD, "str", "4", "99"),
    ("WATCH", W1, W2), ("MULTI",), ("MSET", W1, "1", W2, "2"), ("EXEC",), ("MGET", W1, W2),
    ("DBSIZE",), ("DEBUG", "DIGEST"),
]


def _pair(servers):
    shoal = servers.shoal(extra_args=["--worker-threads", str(WORKERS), "--enable-debug-command", "yes"],
                          base_args=SA)
    redis = servers.redis(extra_args=["--enable-debug-command", "yes"], base_args=SA)
    return shoal, redis


@pytest.mark.parametrize("proto", [2, 3])
def test_multi_key_commands_over_workers_match_redis(servers, proto):
    shoal, redis = _pair(servers)
    dh.assert_same(shoal, redis, SCENARIO, proto=proto)
    # pipelined too: later commands of the connection wait for a cross-worker one
    dh.assert_same(shoal, redis, SCENARIO, proto=proto, pipeline=True)


def test_watch_over_workers_sees_a_change(servers):
    """WATCH keys of two workers; a change to either (from another client) fails the
    EXEC, as on redis-server."""
    shoal, redis = _pair(servers)
    for srv in (shoal, redis):
        got = []
        for touched in (W1, W2, None):
            with srv.raw() as c, srv.raw() as other:
                c.call("MSET", W1, "0", W2, "0")
                assert c.call("WATCH", W1, W2) == "OK"
                if touched:
                    other.call("SET", touched, "changed")
                c.call("MULTI")
                c.call("SET", A, "done")
                c.call("SET", W1, "mine")
                got.append(c.call("EXEC"))
        assert got[:2] == [None, None], (srv.kind, got)
        assert got[2] == ["OK", "OK"], (srv.kind, got)


def test_cross_worker_calls_are_atomic(servers):
    """Concurrent clients: MSET of two keys on different workers is never seen half
    done by MGET; a key renamed back and forth between workers is always exactly one
    of the two names; a MULTI moving units between keys of two workers keeps the sum."""
    shoal = servers.shoal(extra_args=["--worker-threads", str(WORKERS)], base_args=SA)
    x, y = _on(0, "mx"), _on(1, "my")
    p, q = _on(1, "rp"), _on(2, "rq")
    u, v = _on(2, "tu"), _on(0, "tv")
    with shoal.raw() as c:
        c.call("MSET", x, "0", y, "0", p, "val", u, "1000", v, "1000")
    stop = time.monotonic() + 4.0
    problems = []

    def writer(tid):
        with shoal.raw() as c:
            n = 0
            while time.monotonic() < stop:
                n += 1
                val = f"{tid}-{n}"
                c.send(h.encode("MSET", x, val, y, val) + h.encode("MSET", y, val + "b", x, val + "b"))
                c.read(), c.read()

    def reader():
        with shoal.raw() as c:
            while time.monotonic() < stop:
                a, b = c.call("MGET", x, y)
                if a != b:
                    problems.append(("MGET", a, b))
                    return

    def renamer():
        with shoal.raw() as c:
            while time.monotonic() < stop:
                c.call("RENAME", p, q)
                c.call("RENAME", q, p)

    def rename_checker():
        with shoal.raw() as c:
            while time.monotonic() < stop:
                n = c.call("EXISTS", p, q)
                if n != 1:
                    problems.append(("EXISTS", n))
                    return

    def mover(seed):
        rng = random.Random(seed)
        with shoal.raw() as c:
            while time.monotonic() < stop:
                k = rng.randint(1, 5)
                c.send(h.encode("MULTI") + h.encode("DECRBY", u, str(k)) + h.encode("INCRBY", v, str(k))
                       + h.encode("EXEC"))
                replies = [c.read()[1] for _ in range(4)]
                assert replies[0] == "OK" and isinstance(replies[3], list), replies

    def sum_checker():
        with shoal.raw() as c:
            while time.monotonic() < stop:
                a, b = c.call("MGET", u, v)
                if int(a) + int(b) != 2000:
                    problems.append(("SUM", a, b))
                    return

    fns = [lambda i=i: writer(i) for i in range(3)] + [reader, reader, renamer, renamer, rename_checker,
                                                       lambda: mover(1), lambda: mover(2), sum_checker]
    errors = []

    def run(fn):
        try:
            fn()
        except Exception as e:   # reported below with the thread's function
            errors.append(repr(e))
    threads = [threading.Thread(target=run, args=(fn,)) for fn in fns]
    for t in threads:
        t.start()
    for t in threads:
        t.join(60)
    assert not errors, errors
    assert not problems, problems
    with shoal.raw() as c:
        a, b = c.call("MGET", x, y)
        assert a == b
        assert c.call("EXISTS", p, q) == 1
        assert sum(int(z) for z in c.call("MGET", u, v)) == 2000


@pytest.mark.parametrize("mkind", ["shoal", "redis"])
def test_replica_applies_cross_worker_commands(servers, mkind):
    """A shoal replica with several workers applies its master's RENAME, SUNIONSTORE,
    SMOVE, ZUNIONSTORE, PFMERGE, BITOP, COPY and MULTI/EXEC over keys of several workers:
    its data ends as the master's (DEBUG DIGEST)."""
    dbg = ["--enable-debug-command", "yes"]
    if mkind == "shoal":
        master = servers.shoal(extra_args=["--worker-threads", str(WORKERS)] + dbg, base_args=SA)
    else:
        master = servers.redis(extra_args=dbg, base_args=SA)
    replica = servers.shoal(extra_args=["--worker-threads", str(WORKERS)] + dbg, base_args=SA)
    with replica.raw() as c:
        assert c.call("REPLICAOF", "127.0.0.1", str(master.port)) == "OK"
    h.wait_until(lambda: h.info_dict(replica.raw().call("INFO", "replication")).get("master_link_status")
                 == "up", 30, what="link up")
    cmds = [cmd for cmd in SCENARIO if cmd[0] not in ("FLUSHALL", "DEBUG", "WATCH")]
    with master.raw(timeout=10) as c:
        for cmd in cmds:
            c.call(*cmd)
        assert c.call("WAIT", "1", "5000") == 1

    def digest(srv):
        with srv.raw() as c:
            return c.call("DEBUG", "DIGEST")
    h.wait_until(lambda: digest(replica) == digest(master), 10, what="equal digests")


# --- blocking pops over keys of several workers ---------------------------------------

def _blocked_count(srv):
    with srv.raw() as c:
        return int(h.info_dict(c.call("INFO", "clients"))["blocked_clients"])


def _wait_blocked(srv, n):
    h.wait_until(lambda: _blocked_count(srv) == n, 10, what=f"{n} blocked clients")


def _blocking_story(srv):
    """What a few clients blocked on keys of different workers get back, in order."""
    out = []
    with srv.raw(timeout=10) as c1, srv.raw(timeout=10) as c2, srv.raw(timeout=10) as p:
        p.call("DEL", A, B, C, L1, L2, Z1, Z2)
        # a waiter on keys of workers 0 and 1, served by a push to either (two waiters
        # on different connections may sit on different workers, whose order shoal does
        # not keep: docs/types.md section 6)
        c1.send(h.encode("BLPOP", A, B, "0"))
        _wait_blocked(srv, 1)
        out.append(p.call("RPUSH", B, "x"))
        out.append(c1.read()[1])
        c2.send(h.encode("BLPOP", B, A, "0"))
        _wait_blocked(srv, 1)
        out.append(p.call("LPUSH", A, "y"))
        out.append(c2.read()[1])
        out.append(p.call("LRANGE", A, "0", "-1"))
        # BLMOVE from worker 0 to worker 2, filled by a transaction
        c1.send(h.encode("BLMOVE", L1, C, "RIGHT", "LEFT", "0"))
        _wait_blocked(srv, 1)
        p.send(h.encode("MULTI") + h.encode("RPUSH", L1, "m1", "m2") + h.encode("SET", L2, "s")
               + h.encode("EXEC"))
        out.append([p.read()[1] for _ in range(4)])
        out.append(c1.read()[1])
        out.append(p.call("LRANGE", C, "0", "-1"))
        out.append(p.call("LRANGE", L1, "0", "-1"))
        # sorted sets
        c2.send(h.encode("BZPOPMIN", Z1, Z2, "0"))
        _wait_blocked(srv, 1)
        out.append(p.call("ZADD", Z2, "3", "m"))
        out.append(c2.read()[1])
        c2.send(h.encode("BZMPOP", "0", "2", Z1, Z2, "MAX", "COUNT", "2"))
        _wait_blocked(srv, 1)
        out.append(p.call("ZADD", Z1, "1", "a", "2", "b", "3", "c"))
        out.append(c2.read()[1])
        # a timeout answers a null array after the time
        t0 = time.monotonic()
        out.append(c1.call("BLPOP", _on(0, "empty"), _on(1, "empty"), "0.3"))
        took = time.monotonic() - t0
        assert 0.25 <= took < 3, took
        # CLIENT UNBLOCK, both forms
        cid = c1.call("CLIENT", "ID")
        c1.send(h.encode("BRPOP", A, B, "0"))
        _wait_blocked(srv, 1)
        out.append(p.call("CLIENT", "UNBLOCK", str(cid)))
        out.append(c1.read()[1])
        c1.send(h.encode("BRPOP", A, B, "0"))
        _wait_blocked(srv, 1)
        out.append(p.call("CLIENT", "UNBLOCK", str(cid), "ERROR"))
        out.append(c1.read()[1])
        # a closed waiter is gone; the next push stays in the list
        c2.send(h.encode("BLPOP", A, B, "0"))
        _wait_blocked(srv, 1)
    _wait_blocked(srv, 0)
    with srv.raw() as p:
        out.append(p.call("RPUSH", A, "kept"))
        out.append(p.call("LRANGE", A, "0", "-1"))
        # inside MULTI a blocking pop never waits
        p.send(h.encode("MULTI") + h.encode("BLPOP", L1, L2, "0") + h.encode("EXEC"))
        out.append([p.read()[1] for _ in range(3)])
    return out


def test_blocking_pops_wait_across_workers(servers):
    """BLPOP/BRPOP/BLMOVE/BZPOPMIN/BZMPOP whose keys several workers keep wait, are
    served by pushes (plain, or from MULTI/EXEC), time out, answer CLIENT UNBLOCK and
    leave when their client closes, as on redis-server."""
    shoal, redis = _pair(servers)
    want = _blocking_story(redis)
    got = _blocking_story(shoal)
    assert got == want


def test_blocking_pops_across_workers_lose_nothing(servers):
    """Consumers blocked on lists of three workers, producers pushing to them: every
    element is popped exactly once, none is left behind (no wake-up is lost)."""
    shoal = servers.shoal(extra_args=["--worker-threads", str(WORKERS)], base_args=SA)
    keys = [_on(0, "q"), _on(1, "q"), _on(2, "q")]
    per_producer = 600
    got, errors = [], []
    lock = threading.Lock()
    done = threading.Event()

    def producer(pid):
        with shoal.raw(timeout=10) as c:
            for i in range(per_producer):
                c.call("RPUSH", keys[i % 3], f"{pid}-{i}")

    def consumer(cid):
        with shoal.raw(timeout=10) as c:
            order = keys[cid % 3:] + keys[:cid % 3]
            while not done.is_set():
                r = c.call("BLPOP", *order, "0.2")
                if r is not None:
                    with lock:
                        got.append(r[1])

    def run(fn, arg):
        try:
            fn(arg)
        except Exception as e:   # reported below
            errors.append(repr(e))
    cons = [threading.Thread(target=run, args=(consumer, i)) for i in range(4)]
    prods = [threading.Thread(target=run, args=(producer, i)) for i in range(2)]
    for t in cons + prods:
        t.start()
    for t in prods:
        t.join(60)
    h.wait_until(lambda: len(got) >= 2 * per_producer or errors, 20, what="every element popped")
    done.set()
    for t in cons:
        t.join(10)
    assert not errors, errors
    assert sorted(got) == sorted(f"{p}-{i}".encode() for p in range(2) for i in range(per_producer))
    with shoal.raw() as c:
        assert c.call("EXISTS", *keys) == 0


def test_cluster_mode_keeps_crossslot(servers):
    """With cluster-enabled yes nothing changes: every multi-key command (and a
    transaction) over keys of different slots answers CROSSSLOT, as redis-server in
    cluster mode, whichever workers keep the keys."""
    shoal = servers.shoal(extra_args=["--worker-threads", str(WORKERS)])
    redis = servers.redis()
    for srv in (shoal, redis):
        h.own_all_slots(srv)
    cmds = [cmd for cmd in SCENARIO if cmd[0] not in ("FLUSHALL", "DEBUG", "DBSIZE", "PING", "PTTL")]
    # keys of different slots: CROSSSLOT (or the same reply on both, for one-key calls)
    dh.assert_same(shoal, redis, cmds, proto=2)
