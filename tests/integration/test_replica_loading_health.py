"""A replica in a full sync shows as `loading` in CLUSTER SHARDS, on its master and on itself.

What it is for: Redis's test suites (its 28-cluster-shards checks it). 7.0.15 puts its
master link's offset in every bus header, and from a FULLRESYNC until the RDB is loaded
there is none: 0, which peers show as health `loading` (and CLUSTER SLOTS leaves the
replica out). A full sync is forced as Redis's test does: the master's backlog is made
small with CONFIG SET repl-backlog-size (which takes effect at once, at least 16 KB) and
the replica misses more than that; key-load-delay makes the load last. Both servers run
the same scenario.

What it must never do: relax an expectation to match our node; leave a process stopped
(every SIGSTOP has its SIGCONT in a finally); signal a process it did not start.
"""
import os
import signal

import pytest

import helpers as h
import bushelpers as bh


def _shard_node(server, node_id):
    with server.raw() as c:
        shards = c.call("CLUSTER", "SHARDS")
    for sh in shards:
        d = {sh[i].decode(): sh[i + 1] for i in range(0, len(sh), 2)}
        for n in d["nodes"]:
            nd = {n[i].decode(): n[i + 1] for i in range(0, len(n), 2)}
            if nd["id"].decode() == node_id:
                return nd
    return None


def _health(server, node_id):
    n = _shard_node(server, node_id)
    return n and n["health"].decode()


@pytest.mark.parametrize("kind", ["redis", "shoal"])
def test_replica_loading_health(servers, kind):
    make = servers.redis if kind == "redis" else servers.shoal
    # The keys are written before the first sync, so the master's offset (which the replica
    # needs above 0 to count as online) grows only with its PINGs to the replica: every
    # second, not every 10 s.
    m, r = make(["--repl-ping-replica-period", "1"]), make()
    with m.raw() as c:
        assert c.call("CLUSTER", "ADDSLOTSRANGE", "0", "16383") == "OK"
    with r.raw() as c:
        assert c.call("CLUSTER", "MEET", "127.0.0.1", str(m.port)) == "OK"
    bh.wait_healthy([m, r], 2, timeout=30)
    mid, rid = bh.myid(m), bh.myid(r)
    with m.raw() as c:
        for i in range(2000):
            c.send(h.encode("SET", "{a}%d" % i, "v" * 100))
        for i in range(2000):
            c.read()
    with r.raw() as c:
        assert c.call("CLUSTER", "REPLICATE", mid) == "OK"

    def online_replica():
        n = _shard_node(m, rid)
        return n and n["role"] == b"replica" and n["health"] == b"online"
    h.wait_until(online_replica, 30, interval=0.1, what=f"{kind}: the master seeing an online replica")
    h.wait_until(lambda: _health(r, rid) == "online", 30, interval=0.1,
                 what=f"{kind}: the replica seeing itself online")

    with r.raw() as c:
        assert c.call("CONFIG", "SET", "key-load-delay", "3000") == "OK"   # 3 ms a key: ~6 s
        assert c.call("CONFIG", "SET", "loading-process-events-interval-bytes", "1024") == "OK"
    with m.raw() as c:
        assert c.call("CONFIG", "SET", "repl-backlog-size", "100") == "OK"
    os.kill(r.pid, signal.SIGSTOP)
    try:
        with m.raw() as c:
            assert c.call("CLIENT", "KILL", "TYPE", "replica") == 1
            for i in range(100):
                c.send(h.encode("SET", "{a}big%d" % i, "A" * 1024))
            for i in range(100):
                assert c.read()[1] == "OK"
    finally:
        os.kill(r.pid, signal.SIGCONT)

    h.wait_until(lambda: _health(m, rid) == "loading", 20, interval=0.05,
                 what=f"{kind}: the master seeing the replica loading")
    with m.raw() as c:
        slots = c.call("CLUSTER", "SLOTS")
    assert len(slots) == 1 and len(slots[0]) == 3, (kind, slots)      # not listed while loading
    with r.raw(timeout=10) as c:
        assert c.call("CONFIG", "SET", "key-load-delay", "0") == "OK"
    h.wait_until(lambda: _health(m, rid) == "online", 30, interval=0.1,
                 what=f"{kind}: the master seeing the replica online again")
    h.wait_until(lambda: _health(r, rid) == "online", 30, interval=0.1,
                 what=f"{kind}: the replica seeing itself online again")
