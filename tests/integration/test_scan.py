"""SCAN over a keyspace spread across several worker threads, compared with redis-server 7.0.15.

The cursor names a worker and that worker's own (bit-reversed) cursor; one call fills its
reply from consecutive workers until COUNT is reached, so a keyspace smaller than COUNT
comes back whole with cursor 0 in one call, as on redis-server. Keys present for the whole
iteration are returned at least once even while other keys are added and deleted (the
tables grow and shrink between calls).
"""
import threading

import pytest

import helpers as h

WORKERS = "4"


@pytest.fixture
def shoal(servers):
    """A node of WORKERS worker threads owning every slot (the shared snode may run
    one worker; SCAN must cross several)."""
    srv = servers.shoal(extra_args=["--worker-threads", WORKERS])
    h.own_all_slots(srv)
    return srv


def _load_types(conn, n):
    """n keys of every type (string, list, set, hash, zset) on conn."""
    for i in range(n):
        assert conn.call("SET", f"s:{i}", "v") == "OK"
        assert conn.call("RPUSH", f"l:{i}", "a", "b") == 2
        assert conn.call("SADD", f"t:{i}", "x") == 1
        assert conn.call("HSET", f"h:{i}", "f", "v") == 1
        assert conn.call("ZADD", f"z:{i}", "1", "m") == 1


def test_scan_small_keyspace_answers_in_one_call(shoal, sref):
    with shoal.raw() as c, sref.raw() as r:
        for n in range(1, 10):   # fewer keys than the default COUNT 10
            for conn in (c, r):
                assert conn.call("SET", f"key:{n}", "v") == "OK"
            mine, theirs = c.call("SCAN", "0"), r.call("SCAN", "0")
            assert theirs[0] == b"0", theirs
            # The keys live on several workers, yet one call returns them all.
            assert mine[0] == b"0", (n, mine)
            assert sorted(mine[1]) == sorted(theirs[1]), n
            for count in ("10", "20", "1000"):
                mine, theirs = c.call("SCAN", "0", "COUNT", count), r.call("SCAN", "0", "COUNT", count)
                assert mine[0] == theirs[0] == b"0", (n, count, mine, theirs)
                assert sorted(mine[1]) == sorted(theirs[1])
        # Same small set with a MATCH that keeps some of them.
        for pat in ("key:1*", "key:?", "nomatch"):
            mine, theirs = c.call("SCAN", "0", "MATCH", pat), r.call("SCAN", "0", "MATCH", pat)
            assert mine[0] == theirs[0] == b"0", pat
            assert sorted(mine[1]) == sorted(theirs[1]), pat
        assert c.call("DBSIZE") == r.call("DBSIZE") == 9


def test_scan_type_filter_every_type_matches_redis(shoal, sref):
    with shoal.raw(timeout=20) as c, sref.raw(timeout=20) as r:
        _load_types(c, 40)
        _load_types(r, 40)
        for typ in ("string", "list", "set", "hash", "zset", "STRING", "Hash", "stream", "bogus"):
            for extra in ((), ("COUNT", "7"), ("COUNT", "1000"), ("MATCH", "*:1*")):
                mine, _ = h.scan_all(c, "TYPE", typ, *extra)
                theirs, _ = h.scan_all(r, "TYPE", typ, *extra)
                assert len(mine) == len(set(mine)), (typ, extra)
                assert sorted(mine) == sorted(theirs), (typ, extra)
        for count in ("1", "3", "10", "50", "1000"):
            mine, calls = h.scan_all(c, "COUNT", count)
            assert len(mine) == len(set(mine)) == 200, count
            theirs, _ = h.scan_all(r, "COUNT", count)
            assert sorted(mine) == sorted(theirs)
            if count == "1000":
                assert calls == 1
        # Argument errors are the same.
        for args in (("SCAN", "abc"), ("SCAN", "0", "COUNT", "0"), ("SCAN", "0", "TYPE"),
                     ("SCAN", "0", "COUNT", "-1"), ("SCAN", "0", "MATCH", "a", "BOGUS", "1")):
            assert c.raw(*args) == r.raw(*args), args


def test_scan_count_bounds_each_reply(shoal):
    """With more keys than COUNT a reply stops near COUNT and hands back a cursor that
    resumes exactly where it stopped (no key twice on a static keyspace)."""
    keys = {f"k{i}".encode() for i in range(1000)}
    h.set_keys(shoal, list(keys))
    with shoal.raw(timeout=20) as c:
        cursor, seen, calls = b"0", [], 0
        while True:
            cursor, batch = c.call("SCAN", cursor, "COUNT", "20")
            seen.extend(batch)
            calls += 1
            # a bucket chain can add a few; two workers' parts at most
            assert len(batch) < 60, len(batch)
            if cursor == b"0":
                break
        assert calls >= 1000 // 60
        assert len(seen) == len(set(seen)) and set(seen) == keys


def test_scan_returns_every_stable_key_under_concurrent_writes(shoal):
    """Keys present for the whole scan come back at least once while another client adds
    and deletes thousands of keys (every worker's table grows and shrinks meanwhile)."""
    stable = {f"stable:{i}".encode() for i in range(3000)}
    h.set_keys(shoal, list(stable))
    stop = threading.Event()
    errors = []
    rounds = [0]

    def churn():
        try:
            with shoal.raw(timeout=30) as w:
                rnd = 0
                while not stop.is_set():
                    batch = [f"tmp:{rnd}:{i}" for i in range(4000)]
                    w.send(b"".join(h.encode("SET", k, "x") for k in batch))
                    for _ in batch:
                        w.read()
                    w.send(b"".join(h.encode("DEL", k) for k in batch))
                    for _ in batch:
                        assert w.read()[1] == 1
                    rnd += 1
                    rounds[0] = rnd
        except Exception as e:  # reported by the main thread
            errors.append(e)

    t = threading.Thread(target=churn, daemon=True)
    t.start()
    try:
        with shoal.raw(timeout=30) as c:
            for count in ("5", "50", "400"):
                seen, calls = h.scan_all(c, "COUNT", count)
                missing = stable - set(seen)
                assert not missing, (count, len(missing), sorted(missing)[:5])
                assert calls > 1
            seen, _ = h.scan_all(c, "MATCH", "stable:*", "COUNT", "100")
            assert set(seen) == stable
    finally:
        stop.set()
        t.join(timeout=60)
    assert not errors, errors
    assert rounds[0] >= 1, "the writer never completed a round during the scans"


def test_redis_py_cluster_scan_iter_sees_every_key(shoal):
    """redis-py's cluster client scans each node once per cursor chain."""
    from redis.cluster import RedisCluster
    keys = {f"rp:{i}" for i in range(500)}
    h.set_keys(shoal, list(keys))
    rc = RedisCluster(host="127.0.0.1", port=shoal.port, socket_timeout=10)
    try:
        got = {k.decode() for k in rc.scan_iter(count=10)}
        assert got == keys
        rc.flushall()
        rc.mset_nonatomic({f"n{i}": "v" for i in range(9)})
        # One SCAN per node, as redis-py sends it: the only node answers all 9 and cursor 0.
        cursors, batch = rc.scan(0, target_nodes=RedisCluster.ALL_NODES)
        assert list(cursors.values()) == [0], cursors
        assert sorted(batch) == [f"n{i}".encode() for i in range(9)]
    finally:
        rc.close()
