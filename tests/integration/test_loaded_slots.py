"""The slots of the keys a cluster node loads at start, checked against its slot table
as redis-server 7.0.15 does (verifyClusterConfigWithData).

What it is for: a master that loads keys (dump.rdb here; an AOF in test_aof_load.py) in
a slot no node owns takes the slot, logging "I have keys for unassigned slot N. Taking
responsibility for it."; in a slot another node owns it marks the slot importing from
that node; a slot it owns stays as is; nodes.conf holds the change before the first
client is served. A replica changes nothing. Each case is compared with a redis-server
7.0.15 that starts from the same dump.rdb and nodes.conf.

What it must never do: stop a process it did not start, or touch files outside the
test's own directories.
"""
import shutil

import helpers as h

KEYS = ["a", "{a}2", "b", "c", "d"]
ME, OTHER = "1" * 40, "e" * 40        # OTHER is a node of nodes.conf that never answers
CLAIM = "I have keys for unassigned slot"
IMPORT = "but the slot is assigned to another node. Setting it to importing state."


def _dump(servers):
    """A dump.rdb holding KEYS, written by a standalone redis-server."""
    srv = servers.redis(base_args="standalone", name="writer")
    with srv.raw() as c:
        for k in KEYS:
            assert c.call("SET", k, "v") == "OK"
        assert c.call("SAVE") == "OK"
    return srv.dir / "dump.rdb"


def _nodes_conf(port, role):
    """myself (master owning b's slot, or a replica of OTHER) and OTHER owning a's slot."""
    other_port = h.free_port()
    sa, sb = h.key_slot("a"), h.key_slot("b")
    if role == "master":
        me = f"{ME} 127.0.0.1:{port}@{port + 10000} myself,master - 0 0 1 connected {sb}"
    else:
        me = f"{ME} 127.0.0.1:{port}@{port + 10000} myself,slave {OTHER} 0 0 2 connected"
    other = f"{OTHER} 127.0.0.1:{other_port}@{other_port + 10000} master - 0 0 2 connected {sa}"
    return f"{me}\n{other}\nvars currentEpoch 2 lastVoteEpoch 0\n"


def _start_with(servers, kind, rdb, role):
    """(myself's slots and open slots as CLUSTER NODES shows them, the same in nodes.conf
    once the node stops, the claim and import lines logged)."""
    port = h.free_port()
    srv = getattr(servers, kind)(start=False, port=port, name=f"{kind}-{role}")
    shutil.copy(rdb, srv.dir / "dump.rdb")
    (srv.dir / "nodes.conf").write_text(_nodes_conf(port, role))
    srv.start()
    with srv.raw() as c:
        assert c.call("DBSIZE") == len(KEYS)
        mine = [ln for ln in c.call("CLUSTER", "NODES").decode().splitlines() if "myself" in ln]
    # on disk before the first client was served: the file as it was then
    saved = [ln for ln in (srv.dir / "nodes.conf").read_text().splitlines() if "myself" in ln]
    log = srv.output()
    return (sorted(mine[0].split()[8:]), sorted(saved[0].split()[8:]),
            sum(CLAIM in ln for ln in log.splitlines()), sum(IMPORT in ln for ln in log.splitlines()))


def test_a_master_claims_the_unowned_slots_of_its_keys(servers):
    """c's and d's slots are taken, a's (OTHER's) is marked importing, b's stays ours
    (failed before: shoal kept only b's slot and logged nothing)."""
    rdb = _dump(servers)
    got = {kind: _start_with(servers, kind, rdb, "master") for kind in ("shoal", "redis")}
    assert got["shoal"] == got["redis"]
    sa, sb, sc, sd = (h.key_slot(k) for k in ("a", "b", "c", "d"))
    want = sorted([str(sb), str(sc), str(sd), f"[{sa}-<-{OTHER}]"])
    mine, saved, claims, imports = got["redis"]
    assert (claims, imports) == (2, 1)
    assert mine == saved == want, (mine, saved, want)


def test_a_replica_changes_nothing(servers):
    """7.0.15 skips the check on a replica: no slot, nothing logged."""
    rdb = _dump(servers)
    got = {kind: _start_with(servers, kind, rdb, "replica") for kind in ("shoal", "redis")}
    assert got["shoal"] == got["redis"]
    assert got["redis"] == ([], [], 0, 0)
