"""The rest of maxmemory, as redis-server 7.0.15: replica-ignore-maxmemory, the memory
left out of the comparison, CONFIG SET maxmemory evicting at once, and scripts refused
for OOM counted as rejected calls.

What it is for: a replica keeps its master's data whatever its own maxmemory says,
unless replica-ignore-maxmemory is no (then it evicts on its own); the bytes held for
a replica that reads nothing (mem_clients_slaves, in mem_not_counted_for_evict) do not
make a master evict; a lowered maxmemory is reached without waiting for writes, with
7.0.15's warning in the log; an EVAL whose shebang script would write is refused as a
rejected call (its own command's rejected_calls), a command a script may not call is
a rejected call of that command. Each story runs on shoal and on redis-server and must
end the same way; INFO memory's mem_cluster_links is a real figure in cluster mode.

What it must never do: signal a process it did not start (the replica it stops with
SIGSTOP is its own and gets SIGCONT), or compare byte figures that differ between the
allocators.
"""
import os
import signal
import time

import pytest

import helpers as h
import replhelpers as rh

N = 50000


def _mem(srv):
    return rh.info(srv, "memory")


def _dbsize(srv):
    with srv.raw() as c:
        return c.call("DBSIZE")


@pytest.mark.parametrize("kind", ["shoal", "redis"])
def test_replica_ignore_maxmemory(servers, kind):
    m, r, _ = rh.make_pair(servers, kind, kind)
    h.fill_keys(m.port, N, value=b"v" * 100)
    rh.wait_offsets_equal(m, r)
    assert _dbsize(r) == N
    assert rh.config_set(r, "maxmemory-policy", "allkeys-random") == "OK"
    used = int(_mem(r)["used_memory"])
    assert rh.config_set(r, "maxmemory", used * 2 // 3) == "OK"
    time.sleep(1.0)                       # several crons: a replica that evicted would have
    assert _dbsize(r) == N, "a replica evicted with replica-ignore-maxmemory yes (the default)"
    assert rh.config_set(r, "replica-ignore-maxmemory", "no") == "OK"
    h.wait_until(lambda: _dbsize(r) < N, 15, interval=0.1, what="the replica evicting on its own")
    assert int(rh.info(r, "stats")["evicted_keys"]) > 0
    assert _dbsize(m) == N                # the master kept everything


@pytest.mark.parametrize("kind", ["shoal", "redis"])
def test_replica_buffers_not_counted_for_eviction(servers, kind):
    m, r, _ = rh.make_pair(servers, kind, kind)
    h.fill_keys(m.port, N, value=b"v" * 100)
    rh.wait_offsets_equal(m, r)
    os.kill(r.popen.pid, signal.SIGSTOP)  # our own replica stops reading
    try:
        with m.raw(timeout=30) as c:
            for _ in range(40):           # 40 MB of stream, 1 MB of data
                assert c.call("SET", "big", "x" * (1 << 20)) == "OK"
        mem = _mem(m)
        slaves, not_counted = int(mem["mem_clients_slaves"]), int(mem["mem_not_counted_for_evict"])
        assert slaves > 8 << 20, mem
        # 7.0.15 leaves out its buffers' bookkeeping estimate: a little less than the sum
        assert slaves * 0.9 <= not_counted <= slaves + int(mem["mem_aof_buffer"]), mem
        # under the limit once the replica's bytes are left out, over it with them
        limit = int(mem["used_memory"]) - not_counted + (4 << 20)
        assert limit < int(mem["used_memory"])
        assert rh.config_set(m, "maxmemory-policy", "allkeys-random") == "OK"
        assert rh.config_set(m, "maxmemory", limit) == "OK"
        with m.raw() as c:
            for _ in range(20):
                assert c.call("SET", "small", "1") == "OK"
        time.sleep(0.5)
        assert int(rh.info(m, "stats")["evicted_keys"]) == 0
        assert _dbsize(m) == N + 2
    finally:
        os.kill(r.popen.pid, signal.SIGCONT)
        rh.config_set(m, "maxmemory", 0)


@pytest.mark.parametrize("kind", ["shoal", "redis"])
def test_config_set_maxmemory_evicts_at_once(servers, kind):
    srv = servers.shoal(base_args="standalone") if kind == "shoal" else servers.redis(base_args="standalone")
    h.fill_keys(srv.port, 4 * N, value=b"v" * 20)
    with srv.raw() as c:
        assert c.call("CONFIG", "SET", "maxmemory-policy", "allkeys-lru") == "OK"
        used = int(h.info_dict(c.call("INFO", "memory"))["used_memory"])
        assert c.call("CONFIG", "SET", "maxmemory", str(used // 2)) == "OK"
    # no writes, no reads of keys: the node comes down by itself
    h.wait_until(lambda: int(_mem(srv)["used_memory"]) <= used // 2 + (256 << 10), 20, interval=0.2,
                 what="used_memory under the lowered maxmemory")
    assert "is smaller than the current memory usage" in srv.log()


def _stats(c):
    out = {}
    for line in h.info_dict(c.call("INFO", "commandstats")).items():
        name, fields = line
        if name in ("cmdstat_eval", "cmdstat_set", "cmdstat_evalsha"):
            f = dict(kv.split("=") for kv in fields.split(","))
            out[name] = (f["calls"], f["rejected_calls"], f["failed_calls"])
    return out


def _oom_scripts(srv):
    with srv.raw() as c:
        assert c.call("CONFIG", "SET", "maxmemory", "1") == "OK"
        assert c.call("CONFIG", "RESETSTAT") == "OK"
        got = [c.raw("EVAL", "#!lua\nreturn redis.call('set',KEYS[1],'1')", "1", "x"),
               c.raw("EVAL", "#!lua flags=no-writes\nreturn 1", "0"),
               c.raw("EVAL", "return redis.call('set',KEYS[1],'1')", "1", "x"),
               c.raw("EVAL", "return 1", "0"),
               c.raw("EVAL", "#!lua flags=allow-oom\nreturn redis.call('get',KEYS[1])", "1", "x")]
        got.append(_stats(c))
        got.append(c.raw("INFO", "errorstats"))
        assert c.call("CONFIG", "SET", "maxmemory", "0") == "OK"
    return got


def test_script_oom_refusals_are_rejected_calls(servers):
    s = servers.shoal(base_args="standalone")
    r = servers.redis(base_args="standalone")
    want, got = _oom_scripts(r), _oom_scripts(s)
    assert got == want
    assert want[-2]["cmdstat_eval"] == ("4", "1", "1") and want[-2]["cmdstat_set"] == ("0", "1", "0")


def test_mem_cluster_links_is_real(servers):
    a, b = servers.shoal(), servers.shoal()
    with b.raw() as c:
        assert c.call("CLUSTER", "MEET", "127.0.0.1", str(a.port)) == "OK"
    h.wait_until(lambda: int(_mem(a)["mem_cluster_links"]) > 0, 15, interval=0.2,
                 what="mem_cluster_links once the nodes have links")
    with a.raw() as c:
        stats = dict(zip(*[iter(c.call("MEMORY", "STATS"))] * 2))
    assert stats[b"cluster.links"] > 0
    plain = servers.shoal(base_args="standalone")
    assert _mem(plain)["mem_cluster_links"] == "0"
