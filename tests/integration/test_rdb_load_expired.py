"""Keys already past their TTL when an RDB is loaded, as redis-server 7.0.15 handles them.

What it is for: 7.0.15's rdbLoad drops a key whose expire time has passed only when the
node is a master and the file is not an AOF's RDB base (preamble); INFO persistence
rdb_last_load_keys_expired counts the dropped keys, rdb_last_load_keys_loaded the rest.
A cluster replica keeps them (its master's DELs remove them), and an AOF base keeps them
on a master too (they then expire by the normal path, counted in INFO stats
expired_keys). A replica's full sync keeps every key and sets the figures to what it
loaded. Each case runs against shoal and against a real redis-server 7.0.15.

What it must never do: touch other tests' files (every node has its own directory).
"""
import time

import pytest

import helpers as h
import replhelpers as rh

KINDS = ["shoal", "redis"]
DEBUG = ["--enable-debug-command", "yes"]


def _figures(srv):
    d = rh.info(srv, "persistence")
    return int(d["rdb_last_load_keys_loaded"]), int(d["rdb_last_load_keys_expired"])


def _write_short_lived(srv, n, ttl_ms):
    """n keys v0..v{n-1} that live ttl_ms, and one key without a TTL."""
    with srv.raw() as c:
        for i in range(n):
            assert c.call("SET", f"v{i}", "x", "PX", str(ttl_ms)) == "OK"
        assert c.call("SET", "keep", "1") == "OK"


@pytest.mark.parametrize("kind", KINDS)
def test_master_drops_expired_keys_at_load_and_counts_them(servers, kind):
    srv = getattr(servers, kind)(base_args="standalone", extra_args=DEBUG)
    _write_short_lived(srv, 10, 600)
    with srv.raw() as c:
        assert c.call("SAVE") == "OK"
    srv.stop()
    time.sleep(0.8)                          # every v* key is past its TTL now
    srv.start()
    with srv.raw() as c:
        assert c.call("DBSIZE") == 1
    assert _figures(srv) == (1, 10)
    # DEBUG RELOAD on a master drops them the same way (NOSAVE: the file saved while
    # the keys lived is loaded back once they are past their TTL)
    with srv.raw() as c:
        assert c.call("DEBUG", "SET-ACTIVE-EXPIRE", "0") == "OK"
    _write_short_lived(srv, 5, 300)
    with srv.raw() as c:
        assert c.call("SAVE") == "OK"
    time.sleep(0.5)
    with srv.raw() as c:
        assert c.call("DEBUG", "RELOAD", "NOSAVE") == "OK"
        assert c.call("DBSIZE") == 1
    assert _figures(srv) == (1, 5)


@pytest.mark.parametrize("kind", KINDS)
def test_cluster_replica_keeps_expired_keys_at_load(servers, kind):
    master = rh.start(servers, kind, DEBUG)
    h.own_all_slots(master)

    def fill(m):
        with m.raw() as c:
            for i in range(7):
                assert c.call("SET", f"{{t}}old{i}", "1") == "OK"
    master, replica, _ = rh.make_pair(servers, kind, kind, master=master, writes_before=fill)
    # the full sync keeps every key and sets the load figures
    assert _figures(replica) == (7, 0)
    with master.raw() as c:
        assert c.call("DEBUG", "SET-ACTIVE-EXPIRE", "0") == "OK"
    _write_short_lived(master, 10, 600)
    rh.wait_offsets_equal(master, replica)
    with replica.raw() as c:
        assert c.call("DBSIZE") == 18
        assert c.call("SAVE") == "OK"
    replica.stop()
    time.sleep(0.8)                          # every v* key is past its TTL now
    replica.start()
    rh.wait_link_up(replica)
    # kept (only a master drops them at load), the load figures count them as loaded
    assert _figures(replica) == (18, 0)
    with replica.raw() as c:
        assert c.call("DBSIZE") == 18
    with master.raw() as c:
        assert c.call("DEBUG", "SET-ACTIVE-EXPIRE", "1") == "OK"
    h.wait_until(lambda: replica.raw().call("DBSIZE") == 8, 10, what="the master's DELs to remove them")


@pytest.mark.parametrize("kind", KINDS)
def test_aof_base_keeps_expired_keys_then_they_expire(servers, kind):
    srv = getattr(servers, kind)(base_args="standalone",
                                         extra_args=[*DEBUG, "--appendonly", "yes",
                                                     "--aof-use-rdb-preamble", "yes"])

    def rewritten():
        d = rh.info(srv, "persistence")
        return d["aof_rewrite_in_progress"] == "0" and d["aof_rewrite_scheduled"] == "0"
    h.wait_until(rewritten, 10, what="the first AOF rewrite")
    _write_short_lived(srv, 10, 1500)
    with srv.raw() as c:
        assert c.call("BGREWRITEAOF") == "Background append only file rewriting started"
    h.wait_until(rewritten, 10, what="the AOF rewrite with the keys in its RDB base")
    srv.stop()
    time.sleep(1.6)                          # every v* key is past its TTL now
    srv.start()
    # the base's keys were all loaded, none dropped at load
    assert _figures(srv) == (11, 0)
    h.wait_until(lambda: srv.raw().call("DBSIZE") == 1, 10, what="the normal expiry")
    assert rh.info(srv, "stats")["expired_keys"] == "10"
