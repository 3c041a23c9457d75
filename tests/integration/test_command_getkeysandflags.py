"""COMMAND GETKEYSANDFLAGS as redis-server 7.0.15 answers it (RESP2 and RESP3).

What it is for: the issue asks COMMAND to describe every command as 7.0.15 does,
GETKEYSANDFLAGS included (clients learn from it which keys a command reads or
writes). Each command line below gets the same raw reply from shoal and redis-server:
the keys, each with the flags of the key spec that names it (SET and BITFIELD by what
the line does: GET makes SET's key RW, SET/INCRBY make BITFIELD's key RW), the error
texts of bad lines, and COMMAND INFO / the argument shape of COMMAND DOCS for the
subcommand itself.

What it must never do: compare free text that shoal words itself (DOCS summaries).
"""
import pytest

import helpers as h

SA = "standalone"

LINES = [
    ("GET", "k"), ("SET", "k", "v"), ("SET", "k", "v", "GET"), ("SET", "k", "v", "EX", "10", "get"),
    ("MSET", "a", "1", "b", "2"), ("MGET", "a", "b", "c"), ("GETDEL", "k"), ("GETEX", "k", "PERSIST"),
    ("INCRBYFLOAT", "k", "1"), ("APPEND", "k", "x"), ("SETRANGE", "k", "0", "x"), ("GETRANGE", "k", "0", "1"),
    ("HSET", "h", "f", "v"), ("HGET", "h", "f"), ("HDEL", "h", "f"), ("HRANDFIELD", "h", "2"), ("HSCAN", "h", "0"),
    ("LPUSH", "l", "a"), ("LPOP", "l"), ("LRANGE", "l", "0", "-1"), ("LMOVE", "a", "b", "LEFT", "RIGHT"),
    ("RPOPLPUSH", "a", "b"), ("LMPOP", "2", "a", "b", "LEFT"), ("BLPOP", "a", "b", "0"),
    ("BLMOVE", "a", "b", "LEFT", "LEFT", "0"), ("BLMPOP", "0", "2", "a", "b", "LEFT", "COUNT", "2"),
    ("LINSERT", "l", "BEFORE", "a", "b"), ("LPOS", "l", "a"), ("LREM", "l", "0", "a"), ("LTRIM", "l", "0", "1"),
    ("SADD", "s", "a"), ("SPOP", "s"), ("SMOVE", "a", "b", "m"), ("SINTER", "a", "b"),
    ("SINTERCARD", "2", "a", "b", "LIMIT", "1"), ("SINTERSTORE", "d", "a", "b"), ("SDIFFSTORE", "d", "a"),
    ("SUNIONSTORE", "d", "a", "b", "c"), ("SRANDMEMBER", "s", "-2"), ("SMISMEMBER", "s", "a", "b"),
    ("ZADD", "z", "1", "a"), ("ZINCRBY", "z", "1", "a"), ("ZRANGESTORE", "d", "z", "0", "-1"),
    ("ZUNIONSTORE", "d", "2", "a", "b", "WEIGHTS", "1", "2"), ("ZINTERSTORE", "d", "1", "a"),
    ("ZDIFFSTORE", "d", "2", "a", "b"), ("ZUNION", "2", "a", "b"), ("ZINTERCARD", "2", "a", "b"),
    ("ZMPOP", "2", "a", "b", "MIN"), ("BZMPOP", "0", "1", "a", "MAX"), ("BZPOPMIN", "a", "b", "0"),
    ("ZPOPMAX", "z"), ("ZRANDMEMBER", "z"), ("ZSCAN", "z", "0"), ("ZREMRANGEBYLEX", "z", "[a", "[b"),
    ("SETBIT", "k", "1", "1"), ("GETBIT", "k", "1"), ("BITCOUNT", "k"), ("BITPOS", "k", "1"),
    ("BITOP", "AND", "d", "a", "b"), ("BITFIELD", "k", "GET", "u8", "0"),
    ("BITFIELD", "k", "GET", "u8", "0", "SET", "u8", "0", "1"), ("BITFIELD", "k", "OVERFLOW", "SAT"),
    ("BITFIELD", "k", "INCRBY", "u8", "0", "1"), ("BITFIELD", "k", "BOGUS"), ("BITFIELD_RO", "k", "GET", "u8", "0"),
    ("PFADD", "p", "a"), ("PFCOUNT", "a", "b"), ("PFMERGE", "d", "a", "b"),
    ("SORT", "k"), ("SORT", "k", "STORE", "d"), ("SORT", "k", "BY", "w_*", "GET", "#", "STORE", "d"),
    ("SORT_RO", "k"), ("COPY", "a", "b"), ("RENAME", "a", "b"), ("RENAMENX", "a", "b"), ("DEL", "a", "b"),
    ("UNLINK", "a"), ("EXISTS", "a", "b"), ("TOUCH", "a"), ("TYPE", "a"), ("DUMP", "a"),
    ("RESTORE", "a", "0", "x"), ("EXPIRE", "a", "10"), ("PERSIST", "a"), ("OBJECT", "ENCODING", "a"),
    ("OBJECT", "FREQ", "a"), ("MIGRATE", "h", "1", "k", "0", "5"), ("MIGRATE", "h", "1", "", "0", "5", "KEYS", "a", "b"),
    # no_mandatory_keys: none given is an empty answer, not an error (unit/introspection-2
    # 'COMMAND GETKEYS EVAL without keys')
    ("EVAL", "return 1", "0"), ("EVAL", "return 1", "1", "a"), ("EVALSHA", "x", "0"), ("EVAL_RO", "x", "0"),
    ("EVALSHA_RO", "x", "0"), ("FCALL", "f", "0"), ("FCALL_RO", "f", "2", "a", "b"), ("XREAD", "STREAMS"),
    # errors
    ("PING", "x"), ("GET",), ("NOSUCH", "a"), ("SET", "k"), ("MSET", "a"),
]


@pytest.mark.parametrize("sub", ["GETKEYSANDFLAGS", "GETKEYS"])
@pytest.mark.parametrize("proto", [2, 3])
def test_getkeysandflags_as_redis(servers, proto, sub):
    shoal = servers.shoal(base_args=SA)
    redis = servers.redis(base_args=SA)
    out = []
    for srv in (shoal, redis):
        with srv.raw() as c:
            if proto == 3:
                c.call("HELLO", "3")
            out.append([c.raw("COMMAND", sub, *line) for line in LINES])
    for line, got, want in zip(LINES, out[0], out[1]):
        assert got == want, (line, got, want)


def _strip_text(v):
    if isinstance(v, list):
        keep, skip = [], False
        for x in v:
            if skip:
                skip = False
                continue
            if x in (b"summary", b"complexity"):
                skip = True
                continue
            keep.append(_strip_text(x))
        return keep
    return v


def test_getkeysandflags_described_as_redis(servers):
    shoal = servers.shoal(base_args=SA)
    redis = servers.redis(base_args=SA)
    out = []
    for srv in (shoal, redis):
        with srv.raw() as c:
            out.append((c.raw("COMMAND", "INFO", "command|getkeysandflags"),
                        _strip_text(c.call("COMMAND", "DOCS", "command|getkeysandflags")),
                        c.raw("COMMAND", "GETKEYSANDFLAGS")))
    assert out[0] == out[1]
