"""CLUSTER FAILOVER TAKEOVER in a two-node cluster (one master owning every slot, one
replica of it), on shoal and on redis-server 7.0.15 (docs/cluster-bus.md §5.9, §5.15).

TAKEOVER bumps the replica's configEpoch without consensus when it is 0 or not the
greatest, so the promoted replica's epoch ends greater than its old master's: it stays
master and the old master, on hearing it, becomes its replica. Epochs before: 0/0 (as
after CLUSTER ADDSLOTSRANGE without SET-CONFIG-EPOCH) or distinct ones set with
CLUSTER SET-CONFIG-EPOCH before MEET (what `redis-cli --cluster create` does).

The replica must know its master's epoch before TAKEOVER: with epochs 0/0, a TAKEOVER
sent right after MEET can cross the master's collision bump (both masters then hold the
same epoch, the smaller name bumps again and may win), and redis-server 7.0.15 then
reverts the replica just as shoal does. So these tests wait until both nodes agree
that r is m's replica (which implies the epochs have been exchanged) first."""
import time

import pytest

import bushelpers as bh
import helpers as h

NT = 1000


def view(server):
    return bh.nodes_by_id(bh.cluster_nodes(server))


def build(servers, kind, epochs):
    make = servers.shoal if kind == "shoal" else servers.redis
    m, r = (make(extra_args=["--cluster-node-timeout", str(NT)]) for _ in range(2))
    for s, e in zip((m, r), epochs):
        if e:
            with s.raw() as c:
                assert c.call("CLUSTER", "SET-CONFIG-EPOCH", str(e)) == "OK"
    bh.master_with_replica(m, r)
    mid, rid = bh.myid(m), bh.myid(r)
    h.wait_until(lambda: all(view(s)[rid]["master"] == mid and "slave" in view(s)[rid]["flags"]
                             for s in (m, r)), 15, interval=0.05, what="r is m's replica on both")
    return m, r, mid, rid


def settled(m, r, mid, rid):
    """True when both nodes see r as the master owning every slot and m as its replica."""
    for s in (m, r):
        v = view(s)
        if "master" not in v[rid]["flags"] or v[rid]["slots"] != ["0-16383"]:
            return False
        if "slave" not in v[mid]["flags"] or v[mid]["master"] != rid:
            return False
    return True


@pytest.mark.parametrize("epochs", [(0, 0), (1, 2), (2, 1)], ids=["epochs00", "epochs12", "epochs21"])
@pytest.mark.parametrize("kind", ["shoal", "redis"])
def test_takeover_two_nodes(servers, kind, epochs):
    m, r, mid, rid = build(servers, kind, epochs)
    old = int(view(m)[mid]["config_epoch"])
    with r.raw() as c:
        assert c.call("CLUSTER", "FAILOVER", "TAKEOVER") == "OK"
    h.wait_until(lambda: settled(m, r, mid, rid), 15, interval=0.05,
                 what=f"r master, m its replica (m: {bh._safe_nodes_text(m)} r: {bh._safe_nodes_text(r)})")
    # and it stays that way: nothing reverts the takeover afterwards
    deadline = time.monotonic() + 3 * NT / 1000
    while time.monotonic() < deadline:
        assert settled(m, r, mid, rid), f"reverted: m: {bh._safe_nodes_text(m)} r: {bh._safe_nodes_text(r)}"
        time.sleep(0.1)
    for s in (m, r):
        v = view(s)
        # a replica's line shows its master's epoch, so compare with the one m had
        assert int(v[rid]["config_epoch"]) > old, bh._safe_nodes_text(s)
        assert bh.cluster_info(s).get("cluster_state") == "ok"
