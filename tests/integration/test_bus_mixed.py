"""Mixed cluster: three redis-server 7.0.15 nodes and three shoal nodes in one cluster.

What it is for: proving bus interop both ways: the real `redis-cli --cluster
create` builds one cluster of both kinds, `--cluster check` passes from either kind,
every node's CLUSTER NODES agrees line by line about everybody's address, role,
config epoch and slots, and a hostname set on one side shows on the other side
(ping extension type 0, docs/cluster-bus.md §4).

What it must never do: treat the redis-server nodes as anything but the reference;
signal or stop a process it did not start.
"""
import helpers as h
import bushelpers as bh


def _hostname_of(view_server, node_id):
    for v in bh.cluster_nodes(view_server):
        if v["id"] == node_id:
            addr = v["addr"]
            return addr.split(",", 1)[1] if "," in addr else ""
    return None


def test_mixed_redis_and_shoal_cluster(servers):
    reds = [servers.redis() for _ in range(3)]
    shoals = [servers.shoal() for _ in range(3)]
    order = [reds[0], shoals[0], reds[1], shoals[1], reds[2], shoals[2]]
    r = bh.create_cluster(order, replicas=0)
    assert r.returncode == 0, f"create exit {r.returncode}\n{r.stdout}\n{r.stderr}"
    assert "[OK] All 16384 slots covered" in r.stdout, r.stdout
    bh.wait_healthy(order, 6, timeout=30)

    ids = [bh.myid(s) for s in order]
    # Each node's own view of itself: the epoch redis-cli gave it (1..6 in argument
    # order) and one slot range.
    own = {}
    for i, s in enumerate(order):
        me = next(v for v in bh.cluster_nodes(s) if "myself" in v["flags"])
        assert me["id"] == ids[i]
        assert me["config_epoch"] == str(i + 1), me["line"]
        assert me["addr"].split(",")[0] == f"127.0.0.1:{s.port}@{s.port + 10000}", me["line"]
        assert len(me["slots"]) == 1, me["line"]
        own[me["id"]] = bh.comparable(me)

    # Every view, redis's and ours, shows every node exactly as that node shows itself.
    def views_agree():
        for s in order:
            view = {v["id"]: bh.comparable(v) for v in bh.cluster_nodes(s)}
            if view != own:
                return False
        return True
    h.wait_until(views_agree, 15, interval=0.1, what="all six views agreeing line by line")
    for s in order:
        view = {v["id"]: bh.comparable(v) for v in bh.cluster_nodes(s)}
        for nid in ids:
            assert view[nid] == own[nid], (f"{s.kind} :{s.port} sees {nid} as {view[nid]}, "
                                           f"it says {own[nid]}")
    covered = sorted(own[i]["slots"][0] for i in ids)
    assert len(covered) == 6

    # Both kinds' epochs as seen by the other kind: current epoch 6 everywhere.
    for s in order:
        info = bh.cluster_info(s)
        assert info["cluster_current_epoch"] == "6", (s.kind, info)
        assert info["cluster_size"] == "6" and info["cluster_known_nodes"] == "6", info

    # --cluster check from a redis node and from a shoal node.
    for s in (reds[1], shoals[2]):
        c = bh.cluster_check(s)
        assert c.returncode == 0, f"check from {s.kind} :{s.port}\n{c.stdout}\n{c.stderr}"
        assert "[OK] All nodes agree about slots configuration." in c.stdout, c.stdout
        assert "[OK] All 16384 slots covered." in c.stdout, c.stdout

    # Hostnames both ways: set on shoal, seen by redis (and everyone); set on redis,
    # seen by shoal (and everyone).
    with shoals[0].raw() as c:
        assert c.call("CONFIG", "SET", "cluster-announce-hostname", "shoal-zero.test") == "OK"
    with reds[2].raw() as c:
        assert c.call("CONFIG", "SET", "cluster-announce-hostname", "redis-two.test") == "OK"
    sid, rid = bh.myid(shoals[0]), bh.myid(reds[2])
    for s in order:
        h.wait_until(lambda s=s: _hostname_of(s, sid) == "shoal-zero.test", 8, interval=0.1,
                     what=f"{s.kind} :{s.port} showing shoal's hostname")
        h.wait_until(lambda s=s: _hostname_of(s, rid) == "redis-two.test", 8, interval=0.1,
                     what=f"{s.kind} :{s.port} showing redis's hostname")
    # Hostnames do not disturb anything else.
    bh.wait_healthy(order, 6, timeout=10)

    # Clearing a hostname clears it on the peers too (a message without the
    # extension clears the stored hostname, §4.8).
    with shoals[0].raw() as c:
        assert c.call("CONFIG", "SET", "cluster-announce-hostname", "") == "OK"
    with reds[2].raw() as c:
        assert c.call("CONFIG", "SET", "cluster-announce-hostname", "") == "OK"
    for s in order:
        h.wait_until(lambda s=s: _hostname_of(s, sid) == "" and _hostname_of(s, rid) == "", 8,
                     interval=0.1, what=f"{s.kind} :{s.port} dropping both hostnames")
