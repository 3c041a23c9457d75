"""WATCH and key expiry compared with redis-server 7.0.15.

What it is for: 7.0.15 records at WATCH time whether a key is already logically expired.
At EXEC, a watched key that was alive then but is past its TTL now fails the EXEC (null
reply), deleted or not; a key already expired when watched does not fail it when its
expiry, a read or a FLUSHALL deletes it (a write to it still does). Each test runs the
same script on a standalone shoal node with two workers (keys of either worker, the
client on one of them, and a WATCH over both) and on redis-server, with active expiry
off so that expired keys stay until something deletes them, and compares what EXEC
answers and which flags CLIENT LIST shows.

What it must never do: depend on timing beyond what it checks (a key meant to be alive
when watched is given a TTL far longer than the WATCH took, and the test waits for TTLs
on the wall clock both servers share), or stop a process it did not start.
"""
import time

import pytest

import helpers as h

SA = "standalone"
ALIVE_MS = 3000      # a TTL that the WATCHes right after the SET surely beat
GONE_MS = 50         # a TTL that has passed before the WATCH


def _on_worker(index, n=2):
    return [k for k in ("k%d" % i for i in range(300)) if h.key_slot(k) % n == index]


W0, W1 = _on_worker(0), _on_worker(1)


def _node(servers, kind):
    if kind == "shoal":
        return servers.shoal(base_args=SA, extra_args=["--worker-threads", "2", "--enable-debug-command", "yes"])
    return servers.redis(base_args=SA, extra_args=["--enable-debug-command", "yes"])


def _flags(k, cid):
    lines = [ln for ln in k.call("CLIENT", "LIST").decode().splitlines() if f"id={cid} " in ln]
    assert len(lines) == 1, lines
    return dict(f.split("=", 1) for f in lines[0].split(" "))["flags"]


def _until_past(deadline):
    """Sleeps until the wall clock (the servers' too) is past deadline (seconds)."""
    while time.time() <= deadline:
        time.sleep(min(0.05, max(0.0, deadline - time.time()) + 0.001))


def _exec(a):
    assert a.call("MULTI") == "OK" and a.call("PING") == "QUEUED"
    return a.call("EXEC")


def _expiry_script(srv):
    """Cases, one client each (x: a key already expired when watched, y: alive when
    watched and past its TTL at EXEC), for a key of each worker:
      alive      WATCH y; EXEC                          (y expired, not deleted yet)
      alive_read WATCH y; another client reads y; EXEC  (y deleted by the read)
      gone       WATCH x; EXEC                          (x expired, not deleted yet)
      gone_read  WATCH x; another client reads x; EXEC
      gone_set   WATCH x2 (as x); another client SETs x2; EXEC
      both       WATCH x y (x on the other worker); x read; EXEC
      gone_pair  WATCH x, a key of the other worker that stays; x read; EXEC
    then, with active expiry on, WATCH x and wait for active expiry to delete it; and
    WATCH x, FLUSHALL."""
    out = {}
    with srv.raw(timeout=10) as k:
        assert k.call("DEBUG", "SET-ACTIVE-EXPIRE", "0") == "OK"
        conns = {}
        try:
            for wi, (mine, other) in enumerate(((W0, W1), (W1, W0))):
                x, y, ox, stay, x2 = mine[0], mine[1], other[2], other[3], mine[5]
                assert k.call("SET", x, "v", "PX", str(GONE_MS)) == "OK"
                assert k.call("SET", x2, "v", "PX", str(GONE_MS)) == "OK"
                assert k.call("SET", ox, "v", "PX", str(GONE_MS)) == "OK"
                assert k.call("SET", stay, "v") == "OK"
                _until_past(time.time() + GONE_MS / 1000 + 0.05)
                t0 = time.time()                       # y's TTL ends after t0 + ALIVE_MS ...
                assert k.call("SET", y, "v", "PX", str(ALIVE_MS)) == "OK"
                t1 = time.time()                       # ... and not after t1 + ALIVE_MS
                cases = {"alive": [y], "alive_read": [y], "gone": [x], "gone_read": [x], "gone_set": [x2],
                         "both": [ox, y], "gone_pair": [x, stay]}
                for name, keys in cases.items():
                    a = conns[(wi, name)] = srv.raw(timeout=10)
                    assert a.call("WATCH", *keys) == "OK"
                # every WATCH ran before y's TTL ended (else the case is not the one meant)
                assert time.time() - t0 < ALIVE_MS / 1000 - 0.1, "the WATCHes took too long"
                _until_past(t1 + ALIVE_MS / 1000 + 0.05)
                ids = {name: conns[(wi, name)].call("CLIENT", "ID") for name in cases}
                before = {name: _flags(k, ids[name]) for name in cases}
                for name in ("alive", "gone"):          # before anything deletes x or y
                    out[(wi, name)] = (before[name], _exec(conns[(wi, name)]))
                    del cases[name]
                # the reads: y deleted as expired, x (and ox) deleted as expired, x2 written
                assert k.call("GET", y) is None
                assert k.call("GET", x) is None and k.call("GET", ox) is None
                assert k.call("SET", x2, "new") == "OK"
                after = {name: _flags(k, ids[name]) for name in cases}
                for name in cases:
                    out[(wi, name)] = (before[name], after[name], _exec(conns[(wi, name)]))
                assert k.call("FLUSHALL") == "OK"
            # active expiry deleting a key already expired when watched, then a FLUSHALL
            for wi, mine in enumerate((W0, W1)):
                x = mine[4]
                assert k.call("SET", x, "v", "PX", str(GONE_MS)) == "OK"
                _until_past(time.time() + GONE_MS / 1000 + 0.05)
                a = conns[(wi, "active")] = srv.raw(timeout=10)
                assert a.call("WATCH", x) == "OK"
                assert k.call("DEBUG", "SET-ACTIVE-EXPIRE", "1") == "OK"
                h.wait_until(lambda: k.call("DBSIZE") == 0, 20, what="active expiry deleting the key")
                assert k.call("DEBUG", "SET-ACTIVE-EXPIRE", "0") == "OK"
                out[(wi, "active")] = _exec(a)
                assert k.call("SET", x, "v", "PX", str(GONE_MS)) == "OK"
                _until_past(time.time() + GONE_MS / 1000 + 0.05)
                assert a.call("WATCH", x) == "OK" and k.call("FLUSHALL") == "OK"
                out[(wi, "flushall")] = _exec(a)
        finally:
            k.call("DEBUG", "SET-ACTIVE-EXPIRE", "1")
            for c in conns.values():
                c.close()
    return out


def test_watch_and_expiry_as_redis(servers):
    """Failed before: an EXEC ran although a key alive when watched had passed its TTL
    but was not deleted yet (alive), and a key already expired when watched failed the EXEC, flagged d, once
    a read, active expiry or FLUSHALL deleted it (gone_read, gone_pair, active, flushall)."""
    got = {kind: _expiry_script(_node(servers, kind)) for kind in ("redis", "shoal")}
    assert got["shoal"] == got["redis"], got
    pong = [b"PONG"] if isinstance(got["redis"][(0, "active")][0], bytes) else ["PONG"]
    for wi in (0, 1):
        assert got["redis"][(wi, "alive")] == ("N", None)
        assert got["redis"][(wi, "gone")] == ("N", pong)
        assert got["redis"][(wi, "alive_read")] == ("N", "d", None)
        assert got["redis"][(wi, "gone_read")] == ("N", "N", pong)
        assert got["redis"][(wi, "active")] == pong


def _many_keys_script(srv):
    with srv.raw(timeout=10) as a, srv.raw(timeout=10) as k:
        keys = ["w%d" % i for i in range(100)]
        out = []
        for touched in (keys[-1], keys[0]):
            assert a.call("WATCH", *keys) == "OK"
            assert k.call("SET", touched, "x") == "OK"
            out.append(_exec(a))
        return out


def test_a_watch_of_more_than_64_keys_sees_them_all(servers):
    """Failed before: only the first 64 keys of a WATCH were watched, so a write to the
    100th let the EXEC run."""
    got = {kind: _many_keys_script(_node(servers, kind)) for kind in ("redis", "shoal")}
    assert got["shoal"] == got["redis"] == [None, None], got


def _holders_script(srv, kind):
    """Writes on another connection (another worker: shoal deals connections over both)
    while the node's only WATCH comes and goes: versions are bumped only while someone
    watches (watch.h), which must never let a write after a WATCH through."""
    out = []
    if kind == "shoal":
        h.spread_connections(srv)
    with srv.raw(timeout=10) as a, srv.raw(timeout=10) as b, srv.raw(timeout=10) as c:
        for k, other in ((W0[10], W0[11]), (W1[10], W1[11])):
            assert a.call("WATCH", k) == "OK" and b.call("SET", k, "1") == "OK"
            out.append(_exec(a))                                   # the first WATCH on the node
            assert a.call("WATCH", k) == "OK" and a.call("UNWATCH") == "OK"
            assert b.call("SET", k, "2") == "OK"                   # nobody watches: no bump
            assert a.call("WATCH", k) == "OK"
            out.append(_exec(a))                                   # watched after it: runs
            assert a.call("WATCH", k) == "OK" and b.call("SET", other, "3") == "OK"
            out.append(_exec(a))
            # another client's WATCH ends (EXEC, then a closed connection): a's still counts
            assert a.call("WATCH", k) == "OK" and c.call("WATCH", other) == "OK"
            out.append(_exec(c))
            with srv.raw(timeout=10) as d:
                assert d.call("WATCH", other) == "OK"
            assert b.call("INCR", k) == 3
            out.append(_exec(a))
    return out


def test_watch_sees_writes_from_another_worker_whoever_else_watches(servers):
    """The guard of skipping the version bump while nobody watches: the first WATCH, one after
    an UNWATCH, one that outlives other clients' WATCHes, each sees a later write from a
    connection on another worker, and only such a write fails its EXEC. Passes before and after."""
    got = {kind: _holders_script(_node(servers, kind), kind) for kind in ("redis", "shoal")}
    pong = got["redis"][1]
    assert got["shoal"] == got["redis"] == [None, pong, pong, pong, None] * 2, got


SWAP_CASES = [   # the values of x in databases 0 and 1 before SWAPDB 0 1 (PX: expired before the WATCH)
    ("expired_absent", [(0, "PX")]), ("expired_expired", [(0, "PX"), (1, "PX")]),
    ("absent_expired", [(1, "PX")]), ("expired_live", [(0, "PX"), (1, None)]),
    ("live_absent", [(0, None)]), ("live_expired", [(0, None), (1, "PX")]),
]


def _swapdb_script(srv):
    """A client WATCHes x in database 0, another x in database 1, then SWAPDB 0 1."""
    seen = []
    with srv.raw(timeout=10) as a, srv.raw(timeout=10) as b, srv.raw(timeout=10) as k:
        assert b.call("SELECT", "1") == "OK"
        assert k.call("DEBUG", "SET-ACTIVE-EXPIRE", "0") == "OK"
        try:
            for name, values in SWAP_CASES:
                assert k.call("FLUSHALL") == "OK"
                for db, px in values:
                    assert k.call("SELECT", str(db)) == "OK"
                    assert k.call("SET", "x", "v", *(("PX", str(GONE_MS)) if px else ())) == "OK"
                _until_past(time.time() + GONE_MS / 1000 + 0.05)
                assert a.call("WATCH", "x") == "OK" and b.call("WATCH", "x") == "OK"
                assert k.call("SWAPDB", "0", "1") == "OK"
                seen.append((name, _exec(a), _exec(b)))
            # alive when watched, expired by the SWAPDB, nothing in database 1: a change
            assert k.call("FLUSHALL") == "OK" and k.call("SELECT", "0") == "OK"
            t0 = time.time()
            assert k.call("SET", "x", "v", "PX", str(ALIVE_MS)) == "OK"
            t1 = time.time()
            assert a.call("WATCH", "x") == "OK"
            assert time.time() - t0 < ALIVE_MS / 1000 - 0.1, "the WATCH took too long"
            _until_past(t1 + ALIVE_MS / 1000 + 0.05)
            assert k.call("SWAPDB", "0", "1") == "OK"
            seen.append(("alive_then_expired", _exec(a)))
        finally:
            k.call("DEBUG", "SET-ACTIVE-EXPIRE", "1")
    return seen


def test_swapdb_and_expired_values_as_redis(servers):
    """7.0.15's SWAPDB fails a WATCH only where a live value is involved or a value that was
    alive when watched expired: an expired value that leaves or arrives (nothing live on
    either side) is no change. Failed before: every name present in either database failed
    both WATCHes (expired_absent, expired_expired, absent_expired)."""
    got = {kind: _swapdb_script(_node(servers, kind)) for kind in ("redis", "shoal")}
    assert got["shoal"] == got["redis"], got
    pong = got["redis"][0][1]
    assert [x[1:] for x in got["redis"]] == [(pong, pong)] * 3 + [(None, None)] * 3 + [(None,)]


def _xworker_expiry_script(srv):
    """WATCH y (alive), y's TTL passes, then another connection's MGET x y, x of the other
    worker, deletes y as expired: a call over both workers, run by the reader's worker with
    y moved in from its owner (xcmd.c). For y of either worker: whichever worker the reader
    is on, one of the two deletions happens away from y's owner."""
    out = []
    with srv.raw(timeout=10) as k, srv.raw(timeout=10) as rd:
        assert k.call("DEBUG", "SET-ACTIVE-EXPIRE", "0") == "OK"
        watchers = []
        try:
            pairs = [(W0[20], W1[20]), (W1[21], W0[21])]     # (y, x)
            for y, x in pairs:
                assert k.call("SET", x, "1") == "OK"
            t0 = time.time()
            for y, x in pairs:
                assert k.call("SET", y, "v", "PX", str(ALIVE_MS)) == "OK"
            t1 = time.time()
            for y, x in pairs:
                a = srv.raw(timeout=10)
                watchers.append(a)
                assert a.call("WATCH", y) == "OK"
            assert time.time() - t0 < ALIVE_MS / 1000 - 0.1, "the WATCHes took too long"
            _until_past(t1 + ALIVE_MS / 1000 + 0.05)
            for y, x in pairs:
                out.append(rd.call("MGET", x, y))
            for a in watchers:
                out.append(_exec(a))
        finally:
            k.call("DEBUG", "SET-ACTIVE-EXPIRE", "1")
            for a in watchers:
                a.close()
    return out


def test_expiry_by_a_call_over_both_workers_fails_the_exec(servers):
    """A key alive when watched, past its TTL and deleted by a read that spans both workers
    (run on the reader's worker with the key moved in): 7.0.15 fails the EXEC. Failed before:
    that deletion was noted in the reading worker's tables, not the key owner's, so the EXEC
    of one of the two cases ran."""
    got = {kind: _xworker_expiry_script(_node(servers, kind)) for kind in ("redis", "shoal")}
    assert got["shoal"] == got["redis"], got
    assert got["redis"][2:] == [None, None], got
