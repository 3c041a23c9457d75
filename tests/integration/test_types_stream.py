"""Stream commands (XADD, XLEN, XRANGE, XREVRANGE, XDEL, XTRIM, XREAD), compared
with a real redis-server 7.0.15.

Each scenario sends the same raw commands to our node and to a reference
redis-server (both cluster-enabled, owning every slot, flushed before the test)
in RESP2 and RESP3 and requires byte-identical replies, errors and DUMP payloads
included (IDs are given explicitly where the server would pick one from its
clock). A seeded random sequence checks the same over many more calls and small
node limits; blocking reads are served on real connections; keyspace events,
replication and dump.rdb both ways close the file. Never weaken an expectation
to match our node: the reference is the contract.
"""
import random
import re
import shutil
import time

import pytest

import diffhelpers as d
import helpers as h
import replhelpers as rh

BIG = "v" * 300

SCENARIOS = {
    "add_and_range": [
        ("XADD", "s", "1-1", "a", "1", "b", "2"), ("XADD", "s", "1-*", "a", "3", "b", "4"),
        ("XADD", "s", "2", "a", "5", "c", "6"), ("XADD", "s", "2-0", "x", "y"), ("XADD", "s", "1-5", "x", "y"),
        ("XADD", "s", "3-*", "f", BIG), ("XADD", "s", "3-*", "f", "-12345678901234567890"),
        ("XLEN", "s"), ("XRANGE", "s", "-", "+"), ("XREVRANGE", "s", "+", "-"),
        ("XRANGE", "s", "1", "2"), ("XRANGE", "s", "(1-1", "+"), ("XRANGE", "s", "-", "(3-1"),
        ("XRANGE", "s", "(1-1", "(1-2"), ("XREVRANGE", "s", "(3", "-", "COUNT", "2"),
        ("XRANGE", "s", "-", "+", "COUNT", "0"), ("XRANGE", "s", "-", "+", "COUNT", "-3"),
        ("XRANGE", "s", "-", "+", "COUNT", "2"), ("XRANGE", "s", "-", "+", "COUNT"), ("XRANGE", "s", "-", "+", "FOO", "1"),
        ("XRANGE", "s", "-", "+", "COUNT", "x"), ("XRANGE", "s", "x", "+"), ("XRANGE", "s", "1-x", "+"),
        ("XRANGE", "s", "(-", "+"), ("XRANGE", "s", "-", "(+"), ("XRANGE", "s", "(18446744073709551615-18446744073709551615", "+"),
        ("XRANGE", "s", "-", "(0-0"), ("XRANGE", "s", "3", "1"), ("XRANGE", "nosuch", "-", "+"),
        ("XRANGE", "nosuch", "-", "+", "COUNT", "0"), ("XLEN", "nosuch"), ("TYPE", "s"), ("OBJECT", "ENCODING", "s"),
        ("DUMP", "s"), ("XADD", "s", "*"), ("XADD", "s", "1-1", "a"), ("XADD", "s", "0-0", "a", "b"),
        ("XADD", "e", "0-0", "a", "b"), ("EXISTS", "e"), ("XADD", "e", "0-*", "a", "b"), ("XADD", "e", "0-*", "a", "b"),
        ("XADD", "e", "-", "a", "b"), ("XADD", "e", "+", "a", "b"), ("XADD", "e", "1-2-3", "a", "b"),
        ("XADD", "e", "18446744073709551615-18446744073709551615", "a", "b"), ("XADD", "e", "*", "a", "b"),
        ("XADD", "e", "18446744073709551615-*", "a", "b"), ("XADD", "e2", "5-18446744073709551615", "a", "b"),
        ("XADD", "e2", "5-*", "a", "b"), ("XADD", "e2", "18446744073709551616", "a", "b"),
        ("XADD", "e2", "007-01", "a", "b"), ("XADD", "e2", " 9", "a", "b"), ("XRANGE", "e2", "-", "+"),
    ],
    "nomkstream_and_errors": [
        ("XADD", "n", "NOMKSTREAM", "1-1", "a", "b"), ("EXISTS", "n"), ("XADD", "n", "1-1", "a", "b"),
        ("XADD", "n", "NOMKSTREAM", "2-1", "a", "b"), ("XADD", "n", "MAXLEN"), ("XADD", "n", "MAXLEN", "x", "3", "a", "b"),
        ("XADD", "n", "MAXLEN", "-1", "3", "a", "b"), ("XADD", "n", "MAXLEN", "1", "MINID", "1", "3", "a", "b"),
        ("XADD", "n", "MINID", "x", "3", "a", "b"), ("XADD", "n", "MINID", "-", "3", "a", "b"),
        ("XADD", "n", "LIMIT", "5", "3", "a", "b"), ("XADD", "n", "MAXLEN", "5", "LIMIT", "5", "3", "a", "b"),
        ("XADD", "n", "MAXLEN", "~", "5", "LIMIT", "-1", "3", "a", "b"),
        ("XADD", "n", "MAXLEN", "~", "5", "LIMIT", "x", "3", "a", "b"), ("XADD", "n", "3", "a", "b", "c"),
        ("XADD", "n", "3"), ("XADD", "n", "bogus", "a", "b"), ("SET", "str", "x"), ("XADD", "str", "1", "a", "b"),
        ("XLEN", "str"), ("XRANGE", "str", "-", "+"), ("XREVRANGE", "str", "+", "-"), ("XDEL", "str", "1"),
        ("XTRIM", "str", "MAXLEN", "1"), ("XREAD", "STREAMS", "str", "0"), ("XADD", "str", "NOMKSTREAM", "1", "a", "b"),
        ("XTRIM", "n"), ("XTRIM", "n", "FOO", "1"), ("XTRIM", "n", "MAXLEN", "1", "LIMIT", "1"),
        ("XTRIM", "n", "LIMIT", "1"), ("XTRIM", "nosuch", "MAXLEN", "1"), ("XTRIM", "n", "MAXLEN", "=", "x"),
        ("XDEL", "n", "x"), ("XDEL", "nosuch", "1-1"), ("XDEL", "n", "1-1", "-"),
    ],
    "del_and_trim": [
        *[("XADD", "t", f"{i}-1", "f", str(i), "g", "x" * (i % 5)) for i in range(1, 40)],
        ("XDEL", "t", "3-1", "4-1", "4-1", "99-1"), ("XLEN", "t"), ("XRANGE", "t", "-", "5"),
        ("XREVRANGE", "t", "6", "-"), ("XDEL", "t", "1-1"), ("XRANGE", "t", "-", "+", "COUNT", "2"),
        ("DUMP", "t"), ("XTRIM", "t", "MAXLEN", "30"), ("XLEN", "t"), ("XRANGE", "t", "-", "+", "COUNT", "1"),
        ("DUMP", "t"), ("XTRIM", "t", "MINID", "20"), ("XTRIM", "t", "MINID", "=", "20-1"),
        ("XRANGE", "t", "-", "+", "COUNT", "1"), ("XTRIM", "t", "MAXLEN", "~", "5"), ("XLEN", "t"),
        ("XTRIM", "t", "MAXLEN", "=", "5"), ("XLEN", "t"), ("XRANGE", "t", "-", "+"), ("DUMP", "t"),
        ("XTRIM", "t", "MAXLEN", "0"), ("XLEN", "t"), ("EXISTS", "t"), ("DUMP", "t"), ("XRANGE", "t", "-", "+"),
        ("XADD", "t", "5-1", "a", "b"), ("XADD", "t", "50-1", "a", "b"), ("XLEN", "t"),
        ("XDEL", "t", "50-1"), ("XADD", "t", "50-1", "a", "b"), ("DUMP", "t"),
    ],
    "xread": [
        ("XADD", "{r}a", "1-1", "f", "1"), ("XADD", "{r}a", "2-1", "f", "2"), ("XADD", "{r}b", "1-5", "g", "1"),
        ("XREAD", "STREAMS", "{r}a", "0"), ("XREAD", "COUNT", "1", "STREAMS", "{r}a", "{r}b", "0", "1-4"),
        ("XREAD", "STREAMS", "{r}a", "{r}b", "2-1", "1-5"), ("XREAD", "STREAMS", "{r}a", "{r}b", "$", "$"),
        ("XREAD", "STREAMS", "{r}a", "{r}nosuch", "1", "0"), ("XREAD", "STREAMS", "{r}a"),
        ("XREAD", "STREAMS", "{r}a", "{r}b", "0"), ("XREAD", "COUNT", "x", "STREAMS", "{r}a", "0"),
        ("XREAD", "COUNT", "-1", "STREAMS", "{r}a", "0"), ("XREAD", "BLOCK", "x", "STREAMS", "{r}a", "0"),
        ("XREAD", "BLOCK", "-1", "STREAMS", "{r}a", "0"), ("XREAD", "GROUP", "g", "c", "STREAMS", "{r}a", "0"),
        ("XREAD", "NOACK", "STREAMS", "{r}a", "0"), ("XREAD", "FOO", "STREAMS", "{r}a", "0"),
        ("XREAD", "STREAMS", "{r}a", ">"), ("XREAD", "STREAMS", "{r}a", "+"), ("XREAD", "STREAMS", "{r}a", "-"),
        ("XREAD", "STREAMS", "{r}a", "x"), ("XREAD", "COUNT", "1"), ("XREAD", "BLOCK", "10", "STREAMS", "{r}a", "0"),
        ("MULTI",), ("XREAD", "BLOCK", "0", "STREAMS", "{r}a", "$"), ("EXEC",),
        ("XREAD", "STREAMS", "{r}a", "18446744073709551615-18446744073709551615"),
        ("EVAL", "return redis.call('XREAD', 'BLOCK', '0', 'STREAMS', KEYS[1], '$')", "1", "{r}a"),
        ("EVAL", "return redis.pcall('xreadgroup', 'GROUP', 'g', 'c', 'block', 'x', 'STREAMS', KEYS[1], '>')", "1", "{r}a"),
        ("EVAL", "return redis.call('xread', 'COUNT', '1', 'STREAMS', KEYS[1], '0')", "1", "{r}a"),
        ("XREAD", "STREAMS", "a", "b", "0", "0"), ("XREAD", "BLOCK", "0", "STREAMS", "a", "b", "$", "$"),
        ("COMMAND", "GETKEYS", "XREAD", "COUNT", "2", "STREAMS", "a", "b", "0", "0"),
        ("COMMAND", "GETKEYS", "XREAD", "BLOCK", "0", "STREAMS", "streams", "0"),
        ("COMMAND", "INFO", "xadd", "xlen", "xrange", "xrevrange", "xdel", "xtrim", "xread"),
    ],
    "groups": [
        ("XADD", "s", "1-1", "a", "1"), ("XADD", "s", "2-1", "b", "2"), ("XADD", "s", "3-1", "c", "3"),
        ("XGROUP", "CREATE", "s", "g", "0"), ("XGROUP", "CREATE", "s", "g", "0"), ("XGROUP", "CREATE", "no", "g", "$"),
        ("XGROUP", "CREATE", "no", "g", "$", "MKSTREAM"), ("TYPE", "no"), ("XLEN", "no"), ("XINFO", "STREAM", "no"),
        ("XGROUP", "CREATE", "s", "g2", "$", "ENTRIESREAD", "3"), ("XGROUP", "CREATE", "s", "g3", "1-1", "ENTRIESREAD", "-2"),
        ("XGROUP", "CREATE", "s", "g3", "1-1", "ENTRIESREAD", "x"), ("XGROUP", "CREATE", "s", "g3", "1-1", "FOO"),
        ("XGROUP", "CREATE", "s", "g3", "-"), ("XGROUP", "CREATE", "s", "g3", "1-1", "MKSTREAM", "ENTRIESREAD"),
        ("XGROUP", "CREATE", "s", "g3", "1", "MKSTREAM", "ENTRIESREAD", "1", "X"), ("XGROUP", "CREATE", "s", "g4"),
        ("XGROUP", "SETID", "s", "g", "0", "MKSTREAM"), ("XINFO", "GROUPS", "s"),
        ("XREADGROUP", "GROUP", "g", "c1", "COUNT", "1", "STREAMS", "s", ">"),
        ("XREADGROUP", "GROUP", "g", "c2", "STREAMS", "s", ">"), ("XREADGROUP", "GROUP", "g", "c1", "STREAMS", "s", "0"),
        ("XREADGROUP", "GROUP", "g", "c1", "NOACK", "STREAMS", "s", ">"), ("XADD", "s", "4-1", "d", "4"),
        ("XREADGROUP", "GROUP", "g", "c3", "NOACK", "STREAMS", "s", ">"), ("XPENDING", "s", "g"),
        ("XREADGROUP", "GROUP", "nog", "c1", "STREAMS", "s", ">"), ("XREADGROUP", "GROUP", "g", "c1", "STREAMS", "s", "$"),
        ("XREADGROUP", "STREAMS", "s", ">"), ("XREADGROUP", "GROUP", "g", "c1", "STREAMS", "nosuch", ">"),
        ("XREADGROUP", "GROUP", "g", "c1", "STREAMS", "s", "2-1"), ("XREADGROUP", "GROUP", "g", "c2", "STREAMS", "s", "0"),
        ("XACK", "s", "g", "1-1", "9-9"), ("XACK", "s", "g", "x"), ("XACK", "no2", "g", "1"), ("XACK", "s", "nog", "1"),
        ("XPENDING", "s", "g"), ("XPENDING", "s", "nog"), ("XPENDING", "nosuch", "g"), ("XPENDING", "s", "g", "-"),
        ("XPENDING", "s", "g", "-", "+", "x"), ("XPENDING", "s", "g", "x", "+", "1"), ("XPENDING", "s", "g", "IDLE", "1", "-", "+"),
        ("XPENDING", "s", "g", "IDLE", "x", "-", "+", "1"), ("XPENDING", "s", "g", "-", "+", "0"),
        ("XPENDING", "s", "g", "-", "+", "5", "nobody"), ("XPENDING", "s", "g", "(-", "+", "5"),
        ("XGROUP", "SETID", "s", "g", "0"), ("XGROUP", "SETID", "s", "g", "$", "ENTRIESREAD", "2"),
        ("XGROUP", "SETID", "s", "nog", "0"), ("XGROUP", "SETID", "s", "g", "x"), ("XGROUP", "SETID", "s", "g", "-"),
        ("XGROUP", "SETID", "s", "g", "+"), ("XGROUP", "SETID", "nosuch", "g", "0"), ("XINFO", "GROUPS", "s"),
        ("XGROUP", "SETID", "s", "g", "4-1"), ("XINFO", "GROUPS", "s"),
        ("XGROUP", "CREATECONSUMER", "s", "g", "c9"), ("XGROUP", "CREATECONSUMER", "s", "g", "c9"),
        ("XGROUP", "CREATECONSUMER", "s", "nog", "c9"), ("XGROUP", "DELCONSUMER", "s", "g", "c2"),
        ("XGROUP", "DELCONSUMER", "s", "g", "c2"), ("XINFO", "STREAM", "s"), ("XPENDING", "s", "g"),
        ("XCLAIM", "s", "g", "c5", "0", "2-1", "JUSTID"), ("XCLAIM", "s", "g", "c5", "0", "3-1", "FORCE", "JUSTID"),
        ("XCLAIM", "s", "g", "c5", "x", "2-1"), ("XCLAIM", "s", "g", "c5", "0", "2-1", "BOGUS"),
        ("XCLAIM", "s", "g", "c5", "0", "2-1", "IDLE", "x"), ("XCLAIM", "s", "g", "c5", "0", "2-1", "TIME", "x"),
        ("XCLAIM", "s", "g", "c5", "0", "2-1", "RETRYCOUNT", "x"), ("XCLAIM", "s", "g", "c5", "0", "2-1", "LASTID", "x"),
        ("XCLAIM", "s", "nog", "c5", "0", "2-1"), ("XCLAIM", "nosuch", "g", "c5", "0", "2-1"),
        ("XCLAIM", "s", "g", "c6", "0", "2-1", "3-1", "RETRYCOUNT", "7"), ("XCLAIM", "s", "g", "c6", "100000", "2-1"),
        ("XCLAIM", "s", "g", "c6", "0", "1-1", "9-9", "FORCE"), ("XDEL", "s", "2-1"), ("XCLAIM", "s", "g", "c7", "0", "2-1"),
        ("XCLAIM", "s", "g", "c7", "0", "+", "2-1"), ("XCLAIM", "s", "g", "c7", "0", "1-1", "LASTID", "50-0", "JUSTID"),
        ("XINFO", "GROUPS", "s"), ("XPENDING", "s", "g"), ("XREADGROUP", "GROUP", "g", "c1", "STREAMS", "s", ">"),
        ("XGROUP", "SETID", "s", "g", "0"), ("XREADGROUP", "GROUP", "g", "c8", "STREAMS", "s", ">"),
        ("XDEL", "s", "3-1"), ("XAUTOCLAIM", "s", "g", "c6", "0", "0", "COUNT", "1"),
        ("XAUTOCLAIM", "s", "g", "c6", "0", "0", "COUNT", "2"), ("XAUTOCLAIM", "s", "g", "c6", "0", "0", "JUSTID"),
        ("XAUTOCLAIM", "s", "g", "c6", "100000", "0"), ("XAUTOCLAIM", "s", "g", "c6", "0", "(1-1"),
        ("XAUTOCLAIM", "s", "g", "c6", "0", "0", "COUNT", "0"), ("XAUTOCLAIM", "s", "g", "c6", "0", "0", "COUNT", "x"),
        ("XAUTOCLAIM", "s", "g", "c6", "x", "0"), ("XAUTOCLAIM", "s", "g", "c6", "0", "x"),
        ("XAUTOCLAIM", "s", "g", "c6", "0", "0", "FOO"), ("XAUTOCLAIM", "s", "nog", "c6", "0", "0"),
        ("XAUTOCLAIM", "s", "g", "c6", "0", "0", "COUNT", "999999999999999999"), ("XPENDING", "s", "g"),
        ("XSETID", "s", "60-0"), ("XSETID", "s", "1-1"), ("XSETID", "s", "70-0", "ENTRIESADDED", "1"),
        ("XSETID", "s", "70-0", "ENTRIESADDED", "100", "MAXDELETEDID", "5-0"), ("XSETID", "s", "70-0", "MAXDELETEDID", "71-0"),
        ("XSETID", "s", "70-0", "ENTRIESADDED", "-1"), ("XSETID", "s", "70-0", "FOO"), ("XSETID", "nosuch", "1"),
        ("XSETID", "s", "x"), ("XINFO", "STREAM", "s"), ("XADD", "s", "69-0", "a", "b"),
        ("XGROUP", "DESTROY", "s", "g2"), ("XGROUP", "DESTROY", "s", "g2"), ("XGROUP", "DESTROY", "nosuch", "g2"),
        ("XGROUP", "HELP"), ("XINFO", "HELP"), ("XGROUP", "FOO"), ("XGROUP", "FOO", "s", "g"), ("XINFO", "FOO", "s"),
        ("XINFO", "HELP", "x"), ("XINFO", "STREAM", "s", "FULL", "COUNT", "x"), ("XINFO", "STREAM", "s", "FULLX"),
        ("XINFO", "STREAM", "s", "FULL", "COUNT"), ("XINFO", "CONSUMERS", "s", "nog"), ("XINFO", "CONSUMERS", "nosuch", "g"),
        ("SET", "str", "x"), ("XINFO", "GROUPS", "str"), ("XGROUP", "CREATE", "str", "g", "$"), ("XACK", "str", "g", "1"),
        ("XPENDING", "str", "g"), ("XCLAIM", "str", "g", "c", "0", "1"), ("XAUTOCLAIM", "str", "g", "c", "0", "0"),
        ("XSETID", "str", "1"), ("XREADGROUP", "GROUP", "g", "c", "STREAMS", "str", ">"),
        ("COMMAND", "INFO", "xreadgroup", "xack", "xpending", "xclaim", "xautoclaim", "xsetid"),
        ("COMMAND", "INFO", "xgroup|create", "xgroup|setid", "xgroup|destroy", "xgroup|createconsumer",
         "xgroup|delconsumer", "xgroup|help", "xinfo|stream", "xinfo|groups", "xinfo|consumers", "xinfo|help"),
        ("COMMAND", "GETKEYS", "XREADGROUP", "GROUP", "g", "c", "STREAMS", "k", ">"),
    ],
    "radix_tree_shape": [
        ("CONFIG", "SET", "stream-node-max-entries", "2"),
        *[("XADD", "r", f"{i * 37}-{i % 5}", "f", "v") for i in range(1, 120)],
        ("XINFO", "STREAM", "r"), ("XTRIM", "r", "MAXLEN", "~", "90"), ("XINFO", "STREAM", "r"),
        ("XDEL", "r", "370-0", "407-1", "2701-3"), ("XINFO", "STREAM", "r"), ("XTRIM", "r", "MINID", "4000"),
        ("XINFO", "STREAM", "r"), ("XADD", "r", "99999999999-0", "a", "b"), ("XADD", "r", "18446744073709551615-0", "a", "b"),
        ("XINFO", "STREAM", "r"), ("XTRIM", "r", "MAXLEN", "0"), ("XINFO", "STREAM", "r"),
        ("CONFIG", "SET", "stream-node-max-entries", "100"),
    ],
}


@pytest.mark.parametrize("proto", [2, 3])
@pytest.mark.parametrize("name", sorted(SCENARIOS))
def test_same_replies_as_redis(snode, sref, name, proto):
    d.assert_same(snode, sref, SCENARIOS[name], proto)


def test_auto_ids(snode, sref):
    """XADD * picks <now ms>-0, then the next sequence within the same ms, never going back."""
    for srv in (snode, sref):
        with srv.raw() as c:
            ids = [c.call("XADD", "auto", "*", "a", "1") for _ in range(50)]
            assert all(re.fullmatch(rb"\d{13}-\d+", i) for i in ids)
            parsed = [tuple(map(int, i.split(b"-"))) for i in ids]
            assert parsed == sorted(parsed) and len(set(parsed)) == 50
            assert c.call("XADD", "auto", "99999999999999-*", "a", "1") == b"99999999999999-0"
            assert c.call("XADD", "auto", "*", "a", "1") == b"99999999999999-1"
            assert c.call("XADD", "auto", "99999999999999-*", "a", "1") == b"99999999999999-2"


def _random_commands(seed, n):
    """Adds with explicit increasing IDs (same fields or not, integers, long
    values), deletes, exact and approximate trims with LIMIT, ranges."""
    rnd = random.Random(seed)
    keys = ["{x}a", "{x}b", "{x}c"]
    last = {k: [0, 0] for k in keys}
    vals = ["1", "-7", "", "x" * 70, "9223372036854775807", "word", "3.5"]
    out = [("CONFIG", "SET", "stream-node-max-entries", "7"), ("CONFIG", "SET", "stream-node-max-bytes", "300")]

    def some_id(k):
        ms = last[k][0] + rnd.randint(-1, 3)
        return f"{max(ms, 0)}-{rnd.randint(0, 3)}"
    for _ in range(n):
        k = rnd.choice(keys)
        r = rnd.random()
        if r < 0.5:
            if rnd.random() < 0.7:
                last[k][0] += rnd.randint(0, 2)
            fields = rnd.choice([["f", "g"], ["f", "g"], ["h"], ["f", "g", "h"]])
            kv = [x for f in fields for x in (f, rnd.choice(vals))]
            opts = ()
            if rnd.random() < 0.15:
                opts = rnd.choice([("MAXLEN", str(rnd.randint(0, 30))), ("MAXLEN", "~", str(rnd.randint(0, 30))),
                                   ("MINID", some_id(k)), ("MAXLEN", "~", "10", "LIMIT", str(rnd.randint(0, 20)))])
            out.append(("XADD", k) + opts + (f"{last[k][0]}-*",) + tuple(kv))
        elif r < 0.62:
            out.append(("XDEL", k) + tuple(some_id(k) for _ in range(rnd.randint(1, 3))))
        elif r < 0.68:
            out.append(rnd.choice([("XTRIM", k, "MAXLEN", str(rnd.randint(0, 40))),
                                   ("XTRIM", k, "MAXLEN", "~", str(rnd.randint(0, 40))),
                                   ("XTRIM", k, "MINID", some_id(k)),
                                   ("XTRIM", k, "MINID", "~", some_id(k), "LIMIT", str(rnd.randint(0, 15)))]))
        elif r < 0.8:
            out.append(("XRANGE", k, some_id(k), "+", "COUNT", str(rnd.randint(1, 5))))
        elif r < 0.9:
            out.append(("XREVRANGE", k, "+", "(" + some_id(k)))
        elif r < 0.95:
            out.append(("XREAD", "COUNT", "3", "STREAMS", k, some_id(k)))
        else:
            out.append(("XLEN", k))
    out += [("XRANGE", k, "-", "+") for k in keys] + [("DUMP", k) for k in keys]
    out += [("CONFIG", "SET", "stream-node-max-entries", "100"), ("CONFIG", "SET", "stream-node-max-bytes", "4096")]
    return out


@pytest.mark.parametrize("seed,n,proto", [(1, 20000, 2), (2, 5000, 3)])
def test_random_sequence_same_as_redis(snode, sref, seed, n, proto):
    """A seeded stream of stream commands over small nodes, pipelined: each
    reply equal, DUMP payloads (node boundaries, tombstones) included."""
    cmds = _random_commands(seed, n)
    expected = d.pipelined(sref, cmds, proto)
    got = d.pipelined(snode, cmds, proto)
    for i, (args, e, g) in enumerate(zip(cmds, expected, got)):
        assert g == e, f"#{i} {args[:6]}: redis {e[:200]!r}, shoal {g[:200]!r}"


def test_big_stream_node_boundaries(snode, sref):
    """Thousands of entries with the default node limits: same nodes (DUMP), ranges across them."""
    cmds = [("XADD", "big", f"{i}-0", "field", str(i), "other", "y" * (i % 50)) for i in range(1, 3001)]
    cmds += [("XADD", "big", f"{i}-0", "f" + str(i % 3), "z") for i in range(3001, 3400)]
    cmds += [("XRANGE", "big", "1500", "1510"), ("XREVRANGE", "big", "3390", "2990", "COUNT", "30"),
             ("XDEL", "big", "1000-0", "1001-0"), ("XTRIM", "big", "MAXLEN", "~", "2500"), ("XLEN", "big"),
             ("XTRIM", "big", "MINID", "1300"), ("XRANGE", "big", "-", "+", "COUNT", "3"), ("DUMP", "big")]
    expected = d.run(sref, cmds)
    got = d.run(snode, cmds)
    for args, e, g in zip(cmds, expected, got):
        assert g == e, f"{args[:3]}: redis {e[:200]!r}, shoal {g[:200]!r}"


# --- blocking reads ------------------------------------------------------------


def _blocking_reads(srv, proto):
    out = []
    with srv.raw() as p:
        p.call("XADD", "{b}s", "1-1", "a", "1")
        c1 = d.block(srv, "XREAD", "BLOCK", "0", "STREAMS", "{b}s", "{b}t", "$", "$", proto=proto)
        d.wait_blocked(srv, 1)
        c2 = d.block(srv, "XREAD", "COUNT", "1", "BLOCK", "0", "STREAMS", "{b}t", "0", proto=proto)
        d.wait_blocked(srv, 2)
        c3 = d.block(srv, "XREAD", "BLOCK", "0", "STREAMS", "{b}s", "5-0", proto=proto)
        d.wait_blocked(srv, 3)
        out.append(p.raw("XDEL", "{b}s", "1-1"))       # a write with nothing new: they wait on
        out.append(p.raw("XADD", "{b}s", "2-1", "a", "2"))
        out.append(c1.read())
        d.wait_blocked(srv, 2)
        out.append(p.raw("MULTI"))
        out.append(p.raw("XADD", "{b}t", "3-1", "x", "1"))
        out.append(p.raw("XADD", "{b}t", "3-2", "x", "2"))
        out.append(p.raw("EXEC"))
        out.append(c2.read())
        out.append(p.raw("XADD", "{b}s", "5-0", "a", "3"))
        out.append(p.raw("XADD", "{b}s", "6-0", "a", "4"))
        out.append(c3.read())
        c4 = d.block(srv, "XREAD", "BLOCK", "50", "STREAMS", "{b}s", "$", proto=proto)
        out.append(c4.read())
        c5 = d.block(srv, "XREAD", "BLOCK", "0", "STREAMS", "{b}s", "$", proto=proto)
        d.wait_blocked(srv, 1)
        out.append(p.raw("DEL", "{b}s"))
        out.append(p.raw("SET", "{b}s", "x"))
        out.append(p.raw("DEL", "{b}s"))
        out.append(p.raw("XADD", "{b}s", "1-0", "a", "5"))     # not past the $ it resolved (6-0)
        out.append(p.raw("XADD", "{b}s", "7-0", "a", "6"))
        out.append(c5.read())
        for c in (c1, c2, c3, c4, c5):
            c.close()
    d.wait_blocked(srv, 0)
    return out


@pytest.mark.parametrize("proto", [2, 3])
def test_blocking_xread(snode, sref, proto):
    """XREAD BLOCK with $ and explicit IDs on several keys: served by the write that
    adds past its ID (not by XDEL), after EXEC, with COUNT; timeout answers null."""
    assert _blocking_reads(snode, proto) == _blocking_reads(sref, proto)


# --- keyspace events -----------------------------------------------------------

EVENT_CMDS = [("XADD", "ev", "1-1", "a", "1"), ("XADD", "ev", "2-1", "a", "1"), ("XADD", "ev", "NOMKSTREAM", "3-1", "a", "1"),
              ("XADD", "ev", "MAXLEN", "1", "4-1", "a", "1"), ("XADD", "ev", "MAXLEN", "5", "5-1", "a", "1"),
              ("XDEL", "ev", "9-9"), ("XDEL", "ev", "5-1"), ("XTRIM", "ev", "MAXLEN", "5"), ("XTRIM", "ev", "MAXLEN", "0"),
              ("XADD", "ev2", "NOMKSTREAM", "1-1", "a", "1"), ("XADD", "ev2", "0-0", "a", "1"), ("DEL", "ev")]


def _events(srv):
    with srv.raw() as sub, srv.raw() as c:
        assert c.call("CONFIG", "SET", "notify-keyspace-events", "KEA") == "OK"
        sub.send(h.encode("PSUBSCRIBE", "__key*__:*"))
        sub.read()
        replies = [c.raw(*cmd) for cmd in EVENT_CMDS]
        assert c.call("PING") == "PONG"
        got, _ = sub.exchange(b"", idle=0.5, limit=10)
        assert c.call("CONFIG", "SET", "notify-keyspace-events", "") == "OK"
    return replies, got


def test_keyspace_events(snode, sref):
    """new, xadd, xtrim, xdel, del: the same events in the same order as 7.0.15."""
    assert _events(snode) == _events(sref)


# --- replication and persistence ---------------------------------------------

STREAM_KEYS = [f"st:{i}" for i in range(6)]


def _stream_writes(seed, n):
    rnd = random.Random(seed)
    out = []
    for _ in range(n):
        k = rnd.choice(STREAM_KEYS)
        r = rnd.random()
        if r < 0.8:
            trim = rnd.choice([(), (), ("MAXLEN", "~", "50"), ("MAXLEN", "80"), ("MINID", "~", "1")])
            out.append(("XADD", k) + trim + ("*", "f", str(rnd.randint(0, 99)), "g", "x" * rnd.randint(0, 40)))
        elif r < 0.9:
            out.append(("XTRIM", k, "MAXLEN", "~", str(rnd.randint(10, 60))))
        else:
            out.append(("XDEL", k, "0-1"))
    return out


def _streams(server):
    with server.raw(timeout=20) as c:
        c.call("READONLY")
        return {k: c.raw("XRANGE", k, "-", "+") for k in STREAM_KEYS}


PAIRS = [("shoal", "shoal"), ("shoal", "redis"), ("redis", "shoal")]


def _replicated(servers, master_kind, replica_kind, cmds):
    """A master and its replica, the first half of cmds sent before the replica's full
    sync and the rest after it (the RDB and the command stream both carry them); returns
    once the replica's offset has caught up."""
    half = len(cmds) // 2
    master, replica, _ = rh.make_pair(servers, master_kind, replica_kind,
                                      writes_before=lambda m: d.pipelined(m, cmds[:half]))
    d.pipelined(master, cmds[half:])
    rh.wait_offsets_equal(master, replica)
    return master, replica


@pytest.mark.parametrize("master_kind,replica_kind", PAIRS)
def test_replica_has_same_streams(servers, master_kind, replica_kind):
    """XADD * and approximate trims reach the replica with the concrete ID and the
    exact trim point (in the full sync's RDB and in the command stream)."""
    master, replica = _replicated(servers, master_kind, replica_kind, _stream_writes(21, 2000))
    want = _streams(master)
    assert sum(v.count(b"\r\n") for v in want.values()) > 1000
    assert _streams(replica) == want


def test_dump_rdb_both_ways(servers, tmp_path):
    """A dump.rdb with streams moves from shoal to redis-server and back, unchanged."""
    cmds = _stream_writes(22, 1500) + [("XADD", "st:empty", "1-1", "a", "b"), ("XDEL", "st:empty", "1-1")]
    keys = STREAM_KEYS + ["st:empty"]
    src = tmp_path / "shoal-src"
    node = d.plain(servers, "shoal", src, "shoal-src")
    d.pipelined(node, cmds)
    want = _streams(node)
    with node.raw() as c:
        dumps = {k: c.raw("DUMP", k) for k in keys}
        assert c.call("SAVE") == "OK"
    for kind, name in (("redis", "redis-load"), ("shoal", "shoal-back")):
        dst = tmp_path / name
        dst.mkdir()
        shutil.copy(src / "dump.rdb", dst / "dump.rdb")
        srv = d.plain(servers, kind, dst, name)
        assert _streams(srv) == want
        with srv.raw() as c:
            assert {k: c.raw("DUMP", k) for k in keys} == dumps
            assert c.call("SAVE") == "OK"
        src = dst


def test_restore_both_ways(snode, sref):
    """DUMP payloads of one server restore on the other; damaged ones are refused alike."""
    build = [("XADD", "src", f"{i}-{i % 3}", "a", str(i), "b" * (i % 4), "c") for i in range(1, 200)]
    build += [("XDEL", "src", "5-2", "100-1"), ("XTRIM", "src", "MINID", "20")]
    d.run(snode, build)
    d.run(sref, build)
    for a, b in ((snode, sref), (sref, snode)):
        with a.raw() as c:
            payload = c.call("DUMP", "src")
        cmds = [("RESTORE", "dst", "0", payload, "REPLACE"), ("XRANGE", "dst", "-", "+"), ("DUMP", "dst"),
                ("XLEN", "dst"), ("RESTORE", "bad", "0", payload[:-11] + b"\x01" + payload[-10:])]
        assert d.run(b, cmds) == d.run(a, cmds)


# --- consumer groups: replies with clock-dependent fields --------------------

GROUP_SETUP = [("XADD", "{g}s", f"{i}-1", "f", str(i)) for i in range(1, 9)] + [
    ("XGROUP", "CREATE", "{g}s", "grp", "0"), ("XGROUP", "CREATE", "{g}s", "other", "$", "ENTRIESREAD", "8"),
    ("XREADGROUP", "GROUP", "grp", "alice", "COUNT", "3", "STREAMS", "{g}s", ">"),
    ("XREADGROUP", "GROUP", "grp", "bob", "COUNT", "2", "STREAMS", "{g}s", ">"),
    ("XREADGROUP", "GROUP", "grp", "carol", "NOACK", "COUNT", "1", "STREAMS", "{g}s", ">"),
    ("XCLAIM", "{g}s", "grp", "dave", "0", "2-1", "TIME", "1000", "RETRYCOUNT", "4"),
    ("XCLAIM", "{g}s", "grp", "dave", "0", "4-1", "IDLE", "100000"), ("XACK", "{g}s", "grp", "1-1"),
    ("XDEL", "{g}s", "5-1"),
]
TIMED = [
    ("XPENDING", "{g}s", "grp", "-", "+", "10"), ("XPENDING", "{g}s", "grp", "IDLE", "50000", "-", "+", "10"),
    ("XPENDING", "{g}s", "grp", "(2-1", "+", "2", "bob"), ("XPENDING", "{g}s", "grp", "-", "(4-1", "10", "dave"),
    ("XINFO", "CONSUMERS", "{g}s", "grp"), ("XINFO", "STREAM", "{g}s", "FULL"),
    ("XINFO", "STREAM", "{g}s", "FULL", "COUNT", "1"), ("XINFO", "STREAM", "{g}s", "FULL", "COUNT", "0"),
    ("XAUTOCLAIM", "{g}s", "grp", "erin", "50000", "0"), ("XPENDING", "{g}s", "grp", "-", "+", "10"),
    ("XREADGROUP", "GROUP", "grp", "dave", "STREAMS", "{g}s", "0"), ("XPENDING", "{g}s", "grp", "-", "+", "10"),
    ("XINFO", "GROUPS", "{g}s"), ("XGROUP", "DELCONSUMER", "{g}s", "grp", "dave"), ("XINFO", "STREAM", "{g}s", "FULL"),
]


def _untimed(v):
    """The reply with its clock-dependent numbers (idle times, delivery and seen
    times) replaced by None."""
    if isinstance(v, list):
        out = [_untimed(x) for x in v]
        for i in range(len(out)):
            if isinstance(out[i], tuple) and out[i] and out[i][0] in (b"seen-time", b"idle"):
                out[i] = (out[i][0], None)          # RESP3 map pair
            elif out[i] in (b"seen-time", b"idle") and i + 1 < len(out):
                out[i + 1] = None                   # RESP2 flat map
        if len(out) == 4 and isinstance(out[0], bytes) and b"-" in out[0] and isinstance(out[2], int):
            out[2] = None         # XPENDING / FULL group pending: [id, consumer, idle or time, count]
        if len(out) == 3 and isinstance(out[0], bytes) and b"-" in out[0] and isinstance(out[1], int):
            out[1] = None         # FULL consumer pending: [id, time, count]
        if isinstance(v, h.Map):
            return h.Map(out)
        return out
    if isinstance(v, tuple):
        return tuple(_untimed(x) for x in v)
    return v


def _timed_replies(srv, proto):
    with srv.raw() as c:
        if proto == 3:
            c.call("HELLO", "3")
        for cmd in GROUP_SETUP:
            c.call(*cmd)
        return [_untimed(c.call(*cmd)) for cmd in TIMED]


@pytest.mark.parametrize("proto", [2, 3])
def test_pending_and_info_with_times(snode, sref, proto):
    """XPENDING with IDLE and consumer, XINFO CONSUMERS and STREAM FULL [COUNT],
    XAUTOCLAIM by idle time: the same replies once the clock's numbers are masked."""
    assert _timed_replies(snode, proto) == _timed_replies(sref, proto)


def _group_blocking(srv, proto):
    out = []
    with srv.raw() as p:
        for cmd in [("XADD", "{q}s", "1-1", "a", "1"), ("XGROUP", "CREATE", "{q}s", "g", "$"),
                    ("XGROUP", "CREATE", "{q}s", "h", "$")]:
            p.call(*cmd)
        c1 = d.block(srv, "XREADGROUP", "GROUP", "g", "c1", "BLOCK", "0", "STREAMS", "{q}s", ">", proto=proto)
        d.wait_blocked(srv, 1)         # blocked in this order: served in this order
        c2 = d.block(srv, "XREADGROUP", "GROUP", "g", "c2", "BLOCK", "0", "STREAMS", "{q}s", ">", proto=proto)
        d.wait_blocked(srv, 2)
        c3 = d.block(srv, "XREADGROUP", "GROUP", "h", "c3", "NOACK", "BLOCK", "0", "STREAMS", "{q}s", ">", proto=proto)
        d.wait_blocked(srv, 3)
        out.append(p.raw("XADD", "{q}s", "2-1", "a", "2"))
        out.append(c1.read())          # the first waiter of g takes it; c2 waits on for newer
        out.append(c3.read())
        d.wait_blocked(srv, 1)
        out.append(p.raw("XADD", "{q}s", "3-1", "a", "3"))
        out.append(c2.read())
        out.append(_untimed(p.call("XPENDING", "{q}s", "g", "-", "+", "10")))
        out.append(p.raw("XPENDING", "{q}s", "h"))
        c4 = d.block(srv, "XREADGROUP", "GROUP", "g", "c4", "BLOCK", "0", "STREAMS", "{q}s", ">", proto=proto)
        d.wait_blocked(srv, 1)
        out.append(p.raw("XGROUP", "DESTROY", "{q}s", "g"))
        out.append(c4.read())
        c5 = d.block(srv, "XREADGROUP", "GROUP", "h", "c5", "BLOCK", "50", "STREAMS", "{q}s", ">", proto=proto)
        out.append(c5.read())
        # the stream replaced by another type, or deleted: -UNBLOCKED (an XREAD waits on)
        c6 = d.block(srv, "XREADGROUP", "GROUP", "h", "c6", "BLOCK", "0", "STREAMS", "{q}s", ">", proto=proto)
        d.wait_blocked(srv, 1)
        out.append(p.raw("SET", "{q}s", "x"))
        out.append(c6.read())
        out.append(p.raw("XGROUP", "CREATE", "{q}t", "g", "$", "MKSTREAM"))
        c7 = d.block(srv, "XREADGROUP", "GROUP", "g", "c7", "BLOCK", "0", "STREAMS", "{q}t", ">", proto=proto)
        d.wait_blocked(srv, 1)
        c8 = d.block(srv, "XREAD", "BLOCK", "0", "STREAMS", "{q}t", "$", proto=proto)
        d.wait_blocked(srv, 2)
        out.append(p.raw("DEL", "{q}t"))
        out.append(c7.read())
        d.wait_blocked(srv, 1)
        out.append(p.raw("XADD", "{q}t", "1-1", "a", "1"))
        out.append(c8.read())
        for c in (c1, c2, c3, c4, c5, c6, c7, c8):
            c.close()
    d.wait_blocked(srv, 0)
    return out


@pytest.mark.parametrize("proto", [2, 3])
def test_blocking_xreadgroup(snode, sref, proto):
    """XREADGROUP BLOCK with >: served oldest first, each entry to one consumer of a
    group (NOACK too), -NOGROUP when the group is destroyed meanwhile, null on timeout,
    -UNBLOCKED when the stream is deleted or overwritten (an XREAD on it waits on)."""
    assert _group_blocking(snode, proto) == _group_blocking(sref, proto)


def _group_waiters_on_expiry(srv, proto):
    """XREADGROUP waiters of a stream that expires: actively (the cron), then
    lazily (a read finds it expired while active expiry is off)."""
    out = []
    with srv.raw() as p:
        try:
            for lazy in (False, True):
                p.call("XGROUP", "CREATE", "{e}s", "g", "$", "MKSTREAM")
                c1 = d.block(srv, "XREADGROUP", "GROUP", "g", "c1", "BLOCK", "0", "STREAMS", "{e}s", ">", proto=proto)
                d.wait_blocked(srv, 1)
                c2 = d.block(srv, "XREAD", "BLOCK", "0", "STREAMS", "{e}s", "$", proto=proto)
                d.wait_blocked(srv, 2)
                if lazy:
                    out.append(p.raw("DEBUG", "SET-ACTIVE-EXPIRE", "0"))
                out.append(p.raw("PEXPIRE", "{e}s", "50"))
                if lazy:
                    time.sleep(0.2)
                    out.append(d.blocked(srv))      # nobody woken before a read finds it expired
                    out.append(p.raw("EXISTS", "{e}s"))
                out.append(c1.read())
                d.wait_blocked(srv, 1)               # the XREAD waits on
                out.append(p.raw("XADD", "{e}s", "1-1", "a", "1"))
                out.append(c2.read())
                out.append(p.raw("DEL", "{e}s"))
                for c in (c1, c2):
                    c.close()
                d.wait_blocked(srv, 0)
        finally:
            p.call("DEBUG", "SET-ACTIVE-EXPIRE", "1")
    return out


@pytest.mark.parametrize("proto", [2, 3])
def test_blocking_xreadgroup_stream_expires(snode, sref, proto):
    """A stream that expires, by active expiry or lazily, answers its XREADGROUP
    waiters -UNBLOCKED as a DEL does (7.0.15 signals the deleted stream key
    ready); an XREAD on it waits on."""
    assert _group_waiters_on_expiry(snode, proto) == _group_waiters_on_expiry(sref, proto)


GROUP_EVENT_CMDS = [("XGROUP", "CREATE", "gev", "g", "$", "MKSTREAM"), ("XADD", "gev", "1-1", "a", "1"),
                    ("XGROUP", "CREATECONSUMER", "gev", "g", "c"), ("XGROUP", "CREATECONSUMER", "gev", "g", "c"),
                    ("XREADGROUP", "GROUP", "g", "c2", "STREAMS", "gev", ">"), ("XGROUP", "SETID", "gev", "g", "0"),
                    ("XCLAIM", "gev", "g", "c3", "0", "1-1"), ("XAUTOCLAIM", "gev", "g", "c4", "0", "0"),
                    ("XACK", "gev", "g", "1-1"), ("XGROUP", "DELCONSUMER", "gev", "g", "c"),
                    ("XSETID", "gev", "5-0"), ("XGROUP", "DESTROY", "gev", "g"), ("XGROUP", "DESTROY", "gev", "g")]


def test_group_keyspace_events(snode, sref):
    """new, xgroup-create, xgroup-createconsumer, xgroup-setid, xgroup-delconsumer,
    xsetid, xgroup-destroy: the same events in the same order as 7.0.15."""
    def events(srv):
        with srv.raw() as sub, srv.raw() as c:
            assert c.call("CONFIG", "SET", "notify-keyspace-events", "KEA") == "OK"
            sub.send(h.encode("PSUBSCRIBE", "__key*__:*"))
            sub.read()
            replies = [_untimed(c.call(*cmd)) for cmd in GROUP_EVENT_CMDS]
            assert c.call("PING") == "PONG"
            got, _ = sub.exchange(b"", idle=0.5, limit=10)
            assert c.call("CONFIG", "SET", "notify-keyspace-events", "") == "OK"
        return replies, got
    assert events(snode) == events(sref)


def _group_writes(seed, n):
    rnd = random.Random(seed)
    out = [("XGROUP", "CREATE", k, "g", "0", "MKSTREAM") for k in STREAM_KEYS]
    for _ in range(n):
        k = rnd.choice(STREAM_KEYS)
        r = rnd.random()
        if r < 0.5:
            out.append(("XADD", k, "*", "f", str(rnd.randint(0, 99))))
        elif r < 0.75:
            out.append(("XREADGROUP", "GROUP", "g", rnd.choice("abc"), "COUNT", "3") +
                       (("NOACK",) if rnd.random() < 0.2 else ()) + ("STREAMS", k, ">"))
        elif r < 0.85:
            out.append(("XAUTOCLAIM", k, "g", rnd.choice("abc"), "0", "0", "COUNT", "2"))
        elif r < 0.92:
            out.append(("XACK", k, "g", "0-1"))
        else:
            out.append(("XTRIM", k, "MAXLEN", "~", "20"))
    return out


def _no_counters(v):
    """A group's entries-read and lag masked: 7.0.15 propagates reads as XCLAIM ...
    LASTID, which moves a replica's last ID but not its read counter, so a
    replica's counters differ from its master's there too."""
    if isinstance(v, list):
        out = [_no_counters(x) for x in v]
        for i in range(len(out) - 1):
            if out[i] in (b"entries-read", b"lag"):
                out[i + 1] = None
        return out
    return v


def _groups_state(server):
    with server.raw(timeout=20) as c:
        c.call("READONLY")
        return {k: _no_counters(_untimed(c.call("XINFO", "STREAM", k, "FULL", "COUNT", "0"))) for k in STREAM_KEYS}


@pytest.mark.parametrize("master_kind,replica_kind", PAIRS)
def test_replica_has_same_groups(servers, master_kind, replica_kind):
    """XREADGROUP (propagated as XCLAIM / XGROUP SETID / CREATECONSUMER), XAUTOCLAIM
    and XACK leave the replica with the master's groups, pending lists included."""
    master, replica = _replicated(servers, master_kind, replica_kind, _group_writes(31, 1500))
    want = _groups_state(master)
    got = _groups_state(replica)
    for k in STREAM_KEYS:
        assert got[k] == want[k], (k, [(i, a, b) for i, (a, b) in enumerate(zip(got[k], want[k])) if a != b])


def test_groups_in_dump_and_rdb_both_ways(servers, tmp_path):
    """Groups, consumers and pending entries (times included) survive DUMP/RESTORE
    and dump.rdb between shoal and redis-server, both ways."""
    cmds = _group_writes(32, 800)
    src = tmp_path / "shoal-src"
    node = d.plain(servers, "shoal", src, "shoal-src")
    d.pipelined(node, cmds)
    with node.raw() as c:
        full = {k: c.call("XINFO", "STREAM", k, "FULL", "COUNT", "0") for k in STREAM_KEYS}
        dumps = {k: c.call("DUMP", k) for k in STREAM_KEYS}
        assert c.call("SAVE") == "OK"
    for kind, name in (("redis", "redis-load"), ("shoal", "shoal-back")):
        dst = tmp_path / name
        dst.mkdir()
        shutil.copy(src / "dump.rdb", dst / "dump.rdb")
        srv = d.plain(servers, kind, dst, name)
        with srv.raw() as c:
            assert {k: c.call("XINFO", "STREAM", k, "FULL", "COUNT", "0") for k in STREAM_KEYS} == full
            assert {k: c.call("DUMP", k) for k in STREAM_KEYS} == dumps
            for k in STREAM_KEYS:
                assert c.call("RESTORE", k + ":copy", "0", dumps[k], "REPLACE") == "OK"
                assert c.call("XINFO", "STREAM", k + ":copy", "FULL", "COUNT", "0") == full[k]
            assert c.call("SAVE") == "OK"
        src = dst


# --- AOF, digests, memory ------------------------------------------------------


def _full_untimed(c):
    """Streams and groups as XINFO STREAM FULL shows them, times and read counters
    masked (replayed XCLAIMs do not carry the counters, in 7.0.15 either)."""
    return {k: _no_counters(_untimed(c.call("XINFO", "STREAM", k, "FULL", "COUNT", "0"))) for k in STREAM_KEYS}


def _wait_rewrite(c, n):
    h.wait_until(lambda: (lambda i: i["aof_rewrite_in_progress"] == "0" and int(i["aof_rewrites"]) >= n)(
        h.info_dict(c.call("INFO", "persistence"))), 20, what="AOF rewrite finished")


def test_aof_with_streams_both_ways(servers, tmp_path):
    """Stream writes reach the AOF as 7.0.15 propagates them (concrete IDs, XCLAIM for
    group reads): a restart, a rewrite with and without the RDB preamble, and a
    redis-server given the same appendonlydir all load the same streams and groups."""
    dd = tmp_path / "aof"
    dd.mkdir()
    node = _aof_node(servers, "shoal", dd, "aof-shoal")
    cmds = _group_writes(33, 800) + [("XSETID", STREAM_KEYS[0], "99999999999999-0", "ENTRIESADDED", "100000")]
    d.pipelined(node, cmds)
    with node.raw() as c:
        want = _full_untimed(c)
    for step in ("restart", "rewrite", "rewrite-commands"):
        with node.raw() as c:
            if step == "rewrite-commands":
                assert c.call("CONFIG", "SET", "aof-use-rdb-preamble", "no") == "OK"
            if step != "restart":
                n = int(h.info_dict(c.call("INFO", "persistence"))["aof_rewrites"])
                c.call("BGREWRITEAOF")
                _wait_rewrite(c, n + 1)
        node.stop()
        node.start()
        with node.raw() as c:
            now = _full_untimed(c)
        for k in STREAM_KEYS:
            assert now[k] == want[k], (step, k, [(i, a, b) for i, (a, b) in enumerate(zip(now[k], want[k])) if a != b])
    node.stop()
    rd = tmp_path / "redis"
    shutil.copytree(dd / "appendonlydir", rd / "appendonlydir")
    ref = _aof_node(servers, "redis", rd, "aof-redis")
    with ref.raw() as c:
        assert _full_untimed(c) == want


def _aof_node(servers, kind, dirpath, name):
    port = h.free_port()
    args = ["--port", str(port), "--bind", "127.0.0.1", "--dir", str(dirpath), "--logfile", "", "--save", "",
            "--appendonly", "yes"]
    if kind == "redis":
        args += ["--daemonize", "no"]
    return (servers.redis if kind == "redis" else servers.shoal)(base_args=False, port=port, name=name,
                                                                 extra_args=args)


def test_digest_and_memory_usage(servers, tmp_path):
    """DEBUG DIGEST and DIGEST-VALUE of streams equal redis-server's (groups are not
    digested, as in 7.0.15); MEMORY USAGE of a stream of many nodes is within a factor
    of 2 (7.0.15 counts a tail node at the 4 KB it preallocates, shoal at its size,
    so a one-entry stream reads about ten times smaller here: not compared)."""
    got = {}
    for kind in ("shoal", "redis"):
        dirpath = tmp_path / kind
        dirpath.mkdir()
        srv = d.plain(servers, kind, dirpath, "dig-" + kind, "--enable-debug-command", "yes")
        with srv.raw() as c:
            for i in range(1, 1500):
                c.call("XADD", "big", f"{i}-{i % 3}", "field", str(i), "v" * (i % 9), "x")
            c.call("XDEL", "big", "10-1", "11-2")
            c.call("XADD", "small", "1-1", "a", "b")
            c.call("XGROUP", "CREATE", "small", "g", "0")
            c.call("XGROUP", "CREATE", "empty", "g", "$", "MKSTREAM")
            got[kind] = (c.raw("DEBUG", "DIGEST"), c.raw("DEBUG", "DIGEST-VALUE", "big", "small", "empty"),
                         c.call("MEMORY", "USAGE", "big"), c.call("MEMORY", "USAGE", "small"))
    assert got["shoal"][:2] == got["redis"][:2]
    assert got["redis"][2] / 2 <= got["shoal"][2] <= got["redis"][2] * 2, got
    assert 0 < got["shoal"][3] < got["shoal"][2]


def test_damaged_payloads_refused_or_consistent(snode):
    """RESTORE of stream payloads with bytes changed (CRC made right again) is refused
    with 'Bad data format', or gives a stream every command can walk: the node never
    crashes on a stream value it accepted."""
    rnd = random.Random(7)
    with snode.raw() as c:
        c.call("CONFIG", "SET", "stream-node-max-entries", "4")
        for i in range(1, 30):
            c.call("XADD", "src", f"{i}-{i % 2}", "f", str(i), "g" * (i % 3), "h")
        c.call("XDEL", "src", "3-1", "8-0")
        c.call("XGROUP", "CREATE", "src", "g", "0")
        c.call("XREADGROUP", "GROUP", "g", "a", "COUNT", "5", "STREAMS", "src", ">")
        c.call("XREADGROUP", "GROUP", "g", "b", "COUNT", "5", "STREAMS", "src", ">")
        c.call("CONFIG", "SET", "stream-node-max-entries", "100")
        good = c.call("DUMP", "src")
        accepted = 0
        for n in range(400):
            p = bytearray(good[:-8])
            for _ in range(rnd.randint(1, 3)):
                p[rnd.randrange(1, len(p) - 2)] = rnd.randrange(256)
            p = bytes(p) + rh.crc64(bytes(p)).to_bytes(8, "little")
            r = c.raw("RESTORE", "d", "0", p, "REPLACE")
            if r != b"+OK\r\n":
                assert r.startswith(b"-ERR Bad data format") or r.startswith(b"-ERR DUMP payload"), r
                continue
            accepted += 1
            for cmd in (("XRANGE", "d", "-", "+"), ("XREVRANGE", "d", "+", "-"), ("XINFO", "STREAM", "d", "FULL"),
                        ("XPENDING", "d", "g", "-", "+", "100"), ("XREADGROUP", "GROUP", "g", "z", "STREAMS", "d", "0"),
                        ("XADD", "d", "*", "x", "y"), ("XTRIM", "d", "MAXLEN", "3"), ("DUMP", "d")):
                c.raw(*cmd)
        assert c.call("PING") == "PONG"
    assert accepted < 400


def _reads_over_workers(srv):
    keys = [f"w{i}" for i in range(8)]
    out = []
    with srv.raw() as p:
        for k in keys:
            p.call("XADD", k, "5-0", "f", k)
        c1 = d.block(srv, "XREAD", "BLOCK", "0", "STREAMS", *keys, *["$"] * len(keys))
        d.wait_blocked(srv, 1)
        c2 = d.block(srv, "XREAD", "COUNT", "1", "BLOCK", "0", "STREAMS", *keys, *["5-0"] * len(keys))
        d.wait_blocked(srv, 2)
        out.append(p.raw("XADD", "w6", "4-0", "f", "old"))   # not past 5-0: both wait on
        out.append(p.raw("XADD", "w6", "6-0", "f", "new"))
        out.append(c1.read())
        out.append(c2.read())
        for c in (c1, c2):
            c.close()
    d.wait_blocked(srv, 0)
    return out


def test_blocking_xread_over_several_workers(servers):
    """Standalone, 4 workers: XREAD BLOCK over keys that several workers keep waits
    with its $ resolved when it started, and is served by the add past it."""
    got = {kind: _reads_over_workers((servers.shoal if kind == "shoal" else servers.redis)(
        base_args="standalone", **({"extra_args": ["--worker-threads", "4"]} if kind == "shoal" else {})))
        for kind in ("shoal", "redis")}
    assert got["shoal"] == got["redis"]
