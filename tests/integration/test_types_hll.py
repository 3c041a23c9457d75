"""HyperLogLog commands (PFADD, PFCOUNT, PFMERGE, PFDEBUG) compared with a real
redis-server 7.0.15, down to the bytes of the values.

The same PFADD/PFMERGE sequence on shoal and on redis-server must give identical GET
bytes (sparse opcodes, promotion to dense at hll-sparse-max-bytes, cached cardinality
and its stale bit), an HLL copied either way as raw bytes must count the same, corrupt
values must get 7.0.15's errors, and a replica of shoal must end with the same bytes
(PFCOUNT's cache update included). The reference is the contract.
"""
import random

import pytest

import diffhelpers as d
import helpers as h
import replhelpers as rh

SCENARIOS = {
    "pfadd_pfcount": [
        ("PFADD", "h"), ("GET", "h"), ("PFCOUNT", "h"), ("GET", "h"), ("PFADD", "h"),
        ("PFADD", "h", "a", "b", "c"), ("GET", "h"), ("PFADD", "h", "a"), ("PFCOUNT", "h"), ("GET", "h"),
        ("PFADD", "h", *[f"e{i}" for i in range(200)]), ("PFCOUNT", "h"), ("GET", "h"),
        ("PFCOUNT", "missing"), ("PFADD", "h2", ""), ("GET", "h2"), ("PFADD", "h2", "x" * 1000, "\x00\xff"),
        ("GET", "h2"), ("PFCOUNT", "h2"), ("PFADD",), ("PFCOUNT",), ("PFADD", "h", "a", "a", "a"),
    ],
    "pfcount_union_pfmerge": [
        ("PFADD", "{u}a", *[f"a{i}" for i in range(100)]), ("PFADD", "{u}b", *[f"a{i}" for i in range(50, 150)]),
        ("PFCOUNT", "{u}a", "{u}b"), ("PFCOUNT", "{u}a", "{u}missing"), ("PFCOUNT", "{u}x", "{u}y"),
        ("PFMERGE", "{u}c", "{u}a", "{u}b"), ("GET", "{u}c"), ("PFCOUNT", "{u}c"), ("GET", "{u}c"),
        ("PFMERGE", "{u}a", "{u}b"), ("GET", "{u}a"), ("PFMERGE", "{u}d"), ("GET", "{u}d"),
        ("PFMERGE", "{u}e", "{u}missing"), ("GET", "{u}e"), ("SET", "{u}s", "x"), ("PFMERGE", "{u}f", "{u}a", "{u}s"),
        ("EXISTS", "{u}f"), ("PFCOUNT", "{u}a", "{u}s"), ("PFMERGE",), ("SET", "{u}t", "x", "EX", "100"),
        ("PFMERGE", "{u}t", "{u}a"),
    ],
    "dense": [
        ("PFADD", "big", *[f"m{i}" for i in range(3000)]), ("PFDEBUG", "ENCODING", "big"), ("GET", "big"),
        ("PFCOUNT", "big"), ("GET", "big"), ("PFADD", "big", *[f"n{i}" for i in range(3000)]), ("PFCOUNT", "big"),
        ("PFADD", "small", "x"), ("PFMERGE", "small", "big"), ("PFDEBUG", "ENCODING", "small"), ("GET", "small"),
        ("PFADD", "s2", "x", "y"), ("PFMERGE", "s3", "s2"), ("PFDEBUG", "ENCODING", "s3"),
        ("PFCOUNT", "big", "s2"),
    ],
    "pfdebug": [
        ("PFADD", "p", "a", "b", "c", "d"), ("PFDEBUG", "DECODE", "p"), ("PFDEBUG", "ENCODING", "p"),
        ("PFDEBUG", "decode", "p"), ("PFDEBUG", "TODENSE", "p"), ("PFDEBUG", "TODENSE", "p"), ("GET", "p"),
        ("PFDEBUG", "DECODE", "p"), ("PFDEBUG", "ENCODING", "p"), ("PFDEBUG", "FOO", "p"),
        ("PFDEBUG", "DECODE", "missing"), ("SET", "s", "x"), ("PFDEBUG", "DECODE", "s"),
        ("PFADD", "q", "z"), ("PFDEBUG", "GETREG", "q"), ("PFDEBUG", "ENCODING", "q"), ("GET", "q"),
        ("PFDEBUG", "DECODE"), ("PFDEBUG", "FOO\x00BAR", "q"),
    ],
    "not_hll_and_corrupt": [
        ("SET", "s", "hello world, not an hll"), ("PFADD", "s", "a"), ("PFCOUNT", "s"), ("PFMERGE", "s"),
        ("SET", "s", "HYLL"), ("PFCOUNT", "s"), ("SET", "s", "HYLL\x02" + "\x00" * 11), ("PFCOUNT", "s"),
        ("SET", "s", "HYLL\x00" + "\x00" * 11), ("PFCOUNT", "s"),
        ("SET", "s", "HYLL\x01" + "\x00" * 11), ("PFCOUNT", "s"), ("PFADD", "s", "a"), ("GET", "s"),
        ("SET", "s", "HYLL\x01" + "\x00" * 10 + "\x80"), ("PFCOUNT", "s"), ("PFADD", "s", "a"),
        ("SET", "s", "HYLL\x01" + "\x00" * 10 + "\x80" + "\x7f\xfe"), ("PFCOUNT", "s"), ("PFADD", "s", "a", "b", "c"),
        ("GET", "s"), ("PFCOUNT", "s"),
        ("SET", "s", "HYLL\x01\x05\x06\x07" + "\x00" * 7 + "\x80" + "\x7f\xff"), ("PFADD", "s", "a"), ("GET", "s"),
        ("PFDEBUG", "TODENSE", "s"), ("GET", "s"),
        ("SET", "s", "HYLL\x01" + "\x00" * 10 + "\x80" + "\x7f\xff\x7f\xff"), ("PFCOUNT", "s"), ("PFADD", "s", "q"),
        ("PFCOUNT", "s", "s"), ("PFMERGE", "t", "s"), ("PFDEBUG", "TODENSE", "s"), ("PFDEBUG", "GETREG", "s"),
        ("SET", "s", "HYLL\x01" + "\x00" * 10 + "\x80" + "\xfc\xfc\x7f\xff"), ("PFCOUNT", "s"), ("PFADD", "s", "q"),
        ("SET", "s", "HYLL\x01" + "\x00" * 7 + "\x55\x00\x00\x80" + "\x7f\xff"), ("PFADD", "s"), ("PFCOUNT", "s"),
        ("SET", "s", "HYLL\x01" + "\x00" * 7 + "\x05\x00\x00\x00" + "\x7f\xff"), ("PFCOUNT", "s"), ("GET", "s"),
    ],
    "wrongtype": [
        ("RPUSH", "l", "x"), ("PFADD", "l", "a"), ("PFCOUNT", "l"), ("PFCOUNT", "{l}missing", "l"),
        ("PFMERGE", "{l}d", "l"), ("PFMERGE", "l"), ("PFDEBUG", "ENCODING", "l"), ("PFDEBUG", "FOO", "l"),
        ("EXISTS", "{l}d"),
    ],
    "ttl_kept": [
        ("PFADD", "{v}t", "a"), ("EXPIRE", "{v}t", "1000"), ("PFADD", "{v}t", "b", "c"), ("TTL", "{v}t"),
        ("PFCOUNT", "{v}t"), ("TTL", "{v}t"), ("PFADD", "{v}o", "z"), ("PFMERGE", "{v}t", "{v}o"), ("TTL", "{v}t"),
        ("PFDEBUG", "TODENSE", "{v}t"), ("TTL", "{v}t"), ("PFADD", "{v}t", "q"), ("TTL", "{v}t"), ("GET", "{v}t"),
        ("MULTI",), ("PFADD", "{v}m", "a"), ("PFCOUNT", "{v}m"), ("PFMERGE", "{v}m", "{v}t"), ("EXEC",),
        ("GET", "{v}m"),
    ],
    "crossslot": [
        ("PFCOUNT", "a", "b"), ("PFMERGE", "a", "b"), ("PFCOUNT", "{z}a", "{z}b"), ("PFMERGE", "{z}a", "{z}b"),
    ],
}


@pytest.mark.parametrize("proto", [2, 3])
@pytest.mark.parametrize("name", sorted(SCENARIOS))
def test_same_replies_as_redis(snode, sref, name, proto):
    d.assert_same(snode, sref, SCENARIOS[name], proto)


KEYS = ["{r}h%d" % i for i in range(5)]


def _random_command(rng, pool):
    k = rng.choice(KEYS)
    r = rng.random()
    if r < 0.75:
        # many elements from a bounded pool: registers fill, values repeat, some keys
        # stay sparse for long and some cross the 3000-byte promotion line
        n = rng.choice([1, 2, 5, 20, 200])
        return ("PFADD", k, *[pool[rng.randrange(len(pool))] for _ in range(n)])
    if r < 0.87:
        return ("PFCOUNT", k)
    if r < 0.92:
        return ("PFCOUNT", *rng.sample(KEYS, rng.randint(2, 4)))
    if r < 0.97:
        return ("PFMERGE", k, *rng.sample(KEYS, rng.randint(0, 3)))
    if r < 0.985:
        return ("GET", k)
    return ("DEL", k)


@pytest.mark.parametrize("proto", [2, 3])
def test_random_stream_same_as_redis(snode, sref, proto):
    rng = random.Random(1000 + proto)
    pool = ["el:%d:%s" % (i, rng.getrandbits(32)) for i in range(20000)]
    # the HLL logic is the same in both protocols: RESP3 checks the reply shapes on fewer
    cmds = [_random_command(rng, pool) for _ in range(100_000 if proto == 2 else 25_000)]
    d.assert_same(snode, sref, cmds, proto, pipeline=True)
    assert d.values(snode, KEYS) == d.values(sref, KEYS)


@pytest.mark.parametrize("limit", ["0", "100", "20000"])
def test_sparse_max_bytes_promotion(snode, sref, limit):
    for srv in (snode, sref):
        with srv.raw() as c:
            assert c.call("CONFIG", "SET", "hll-sparse-max-bytes", limit) == "OK"
    try:
        rng = random.Random(int(limit))
        cmds = []
        for i in range(60):
            cmds.append(("PFADD", "p", *["x%d" % rng.getrandbits(40) for _ in range(40)]))
            cmds.append(("PFDEBUG", "ENCODING", "p"))
            cmds.append(("GET", "p"))
        cmds.append(("PFCOUNT", "p"))
        d.assert_same(snode, sref, cmds)
    finally:
        for srv in (snode, sref):
            with srv.raw() as c:
                c.call("CONFIG", "SET", "hll-sparse-max-bytes", "3000")


def test_values_copied_either_way_count_the_same(snode, sref):
    """An HLL built on one server, SET as raw bytes on the other, counts (and grows) the same."""
    rng = random.Random(5)
    for n in (1, 10, 300, 5000):
        elements = ["c%d" % rng.getrandbits(48) for _ in range(n)]
        for src, dst in ((sref, snode), (snode, sref)):
            with src.raw() as a, dst.raw() as b:
                a.call("DEL", "src")
                for i in range(0, n, 500):
                    a.call("PFADD", "src", *elements[i:i + 500])
                raw = a.call("GET", "src")
                assert b.call("SET", "copy", raw) == "OK"
                assert b.call("PFCOUNT", "copy") == a.call("PFCOUNT", "src")
                assert b.call("PFADD", "copy", "one-more") == a.call("PFADD", "src", "one-more")
                assert b.call("GET", "copy") == a.call("GET", "src")


def test_pfselftest(snode, sref):
    d.assert_same(snode, sref, [("PFSELFTEST",), ("PFSELFTEST", "x")])


def test_command_info_matches_redis(snode, sref):
    names = ["pfadd", "pfcount", "pfmerge", "pfdebug", "pfselftest"]
    d.assert_same(snode, sref, [("COMMAND", "INFO", *names), ("COMMAND", "GETKEYS", "PFMERGE", "d", "a", "b"),
                                ("COMMAND", "GETKEYS", "PFCOUNT", "a", "b"), ("COMMAND", "GETKEYS", "PFDEBUG", "x", "k")])


PAIRS = [("shoal", "shoal"), ("shoal", "redis"), ("redis", "shoal")]


@pytest.mark.parametrize("master_kind,replica_kind", PAIRS)
def test_replica_has_same_bytes(servers, master_kind, replica_kind):
    """Half the writes before the replica attaches (they travel in the full sync's RDB),
    half after (in the command stream); either way the replica ends with the master's
    bytes, whichever of the two servers plays which part."""
    rng = random.Random(11)
    pool = ["r%d" % i for i in range(8000)]
    cmds = [c for c in (_random_command(rng, pool) for _ in range(3000)) if c[0] != "GET"]
    # PFCOUNT of one key writes its cached estimate and is propagated: the replica's
    # bytes include it only if that write reached it
    half = len(cmds) // 2
    cmds += [("PFCOUNT", k) for k in KEYS] + [("PFDEBUG", "TODENSE", KEYS[0])]
    cmds += [("MULTI",), ("PFADD", KEYS[1], "m1", "m2"), ("PFCOUNT", KEYS[1]), ("PFMERGE", KEYS[2], KEYS[1]),
             ("EXEC",), ("PFCOUNT", KEYS[2])]
    master, replica, _ = rh.make_pair(servers, master_kind, replica_kind,
                                      writes_before=lambda m: d.pipelined(m, cmds[:half]))
    d.pipelined(master, cmds[half:])
    rh.wait_offsets_equal(master, replica)
    assert d.values(replica, KEYS) == d.values(master, KEYS)
    rh.assert_same_data(master, replica)
    # a READONLY PFCOUNT on the replica of a stale estimate caches it there, as the
    # master's own PFCOUNT does: same answer, then the same bytes on both
    d.pipelined(master, [("PFADD", k, "late-%s" % k) for k in KEYS])
    rh.wait_offsets_equal(master, replica)
    with replica.raw() as c:
        assert c.call("READONLY") == "OK"
        on_replica = [c.call("PFCOUNT", k) for k in KEYS]
    with master.raw() as c:
        assert [c.call("PFCOUNT", k) for k in KEYS] == on_replica
    rh.wait_offsets_equal(master, replica)
    assert d.values(replica, KEYS) == d.values(master, KEYS)


def _mutate(rng, raw):
    """A damaged copy of an HLL value: opcode bytes changed, cut short, extended, header
    bytes or the encoding changed. None when the damage leaves a trailing XZERO cut after
    its first byte: redis-server then reads the byte past the string's end, whatever its
    allocation holds there, which no other server can reproduce."""
    raw = bytearray(raw)
    for _ in range(rng.randint(1, 3)):
        m = rng.random()
        if m < 0.5 and len(raw) > 16:
            raw[rng.randrange(16, len(raw))] = rng.getrandbits(8)
        elif m < 0.65:
            raw = raw[:rng.randint(16, len(raw))]
        elif m < 0.8:
            raw += bytes(rng.getrandbits(8) for _ in range(rng.randint(1, 3)))
        elif m < 0.9:
            raw[rng.randrange(5, 16)] = rng.getrandbits(8)
        else:
            raw[4] = rng.choice([0, 1])
    i = 16
    while i < len(raw):
        i += 2 if (raw[i] & 0xc0) == 0x40 else 1
    return None if i > len(raw) else bytes(raw)


def test_damaged_values_same_as_redis(snode, sref):
    """Corrupt and odd sparse values (runs past register 16383, too few registers, VAL
    opcodes after a full XZERO, odd header bytes) get the same replies, errors and bytes:
    the reference carries the CVE-2025-32023 checks, so must we."""
    rng = random.Random(4242)
    h_, g_ = "{x}h", "{x}g"
    with snode.raw(timeout=20) as a, sref.raw(timeout=20) as b:
        def both(*args):
            ra, rb = a.raw(*args), b.raw(*args)
            assert ra == rb, f"{args[:3]}: redis {rb[:200]!r}, shoal {ra[:200]!r}"
        done = 0
        while done < 600:
            both("DEL", h_, g_)
            k = rng.choice([0, 1, 3, 20, 100, 400])
            both("PFADD", h_, *[str(rng.random()) for _ in range(k)])
            raw = _mutate(rng, b.call("GET", h_))
            if raw is None:
                continue
            done += 1
            both("SET", h_, raw)
            if rng.random() < 0.3:
                both("CONFIG", "SET", "hll-sparse-max-bytes", str(rng.choice([0, 20, 40, 100, 3000])))
            ops = [("PFADD", h_, *[str(rng.random()) for _ in range(rng.randint(0, 30))]), ("PFCOUNT", h_),
                   ("GET", h_), ("PFCOUNT", h_, g_), ("PFMERGE", g_, h_), ("GET", g_), ("PFMERGE", h_, g_),
                   ("GET", h_), ("PFDEBUG", "TODENSE", h_), ("GET", h_), ("PFDEBUG", "DECODE", h_),
                   ("PFDEBUG", "GETREG", h_)]
            rng.shuffle(ops)
            for op in ops:
                both(*op)
        both("CONFIG", "SET", "hll-sparse-max-bytes", "3000")


def test_dump_restore_either_way_counts_the_same(snode, sref):
    """An HLL (sparse, dense, with a stale or a valid cache) moved by DUMP/RESTORE from
    either server to the other keeps its bytes and counts the same; so does a bitmap."""
    rng = random.Random(9)
    for n in (0, 5, 300, 4000):
        for src, dst in ((sref, snode), (snode, sref)):
            with src.raw() as a, dst.raw() as b:
                a.call("DEL", "src")
                b.call("DEL", "copy")
                a.call("PFADD", "src", *["d%d" % rng.getrandbits(40) for _ in range(n)])
                if n % 2:
                    a.call("PFCOUNT", "src")           # a valid cached estimate travels too
                payload = a.call("DUMP", "src")
                assert b.call("RESTORE", "copy", "0", payload) == "OK"
                assert b.call("GET", "copy") == a.call("GET", "src")
                assert b.call("PFCOUNT", "copy") == a.call("PFCOUNT", "src")
                assert b.call("PFADD", "copy", "x", "y") == a.call("PFADD", "src", "x", "y")
                assert b.call("GET", "copy") == a.call("GET", "src")
                a.call("SETBIT", "bm", str(rng.randint(0, 5000)), "1")
                b.call("DEL", "bm2")
                assert b.call("RESTORE", "bm2", "0", a.call("DUMP", "bm")) == "OK"
                assert b.call("BITCOUNT", "bm2") == a.call("BITCOUNT", "bm")
                assert b.call("GET", "bm2") == a.call("GET", "bm")
