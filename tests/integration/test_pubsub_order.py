"""A client's keyspace events reach every subscriber before the messages it PUBLISHes after
the command that raised them, as redis-server 7.0.15 (one thread, one order) guarantees.

What it is for: a node with notify-keyspace-events on; clients each doing `SET k v` then
`PUBLISH ch m` (one request after the reply of the other, two writes back to back, both in
one write), with keys on every worker; subscribers of `__keyspace@0__:*` and `ch`, their
connections dealt over every worker (DEBUG PLACEMENT SPREAD). Every subscriber must see each round's `set` event before that
round's message. Run many rounds against shoal and, with the same assertions, redis-server.
In shoal the event travels from the worker that ran the SET (its own subscribers through its
mailbox), the message from the publisher's worker: docs/design.md §3.8 says how they are kept
in order.

What it must never do: relax an assertion to fit shoal; stop a process it did not start.
"""
import threading

import helpers as h
from test_scripting_xworker import WORKERS, K0, K1

ROUNDS = 600           # per publisher and mode
PUBLISHERS = 4
SUBSCRIBERS = 4
MODES = ("one by one", "back to back", "pipelined")


def _node(servers, kind):
    if kind == "shoal":
        srv = servers.shoal(WORKERS)
        h.own_all_slots(srv)
        h.spread_connections(srv)      # connections dealt over both workers
    else:
        srv = h.single_node(servers, kind)
    with srv.raw() as c:
        assert c.call("CONFIG", "SET", "notify-keyspace-events", "K$") == "OK"
    return srv


def _publisher(srv, p, mode, errors):
    try:
        with srv.raw(timeout=30) as c:
            for j in range(ROUNDS):
                key = "{%s}%d:%d" % (K0 if j % 2 else K1, p, j)
                set_cmd = h.encode("SET", key, "v")
                pub_cmd = h.encode("PUBLISH", "ch", "%d:%d" % (p, j))
                if mode == "pipelined":
                    c.send(set_cmd + pub_cmd)
                    assert c.read()[1] == "OK"
                    c.read()
                elif mode == "back to back":          # two writes, no wait between
                    c.send(set_cmd)
                    c.send(pub_cmd)
                    assert c.read()[1] == "OK"
                    c.read()
                else:
                    c.send(set_cmd)
                    assert c.read()[1] == "OK"
                    c.send(pub_cmd)
                    c.read()
    except Exception as e:  # noqa: BLE001 - reported by the test
        errors.append(repr(e))


def _out_of_order(srv, mode):
    subs = [srv.raw(timeout=30) for _ in range(SUBSCRIBERS)]
    try:
        for s in subs:
            s.send(h.encode("SUBSCRIBE", "ch") + h.encode("PSUBSCRIBE", "__keyspace@0__:*"))
            s.read()
            s.read()
        errors = []
        threads = [threading.Thread(target=_publisher, args=(srv, p, mode, errors))
                   for p in range(PUBLISHERS)]
        for t in threads:
            t.start()
        for t in threads:
            t.join()
        assert not errors, errors
        bad = []
        for i, s in enumerate(subs):
            seen = set()
            for _ in range(2 * ROUNDS * PUBLISHERS):
                m = s.read()[1]
                if m[0] == b"pmessage":
                    seen.add(m[2].decode().split("}", 1)[1])
                elif m[2].decode() not in seen:
                    bad.append((i, m[2].decode()))
        return bad
    finally:
        for s in subs:
            s.close()


def _run(servers, kind):
    srv = _node(servers, kind)
    return {mode: _out_of_order(srv, mode) for mode in MODES}


def test_keyspace_event_before_later_publish_as_redis(servers):
    got = {k: _run(servers, k) for k in ("redis", "shoal")}
    assert got["redis"] == {m: [] for m in MODES}, got["redis"]
    shoal = {mode: (len(bad), bad[:5]) for mode, bad in got["shoal"].items()}
    assert shoal == {m: (0, []) for m in MODES}, shoal
