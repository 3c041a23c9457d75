"""Hashes and sets through RDB files, DUMP and replication, both ways
between shoal and redis-server 7.0.15.

What it is for: a dump.rdb written by redis-server (tests/vectors/
rdb-hashset.rdb, every encoding 7.0.15 writes for hashes and sets) loads into
shoal with the same content, encodings and TTLs; shoal's SAVE loads back into
redis-server the same; DUMP payloads of listpack hashes and intsets are
Redis's bytes; a replica of either kind ends with its master's hashes and
sets, whether they came in the full sync's RDB or in the command stream
(where HINCRBYFLOAT travels as HSET and SPOP as SREM/DEL, so replicas do not
draw their own random members).

What it must never do: compare in an order that depends on a hash table.
"""
import random
import shutil
from pathlib import Path

import pytest

import diffhelpers as d
import helpers as h
import replhelpers as rh

VECTOR = Path(__file__).resolve().parents[1] / "vectors" / "rdb-hashset.rdb"


def _content(server):
    """{key: (type, encoding, content, has_ttl)} of every key, READONLY first."""
    out = {}
    with server.raw(timeout=20) as c:
        c.call("READONLY")
        cursor, keys = b"0", set()
        while True:
            cursor, chunk = c.call("SCAN", cursor, "COUNT", "1000")
            keys.update(chunk)
            if cursor in (b"0", "0"):
                break
        for k in sorted(keys):
            t = c.call("TYPE", k)
            if t == "hash":
                items = c.call("HGETALL", k)
                content = sorted(zip(items[0::2], items[1::2]))
            elif t == "set":
                content = sorted(c.call("SMEMBERS", k))
            elif t == "list":
                content = c.call("LRANGE", k, "0", "-1")
            else:
                content = c.call("GET", k)
            out[k] = (t, c.call("OBJECT", "ENCODING", k), content, c.call("PTTL", k) > 0)
    return out


def _plain(servers, kind, directory, name):
    port = h.free_port()
    args = ["--port", str(port), "--bind", "127.0.0.1", "--dir", str(directory), "--logfile", ""]
    if kind == "redis":
        args += ["--save", "", "--appendonly", "no", "--daemonize", "no"]
        return servers.redis(base_args=False, port=port, name=name, extra_args=args)
    return servers.shoal(base_args=False, port=port, name=name, extra_args=args)


def test_redis_rdb_loads_into_shoal_and_back(servers, tmp_path):
    rdir, sdir, back = tmp_path / "redis", tmp_path / "shoal", tmp_path / "back"
    for p in (rdir, sdir, back):
        p.mkdir()
    shutil.copy(VECTOR, rdir / "dump.rdb")
    shutil.copy(VECTOR, sdir / "dump.rdb")
    ref = _plain(servers, "redis", rdir, "redis-vector")
    node = _plain(servers, "shoal", sdir, "shoal-vector")
    want = _content(ref)
    assert len(want) == 9
    assert _content(node) == want
    with node.raw() as c:
        assert c.call("SAVE") == "OK"
    shutil.copy(sdir / "dump.rdb", back / "dump.rdb")
    again = _plain(servers, "redis", back, "redis-back")
    assert _content(again) == want


def _fill(c, rng):
    """Hashes and sets of every encoding and size class."""
    c.call("HSET", "h:small", "a", "1", "b", "-70000", "c", "x" * 60, "n", "12345678901234")
    c.call("HSET", "h:wide", *[x for i in range(700) for x in (f"f{i}", str(i * 7))])
    c.call("HSET", "h:long", "v", "z" * 200, "i", "5")
    c.call("SADD", "s:int", *[str(rng.randint(-10**12, 10**12)) for _ in range(100)])
    c.call("SADD", "s:int16", "1", "2", "-3")
    c.call("SADD", "s:str", *[f"m{i}" for i in range(50)])
    c.call("SADD", "s:bigint", *[str(i) for i in range(2000)])
    c.call("HSET", "h:ttl", "f", "v")
    c.call("PEXPIRE", "h:ttl", "600000")
    c.call("SADD", "s:ttl", "1", "x")
    c.call("PEXPIRE", "s:ttl", "600000")


def test_shoal_save_loads_into_redis_with_same_encodings(servers, tmp_path):
    sdir, rdir = tmp_path / "shoal", tmp_path / "redis"
    sdir.mkdir()
    rdir.mkdir()
    node = _plain(servers, "shoal", sdir, "shoal-src")
    with node.raw() as c:
        _fill(c, random.Random(3))
        assert c.call("SAVE") == "OK"
    want = _content(node)
    shutil.copy(sdir / "dump.rdb", rdir / "dump.rdb")
    ref = _plain(servers, "redis", rdir, "redis-dst")
    assert _content(ref) == want
    # a shoal restarted on its own dump agrees too
    node.stop()
    node.start()
    assert _content(node) == want


def test_dump_payloads_equal_redis(snode, sref):
    cmds = [("HSET", "d:h", "a", "1", "b", "-70000", "c", "hello", "n", "12345678901234"),
            ("SADD", "d:s", "5", "-3", "100000", "7"), ("SADD", "d:s64", "1", str(1 << 40)),
            ("HSET", "d:one", "f", "x" * 100), ("SADD", "d:one_s", "member"),
            ("DUMP", "d:h"), ("DUMP", "d:s"), ("DUMP", "d:s64"), ("DUMP", "d:one"), ("DUMP", "d:one_s")]
    assert d.run(snode, cmds) == d.run(sref, cmds)


def _writes(rng, n):
    """A stream of hash and set writes, with the effects that must be rewritten."""
    keys = [f"w{i}" for i in range(8)]
    out = []
    for _ in range(n):
        k = rng.choice(keys)
        r = rng.random()
        if r < 0.25:
            out.append(("HSET", "h" + k, f"f{rng.randint(0, 60)}", str(rng.randint(-9, 9))))
        elif r < 0.32:
            out.append(("HINCRBYFLOAT", "h" + k, f"f{rng.randint(0, 60)}", rng.choice(["0.1", "1.5", "-2.25", "1e3"])))
        elif r < 0.38:
            out.append(("HINCRBY", "h" + k, f"i{rng.randint(0, 9)}", str(rng.randint(-50, 50))))
        elif r < 0.45:
            out.append(("HDEL", "h" + k, f"f{rng.randint(0, 60)}"))
        elif r < 0.70:
            out.append(("SADD", "s" + k) + tuple(str(rng.randint(0, 700)) for _ in range(rng.randint(1, 5))))
        elif r < 0.78:
            out.append(("SREM", "s" + k, str(rng.randint(0, 700))))
        elif r < 0.86:
            out.append(("SPOP", "s" + k) + ((str(rng.randint(1, 4)),) if rng.random() < 0.5 else ()))
        elif r < 0.92:
            out.append(("SMOVE", "s" + k, "s" + rng.choice(keys), str(rng.randint(0, 700))))
        else:
            out.append(("SUNIONSTORE", "su" + k, "s" + k, "s" + rng.choice(keys)))
    return out


PAIRS = [("shoal", "shoal"), ("shoal", "redis"), ("redis", "shoal")]


@pytest.mark.parametrize("master_kind,replica_kind", PAIRS)
def test_replica_has_same_hashes_and_sets(servers, master_kind, replica_kind):
    rng = random.Random(11)
    # single-slot keys: every key of a stream in one hash tag is not needed, but
    # SMOVE/SUNIONSTORE name two keys, so the whole stream uses one tag
    cmds = [tuple(a if i == 0 or not a.startswith(("h", "s")) else "{x}" + a for i, a in enumerate(c))
            for c in _writes(rng, 3000)]
    cmds = [tuple("{x}" + a if (c[0] in ("SMOVE", "SUNIONSTORE") and i in (1, 2, 3) and not a.startswith("{x}")
                                and not a.isdigit()) else a for i, a in enumerate(c)) for c in cmds]
    half = len(cmds) // 2
    master, replica, _ = rh.make_pair(servers, master_kind, replica_kind,
                                      writes_before=lambda m: (d.pipelined(m, cmds[:half]),
                                                               _fill_raw(m)))
    d.pipelined(master, cmds[half:])
    with master.raw() as c:       # RESTORE with a relative TTL travels with an absolute one
        p = c.call("DUMP", "h:wide")
        assert c.call("RESTORE", "h:copy", "600000", p) == "OK"
        assert c.call("RESTORE", "s:int16", "0", c.call("DUMP", "s:str"), "REPLACE") == "OK"
    rh.wait_offsets_equal(master, replica)
    want = _content(master)
    assert len(want) > 10 and want[b"h:copy"][3]
    got = _content(replica)
    assert got == want


def _fill_raw(server):
    with server.raw() as c:
        _fill(c, random.Random(5))


RESTORE_SCENARIO = [
    ("HSET", "src", "a", "1", "b", "two"), ("RESTORE", "src", "0", "x"), ("RESTORE", "new", "0", "x"),
    ("RESTORE", "new", "-1", "x"), ("RESTORE", "new", "abc", "x"), ("RESTORE", "new", "0", "x", "BOGUS"),
    ("RESTORE", "new", "0", "x", "IDLETIME", "-1"), ("RESTORE", "new", "0", "x", "FREQ", "256"),
    ("RESTORE", "new", "0", "x", "IDLETIME", "1", "FREQ", "1"), ("RESTORE", "new", "0", "x", "IDLETIME"),
    ("RESTORE", "new", "0", "x", "FREQ", "x"), ("RESTORE", "new", "0"), ("EXISTS", "new"),
]


def test_restore_errors_same_as_redis(snode, sref):
    assert d.run(snode, RESTORE_SCENARIO) == d.run(sref, RESTORE_SCENARIO)


def _payloads(server):
    with server.raw() as c:
        c.call("HSET", "p:h", "a", "1", "b", "-70000", "c", "hello")
        c.call("HSET", "p:hw", *[x for i in range(600) for x in (f"f{i}", f"v{i}")])
        c.call("SADD", "p:si", "5", "-3", "100000")
        c.call("SADD", "p:ss", *[f"m{i}" for i in range(30)])
        c.call("RPUSH", "p:l", "a", "1", "b" * 100)
        c.call("SET", "p:str", "x" * 50)
        return {k: c.call("DUMP", k) for k in ("p:h", "p:hw", "p:si", "p:ss", "p:l", "p:str")}


@pytest.mark.parametrize("src_kind", ["redis", "shoal"])
def test_dump_restore_both_ways(snode, sref, src_kind):
    src, dst = (sref, snode) if src_kind == "redis" else (snode, sref)
    payloads = _payloads(src)
    with dst.raw() as c:
        for k, p in payloads.items():
            assert c.call("RESTORE", "r" + k, "0", p) == "OK"
            assert isinstance(c.call("RESTORE", "r" + k, "0", p), h.Error)      # BUSYKEY
            assert c.call("RESTORE", "r" + k, "60000", p, "REPLACE") == "OK"
            assert 0 < c.call("PTTL", "r" + k) <= 60000
        # a corrupt payload (a flipped byte before the footer) is refused either way
        bad = bytearray(payloads["p:h"])
        bad[5] ^= 0xFF
        assert c.call("RESTORE", "bad", "0", bytes(bad)) == "ERR DUMP payload version or checksum are wrong"
    got = {k[1:]: v for k, v in _content(dst).items() if k.startswith(b"rp:")}
    want = {k: v for k, v in _content(src).items() if k.startswith(b"p:")}
    assert {k: v[:3] for k, v in got.items()} == {k: v[:3] for k, v in want.items()}


def test_debug_digest_of_hashes_and_sets_as_redis(servers):
    """DEBUG DIGEST and DIGEST-VALUE fold hashes and sets as 7.0.15 does,
    whatever their encoding or member order."""
    debug = ["--enable-debug-command", "yes"]
    got = {}
    for srv in (servers.shoal(extra_args=debug + ["--worker-threads", "3"]), servers.redis(extra_args=debug)):
        h.own_all_slots(srv)
        with srv.raw() as c:
            _fill(c, random.Random(9))
            c.call("PERSIST", "h:ttl")
            c.call("PERSIST", "s:ttl")
            full = c.raw("DEBUG", "DIGEST")
            c.call("HDEL", "h:wide", "f3")
            c.call("SREM", "s:str", "m3")
            less = c.raw("DEBUG", "DIGEST")
        got[srv.kind] = (full, less)
    assert got["shoal"] == got["redis"], got
