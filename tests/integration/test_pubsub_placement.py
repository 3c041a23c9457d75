"""Subscribers are spread over the workers, so that a PUBLISH's fan-out runs on every core
(actors/worker/placement.c, header comment; docs/design.md "Packing connections").

An idle node packs every connection on worker 0, and a subscriber never moves once it has
subscriptions (they live in its worker's tables). Before this, 1,000 subscribers of an idle
node all sat on worker 0 and one core wrote every message. Now a connection's first
SUBSCRIBE, PSUBSCRIBE or SSUBSCRIBE moves the connection, before the command runs, to the
worker with the fewest subscribers when that worker has fewer than its own; the command and
what was pipelined behind it run there. What must not change: every reply in order (the
subscribe confirmation, then what followed it in the same write), every message delivered
exactly once and in each publisher's order, PUBLISH's count. DEBUG PLACEMENT PACK keeps
everything on worker 0. redis-server has one thread: the replies are the same bytes.

What it must never do: stop a process it did not start, or wait without a deadline.
"""
import time

import helpers as h

from test_placement import WORKERS, _placement as _placement_all


def _placement(conn):
    """(moves so far, {worker: connections}) from INFO threads."""
    _, moves, clients = _placement_all(conn)
    return moves, clients


def _subscribe_pipelined(port, verb, name):
    """A connection whose first write is VERB name + PING; returns it and its two replies
    as (raw bytes, value)."""
    c = h.RawConn(port)
    c.send(h.encode(verb, name) + h.encode("PING"))
    return c, [c.read(), c.read()]


def _wait_count(pub, channel, want, shard=False):
    deadline = time.monotonic() + 10
    while time.monotonic() < deadline:
        r = pub.call("PUBSUB", "SHARDNUMSUB" if shard else "NUMSUB", channel)
        if r[1] == want:
            return
        time.sleep(0.05)
    raise AssertionError(f"{channel}: {r}")


def test_first_subscribe_spreads_subscribers_and_loses_nothing(servers):
    shoal = servers.shoal(WORKERS)
    redis = servers.redis()
    # the bytes of a pipelined SUBSCRIBE + PING are redis-server's
    rc, want = _subscribe_pipelined(redis.port, "SUBSCRIBE", "ch")
    rc.close()
    subs = []
    try:
        for _ in range(8):
            c, got = _subscribe_pipelined(shoal.port, "SUBSCRIBE", "ch")
            assert got == want
            subs.append(c)
        pubs = [h.RawConn(shoal.port) for _ in range(2)]
        _wait_count(pubs[0], "ch", 8)
        moves, clients = _placement(pubs[0])
        # 8 subscribers + 2 publishers + nothing else: 4 subscribers moved to worker 1
        assert moves >= 4, (moves, clients)
        assert clients[1] >= 4, clients
        for i in range(100):
            for p, pub in enumerate(pubs):
                assert pub.call("PUBLISH", "ch", f"{p}:{i}") == 8
        for c in subs:
            seen = {0: [], 1: []}
            for _ in range(200):
                kind, chan, msg = c.read()[1]
                assert (kind, chan) == (b"message", b"ch")
                p, i = msg.decode().split(":")
                seen[int(p)].append(int(i))
            assert seen == {0: list(range(100)), 1: list(range(100))}
        for p in pubs:
            p.close()
    finally:
        for c in subs:
            c.close()


def test_pattern_and_shard_subscribers_spread_too(servers):
    shoal = servers.shoal(WORKERS)
    h.own_all_slots(shoal)
    subs = []
    try:
        for i in range(6):
            verb, name = ("PSUBSCRIBE", "c*") if i % 2 else ("SSUBSCRIBE", "c{x}")
            c, got = _subscribe_pipelined(shoal.port, verb, name)
            assert got[0][1] == [verb.lower().encode(), name.encode(), 1] and got[1][1] == [b"pong", b""]
            subs.append(c)
        with h.RawConn(shoal.port) as pub:
            _wait_count(pub, "c{x}", 3, shard=True)
            moves, clients = _placement(pub)
            assert moves >= 3 and clients[1] >= 3, (moves, clients)
            assert pub.call("PUBLISH", "cat", "m") == 3
            assert pub.call("SPUBLISH", "c{x}", "s") == 3
        for i, c in enumerate(subs):
            if i % 2:
                assert c.read()[1] == [b"pmessage", b"c*", b"cat", b"m"]
            else:
                assert c.read()[1] == [b"smessage", b"c{x}", b"s"]
    finally:
        for c in subs:
            c.close()


def test_pack_mode_keeps_subscribers_on_worker_0(servers):
    shoal = servers.shoal(WORKERS)
    subs = []
    with h.RawConn(shoal.port) as admin:
        assert admin.call("DEBUG", "PLACEMENT", "PACK") == "OK"
        try:
            for _ in range(4):
                c, got = _subscribe_pipelined(shoal.port, "SUBSCRIBE", "ch")
                assert got[1][1] == [b"pong", b""]
                subs.append(c)
            _wait_count(admin, "ch", 4)
            moves, clients = _placement(admin)
            assert moves == 0 and clients.get(1, 0) == 0, (moves, clients)
            assert admin.call("PUBLISH", "ch", "x") == 4
        finally:
            for c in subs:
                c.close()
