"""dump.rdb's replication history (aux repl-id / repl-offset) and a partial resync after
a restart, as redis-server 7.0.15.

What it is for: a replica that saved dump.rdb on SHUTDOWN and starts again continues
from the saved offset (+CONTINUE: the master counts a partial sync, no full one), and a
master that saved on SHUTDOWN keeps its old id as replid2 after a restart, so its
replica continues too. Shoal and redis-server 7.0.15 in every pairing of master and
replica.

What it must never do: touch other tests' files (every node has its own directory).
"""
import pytest

import helpers as h

PAIRS = [("shoal", "shoal"), ("shoal", "redis"), ("redis", "shoal"), ("redis", "redis")]


def _start(servers, kind, *args):
    return getattr(servers, kind)(base_args="standalone", extra_args=list(args))


def _info(srv, section):
    with srv.raw() as c:
        return h.info_dict(c.call("INFO", section))


def _synced(master, replica):
    """The replica's link is up and it acknowledged everything the master has."""
    m = _info(master, "replication")
    r = _info(replica, "replication")
    return (r.get("master_link_status") == "up"
            and int(r["master_repl_offset"]) == int(m["master_repl_offset"]))


def _pair(servers, mkind, rkind):
    master = _start(servers, mkind)
    replica = _start(servers, rkind, "--replicaof", f"127.0.0.1 {master.port}")
    h.wait_until(lambda: _synced(master, replica), 10, what="the first sync")
    return master, replica


def _pair_written(servers, mkind, rkind, n):
    """A synced master/replica pair after n SETs (k0..k{n-1}) reached the replica."""
    master, replica = _pair(servers, mkind, rkind)
    with master.raw() as c:
        for i in range(n):
            assert c.call("SET", f"k{i}", f"v{i}") == "OK"
    h.wait_until(lambda: _synced(master, replica), 10, what="the replica to catch up")
    return master, replica


def _shutdown_save(srv):
    with srv.raw() as c:
        c.send(h.encode("SHUTDOWN", "SAVE"))
        assert c.is_closed(5.0)
    assert srv.wait_exit(10) == 0
    srv.expected_exit = True


@pytest.mark.parametrize("mkind,rkind", PAIRS)
def test_restarted_replica_continues(servers, mkind, rkind):
    master, replica = _pair_written(servers, mkind, rkind, 20)
    before = _info(master, "stats")
    _shutdown_save(replica)
    with master.raw() as c:
        for i in range(20, 30):
            assert c.call("SET", f"k{i}", f"v{i}") == "OK"
    replica.start()
    h.wait_until(lambda: _synced(master, replica), 10, what="the restarted replica to catch up")
    after = _info(master, "stats")
    assert int(after["sync_partial_ok"]) == int(before["sync_partial_ok"]) + 1
    assert after["sync_full"] == before["sync_full"]
    with replica.raw() as c:
        assert sorted(c.call("KEYS", "*")) == sorted(f"k{i}".encode() for i in range(30))
    assert "Successful partial resynchronization with master." in replica.output()


@pytest.mark.parametrize("mkind,rkind", PAIRS)
def test_restarted_master_keeps_its_history_as_replid2(servers, mkind, rkind):
    master, replica = _pair_written(servers, mkind, rkind, 10)
    old = _info(master, "replication")
    _shutdown_save(master)
    master.start()
    new = _info(master, "replication")
    assert new["master_replid2"] == old["master_replid"]
    assert new["master_replid"] != old["master_replid"]
    # the shutdown's REPLCONF GETACK may have moved the offset past what `old` saw
    assert int(new["master_repl_offset"]) >= int(old["master_repl_offset"])
    assert int(new["second_repl_offset"]) == int(new["master_repl_offset"]) + 1
    h.wait_until(lambda: _synced(master, replica), 10, what="the replica to come back")
    stats = _info(master, "stats")
    assert stats["sync_partial_ok"] == "1" and stats["sync_full"] == "0"
    with master.raw() as c:
        assert c.call("SET", "after", "1") == "OK"
    h.wait_until(lambda: _synced(master, replica), 10, what="the replica to follow")
    with replica.raw() as c:
        assert c.call("GET", "after") == b"1"
