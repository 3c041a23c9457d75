"""INFO's replication offsets promise what Redis's do, on which Redis's own tests and
operators' scripts rely (wait_for_ofs_sync): after a write's reply, the master's
master_repl_offset already counts it; once a replica's slave_repl_offset reached that
figure, a read on the replica sees the write.

What it is for: shoal hands a write's stream bytes to its replication actor and a
replica hands the master's commands to its workers asynchronously; neither may make
the offsets run ahead of (replica) or behind (master) the data. Each round writes a
key of another worker, then polls the two offsets only, then reads on the replica.

What it must never do: wait for the data itself (that would hide the bug), or stop a
process it did not start.
"""
import pytest

import helpers as h
import replhelpers as rh


def _rounds(master, replica, n):
    stale = []
    with master.raw() as m, replica.raw() as r:
        assert r.call("READONLY") == "OK"
        for i in range(n):
            key = "k%d" % i                      # keys of every worker, in turn
            assert m.call("SET", key, str(i)) == "OK"
            off = int(h.info_dict(m.call("INFO", "replication"))["master_repl_offset"])
            h.wait_until(lambda: int(h.info_dict(r.call("INFO", "replication"))["slave_repl_offset"]) >= off,
                         10, interval=0.001, what="the replica's offset")
            got = r.call("GET", key)
            if got != str(i).encode():
                stale.append((i, got))
    return stale


@pytest.mark.parametrize("master_kind,replica_kind", [("shoal", "shoal"), ("shoal", "redis"),
                                                      ("redis", "shoal")])
def test_a_write_is_visible_once_the_offsets_say_so(servers, master_kind, replica_kind):
    master, replica, _ = rh.make_pair(servers, master_kind, replica_kind)
    rh.wait_offsets_equal(master, replica)
    assert _rounds(master, replica, 600) == []
