"""repl-diskless-load on a replica (disabled / on-empty-db / swapdb), as redis-server 7.0.15.

What it is for: Redis's cluster suite 17-diskless-load-swapdb and anyone who runs a
replica with `repl-diskless-load swapdb`: while a full sync from a master that continues
the replica's own history loads, the replica keeps serving its old data (INFO
async_loading:1, loading:0; commands flagged no_async_loading get -LOADING); a transfer
that fails half-way leaves the old keys and the slot -> keys index (CLUSTER
GETKEYSINSLOT) as they were; a completed one replaces the data in one moment. A load that
7.0.15 does not run asynchronously (swapdb from another history, on-empty-db with no
keys) answers -LOADING (INFO loading:1) until it is done.

How: a two-node cluster (master, replica). The replica is stopped (SIGSTOP), its link
killed on the master and more than the backlog written, so that when it runs again its
PSYNC falls back to a full sync from the same replication id; the master saves slowly
(rdb-key-save-delay) so that the load is seen half-way. redis-server as the replica runs
the same scenario and checks the expectations.

What it must never do: relax an expectation to match our node; signal a process it did
not start.
"""
import signal

import pytest

import helpers as h
import bushelpers as bh
import replhelpers as rh

SLOT0_KEY = "06S"           # hashes to slot 0, as in Redis's suite
NEW_KEYS = 2000
SAVE_DELAY_US = 1000        # ~2 s of transfer: long enough to look at it half-way
LOADING = "LOADING Redis is loading the dataset in memory"

# rdbcompression no: the values would shrink to a few bytes each, and redis-server's
# diskless child would send the whole RDB in one or two 16 KB flushes at its end
MASTER_CONFIG = (("repl-diskless-sync", "yes"), ("repl-diskless-sync-delay", 0), ("rdbcompression", "no"))
PAIRS = [("shoal", "shoal"), ("redis", "shoal"), ("redis", "redis")]


def _persist(srv):
    return rh.info(srv, "persistence")


def _readonly(srv):
    c = srv.raw()
    assert c.call("READONLY") == "OK"
    return c


def _replica_config(r, mode):
    assert rh.config_set(r, "repl-diskless-load", mode) == "OK"
    # redis-server answers clients between reads of this many bytes while it loads
    # (2 MB by default: more than these tests' RDBs); Redis's own suites set it so too
    assert rh.config_set(r, "loading-process-events-interval-bytes", 1024) == "OK"


def _setup(servers, master_kind, replica_kind):
    m, r = rh.start(servers, master_kind), rh.start(servers, replica_kind)
    for name, value in MASTER_CONFIG + (("repl-backlog-size", 16384),):
        assert rh.config_set(m, name, value) == "OK"
    _replica_config(r, "swapdb")
    bh.master_with_replica(m, r)
    rh.wait_link_up(r)
    with m.raw() as c:
        assert c.call("SET", SLOT0_KEY, "1") == "OK"
        for i in range(20):
            assert c.call("SET", f"old{i}", "x") == "OK"
    rh.wait_offsets_equal(m, r)
    with _readonly(r) as c:
        assert c.call("GET", SLOT0_KEY) == b"1"
        assert c.call("CLUSTER", "GETKEYSINSLOT", "0", "1") == [SLOT0_KEY.encode()]
    return m, r


def _force_full_sync_same_history(m, r):
    """The replica misses more than the backlog while its link is down: its PSYNC
    (with the master's own replid) is answered +FULLRESYNC with that same replid."""
    r.signal(signal.SIGSTOP)
    try:
        with m.raw() as c:
            assert c.call("CLIENT", "KILL", "TYPE", "slave") >= 1
            assert c.call("DEL", SLOT0_KEY) == 1
            value = "A" * 256
            for base in range(0, NEW_KEYS, 500):
                c.send(b"".join(h.encode("SET", str(j), value) for j in range(base, base + 500)))
                for _ in range(500):
                    assert c.read()[1] == "OK"
            assert c.call("CONFIG", "SET", "rdb-key-save-delay", str(SAVE_DELAY_US)) == "OK"
    finally:
        r.signal(signal.SIGCONT)


def _wait_async_loading(r, value, timeout=20):
    h.wait_until(lambda: _persist(r).get("async_loading") == value, timeout, interval=0.01,
                 what=f"async_loading:{value} on {rh.label(r)}")


def _old_data_served(r):
    """What an asynchronous load shows: the old data, loading:0, no_async_loading refused."""
    with _readonly(r) as c:
        assert c.call("GET", SLOT0_KEY) == b"1"
        assert c.call("CLUSTER", "GETKEYSINSLOT", "0", "1") == [SLOT0_KEY.encode()]
        assert c.call("DBSIZE") == 21
        assert c.call("EXISTS", "0") == 0
        v = c.call("SAVE")
        assert isinstance(v, h.Error) and str(v) == LOADING, v
        v = c.call("CLUSTER", "SAVECONFIG")
        assert isinstance(v, h.Error) and str(v) == LOADING, v
    p = _persist(r)
    assert (p["loading"], p["async_loading"]) == ("0", "1"), p


def _half_way_through_async_load(servers, master_kind, replica_kind):
    m, r = _setup(servers, master_kind, replica_kind)
    _force_full_sync_same_history(m, r)
    _wait_async_loading(r, "1")
    _old_data_served(r)
    return m, r


@pytest.mark.parametrize("master_kind,replica_kind", PAIRS)
def test_swapdb_failed_load_keeps_old_data(servers, master_kind, replica_kind):
    m, r = _half_way_through_async_load(servers, master_kind, replica_kind)
    m.expected_exit = True
    m.signal(signal.SIGKILL)            # the transfer dies half-way
    m.wait_exit(10)
    _wait_async_loading(r, "0")
    p = _persist(r)
    assert p["loading"] == "0", p
    with _readonly(r) as c:
        assert c.call("GET", SLOT0_KEY) == b"1"
        assert c.call("CLUSTER", "GETKEYSINSLOT", "0", "1") == [SLOT0_KEY.encode()]
        assert c.call("DBSIZE") == 21
        assert c.call("EXISTS", "0") == 0
        assert c.call("GET", "old7") == b"x"


@pytest.mark.parametrize("master_kind,replica_kind", PAIRS)
def test_swapdb_completed_load_replaces_data(servers, master_kind, replica_kind):
    m, r = _half_way_through_async_load(servers, master_kind, replica_kind)
    _wait_async_loading(r, "0", timeout=40)
    rh.wait_link_up(r)
    with _readonly(r) as c:
        assert c.call("GET", SLOT0_KEY) is None
        assert c.call("CLUSTER", "GETKEYSINSLOT", "0", "1") == []
        assert c.call("DBSIZE") == NEW_KEYS + 20
        assert c.call("GET", str(NEW_KEYS - 1)) == b"A" * 256
    with m.raw() as c:
        assert c.call("CONFIG", "SET", "rdb-key-save-delay", "0") == "OK"
        assert c.call("SET", SLOT0_KEY, "2") == "OK"
    # the stream goes on after the swap (slave_repl_offset counts what the link read,
    # not what its workers applied: wait for the value itself)
    with _readonly(r) as c:
        h.wait_until(lambda: c.call("GET", SLOT0_KEY) == b"2", 10, interval=0.05,
                     what=f"the write after the sync on {rh.label(r)}")


@pytest.mark.parametrize("mode", ["swapdb", "on-empty-db"])
@pytest.mark.parametrize("master_kind,replica_kind", PAIRS)
def test_load_of_another_history_answers_loading(servers, master_kind, replica_kind, mode):
    """A fresh replica (its own replid) of a master with data: swapdb cannot load
    asynchronously, on-empty-db loads into its empty db; both answer -LOADING
    (loading:1, async_loading:0) until the load is done."""
    m, r = rh.start(servers, master_kind), rh.start(servers, replica_kind)
    for name, value in MASTER_CONFIG:
        assert rh.config_set(m, name, value) == "OK"
    _replica_config(r, mode)
    with m.raw() as c:
        assert c.call("CLUSTER", "ADDSLOTSRANGE", "0", "16383") == "OK"
    h.wait_cluster_ok(m)
    with m.raw() as c:
        # values big enough that redis-server's diskless child flushes its 16 KB
        # buffer often: the replica must see the transfer begin well before its end
        c.send(b"".join(h.encode("SET", str(j), "A" * 256) for j in range(1000)))
        for _ in range(1000):
            assert c.read()[1] == "OK"
        assert c.call("CONFIG", "SET", "rdb-key-save-delay", str(2 * SAVE_DELAY_US)) == "OK"
    with r.raw() as c:
        assert c.call("CLUSTER", "MEET", "127.0.0.1", str(m.port)) == "OK"
    bh.wait_healthy([m, r], 2, timeout=30)
    with r.raw() as c:
        assert c.call("CLUSTER", "REPLICATE", bh.myid(m)) == "OK"
    h.wait_until(lambda: _persist(r).get("loading") == "1", 20, interval=0.01,
                 what=f"loading:1 on {rh.label(r)}")
    assert _persist(r)["async_loading"] == "0"
    with _readonly(r) as c:
        v = c.call("GET", "0")
        assert isinstance(v, h.Error) and str(v) == LOADING, v
        v = c.call("PING")                       # not flagged loading in 7.0.15 either
        assert isinstance(v, h.Error) and str(v) == LOADING, v
        assert c.call("CONFIG", "GET", "repl-diskless-load") == [b"repl-diskless-load", mode.encode()]
    with m.raw() as c:
        assert c.call("CONFIG", "SET", "rdb-key-save-delay", "0") == "OK"
    h.wait_until(lambda: _persist(r).get("loading") == "0", 40, interval=0.05,
                 what=f"loading:0 on {rh.label(r)}")
    rh.wait_link_up(r)
    with _readonly(r) as c:
        assert c.call("DBSIZE") == 1000
