"""DEBUG DIGEST-VALUE, OBJECT, LISTPACK, QUICKLIST, CHANGE-REPL-ID, QUICKLIST-PACKED-THRESHOLD,
REPLYBUFFER and STRINGMATCH-TEST answer as redis-server 7.0.15's.

What it is for: Redis's own test suites compare values across nodes with DEBUG
DIGEST-VALUE, read encodings and serialized lengths from DEBUG OBJECT, force full syncs
with DEBUG CHANGE-REPL-ID and turn the small knobs. The same keys of every type and
encoding (strings int/embstr/raw, lists of one and of many nodes, sets intset/hashtable,
hashes and sorted sets listpack/hashtable/skiplist, streams, with and without TTLs) spread over
shoal's three workers give exactly redis-server's digests and DEBUG OBJECT lines (the
address and the LRU clock aside), in RESP2 and RESP3; errors and unknown subcommands
read the same.

What it must never do: relax an expectation to match our node; signal a process it did
not start.
"""
import re

import diffhelpers as dh
import helpers as h

DEBUG = ["--enable-debug-command", "yes"]


def _load(c):
    assert c.call("SET", "int", "1234") == "OK"
    assert c.call("SET", "bigint", "123456") == "OK"
    assert c.call("SET", "emb", "hello") == "OK"
    assert c.call("SET", "raw", "x" * 100) == "OK"
    assert c.call("RPUSH", "list", "a", "b", "3") == 3
    assert c.call("RPUSH", "biglist", *[f"element-{i}" * 5 for i in range(2000)]) == 2000
    assert c.call("SADD", "iset", "1", "2", "300") == 3
    assert c.call("SADD", "hset", "a", "b", "c") == 3
    assert c.call("HSET", "hash", "f", "v", "n", "12") == 2
    assert c.call("HSET", "bighash", *[x for i in range(300) for x in (f"f{i}", f"v{i}")]) == 300
    assert c.call("ZADD", "zset", "1.5", "a", "2", "b", "-3e-5", "c") == 3
    assert c.call("ZADD", "bigzset", *[x for i in range(300) for x in (str(i / 7), f"m{i}")]) == 300
    assert c.call("SET", "ttl", "v", "EX", "1000") == "OK"
    assert c.call("HSET", "httl", "a", "b") == 1
    assert c.call("EXPIRE", "httl", "1000") == 1
    assert c.call("XADD", "stream", "1-1", "a", "1", "b", "hello") == b"1-1"
    assert c.call("XADD", "stream", "2-0", "a", "2", "b", "x") == b"2-0"
    assert c.call("XADD", "stream", "3-5", "c", "-3") == b"3-5"
    assert c.call("XDEL", "stream", "2-0") == 1
    for i in range(300):
        c.call("XADD", "bigstream", f"{i + 1}-0", "f", str(i), "g", f"value-{i}")
    assert c.call("XGROUP", "CREATE", "bigstream", "grp", "0") == "OK"


KEYS = ["int", "bigint", "emb", "raw", "list", "biglist", "iset", "hset", "hash", "bighash", "zset",
        "bigzset", "ttl", "httl", "stream", "bigstream"]


def _norm(b):
    # the value's address and the LRU clock are the process's own
    b = re.sub(rb"Value at:0x[0-9a-f]+", b"Value at:P", b)
    b = re.sub(rb"lru:\d+ lru_seconds_idle:\d+", b"lru:L lru_seconds_idle:I", b)
    return b


def _session(srv, proto):
    out = []
    with dh.conn(srv, proto) as c:
        assert c.call("FLUSHALL") == "OK"
        _load(c)
        out.append(c.raw("DEBUG", "DIGEST"))
        out.append(c.raw("DEBUG", "DIGEST-VALUE", *KEYS, "missing", "int"))
        out.append(c.raw("DEBUG", "DIGEST-VALUE"))
        for k in KEYS + ["missing"]:
            out.append(_norm(c.raw("DEBUG", "OBJECT", k)))
            out.append(c.raw("DEBUG", "LISTPACK", k))
            out.append(c.raw("DEBUG", "QUICKLIST", k))
        out.append(c.raw("DEBUG", "QUICKLIST", "list", "1"))
        for args in (("OBJECT",), ("OBJECT", "a", "b"), ("LISTPACK",), ("QUICKLIST", "list", "1", "2"),
                     ("NOPE",), ("JMAP",), ("CLOSE-CLUSTER-LINK-ON-PACKET-DROP", "1"),
                     ("STRINGMATCH-LEN",), ("CHANGE-REPL-ID", "x"), ("STRINGMATCH-TEST", "x")):
            out.append(c.raw("DEBUG", *args))
        for v in ("100", "1k", "1mb", "0", "4294967296", "4293918720", "4293918721", "5gb", "x", "-1", ""):
            out.append(c.raw("DEBUG", "QUICKLIST-PACKED-THRESHOLD", v))
        for args in (("PEAK-RESET-TIME", "NEVER"), ("PEAK-RESET-TIME", "reset"), ("PEAK-RESET-TIME", "100"),
                     ("PEAK-RESET-TIME", "x"), ("RESIZING", "0"), ("RESIZING", "1"), ("NOPE", "1"),
                     ("RESIZING",)):
            out.append(c.raw("DEBUG", "REPLYBUFFER", *args))
        # an expired key: DIGEST-VALUE and OBJECT still see it, LISTPACK/QUICKLIST do not
        assert c.call("DEBUG", "SET-ACTIVE-EXPIRE", "0") == "OK"
        assert c.call("RPUSH", "gone", "x") == 1
        assert c.call("PEXPIRE", "gone", "1") == 1
        h.wait_until(lambda: c.call("PTTL", "gone") == -2, 5)   # PTTL does not delete it
        out.append(c.raw("DEBUG", "DIGEST-VALUE", "gone"))
        out.append(c.raw("DEBUG", "QUICKLIST", "gone"))
        assert c.call("DEBUG", "SET-ACTIVE-EXPIRE", "1") == "OK"
    return out


def test_debug_keyed_subcommands_as_redis(servers):
    s = servers.shoal(extra_args=DEBUG + ["--worker-threads", "3"], base_args="standalone")
    r = servers.redis(extra_args=DEBUG, base_args="standalone")
    dh.assert_same_sessions(r, s, _session)
    # the digests are real ones: different keys differ, a missing key is zeros
    digests = s.raw().call("DEBUG", "DIGEST-VALUE", *KEYS, "missing")
    assert len(set(digests)) == len(KEYS) + 1 and digests[-1] == "0" * 40


def _repl_ids(c):
    info = h.info_dict(c.call("INFO", "replication"))
    return info["master_replid"], info["master_replid2"], info["second_repl_offset"]


def test_debug_change_repl_id_as_redis(servers):
    for srv in (servers.shoal(extra_args=DEBUG), servers.redis(extra_args=DEBUG)):
        with srv.raw() as c:
            before = _repl_ids(c)
            assert c.raw("DEBUG", "CHANGE-REPL-ID") == b"+OK\r\n"
            after = _repl_ids(c)
            assert after[0] != before[0] and re.fullmatch(r"[0-9a-f]{40}", after[0]), (srv.kind, before, after)
            assert after[1:] == ("0" * 40, "-1"), (srv.kind, after)
        assert "Changing replication IDs after receiving DEBUG change-repl-id" in srv.log()


def test_debug_stringmatch_test_as_redis(servers):
    # 7.0.15 fuzzes its matcher for about ten seconds and answers this line (read from
    # redis-server once; not re-run here, it would add those ten seconds to make test);
    # ours runs its own fuzz
    with servers.shoal(extra_args=DEBUG).raw(timeout=120) as c:
        assert c.raw("DEBUG", "STRINGMATCH-TEST") == b"+Apparently Redis did not crash: test passed\r\n"


def test_debug_keyed_refused_without_enable_debug_command(servers):
    for srv in (servers.shoal(), servers.redis()):
        with srv.raw() as c:
            got = c.raw("DEBUG", "DIGEST-VALUE", "k")
            assert got.startswith(b"-ERR DEBUG command not allowed."), (srv.kind, got)
