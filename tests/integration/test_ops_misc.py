"""LOLWUT, MODULE, SWAPDB, REPLICAOF/SLAVEOF and FAILOVER's cluster refusals answer as
redis-server 7.0.15 does, in cluster mode and standalone, RESP2 and RESP3.

What it is for: tools probe a node with these (MODULE LIST to learn what is loaded,
LOLWUT for the version, SWAPDB/REPLICAOF in scripts). shoal loads no module: it answers as a 7.0.15 without modules does (an empty list, the
enable-module-command refusal, 7.0.15's load and unload errors) and gives SWAPDB's
errors; LOLWUT without VERSION is 7.0.15's line, with VERSION 5 or 6 our own art ending
with it.

What it must never do: relax an expectation to match our node; signal a process it did
not start.
"""
import pytest

import helpers as h

COMMON = [
    ("LOLWUT",), ("LOLWUT", "foo"), ("LOLWUT", "VERSION", "x"), ("LOLWUT", "VERSION", "7"),
    ("LOLWUT", "VERSION", "5", "x"), ("LOLWUT", "VERSION", "6", "1", "y"),
    ("MODULE", "LIST"), ("MODULE", "HELP"), ("MODULE", "LOAD", "/nonexistent.so"),
    ("MODULE", "LOADEX", "/nonexistent.so", "CONFIG", "a", "b"), ("MODULE", "UNLOAD", "nope"),
    ("MODULE",), ("MODULE", "LIST", "x"), ("MODULE", "NOPE"),
    ("SWAPDB", "0"), ("SWAPDB", "x", "0"), ("SWAPDB", "0", "99999999999"),
]
CLUSTER = [("SWAPDB", "0", "0"), ("SWAPDB", "0", "1"), ("REPLICAOF", "127.0.0.1", "1"),
           ("SLAVEOF", "NO", "ONE"), ("REPLICAOF", "a")]
STANDALONE = [("SWAPDB", "0", "0"), ("SWAPDB", "0", "-1"), ("SWAPDB", "0", "16")]


def _replies(srv, cmds, proto):
    out = []
    with srv.raw() as c:
        if proto == 3:
            assert isinstance(c.call("HELLO", "3"), h.Map)
        for a in cmds:
            out.append(c.raw(*a))
    return out


@pytest.mark.parametrize("proto", [2, 3])
def test_cluster_mode_as_redis(servers, proto):
    s = servers.shoal()
    r = servers.redis()
    cmds = COMMON + CLUSTER
    for i, (w, g) in enumerate(zip(_replies(r, cmds, proto), _replies(s, cmds, proto))):
        if cmds[i][:3] in (("LOLWUT", "VERSION", "5"), ("LOLWUT", "VERSION", "6")):
            continue   # the art is our own; the errors before it are compared above
        assert g == w, f"{cmds[i]} RESP{proto}: redis {w!r}, shoal {g!r}"


def test_standalone_as_redis(servers):
    s = servers.shoal(base_args="standalone")
    r = servers.redis(base_args="standalone")
    cmds = STANDALONE
    assert _replies(s, cmds, 2) == _replies(r, cmds, 2)


def test_module_enabled_errors_as_redis(servers):
    on = ["--enable-module-command", "yes"]
    s = servers.shoal(extra_args=on)
    r = servers.redis(extra_args=on)
    cmds = [("MODULE", "LOAD", "/nonexistent.so"), ("MODULE", "LOADEX", "/nonexistent.so"),
            ("MODULE", "UNLOAD", "nope"), ("MODULE", "LIST")]
    assert _replies(s, cmds, 2) == _replies(r, cmds, 2)


def test_lolwut_art_ends_with_the_version(servers):
    s = servers.shoal()
    with s.raw() as c:
        for v in ("5", "6"):
            art = c.call("LOLWUT", "VERSION", v)
            assert art.endswith(b"Redis ver. 7.0.15\n") and art.count(b"\n") > 3
        assert c.call("LOLWUT", "VERSION", "5", "20").split(b"\n")[0] == b"  ,/..      ,/..    "
