"""OBJECT ENCODING of strings changed in place, as redis-server 7.0.15 answers it.

What it is for: 7.0.15 answers "raw" for a string that a command wrote in place
(APPEND or SETRANGE on an existing key, SETBIT, BITFIELD writes, PFADD, PFMERGE, BITOP's
result, SETRANGE/SETBIT creating the key), keeps it through COPY, RENAME and reads, and
goes back to int/embstr/raw by content once a new value is set (SET, INCR, GETSET).
Each sequence runs on shoal and redis-server and OBJECT ENCODING / TYPE must match.

What it must never do: depend on shared integer objects (no OBJECT REFCOUNT here).
"""
import helpers as h

SA = "standalone"

CASES = [
    [("SET", "k", "abc")], [("SET", "k", "abc"), ("APPEND", "k", "d")], [("APPEND", "k", "d")],
    [("SET", "k", "abc"), ("SETRANGE", "k", "1", "x")], [("SETRANGE", "k", "1", "x")],
    [("SET", "k", "abc"), ("SETRANGE", "k", "1", "")], [("SET", "k", "abc"), ("APPEND", "k", "")],
    [("SETBIT", "k", "3", "1")], [("SET", "k", "a"), ("SETBIT", "k", "3", "1")],
    [("PFADD", "k", "a")], [("PFADD", "k")], [("PFADD", "a", "x"), ("PFMERGE", "k", "a")],
    [("PFADD", "k", "a"), ("PFCOUNT", "k")], [("SET", "a", "x"), ("BITOP", "NOT", "k", "a")],
    [("BITFIELD", "k", "SET", "u8", "0", "1")], [("SET", "k", "ab"), ("BITFIELD", "k", "GET", "u8", "0")],
    [("SET", "k", "ab"), ("BITFIELD_RO", "k", "GET", "u8", "0")],
    [("SET", "k", "ab"), ("BITFIELD", "k", "INCRBY", "u8", "0", "1")],
    [("SET", "k", "12"), ("APPEND", "k", "3")], [("SET", "k", "12"), ("APPEND", "k", "3"), ("INCR", "k")],
    [("SET", "k", "ab"), ("SETBIT", "k", "0", "1"), ("SET", "k", "cd")],
    [("SET", "k", "ab"), ("APPEND", "k", "c"), ("GETSET", "k", "x")],
    [("SET", "a", "x" * 10), ("COPY", "a", "k")], [("SETBIT", "a", "3", "1"), ("COPY", "a", "k")],
    [("PFADD", "a", "x"), ("RENAME", "a", "k")], [("SET", "k", "ab"), ("APPEND", "k", "c"), ("EXPIRE", "k", "100")],
    [("SET", "k", "ab"), ("APPEND", "k", "c"), ("GETEX", "k", "EX", "100")],
    [("SET", "k", "x" * 50)], [("SET", "k", "1.5"), ("INCRBYFLOAT", "k", "1")],
]


def test_raw_encoding_of_strings_changed_in_place(servers):
    shoal = servers.shoal(base_args=SA, extra_args=["--worker-threads", "2"])
    redis = servers.redis(base_args=SA)
    out = []
    for srv in (shoal, redis):
        got = []
        with srv.raw() as c:
            for case in CASES:
                c.call("FLUSHALL")
                for cmd in case:
                    c.call(*cmd)
                got.append((case, c.raw("OBJECT", "ENCODING", "k"), c.raw("TYPE", "k")))
        out.append(got)
    for g, w in zip(out[0], out[1]):
        assert g == w
