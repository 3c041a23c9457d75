"""Blocked clients served in 7.0.15's order when their keys sit on different workers
(standalone mode, 2 workers), compared with redis-server 7.0.15.

What it is for: 7.0.15 serves the clients blocked on a key first blocked, first served,
and serves the keys a write (or a transaction) filled in the order they were filled.
On shoal a client whose keys all live on one worker waits there, one whose keys span
workers (BLPOP x y, BLMOVE x y, BLMPOP ...) waits on its own worker; each scenario
blocks clients one after the other (mixing both kinds, list and sorted set pops,
timeouts), then pushes, and compares who got what and what is left, with redis-server
running the same script.

What it must never do: rely on the order of clients that block at the same moment, or on
time to order anything: each client is sent its command only once the server lists the one
before as blocked (flag b in CLIENT LIST), and a push that must come after a timeout waits
for that client's reply. (It slept 0.15 s between clients; on a loaded machine a worker run
late by the kernel took longer than that to block its client, and the next one blocked
first: the order test failed with the server right.)
"""
import threading

import pytest

import helpers as h

SA = "standalone"


def _on_worker(index, n=2):
    return [k for k in ("k%d" % i for i in range(200)) if h.key_slot(k) % n == index]


W0, W1 = _on_worker(0), _on_worker(1)
X, Z, Y = W0[0], W0[1], W1[0]          # X and Z on worker 0, Y on worker 1

SCENARIOS = {
    "cross_before_local": ([("BLPOP", X, Y, "3"), ("BLPOP", Y, "3")], [("RPUSH", Y, "1")]),
    "multi_fills_in_order": ([("BLPOP", Y, X, "3"), ("BLPOP", X, "3")],
                             [("MULTI",), ("RPUSH", X, "1"), ("RPUSH", Y, "2"), ("EXEC",)]),
    "blmpop_cross_then_locals": ([("BLMPOP", "3", "2", Y, X, "LEFT", "COUNT", "1"), ("BLPOP", X, "3"),
                                  ("BLPOP", Y, "3")], [("RPUSH", X, "1", "2")]),
    "cross_served_then_other_key": ([("BLPOP", X, Y, "3"), ("BRPOP", Y, "3"), ("BLPOP", X, "3")],
                                    [("RPUSH", Y, "1"), ("RPUSH", X, "2")]),
    "two_cross_and_local": ([("BLPOP", X, Y, "3"), ("BLPOP", Y, Z, "3"), ("BLPOP", Y, "3")],
                            [("RPUSH", Y, "1", "2", "3")]),
    "cross_local_cross": ([("BLPOP", X, Y, "3"), ("BLPOP", Y, "3"), ("BRPOP", Z, Y, "3")],
                          [("RPUSH", Y, "1", "2")]),
    "cross_times_out_then_local": ([("BLPOP", X, Y, "0.3"), ("BLPOP", Y, "3")], [("SLEEP",), ("RPUSH", Y, "1")]),
    "zset_cross_then_local": ([("BZPOPMIN", X, Y, "3"), ("BZPOPMIN", Y, "3")], [("ZADD", Y, "1", "a", "2", "b")]),
    "type_decides": ([("BLPOP", X, Y, "3"), ("BZPOPMAX", Y, "3")], [("ZADD", Y, "1", "a")]),
    "blmove_across_workers_chain": ([("BLMOVE", X, Y, "LEFT", "RIGHT", "3"), ("BLPOP", Y, "3")],
                                    [("RPUSH", X, "1")]),
    "blmove_into_key_with_cross_waiter": ([("BLMOVE", X, Y, "LEFT", "RIGHT", "3"), ("BLPOP", Z, Y, "3"),
                                           ("BLPOP", Y, "3")], [("RPUSH", X, "1", "2")]),
    "two_blmove_chain": ([("BLMOVE", X, Y, "LEFT", "RIGHT", "3"), ("BLMOVE", Y, Z, "LEFT", "RIGHT", "3"),
                          ("BLPOP", Z, "3")], [("RPUSH", X, "1")]),
    "brpoplpush_multi": ([("BRPOPLPUSH", X, Y, "3"), ("BLPOP", Y, "3")],
                         [("MULTI",), ("RPUSH", X, "a", "b"), ("EXEC",)]),
}


def _is_blocked(p, cid):
    """Whether CLIENT LIST shows client `cid` blocked (flag b)."""
    listing = p.call("CLIENT", "LIST")
    for line in (listing.decode() if isinstance(listing, bytes) else listing).splitlines():
        fields = dict(f.split("=", 1) for f in line.split(" ") if "=" in f)
        if fields.get("id") == str(cid):
            return "b" in fields.get("flags", "")
    return False


def _play(server, blockers, pushes):
    got = {}
    conns = [server.raw(timeout=10) for _ in blockers]
    try:
        ids = [c.call("CLIENT", "ID") for c in conns]

        def wait(i, c):
            got[i] = c.read()[0]
        threads = []
        with server.raw(timeout=10) as p:
            for i, (c, cmd) in enumerate(zip(conns, blockers)):
                c.send(h.encode(*cmd))
                t = threading.Thread(target=wait, args=(i, c))
                t.start()
                threads.append(t)
                h.wait_until(lambda: _is_blocked(p, ids[i]), 10, interval=0.01,
                             what=f"client {i} ({cmd[0]}) blocked")
            for cmd in pushes:
                if cmd[0] == "SLEEP":        # the first client's timeout has passed
                    h.wait_until(lambda: 0 in got, 10, interval=0.01, what="the first client timed out")
                    continue
                p.call(*cmd)
            for t in threads:
                t.join(10)
            left = {}
            for k in (X, Y, Z):
                kind = p.call("TYPE", k)
                left[k] = (kind, p.call("LRANGE", k, "0", "-1") if kind == "list" else
                           p.call("ZRANGE", k, "0", "-1", "WITHSCORES") if kind == "zset" else None)
            p.call("FLUSHALL")
    finally:
        for c in conns:
            c.close()
    return [got.get(i) for i in range(len(blockers))], left




@pytest.mark.parametrize("name", sorted(SCENARIOS))
def test_blocked_clients_served_in_order_across_workers(servers, name):
    assert h.key_slot(X) % 2 == 0 and h.key_slot(Y) % 2 == 1
    shoal = servers.shoal(base_args=SA, extra_args=["--worker-threads", "2"])
    redis = servers.redis(base_args=SA)
    blockers, pushes = SCENARIOS[name]
    want = _play(redis, blockers, pushes)
    got = _play(shoal, blockers, pushes)
    assert got == want
