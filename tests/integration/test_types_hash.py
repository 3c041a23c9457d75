"""Hash commands, compared with a real redis-server 7.0.15.

Each scenario sends the same raw commands to our node and to a reference
redis-server (both cluster-enabled, owning every slot, flushed before the
test) in RESP2 and RESP3 and requires byte-identical replies, errors
included. Replies whose order depends on the hash table (HGETALL and friends
on a hashtable-encoded hash, HRANDFIELD, HSCAN's pages) are compared as
sorted collections of the same reply type instead; OBJECT ENCODING and DUMP
are compared exactly where Redis's bytes are deterministic (listpack). A
seeded random sequence checks the same over many more calls, then the final
content of every key. Never weaken an expectation to match our node: the
reference is the contract.
"""
import random

import pytest

import diffhelpers as d

BIG = "x" * 100
HUGE = "y" * 5000

SCENARIOS = {
    "set_get": [
        ("HSET", "h", "f", "v"), ("HSET", "h", "f", "w", "g", "1"), ("HGET", "h", "f"), ("HGET", "h", "nosuch"),
        ("HGET", "nosuch", "f"), ("HSET", "h"), ("HSET", "h", "f"), ("HSET", "h", "a", "b", "c"),
        ("HMSET", "h", "a", "b", "c"), ("HMSET", "h", "a", "1", "b", "2"), ("HMGET", "h", "a", "zz", "b"),
        ("HMGET", "nosuch", "a", "b"), ("HGETALL", "h"), ("HKEYS", "h"), ("HVALS", "h"), ("HLEN", "h"),
        ("HGETALL", "nosuch"), ("HKEYS", "nosuch"), ("HVALS", "nosuch"), ("HLEN", "nosuch"),
        ("HSETNX", "h", "a", "x"), ("HSETNX", "h", "new", "x"), ("HSETNX", "h2", "f", "v"), ("HGETALL", "h2"),
        ("HEXISTS", "h", "a"), ("HEXISTS", "h", "zz"), ("HEXISTS", "nosuch", "a"), ("HSTRLEN", "h", "f"),
        ("HSTRLEN", "h", "zz"), ("HSTRLEN", "nosuch", "f"), ("HSET", "h", "num", "-12345678901"),
        ("HSTRLEN", "h", "num"), ("HGET", "h", "num"), ("HSET", "h", "", ""), ("HGET", "h", ""),
        ("HSET", "h", "\x00\xff", "\r\n"), ("HGETALL", "h"), ("TYPE", "h"), ("OBJECT", "ENCODING", "h"),
        ("hset", "h", "F", "V"), ("HGET", "h", "F"), ("HSET", "h", "007", "-0", "9223372036854775808", "1"),
        ("HGETALL", "h"), ("DUMP", "h"),
    ],
    "del": [
        ("HSET", "h", "a", "1", "b", "2", "c", "3"), ("HDEL", "h", "a"), ("HDEL", "h", "a", "zz"),
        ("HDEL", "nosuch", "a"), ("HDEL", "h", "b", "c", "d"), ("EXISTS", "h"), ("HDEL", "h"),
        ("HSET", "h", "x", "y"), ("HDEL", "h", "x", "x"), ("EXISTS", "h"),
    ],
    "wrongtype": [
        ("SET", "s", "v"), ("HSET", "s", "f", "v"), ("HSETNX", "s", "f", "v"), ("HMSET", "s", "f", "v"),
        ("HGET", "s", "f"), ("HMGET", "s", "f"), ("HGETALL", "s"), ("HKEYS", "s"), ("HVALS", "s"),
        ("HDEL", "s", "f"), ("HEXISTS", "s", "f"), ("HLEN", "s"), ("HSTRLEN", "s", "f"),
        ("HINCRBY", "s", "f", "1"), ("HINCRBY", "s", "f", "x"), ("HINCRBYFLOAT", "s", "f", "1.5"),
        ("HINCRBYFLOAT", "s", "f", "x"), ("HRANDFIELD", "s"), ("HRANDFIELD", "s", "2"), ("HRANDFIELD", "s", "x"),
        ("HSCAN", "s", "0"), ("HSCAN", "s", "x"), ("HSCAN", "s", "0", "COUNT", "0"),
        ("HSET", "h", "f", "v"), ("GET", "h"), ("INCR", "h"), ("LPUSH", "h", "x"), ("SADD", "h", "x"),
        ("APPEND", "h", "x"),
    ],
    "incr": [
        ("HINCRBY", "h", "n", "5"), ("HINCRBY", "h", "n", "-10"), ("HINCRBY", "h", "n", "x"),
        ("HINCRBY", "h", "n", "1.5"), ("HINCRBY", "h", "n", "9223372036854775807"),
        ("HINCRBY", "h", "big", "9223372036854775807"), ("HINCRBY", "h", "big", "1"),
        ("HINCRBY", "h", "small", "-9223372036854775808"), ("HINCRBY", "h", "small", "-1"),
        ("HSET", "h", "s", "abc", "sp", " 1", "z", "007"), ("HINCRBY", "h", "s", "1"), ("HINCRBY", "h", "sp", "1"),
        ("HINCRBY", "h", "z", "1"), ("HINCRBY", "newh", "f", "x"), ("EXISTS", "newh"),
        ("HINCRBYFLOAT", "h", "fl", "1.5"), ("HINCRBYFLOAT", "h", "fl", "0.1"), ("HINCRBYFLOAT", "h", "fl", "-3e2"),
        ("HINCRBYFLOAT", "h", "fl", "x"), ("HINCRBYFLOAT", "h", "fl", "inf"), ("HINCRBYFLOAT", "h", "fl", "nan"),
        ("HINCRBYFLOAT", "h", "fl", "1e308"), ("HINCRBYFLOAT", "h", "fl", "1e308"), ("HINCRBYFLOAT", "h", "s", "1"),
        ("HINCRBYFLOAT", "h", "n", "1.25"), ("HINCRBYFLOAT", "h", "big", "1"), ("HINCRBYFLOAT", "h", "e", "5.0e3"),
        ("HINCRBYFLOAT", "h", "e", "1e-5"), ("HINCRBYFLOAT", "h", "sp", "1"), ("HINCRBYFLOAT", "h", "h1", "0x10"),
        ("HINCRBYFLOAT", "h", "h2", " 1"), ("HINCRBYFLOAT", "h", "h3", ""), ("HINCRBYFLOAT", "newh2", "f", "x"),
        ("EXISTS", "newh2"), ("HGETALL", "h"), ("HINCRBY", "h", "n"), ("HINCRBYFLOAT", "h", "n"),
    ],
    "encoding": [
        ("HSET", "lp", "a", "1"), ("OBJECT", "ENCODING", "lp"), ("HSET", "lp", "long", "v" * 64),
        ("OBJECT", "ENCODING", "lp"), ("HSET", "lp", "longer", "v" * 65), ("OBJECT", "ENCODING", "lp"),
        ("HSET", "lf", "f" * 65, "1"), ("OBJECT", "ENCODING", "lf"), ("HSETNX", "ln", "f", BIG),
        ("OBJECT", "ENCODING", "ln"), ("HINCRBYFLOAT", "li", "f", "1.5"), ("OBJECT", "ENCODING", "li"),
        ("HSET", "many") + tuple(str(i) for i in range(1024)), ("OBJECT", "ENCODING", "many"), ("HLEN", "many"),
        ("HSET", "edge") + tuple(str(i) for i in range(1022)), ("OBJECT", "ENCODING", "edge"),
        ("HSET", "edge", "x", "y"), ("OBJECT", "ENCODING", "edge"), ("HDEL", "edge", "x", "0", "2"),
        ("OBJECT", "ENCODING", "edge"), ("DUMP", "lf"), ("DUMP", "nosuch"),
        ("HSET", "d", "a", "1", "b", "-70000", "c", "12345678901234", "d", "x", "e", ""), ("DUMP", "d"),
    ],
    "randfield": [
        ("HRANDFIELD", "nosuch"), ("HRANDFIELD", "nosuch", "5"), ("HRANDFIELD", "nosuch", "-5", "WITHVALUES"),
        ("HSET", "one", "f", "v"), ("HRANDFIELD", "one"), ("HRANDFIELD", "one", "1"), ("HRANDFIELD", "one", "-3"),
        ("HRANDFIELD", "one", "-3", "WITHVALUES"), ("HRANDFIELD", "one", "5", "withvalues"), ("HRANDFIELD", "one", "0"),
        ("HRANDFIELD", "one", "0", "WITHVALUES"), ("HRANDFIELD", "one", "x"), ("HRANDFIELD", "one", "1", "bogus"),
        ("HRANDFIELD", "one", "1", "WITHVALUES", "x"), ("HRANDFIELD", "one", "-9223372036854775808"),
        ("HRANDFIELD", "one", "9223372036854775807", "WITHVALUES"), ("HRANDFIELD", "one", "-4611686018427387904", "WITHVALUES"),
        ("HRANDFIELD", "nosuch", "x"), ("HRANDFIELD", "nosuch", "1", "bogus"),
        ("HSET", "h", "a", "1", "b", "2", "c", "3", "d", "4"), ("HRANDFIELD", "h", "4"), ("HRANDFIELD", "h", "10"),
        ("HRANDFIELD", "h", "10", "WITHVALUES"), ("HRANDFIELD", "h", "4", "WITHVALUES"),
    ],
    "scan": [
        ("HSCAN", "nosuch", "0"), ("HSCAN", "nosuch", "x"), ("HSCAN", "nosuch", "0", "COUNT", "0"),
        ("HSET", "h", "a", "1", "b", "2", "ab", "3"), ("HSCAN", "h", "0"), ("HSCAN", "h", "0", "MATCH", "a*"),
        ("HSCAN", "h", "0", "MATCH", "*"), ("HSCAN", "h", "0", "COUNT", "1"), ("HSCAN", "h", "0", "COUNT", "0"),
        ("HSCAN", "h", "0", "COUNT", "-1"), ("HSCAN", "h", "0", "COUNT", "x"), ("HSCAN", "h", "0", "MATCH"),
        ("HSCAN", "h", "0", "TYPE", "string"), ("HSCAN", "h", "0", "BOGUS", "1"), ("HSCAN", "h", "-1"),
        ("HSCAN", "h", "+5"), ("HSCAN", "h", " 1"), ("HSCAN", "h", "18446744073709551616"),
        ("HSCAN", "h", "1.5"), ("HSCAN", "h", "0", "match", "b", "count", "100"),
    ],
    "copy": [
        ("HSET", "{c}h", "a", "1", "b", "x" * 70), ("SADD", "{c}s", "1", "2"), ("SET", "{c}str", "v"),
        ("RPUSH", "{c}l", "a", "b"), ("PEXPIRE", "{c}s", "600000"), ("COPY", "{c}h", "{c}h2"), ("HGETALL", "{c}h2"),
        ("OBJECT", "ENCODING", "{c}h2"), ("COPY", "{c}h", "{c}h2"), ("COPY", "{c}h", "{c}str"),
        ("COPY", "{c}h", "{c}str", "REPLACE"), ("TYPE", "{c}str"), ("HSET", "{c}h", "a", "2"), ("HGET", "{c}str", "a"),
        ("COPY", "{c}s", "{c}s2"), ("SMEMBERS", "{c}s2"), ("OBJECT", "ENCODING", "{c}s2"), ("TTL", "{c}s2"),
        ("COPY", "{c}l", "{c}l2"), ("LRANGE", "{c}l2", "0", "-1"), ("COPY", "{c}nosuch", "{c}x"),
        ("COPY", "{c}h", "{c}h"), ("COPY", "{c}h", "{c}x", "DB", "0"), ("COPY", "{c}h", "{c}y", "DB", "1"),
        ("COPY", "{c}h", "{c}y", "DB", "99"), ("COPY", "{c}h", "{c}y", "DB", "x"), ("COPY", "{c}h", "{c}y", "BOGUS"),
        ("COPY", "{c}h", "{c}y", "DB"), ("COPY", "{c}h", "other"), ("COPY", "{c}h"), ("COMMAND", "INFO", "copy"),
    ],
    "arity_and_table": [
        ("HGET", "h"), ("HSETNX", "h", "f"), ("HMGET", "h"), ("HDEL",), ("HLEN",), ("HSTRLEN", "h"),
        ("HINCRBY", "h", "f"), ("HRANDFIELD",), ("HSCAN", "h"), ("HGETALL",), ("HKEYS", "a", "b"),
        ("COMMAND", "INFO", "hset", "hget", "hrandfield", "hscan", "hmset", "hincrbyfloat"),
        ("COMMAND", "GETKEYS", "HSET", "k", "f", "v"), ("COMMAND", "GETKEYS", "HSCAN", "k", "0"),
    ],
}

# Replies whose element order is the hash table's: compared as sorted.
UNORDERED = {"HGETALL", "HKEYS", "HVALS", "HSCAN"}
# Random picks (HRANDFIELD): compared by shape only.
RANDOM = {"HRANDFIELD"}


def _run(server, cmds, proto):
    return d.run_unordered(server, cmds, proto, UNORDERED, RANDOM)


@pytest.mark.parametrize("proto", [2, 3])
@pytest.mark.parametrize("name", sorted(SCENARIOS))
def test_same_replies_as_redis(snode, sref, name, proto):
    cmds = SCENARIOS[name]
    d.compare(cmds, _run(sref, cmds, proto), _run(snode, cmds, proto))


def _random_commands(seed, n):
    """A seeded sequence of hash commands over a few keys of one slot."""
    rnd = random.Random(seed)
    keys = ["{r}a", "{r}b", "{r}c"]
    fields = [f"f{i}" for i in range(40)] + ["", "1", "-2", "007", "x" * 70]
    vals = [str(i) for i in range(-5, 20)] + ["", "abc", "x" * 70, "1.5", "-0", "9223372036854775807"]
    out = []
    for _ in range(n):
        k = rnd.choice(keys)
        f = rnd.choice(fields)
        r = rnd.random()
        if r < 0.3:
            pairs = ()
            for _ in range(rnd.randint(1, 6)):
                pairs += (rnd.choice(fields), rnd.choice(vals))
            out.append((rnd.choice(["HSET", "HMSET"]), k) + pairs)
        elif r < 0.38:
            out.append(("HSETNX", k, f, rnd.choice(vals)))
        elif r < 0.48:
            out.append(("HDEL", k) + tuple(rnd.choice(fields) for _ in range(rnd.randint(1, 4))))
        elif r < 0.58:
            out.append(("HGET", k, f))
        elif r < 0.63:
            out.append(("HMGET", k, f, rnd.choice(fields)))
        elif r < 0.70:
            out.append(("HINCRBY", k, f, str(rnd.randint(-100, 100))))
        elif r < 0.75:
            out.append(("HINCRBYFLOAT", k, f, rnd.choice(["1.5", "-0.25", "3", "1e3", "x"])))
        elif r < 0.80:
            out.append(("HEXISTS", k, f))
        elif r < 0.85:
            out.append(("HSTRLEN", k, f))
        elif r < 0.90:
            out.append(("HLEN", k))
        elif r < 0.95:
            out.append((rnd.choice(["HGETALL", "HKEYS", "HVALS"]), k))
        else:
            out.append(("OBJECT", "ENCODING", k))
    out += [("HGETALL", k) for k in keys]
    return out


@pytest.mark.parametrize("seed", [1, 2, 3])
def test_random_sequence_same_as_redis(snode, sref, seed):
    cmds = _random_commands(seed, 4000)
    d.compare(cmds, _run(sref, cmds, 2), _run(snode, cmds, 2))


def _full_scan(c, key, count):
    seen, cursor, calls = {}, b"0", 0
    while True:
        cursor, items = c.call("HSCAN", key, cursor, "COUNT", str(count))
        for i in range(0, len(items), 2):
            seen[items[i]] = items[i + 1]
        calls += 1
        if cursor == b"0":
            return seen, calls


def test_hscan_large_hash_returns_everything(snode):
    """A hashtable hash walked with small COUNTs, growing and shrinking
    between calls: every field present throughout is returned."""
    with snode.raw() as c:
        for i in range(0, 3000, 500):
            c.call("HSET", "big", *[x for j in range(i, i + 500) for x in (f"f{j}", f"v{j}")])
        assert c.call("OBJECT", "ENCODING", "big") == b"hashtable"
        seen, calls = _full_scan(c, "big", 7)
        assert len(seen) == 3000 and seen[b"f1234"] == b"v1234" and calls > 10
        cursor, got = b"0", set()
        step = 0
        while True:
            cursor, items = c.call("HSCAN", "big", cursor, "COUNT", "50")
            got.update(items[0::2])
            step += 1
            if step % 3 == 0:      # grow, then shrink, the table under the cursor
                c.call("HSET", "big", *[x for j in range(step * 1000, step * 1000 + 800) for x in (f"n{j}", "v")])
                c.call("HDEL", "big", *[f"n{j}" for j in range(step * 1000, step * 1000 + 800)])
            if cursor == b"0":
                break
        assert {f"f{j}".encode() for j in range(3000)} <= got
        cursor, items = c.call("HSCAN", "big", "0", "MATCH", "f29*", "COUNT", "100000")
        assert cursor == b"0"
        assert sorted(items[0::2]) == sorted(f"f{j}".encode() for j in range(3000) if str(j).startswith("29"))


def test_hrandfield_counts_and_distinct(snode, sref):
    for server in (snode, sref):
        with server.raw() as c:
            c.call("HSET", "r", *[x for j in range(20) for x in (f"f{j}", f"v{j}")])
            c.call("HSET", "rb", *[x for j in range(600) for x in (f"f{j}", f"v{j}")])
            for key, size in (("r", 20), ("rb", 600)):
                for cnt in (1, 3, 15, 19, 20, 25, 100):
                    got = c.call("HRANDFIELD", key, str(cnt))
                    assert len(got) == min(cnt, size) and len(set(got)) == len(got)
                got = c.call("HRANDFIELD", key, "-50", "WITHVALUES")
                assert len(got) == 100 and all(got[i + 1] == b"v" + got[i][1:] for i in range(0, 100, 2))
                assert len(set(c.call("HRANDFIELD", key, "-300"))) > 1
            c.call("HELLO", "3")
            pairs = c.call("HRANDFIELD", "r", "5", "WITHVALUES")
            assert len(pairs) == 5 and all(len(p) == 2 and p[1] == b"v" + p[0][1:] for p in pairs)


def _stream_commands(seed, n):
    """Like _random_commands, without the replies whose order is the hash
    table's (those are checked at the end, sorted)."""
    return [c for c in _random_commands(seed, n) if c[0] not in ("HGETALL", "HKEYS", "HVALS")]


@pytest.mark.parametrize("seed,n,proto", [(11, 100000, 2), (12, 20000, 3)])
def test_long_stream_same_as_redis(snode, sref, seed, n, proto):
    """100,000 pipelined hash commands: every reply equal, then every key's
    content and encoding, and the DUMP of every listpack-encoded key."""
    cmds = _stream_commands(seed, n)
    d.assert_same(snode, sref, cmds, proto=proto, pipeline=True)
    finals = []
    for server in (snode, sref):
        out = []
        with server.raw() as c:
            for k in ["{r}a", "{r}b", "{r}c"]:
                enc = c.call("OBJECT", "ENCODING", k)
                items = c.call("HGETALL", k) or []
                dump = c.call("DUMP", k) if enc == b"listpack" else None
                out.append((k, enc, sorted(zip(items[0::2], items[1::2])), dump))
        finals.append(out)
    assert finals[0] == finals[1]
