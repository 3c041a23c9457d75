"""Active expiry at redis-server 7.0.15's effort, its INFO figures and DEBUG SET-ACTIVE-EXPIRE.

What it is for: keys whose TTL passed are reclaimed in the background without anyone
touching them (the workers' cron samples the keys with a TTL as 7.0.15's
activeExpireCycle does, at `active-expire-effort`), counted in expired_keys, with
expired_stale_perc following the share of expired keys met; DEBUG SET-ACTIVE-EXPIRE 0
stops the reclaiming (the keys stay until looked up) and 1 starts it again; the
directive reads and writes as 7.0.15's. Each story runs on shoal and redis-server.

What it must never do: wait a fixed time where a poll with a deadline works, or compare
the figures that depend on timing (how many sweeps ran out of time) between the two.
"""
import time

import helpers as h

SA = "standalone"


def _start(servers, kind, extra=()):
    args = ["--enable-debug-command", "yes", *extra]
    if kind == "shoal":
        return servers.shoal(extra_args=args, base_args=SA)
    return servers.redis(extra_args=args, base_args=SA)


def _stats(c):
    return h.info_dict(c.call("INFO", "stats"))


def _fill(c, n, ttl_ms, prefix):
    """n keys with a TTL, pipelined (all of them set well within the TTL)."""
    for start in range(0, n, 1000):
        batch = range(start, min(n, start + 1000))
        c.send(b"".join(h.encode("SET", f"{prefix}:{i}", "v", "PX", str(ttl_ms)) for i in batch))
        for _ in batch:
            assert c.read()[1] == "OK"


def _reclaim_story(srv):
    with srv.raw(timeout=20) as c:
        for i in range(0, 2000, 500):
            c.call("MSET", *[x for j in range(i, i + 500) for x in (f"keep:{j}", "v")])
        _fill(c, 30000, 1500, "t")
        assert c.call("DBSIZE") == 32000
        h.wait_until(lambda: c.call("DBSIZE") == 2000, 10, what="the expired keys reclaimed unread")
        st = _stats(c)
        return int(st["expired_keys"]), float(st["expired_stale_perc"]), int(st["expired_time_cap_reached_count"])


def test_expired_keys_are_reclaimed_in_the_background_as_redis(servers):
    for kind in ("shoal", "redis"):
        expired, stale, capped = _reclaim_story(_start(servers, kind))
        assert expired == 30000, (kind, expired)
        assert 0 < stale <= 100, (kind, stale)
        assert capped >= 0


def _switch_story(srv):
    out = []
    with srv.raw(timeout=20) as c:
        out.append(c.call("DEBUG", "SET-ACTIVE-EXPIRE", "0"))
        _fill(c, 5000, 100, "s")
        time.sleep(1.0)                     # ten cron periods: nothing may reclaim them
        out.append(c.call("DBSIZE"))
        out.append(_stats(c)["expired_keys"])
        out.append(c.call("GET", "s:1"))    # a look-up still expires its key
        out.append(_stats(c)["expired_keys"])
        out.append(c.call("DEBUG", "SET-ACTIVE-EXPIRE", "1"))
        h.wait_until(lambda: c.call("DBSIZE") == 0, 10, what="reclaimed once active expiry is back")
        out.append(_stats(c)["expired_keys"])
    return out


def test_debug_set_active_expire_as_redis(servers):
    got = _switch_story(_start(servers, "shoal"))
    want = _switch_story(_start(servers, "redis"))
    assert got == want == ["OK", 5000, "0", None, "1", "OK", "5000"], (got, want)


def test_active_expire_effort_directive_as_redis(servers):
    cmds = [("CONFIG", "GET", "active-expire-effort"), ("CONFIG", "SET", "active-expire-effort", "10"),
            ("CONFIG", "GET", "active-expire-effort"), ("CONFIG", "SET", "active-expire-effort", "11"),
            ("CONFIG", "SET", "active-expire-effort", "0"), ("CONFIG", "SET", "active-expire-effort", "1")]
    out = {}
    for kind in ("shoal", "redis"):
        with _start(servers, kind).raw() as c:
            out[kind] = [c.call(*cmd) for cmd in cmds]
    assert out["shoal"] == out["redis"], out


def test_high_effort_reclaims_too(servers):
    srv = _start(servers, "shoal", ["--active-expire-effort", "10"])
    expired, stale, _ = _reclaim_story(srv)
    assert expired == 30000 and stale > 0
