"""The IDLE (248) and FREQ (249) records of an RDB file, read and written as
redis-server 7.0.15 does.

What it is for: 7.0.15 writes before a key's type the idle seconds (IDLE) under an
LRU maxmemory-policy and the LFU counter (FREQ) under an LFU one, and on load applies
the one that the loading server's policy uses (IDLE under any non-LFU policy, FREQ under
an LFU one), ignoring the other. Here redis-server writes a dump.rdb whose keys were
restored with IDLETIME 1000 / FREQ 42; shoal loads it under each policy and must answer
OBJECT IDLETIME / FREQ as a redis-server loading the same file; then shoal's own SAVE
must carry them into a redis-server the same way.

What it must never do: compare idle seconds exactly (clocks tick apart: 1000..1003);
let an LFU counter decay while a test runs (every server here has lfu-decay-time 0: the
counter loses one each time the wall clock's minute changes, so a test that crossed a
minute read 41 for the 42 it restored).
"""
import math
import shutil
import time

import helpers as h

KEYS = ["s", "l", "h", "z", "plain"]


def _start(servers, kind, directory, policy, name):
    port = h.free_port()
    args = ["--port", str(port), "--bind", "127.0.0.1", "--dir", str(directory), "--logfile", "",
            "--maxmemory-policy", policy, "--lfu-decay-time", "0"]
    if kind == "redis":
        args += ["--save", "", "--appendonly", "no", "--daemonize", "no"]
        return servers.redis(base_args=False, port=port, name=name, extra_args=args)
    return servers.shoal(base_args=False, port=port, name=name, extra_args=args)


def _fill(c, how, value):
    """Keys of four types restored with the given IDLETIME or FREQ, and one plain key."""
    c.call("SET", "s", "value")
    c.call("RPUSH", "l", "a", "b")
    c.call("HSET", "h", "f", "v")
    c.call("ZADD", "z", "1", "m")
    for k in ("s", "l", "h", "z"):
        payload = c.call("DUMP", k)
        assert c.call("RESTORE", k, "0", payload, "REPLACE", how, str(value)) == "OK"
    c.call("SET", "plain", "v")


def _access(server):
    with server.raw() as c:
        return {k: (c.call("OBJECT", "IDLETIME", k), c.call("OBJECT", "FREQ", k)) for k in KEYS}


def _close(got, want, since):
    """Same error/answer shapes; idle seconds within the few seconds the test takes."""
    # an IDLETIME (a restored 900+ or a fresh key's 0-1) moves with the clock while the
    # test runs, and the servers load and are asked at different moments, all within the
    # seconds since `since` (more than 3 on a loaded machine), plus the LRU clocks' ticks
    slack = _slack(math.ceil(time.monotonic() - since))
    assert set(got) == set(want)
    for k in want:
        for i, (g, w) in enumerate(zip(got[k], want[k])):
            if isinstance(w, int) and (w >= 900 or i == 0):
                assert isinstance(g, int) and abs(g - w) <= slack, (k, got[k], want[k], slack)
            else:
                assert g == w, (k, got[k], want[k])


def _slack(seconds):
    """How far an idle time may move in `seconds` of the test: 3 on a quiet machine."""
    return max(3, 2 + seconds)


def _case(servers, tmp_path, write_policy, how, value, load_policy):
    """The reference's answers, and the seconds that may have added to its idle times."""
    src = tmp_path / "src"
    src.mkdir()
    writer = _start(servers, "redis", src, write_policy, "redis-writer")
    with writer.raw() as c:
        t0 = time.monotonic()
        _fill(c, how, value)
        assert c.call("SAVE") == "OK"
    for name in ("redis-load", "shoal-load", "redis-back"):
        (tmp_path / name).mkdir()
    shutil.copy(src / "dump.rdb", tmp_path / "redis-load" / "dump.rdb")
    shutil.copy(src / "dump.rdb", tmp_path / "shoal-load" / "dump.rdb")
    ref = _start(servers, "redis", tmp_path / "redis-load", load_policy, "redis-load")
    node = _start(servers, "shoal", tmp_path / "shoal-load", load_policy, "shoal-load")
    want = _access(ref)
    aged = time.monotonic() - t0
    _close(_access(node), want, t0)
    # shoal's SAVE carries the same records back into redis-server
    with node.raw() as c:
        assert c.call("SAVE") == "OK"
    shutil.copy(tmp_path / "shoal-load" / "dump.rdb", tmp_path / "redis-back" / "dump.rdb")
    back = _start(servers, "redis", tmp_path / "redis-back", load_policy, "redis-back")
    _close(_access(back), want, t0)
    return want, _slack(math.ceil(aged))


def test_rdb_idle_loads_and_saves_under_lru(servers, tmp_path):
    want, slack = _case(servers, tmp_path, "allkeys-lru", "IDLETIME", 1000, "volatile-lru")
    assert all(1000 <= want[k][0] <= 1000 + slack for k in ("s", "l", "h", "z")), (want, slack)


def test_rdb_freq_loads_and_saves_under_lfu(servers, tmp_path):
    want, _ = _case(servers, tmp_path, "allkeys-lfu", "FREQ", 42, "volatile-lfu")
    assert all(want[k][1] == 42 for k in ("s", "l", "h", "z")), want
    assert want["plain"][1] == 5


def test_rdb_idle_ignored_under_lfu(servers, tmp_path):
    want, _ = _case(servers, tmp_path, "allkeys-lru", "IDLETIME", 1000, "allkeys-lfu")
    assert all(want[k][1] == 5 for k in KEYS), want


def test_rdb_freq_ignored_under_lru(servers, tmp_path):
    want, slack = _case(servers, tmp_path, "allkeys-lfu", "FREQ", 42, "allkeys-lru")
    assert all(want[k][0] <= slack for k in KEYS), (want, slack)


import pytest  # noqa: E402

import replhelpers as rh  # noqa: E402


@pytest.mark.parametrize("master_kind,replica_kind", [("redis", "shoal"), ("shoal", "redis")])
def test_full_sync_carries_freq(servers, master_kind, replica_kind):
    """Under allkeys-lfu on both, a master's FREQ records in the full sync's RDB reach
    the replica: OBJECT FREQ there is the master's (RESTORE ... FREQ 42). No decay on
    either side (lfu-decay-time 0): the counter read is the one carried, whatever
    minute each step runs in (failed before whenever the wall clock's minute changed
    between the RESTORE and the master's RDB: 41, as redis-server 7.0.15 decays it)."""
    def fill(m):
        rh.config_set(m, "maxmemory-policy", "allkeys-lfu")
        assert rh.config_set(m, "lfu-decay-time", "0") == "OK"
        with m.raw() as c:
            _fill(c, "FREQ", 42)
    master = rh.start(servers, master_kind)
    h.own_all_slots(master)
    fill(master)
    rh.fast_sync(master)
    replica = rh.start(servers, replica_kind)
    rh.config_set(replica, "maxmemory-policy", "allkeys-lfu")
    assert rh.config_set(replica, "lfu-decay-time", "0") == "OK"
    mid, _ = rh.meet(replica, master)
    rh.replicate(replica, mid)
    rh.wait_link_up(replica)
    h.wait_until(lambda: _dbsize(replica) == len(KEYS), 10, what="replica loaded")
    with replica.raw() as c:
        c.call("READONLY")
        got = {k: c.call("OBJECT", "FREQ", k) for k in KEYS}
    assert all(got[k] == 42 for k in ("s", "l", "h", "z")), got


def _dbsize(srv):
    with srv.raw() as c:
        return c.call("DBSIZE")
