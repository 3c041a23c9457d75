"""`redis-cli --cluster` shape changes on a cluster of shoal nodes, `check` after each.

What it is for: the operations of docs/clients.md §4.4-4.9 run unchanged by the real
redis-cli 7.0.15 against shoal nodes: reshard (with --cluster-pipeline and
--cluster-replace), add-node (as a master, and as a replica with --cluster-master-id),
rebalance (--cluster-use-empty-masters, weights), del-node, and fix (a slot left open in
both directions with keys on both sides, and an unassigned slot). After each one
`--cluster check` reports every slot covered, all nodes agreeing and no open slot, and
every key written before (values and TTLs) is still readable through the cluster, on
exactly one node.

What it must never do: weaken an expectation to match our node; wait with fixed sleeps
where a condition can be polled.
"""
import subprocess

import helpers as h
import bushelpers as bh

NKEYS = 3000


def _cli(*args, timeout=300, answer=None):
    """redis-cli; `answer` is typed at its one question (a coverage fix asks even
    with --cluster-yes)."""
    if answer is not None:
        return subprocess.run([h.REDIS_CLI, *args], capture_output=True, text=True, timeout=timeout,
                              input=answer)
    return subprocess.run([h.REDIS_CLI, *args], capture_output=True, text=True, timeout=timeout,
                          stdin=subprocess.DEVNULL)


def _ok(r):
    assert r.returncode == 0, f"exit {r.returncode}\n{r.stdout[-4000:]}\n{r.stderr[-2000:]}"
    return r


def _check(node, nnodes):
    """`--cluster check` is clean and every node agrees (gossip may need a moment)."""
    def clean():
        r = bh.cluster_check(node)
        good = (r.returncode == 0 and "[OK] All 16384 slots covered." in r.stdout
                and "[OK] All nodes agree about slots configuration." in r.stdout
                and "[WARNING]" not in r.stdout and "[ERR]" not in r.stdout)
        return r if good else None
    try:
        r = h.wait_until(clean, 30, interval=0.3, what="a clean --cluster check")
    except TimeoutError:
        r = bh.cluster_check(node)
        raise AssertionError(f"check not clean:\n{r.stdout}\n{r.stderr}")
    assert r.stdout.count("M: ") + r.stdout.count("S: ") == nnodes, r.stdout
    return r


def _load(port):
    import redis
    rc = redis.RedisCluster(host="127.0.0.1", port=port, socket_timeout=10)
    pipe = rc.pipeline(transaction=False)
    for i in range(NKEYS):
        if i % 10 == 0:
            pipe.set(f"k{i}", f"v{i}", ex=100000)
        else:
            pipe.set(f"k{i}", f"v{i}")
    pipe.execute()
    rc.close()


def _verify(nodes):
    """Every key readable through the cluster with its value and TTL, and held by
    exactly one master (COUNTKEYSINSLOT/DBSIZE sums match)."""
    import redis
    rc = redis.RedisCluster(host="127.0.0.1", port=nodes[0].port, socket_timeout=10)
    pipe = rc.pipeline(transaction=False)
    for i in range(NKEYS):
        pipe.get(f"k{i}")
    vals = pipe.execute()
    assert vals == [f"v{i}".encode() for i in range(NKEYS)]
    pipe = rc.pipeline(transaction=False)
    for i in range(0, NKEYS, 10):
        pipe.ttl(f"k{i}")
    ttls = pipe.execute()
    assert all(99000 < t <= 100000 for t in ttls), ttls[:10]
    rc.close()
    total = 0
    for n in nodes:
        with n.raw() as c:
            role = c.call("ROLE")
            if role[0] == b"master":
                total += c.call("DBSIZE")
    assert total == NKEYS


def _ids(nodes):
    return [bh.myid(n) for n in nodes]


def test_reshard_add_rebalance_del_fix(servers):
    nodes = bh.start_cluster(servers, 3)
    p0 = f"127.0.0.1:{nodes[0].port}"
    _load(nodes[0].port)
    _verify(nodes)
    ids = _ids(nodes)

    # reshard: 200 slots from the first master to the second, pipelined 7 keys at a time.
    _ok(_cli("--cluster", "reshard", p0, "--cluster-from", ids[0], "--cluster-to", ids[1],
             "--cluster-slots", "200", "--cluster-yes", "--cluster-pipeline", "7"))
    _check(nodes[0], 3)
    _verify(nodes)
    with nodes[1].raw() as c:
        nd = {n["id"]: n for n in bh.cluster_nodes(nodes[1])}
    assert "0-199" in nd[ids[1]]["slots"], nd[ids[1]]["line"]

    # add-node as a master, then one as its replica.
    new = servers.shoal(extra_args=["--cluster-node-timeout", "5000"])
    _ok(_cli("--cluster", "add-node", f"127.0.0.1:{new.port}", p0))
    rep = servers.shoal(extra_args=["--cluster-node-timeout", "5000"])
    new_id = bh.myid(new)
    bh.wait_healthy(nodes + [new], 4, timeout=30)
    _ok(_cli("--cluster", "add-node", f"127.0.0.1:{rep.port}", p0, "--cluster-slave",
             "--cluster-master-id", new_id))
    all_nodes = nodes + [new, rep]
    h.wait_until(lambda: any(n["id"] == bh.myid(rep) and n["master"] == new_id
                             for n in bh.cluster_nodes(nodes[0])), 30, interval=0.2,
                 what="the replica is known everywhere")
    _check(nodes[0], 5)

    # rebalance onto the empty master (its replica follows the data); a small weight
    # keeps the number of slots moved (each a handful of SETSLOTs) modest.
    _ok(_cli("--cluster", "rebalance", p0, "--cluster-use-empty-masters", "--cluster-pipeline", "13",
             "--cluster-weight", f"{new_id}=0.05"))
    _check(nodes[0], 5)
    _verify(all_nodes)
    with new.raw() as c:
        assert c.call("DBSIZE") > NKEYS // 100

    # rebalance with a weight of 0 empties it; then del-node the replica and the master.
    _ok(_cli("--cluster", "rebalance", p0, "--cluster-weight", f"{new_id}=0"))
    _check(nodes[0], 5)
    _verify(all_nodes)
    # Emptied, it follows a master (cluster-allow-replica-migration yes), as 7.0.15 does,
    # with no slot left open.
    h.wait_until(lambda: bh.cluster_nodes(new) and
                 "slave" in next(v for v in bh.cluster_nodes(new) if "myself" in v["flags"])["flags"],
                 30, interval=0.2, what="the emptied master turns replica")
    assert not any(r.startswith("[") for v in bh.cluster_nodes(new) for r in v["slots"])
    _ok(_cli("--cluster", "del-node", p0, bh.myid(rep)))
    _ok(_cli("--cluster", "del-node", p0, new_id))
    _check(nodes[0], 3)
    _verify(nodes)
    for n in nodes:
        assert all(v["id"] not in (new_id,) for v in bh.cluster_nodes(n))

    # fix, open slot both ways: half the keys of a slot moved, marks left behind.
    ids = _ids(nodes)
    owner_of = {}
    for n in bh.cluster_nodes(nodes[0]):
        for r in n["slots"]:
            if r.startswith("["):
                continue
            a, _, b = r.partition("-")
            for s in range(int(a), int(b or a) + 1):
                owner_of[s] = n["id"]
    with nodes[0].raw() as c:
        slot = next(s for s in range(16384) if owner_of[s] == ids[0] and
                    c.call("CLUSTER", "COUNTKEYSINSLOT", str(s)) >= 2)
        keys = c.call("CLUSTER", "GETKEYSINSLOT", str(slot), "100")
    with nodes[2].raw() as c:
        assert c.call("CLUSTER", "SETSLOT", str(slot), "IMPORTING", ids[0]) == "OK"
    with nodes[0].raw() as c:
        assert c.call("CLUSTER", "SETSLOT", str(slot), "MIGRATING", ids[2]) == "OK"
        r = c.call("MIGRATE", "127.0.0.1", str(nodes[2].port), "", "0", "5000", "KEYS", keys[0])
        assert r == "OK", r
    r = bh.cluster_check(nodes[0])
    assert "[WARNING]" in r.stdout and str(slot) in r.stdout, r.stdout
    _ok(_cli("--cluster", "fix", p0, "--cluster-yes"))
    _check(nodes[0], 3)
    _verify(nodes)

    # fix, an unassigned slot (empty: DELSLOTS on its owner).
    with nodes[1].raw() as c:
        empty = next(s for s in range(16384) if owner_of.get(s) == ids[1] and
                     c.call("CLUSTER", "COUNTKEYSINSLOT", str(s)) == 0)
        assert c.call("CLUSTER", "DELSLOTS", str(empty)) == "OK"
    h.wait_until(lambda: "[ERR] Not all 16384 slots are covered" in bh.cluster_check(nodes[0]).stdout,
                 30, interval=0.2, what="check sees the hole")
    _ok(_cli("--cluster", "fix", p0, "--cluster-yes", answer="yes"))
    _check(nodes[0], 3)
    _verify(nodes)


def _key_in_slot(slot):
    for i in range(1000000):
        tag = f"r{i}".encode()
        if h.crc16(tag) % 16384 == slot:
            return "{" + tag.decode() + "}x"
    raise AssertionError(slot)


def test_reshard_replace_and_all_sources(servers):
    nodes = bh.start_cluster(servers, 3)
    p0 = f"127.0.0.1:{nodes[0].port}"
    _load(nodes[0].port)
    ids = _ids(nodes)
    # A stale copy of a key on the target of the first slot the reshard moves (the
    # source's lowest): --cluster-replace has MIGRATE overwrite it.
    first = min(_lo(r) for r in next(v for v in bh.cluster_nodes(nodes[1]) if "myself" in v["flags"])["slots"])
    key = _key_in_slot(first)
    with nodes[1].raw() as c:
        assert c.call("SET", key, "real") == "OK"
    with nodes[2].raw() as c:
        assert c.call("CLUSTER", "SETSLOT", str(first), "IMPORTING", ids[1]) == "OK"
        assert c.call("ASKING") == "OK"
        assert c.call("SET", key, "stale") == "OK"
        assert c.call("CLUSTER", "SETSLOT", str(first), "STABLE") == "OK"
    _ok(_cli("--cluster", "reshard", p0, "--cluster-from", ids[1], "--cluster-to", ids[2],
             "--cluster-slots", "50", "--cluster-yes", "--cluster-replace"))
    _check(nodes[0], 3)
    with nodes[2].raw() as c:
        assert c.call("GET", key) == b"real"
        assert c.call("DEL", key) == 1
    with nodes[1].raw() as c:
        assert c.call("GET", key) == f"MOVED {first} 127.0.0.1:{nodes[2].port}"
    _verify(nodes)
    # all sources to one target: --cluster-from all.
    _ok(_cli("--cluster", "reshard", p0, "--cluster-from", "all", "--cluster-to", ids[0],
             "--cluster-slots", "300", "--cluster-yes"))
    _check(nodes[0], 3)
    _verify(nodes)


def _lo(r):
    return int(r.partition("-")[0])


def test_mixed_reshard_redis_to_shoal_and_back(servers):
    """A slot range moved from a redis-server master to a shoal master and back by
    `redis-cli --cluster reshard`, keys, values and TTLs checked on both sides."""
    r0 = servers.redis(extra_args=["--cluster-node-timeout", "5000"])
    s1 = servers.shoal(extra_args=["--cluster-node-timeout", "5000"])
    r2 = servers.redis(extra_args=["--cluster-node-timeout", "5000"])
    nodes = [r0, s1, r2]
    r = bh.create_cluster(nodes)
    assert r.returncode == 0, r.stdout + r.stderr
    bh.wait_healthy(nodes, 3, timeout=30)
    _load(r0.port)
    _verify(nodes)
    ids = _ids(nodes)
    p = f"127.0.0.1:{s1.port}"
    # redis-server -> shoal: 300 slots (the lowest of r0's range), then back.
    _ok(_cli("--cluster", "reshard", p, "--cluster-from", ids[0], "--cluster-to", ids[1],
             "--cluster-slots", "300", "--cluster-yes", "--cluster-pipeline", "5"))
    _check(s1, 3)
    _verify(nodes)
    with s1.raw() as c:
        moved = sum(c.call("CLUSTER", "COUNTKEYSINSLOT", str(s)) for s in range(300))
        assert moved > 0
    with r0.raw() as c:
        assert sum(c.call("CLUSTER", "COUNTKEYSINSLOT", str(s)) for s in range(300)) == 0
    _ok(_cli("--cluster", "reshard", p, "--cluster-from", ids[1], "--cluster-to", ids[0],
             "--cluster-slots", "400", "--cluster-yes"))
    _check(r0, 3)
    _verify(nodes)
    with r0.raw() as c:
        back = sum(c.call("CLUSTER", "COUNTKEYSINSLOT", str(s)) for s in range(300))
    assert back == moved
