"""The latency monitor's events besides `command`, named as redis-server 7.0.15 names them.

What it is for: LATENCY LATEST tells an operator what stalled the node. With
latency-monitor-threshold 1, shoal (three workers) and redis-server given the same
work report the same event names: 200000 keys whose TTL lapses at once make a slow
active expiry (`expire-cycle`, and `expire-del` being timed); the same keys evicted
in one go after maxmemory drops (tenacity 100: no time limit) make `eviction-cycle`.

What it must never do: relax an expectation to match our node; signal a process it did
not start.
"""
import helpers as h

N = 200000


def _events(c):
    return {e[0].decode() for e in c.call("LATENCY", "LATEST")}


def _session(srv):
    with srv.raw() as c:
        assert c.call("CONFIG", "SET", "latency-monitor-threshold", "1") == "OK"
        h.fill_keys(srv.port, N, px=b"300")
        h.wait_until(lambda: c.call("DBSIZE") == 0, 30, interval=0.1, what="the keys expiring")
        expiry = _events(c) & {"expire-cycle", "eviction-cycle"}
        assert c.call("LATENCY", "RESET") >= 1
        h.fill_keys(srv.port, N)
        for args in (("maxmemory-policy", "allkeys-random"), ("maxmemory-eviction-tenacity", "100"),
                     ("maxmemory", "5mb")):
            assert c.call("CONFIG", "SET", *args) == "OK"
        h.wait_until(lambda: c.call("DBSIZE") < N // 2, 30, interval=0.1, what="the keys being evicted")
        eviction = _events(c) & {"expire-cycle", "eviction-cycle"}
        assert c.call("CONFIG", "SET", "maxmemory", "0") == "OK"
    return expiry, eviction


def test_expire_and_eviction_events_as_redis(servers):
    s = servers.shoal(extra_args=["--worker-threads", "3"], base_args="standalone")
    r = servers.redis(base_args="standalone")
    # what each phase must show (a loaded machine may stretch other work past 1 ms too)
    for expiry, eviction in (_session(r), _session(s)):
        assert "expire-cycle" in expiry and "eviction-cycle" in eviction, (expiry, eviction)
