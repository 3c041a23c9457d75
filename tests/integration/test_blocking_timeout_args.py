"""The timeout argument of the blocking pops, errors included, as redis-server 7.0.15.

What it is for: BLPOP, BRPOP, BZPOPMIN, BZPOPMAX, BLMOVE, BRPOPLPUSH, BLMPOP and BZMPOP
read their timeout in seconds; 7.0.15 answers "timeout is not a float or out of range"
for text, "timeout is negative" for a negative one and also for one whose milliseconds
do not fit a long long (1e400, inf, 9999999999999999: its conversion yields a negative
number). Each line runs on shoal and redis-server over a key holding a list, a sorted
set, a string or nothing, and the raw replies must match (RESP2 and RESP3).

What it must never do: send a line that would block (every key that could serve it
holds something, or the line is refused before waiting).
"""
import pytest

import helpers as h

SA = "standalone"


def _lines():
    out = []
    for c in ("BLPOP", "BRPOP", "BZPOPMIN", "BZPOPMAX"):
        for t in ("-1", "x", "1e400", "inf", "-inf", "9999999999999999", "0x10", "", " 1"):
            out.append((c, "k", t))
    for t in ("x", "-1", "1e400", "inf"):
        out.append(("BLMOVE", "k", "d", "LEFT", "RIGHT", t))
        out.append(("BRPOPLPUSH", "k", "d", t))
        out.append(("BLMPOP", t, "1", "k", "LEFT"))
        out.append(("BZMPOP", t, "1", "k", "MIN"))
    return out


@pytest.mark.parametrize("proto", [2, 3])
def test_blocking_timeout_arguments_as_redis(servers, proto):
    shoal = servers.shoal(base_args=SA)
    redis = servers.redis(base_args=SA)
    setups = [[], [("RPUSH", "k", "a", "b")], [("ZADD", "k", "1", "a")], [("SET", "k", "5")]]
    out = []
    for srv in (shoal, redis):
        got = []
        with srv.raw(timeout=5) as c:
            if proto == 3:
                c.call("HELLO", "3")
            for setup in setups:
                for line in _lines():
                    if not setup and "-1" not in line and "x" not in line and "1e400" not in line \
                            and "inf" not in line and "9999999999999999" not in line:
                        continue      # an empty key with a valid timeout would block
                    c.call("FLUSHALL")
                    for s in setup:
                        c.call(*s)
                    got.append((tuple(setup), line, c.raw(*line)))
        out.append(got)
    for g, w in zip(out[0], out[1]):
        assert g == w
