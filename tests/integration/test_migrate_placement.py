"""A MIGRATE moves its connection to the worker that keeps its keys before it runs
(actors/worker/placement.h, placement_migrate_move; docs/clients.md §4.5).

Why: a MIGRATE runs on its keys' worker, which waits there for the target. Sent from a
connection on another worker, each call cost two thread wake-ups (the call, the answer);
`redis-cli --cluster reshard` sends one per 10 keys of a slot, every call of a slot to the
same worker, and the next slot's to the other one. A move costs one wake-up, once per
change of worker. What must not change: the replies (those of redis-server 7.0.15 for the
same calls) and what reaches the target. DEBUG PLACEMENT PACK keeps the connection where
it is. Counted with INFO threads' `moves=`; DEBUG PLACEMENT SPREAD, so that the cron
does not hand the connection back meanwhile (a worker alone with it is balanced).

What it must never do: stop a process it did not start, or wait without a deadline.
"""
import helpers as h

from test_placement import WORKERS, _placement


def _key_of_worker(worker, prefix):
    return next(f"{prefix}{i}" for i in range(10000) if h.key_slot(f"{prefix}{i}") % 2 == worker)


def _sequence(conn, target_port, keys):
    """MIGRATE ... COPY REPLACE of each key in turn; the replies."""
    return [conn.call("MIGRATE", "127.0.0.1", str(target_port), k, "0", "5000", "COPY", "REPLACE")
            for k in keys]


def _keys():
    k0, k1 = _key_of_worker(0, "w0:"), _key_of_worker(1, "w1:")
    # five calls for worker 1's key, five for worker 0's, five for worker 1's again:
    # three runs, so two or three changes of worker (wherever the connection began)
    return k0, k1, [k1] * 5 + [k0] * 5 + [k1] * 5


def test_migrate_moves_its_connection_to_the_keys_worker(servers):
    k0, k1, seq = _keys()
    want = None
    red, red_target = servers.redis(), servers.redis()
    for srv in (red, red_target):
        h.own_all_slots(srv)
    with red.raw() as c:
        assert c.call("SET", k0, "v0") == "OK" and c.call("SET", k1, "v1") == "OK"
        want = _sequence(c, red_target.port, seq)
    shoal, target = servers.shoal(WORKERS), servers.redis()
    for srv in (shoal, target):
        h.own_all_slots(srv)
    h.spread_connections(shoal)
    with shoal.raw() as c:
        assert c.call("SET", k0, "v0") == "OK" and c.call("SET", k1, "v1") == "OK"
        _, before, _ = _placement(c)
        got = _sequence(c, target.port, seq)
        _, after, _ = _placement(c)
        assert got == want == ["OK"] * len(seq)
        # one move per change of worker, not one per call (and none before this change)
        assert 2 <= after - before <= 3, (before, after)
        assert c.call("GET", k0) == b"v0" and c.call("GET", k1) == b"v1"   # COPY
    with target.raw() as t:
        assert t.call("GET", k0) == b"v0" and t.call("GET", k1) == b"v1"


def test_pack_mode_keeps_a_migrating_connection_where_it_is(servers):
    k0, k1, seq = _keys()
    shoal, target = servers.shoal(WORKERS), servers.redis()
    for srv in (shoal, target):
        h.own_all_slots(srv)
    with shoal.raw() as c:
        assert c.call("DEBUG", "PLACEMENT", "PACK") == "OK"
        assert c.call("SET", k0, "v0") == "OK" and c.call("SET", k1, "v1") == "OK"
        _, before, _ = _placement(c)
        assert _sequence(c, target.port, seq) == ["OK"] * len(seq)
        _, after, _ = _placement(c)
        assert after == before
    with target.raw() as t:
        assert t.call("GET", k0) == b"v0" and t.call("GET", k1) == b"v1"
