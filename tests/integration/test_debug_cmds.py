"""DEBUG PROTOCOL, ERROR, LOG and HELP answer as redis-server 7.0.15's.

What it is for: client libraries' own test suites call DEBUG PROTOCOL for a sample of
every RESP type and DEBUG ERROR for an error of their choosing; DEBUG LOG marks a
place in the server log; DEBUG HELP lists the subcommands this node has, in 7.0.15's
words. Each reply is compared byte for byte with redis-server in RESP2 and RESP3.

What it must never do: relax an expectation to match our node; signal a process it did
not start.
"""
import pytest

import helpers as h

DEBUG = ["--enable-debug-command", "yes"]
TYPES = ["string", "integer", "double", "bignum", "null", "array", "set", "map", "attrib", "push",
         "verbatim", "true", "false", "nope", "STRING"]


def _replies(srv, proto):
    out = []
    with srv.raw(timeout=20) as c:
        if proto == 3:
            assert isinstance(c.call("HELLO", "3"), h.Map)
        for t in TYPES:
            out.append(c.until_echo(h.encode("DEBUG", "PROTOCOL", t)))
        for a in (("DEBUG", "ERROR", "CUSTOM oops\nsecond line"), ("DEBUG", "ERROR", ""),
                  ("DEBUG", "LOG", "marker-line"), ("DEBUG", "PROTOCOL"), ("DEBUG", "LOG")):
            out.append(c.raw(*a))
    return out


@pytest.mark.parametrize("proto", [2, 3])
def test_debug_protocol_error_log_as_redis(servers, proto):
    s = servers.shoal(extra_args=DEBUG)
    r = servers.redis(extra_args=DEBUG)
    want, got = _replies(r, proto), _replies(s, proto)
    for i, (w, g) in enumerate(zip(want, got)):
        assert g == w, f"reply {i} RESP{proto}: redis {w!r}, shoal {g!r}"
    assert "DEBUG LOG: marker-line" in s.log()


def test_debug_help_lists_what_exists(servers):
    s = servers.shoal(extra_args=DEBUG)
    r = servers.redis(extra_args=DEBUG)
    ours = [str(ln) for ln in s.raw().call("DEBUG", "HELP")]
    theirs = [str(ln) for ln in r.raw().call("DEBUG", "HELP")]
    assert ours[0] == theirs[0] and ours[-2:] == theirs[-2:] == ["HELP", "    Prints this help."]
    # every subcommand we list is 7.0.15's, in its words and order, and answers here
    heads = [ln for ln in ours[1:] if not ln.startswith(" ")]
    it = iter(theirs)
    for ln in ours[1:]:
        assert ln in it, ln
    # a valid call of each (an unknown subcommand and a wrong argument count read
    # alike in 7.0.15, so each is called with arguments it takes)
    valid = {"CHANGE-REPL-ID": [], "DIGEST": [], "DIGEST-VALUE": ["k"], "ERROR": ["x"], "LOG": ["x"],
             "OBJECT": ["k"], "DROP-CLUSTER-PACKET-FILTER": ["-1"], "POPULATE": ["1"],
             "PROTOCOL": ["string"], "SET-ACTIVE-EXPIRE": ["1"], "QUICKLIST-PACKED-THRESHOLD": ["0"],
             "SLEEP": ["0"], "STRINGMATCH-TEST": [], "LISTPACK": ["k"], "QUICKLIST": ["k"],
             "REPLYBUFFER": ["RESIZING", "1"], "CLUSTERLINK": ["KILL", "ALL", "x"]}
    with s.raw() as c:
        for head in heads:
            name = head.split()[0]
            if name in ("RELOAD", "LOADAOF", "HELP"):
                continue          # they load the dataset again; test_rdb_* and test_debug_loadaof cover them
            assert name in valid, f"DEBUG HELP lists {name}: give this test a valid call of it"
            reply = c.raw("DEBUG", name, *valid[name])
            assert b"unknown subcommand" not in reply, (name, reply)
