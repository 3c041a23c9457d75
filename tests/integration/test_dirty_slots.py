"""A master that loses a slot to a newer claim drops the slot's keys (7.0.15's dirty slots).

What it is for: in clusterUpdateSlotsConfigWith, a master that sees another node claim
one of its slots with a greater configEpoch, and is not turned into that node's replica
by it, deletes every key it still holds in that slot (delKeysInSlot). The same sequence
runs on a cluster of shoal nodes and on one of redis-server 7.0.15 nodes: three masters
made by `redis-cli --cluster create`, a replica of the first one (A); keys are written
into a slot S of A and a slot of A that stays A's; then B takes S by hand without moving
the keys (`CLUSTER SETSLOT S NODE <B>` and `CLUSTER BUMPEPOCH` on B). A must then hold no
key of S, and keep the others.

A's replica: 7.0.15 deletes with dbDelete and propagates nothing, so its replica, which
does not own the slot itself, keeps the keys (measured below and recorded). shoal sends a
DEL per dropped key down the replication stream, so its replica matches its master: the
test asserts that for shoal and asserts what redis-server really does for redis-server.

What it must never do: weaken an expectation to match our node; wait with fixed sleeps
where a condition can be polled.
"""
import pytest

import helpers as h
import bushelpers as bh
import replhelpers as rh


def _tag_in(node, lo, hi, skip=None):
    """A hash tag whose slot lies in [lo, hi] and is not `skip`."""
    with node.raw() as c:
        for i in range(10000):
            tag = f"{{d{i}}}"
            s = c.call("CLUSTER", "KEYSLOT", tag)
            if lo <= s <= hi and s != skip:
                return tag, s
    raise AssertionError("no tag found")


def _count(node, slot):
    with node.raw() as c:
        return c.call("CLUSTER", "COUNTKEYSINSLOT", str(slot))


def _owner(node, slot):
    for n in bh.cluster_nodes(node):
        for part in n.get("slots", []):
            lo, _, hi = part.partition("-")
            if lo.isdigit() and int(lo) <= slot <= int(hi or lo):
                return n["id"]
    return None


def _scenario(servers, kind, pause=False):
    nodes = bh.start_cluster(servers, 3, kind=kind)
    a, b, _ = nodes
    a_id, b_id = bh.myid(a), bh.myid(b)
    rep = rh.add_replica(servers, a, kind, a_id)
    # S and K are both A's (redis-cli gives the first node slots 0-5460).
    tag, slot = _tag_in(a, 0, 5460)
    ktag, kslot = _tag_in(a, 0, 5460, skip=slot)
    with a.raw() as c:
        for i in range(50):
            assert c.call("SET", f"{tag}:{i}", "v") == "OK"
        for i in range(7):
            assert c.call("SET", f"{ktag}:{i}", "w") == "OK"
    h.wait_until(lambda: _count(rep, slot) == 50 and _count(rep, kslot) == 7, 20, interval=0.05,
                 what="the replica has every key")
    if pause:
        with a.raw() as c:
            assert c.call("CLIENT", "PAUSE", "20000", "WRITE") == "OK"
    with b.raw() as c:
        assert c.call("CLUSTER", "SETSLOT", str(slot), "NODE", b_id) == "OK"
        assert str(c.call("CLUSTER", "BUMPEPOCH")).split(" ")[0] in ("BUMPED", "STILL")
    h.wait_until(lambda: _owner(a, slot) == b_id, 20, interval=0.05, what="A sees B own S")
    h.wait_until(lambda: _owner(rep, slot) == b_id, 20, interval=0.05, what="the replica sees B own S")
    h.wait_until(lambda: _count(a, slot) == 0, 10, interval=0.05,
                 what=f"A drops the keys of the slot it lost ({kind})")
    if pause:
        with a.raw() as c:
            assert c.call("CLIENT", "UNPAUSE") == "OK"
    out = {
        "a_count_s": _count(a, slot),
        "a_count_k": _count(a, kslot),
        "a_role": rh.info(a).get("role"),
    }
    with a.raw() as c:
        out["a_dbsize"] = c.call("DBSIZE")
        out["a_get_moved"] = str(c.call("GET", f"{tag}:0")).split(" ")[0]
    # Give the replica time to apply whatever its master sent: a marker write after the drop.
    with a.raw() as c:
        assert c.call("SET", f"{ktag}:marker", "m") == "OK"
    h.wait_until(lambda: _count(rep, kslot) == 8, 20, interval=0.05, what="the replica has the marker")
    out["rep_count_s"] = _count(rep, slot)
    out["rep_count_k"] = _count(rep, kslot)
    return out


@pytest.mark.parametrize("pause", [False, True], ids=["running", "client-pause-write"])
def test_master_losing_a_slot_drops_its_keys(servers, pause):
    """With CLIENT PAUSE WRITE on A while it loses the slot: the drop happens all the
    same (the keys of a slot not served any more must go), and shoal's DELs still reach
    the replica (a pause stops clients' writes, not the stream of a drop)."""
    got = {kind: _scenario(servers, kind, pause) for kind in ("redis", "shoal")}
    print("dirty slots:", got)
    for kind in ("redis", "shoal"):
        g = got[kind]
        assert g["a_count_s"] == 0, (kind, g)
        assert g["a_count_k"] == 7, (kind, g)
        assert g["a_dbsize"] == 7, (kind, g)
        assert g["a_role"] == "master", (kind, g)
        assert g["a_get_moved"] == "MOVED", (kind, g)
        assert g["rep_count_k"] == 8, (kind, g)
    # redis-server 7.0.15 propagates no DEL for the dropped keys: its replica keeps them.
    assert got["redis"]["rep_count_s"] == 50, got
    # shoal sends a DEL per dropped key: its replica holds what its master holds.
    assert got["shoal"]["rep_count_s"] == 0, got
