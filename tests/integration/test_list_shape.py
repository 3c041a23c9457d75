"""list-max-listpack-size and list-compress-depth as redis-server 7.0.15 honours them,
seen through DUMP payloads (a list's node boundaries and which nodes are LZF blobs) and
through RDB files.

What it is for: 7.0.15 fixes a list's node size and compress depth when the list is made
(a later CONFIG SET shapes only new lists; SORT ... STORE makes its list with the
built-in -2 / 0; COPY keeps the original's), and writes the nodes it holds compressed
(all but compress-depth nodes at each end, once there are more than twice that many) as
LZF blobs even with rdbcompression no. The same command sequences run on shoal and
redis-server and every DUMP must be byte-identical; a dump.rdb of compressed nodes
written by redis-server loads into shoal with the same content.

Not covered: LINSERT. 7.0.15 leaves the node a middle insertion creates (a split, or a
new node between full ones) uncompressed until a later operation compresses it, where
shoal writes every node beyond the depth compressed; the content is the same, the DUMP
bytes of such a node differ.

What it must never do: depend on anything random that the two servers would draw apart
(the sequences are seeded and use no random commands).
"""
import random
import shutil

import helpers as h

SA = "standalone"


def _elem(rng):
    kind = rng.random()
    if kind < 0.3:
        return str(rng.randint(-1000, 100000))
    if kind < 0.9:
        return "item-%d-%s" % (rng.randint(0, 20), "x" * rng.randint(0, 40))
    return "".join(rng.choice("abcdefghijklmnopqrstuvwxyz0123456789") for _ in range(rng.randint(1, 300)))


def _sequence(seed, n):
    rng = random.Random(seed)
    cmds = []
    for _ in range(n):
        r = rng.random()
        key = "l%d" % rng.randint(0, 2)
        if r < 0.35:
            cmds.append(("RPUSH", key) + tuple(_elem(rng) for _ in range(rng.randint(1, 8))))
        elif r < 0.6:
            cmds.append(("LPUSH", key) + tuple(_elem(rng) for _ in range(rng.randint(1, 8))))
        elif r < 0.68:
            cmds.append(("LPOP" if rng.random() < 0.5 else "RPOP", key, str(rng.randint(1, 3))))
        elif r < 0.82:
            cmds.append(("LSET", key, str(rng.randint(-20, 20)), _elem(rng)))
        elif r < 0.86:
            cmds.append(("LREM", key, str(rng.randint(-2, 2)), "item-%d-" % rng.randint(0, 20)))
        elif r < 0.89:
            cmds.append(("LTRIM", key, str(rng.randint(0, 3)), str(rng.randint(-4, -1))))
        elif r < 0.93:
            cmds.append(("LMOVE", key, "l%d" % rng.randint(0, 2), rng.choice(("LEFT", "RIGHT")),
                         rng.choice(("LEFT", "RIGHT"))))
        elif r < 0.96:
            cmds.append(("CONFIG", "SET", "list-max-listpack-size", str(rng.choice((-1, -2, -3, 1, 2, 4, 7)))))
        else:
            cmds.append(("CONFIG", "SET", "list-compress-depth", str(rng.choice((0, 1, 2, 3)))))
    return cmds


def _play(server, cmds, fill, depth):
    dumps = []
    with server.raw() as c:
        c.call("FLUSHALL")
        c.call("CONFIG", "SET", "rdbcompression", "no")
        c.call("CONFIG", "SET", "list-max-listpack-size", str(fill))
        c.call("CONFIG", "SET", "list-compress-depth", str(depth))
        for i, cmd in enumerate(cmds):
            reply = c.call(*cmd)
            if i % 25 == 24 or i == len(cmds) - 1:
                dumps.append((i, reply, [c.call("DUMP", "l%d" % k) for k in range(3)]))
        c.call("RPUSH", "src", "3", "1", "2", "x" * 60, "y" * 60, "z" * 60)
        dumps.append(("sort", c.call("SORT", "src", "ALPHA", "STORE", "sorted"), c.call("DUMP", "sorted")))
        dumps.append(("copy", c.call("COPY", "l0", "l0copy"), c.call("DUMP", "l0copy")))
    return dumps


def test_list_dump_shape_as_redis(servers):
    shoal = servers.shoal(base_args=SA)
    redis = servers.redis(base_args=SA)
    for seed, fill, depth in ((1, -2, 1), (2, 2, 1), (3, 3, 2), (4, -1, 3), (5, 1, 1), (6, 5, 0)):
        cmds = _sequence(seed, 1500)
        got = _play(shoal, cmds, fill, depth)
        want = _play(redis, cmds, fill, depth)
        for g, w in zip(got, want):
            assert g == w, (seed, fill, depth, g[0])


def test_compressed_nodes_rdb_from_redis(servers, tmp_path):
    src, dst = tmp_path / "redis", tmp_path / "shoal"
    src.mkdir()
    dst.mkdir()
    port = h.free_port()
    redis = servers.redis(base_args=False, port=port, name="redis-writer",
                          extra_args=["--port", str(port), "--bind", "127.0.0.1", "--dir", str(src), "--logfile", "",
                                      "--save", "", "--appendonly", "no", "--daemonize", "no",
                                      "--list-compress-depth", "1", "--list-max-listpack-size", "4",
                                      "--rdbcompression", "no"])
    with redis.raw() as c:
        for i in range(50):
            c.call("RPUSH", "big", *["element-%d-%s" % (i * 10 + j, "abc" * 20) for j in range(10)])
        c.call("RPUSH", "small", "a", "b")
        want = {k: (c.call("LRANGE", k, "0", "-1"), c.call("DUMP", k)) for k in ("big", "small")}
        assert c.call("SAVE") == "OK"
    data = (src / "dump.rdb").read_bytes()
    assert b"\xc3" in data        # LZF blobs, though rdbcompression is off
    shutil.copy(src / "dump.rdb", dst / "dump.rdb")
    port = h.free_port()
    node = servers.shoal(base_args=False, port=port, name="shoal-reader",
                         extra_args=["--port", str(port), "--bind", "127.0.0.1", "--dir", str(dst), "--logfile", "",
                                     "--list-compress-depth", "1", "--list-max-listpack-size", "4",
                                     "--rdbcompression", "no"])
    with node.raw() as c:
        got = {k: (c.call("LRANGE", k, "0", "-1"), c.call("DUMP", k)) for k in ("big", "small")}
    assert got == want
