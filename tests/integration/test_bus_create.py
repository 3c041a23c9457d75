"""Cluster bus, end to end: clusters of shoal nodes built by the real tools.

What it is for: the cluster bus's acceptance scenarios that need only shoal nodes: a
6-node cluster made by `redis-cli --cluster create --cluster-replicas 1`, checked
by `redis-cli --cluster check`, used by redis-py's RedisCluster and `redis-cli -c`;
and 20 nodes chained by CLUSTER MEET that must all learn about each other.
Behaviour expected is that of redis-server 7.0.15 (docs/cluster-bus.md,
docs/clients.md §4.1-§4.3).

What it must never do: weaken an expectation to match our node, or wait with
fixed long sleeps (everything polls with a deadline).
"""
import re
import subprocess

import helpers as h
import bushelpers as bh


def _roles(nodes):
    masters = [n for n in nodes if "master" in n["flags"]]
    slaves = [n for n in nodes if "slave" in n["flags"]]
    return masters, slaves


def test_six_nodes_create_check_and_clients(servers):
    nodes = [servers.shoal(extra_args=["--cluster-node-timeout", "5000"]) for _ in range(6)]
    r = bh.create_cluster(nodes, replicas=1)
    assert r.returncode == 0, f"create exit {r.returncode}\n{r.stdout}\n{r.stderr}"
    assert "[OK] All 16384 slots covered" in r.stdout, r.stdout

    # Every node: cluster_state:ok, 6 known nodes, all connected, no handshake/fail.
    bh.wait_healthy(nodes, 6, timeout=30)
    ids = [bh.myid(n) for n in nodes]
    assert len(set(ids)) == 6
    for n in nodes:
        view = bh.cluster_nodes(n)
        assert sorted(v["id"] for v in view) == sorted(ids)
        assert sum("myself" in v["flags"] for v in view) == 1

    # Roles: 3 masters holding the three create ranges, 3 slaves each naming a master.
    # (Replicas do not sync data yet; only their role is checked.)
    def roles_settled():
        for n in nodes:
            masters, slaves = _roles(bh.cluster_nodes(n))
            if len(masters) != 3 or len(slaves) != 3:
                return False
        return True
    h.wait_until(roles_settled, 20, interval=0.1,
                 what="every node sees 3 masters and 3 slaves")
    view = bh.cluster_nodes(nodes[0])
    masters, slaves = _roles(view)
    assert sorted(tuple(m["slots"]) for m in masters) == \
        [("0-5460",), ("10923-16383",), ("5461-10922",)], [m["line"] for m in masters]
    master_ids = {m["id"] for m in masters}
    for s in slaves:
        assert s["master"] in master_ids, s["line"]
        assert s["slots"] == [], s["line"]
    assert len({s["master"] for s in slaves}) == 3, "one replica per master"

    # CLUSTER REPLICAS / SLAVES: one NODES-format line (no newline) per replica.
    with nodes[1].raw() as c:
        for m in masters:
            for sub in ("REPLICAS", "SLAVES"):
                v = c.call("CLUSTER", sub, m["id"])
                assert isinstance(v, list) and len(v) == 1, v
                line = v[0].decode()
                assert not line.endswith("\n")
                f = line.split(" ")
                slave = next(s for s in slaves if s["id"] == f[0])
                assert f[1] == slave["addr"] and f[3] == m["id"] and "slave" in f[2].split(","), line
        some_slave = slaves[0]["id"]
        assert c.call("CLUSTER", "REPLICAS", some_slave) == "ERR The specified node is not a master"
        assert c.call("CLUSTER", "REPLICAS", "0" * 40) == "ERR Unknown node " + "0" * 40

    # CLUSTER SLOTS: the three ranges, each with its master first, then (only) its
    # replicas (7.0.15 leaves out replicas that have not synced yet).
    with nodes[5].raw() as c:
        v = c.call("CLUSTER", "SLOTS")
    assert [(e[0], e[1]) for e in sorted(v)] == [(0, 5460), (5461, 10922), (10923, 16383)], v
    by_id = {n["id"]: n for n in bh.cluster_nodes(nodes[5])}
    for e in v:
        ip, port, nid, meta = e[2]
        assert ip == b"127.0.0.1" and meta == [], e
        owner = by_id[nid.decode()]
        assert "master" in owner["flags"] and owner["addr"].startswith(f"127.0.0.1:{port}@"), e
        assert owner["slots"] == [f"{e[0]}-{e[1]}"], e
        for rep in e[3:]:
            assert by_id[rep[2].decode()]["master"] == owner["id"], e

    # Every view agrees with node 0's on address, role, master, epoch and slots.
    ref = {v["id"]: bh.comparable(v) for v in view}
    for n in nodes[1:]:
        other = {v["id"]: bh.comparable(v) for v in bh.cluster_nodes(n)}
        assert other == ref, f"view of :{n.port} differs from view of :{nodes[0].port}"

    # redis-cli --cluster check passes from any node.
    for n in (nodes[0], nodes[4]):
        c = bh.cluster_check(n)
        assert c.returncode == 0, f"check from :{n.port} exit {c.returncode}\n{c.stdout}\n{c.stderr}"
        assert "[OK] All nodes agree about slots configuration." in c.stdout, c.stdout
        assert "[OK] All 16384 slots covered." in c.stdout, c.stdout
        assert "[ERR]" not in c.stdout and "[WARNING] Node" not in c.stdout, c.stdout

    # redis-py RedisCluster: 10,000 keys written and read back.
    from redis.cluster import RedisCluster
    rc = RedisCluster(host="127.0.0.1", port=nodes[2].port, socket_timeout=10)
    try:
        for i in range(200):
            assert rc.set(f"single:{i}", f"v{i}") is True
        for i in range(200):
            assert rc.get(f"single:{i}") == f"v{i}".encode()
        n_keys = 10000 - 200
        for start in range(0, n_keys, 1000):
            p = rc.pipeline()
            for i in range(start, min(n_keys, start + 1000)):
                p.set(f"key:{i}", f"value:{i}")
            assert all(x is True for x in p.execute())
        for start in range(0, n_keys, 1000):
            p = rc.pipeline()
            for i in range(start, min(n_keys, start + 1000)):
                p.get(f"key:{i}")
            got = p.execute()
            want = [f"value:{i}".encode() for i in range(start, min(n_keys, start + 1000))]
            assert got == want
    finally:
        rc.close()

    # Keys are spread over all three masters; total is 10,000.
    sizes = {}
    for n in nodes:
        with n.raw() as c:
            sizes[bh.myid(n)] = c.call("DBSIZE")
    for mid in master_ids:
        assert sizes[mid] > 2000, sizes
    assert sum(sizes[m] for m in master_ids) == 10000, sizes

    # redis-cli -c follows MOVED: set on one node, read back from another.
    for key in ("alpha", "bravo", "charlie", "delta", "echo", "foxtrot"):
        for writer, reader in ((nodes[0], nodes[1]), (nodes[3], nodes[5])):
            w = writer.cli("-c", "set", key, f"{key}-{writer.port}")
            assert w.returncode == 0 and w.stdout.strip() == "OK", (w.stdout, w.stderr)
            rd = reader.cli("-c", "get", key)
            assert rd.returncode == 0 and rd.stdout.strip() == f"{key}-{writer.port}", \
                (rd.stdout, rd.stderr)
    # Without -c, a master that does not own the slot answers MOVED to the owner.
    with nodes[0].raw() as c:
        slot = c.call("CLUSTER", "KEYSLOT", "alpha")
    owner = next(m for m in masters if any(_in_range(slot, r) for r in m["slots"]))
    owner_addr = owner["addr"].split("@")[0]
    for n in nodes:
        if bh.myid(n) in master_ids and bh.myid(n) != owner["id"]:
            with n.raw() as c:
                v = c.call("GET", "alpha")
            assert isinstance(v, h.Error) and v == f"MOVED {slot} {owner_addr}", v


def _in_range(slot, r):
    a, _, b = r.partition("-")
    return int(a) <= slot <= int(b or a)


def test_twenty_nodes_chained_by_meet_all_know_all(servers):
    n = 20
    # One worker thread each: 20 nodes share two cores with the test runner.
    nodes = [servers.shoal(extra_args=["--cluster-node-timeout", "5000",
                                       "--worker-threads", "1"]) for _ in range(n)]
    for a, b in zip(nodes, nodes[1:]):
        with a.raw() as c:
            assert c.call("CLUSTER", "MEET", "127.0.0.1", str(b.port)) == "OK"
    ids = sorted(bh.myid(x) for x in nodes)

    def all_know_all():
        for x in nodes:
            info = bh.cluster_info(x)
            if info.get("cluster_known_nodes") != str(n):
                return False
            view = bh.cluster_nodes(x)
            if sorted(v["id"] for v in view) != ids:
                return False
            if any("handshake" in v["flags"] or "noaddr" in v["flags"] for v in view):
                return False
        return True
    h.wait_until(all_know_all, 60, interval=0.25,
                 what="all 20 nodes knowing all 20 without handshake flags")

    # No slots anywhere: the state stays fail, and every line is a connected master.
    for x in nodes:
        for v in bh.cluster_nodes(x):
            assert "master" in v["flags"], v["line"]
            assert re.fullmatch(r"[0-9a-f]{40}", v["id"]), v["line"]
    h.wait_until(lambda: all(v["link"] == "connected" for x in nodes for v in bh.cluster_nodes(x)),
                 30, interval=0.25, what="every link connected")
    # A node that met nobody itself (the last one) still learned everyone by gossip.
    assert len(bh.cluster_nodes(nodes[-1])) == n


def test_redis_cli_c_reports_moved_target(servers):
    """`redis-cli -c` follows MOVED: the reply comes from the owner and the key lands
    there (DBSIZE of the owner grows, the others stay empty)."""
    nodes = bh.start_cluster(servers, 3)
    for n in nodes:
        with n.raw() as c:
            assert c.call("DBSIZE") == 0
    with nodes[0].raw() as c:
        slot = c.call("CLUSTER", "KEYSLOT", "{user1000}.following")
    owner = None
    for n in nodes:
        for v in bh.cluster_nodes(n):
            if "myself" in v["flags"] and any(_in_range(slot, r) for r in v["slots"]):
                owner = n
    assert owner is not None
    asker = next(n for n in nodes if n is not owner)
    r = subprocess.run([h.REDIS_CLI, "-c", "-p", str(asker.port), "set",
                        "{user1000}.following", "x"], capture_output=True, text=True, timeout=20)
    assert r.returncode == 0 and r.stdout.strip() == "OK", (r.stdout, r.stderr)
    with owner.raw() as c:
        assert c.call("GET", "{user1000}.following") == b"x"
        assert c.call("DBSIZE") == 1
    with asker.raw() as c:
        assert c.call("DBSIZE") == 0
        v = c.call("GET", "{user1000}.following")
        assert v == f"MOVED {slot} 127.0.0.1:{owner.port}", v
