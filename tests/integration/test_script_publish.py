"""PUBLISH, SPUBLISH and PUBSUB called by scripts (issues 14 and 15), compared with
redis-server 7.0.15.

What it is for: 7.0.15 gives these commands no noscript flag, so EVAL, EVALSHA and
FCALL may call them (SUBSCRIBE and its kin keep the flag and stay refused); PUBLISH and
SPUBLISH are may-replicate, which 7.0.15 refuses to read-only scripts (EVAL_RO, FCALL_RO,
`no-writes`) as writes, while PUBSUB's subcommands run there. The replies must be 7.0.15's: the receivers on this node, PUBSUB's
counts and lists, the errors. A script's message reaches the node's subscribers on every
worker (shoal starts 2 workers here, connections dealt over both, and the script runs on
either worker), and in a cluster the other nodes' subscribers (PUBLISH) or the shard's
(SPUBLISH, from master and replica); a script's SPUBLISH of another node's channel is
refused as a non local key.

What it must never do: relax an assertion to fit shoal; stop a process it did not start.
"""
import pytest

import helpers as h
import bushelpers as bh
from test_pubsub_cluster import _shard_of, _sub
# 2 workers, DEBUG PLACEMENT; K0 and K1: keys whose slots worker 0 and worker 1 keep
from test_scripting_xworker import WORKERS, K0, K1

KINDS = ["shoal", "redis"]


def _node(servers, kind):
    if kind == "shoal":
        srv = servers.shoal(WORKERS)
        h.own_all_slots(srv)
        h.spread_connections(srv)      # connections on both workers
        return srv
    return h.single_node(servers, kind)


LIB = """#!lua name=pub
redis.register_function('pub', function(keys, args) return redis.call('publish', args[1], args[2]) end)
redis.register_function{function_name='pub_ro', callback=function(keys, args)
    return redis.call('publish', args[1], args[2]) end, flags={'no-writes'}}
redis.register_function{function_name='numsub', callback=function(keys, args)
    return redis.call('pubsub', 'numsub', args[1]) end, flags={'no-writes'}}"""

STEPS = [
    ("EVAL", "return redis.call('publish','ch','x')", "0"),
    ("EVAL", "return redis.call('spublish','ch','x')", "0"),
    ("EVAL", "return redis.call('pubsub','numsub','ch')", "0"),
    ("EVAL", "return redis.call('pubsub','numsub')", "0"),
    ("EVAL", "return redis.call('pubsub','numpat')", "0"),
    ("EVAL", "return redis.call('pubsub','channels')", "0"),
    ("EVAL", "return redis.call('pubsub','channels','c*')", "0"),
    ("EVAL", "return redis.pcall('pubsub','channels','a','b')", "0"),
    ("EVAL", "return redis.call('pubsub','shardchannels')", "0"),
    ("EVAL", "return redis.call('pubsub','shardnumsub','ch','x')", "0"),
    ("EVAL", "return redis.call('pubsub','help')", "0"),
    ("EVAL", "return redis.pcall('pubsub','nope')", "0"),
    ("EVAL", "return redis.pcall('subscribe','ch')", "0"),
    ("EVAL", "return redis.pcall('psubscribe','c*')", "0"),
    ("EVAL", "return redis.pcall('ssubscribe','ch')", "0"),
    ("EVAL", "return redis.pcall('unsubscribe','ch')", "0"),
    ("EVAL", "return redis.call('subscribe','ch')", "0"),
    ("EVAL_RO", "return redis.call('publish','ch','x')", "0"),
    ("EVAL", "#!lua flags=no-writes\nreturn redis.call('publish','ch','x')", "0"),
    ("EVAL", "#!lua flags=no-writes\nreturn redis.call('spublish','ch','x')", "0"),
    ("SCRIPT", "LOAD", "return redis.call('publish', ARGV[1], ARGV[2])"),
    ("EVALSHA",),                 # the sha SCRIPT LOAD answered, with 0 ch x
    ("FUNCTION", "LOAD", "REPLACE", LIB),
    ("FCALL", "pub", "0", "ch", "x"),
    ("FCALL_RO", "pub_ro", "0", "ch", "x"),
    ("FCALL_RO", "numsub", "0", "ch"),
    # PFCOUNT is may-replicate too in 7.0.15 (it may rewrite the HyperLogLog's cache)
    ("PFADD", "hll", "a", "b"),
    ("EVAL_RO", "return redis.call('pfcount', KEYS[1])", "1", "hll"),
    ("EVAL", "#!lua flags=no-writes\nreturn redis.call('pfcount', KEYS[1])", "1", "hll"),
    ("EVAL", "return redis.call('pfcount', KEYS[1])", "1", "hll"),
]


def _steps(srv, steps, subscribed=()):
    out = []
    with srv.raw() as c:
        sha = None
        for st in steps:
            if st[0] == "EVALSHA":
                st = ("EVALSHA", sha, "0", "ch", "x")
            r = c.raw(*st)
            if st[0] == "SCRIPT":
                sha = r.split(b"\r\n")[1].decode()
            out.append(r)
    return out


def test_script_pubsub_replies_as_redis(servers):
    """No subscriber anywhere: every call's reply, and the refusals, as redis-server's."""
    got = {k: _steps(_node(servers, k), STEPS) for k in KINDS}
    for st, a, b in zip(STEPS, got["shoal"], got["redis"]):
        assert a == b, (st, a, b)
    # the point of the issue: they are allowed, not refused
    assert got["shoal"][0] == b":0\r\n", got["shoal"][0]
    assert b"not allowed from script" in got["shoal"][12], got["shoal"][12]
    assert b"not allowed from read-only scripts" in got["shoal"][-3], got["shoal"][-3]
    assert got["shoal"][-1] == b":2\r\n", got["shoal"][-1]


@pytest.mark.quiet   # bounds a latency from above (conftest.py)
def test_client_pause_write_holds_publish_as_redis(servers):
    """PUBLISH, SPUBLISH and PFCOUNT are may-replicate in 7.0.15: CLIENT PAUSE WRITE holds
    them until the pause ends, as it holds writes (shoal answered them at once)."""
    import time
    for kind in KINDS:
        srv = _node(servers, kind)
        with srv.raw() as admin, srv.raw() as c:
            assert admin.raw("PFADD", "hll", "a") == b":1\r\n"
            for cmd in (("PUBLISH", "ch", "x"), ("SPUBLISH", "ch", "x"), ("PFCOUNT", "hll")):
                assert admin.raw("CLIENT", "PAUSE", "400", "WRITE") == b"+OK\r\n"
                t0 = time.monotonic()
                r = c.raw(*cmd)
                took = time.monotonic() - t0
                assert r in (b":0\r\n", b":1\r\n"), (kind, cmd, r)
                assert took >= 0.3, (kind, cmd, took)
            # a read is not held
            assert admin.raw("CLIENT", "PAUSE", "400", "WRITE") == b"+OK\r\n"
            t0 = time.monotonic()
            assert c.raw("GET", "nokey") == b"$-1\r\n"
            assert time.monotonic() - t0 < 0.3, kind
            admin.raw("CLIENT", "UNPAUSE")


SUB_STEPS = [
    ("EVAL", "return redis.call('publish','ch','x')", "0"),
    ("EVAL", "return redis.call('publish', ARGV[1], 'k0')", "1", K0, "ch"),
    ("EVAL", "return redis.call('publish', ARGV[1], 'k1')", "1", K1, "ch"),
    ("EVAL", "return redis.call('spublish', KEYS[1], 's')", "1", "ch"),
    ("EVAL", "return redis.call('spublish', 'ch', 's0')", "1", K0),
    ("EVAL", "return redis.call('spublish', 'ch', 's1')", "1", K1),
    ("EVAL", "return redis.call('pubsub', 'numsub', 'ch', 'none')", "1", K0),
    ("EVAL", "return redis.call('pubsub', 'numsub', 'ch')", "1", K1),
    ("EVAL", "return redis.call('pubsub', 'numpat')", "1", K1),
    ("EVAL", "return redis.call('pubsub', 'channels')", "1", K0),
    ("EVAL", "return redis.call('pubsub', 'shardchannels')", "1", K1),
    ("EVAL", "return redis.call('pubsub', 'shardnumsub', 'ch')", "1", K0),
    ("EVAL_RO", "return redis.call('publish', 'ch', 'ro')", "1", K1),
    ("FCALL", "pub", "1", K0, "ch", "f0"),
    ("FCALL_RO", "pub_ro", "1", K1, "ch", "f1"),
]


def _with_subscribers(srv, nsubs=4):
    with srv.raw() as c:
        assert c.call("FUNCTION", "LOAD", "REPLACE", LIB) == b"pub"
    subs = []
    for _ in range(nsubs):
        c = srv.raw(timeout=10)
        c.send(h.encode("SUBSCRIBE", "ch") + h.encode("PSUBSCRIBE", "c*") + h.encode("SSUBSCRIBE", "ch"))
        for _ in range(3):
            c.read()
        subs.append(c)
    try:
        out = _steps(srv, SUB_STEPS)
        got = []
        for c in subs:
            # each publish: a message and a pmessage; each spublish: an smessage (the
            # read-only scripts' calls were refused)
            msgs = [c.read()[1] for _ in range(2 * 4 + 3)]
            got.append(msgs)
    finally:
        for c in subs:
            c.close()
    return out, got


def test_script_publish_reaches_subscribers_on_every_worker(servers):
    """Subscribers (channel, pattern, shard channel) on both workers; scripts running on
    the caller's worker and on each worker by their declared key: the counts are every
    subscriber's, as redis-server's, and every subscriber gets every message in order."""
    got = {k: _with_subscribers(_node(servers, k)) for k in KINDS}
    for st, a, b in zip(SUB_STEPS, got["shoal"][0], got["redis"][0]):
        assert a == b, (st, a, b)
    assert got["shoal"][1] == got["redis"][1], got
    replies, msgs = got["shoal"]
    assert replies[0] == b":8\r\n" and replies[3] == b":4\r\n", replies
    payloads = [m[-1] for m in msgs[0]]
    assert payloads == [b"x", b"x", b"k0", b"k0", b"k1", b"k1", b"s", b"s0", b"s1", b"f0", b"f0"], payloads


# ---------------- cluster ----------------

def _cluster_run(servers, kind):
    nodes = bh.start_cluster(servers, 6, replicas=1, kind=kind,
                             extra_args=WORKERS if kind == "shoal" else [])
    ch = "{user1}ch"
    slot = h.key_slot(ch)
    h.wait_until(lambda: all(_shard_of([n] + nodes, slot)[1] for n in nodes), 30, interval=0.2,
                 what="every node seeing the slot's replica")
    master, replicas, others = _shard_of(nodes, slot)
    if kind == "shoal":
        for n in nodes:
            h.spread_connections(n)
    subs = [_sub(master, "SSUBSCRIBE", ch), _sub(replicas[0], "SSUBSCRIBE", ch),
            _sub(master, "SUBSCRIBE", "news"), _sub(replicas[0], "SUBSCRIBE", "news"),
            _sub(others[0], "SUBSCRIBE", "news")]
    out = []
    try:
        with master.raw() as p:
            out.append(p.raw("EVAL", "return redis.call('spublish', KEYS[1], 'm1')", "1", ch))
            out.append(p.raw("EVAL", "return redis.call('spublish', '%s', 'm2')" % ch, "0"))
            out.append(p.raw("EVAL", "return redis.call('publish', 'news', 'n1')", "0"))
            out.append(p.raw("EVAL", "return redis.call('pubsub', 'shardnumsub', '%s')" % ch, "0"))
        with others[0].raw() as p:
            # the channel's slot is another shard's
            out.append(p.raw("EVAL", "return redis.pcall('spublish', '%s', 'no')" % ch, "0"))
            out.append(p.raw("EVAL", "return redis.call('publish', 'news', 'n2')", "0"))
        with replicas[0].raw() as p:
            out.append(p.raw("EVAL_RO", "return redis.call('spublish', '%s', 'no')" % ch, "0"))
            out.append(p.raw("EVAL", "return redis.call('spublish', '%s', 'm3')" % ch, "0"))
        # every node's subscribers got what was meant for them (publishers on different
        # nodes: no order between them)
        out.append([sorted(subs[i].read()[1] for _ in range(3)) for i in (0, 1)])
        out.append([sorted(subs[i].read()[1] for _ in range(2)) for i in (2, 3, 4)])
        out.append([c.exchange(b"", idle=0.3)[0] for c in subs])
    finally:
        for c in subs:
            c.close()
    return out


def test_script_publish_in_cluster_as_redis(servers):
    got = {k: _cluster_run(servers, k) for k in KINDS}
    for i, (a, b) in enumerate(zip(got["shoal"], got["redis"])):
        assert a == b, (i, a, b)
