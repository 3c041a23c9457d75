"""DEBUG SLEEP stops the whole node, as redis-server 7.0.15's single thread does.

What it is for (Redis's cluster suites use DEBUG SLEEP to make a
node look dead to its peers): during `DEBUG SLEEP <s>` no client of any worker is
answered, no new connection is served, the cluster bus is not answered and the
node's cron does not run; the peers flag the sleeper PFAIL/FAIL when the sleep is
longer than the node timeout. `DEBUG SLEEP 0` answers at once; inside MULTI the
sleep stops the node too. Each test runs the same steps against redis-server.

What it must never do: relax a timing bound to let our node pass, or stop a process
it did not start.
"""
import threading
import time

import pytest

import bushelpers as bh
import helpers as h

DBG = ["--enable-debug-command", "yes"]
SLEEP = 2.0


def _start(servers, kind, extra=()):
    if kind == "shoal":
        return servers.shoal(extra_args=[*DBG, "--worker-threads", "2", *extra])
    return servers.redis(extra_args=[*DBG, *extra])


def _ping_delays(conns, t0):
    """Sends PING on every connection; returns, per connection, when (after t0) its
    +PONG arrived (each read in a thread of its own: a late reply on one connection
    must not delay the time taken for another)."""
    out = [None] * len(conns)

    def one(i, c):
        c.send(h.encode("PING"))
        raw, _ = c.read()
        out[i] = (time.monotonic() - t0, raw)

    threads = [threading.Thread(target=one, args=(i, c)) for i, c in enumerate(conns)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(15)
    assert all(o is not None and o[1] == b"+PONG\r\n" for o in out), out
    return [o[0] for o in out]


@pytest.mark.quiet   # bounds a latency from above (conftest.py: runs alone under xdist)
@pytest.mark.parametrize("kind", ["redis", "shoal"])
def test_debug_sleep_stops_every_client(servers, kind):
    """Connections opened before the sleep (spread over both workers) and ones opened
    during it (a sleeping worker cannot accept them, so another would) all wait."""
    srv = _start(servers, kind)
    before = [srv.raw(timeout=10) for _ in range(6)]
    with srv.raw(timeout=10) as sleeper:
        for c in before:   # each connection is served (adopted by its worker) already
            assert c.raw("PING") == b"+PONG\r\n"
        t0 = time.monotonic()
        sleeper.send(h.encode("DEBUG", "SLEEP", str(SLEEP)))
        time.sleep(0.3)
        during = [srv.raw(timeout=10) for _ in range(6)]
        delays = _ping_delays(before + during, t0)
        raw, _ = sleeper.read()
        took = time.monotonic() - t0
        assert raw == b"+OK\r\n"
        assert took >= SLEEP - 0.05, took
        # nothing is answered while the node sleeps (a little slack for the cut itself)
        assert min(delays) >= SLEEP - 0.1, (kind, delays)
        for c in before + during:
            c.close()
        # and the node serves again at once
        with srv.raw() as c:
            t1 = time.monotonic()
            assert c.raw("PING") == b"+PONG\r\n"
            assert time.monotonic() - t1 < 0.5


@pytest.mark.quiet   # bounds a latency from above (conftest.py: runs alone under xdist)
@pytest.mark.parametrize("kind", ["redis", "shoal"])
def test_debug_sleep_zero_and_in_multi(servers, kind):
    srv = _start(servers, kind)
    with srv.raw() as c, srv.raw() as other:
        t0 = time.monotonic()
        assert c.raw("DEBUG", "SLEEP", "0") == b"+OK\r\n"
        assert time.monotonic() - t0 < 0.5
        assert c.raw("MULTI") == b"+OK\r\n"
        assert c.raw("DEBUG", "SLEEP", "1") == b"+QUEUED\r\n"
        assert c.raw("PING") == b"+QUEUED\r\n"
        t0 = time.monotonic()
        c.send(h.encode("EXEC"))
        time.sleep(0.2)
        other.send(h.encode("PING"))
        raw, _ = other.read()
        other_delay = time.monotonic() - t0
        assert raw == b"+PONG\r\n"
        raw, _ = c.read()
        assert raw == b"*2\r\n+OK\r\n+PONG\r\n"
        assert other_delay >= 0.9, (kind, other_delay)
        # the connection goes on normally
        assert c.raw("PING") == b"+PONG\r\n"


def _bus_silent(srv, seconds):
    """True if a fresh bus connection's PING gets no PONG within `seconds`."""
    with bh.BusConn(bh.bus_port(srv), timeout=seconds + 2) as b:
        b.send(bh.ping())
        try:
            b.read_frame_of_type(bh.T_PONG, seconds)
        except TimeoutError:
            return True
        return False


def _flags_of(server, node_id):
    for n in bh.cluster_nodes(server, timeout=10):
        if n["id"] == node_id:
            return set(n["flags"])
    return set()


@pytest.mark.parametrize("kind", ["redis", "shoal"])
def test_debug_sleep_longer_than_node_timeout_fails_the_node(servers, kind):
    """3 masters, node timeout 1 s: a 5 s sleep on one makes the other two see it
    fail? and then fail (both masters agree), and the bus does not answer during it.
    After the sleep the cluster heals (a master without replicas clears FAIL)."""
    extra = [*DBG, "--worker-threads", "2"] if kind == "shoal" else DBG
    nodes = bh.start_cluster(servers, 3, node_timeout=1000, extra_args=extra, kind=kind)
    victim, others = nodes[0], nodes[1:]
    vid = bh.myid(victim)
    seen = {o.port: set() for o in others}
    result = {}

    def sleeper():
        with victim.raw(timeout=20) as c:
            t0 = time.monotonic()
            result["reply"] = c.raw("DEBUG", "SLEEP", "5")
            result["took"] = time.monotonic() - t0

    t = threading.Thread(target=sleeper)
    t.start()
    try:
        time.sleep(0.3)
        result["bus_silent"] = _bus_silent(victim, 1.0)
        deadline = time.monotonic() + 4.0
        while time.monotonic() < deadline:
            for o in others:
                seen[o.port] |= _flags_of(o, vid) & {"fail?", "fail"}
            if all("fail" in s for s in seen.values()):
                break
            time.sleep(0.05)
    finally:
        t.join(20)
    assert result.get("reply") == b"+OK\r\n", result
    assert result["took"] >= 4.9, result
    assert result["bus_silent"], f"{kind}: the bus answered a PING during DEBUG SLEEP"
    for port, s in seen.items():
        assert "fail" in s, f"{kind}: node :{port} saw the sleeper only as {s or 'healthy'}"
    bh.wait_healthy(nodes, 3, timeout=30)


@pytest.mark.parametrize("kind", ["redis", "shoal"])
def test_debug_sleep_in_multi_then_kill_master_link(servers, kind):
    """Redis's 05-slave-selection: MULTI / DEBUG SLEEP / CLIENT KILL <master addr> /
    EXEC on a replica cuts it off before it reads what its master sent during the
    sleep, so the replica misses those writes (its offset stays behind)."""
    import replhelpers as rh
    master = rh.start(servers, kind, DBG)
    h.own_all_slots(master)
    rh.fast_sync(master)
    replica = rh.start(servers, kind, DBG)
    mid, _ = rh.meet(replica, master)
    rh.replicate(replica, mid)
    rh.wait_link_up(replica)
    with master.raw() as m:
        assert m.raw("SET", "before", "1") == b"+OK\r\n"
    rh.wait_offsets_equal(master, replica)
    with replica.raw(timeout=10) as r, master.raw() as m:
        assert r.raw("READONLY") == b"+OK\r\n"
        assert r.raw("MULTI") == b"+OK\r\n"
        assert r.raw("DEBUG", "SLEEP", "1.5") == b"+QUEUED\r\n"
        assert r.raw("CLIENT", "KILL", f"127.0.0.1:{master.port}") == b"+QUEUED\r\n"
        r.send(h.encode("EXEC"))
        time.sleep(0.3)
        assert m.raw("SET", "during", "1") == b"+OK\r\n"
        raw, _ = r.read()
        assert raw == b"*2\r\n+OK\r\n+OK\r\n"
        assert r.raw("GET", "before") == b"$1\r\n1\r\n"
        assert r.raw("GET", "during") == b"$-1\r\n", kind
    # the replica reconnects and catches up afterwards
    rh.wait_offsets_equal(master, replica)
