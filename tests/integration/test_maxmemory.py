"""maxmemory and eviction, as redis-server 7.0.15.

What it is for: a node with `maxmemory` set stays within it under a write load, for
every maxmemory-policy: the allkeys-* policies evict any key, the volatile-* ones only
keys with a TTL, noeviction refuses commands flagged denyoom with 7.0.15's `-OOM` text
(and so do the volatile ones once no key has a TTL). Evictions raise `evicted_keys`,
send the `evicted` keyspace event and go to replicas as DEL, so a replica keeps the
master's data. The error texts and replies are compared with a redis-server started
the same way.

Each node is standalone with maxmemory 8 MB (small, to keep the load short). used_memory
is sampled between pipelined batches and must stay under maxmemory plus a margin of
512 KB (one batch of writes and the client's buffers); RSS must grow by no more than
maxmemory plus 8 MB over the node's RSS at start (glibc's free lists and arenas).

What it must never do: stop a process it did not start, or compare figures that differ
between the allocators (shoal counts glibc's usable sizes, redis-server jemalloc's).
"""
import threading
import time

import pytest

import helpers as h

SA = "standalone"
MAXMEM = 8 * 1024 * 1024
MARGIN = 512 * 1024
RSS_SLACK = 8 * 1024 * 1024
VALUE = "x" * 1000
POLICIES = ["allkeys-lru", "allkeys-lfu", "allkeys-random", "volatile-lru", "volatile-lfu",
            "volatile-random", "volatile-ttl"]


def _start(servers, kind, extra=()):
    if kind == "shoal":
        return servers.shoal(extra_args=list(extra), base_args=SA)
    return servers.redis(extra_args=list(extra), base_args=SA)


def _info(cl, section):
    return cl.info(section)


def _rss(srv):
    with open(f"/proc/{srv.popen.pid}/statm") as f:
        return int(f.read().split()[1]) * 4096


def _load(srv, cl, n, prefix, ttl=None, batch=200, check=True):
    """Writes n keys in pipelined batches; samples used_memory and RSS after each."""
    peak_used, peak_rss = 0, 0
    for start in range(0, n, batch):
        p = cl.pipeline(transaction=False)
        for i in range(start, min(n, start + batch)):
            if ttl:
                p.set(f"{prefix}:{i}", VALUE, ex=ttl)
            else:
                p.set(f"{prefix}:{i}", VALUE)
        p.execute()
        if check:
            peak_used = max(peak_used, _info(cl, "memory")["used_memory"])
            peak_rss = max(peak_rss, _rss(srv))
    return peak_used, peak_rss


@pytest.mark.parametrize("policy", POLICIES)
def test_write_load_stays_within_maxmemory(servers, policy):
    srv = _start(servers, "shoal", ["--maxmemory", str(MAXMEM), "--maxmemory-policy", policy])
    rss0 = _rss(srv)
    cl = srv.client()
    try:
        volatile = policy.startswith("volatile")
        # keys without a TTL, well under the limit: a volatile policy must keep them all
        _load(srv, cl, 1500, "keep", check=False)
        peak_used, peak_rss = _load(srv, cl, 30000, "load", ttl=100000 if volatile else None)
        info = _info(cl, "memory")
        stats = _info(cl, "stats")
        assert info["maxmemory"] == MAXMEM and info["maxmemory_policy"] == policy, info
        assert stats["evicted_keys"] > 10000, stats
        assert peak_used <= MAXMEM + MARGIN, (peak_used, MAXMEM)
        assert info["used_memory"] <= MAXMEM + MARGIN, info
        assert peak_rss <= rss0 + MAXMEM + RSS_SLACK, (peak_rss, rss0)
        kept = sum(cl.exists(f"keep:{i}") for i in range(1500))
        if volatile:
            assert kept == 1500, f"{policy} evicted {1500 - kept} keys without a TTL"
        # the keyspace holds about what fits: at least half of the limit in values
        assert cl.dbsize() * len(VALUE) > MAXMEM // 2, cl.dbsize()
    finally:
        cl.close()


def _fill_until_oom(cl, prefix):
    for i in range(100000):
        try:
            cl.set(f"{prefix}:{i}", VALUE)
        except Exception as e:  # redis.exceptions.OutOfMemoryError / ResponseError
            return i, str(e)
    return None, None


def _limit_near_used(srv, policy):
    """maxmemory 2 MB above what the node holds now."""
    with srv.raw() as c:
        c.call("CONFIG", "SET", "maxmemory-policy", policy)
        used = h.info_dict(c.call("INFO", "memory"))["used_memory"]
        c.call("CONFIG", "SET", "maxmemory", str(int(used) + 2 * 1024 * 1024))


def _oom_story(srv):
    with srv.raw() as c:
        c.call("SET", "{s}y", "v")
    _limit_near_used(srv, "noeviction")
    cl = srv.client()
    try:
        n, err = _fill_until_oom(cl, "f")
        assert n is not None and n > 100, (n, err)
    finally:
        cl.close()
    out = {}
    cmds = [("SET", "another", "v"), ("GET", "f:1"), ("EXISTS", "f:1"), ("INCR", "counter"),
            ("RPUSH", "l", "a"), ("EXPIRE", "f:1", "100"), ("DEL", "f:2"),
            ("MULTI",), ("SET", "t", "1"), ("GET", "f:1"), ("EXEC",),
            ("MULTI",), ("GET", "f:1"), ("EXEC",),
            ("MULTI",), ("DISCARD",),
            # scripts: a denyoom call before any write is refused; after a write it runs;
            # a script with a shebang needs allow-oom (or no-writes) to start at all
            ("EVAL", "return redis.call('set',KEYS[1],'1')", "1", "{s}x"),
            ("EVAL", "return redis.pcall('set',KEYS[1],'1')", "1", "{s}x"),
            ("EVAL", "return redis.call('get',KEYS[1])", "1", "{s}y"),
            ("EVAL", "redis.call('del',KEYS[2]); return redis.call('set',KEYS[1],'1')", "2", "{s}x", "{s}y"),
            ("EVAL", "#!lua\nreturn 1", "0"),
            ("EVAL", "#!lua flags=no-writes\nreturn redis.call('get',KEYS[1])", "1", "{s}x"),
            ("EVAL", "#!lua flags=allow-oom\nreturn redis.call('set',KEYS[1],'1')", "1", "{s}z")]
    with srv.raw() as c:
        out["replies"] = [c.call(*cmd) for cmd in cmds]
        out["errorstats"] = h.info_dict(c.call("INFO", "errorstats")).get("errorstat_OOM")
        out["evicted"] = h.info_dict(c.call("INFO", "stats"))["evicted_keys"]
        out["policy"] = c.call("CONFIG", "GET", "maxmemory-policy")
    return out


def test_noeviction_refuses_denyoom_commands_as_redis(servers):
    shoal = _start(servers, "shoal")
    redis = _start(servers, "redis")
    got, want = _oom_story(shoal), _oom_story(redis)
    assert got["replies"] == want["replies"], (got["replies"], want["replies"])
    assert want["replies"][0] == h.Error("OOM command not allowed when used memory > 'maxmemory'.")
    assert got["evicted"] == want["evicted"] == "0"
    assert got["policy"] == want["policy"]


def _volatile_story(srv):
    """volatile-lru with no key holding a TTL: nothing to evict, so -OOM."""
    _limit_near_used(srv, "volatile-lru")
    cl = srv.client()
    try:
        n, err = _fill_until_oom(cl, "v")
    finally:
        cl.close()
    return n is not None, err


def test_volatile_policy_without_ttl_keys_refuses_as_redis(servers):
    got = _volatile_story(_start(servers, "shoal"))
    want = _volatile_story(_start(servers, "redis"))
    assert got == want == (True, "OOM command not allowed when used memory > 'maxmemory'."), (got, want)


def _events(ps, n, limit):
    """The data of up to n messages the subscription ps receives within `limit` seconds;
    closes ps."""
    events = []
    deadline = time.monotonic() + limit
    while len(events) < n and time.monotonic() < deadline:
        m = ps.get_message(timeout=0.5)
        if m and m["type"] == "message":
            events.append(m["data"])
    ps.close()
    return events


def test_evicted_keyspace_event_as_redis(servers):
    def story(srv):
        cl = srv.client()
        sub = srv.client()
        try:
            cl.config_set("notify-keyspace-events", "Ee")
            ps = sub.pubsub()
            ps.subscribe("__keyevent@0__:evicted")
            ps.get_message(timeout=2)
            cl.config_set("maxmemory-policy", "allkeys-random")
            used = cl.info("memory")["used_memory"]
            cl.config_set("maxmemory", str(used + 1024 * 1024))
            p = cl.pipeline(transaction=False)
            for i in range(4000):
                p.set(f"e:{i}", VALUE)
            p.execute()
            evicted = cl.info("stats")["evicted_keys"]
            return evicted, _events(ps, evicted, 5)
        finally:
            cl.close()
            sub.close()

    for kind in ("shoal", "redis"):
        evicted, events = story(_start(servers, kind))
        assert evicted > 0, kind
        assert len(events) == evicted, (kind, evicted, len(events))
        assert all(e.startswith(b"e:") for e in events), (kind, events[:5])


# A script that keeps its worker busy for ARGV[1] microseconds.
SPIN = ("local t0 = redis.call('TIME') "
        "while true do local t = redis.call('TIME') "
        "if (t[1] - t0[1]) * 1000000 + (t[2] - t0[2]) > tonumber(ARGV[1]) then break end end "
        "return 1")


def _worker1_keys():
    """4,000 keys that worker 1 of two keeps."""
    return [k for k in (f"e:{i}" for i in range(20000)) if h.key_slot(k) % 2 == 1][:4000]


def _packed_two_workers(servers, kind):
    """A standalone node: shoal with two workers and DEBUG on, every connection packed on
    worker 0 (DEBUG PLACEMENT PACK), so the clients' worker is not their keys'; redis-server
    as _start makes it."""
    if kind != "shoal":
        return _start(servers, kind)
    srv = _start(servers, kind, ["--worker-threads", "2", "--enable-debug-command", "yes"])
    with srv.raw() as c:
        assert c.call("DEBUG", "PLACEMENT", "PACK") == "OK"
    return srv


def test_allkeys_policy_evicts_while_another_worker_is_behind(servers):
    """allkeys-random, maxmemory 1 MB above what the node holds, a pipeline of 4,000 SETs of
    1 KB while the worker of their keys is held by a script (as a descheduled worker is on a
    loaded machine): every SET is answered OK, as redis-server answers them. The SETs wait
    in batches on their way to that worker; when that memory counted against maxmemory, the
    client's worker found it over the limit with no key on the node to evict and answered
    -OOM (make test failed so, 1 in ~30 runs at load 8, with keys on both workers)."""
    keys = _worker1_keys()
    assert h.key_slot("spin{a}") % 2 == 1
    for kind in ("shoal", "redis"):
        srv = _packed_two_workers(servers, kind)
        cl, spinner = srv.client(), srv.client()
        try:
            cl.config_set("maxmemory-policy", "allkeys-random")
            cl.config_set("maxmemory", str(cl.info("memory")["used_memory"] + 1024 * 1024))
            held = threading.Thread(target=lambda: spinner.eval(SPIN, 1, "spin{a}", "2000000"))
            held.start()
            time.sleep(0.3)
            p = cl.pipeline(transaction=False)
            for k in keys:
                p.set(k, VALUE)
            replies = p.execute(raise_on_error=False)
            held.join(30)
            refused = [(i, r) for i, r in enumerate(replies) if r is not True]
            assert refused == [], (kind, len(refused), refused[:1])
            assert cl.info("stats")["evicted_keys"] > 0, kind
        finally:
            cl.close()
            spinner.close()


def test_evicted_events_to_a_worker_behind_leave_the_rest(servers):
    """4,000 keys of 1 KB, a subscriber of the "evicted" event, then maxmemory set 1 MB
    below what the node holds (allkeys-random) and a script of 1 s pipelined behind that
    CONFIG SET: redis-server evicts about 1 MB of keys and keeps the rest. So must shoal
    while the subscriber's worker is the one held by the script (PACK: every connection
    on worker 0; the keys are worker 1's): the events on their way there are memory no
    eviction can shrink. Counted against maxmemory, each 1 KB key evicted made a 3 KB
    message to the held worker, so worker 1 evicted every key it had (and a SET in a
    pipeline was answered -OOM, 1 run in ~10 at load 2)."""
    keys = _worker1_keys()
    assert h.key_slot("spin{b}") % 2 == 0
    for kind in ("shoal", "redis"):
        srv = _packed_two_workers(servers, kind)
        cl, sub = srv.client(), srv.client()
        try:
            cl.config_set("notify-keyspace-events", "Ee")
            ps = sub.pubsub()
            ps.subscribe("__keyevent@0__:evicted")
            assert ps.get_message(timeout=2)["type"] == "subscribe"
            p = cl.pipeline(transaction=False)
            for k in keys:
                p.set(k, VALUE)
            p.execute()
            cl.config_set("maxmemory-policy", "allkeys-random")
            p = cl.pipeline(transaction=False)
            p.config_set("maxmemory", str(cl.info("memory")["used_memory"] - 1024 * 1024))
            p.eval(SPIN, 1, "spin{b}", "1000000")
            assert p.execute() == [True, 1], kind
            evicted = _evictions_settled(cl)
            left = cl.dbsize()
            events = _events(ps, evicted, 10)
            assert 500 < evicted < 2500, (kind, evicted, left)
            assert left == len(keys) - evicted, (kind, left, evicted)
            assert len(events) == evicted, (kind, len(events), evicted)
        finally:
            cl.close()
            sub.close()


@pytest.mark.parametrize("rkind", ["shoal", "redis"])
def test_replica_receives_evictions_as_del(servers, rkind):
    master = _start(servers, "shoal", ["--maxmemory", str(MAXMEM), "--maxmemory-policy", "allkeys-lru"])
    replica = _start(servers, rkind)
    with replica.raw() as c:
        assert c.call("REPLICAOF", "127.0.0.1", str(master.port)) == "OK"
    h.wait_until(lambda: h.info_dict(replica.raw().call("INFO", "replication")).get("master_link_status") == "up",
                 30, what="the replica's link up")
    cl = master.client()
    try:
        _load(master, cl, 20000, "r", check=False)
        evicted = cl.info("stats")["evicted_keys"]
        assert evicted > 5000, evicted
        assert cl.execute_command("WAIT", "1", "5000") == 1
        rc = replica.client()
        try:
            # the same keys: every eviction reached the replica as a DEL (live sets: the
            # master's cron may still evict one after the load)
            h.wait_until(lambda: set(rc.scan_iter(count=1000)) == set(cl.scan_iter(count=1000)), 10,
                         what=f"the replica's {rc.dbsize()} keys = the master's {cl.dbsize()}")
            assert cl.dbsize() < 20000 - 5000
        finally:
            rc.close()
    finally:
        cl.close()


def test_eviction_directives_as_redis(servers):
    cmds = [("CONFIG", "SET", "maxmemory-samples", "10"), ("CONFIG", "GET", "maxmemory-samples"),
            ("CONFIG", "SET", "maxmemory-eviction-tenacity", "50"),
            ("CONFIG", "GET", "maxmemory-eviction-tenacity"),
            ("CONFIG", "SET", "maxmemory-eviction-tenacity", "101"),
            ("CONFIG", "SET", "lfu-log-factor", "5"), ("CONFIG", "GET", "lfu-log-factor"),
            ("CONFIG", "SET", "lfu-decay-time", "2"), ("CONFIG", "GET", "lfu-decay-time"),
            ("CONFIG", "SET", "maxmemory", "100mb"), ("CONFIG", "GET", "maxmemory"),
            ("CONFIG", "SET", "maxmemory-policy", "volatile-ttl"), ("CONFIG", "GET", "maxmemory-policy"),
            ("CONFIG", "SET", "maxmemory-policy", "lru"),
            ("CONFIG", "SET", "maxmemory", "0")]
    out = {}
    for kind in ("shoal", "redis"):
        with _start(servers, kind).raw() as c:
            out[kind] = [c.call(*cmd) for cmd in cmds]
            info = h.info_dict(c.call("INFO", "memory"))
            out[kind + "-info"] = (info["maxmemory"], info["maxmemory_human"], info["maxmemory_policy"])
    assert out["shoal"] == out["redis"], (out["shoal"], out["redis"])
    assert out["shoal-info"] == out["redis-info"]


def _evictions_settled(cl, quiet=0.5, limit=30.0):
    """Waits until evicted_keys has not moved for `quiet` seconds; returns it."""
    deadline = time.monotonic() + limit
    last, since = None, time.monotonic()
    while time.monotonic() < deadline:
        n = cl.info("stats")["evicted_keys"]
        if n != last:
            last, since = n, time.monotonic()
        elif time.monotonic() - since >= quiet:
            return n
        time.sleep(0.05)
    raise AssertionError(f"evictions did not settle: evicted_keys={last}")


def test_aof_records_evictions(servers):
    """The AOF gets each eviction as a DEL: a restart from it holds the keys the node held."""
    srv = _start(servers, "shoal", ["--maxmemory", str(MAXMEM), "--maxmemory-policy", "allkeys-lru",
                                    "--appendonly", "yes", "--appendfsync", "no"])
    cl = srv.client()
    try:
        _load(srv, cl, 20000, "a", check=False)
        # A node at its limit evicts again for any memory a command takes, a SCAN's reply
        # included, so the key set is read with the limit lifted (after evictions stopped) and
        # the restart runs without one: what the restart holds comes from the AOF alone.
        assert _evictions_settled(cl) > 5000
        cl.config_set("maxmemory", 0)
        evicted = cl.info("stats")["evicted_keys"]
        held = set(cl.scan_iter(count=1000))
        assert cl.info("stats")["evicted_keys"] == evicted
    finally:
        cl.close()
    srv.stop()
    i = srv.extra_args.index("--maxmemory")
    srv.extra_args[i + 1] = "0"
    srv.start()
    cl = srv.client()
    try:
        assert set(cl.scan_iter(count=1000)) == held
    finally:
        cl.close()


def _hot_story(srv, policy):
    """Hot keys (read often, or lately) and cold ones, then a load that must evict: the
    share of hot keys still there."""
    cl = srv.client()
    try:
        cl.config_set("maxmemory-policy", policy)
        p = cl.pipeline(transaction=False)
        for i in range(2000):
            p.set(f"hot:{i}", VALUE)
            p.set(f"cold:{i}", VALUE)
        p.execute()
        if policy.endswith("lru"):
            time.sleep(2.2)             # the LRU clock has a one-second step
        p = cl.pipeline(transaction=False)
        for _ in range(1 if policy.endswith("lru") else 30):
            for i in range(2000):
                p.get(f"hot:{i}")
        p.execute()
        freq = cl.object("freq", "hot:1") if policy.endswith("lfu") else None
        idle = cl.object("idletime", "cold:1") if policy.endswith("lru") else None
        cl.config_set("maxmemory", str(cl.info("memory")["used_memory"] + 256 * 1024))
        # fewer new keys than cold ones: a policy that ranks well takes cold keys only
        _load(srv, cl, 1500, "fill", check=False)
        assert cl.info("stats")["evicted_keys"] > 500
        hot = sum(cl.exists(f"hot:{i}") for i in range(2000))
        cold = sum(cl.exists(f"cold:{i}") for i in range(2000))
        return hot / 2000, cold / 2000, freq, idle
    finally:
        cl.close()


@pytest.mark.parametrize("policy", ["allkeys-lru", "allkeys-lfu"])
def test_policies_keep_hot_keys_as_redis(servers, policy):
    """Eviction reads the same access data OBJECT FREQ and OBJECT IDLETIME report."""
    for kind in ("shoal", "redis"):
        hot, cold, freq, idle = _hot_story(_start(servers, kind), policy)
        assert hot > 0.9 and cold < hot - 0.2, (kind, policy, hot, cold)
        if freq is not None:
            assert freq > 5, (kind, freq)
        if idle is not None:
            assert idle >= 2, (kind, idle)
