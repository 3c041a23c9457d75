"""SORT and SORT_RO compared with a real redis-server 7.0.15: over lists, sets and sorted
sets, numeric and ALPHA order, ASC/DESC, LIMIT, STORE (a list; an empty result deletes the
destination), BY/GET patterns (refused in cluster mode, read from other keys without it,
hash fields with ->), WRONGTYPE, and the command's COMMAND INFO / DOCS / GETKEYS."""
import time

import pytest

import diffhelpers as d
import helpers as h

BIGSET = [str(i * 7 % 601) for i in range(600)]     # a hashtable set, not an intset

CLUSTER = {
    "list_numeric": [
        ("RPUSH", "{t}l", "3", "1", "2", "10", "-5", "2.5", "1e2", "7"),
        ("SORT", "{t}l"), ("SORT", "{t}l", "DESC"), ("SORT", "{t}l", "ALPHA"),
        ("SORT", "{t}l", "ALPHA", "DESC"), ("SORT", "{t}l", "LIMIT", "1", "3"),
        ("SORT", "{t}l", "LIMIT", "-1", "2"), ("SORT", "{t}l", "LIMIT", "5", "-1"),
        ("SORT", "{t}l", "LIMIT", "100", "2"), ("SORT", "{t}l", "LIMIT", "0", "0"),
        ("SORT", "{t}l", "LIMIT", "x", "1"), ("SORT", "{t}l", "LIMIT", "1"),
        ("SORT_RO", "{t}l", "DESC", "LIMIT", "2", "2"), ("SORT", "{t}l", "asc", "desc"),
        ("RPUSH", "{t}l", "abc"), ("SORT", "{t}l"), ("SORT", "{t}l", "ALPHA"), ("SORT_RO", "{t}l"),
        ("RPUSH", "{t}n", "nan"), ("SORT", "{t}n"), ("RPUSH", "{t}e", " 4", "0x10", "inf", "-inf", "3"),
        ("SORT", "{t}e"),
    ],
    "set_and_zset": [
        ("SADD", "{t}s", "5", "3", "9", "1"), ("SORT", "{t}s"), ("SORT", "{t}s", "DESC", "LIMIT", "1", "2"),
        ("SADD", "{t}w", "pear", "apple", "fig", "Banana"), ("SORT", "{t}w", "ALPHA"), ("SORT", "{t}w"),
        ("SADD", "{t}big", *BIGSET), ("SORT", "{t}big", "LIMIT", "10", "20"),
        ("SORT", "{t}big", "DESC", "LIMIT", "0", "5"),
        ("ZADD", "{t}z", "1", "c", "2", "a", "3", "b"), ("SORT", "{t}z", "ALPHA"),
        ("SORT", "{t}z", "BY", "nosort"), ("SORT", "{t}z", "BY", "nosort", "DESC"),
        ("SORT", "{t}z", "BY", "nosort", "LIMIT", "1", "5"),
        ("SORT", "{t}z", "BY", "nosort", "DESC", "LIMIT", "1", "1"), ("SORT", "{t}z"),
        ("OBJECT", "ENCODING", "{t}z"),
        ("ZADD", "{t}zn", "5", "10", "4", "9", "3", "100"), ("SORT", "{t}zn"), ("SORT", "{t}zn", "ALPHA"),
        ("RPUSH", "{t}l", "b", "c", "a"), ("SORT", "{t}l", "BY", "nosort"),
        ("SORT", "{t}l", "BY", "nosort", "DESC"), ("SORT", "{t}l", "BY", "nosort", "LIMIT", "1", "1"),
        ("SORT", "{t}l", "BY", "nosort", "DESC", "LIMIT", "1", "5"),
    ],
    "store_and_errors": [
        ("RPUSH", "{t}l", "3", "1", "2"), ("SORT", "{t}l", "STORE", "{t}d"), ("LRANGE", "{t}d", "0", "-1"),
        ("TYPE", "{t}d"), ("SET", "{t}str", "x"), ("SORT", "{t}l", "DESC", "STORE", "{t}str"),
        ("LRANGE", "{t}str", "0", "-1"), ("SORT", "{t}none", "STORE", "{t}d"), ("EXISTS", "{t}d"),
        ("SORT", "{t}l", "LIMIT", "5", "5", "STORE", "{t}str"), ("EXISTS", "{t}str"),
        ("SORT", "{t}l", "STORE", "{t}l"), ("LRANGE", "{t}l", "0", "-1"),
        ("SADD", "{t}s", "b", "a", "c"), ("SORT", "{t}s", "BY", "nosort", "STORE", "{t}d"),
        ("LRANGE", "{t}d", "0", "-1"),
        ("SORT_RO", "{t}l", "STORE", "{t}d"), ("SORT", "{t}l", "STORE"), ("SORT", "{t}l", "BOGUS"),
        ("SET", "{t}k", "v"), ("SORT", "{t}k"), ("SORT_RO", "{t}k"), ("HSET", "{t}h", "f", "v"),
        ("SORT", "{t}h"), ("SORT", "{t}none"), ("SORT_RO", "{t}none", "ALPHA"), ("SORT",), ("SORT_RO",),
        ("SORT", "{t}l", "BY", "w_*"), ("SORT", "{t}l", "BY", "w_*->f"), ("SORT", "{t}l", "GET", "#"),
        ("SORT_RO", "{t}l", "GET", "o_*"), ("SORT", "{t}k", "GET", "#"), ("SORT", "{t}l", "STORE", "other"),
        ("SORT", "{t}l", "STORE", "{t}a", "STORE", "{t}b"), ("EXISTS", "{t}a"), ("LRANGE", "{t}b", "0", "-1"),
        ("COMMAND", "GETKEYS", "SORT", "{t}l", "LIMIT", "0", "1", "STORE", "x", "BY", "store"),
        ("COMMAND", "GETKEYS", "SORT", "{t}l", "STORE", "x", "STORE", "y"),
        ("COMMAND", "GETKEYS", "SORT_RO", "{t}l", "ALPHA"), ("COMMAND", "GETKEYS", "SORT", "{t}l"),
        ("COMMAND", "INFO", "SORT", "SORT_RO"),
    ],
}

STANDALONE = [
    ("RPUSH", "l", "1", "2", "3", "4"), ("MSET", "w_1", "40", "w_2", "10", "w_3", "30", "o_1", "one", "o_3", "three"),
    ("HSET", "h_1", "f", "b", "g", "x1"), ("HSET", "h_2", "f", "a", "g", "x2"), ("HSET", "h_4", "f", "c"),
    ("SORT", "l", "BY", "w_*"), ("SORT", "l", "BY", "w_*", "DESC"), ("SORT", "l", "BY", "h_*->f", "ALPHA"),
    ("SORT", "l", "BY", "h_*->f", "ALPHA", "DESC"), ("SORT", "l", "BY", "w_*", "GET", "#", "GET", "o_*"),
    ("SORT", "l", "GET", "h_*->g", "GET", "w_*", "GET", "#"), ("SORT", "l", "GET", "h_*->"),
    ("SORT", "l", "BY", "w_*", "LIMIT", "1", "2", "GET", "o_*"),
    ("SORT", "l", "BY", "w_*", "GET", "o_*", "STORE", "dst"), ("LRANGE", "dst", "0", "-1"),
    ("SORT_RO", "l", "BY", "nosort", "GET", "o_*"), ("SET", "w_4", "abc"), ("SORT", "l", "BY", "w_*"),
    ("SORT", "l", "BY", "h_*"), ("SORT", "l", "BY", "w_*", "ALPHA"), ("SORT", "l", "GET", "nostar"),
    ("SORT", "l", "GET", "l"), ("SADD", "s", "x", "y"), ("MSET", "k_x", "2", "k_y", "1"),
    ("SORT", "s", "BY", "k_*", "GET", "#", "GET", "k_*"), ("SORT", "s", "BY", "k_*", "STORE", "d2"),
    ("LRANGE", "d2", "0", "-1"),
]


@pytest.mark.parametrize("proto", [2, 3])
@pytest.mark.parametrize("name", sorted(CLUSTER))
def test_sort_same_as_redis_cluster_mode(snode, sref, name, proto):
    d.assert_same(snode, sref, CLUSTER[name], proto=proto)


@pytest.mark.parametrize("proto", [2, 3])
def test_sort_patterns_same_as_redis_standalone(servers, proto):
    shoal = servers.shoal(extra_args=["--worker-threads", "1"], base_args="standalone")
    redis = servers.redis(base_args="standalone")
    d.assert_same(shoal, redis, STANDALONE, proto=proto)


SPREAD_EXTRA = [
    # a transaction, another database, a pattern key past its TTL, weights of a
    # thousand keys (every worker keeps some)
    ("MULTI",), ("SORT", "l", "BY", "w_*", "GET", "o_*"), ("SORT", "s", "BY", "k_*"), ("EXEC",),
    ("SELECT", "3"), ("RPUSH", "l", "1", "2", "3"), ("MSET", "w_1", "3", "w_2", "1", "w_3", "2"),
    ("SORT", "l", "BY", "w_*"), ("SELECT", "0"), ("SORT", "l", "BY", "w_*"),
    ("SET", "o_2", "two", "PX", "1"), ("DEBUG", "SLEEP", "0.01"), ("SORT", "l", "GET", "o_*"),
    ("RPUSH", "big", *[str(i) for i in range(1000)]),
    ("MSET", *[x for i in range(1000) for x in (f"bw_{i}", str((i * 7919) % 1000))]),
    ("SORT", "big", "BY", "bw_*", "LIMIT", "0", "20", "GET", "bw_*", "GET", "#"),
    ("SORT", "big", "BY", "bw_*", "STORE", "bigdst"), ("LRANGE", "bigdst", "0", "9"),
]


@pytest.mark.parametrize("proto", [2, 3])
def test_sort_patterns_read_every_worker_standalone(servers, proto):
    """unit/sort 'SORT BY key' and the rest: BY and GET patterns name keys any worker may
    keep; with several workers they read as on redis-server (the call runs with the
    other workers parked)."""
    shoal = servers.shoal(extra_args=["--worker-threads", "3", "--enable-debug-command", "yes"],
                          base_args="standalone")
    redis = servers.redis(base_args="standalone", extra_args=["--enable-debug-command", "yes"])
    d.assert_same(shoal, redis, STANDALONE + SPREAD_EXTRA, proto=proto)


SCRIPTED = [
    ("SADD", "s", *"a b c d e f g h i l m n o p q r s t u v z aa aaa azz".split()),
    ("RPUSH", "l", "c", "a", "b"), ("ZADD", "z", "1", "c", "2", "a", "3", "b"),
    # a set's members have no order of their own: a script gets them sorted, as 7.0.15 forces
    ("EVAL", "return redis.call('sort', KEYS[1], 'BY', 'nosort')", "1", "s"),
    ("EVAL", "return redis.call('sort', KEYS[1], 'BY', 'nosort', 'DESC', 'LIMIT', '2', '5')", "1", "s"),
    ("EVAL", "return redis.call('sort_ro', KEYS[1], 'BY', 'nosort')", "1", "s"),
    ("EVAL", "return redis.call('sort', KEYS[1], 'BY', 'nosort')", "1", "l"),
    ("EVAL", "return redis.call('sort', KEYS[1], 'BY', 'nosort', 'DESC')", "1", "z"),
    ("SORT", "s", "BY", "nosort", "STORE", "d"), ("LRANGE", "d", "0", "-1"),
]


@pytest.mark.parametrize("proto", [2, 3])
def test_sort_nosort_of_a_set_in_a_script(snode, sref, proto):
    """unit/scripting 'SORT BY <constant> output gets ordered for scripting'."""
    d.assert_same(snode, sref, SCRIPTED, proto=proto)


def _docs_fields(srv, name):
    with srv.raw() as c:
        reply = c.call("COMMAND", "DOCS", name)
    doc = dict(zip(reply[1][0::2], reply[1][1::2]))
    # the summary and complexity are our own words; the rest is the contract
    return {k: v for k, v in doc.items() if k not in (b"summary", b"complexity")}


@pytest.mark.parametrize("name", ["sort", "sort_ro"])
def test_sort_docs_arguments_as_redis(snode, sref, name):
    assert _docs_fields(snode, name) == _docs_fields(sref, name)


def _expired_pattern_keys(srv):
    out = []
    with srv.raw() as c:
        out.append(c.raw("DEBUG", "SET-ACTIVE-EXPIRE", "0"))
        out.append(c.raw("RPUSH", "l", *[str(i) for i in range(12)]))
        for i in range(12):           # keys of every worker: half past their TTL
            out.append(c.raw("SET", f"o_{i}", f"v{i}", "PX", "1") if i % 2 else c.raw("SET", f"o_{i}", f"v{i}"))
            out.append(c.raw("SET", f"w_{i}", str(12 - i), "PX", "1") if i % 3 == 0 else c.raw("SET", f"w_{i}", str(i)))
        time.sleep(0.05)
        out.append(c.raw("DBSIZE"))
        out.append(c.raw("SORT", "l", "BY", "w_*", "GET", "#", "GET", "o_*"))
        out.append(c.raw("DBSIZE"))
        out.append(h.info_dict(c.call("INFO", "stats").decode())["expired_keys"])
        out.append(c.raw("SORT_RO", "l", "BY", "w_*"))
        out.append(c.raw("DEBUG", "SET-ACTIVE-EXPIRE", "1"))
    return out


def test_sort_deletes_expired_pattern_keys_of_every_worker(servers):
    """A BY or GET pattern key past its TTL is deleted when SORT reads it, as 7.0.15's
    lookup deletes it (DBSIZE drops, expired_keys counts it, its DEL reaches the stream),
    whichever worker keeps it: one of another worker (parked for the call) was left."""
    dbg = ["--enable-debug-command", "yes"]
    node = servers.shoal(extra_args=["--worker-threads", "3"] + dbg, base_args="standalone")
    ref = servers.redis(base_args="standalone", extra_args=dbg)
    want = _expired_pattern_keys(ref)
    assert want[-6] == b":25\r\n" and want[-4] == b":15\r\n", want   # 6 + 4 of 24 keys and l
    assert _expired_pattern_keys(node) == want
