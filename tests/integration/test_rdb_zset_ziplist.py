"""Sorted sets in the ziplist encoding of older RDB files (ZSET_ZIPLIST, RDB type 12).

What it is for: redis-server 7.0.15 still loads the dump.rdb files Redis 6.x wrote, whose
small sorted sets are ziplists. tests/vectors/rdb-zset-ziplist.rdb holds three of them
(every ziplist integer width, text and integer scores, inf, a 300-byte member whose
successor has a 5-byte prevlen, a TTL); it was built by hand from the ziplist layout
(tests/vectors/tools/make-zset-ziplist-rdb.py). shoal and redis-server load the same bytes
and must show the same members, scores, encodings, TTLs, DUMP payloads and DEBUG DIGEST;
shoal's SAVE of them loads back into redis-server the same.

What it must never do: compare an absolute TTL with the clock (only its presence and the
expiry time, which the file fixes).
"""
import shutil
from pathlib import Path

import helpers as h

VECTOR = Path(__file__).resolve().parents[1] / "vectors" / "rdb-zset-ziplist.rdb"
KEYS = ["zzl:small", "zzl:long", "zzl:ttl"]


def _plain(servers, kind, directory, name):
    port = h.free_port()
    args = ["--port", str(port), "--bind", "127.0.0.1", "--dir", str(directory), "--logfile", "",
            "--enable-debug-command", "yes"]
    if kind == "redis":
        args += ["--save", "", "--appendonly", "no", "--daemonize", "no"]
        return servers.redis(base_args=False, port=port, name=name, extra_args=args)
    return servers.shoal(base_args=False, port=port, name=name, extra_args=args)


def _content(srv):
    with srv.raw() as c:
        out = {"keys": sorted(c.call("KEYS", "*")), "digest": c.call("DEBUG", "DIGEST")}
        for k in KEYS:
            out[k] = (c.call("TYPE", k), c.call("OBJECT", "ENCODING", k), c.call("ZCARD", k),
                      c.call("ZRANGE", k, "0", "-1", "WITHSCORES"), c.call("PEXPIRETIME", k),
                      c.call("DUMP", k))
        out["scores"] = c.call("ZMSCORE", "zzl:small", "5", "7", "100", "-300", "3000000000", "big", "none")
        out["rank"] = c.call("ZRANK", "zzl:small", "mid")
    return out


def test_zset_ziplist_rdb_loads_as_in_redis(servers, tmp_path):
    rdir, sdir, back = tmp_path / "redis", tmp_path / "shoal", tmp_path / "back"
    for p in (rdir, sdir, back):
        p.mkdir()
        shutil.copy(VECTOR, p / "dump.rdb")
    ref = _plain(servers, "redis", rdir, "redis-zzl")
    node = _plain(servers, "shoal", sdir, "shoal-zzl")
    want = _content(ref)
    assert want["keys"] == sorted(k.encode() for k in KEYS)
    assert want["zzl:small"][2] == 9 and want["zzl:ttl"][4] == 4102444800000
    assert _content(node) == want
    # shoal's own dump of them loads into redis-server the same
    with node.raw() as c:
        assert c.call("SAVE") == "OK"
    shutil.copy(sdir / "dump.rdb", back / "dump.rdb")
    again = _plain(servers, "redis", back, "redis-back")
    assert _content(again) == want
