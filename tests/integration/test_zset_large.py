"""Large sorted sets (tens of thousands of members, the ordered index several
levels deep) compared with redis-server 7.0.15.

What it is for: the small sets of test_types_zset.py keep the ordered index one or two
levels deep; here seeded pipelined sequences grow sets to ~20,000 members with many
equal scores (ties order by member bytes), update scores (a member moves), remove
single members, score, lex and rank ranges, and drain them from both ends as ZPOPMIN /
ZPOPMAX / ZMPOP do, comparing every reply, then the content, ZRANK of sampled members
and the DUMP of each set.

What it must never do: send a command whose reply is random (ZRANDMEMBER) or
unspecified (a lex range over members of different scores).
"""
import random

import pytest

import diffhelpers as d

KEYS = ["{L}a", "{L}b"]


def _bound(rnd):
    v = rnd.randint(-10, 5010)
    return rnd.choice([str(v), "(" + str(v), "-inf", "+inf"])


def _commands(seed, n):
    rnd = random.Random(seed)
    out = []
    for k in KEYS:   # grow each set fast first
        for _ in range(40):
            out.append(("ZADD", k) + tuple(x for _ in range(500)
                                           for x in (str(rnd.randint(0, 5000)), "m%d" % rnd.randint(0, 30000))))
    for _ in range(n):
        k = rnd.choice(KEYS)
        m = "m%d" % rnd.randint(0, 30000)
        r = rnd.random()
        if r < 0.30:
            out.append(("ZADD", k) + tuple(x for _ in range(rnd.randint(1, 20))
                                           for x in (str(rnd.randint(0, 5000)), "m%d" % rnd.randint(0, 30000))))
        elif r < 0.36:
            out.append(("ZINCRBY", k, str(rnd.randint(-50, 50)), m))
        elif r < 0.42:
            out.append(("ZREM", k) + tuple("m%d" % rnd.randint(0, 30000) for _ in range(rnd.randint(1, 10))))
        elif r < 0.52:
            out.append((rnd.choice(["ZRANK", "ZREVRANK", "ZSCORE"]), k, m))
        elif r < 0.58:
            s = rnd.randint(-100, 20000)
            out.append(("ZRANGE", k, str(s), str(s + rnd.randint(0, 20)), "WITHSCORES"))
        elif r < 0.64:
            out.append(("ZRANGE", k, _bound(rnd), _bound(rnd), "BYSCORE", "LIMIT", str(rnd.randint(0, 50)),
                        str(rnd.randint(1, 10))))
        elif r < 0.68:
            out.append(("ZCOUNT", k, _bound(rnd), _bound(rnd)))
        elif r < 0.71:
            out.append(("ZREVRANGEBYSCORE", k, _bound(rnd), _bound(rnd), "LIMIT", "0", "5"))
        elif r < 0.78:
            out.append((rnd.choice(["ZPOPMIN", "ZPOPMAX"]), k, str(rnd.randint(1, 40))))
        elif r < 0.80:
            out.append(("ZMPOP", "1", k, rnd.choice(["MIN", "MAX"]), "COUNT", str(rnd.randint(1, 30))))
        elif r < 0.82:
            s = rnd.randint(0, 15000)
            out.append(("ZREMRANGEBYRANK", k, str(s), str(s + rnd.randint(0, 60))))
        elif r < 0.84:
            s = rnd.randint(0, 5000)
            out.append(("ZREMRANGEBYSCORE", k, str(s), str(s + rnd.randint(0, 5))))
        elif r < 0.85:
            out.append(("ZCARD", k))
        else:
            out.append(("ZMSCORE", k, m, "m%d" % rnd.randint(0, 30000)))
    return out


@pytest.mark.parametrize("seed", [21, 22])
def test_large_zsets_same_as_redis(snode, sref, seed):
    cmds = _commands(seed, 30000)
    d.assert_same(snode, sref, cmds, pipeline=True)
    finals = []
    rnd = random.Random(seed)
    probes = ["m%d" % rnd.randint(0, 30000) for _ in range(300)]
    for server in (snode, sref):
        with server.raw(timeout=30) as c:
            finals.append([(c.call("ZCARD", k), c.call("OBJECT", "ENCODING", k),
                            c.call("ZRANGE", k, "0", "-1", "WITHSCORES"), c.call("DUMP", k),
                            [c.call("ZRANK", k, p) for p in probes]) for k in KEYS])
    assert finals[0] == finals[1]
    assert finals[0][0][0] > 5000
    # drain both sets from the two ends
    drain = [(rnd.choice(["ZPOPMIN", "ZPOPMAX"]), k, "97") for k in KEYS for _ in range(400)]
    drain += [("ZCARD", k) for k in KEYS] + [("ZRANGE", k, "0", "-1", "WITHSCORES") for k in KEYS]
    d.assert_same(snode, sref, drain, pipeline=True)
