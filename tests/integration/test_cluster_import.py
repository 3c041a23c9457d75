"""`redis-cli --cluster import` from a standalone node into a cluster of shoal nodes.

What it is for: the last `redis-cli --cluster` operation of docs/clients.md §4.4-4.9. redis-cli
7.0.15 checks that the source is not a cluster node, SCANs it and sends the source one
`MIGRATE <owner> <port> <key> 0 <timeout> [COPY] [REPLACE]` per key, to the master that owns
the key's slot; the source answers MIGRATE by sending a plain RESTORE (it is not a cluster
node itself). Sources: a standalone shoal-node (the keys move: the source ends empty) and a
standalone redis-server 7.0.15 (with --cluster-copy and --cluster-replace: the source keeps its
keys, and a key already in the cluster is replaced). Afterwards every key is readable through
the cluster with its value, type and TTL, each on exactly one master, and `--cluster check` is
clean; the same import into a cluster of redis-server nodes gives the same counts.

What it must never do: weaken an expectation to match our node; wait with fixed sleeps where a
condition can be polled.
"""
import subprocess

import helpers as h
import bushelpers as bh

NKEYS = 500


def _fill(node):
    """Strings (every 10th with a TTL), a list, a hash and a set, pipelined."""
    with node.raw(timeout=30) as c:
        cmds = []
        for i in range(NKEYS):
            cmds.append(("SET", f"imp:{i}", f"v{i}") + (("EX", "100000") if i % 10 == 0 else ()))
        cmds += [("RPUSH", "imp:list", "a", "b", "c"), ("HSET", "imp:hash", "f", "1", "g", "2"),
                 ("SADD", "imp:set", "x", "y")]
        c.send(b"".join(h.encode(*x) for x in cmds))
        for _ in cmds:
            assert not isinstance(c.read()[1], h.Error)
        return c.call("DBSIZE")


def _import(cluster_node, source, *flags):
    r = subprocess.run([h.REDIS_CLI, "--cluster", "import", f"127.0.0.1:{cluster_node.port}",
                        "--cluster-from", f"127.0.0.1:{source.port}", *flags],
                       capture_output=True, text=True, timeout=300, stdin=subprocess.DEVNULL)
    assert r.returncode == 0, f"exit {r.returncode}\n{r.stdout[-3000:]}\n{r.stderr[-2000:]}"
    assert "[ERR]" not in r.stdout, r.stdout[-3000:]
    return r


def _verify(nodes, expect_total):
    import redis
    rc = redis.RedisCluster(host="127.0.0.1", port=nodes[0].port, socket_timeout=10)
    try:
        pipe = rc.pipeline(transaction=False)
        for i in range(NKEYS):
            pipe.get(f"imp:{i}")
        assert pipe.execute() == [f"v{i}".encode() for i in range(NKEYS)]
        pipe = rc.pipeline(transaction=False)
        for i in range(0, NKEYS, 10):
            pipe.ttl(f"imp:{i}")
        ttls = pipe.execute()
        assert all(99000 < t <= 100000 for t in ttls), ttls[:10]
        assert rc.ttl("imp:1") == -1
        assert rc.lrange("imp:list", 0, -1) == [b"a", b"b", b"c"]
        assert rc.hgetall("imp:hash") == {b"f": b"1", b"g": b"2"}
        assert rc.smembers("imp:set") == {b"x", b"y"}
    finally:
        rc.close()
    total = 0
    for n in nodes:
        with n.raw() as c:
            total += c.call("DBSIZE")
    assert total == expect_total
    r = bh.cluster_check(nodes[0])
    assert r.returncode == 0 and "[OK] All 16384 slots covered." in r.stdout and "[ERR]" not in r.stdout, r.stdout


def _scenario(servers, kind):
    """Both imports into a fresh cluster of `kind`; returns what was counted."""
    nodes = bh.start_cluster(servers, 3, kind=kind)
    out = {}
    # 1) a standalone shoal-node: the keys move
    src = servers.shoal(base_args="standalone")
    n = _fill(src)
    out["shoal source keys"] = n
    _import(nodes[0], src)
    with src.raw() as c:
        out["shoal source after"] = c.call("DBSIZE")
    _verify(nodes, n)
    # 2) a standalone redis-server, copied over the keys already there (REPLACE)
    ref = servers.redis(base_args="standalone")
    with ref.raw() as c:
        assert c.call("SET", "imp:extra", "e") == "OK"
    m = _fill(ref)
    out["redis source keys"] = m
    _import(nodes[0], ref, "--cluster-copy", "--cluster-replace")
    with ref.raw() as c:
        out["redis source after"] = c.call("DBSIZE")
    _verify(nodes, m)
    return out


def test_import_from_standalone_nodes(servers):
    got = _scenario(servers, "shoal")
    expected = _scenario(servers, "redis")
    assert got == expected
    assert got == {"shoal source keys": NKEYS + 3, "shoal source after": 0,
                   "redis source keys": NKEYS + 4, "redis source after": NKEYS + 4}
