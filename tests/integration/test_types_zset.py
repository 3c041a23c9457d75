"""Sorted set commands, compared with a real redis-server 7.0.15.

Each scenario sends the same raw commands to our node and to a reference
redis-server (both cluster-enabled, owning every slot, flushed before the
test) in RESP2 and RESP3 and requires byte-identical replies, errors
included. A sorted set's order is defined, so every reply is compared
exactly, OBJECT ENCODING and DUMP (listpack and skiplist) included. Seeded
random sequences check the same over many more calls, then the final
content, encoding and DUMP of every key. Never weaken an expectation to
match our node: the reference is the contract.
"""
import random
import time

import pytest

import diffhelpers as d
import helpers as h

BIG = "x" * 100

SCENARIOS = {
    "add_score": [
        ("ZADD", "z", "1", "a"), ("ZADD", "z", "2", "b", "3", "c"), ("ZSCORE", "z", "a"), ("ZSCORE", "z", "zz"),
        ("ZSCORE", "nosuch", "a"), ("ZADD", "z", "1.1", "d"), ("ZSCORE", "z", "d"), ("ZADD", "z", "-0", "e"),
        ("ZSCORE", "z", "e"), ("ZADD", "z", "inf", "f", "-inf", "g"), ("ZSCORE", "z", "f"), ("ZSCORE", "z", "g"),
        ("ZADD", "z", "nan", "h"), ("ZADD", "z", "x", "h"), ("ZADD", "z", "", "h"), ("ZADD", "z", " 1", "h"),
        ("ZADD", "z", "1 ", "h"), ("ZADD", "z", "0x10", "h"), ("ZADD", "z", "1e400", "h"), ("ZADD", "z", "1e-400", "h"),
        ("ZADD", "z", "+inf", "i"), ("ZADD", "z", "-Infinity", "j"), ("ZADD", "z", "1e300", "k"),
        ("ZADD", "z", "0.1", "l", "123456789012345678", "m", "3.0", "n", "-5e-324", "o"),
        ("ZRANGE", "z", "0", "-1", "WITHSCORES"), ("ZMSCORE", "z", "a", "zz", "f"), ("ZMSCORE", "nosuch", "a"),
        ("ZMSCORE", "z"), ("ZCARD", "z"), ("ZCARD", "nosuch"), ("DUMP", "z"), ("OBJECT", "ENCODING", "z"),
        ("ZADD", "z", "1"), ("ZADD", "z", "1", "a", "2"), ("ZADD", "z"), ("ZADD", "z", "NX"),
        ("ZADD", "z", "7", "a", "x", "b"), ("ZSCORE", "z", "a"), ("TYPE", "z"),
    ],
    "add_flags": [
        ("ZADD", "z", "1", "a", "2", "b"), ("ZADD", "z", "NX", "5", "a", "3", "c"), ("ZADD", "z", "XX", "5", "a", "4", "d"),
        ("ZADD", "z", "CH", "5", "a", "6", "b", "7", "e"), ("ZADD", "z", "GT", "CH", "1", "a", "9", "b"),
        ("ZADD", "z", "LT", "CH", "1", "a", "99", "b"), ("ZADD", "z", "NX", "XX", "1", "a"),
        ("ZADD", "z", "NX", "GT", "1", "a"), ("ZADD", "z", "GT", "LT", "1", "a"), ("ZADD", "z", "LT", "NX", "1", "a"),
        ("ZADD", "z", "INCR", "1", "a", "2", "b"), ("ZADD", "z", "INCR", "2.5", "a"), ("ZADD", "z", "INCR", "NX", "1", "a"),
        ("ZADD", "z", "INCR", "XX", "1", "nosuch"), ("ZADD", "z", "INCR", "GT", "-1", "a"),
        ("ZADD", "z", "INCR", "LT", "-1", "a"), ("ZADD", "z", "xx", "gt", "ch", "100", "a", "1", "zz"),
        ("ZADD", "nokey", "XX", "1", "a"), ("EXISTS", "nokey"), ("ZADD", "nokey", "XX", "INCR", "1", "a"),
        ("ZADD", "z", "INCR", "inf", "f"), ("ZADD", "z", "INCR", "-inf", "f"), ("ZSCORE", "z", "f"),
        ("ZINCRBY", "z", "inf", "g"), ("ZINCRBY", "z", "-inf", "g"), ("ZINCRBY", "z", "1", "a"),
        ("ZINCRBY", "z", "x", "a"), ("ZINCRBY", "z", "nan", "a"), ("ZINCRBY", "new", "0.1", "m"),
        ("ZINCRBY", "new", "0.2", "m"), ("ZINCRBY", "z", "NX", "m"), ("ZINCRBY", "z", "1"),
        ("ZRANGE", "z", "0", "-1", "WITHSCORES"), ("ZRANGE", "new", "0", "-1", "WITHSCORES"),
    ],
    "rem_rank": [
        ("ZADD", "z", "1", "a", "2", "b", "3", "c", "3", "d", "0", "x"), ("ZRANK", "z", "a"), ("ZRANK", "z", "d"),
        ("ZREVRANK", "z", "a"), ("ZREVRANK", "z", "x"), ("ZRANK", "z", "nosuch"), ("ZRANK", "nosuch", "a"),
        ("ZREM", "z", "a", "nosuch"), ("ZREM", "z", "a"), ("ZREM", "nosuch", "a"), ("ZREM", "z", "b", "c", "d", "x"),
        ("EXISTS", "z"), ("ZREM", "z"), ("ZRANK", "z"), ("ZRANK", "z", "a", "b"),
    ],
    "wrongtype": [
        ("SET", "s", "v"), ("ZADD", "s", "1", "a"), ("ZADD", "s", "x", "a"), ("ZINCRBY", "s", "1", "a"),
        ("ZREM", "s", "a"), ("ZCARD", "s"), ("ZSCORE", "s", "a"), ("ZMSCORE", "s", "a"), ("ZRANK", "s", "a"),
        ("ZREVRANK", "s", "a"), ("ZCOUNT", "s", "0", "1"), ("ZCOUNT", "s", "x", "1"), ("ZLEXCOUNT", "s", "-", "+"),
        ("ZRANGE", "s", "0", "1"), ("ZRANGE", "s", "x", "1"), ("ZRANGEBYSCORE", "s", "0", "1"),
        ("ZRANGEBYLEX", "s", "-", "+"), ("ZREVRANGE", "s", "0", "1"), ("ZRANGESTORE", "d", "s", "0", "1"),
        ("ZREMRANGEBYRANK", "s", "0", "1"), ("ZREMRANGEBYSCORE", "s", "0", "1"), ("ZREMRANGEBYLEX", "s", "-", "+"),
        ("ZADD", "z", "1", "a"), ("GET", "z"), ("LPUSH", "z", "x"), ("HSET", "z", "f", "v"), ("SADD", "z", "x"),
    ],
    "ranges": [
        ("ZADD", "z", "1", "a", "2", "b", "3", "c", "4", "d", "5", "e", "5", "f", "-1", "g"),
        ("ZRANGE", "z", "0", "-1"), ("ZRANGE", "z", "1", "3", "WITHSCORES"), ("ZRANGE", "z", "-3", "-1"),
        ("ZRANGE", "z", "5", "1"), ("ZRANGE", "z", "-100", "100"), ("ZRANGE", "z", "10", "20"),
        ("ZRANGE", "z", "0", "-1", "REV"), ("ZRANGE", "z", "0", "1", "REV", "WITHSCORES"),
        ("ZRANGE", "z", "x", "1"), ("ZRANGE", "z", "0", "1", "LIMIT", "0", "1"),
        ("ZRANGE", "z", "(1", "5", "BYSCORE"), ("ZRANGE", "z", "1", "(5", "BYSCORE", "WITHSCORES"),
        ("ZRANGE", "z", "5", "1", "BYSCORE", "REV"), ("ZRANGE", "z", "(5", "(1", "BYSCORE", "REV", "WITHSCORES"),
        ("ZRANGE", "z", "-inf", "+inf", "BYSCORE", "LIMIT", "1", "3"), ("ZRANGE", "z", "-inf", "+inf", "BYSCORE", "LIMIT", "1", "-1"),
        ("ZRANGE", "z", "+inf", "-inf", "BYSCORE", "REV", "LIMIT", "2", "2"), ("ZRANGE", "z", "0", "10", "BYSCORE", "LIMIT", "-1", "2"),
        ("ZRANGE", "z", "0", "10", "BYSCORE", "LIMIT", "100", "2"), ("ZRANGE", "z", "0", "10", "BYSCORE", "LIMIT", "0", "0"),
        ("ZRANGE", "z", "x", "10", "BYSCORE"), ("ZRANGE", "z", "(", "10", "BYSCORE"), ("ZRANGE", "z", "nan", "10", "BYSCORE"),
        ("ZRANGE", "z", "", "10", "BYSCORE"), ("ZRANGE", "z", " 1", "10", "BYSCORE"), ("ZRANGE", "z", "1", "1", "BYSCORE"),
        ("ZRANGE", "z", "(1", "1", "BYSCORE"), ("ZRANGE", "z", "3", "1", "BYSCORE"),
        ("ZRANGE", "z", "-", "+", "BYLEX"), ("ZRANGE", "z", "[a", "(c", "BYLEX"), ("ZRANGE", "z", "+", "-", "BYLEX", "REV"),
        ("ZRANGE", "z", "a", "c", "BYLEX"), ("ZRANGE", "z", "-", "+", "BYLEX", "WITHSCORES"),
        ("ZRANGE", "z", "-", "+", "BYLEX", "LIMIT", "1", "2"), ("ZRANGE", "z", "0", "1", "BYSCORE", "BYLEX"),
        ("ZRANGE", "z", "0", "1", "REV", "REV"), ("ZRANGE", "z", "0", "1", "LIMIT", "1"), ("ZRANGE", "z", "0", "1", "LIMIT", "x", "1"),
        ("ZRANGE", "z", "0", "1", "BOGUS"), ("ZRANGE", "nosuch", "0", "1"), ("ZRANGE", "nosuch", "x", "1"),
        ("ZREVRANGE", "z", "0", "2"), ("ZREVRANGE", "z", "0", "2", "WITHSCORES"), ("ZREVRANGE", "z", "0", "2", "REV"),
        ("ZREVRANGE", "z", "0", "2", "BYSCORE"), ("ZRANGEBYSCORE", "z", "1", "4"), ("ZRANGEBYSCORE", "z", "1", "4", "WITHSCORES", "LIMIT", "1", "2"),
        ("ZRANGEBYSCORE", "z", "1", "4", "REV"), ("ZRANGEBYSCORE", "z", "1", "4", "BYLEX"),
        ("ZREVRANGEBYSCORE", "z", "4", "1"), ("ZREVRANGEBYSCORE", "z", "4", "1", "WITHSCORES", "LIMIT", "1", "2"),
        ("ZREVRANGEBYSCORE", "z", "1", "4"), ("ZRANGEBYLEX", "z", "-", "[c"), ("ZRANGEBYLEX", "z", "-", "[c", "LIMIT", "1", "1"),
        ("ZRANGEBYLEX", "z", "-", "[c", "WITHSCORES"), ("ZREVRANGEBYLEX", "z", "[c", "-"), ("ZREVRANGEBYLEX", "z", "-", "[c"),
        ("ZRANGEBYLEX", "z", "x", "+"), ("ZRANGEBYLEX", "z", "--", "+"), ("ZRANGEBYLEX", "z", "-", "++"),
        ("ZRANGEBYLEX", "z", "(", "+"), ("ZRANGEBYLEX", "z", "", "+"), ("ZRANGEBYLEX", "z", "(c", "[c"),
        ("ZRANGEBYLEX", "z", "[c", "[c"), ("ZRANGEBYLEX", "z", "+", "+"), ("ZRANGEBYLEX", "z", "-", "-"),
        ("ZCOUNT", "z", "-inf", "+inf"), ("ZCOUNT", "z", "(1", "5"), ("ZCOUNT", "z", "5", "(5"), ("ZCOUNT", "z", "x", "1"),
        ("ZCOUNT", "nosuch", "0", "1"), ("ZCOUNT", "nosuch", "x", "1"), ("ZLEXCOUNT", "z", "-", "+"),
        ("ZLEXCOUNT", "z", "(a", "[e"), ("ZLEXCOUNT", "z", "a", "+"), ("ZLEXCOUNT", "nosuch", "-", "+"),
    ],
    "store_remrange": [
        ("ZADD", "{t}z", "1", "a", "2", "b", "3", "c", "4", "d", "5", "e"),
        ("ZRANGESTORE", "{t}d", "{t}z", "0", "2"), ("ZRANGE", "{t}d", "0", "-1", "WITHSCORES"),
        ("ZRANGESTORE", "{t}d", "{t}z", "(1", "4", "BYSCORE", "REV", "LIMIT", "0", "2"), ("ZRANGE", "{t}d", "0", "-1", "WITHSCORES"),
        ("ZRANGESTORE", "{t}d", "{t}z", "[b", "+", "BYLEX"), ("ZRANGE", "{t}d", "0", "-1", "WITHSCORES"),
        ("ZRANGESTORE", "{t}d", "{t}z", "10", "20"), ("EXISTS", "{t}d"), ("ZRANGESTORE", "{t}d", "{t}nosuch", "0", "1"),
        ("ZRANGESTORE", "{t}d", "{t}z", "0", "1", "WITHSCORES"), ("SET", "{t}s", "x"), ("ZRANGESTORE", "{t}s", "{t}z", "0", "1"),
        ("TYPE", "{t}s"), ("ZRANGESTORE", "{t}d", "{t}s", "0", "1"), ("ZRANGESTORE", "a", "b", "0", "1"),
        ("ZREMRANGEBYRANK", "{t}z", "0", "0"), ("ZREMRANGEBYRANK", "{t}z", "-1", "-1"), ("ZREMRANGEBYRANK", "{t}z", "5", "9"),
        ("ZREMRANGEBYRANK", "{t}z", "x", "1"), ("ZRANGE", "{t}z", "0", "-1"), ("ZREMRANGEBYSCORE", "{t}z", "(2", "3"),
        ("ZREMRANGEBYSCORE", "{t}z", "x", "3"), ("ZREMRANGEBYLEX", "{t}z", "[b", "[b"), ("ZREMRANGEBYLEX", "{t}z", "b", "c"),
        ("ZRANGE", "{t}z", "0", "-1"), ("ZREMRANGEBYRANK", "{t}z", "0", "-1"), ("EXISTS", "{t}z"),
        ("ZREMRANGEBYRANK", "{t}nosuch", "0", "-1"), ("ZREMRANGEBYSCORE", "{t}nosuch", "x", "1"),
    ],
    "encoding": [
        ("ZADD", "lp", "1", "a"), ("OBJECT", "ENCODING", "lp"), ("ZADD", "lp", "2", "v" * 64),
        ("OBJECT", "ENCODING", "lp"), ("ZADD", "lp", "3", "v" * 65), ("OBJECT", "ENCODING", "lp"), ("DUMP", "lp"),
        ("ZADD", "big", "1", BIG), ("OBJECT", "ENCODING", "big"), ("ZADD", "big2", "1", "a", "2", BIG),
        ("OBJECT", "ENCODING", "big2"), ("ZADD", "many") + tuple(x for i in range(129) for x in (str(i), f"m{i}")),
        ("OBJECT", "ENCODING", "many"), ("ZADD", "edge") + tuple(x for i in range(128) for x in (str(i), f"m{i}")),
        ("OBJECT", "ENCODING", "edge"), ("ZADD", "edge", "1.5", "x"), ("OBJECT", "ENCODING", "edge"),
        ("ZREM", "edge", "x", "m1", "m2"), ("OBJECT", "ENCODING", "edge"), ("DUMP", "edge"), ("DUMP", "many"),
        ("ZRANGE", "many", "100", "110", "WITHSCORES"), ("ZRANK", "many", "m77"), ("ZREVRANK", "many", "m77"),
        ("ZCOUNT", "many", "(10", "20"), ("ZRANGE", "many", "(10", "20", "BYSCORE", "REV", "LIMIT", "2", "3"),
        ("ZADD", "d", "1", "a", "-70000", "b", "12345678901234", "c", "0.5", "d", "1e20", "e", "1", "-5"), ("DUMP", "d"),
        ("ZINCRBY", "new", "1", BIG), ("OBJECT", "ENCODING", "new"),
    ],
    "pop": [
        ("ZADD", "{p}z", "1", "a", "2", "b", "3", "c", "4", "d", "5", "e", "1.5", "f"), ("ZPOPMIN", "{p}z"),
        ("ZPOPMAX", "{p}z"), ("ZPOPMIN", "{p}z", "2"), ("ZPOPMAX", "{p}z", "1"), ("ZPOPMIN", "{p}z", "0"),
        ("ZPOPMIN", "{p}z", "-1"), ("ZPOPMIN", "{p}z", "x"), ("ZPOPMIN", "{p}z", "1", "2"), ("ZPOPMIN", "{p}nosuch"),
        ("ZPOPMIN", "{p}nosuch", "0"), ("ZPOPMAX", "{p}nosuch", "3"), ("ZPOPMAX", "{p}z", "10"), ("EXISTS", "{p}z"),
        ("ZADD", "{p}z", "1", "a", "2", "b", "3", "c"), ("ZADD", "{p}y", "7", "y"),
        ("ZMPOP", "2", "{p}nosuch", "{p}z", "MIN"), ("ZMPOP", "2", "{p}nosuch", "{p}z", "MAX", "COUNT", "5"),
        ("ZMPOP", "2", "{p}nosuch", "{p}z", "MIN"), ("ZMPOP", "1", "{p}y", "max", "count", "1"),
        ("ZMPOP", "0", "{p}z", "MIN"), ("ZMPOP", "-1", "{p}z", "MIN"), ("ZMPOP", "x", "{p}z", "MIN"),
        ("ZMPOP", "3", "{p}z", "MIN"), ("ZMPOP", "1", "{p}z", "BOTH"), ("ZMPOP", "1", "{p}z", "MIN", "COUNT"),
        ("ZMPOP", "1", "{p}z", "MIN", "COUNT", "0"), ("ZMPOP", "1", "{p}z", "MIN", "COUNT", "1", "COUNT", "1"),
        ("ZMPOP", "1", "{p}z", "MIN", "BOGUS"), ("SET", "{p}s", "x"), ("ZMPOP", "2", "{p}s", "{p}z", "MIN"),
        ("ZPOPMIN", "{p}s"), ("ZADD", "{p}z", "1", "a", "2", "b"), ("BZPOPMIN", "{p}nosuch", "{p}z", "0"),
        ("BZPOPMAX", "{p}z", "0.01"), ("BZPOPMIN", "{p}z", "x"), ("BZPOPMIN", "{p}z", "-1"),
        ("BZPOPMIN", "{p}s", "0"), ("ZADD", "{p}z", "1", "a", "2", "b", "3", "c"),
        ("BZMPOP", "0", "2", "{p}nosuch", "{p}z", "MIN", "COUNT", "2"), ("BZMPOP", "0", "1", "{p}z", "MAX"),
        ("BZMPOP", "x", "1", "{p}z", "MAX"), ("BZMPOP", "0", "0", "{p}z", "MAX"), ("BZMPOP", "0", "1", "{p}z", "UP"),
        ("BZPOPMIN", "{p}nosuch", "0.01"), ("BZMPOP", "0.01", "1", "{p}nosuch", "MIN"),
        ("ZPOPMIN", "a", "b"),
    ],
    "scan_rand": [
        ("ZADD", "z", "1", "a", "2.5", "b", "-0", "c", "inf", "d", "0.1", "e"), ("ZSCAN", "z", "0"),
        ("ZSCAN", "z", "0", "MATCH", "a*"), ("ZSCAN", "z", "0", "COUNT", "1"), ("ZSCAN", "z", "x"),
        ("ZSCAN", "z", "0", "COUNT", "0"), ("ZSCAN", "nosuch", "0"), ("ZSCAN", "nosuch", "x"),
        ("ZRANDMEMBER", "nosuch"), ("ZRANDMEMBER", "nosuch", "3"), ("ZRANDMEMBER", "nosuch", "-3", "WITHSCORES"),
        ("ZADD", "one", "3", "m"), ("ZRANDMEMBER", "one"), ("ZRANDMEMBER", "one", "2"), ("ZRANDMEMBER", "one", "-3"),
        ("ZRANDMEMBER", "one", "-2", "WITHSCORES"), ("ZRANDMEMBER", "one", "5", "withscores"), ("ZRANDMEMBER", "one", "0"),
        ("ZRANDMEMBER", "one", "x"), ("ZRANDMEMBER", "one", "1", "bogus"), ("ZRANDMEMBER", "one", "1", "WITHSCORES", "x"),
        ("ZRANDMEMBER", "one", "-9223372036854775808"), ("ZRANDMEMBER", "one", "9223372036854775807", "WITHSCORES"),
        ("ZRANDMEMBER", "one", "-4611686018427387904", "WITHSCORES"), ("ZRANDMEMBER", "z", "5", "WITHSCORES"),
        ("ZRANDMEMBER", "z", "10"), ("SET", "s", "x"), ("ZRANDMEMBER", "s"), ("ZSCAN", "s", "0"),
    ],
    "algebra": [
        ("ZADD", "{o}a", "1", "x", "2", "y", "3", "z", "inf", "i"), ("ZADD", "{o}b", "10", "y", "20", "z", "-inf", "i", "5", "w"),
        ("SADD", "{o}s", "x", "w", "q"), ("ZADD", "{o}c", "0.1", "x", "0.2", "y", "0.3", "z"),
        ("ZUNION", "2", "{o}a", "{o}b"), ("ZUNION", "2", "{o}a", "{o}b", "WITHSCORES"),
        ("ZUNION", "3", "{o}a", "{o}b", "{o}s", "WEIGHTS", "1", "2", "3", "WITHSCORES"),
        ("ZUNION", "2", "{o}a", "{o}b", "AGGREGATE", "MIN", "WITHSCORES"), ("ZUNION", "2", "{o}a", "{o}b", "aggregate", "max", "withscores"),
        ("ZUNION", "3", "{o}c", "{o}c", "{o}c", "WITHSCORES"), ("ZUNION", "3", "{o}a", "{o}c", "{o}b", "WEIGHTS", "0.1", "0.7", "3", "WITHSCORES"),
        ("ZUNION", "2", "{o}a", "{o}b", "WEIGHTS", "0", "1", "WITHSCORES"), ("ZUNION", "2", "{o}a", "{o}nosuch", "WITHSCORES"),
        ("ZINTER", "2", "{o}a", "{o}b", "WITHSCORES"), ("ZINTER", "3", "{o}a", "{o}b", "{o}c", "WITHSCORES"),
        ("ZINTER", "2", "{o}a", "{o}s", "WITHSCORES"), ("ZINTER", "2", "{o}a", "{o}nosuch"), ("ZINTER", "2", "{o}a", "{o}a", "WEIGHTS", "2", "3", "WITHSCORES"),
        ("ZDIFF", "2", "{o}a", "{o}b"), ("ZDIFF", "2", "{o}a", "{o}s", "WITHSCORES"), ("ZDIFF", "1", "{o}nosuch"),
        ("ZDIFF", "2", "{o}a", "{o}b", "WEIGHTS", "1", "2"), ("ZDIFF", "2", "{o}a", "{o}b", "AGGREGATE", "MIN"),
        ("ZINTERCARD", "2", "{o}a", "{o}b"), ("ZINTERCARD", "2", "{o}a", "{o}b", "LIMIT", "1"), ("ZINTERCARD", "2", "{o}a", "{o}b", "LIMIT", "0"),
        ("ZINTERCARD", "2", "{o}a", "{o}b", "LIMIT", "-1"), ("ZINTERCARD", "2", "{o}a", "{o}b", "LIMIT", "x"),
        ("ZINTERCARD", "0", "{o}a"), ("ZINTERCARD", "3", "{o}a", "{o}b"), ("ZINTERCARD", "2", "{o}a", "{o}b", "WITHSCORES"),
        ("ZUNION", "0", "{o}a"), ("ZUNION", "-1", "{o}a"), ("ZUNION", "x", "{o}a"), ("ZUNION", "3", "{o}a", "{o}b"),
        ("ZUNION", "2", "{o}a", "{o}b", "WEIGHTS", "1"), ("ZUNION", "2", "{o}a", "{o}b", "WEIGHTS", "1", "x"),
        ("ZUNION", "2", "{o}a", "{o}b", "WEIGHTS", "1", "nan"), ("ZUNION", "2", "{o}a", "{o}b", "AGGREGATE", "AVG"),
        ("ZUNION", "2", "{o}a", "{o}b", "AGGREGATE"), ("ZUNION", "2", "{o}a", "{o}b", "BOGUS"), ("SET", "{o}str", "v"),
        ("ZUNION", "2", "{o}a", "{o}str"), ("ZUNION", "2", "{o}str", "{o}a", "BOGUS"), ("ZINTERCARD", "1", "{o}str"),
        ("ZUNIONSTORE", "{o}d", "2", "{o}a", "{o}b"), ("ZRANGE", "{o}d", "0", "-1", "WITHSCORES"), ("OBJECT", "ENCODING", "{o}d"),
        ("ZUNIONSTORE", "{o}d", "2", "{o}a", "{o}b", "WITHSCORES"), ("ZINTERSTORE", "{o}d", "2", "{o}a", "{o}b", "WEIGHTS", "2", "0.5"),
        ("ZRANGE", "{o}d", "0", "-1", "WITHSCORES"), ("ZDIFFSTORE", "{o}d", "2", "{o}a", "{o}b"), ("ZRANGE", "{o}d", "0", "-1", "WITHSCORES"),
        ("ZINTERSTORE", "{o}d", "2", "{o}a", "{o}nosuch"), ("EXISTS", "{o}d"), ("ZUNIONSTORE", "{o}str", "1", "{o}a"), ("TYPE", "{o}str"),
        ("ZADD", "{o}big", "1", BIG), ("ZUNIONSTORE", "{o}d", "2", "{o}a", "{o}big"), ("OBJECT", "ENCODING", "{o}d"),
        ("ZINTERSTORE", "{o}d", "2", "{o}a", "{o}big"), ("ZUNIONSTORE", "{o}d", "0", "{o}a"), ("ZDIFFSTORE", "{o}d", "0", "{o}a"),
        ("ZUNION", "2", "{o}a", "{x}b"), ("ZUNIONSTORE", "{x}d", "1", "{o}a"), ("ZINTERCARD", "2", "{o}a", "{x}b"),
        ("ZDIFF", "1", "{o}a", "{o}b"),
    ],
    "arity_and_table": [
        ("ZADD", "z", "1"), ("ZINCRBY", "z", "1"), ("ZREM", "z"), ("ZCARD",), ("ZSCORE", "z"), ("ZMSCORE", "z"),
        ("ZRANK", "z"), ("ZCOUNT", "z", "1"), ("ZLEXCOUNT", "z", "-"), ("ZRANGE", "z", "0"), ("ZRANGESTORE", "d", "z", "0"),
        ("ZREVRANGE", "z", "0"), ("ZRANGEBYSCORE", "z", "0"), ("ZRANGEBYLEX", "z", "-"), ("ZREMRANGEBYRANK", "z", "0"),
        ("COMMAND", "INFO", "zadd", "zincrby", "zrem", "zrange", "zrangestore", "zrangebyscore", "zrevrangebylex"),
        ("COMMAND", "INFO", "zcard", "zscore", "zmscore", "zrank", "zrevrank", "zcount", "zlexcount", "zrevrange"),
        ("COMMAND", "INFO", "zrangebylex", "zrevrangebyscore", "zremrangebyrank", "zremrangebyscore", "zremrangebylex"),
        ("COMMAND", "INFO", "zpopmin", "zpopmax", "zmpop", "bzpopmin", "bzpopmax", "bzmpop", "zrandmember", "zscan"),
        ("COMMAND", "GETKEYS", "ZMPOP", "2", "a", "b", "MIN"), ("COMMAND", "GETKEYS", "BZMPOP", "0", "1", "a", "MAX"),
        ("COMMAND", "INFO", "zunion", "zinter", "zdiff", "zunionstore", "zinterstore", "zdiffstore", "zintercard"),
        ("COMMAND", "GETKEYS", "ZUNIONSTORE", "d", "2", "a", "b", "WEIGHTS", "1", "2"),
        ("COMMAND", "GETKEYS", "ZINTERCARD", "2", "a", "b", "LIMIT", "1"),
        ("COMMAND", "GETKEYS", "ZRANGESTORE", "d", "s", "0", "1"), ("COMMAND", "GETKEYS", "ZADD", "k", "1", "m"),
    ],
}


@pytest.mark.parametrize("proto", [2, 3])
@pytest.mark.parametrize("name", sorted(SCENARIOS))
def test_same_replies_as_redis(snode, sref, name, proto):
    cmds = SCENARIOS[name]
    d.compare(cmds, d.run(sref, cmds, proto), d.run(snode, cmds, proto))


KEYS = ["{r}a", "{r}b", "{r}c", "{r}l"]


def _random_commands(seed, n):
    """A seeded sequence of sorted set commands over a few keys of one slot;
    key {r}c is pushed past the listpack limits now and then. Member ranges
    (BYLEX) are only defined on members of one score: they go to {r}l, whose
    scores are all 0."""
    rnd = random.Random(seed)
    members = [f"m{i}" for i in range(60)] + ["", "1", "-2", "007", "x" * 70]
    scores = [str(i) for i in range(-5, 20)] + ["1.5", "-0.25", "inf", "-inf", "1e300", "0.1", "x", "(1"]

    def bound():
        return rnd.choice(["-inf", "+inf", "(1", "(3", "2", "5", "10", "(0", "x"])

    def lex():
        return rnd.choice(["-", "+", "[m1", "(m3", "[m5", "(m", "[", "x"])
    out = []
    for _ in range(n):
        k = rnd.choice(KEYS[:3])
        m = rnd.choice(members)
        lk = "{r}l"
        r = rnd.random()
        if r < 0.25:
            opts = tuple(rnd.sample(["NX", "XX", "GT", "LT", "CH", "INCR"], rnd.choice([0, 0, 0, 1, 2])))
            pairs = ()
            for _ in range(rnd.randint(1, 5) if "INCR" not in opts else 1):
                pairs += (rnd.choice(scores), rnd.choice(members))
            out.append(("ZADD", k) + opts + pairs)
        elif r < 0.30:
            out.append(("ZINCRBY", k, rnd.choice(scores), m))
        elif r < 0.38:
            out.append(("ZREM", k) + tuple(rnd.choice(members) for _ in range(rnd.randint(1, 4))))
        elif r < 0.45:
            out.append((rnd.choice(["ZSCORE", "ZRANK", "ZREVRANK"]), k, m))
        elif r < 0.48:
            out.append(("ZMSCORE", k, m, rnd.choice(members)))
        elif r < 0.52:
            out.append(("ZCARD", k))
        elif r < 0.58:
            out.append(("ZRANGE", k, str(rnd.randint(-10, 10)), str(rnd.randint(-10, 10)))
                       + tuple(rnd.sample(["REV", "WITHSCORES"], rnd.randint(0, 2))))
        elif r < 0.66:
            extra = tuple(rnd.sample(["REV", "WITHSCORES"], rnd.randint(0, 2)))
            if rnd.random() < 0.5:
                extra += ("LIMIT", str(rnd.randint(-1, 5)), str(rnd.randint(-1, 5)))
            out.append(("ZRANGE", k, bound(), bound(), "BYSCORE") + extra)
        elif r < 0.70:
            out.append(("ZRANGE", lk, lex(), lex(), "BYLEX") + tuple(rnd.sample(["REV"], rnd.randint(0, 1))))
        elif r < 0.74:
            out.append((rnd.choice(["ZRANGEBYSCORE", "ZREVRANGEBYSCORE"]), k, bound(), bound(), "WITHSCORES"))
        elif r < 0.77:
            out.append((rnd.choice(["ZRANGEBYLEX", "ZREVRANGEBYLEX"]), lk, lex(), lex()))
        elif r < 0.80:
            out.append(("ZCOUNT", k, bound(), bound()))
        elif r < 0.82:
            out.append(("ZLEXCOUNT", lk, lex(), lex()))
        elif r < 0.84:
            out.append(("ZREMRANGEBYRANK", k, str(rnd.randint(-5, 5)), str(rnd.randint(-5, 5))))
        elif r < 0.86:
            out.append(("ZREMRANGEBYSCORE", k, bound(), bound()))
        elif r < 0.87:
            out.append(("ZREMRANGEBYLEX", lk, lex(), lex()))
        elif r < 0.885:
            out.append(("ZRANGESTORE", rnd.choice(KEYS[:3]), k, str(rnd.randint(-5, 5)), str(rnd.randint(-5, 30))))
        elif r < 0.89:
            op = rnd.choice(["ZUNIONSTORE", "ZINTERSTORE", "ZDIFFSTORE", "ZUNION", "ZINTER", "ZDIFF", "ZINTERCARD"])
            srcs = tuple(rnd.sample(KEYS[:3], 2))
            extra = ()
            if op in ("ZUNIONSTORE", "ZINTERSTORE", "ZUNION", "ZINTER") and rnd.random() < 0.5:
                extra = ("WEIGHTS", rnd.choice(["1", "0.5", "-2"]), rnd.choice(["3", "0.1"]),
                         "AGGREGATE", rnd.choice(["SUM", "MIN", "MAX"]))
            if op in ("ZUNION", "ZINTER", "ZDIFF"):
                extra += ("WITHSCORES",)
            dst = (rnd.choice(KEYS[:3]),) if op.endswith("STORE") else ()
            out.append((op,) + dst + ("2",) + srcs + extra)
        elif r < 0.92:
            out.append(("ZADD", "{r}c") + tuple(x for i in range(rnd.randint(1, 40))
                                               for x in (str(rnd.randint(0, 1000)), f"big{rnd.randint(0, 400)}")))
        elif r < 0.94:
            out.append(("ZADD", lk) + tuple(x for i in range(rnd.randint(1, 8)) for x in ("0", rnd.choice(members))))
        elif r < 0.96:
            out.append(("OBJECT", "ENCODING", k))
        else:
            out.append(("DUMP", k))
    out += [("ZRANGE", k, "0", "-1", "WITHSCORES") for k in KEYS]
    return out


@pytest.mark.parametrize("seed", [1, 2, 3])
def test_random_sequence_same_as_redis(snode, sref, seed):
    cmds = _random_commands(seed, 4000)
    d.compare(cmds, d.run(sref, cmds, 2), d.run(snode, cmds, 2))


@pytest.mark.parametrize("seed,n,proto", [(11, 100000, 2), (12, 20000, 3)])
def test_long_stream_same_as_redis(snode, sref, seed, n, proto):
    """100,000 pipelined sorted set commands: every reply equal, then every
    key's content, encoding and DUMP."""
    cmds = _random_commands(seed, n)
    d.assert_same(snode, sref, cmds, proto=proto, pipeline=True)
    finals = []
    for server in (snode, sref):
        with server.raw() as c:
            finals.append([(c.call("OBJECT", "ENCODING", k), c.call("ZRANGE", k, "0", "-1", "WITHSCORES"),
                            c.call("DUMP", k)) for k in KEYS])
    assert finals[0] == finals[1]


def _blocked_then_served(server, wait_cmd, feed, proto):
    """wait_cmd sent on one connection, then feed on another; the waiter's
    raw reply and the feeder's replies."""
    with server.raw(timeout=10) as w, server.raw(timeout=10) as f:
        if proto == 3:
            w.call("HELLO", "3")
        w.send(h.encode(*wait_cmd))
        time.sleep(0.2)
        fed = [f.raw(*c) for c in feed]
        return w.read()[0], fed, f.raw("ZRANGE", "{b}k", "0", "-1", "WITHSCORES")


@pytest.mark.parametrize("proto", [2, 3])
@pytest.mark.parametrize("wait_cmd,feed", [
    (("BZPOPMIN", "{b}none", "{b}k", "0"), [("ZADD", "{b}k", "2", "b", "1", "a")]),
    (("BZPOPMAX", "{b}k", "0"), [("ZADD", "{b}k", "2", "b", "1", "a")]),
    (("BZMPOP", "0", "2", "{b}none", "{b}k", "MIN", "COUNT", "5"), [("ZADD", "{b}k", "2", "b", "1", "a", "3", "c")]),
    (("BZPOPMIN", "{b}k", "0.5"), [("LPUSH", "{b}k", "x")]),
    (("BLPOP", "{b}k", "0.5"), [("ZADD", "{b}k", "1", "a")]),
])
def test_blocking_pops_served_as_redis(snode, sref, wait_cmd, feed, proto):
    """A BZPOP*/BZMPOP waiting on an empty key is served by the ZADD that
    fills it, with 7.0.15's reply; a waiter for the other type (list vs
    sorted set) stays until its timeout."""
    assert _blocked_then_served(snode, wait_cmd, feed, proto) == _blocked_then_served(sref, wait_cmd, feed, proto)


# --- DUMP/RESTORE, persistence and replication -----------------------------------

import replhelpers as rh  # noqa: E402

ZKEYS = [f"zs:{i}" for i in range(8)]


def _zset_writes(seed, n):
    """Adds (integers, fractions, infinities; one key grows past the listpack
    limits), increments, pops of every kind, removals and stores."""
    rnd = random.Random(seed)
    out = []
    for _ in range(n):
        k = rnd.choice(ZKEYS)
        r = rnd.random()
        if r < 0.6:
            width = 300 if k == "zs:0" else 40
            pairs = ()
            for _ in range(rnd.randint(1, 10)):
                pairs += (rnd.choice([str(rnd.randint(-100, 100)), str(rnd.random() * 10), "inf", "-inf", "1e30"]),
                          rnd.choice([f"m{rnd.randint(0, width)}", "x" * rnd.randint(60, 70)]))
            out.append(("ZADD", k) + pairs)
        elif r < 0.7:
            out.append(("ZINCRBY", k, rnd.choice(["0.1", "-3", "1e-7"]), f"m{rnd.randint(0, 40)}"))
        elif r < 0.75:
            out.append(("ZADD", k, "INCR", "0.3", f"m{rnd.randint(0, 40)}"))
        elif r < 0.8:
            out.append((rnd.choice(["ZPOPMIN", "ZPOPMAX"]), k, str(rnd.randint(1, 3))))
        elif r < 0.84:
            out.append(("ZMPOP", "1", k, rnd.choice(["MIN", "MAX"]), "COUNT", str(rnd.randint(1, 3))))
        elif r < 0.87:
            out.append((rnd.choice(["BZPOPMIN", "BZPOPMAX"]), k, "0.01"))
        elif r < 0.9:
            out.append(("BZMPOP", "0.01", "1", k, "MAX", "COUNT", "2"))
        elif r < 0.95:
            out.append(("ZREMRANGEBYSCORE", k, "(0", str(rnd.randint(0, 10))))
        else:
            out.append(("ZUNIONSTORE", "zs:7", "2", k, rnd.choice(ZKEYS), "WEIGHTS", "0.5", "3"))
    return out


def _zsets(server):
    with server.raw(timeout=20) as c:
        c.call("READONLY")
        return {k: c.raw("ZRANGE", k, "0", "-1", "WITHSCORES") for k in ZKEYS}


@pytest.mark.parametrize("master_kind,replica_kind", [("shoal", "shoal"), ("shoal", "redis"), ("redis", "shoal")])
def test_replica_has_same_zsets(servers, master_kind, replica_kind):
    """Half the writes travel in the full sync's RDB (ZSET_LISTPACK and
    ZSET_2), half in the command stream (ZINCRBY as sent, pops rewritten as
    ZPOPMIN/ZPOPMAX); the replica ends with the master's sorted sets."""
    cmds = _zset_writes(21, 3000)
    half = len(cmds) // 2
    master, replica, _ = rh.make_pair(servers, master_kind, replica_kind,
                                      writes_before=lambda m: d.pipelined(m, cmds[:half]))
    d.pipelined(master, cmds[half:])
    rh.wait_offsets_equal(master, replica)
    want = _zsets(master)
    assert want["zs:0"].count(b"\r\n") > 300
    assert _zsets(replica) == want


def _payload(rdb_type, body):
    """A DUMP payload: type, value, RDB version 10, CRC-64."""
    data = bytes([rdb_type]) + body + b"\x0a\x00"
    return data + rh.crc64(data).to_bytes(8, "little")


def _rdb_str(s):
    return bytes([len(s)]) + s


def test_restore_both_ways_and_old_encodings(snode, sref):
    """Sorted sets DUMPed by either server RESTORE on the other to the same
    content and the same bytes; a ZSET (scores as text) and a ZSET_2 payload
    built by hand load the same on both, small ones as listpacks."""
    fill = [("ZADD", "p:small", "1", "a", "2.5", "b", "-inf", "c", "3", "-7"),
            ("ZADD", "p:big") + tuple(x for i in range(300) for x in (str(i / 7), f"m{i}"))]
    d.run(sref, fill)
    d.run(snode, fill)
    for src, dst in ((sref, snode), (snode, sref)):
        with src.raw() as c:
            payloads = {k: c.call("DUMP", k) for k in ("p:small", "p:big")}
        with dst.raw() as c:
            for k, p in payloads.items():
                assert c.call("RESTORE", "r" + k, "0", p, "REPLACE") == "OK"
                assert c.call("DUMP", "r" + k) == p
    text = _payload(3, b"\x03" + _rdb_str(b"a") + _rdb_str(b"1.5") + _rdb_str(b"b") + b"\xfe"
                    + _rdb_str(b"c") + _rdb_str(b"-2"))
    binary = _payload(5, b"\x02" + _rdb_str(b"x") + b"\x00\x00\x00\x00\x00\x00\xd0\x3f"
                      + _rdb_str(b"y") + b"\x00\x00\x00\x00\x00\x00\xf0\xbf")
    nan = _payload(3, b"\x01" + _rdb_str(b"a") + b"\xfd")
    cmds = []
    for k, p in (("t", text), ("b", binary), ("n", nan)):
        cmds += [("RESTORE", k, "0", p), ("ZRANGE", k, "0", "-1", "WITHSCORES"), ("OBJECT", "ENCODING", k), ("DUMP", k)]
    assert d.run(snode, cmds) == d.run(sref, cmds)


def test_debug_digest_of_zsets_as_redis(servers):
    """DEBUG DIGEST folds sorted sets as 7.0.15 does (member, then the
    score as %.17g), in either encoding."""
    debug = ["--enable-debug-command", "yes"]
    got = []
    for srv in (servers.shoal(extra_args=debug), servers.redis(extra_args=debug)):
        h.own_all_slots(srv)
        with srv.raw() as c:
            c.call("ZADD", "z:lp", "1", "a", "0.1", "b", "-0", "c", "inf", "d", "12", "-5")
            c.call("ZADD", "z:sl", *[x for i in range(200) for x in (str(i / 3), f"m{i}")])
            full = c.raw("DEBUG", "DIGEST")
            c.call("ZINCRBY", "z:sl", "0.5", "m7")
            got.append((full, c.raw("DEBUG", "DIGEST")))
    assert got[0] == got[1]
