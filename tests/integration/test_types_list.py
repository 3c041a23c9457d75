"""List commands, compared with a real redis-server 7.0.15.

Each scenario sends the same raw commands to our node and to a reference
redis-server (both cluster-enabled, owning every slot, flushed before the test)
in RESP2 and RESP3 and requires byte-identical replies, errors included. A
seeded random sequence of list commands checks the same over many more calls,
then the final content of every key. Never weaken an expectation to match our
node: the reference is the contract.
"""
import random

import pytest

import diffhelpers as d
import helpers as h

BIG = "x" * 300

SCENARIOS = {
    "push_pop": [
        ("LPUSH", "l", "a"), ("LPUSH", "l", "b", "c"), ("RPUSH", "l", "d", "e"), ("LRANGE", "l", "0", "-1"),
        ("LLEN", "l"), ("LPOP", "l"), ("RPOP", "l"), ("LPOP", "l", "2"), ("RPOP", "l", "0"),
        ("LPOP", "l", "10"), ("EXISTS", "l"), ("LPOP", "l"), ("LPOP", "l", "1"), ("RPOP", "l", "5"),
        ("LPOP", "l", "-1"), ("LPOP", "l", "abc"), ("LPOP", "l", "1", "2"), ("RPOP", "l", "1", "2"),
        ("LPOP",), ("LPUSH", "l"), ("LPUSHX", "l", "a"), ("RPUSHX", "l", "a"), ("RPUSH", "l", "1"),
        ("LPUSHX", "l", "0", "-1"), ("RPUSHX", "l", "2", "3"), ("LRANGE", "l", "0", "-1"),
        ("RPOP", "l", "3"), ("RPOP", "l", "9"), ("LLEN", "nosuch"), ("TYPE", "l"),
        ("RPUSH", "e", ""), ("LRANGE", "e", "0", "-1"), ("LPOP", "e"), ("EXISTS", "e"),
        ("RPUSH", "bin", "\x00\xff\r\n", BIG, "12345678901234567890", "-1", "007"),
        ("LRANGE", "bin", "0", "-1"), ("TYPE", "bin"), ("OBJECT", "ENCODING", "bin"), ("DUMP", "bin"),
        ("LPOP", "bin", "9223372036854775807"), ("OBJECT", "ENCODING", "bin"), ("DUMP", "bin"),
    ],
    "wrongtype": [
        ("SET", "s", "v"), ("LPUSH", "s", "a"), ("RPUSH", "s", "a"), ("LPUSHX", "s", "a"), ("LPOP", "s"),
        ("RPOP", "s", "2"), ("LLEN", "s"), ("LINDEX", "s", "0"), ("LINDEX", "s", "x"), ("LSET", "s", "0", "v"),
        ("LRANGE", "s", "0", "1"), ("LTRIM", "s", "0", "1"), ("LREM", "s", "0", "v"),
        ("LINSERT", "s", "BEFORE", "a", "b"), ("LPOS", "s", "v"), ("LMOVE", "s", "d", "LEFT", "LEFT"),
        ("RPUSH", "l", "x"), ("LMOVE", "l", "s", "LEFT", "LEFT"), ("RPOPLPUSH", "l", "s"), ("LRANGE", "l", "0", "-1"),
        ("LMPOP", "2", "s", "l", "LEFT"), ("LMPOP", "2", "l", "s", "LEFT"),
        ("BLPOP", "s", "0"), ("BRPOP", "nx", "s", "0"), ("BLMOVE", "s", "d", "LEFT", "LEFT", "0"),
        ("GET", "l"), ("INCR", "l"), ("APPEND", "l", "x"),
    ],
    "index_set_range": [
        ("RPUSH", "l", "a", "b", "c", "d", "e"), ("LINDEX", "l", "0"), ("LINDEX", "l", "-1"), ("LINDEX", "l", "4"),
        ("LINDEX", "l", "5"), ("LINDEX", "l", "-6"), ("LINDEX", "l", "abc"), ("LINDEX", "nosuch", "abc"),
        ("LSET", "l", "0", "A"), ("LSET", "l", "-1", "E"), ("LSET", "l", "5", "x"), ("LSET", "l", "-6", "x"),
        ("LSET", "l", "x", "x"), ("LSET", "nosuch", "0", "x"), ("LSET", "nosuch", "x", "x"),
        ("LSET", "l", "2", BIG), ("LRANGE", "l", "0", "-1"), ("LSET", "l", "2", "c"),
        ("LRANGE", "l", "1", "3"), ("LRANGE", "l", "-3", "-1"), ("LRANGE", "l", "-100", "100"),
        ("LRANGE", "l", "3", "1"), ("LRANGE", "l", "5", "10"), ("LRANGE", "l", "0", "-6"),
        ("LRANGE", "l", "a", "1"), ("LRANGE", "l", "0", "b"), ("LRANGE", "nosuch", "0", "-1"),
        ("LRANGE", "nosuch", "x", "1"),
    ],
    "trim": [
        ("RPUSH", "l", "1", "2", "3", "4", "5", "6"), ("LTRIM", "l", "1", "-2"), ("LRANGE", "l", "0", "-1"),
        ("LTRIM", "l", "-100", "100"), ("LRANGE", "l", "0", "-1"), ("LTRIM", "l", "1", "1"),
        ("LRANGE", "l", "0", "-1"), ("DUMP", "l"), ("LTRIM", "l", "5", "10"), ("EXISTS", "l"), ("LTRIM", "nosuch", "0", "1"),
        ("LTRIM", "l", "x", "1"), ("RPUSH", "m", "a", "b"), ("LTRIM", "m", "1", "0"), ("EXISTS", "m"),
    ],
    "rem_insert": [
        ("RPUSH", "l", "a", "b", "a", "c", "a", "b"), ("LREM", "l", "1", "a"), ("LRANGE", "l", "0", "-1"),
        ("LREM", "l", "-1", "b"), ("LRANGE", "l", "0", "-1"), ("LREM", "l", "0", "a"), ("LRANGE", "l", "0", "-1"),
        ("LREM", "l", "0", "zz"), ("LREM", "l", "x", "a"), ("LREM", "nosuch", "0", "a"), ("LREM", "nosuch", "x", "a"),
        ("LREM", "l", "0", "b"), ("LREM", "l", "0", "c"), ("EXISTS", "l"),
        ("RPUSH", "i", "a", "c"), ("LINSERT", "i", "BEFORE", "c", "b"), ("LINSERT", "i", "after", "c", "d"),
        ("LINSERT", "i", "AFTER", "zz", "x"), ("LINSERT", "i", "MIDDLE", "c", "x"), ("LINSERT", "nosuch", "BEFORE", "a", "b"),
        ("LINSERT", "nosuch", "bogus", "a", "b"), ("LRANGE", "i", "0", "-1"), ("LINSERT", "i", "before", "a", "0"),
        ("LRANGE", "i", "0", "-1"),
    ],
    "lpos": [
        ("RPUSH", "l", "a", "b", "c", "1", "2", "3", "c", "c"), ("LPOS", "l", "c"), ("LPOS", "l", "c", "RANK", "2"),
        ("LPOS", "l", "c", "RANK", "-1"), ("LPOS", "l", "c", "RANK", "-3"), ("LPOS", "l", "c", "RANK", "4"),
        ("LPOS", "l", "c", "COUNT", "0"), ("LPOS", "l", "c", "COUNT", "2"), ("LPOS", "l", "c", "COUNT", "2", "RANK", "2"),
        ("LPOS", "l", "c", "COUNT", "0", "RANK", "-1"), ("LPOS", "l", "c", "MAXLEN", "3"),
        ("LPOS", "l", "c", "MAXLEN", "2"), ("LPOS", "l", "c", "COUNT", "0", "MAXLEN", "7"), ("LPOS", "l", "zz"),
        ("LPOS", "l", "zz", "COUNT", "5"), ("LPOS", "l", "c", "RANK", "0"), ("LPOS", "l", "c", "RANK", "x"),
        ("LPOS", "l", "c", "COUNT", "-1"), ("LPOS", "l", "c", "COUNT", "x"), ("LPOS", "l", "c", "MAXLEN", "-1"),
        ("LPOS", "l", "c", "MAXLEN", "y"), ("LPOS", "l", "c", "BOGUS", "1"), ("LPOS", "l", "c", "RANK"),
        ("LPOS", "nosuch", "c"), ("LPOS", "nosuch", "c", "COUNT", "1"), ("LPOS", "nosuch", "c", "RANK", "0"),
        ("lpos", "l", "1", "rank", "1", "count", "1", "maxlen", "0"),
    ],
    "move": [
        ("RPUSH", "{t}a", "1", "2", "3"), ("LMOVE", "{t}a", "{t}b", "LEFT", "RIGHT"),
        ("LMOVE", "{t}a", "{t}b", "right", "left"), ("LRANGE", "{t}a", "0", "-1"), ("LRANGE", "{t}b", "0", "-1"),
        ("LMOVE", "{t}a", "{t}a", "LEFT", "RIGHT"), ("LRANGE", "{t}a", "0", "-1"), ("RPOPLPUSH", "{t}a", "{t}b"),
        ("EXISTS", "{t}a"), ("RPOPLPUSH", "{t}a", "{t}b"), ("LMOVE", "{t}a", "{t}b", "LEFT", "LEFT"),
        ("LMOVE", "{t}b", "{t}b", "UP", "LEFT"), ("LMOVE", "{t}b", "{t}b", "LEFT", "DOWN"),
        ("LRANGE", "{t}b", "0", "-1"), ("RPOPLPUSH", "{t}b", "{t}b"), ("LRANGE", "{t}b", "0", "-1"),
        ("LMOVE", "{t}a", "{t}b", "LEFT"), ("BLMOVE", "{t}b", "{t}c", "LEFT", "RIGHT", "0"),
        ("BRPOPLPUSH", "{t}b", "{t}c", "0"), ("LRANGE", "{t}c", "0", "-1"),
        ("BLMOVE", "{t}b", "{t}c", "LEFT", "RIGHT", "-1"), ("BLMOVE", "{t}b", "{t}c", "LEFT", "RIGHT", "x"),
        ("BLMOVE", "{t}b", "{t}c", "X", "RIGHT", "x"), ("BRPOPLPUSH", "{t}b", "{t}c", "abc"),
    ],
    "mpop": [
        ("RPUSH", "{t}a", "1", "2", "3"), ("RPUSH", "{t}b", "x", "y"), ("LMPOP", "2", "{t}n", "{t}a", "LEFT"),
        ("LMPOP", "2", "{t}n", "{t}a", "RIGHT", "COUNT", "5"), ("LMPOP", "2", "{t}a", "{t}b", "left", "count", "1"),
        ("LMPOP", "1", "{t}n", "LEFT"), ("LMPOP", "0", "{t}a", "LEFT"), ("LMPOP", "-1", "{t}a", "LEFT"),
        ("LMPOP", "x", "{t}a", "LEFT"), ("LMPOP", "1", "{t}b", "MIDDLE"), ("LMPOP", "1", "{t}b", "LEFT", "COUNT", "0"),
        ("LMPOP", "1", "{t}b", "LEFT", "COUNT", "x"), ("LMPOP", "1", "{t}b", "LEFT", "COUNT", "1", "COUNT", "1"),
        ("LMPOP", "1", "{t}b", "LEFT", "COUNT"), ("LMPOP", "1", "{t}b", "LEFT", "BOGUS"), ("LMPOP", "1", "{t}b"),
        ("LMPOP", "5", "{t}b", "LEFT"), ("LMPOP", "1"), ("LRANGE", "{t}b", "0", "-1"),
        ("BLMPOP", "0", "1", "{t}b", "RIGHT"), ("BLMPOP", "0.5", "1", "{t}n", "RIGHT", "COUNT", "1", "X"),
        ("BLMPOP", "x", "1", "{t}b", "RIGHT"), ("BLMPOP", "-1", "1", "{t}b", "RIGHT"),
        ("BLMPOP", "0", "0", "{t}b", "RIGHT"), ("RPUSH", "{t}b", "p", "q", "r"),
        ("BLMPOP", "0", "2", "{t}n", "{t}b", "LEFT", "COUNT", "2"), ("BLPOP", "{t}n", "{t}b", "0"),
        ("RPUSH", "{t}b", "p", "q"), ("BRPOP", "{t}b", "0"), ("BRPOP", "{t}b", "x"), ("BRPOP", "{t}b", "-0.5"),
        ("BLPOP", "{t}b", "1.5e1"), ("EXISTS", "{t}b"),
    ],
    "multi_never_blocks": [
        ("MULTI",), ("BLPOP", "q", "0"), ("BRPOP", "q", "10"), ("BLMOVE", "q", "q", "LEFT", "LEFT", "0"),
        ("BRPOPLPUSH", "q", "q", "0"), ("BLMPOP", "0", "1", "q", "LEFT"), ("RPUSH", "q", "v"), ("BLPOP", "q", "0"),
        ("EXEC",),
    ],
    "crossslot": [
        ("LMOVE", "a", "b", "LEFT", "LEFT"), ("RPOPLPUSH", "a", "b"), ("BLPOP", "a", "b", "0"),
        ("LMPOP", "2", "a", "b", "LEFT"), ("BLMPOP", "0", "2", "a", "b", "LEFT"), ("BLMOVE", "a", "b", "LEFT", "LEFT", "0"),
    ],
    "command_info": [
        ("COMMAND", "INFO", "lpush", "rpush", "lpushx", "rpushx", "lpop", "rpop", "llen", "lindex", "lset",
         "lrange", "ltrim", "lrem", "linsert", "lpos", "lmove", "rpoplpush", "lmpop", "blpop", "brpop", "blmove",
         "brpoplpush", "blmpop"),
        ("COMMAND", "GETKEYS", "LMPOP", "2", "a", "b", "LEFT"), ("COMMAND", "GETKEYS", "BLMPOP", "0", "3", "a", "b", "c", "LEFT"),
        ("COMMAND", "GETKEYS", "BLPOP", "a", "b", "0"), ("COMMAND", "GETKEYS", "BLMOVE", "a", "b", "LEFT", "LEFT", "0"),
    ],
}


@pytest.mark.parametrize("proto", [2, 3])
@pytest.mark.parametrize("name", sorted(SCENARIOS))
def test_same_replies_as_redis(snode, sref, name, proto):
    d.assert_same(snode, sref, SCENARIOS[name], proto)


def _random_commands(seed, n):
    """A seeded sequence of list commands over a few keys of one slot, with
    elements long enough now and then to cross node boundaries."""
    rnd = random.Random(seed)
    keys = ["{r}a", "{r}b", "{r}c"]
    vals = [str(i) for i in range(20)] + ["", "x" * 100, "y" * 3000, "-5", "007"]

    def v():
        return rnd.choice(vals) + ("" if rnd.random() < 0.7 else str(rnd.randint(0, 99)))

    def i():
        return str(rnd.randint(-30, 30))
    out = []
    for _ in range(n):
        k, k2 = rnd.choice(keys), rnd.choice(keys)
        r = rnd.random()
        if r < 0.25:
            out.append((rnd.choice(["LPUSH", "RPUSH"]), k) + tuple(v() for _ in range(rnd.randint(1, 8))))
        elif r < 0.32:
            out.append((rnd.choice(["LPOP", "RPOP"]), k) + ((str(rnd.randint(0, 6)),) if rnd.random() < 0.5 else ()))
        elif r < 0.40:
            out.append(("LRANGE", k, i(), i()))
        elif r < 0.45:
            out.append(("LINDEX", k, i()))
        elif r < 0.50:
            out.append(("LSET", k, i(), v()))
        elif r < 0.55:
            out.append(("LREM", k, str(rnd.randint(-3, 3)), v()))
        elif r < 0.60:
            out.append(("LINSERT", k, rnd.choice(["BEFORE", "AFTER"]), v(), v()))
        elif r < 0.65:
            out.append(("LTRIM", k, i(), str(rnd.randint(-5, 60))))
        elif r < 0.72:
            opts = ()
            if rnd.random() < 0.5:
                opts += ("RANK", str(rnd.choice([-3, -2, -1, 1, 2, 3])))
            if rnd.random() < 0.5:
                opts += ("COUNT", str(rnd.randint(0, 4)))
            if rnd.random() < 0.3:
                opts += ("MAXLEN", str(rnd.randint(0, 10)))
            out.append(("LPOS", k, v()) + opts)
        elif r < 0.80:
            out.append(("LMOVE", k, k2, rnd.choice(["LEFT", "RIGHT"]), rnd.choice(["LEFT", "RIGHT"])))
        elif r < 0.85:
            out.append(("LMPOP", "2", k, k2, rnd.choice(["LEFT", "RIGHT"]), "COUNT", str(rnd.randint(1, 5))))
        elif r < 0.90:
            out.append(("LLEN", k))
        elif r < 0.94:
            out.append(("RPOPLPUSH", k, k2))
        elif r < 0.95:
            # blocking forms: served at once, or a 1 ms wait that times out
            out.append(rnd.choice([("BLPOP", k, k2, "0.001"), ("BRPOP", k, "0.001"),
                                   ("BLMOVE", k, k2, "RIGHT", "LEFT", "0.001"),
                                   ("BLMPOP", "0.001", "2", k, k2, "LEFT", "COUNT", "3")]))
        else:
            out.append(("LRANGE", k, "0", "-1"))
    out += [("LRANGE", k, "0", "-1") for k in keys]
    out += [("DUMP", k) for k in keys]
    return out


@pytest.mark.parametrize("seed,n,proto", [(1, 100000, 2), (2, 20000, 3)])
def test_random_sequence_same_as_redis(snode, sref, seed, n, proto):
    """A seeded stream of every list command (100,000 in RESP2), pipelined;
    each reply equal, and the lists' content in the end."""
    cmds = _random_commands(seed, n)
    expected = d.pipelined(sref, cmds, proto)
    got = d.pipelined(snode, cmds, proto)
    for i, (args, e, g) in enumerate(zip(cmds, expected, got)):
        assert g == e, f"#{i} {args[:4]}: redis {e[:200]!r}, shoal {g[:200]!r}"


def test_big_list_crosses_nodes(snode, sref):
    """10,000 elements span many nodes: every index, range and trim agrees."""
    cmds = [("RPUSH", "big") + tuple(f"e{j}" * (j % 7 + 1) for j in range(i, i + 500)) for i in range(0, 10000, 500)]
    cmds += [("LINDEX", "big", str(i)) for i in range(0, 10000, 997)]
    cmds += [("LRANGE", "big", "4990", "5010"), ("LSET", "big", "5000", "z" * 9000), ("LINDEX", "big", "5000"),
             ("LINSERT", "big", "BEFORE", "e77e77e77e77e77e77e77", "new"), ("LPOS", "big", "new"),
             ("LREM", "big", "-2", "e9999e9999e9999e9999e9999"), ("LTRIM", "big", "100", "-100"), ("LLEN", "big"),
             ("LRANGE", "big", "-3", "-1"), ("LPOP", "big", "3000"), ("RPOP", "big", "3000"), ("LLEN", "big")]
    cmds += [("OBJECT", "ENCODING", "big"), ("DUMP", "big")]
    expected = d.run(sref, cmds, 2)
    got = d.run(snode, cmds, 2)
    for args, e, g in zip(cmds, expected, got):
        assert g == e, f"{args[:3]}: redis {e[:200]!r}, shoal {g[:200]!r}"


def test_dump_of_pushed_lists_equals_redis(snode, sref):
    """Lists built by pushes from both ends, pops and trims have 7.0.15's node
    boundaries: DUMP gives Redis's bytes (listpack nodes, LZF), also for
    list-max-listpack-size other than the default."""
    rnd = random.Random(5)
    cmds = []
    for fill in ("-2", "-1", "-5", "16", "1"):
        cmds.append(("CONFIG", "SET", "list-max-listpack-size", fill))
        k = "dl" + fill
        for _ in range(300):
            vals = [rnd.choice([str(rnd.randint(-10 ** 6, 10 ** 6)), "v" * rnd.randint(0, 120),
                                str(rnd.randint(0, 2 ** 63 - 1))]) for _ in range(rnd.randint(1, 12))]
            cmds.append((rnd.choice(["RPUSH", "LPUSH"]), k) + tuple(vals))
            if rnd.random() < 0.2:
                cmds.append((rnd.choice(["LPOP", "RPOP"]), k, str(rnd.randint(1, 8))))
            if rnd.random() < 0.05:
                cmds.append(("LTRIM", k, "3", "-3"))
        cmds += [("LLEN", k), ("DUMP", k)]
    cmds.append(("CONFIG", "SET", "list-max-listpack-size", "-2"))
    expected = d.run(sref, cmds, 2)
    got = d.run(snode, cmds, 2)
    for args, e, g in zip(cmds, expected, got):
        assert g == e, f"{args[:3]}: redis {e[:200]!r}, shoal {g[:200]!r}"


# --- persistence and replication -------------------------------------------------

import shutil  # noqa: E402

import replhelpers as rh  # noqa: E402

LIST_KEYS = [f"list:{i}" for i in range(12)]


def _list_writes(seed, n):
    """Pushes of small and large elements (many nodes for some keys), pops, trims."""
    rnd = random.Random(seed)
    out = []
    for _ in range(n):
        k = rnd.choice(LIST_KEYS)
        r = rnd.random()
        if r < 0.7:
            vals = [rnd.choice([str(rnd.randint(-1000, 10 ** 12)), "e" * rnd.randint(0, 300), "007", ""])
                    for _ in range(rnd.randint(1, 20))]
            out.append((rnd.choice(["RPUSH", "LPUSH"]), k) + tuple(vals))
        elif r < 0.85:
            out.append((rnd.choice(["LPOP", "RPOP"]), k, str(rnd.randint(1, 5))))
        elif r < 0.95:
            out.append(("LSET", k, "0", "set-" + str(rnd.randint(0, 99))))
        else:
            out.append(("LTRIM", k, "1", "-2"))
    return out


def _lists(server):
    with server.raw(timeout=20) as c:
        c.call("READONLY")          # a cluster replica answers for its master's slots; standalone refuses it
        return {k: c.raw("LRANGE", k, "0", "-1") for k in LIST_KEYS}


PAIRS = [("shoal", "shoal"), ("shoal", "redis"), ("redis", "shoal")]


@pytest.mark.parametrize("master_kind,replica_kind", PAIRS)
def test_replica_has_same_lists(servers, master_kind, replica_kind):
    """Half the writes travel in the full sync's RDB (lists as QUICKLIST_2), half in
    the command stream; the replica ends with the master's lists either way."""
    cmds = _list_writes(11, 3000)
    half = len(cmds) // 2
    master, replica, _ = rh.make_pair(servers, master_kind, replica_kind,
                                      writes_before=lambda m: d.pipelined(m, cmds[:half]))
    d.pipelined(master, cmds[half:])
    rh.wait_offsets_equal(master, replica)
    want = _lists(master)
    assert any(len(v) > 20000 for v in want.values())     # some lists span many nodes
    assert _lists(replica) == want


_plain = d.plain


def test_dump_rdb_both_ways(servers, tmp_path):
    """A dump.rdb with lists moves from shoal to redis-server and back, with the
    same lists; and shoal loads the file redis-server 7.0.15 wrote
    (tests/vectors/rdb-lists.rdb)."""
    cmds = _list_writes(12, 1500)
    src = tmp_path / "shoal-src"
    node = _plain(servers, "shoal", src, "shoal-src")
    d.pipelined(node, cmds)
    want = _lists(node)
    with node.raw() as c:
        assert c.call("SAVE") == "OK"
    rdir = tmp_path / "redis-load"
    rdir.mkdir()
    shutil.copy(src / "dump.rdb", rdir / "dump.rdb")
    ref = _plain(servers, "redis", rdir, "redis-load")
    assert _lists(ref) == want
    with ref.raw() as c:
        assert c.call("SAVE") == "OK"
    back = tmp_path / "shoal-back"
    back.mkdir()
    shutil.copy(rdir / "dump.rdb", back / "dump.rdb")
    node2 = _plain(servers, "shoal", back, "shoal-back")
    assert _lists(node2) == want

    vec = tmp_path / "shoal-vector"
    vec.mkdir()
    shutil.copy(h.REPO_ROOT / "tests" / "vectors" / "rdb-lists.rdb", vec / "dump.rdb")
    node3 = _plain(servers, "shoal", vec, "shoal-vector")
    small = ["a", "b", "c", "1", "2", "300", "-5", "", "007", "12345678901234567890", "-9223372036854775808"]

    def el(i):
        return str(i) if i % 3 == 0 else ("item-" + str(i) if i % 3 == 1 else "x" * (i % 50))
    with node3.raw() as c:
        assert c.call("LRANGE", "small", "0", "-1") == [s.encode() for s in small]
        assert c.call("LRANGE", "big", "0", "-1") == [el(i).encode() for i in range(2000)]
        assert c.call("TYPE", "big") == "list"


def test_restore_of_redis_payloads(snode, sref):
    """DUMP payloads captured from redis-server (tests/vectors/list-dump-*.bin)
    restore on both servers to the same lists, which dump back to the same
    bytes; a damaged payload is refused the same way."""
    vec = h.REPO_ROOT / "tests" / "vectors"
    cmds = []
    for name in ("list-dump-small.bin", "list-dump-nodes.bin"):
        payload = (vec / name).read_bytes()
        k = name.split(".")[0]
        cmds += [("RESTORE", k, "0", payload), ("LLEN", k), ("LRANGE", k, "0", "-1"), ("DUMP", k),
                 ("OBJECT", "ENCODING", k), ("RESTORE", k, "0", payload),
                 ("RESTORE", k + "x", "0", payload[:-11] + b"\x00" + payload[-10:])]
    got = [r for r in d.run(snode, cmds)]
    want = [r for r in d.run(sref, cmds)]
    assert got == want
