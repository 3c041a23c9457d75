"""Scripts reaching keys another worker of the node keeps (issue 15): undeclared keys, and
keyless scripts, whose slots another worker keeps (actors/worker/xscript.c).

What it is for: 7.0.15 lets a script without a shebang (or with allow-cross-slot-keys) touch
keys of any slot the node serves, and keyless scripts any key; on a node of several workers
those keys sit in other workers' keyspaces. The replies are compared with redis-server's (Redis's
own unit/cluster-scripting cases among them); then scripts that each want the other worker's
keys run concurrently in loops from several clients, with saves cutting in, and must neither
hang nor lose an update, and a replica must end with the same data; SCRIPT KILL still stops a
busy script that holds the other workers, from a client of any worker.

What it must never do: weaken an expectation to match our node; the reference server is
the contract.
"""
import threading
import time

import helpers as h
import replhelpers as rh

WORKERS = ["--worker-threads", "2", "--enable-debug-command", "yes"]   # DEBUG PLACEMENT


def _worker_of(key, nworkers=2):
    return (h.crc16(key.encode()) % 16384) % nworkers


def _key_on(worker, prefix):
    return next(k for k in (f"{prefix}{i}" for i in range(10000)) if _worker_of(k) == worker)


K0, K1 = _key_on(0, "w0:"), _key_on(1, "w1:")


def _shoal(servers, extra=()):
    srv = servers.shoal(WORKERS + list(extra))
    h.own_all_slots(srv)
    h.spread_connections(srv)      # connections on both workers
    return srv


CROSS_LIB = """#!lua name=crossslot
local function test_cross_slot(keys, args)
    redis.call('set', 'foo', 'bar')
    redis.call('set', 'bar', 'foo')
    return 'OK'
end
redis.register_function{function_name='test_cross_slot', callback=test_cross_slot, flags={ 'allow-cross-slot-keys' }}"""

DEFAULT_LIB = CROSS_LIB.replace(", flags={ 'allow-cross-slot-keys' }", "")

STEPS = [
    ("EVAL", "redis.call('set', 'foo', 'bar'); redis.call('set', 'bar', 'foo')", "0"),
    ("EVAL", "#!lua flags=allow-cross-slot-keys\nredis.call('set', 'foo', 'bar'); redis.call('set', 'bar', 'foo')",
     "0"),
    ("EVAL", "#!lua\nredis.call('set', 'foo', 'bar')\nredis.call('set', 'bar', 'foo')\nreturn 'OK'", "0"),
    ("EVAL", "#!lua\nredis.call('set', 'foo', 'bar')\nreturn 'OK'", "1", "bar"),
    ("FUNCTION", "LOAD", "REPLACE", DEFAULT_LIB),
    ("FCALL", "test_cross_slot", "0"),
    ("FUNCTION", "LOAD", "REPLACE", CROSS_LIB),
    ("FCALL", "test_cross_slot", "0"),
    ("EVAL", "return {redis.call('get', 'foo'), redis.call('get', 'bar')}", "0"),
    # a declared key on one worker, undeclared keys of the other
    ("EVAL", "redis.call('incr', KEYS[1]); redis.call('incr', ARGV[1]); redis.call('rpush', ARGV[2], 'a', 'b');"
     " return {redis.call('get', KEYS[1]), redis.call('get', ARGV[1]), redis.call('lrange', ARGV[2], 0, -1)}",
     "1", K0, K1, "{" + K1 + "}l"),
    ("EVAL", "redis.call('del', ARGV[1]); return redis.call('exists', ARGV[1], KEYS[1])", "1", K0, K1),
    ("EVAL", "return redis.pcall('incr', ARGV[1])", "1", K1, "foo"),
    ("MGET", "foo", "bar"),
    ("GET", K0),
    ("EXISTS", K1),
    ("LRANGE", "{" + K1 + "}l", "0", "-1"),
]


def test_undeclared_keys_of_other_workers_as_redis(servers):
    """Redis's unit/cluster-scripting cases and scripts over keys of both workers, from
    connections on both workers: the same replies as redis-server."""
    assert _worker_of("foo") != _worker_of("bar")
    got = []
    for kind in ("shoal", "redis"):
        srv = _shoal(servers) if kind == "shoal" else h.single_node(servers, "redis")
        out = []
        for step in STEPS:
            for _ in range(2):        # two connections: dealt to both workers
                with srv.raw() as c:
                    out.append(c.raw(*step))
        got.append(out)
    assert got[0] == got[1]
    assert got[0][0] == b"$-1\r\n"
    assert got[0][4].startswith(b"-ERR Script attempted to access keys that do not hash to the same slot")


def test_pipelined_write_before_the_script_is_seen(servers):
    """A client's command for the other worker's key, pipelined before a script reading it,
    runs first."""
    srv = _shoal(servers)
    for i in range(40):
        with srv.raw() as c:
            c.send(h.encode("SET", K1, f"v{i}") + h.encode("EVAL", "return redis.call('get', ARGV[1])", "1", K0, K1))
            assert c.read()[1] == "OK"
            assert c.read()[1] == f"v{i}".encode()


def test_watch_sees_a_write_from_a_script_of_the_other_worker(servers):
    srv = _shoal(servers)
    with srv.raw() as a, srv.raw() as b:
        assert a.call("WATCH", K1) == "OK"
        assert b.call("EVAL", "return redis.call('set', ARGV[1], 'x')", "1", K0, K1) == "OK"
        assert a.call("MULTI") == "OK"
        assert a.call("SET", K1, "y") == "QUEUED"
        assert a.call("EXEC") is None
        assert a.call("GET", K1) == b"x"


def _run_all(srv, threads):
    """Runs the threads beside one that asks for 5 BGSAVEs (cuts that park every worker);
    none may hang."""
    def saver():
        with srv.raw(timeout=30) as c:
            for _ in range(5):
                c.call("BGSAVE")
                time.sleep(0.05)

    ts = threads + [threading.Thread(target=saver)]
    for t in ts:
        t.start()
    for t in ts:
        t.join(120)
    assert not any(t.is_alive() for t in ts), "a client hung"


CROSS_A = "redis.call('incr', KEYS[1]); redis.call('incr', ARGV[1]); return redis.call('incr', ARGV[2])"


def test_concurrent_cross_scripts_no_deadlock_and_replica_same(servers):
    """Scripts on both workers, each reaching the other worker's keys (and keyless ones),
    in loops from 6 clients while saves cut in: no hang, every update counted, the
    replica ends with the same data, every script's writes one MULTI/EXEC."""
    master = _shoal(servers)
    master, replica, _ = rh.make_pair(servers, "shoal", "shoal", master=master)
    a0, a1 = _key_on(0, "a:"), _key_on(1, "a:")
    total = "{tot}n"
    rounds, errors = 150, []

    def client(n):
        with master.raw(timeout=30) as c:
            for j in range(rounds):
                if n % 3 == 0:
                    r = c.call("EVAL", CROSS_A, "1", a0, a1, total)
                elif n % 3 == 1:
                    r = c.call("EVAL", CROSS_A, "1", a1, a0, total)
                else:
                    r = c.call("EVAL", "redis.call('incr', ARGV[1]); redis.call('incr', ARGV[2]);"
                               " return redis.call('incr', ARGV[3])", "0", a1, a0, total)
                if not isinstance(r, int):
                    errors.append(r)

    _run_all(master, [threading.Thread(target=client, args=(n,)) for n in range(6)])
    assert errors == []
    n = 6 * rounds
    with master.raw() as c:
        assert c.call("GET", a0) == str(n).encode()
        assert c.call("GET", a1) == str(n).encode()
        assert c.call("GET", total) == str(n).encode()
        assert c.call("WAIT", "1", "5000") == 1
    rh.assert_same_data(master, replica)


def test_script_kill_of_a_script_holding_the_other_worker(servers):
    """A busy script that reached the other worker's keys: every client gets -BUSY (as
    redis-server answers all), SCRIPT KILL from any connection stops it, the node goes on."""
    srv = _shoal(servers)
    with srv.raw() as c:
        assert c.call("CONFIG", "SET", "busy-reply-threshold", "100") == "OK"
    others = [srv.raw() for _ in range(4)]
    with srv.raw(timeout=10) as a:
        for o in others:
            assert o.call("PING") == "PONG"
        a.send(h.encode("EVAL", "redis.call('get', ARGV[1]); while true do end", "1", K0, K1))
        try:
            deadline = time.monotonic() + 5
            while not others[0].raw("PING").startswith(b"-BUSY"):
                assert time.monotonic() < deadline, "never busy"
                time.sleep(0.02)
            for o in others:
                assert o.raw("GET", K1).startswith(b"-BUSY Redis is busy running a script.")
            with srv.raw() as k:           # a new connection, as redis-cli SCRIPT KILL makes
                assert k.raw("SCRIPT", "KILL") == b"+OK\r\n"
            assert a.read()[0].startswith(b"-ERR Script killed by user with SCRIPT KILL...")
            for o in others:
                assert o.call("PING") == "PONG"
                assert o.call("SET", K1, "after") == "OK"
        finally:
            for o in others:
                o.close()


def test_kill_of_a_script_waiting_for_the_other_worker(servers):
    """Two busy scripts on both workers, each wanting the other's keys: b runs first on its
    own keys, a takes the session meanwhile, b then waits for it inside a call (counted as
    standing still, so a goes on). SCRIPT KILL kills both (neither wrote); the node goes on."""
    srv = _shoal(servers)
    with srv.raw() as c:
        assert c.call("CONFIG", "SET", "busy-reply-threshold", "100") == "OK"
    # keyless: each runs on its connection's worker (consecutive connections are dealt to
    # both workers), and each touches a key of the other worker
    spin_a = "while true do redis.call('get', ARGV[1]); redis.call('get', ARGV[2]) end"
    spin_b = "for i = 1, 30000000 do end; " + spin_a
    with srv.raw(timeout=10) as a, srv.raw(timeout=10) as b:
        b.send(h.encode("EVAL", spin_b, "0", K0, K1))
        time.sleep(0.05)
        a.send(h.encode("EVAL", spin_a, "0", K0, K1))
        time.sleep(1.0)
        with srv.raw() as k:
            assert k.raw("SCRIPT", "KILL") == b"+OK\r\n"
        for r in (a.read()[0], b.read()[0]):
            assert r.startswith(b"-ERR Script killed by user with SCRIPT KILL..."), r
    with srv.raw() as k:
        assert k.call("SET", K0, "1") == "OK"
        assert k.call("EVAL", "return redis.call('incr', ARGV[1])", "1", K1, K0) == 2


def test_standalone_scripts_over_keys_of_both_workers(servers):
    """Without cluster mode a script may touch any key: the same replies as redis-server."""
    script = ("redis.call('set', ARGV[1], 'a'); redis.call('append', ARGV[2], 'b');"
              " return {redis.call('get', ARGV[1]), redis.call('get', ARGV[2]), redis.call('incr', KEYS[1])}")
    got = []
    for kind in ("shoal", "redis"):
        port = h.free_port()
        args = ["--port", str(port), "--bind", "127.0.0.1", "--save", "", "--cluster-enabled", "no"]
        if kind == "shoal":
            srv = servers.shoal(base_args=False, port=port, extra_args=args + WORKERS)
            h.spread_connections(srv)
        else:
            srv = servers.redis(base_args=False, port=port, extra_args=args + ["--daemonize", "no"])
        out = []
        for _ in range(4):
            with srv.raw() as c:
                out.append(c.raw("EVAL", script, "1", "cnt", K0, K1))
                out.append(c.raw("EVAL", script, "0", K1, K0))
        got.append(out)
    assert got[0] == got[1]


def test_standalone_cross_scripts_with_calls_over_several_workers(servers):
    """Standalone, 3 workers: cross-worker scripts (keyless and declared) beside MSETs and
    transactions over keys of several workers (xcmd.c's barriers) and saves: no hang, every
    update counted."""
    port = h.free_port()
    args = ["--port", str(port), "--bind", "127.0.0.1", "--save", "", "--cluster-enabled", "no",
            "--worker-threads", "3", "--enable-debug-command", "yes"]
    srv = servers.shoal(base_args=False, port=port, extra_args=args)
    h.spread_connections(srv)
    keys = [_key_on_of(w, 3, "s:") for w in range(3)]
    rounds, errors = 100, []

    def scripter(n):
        with srv.raw(timeout=30) as c:
            for j in range(rounds):
                r = c.call("EVAL", "for i = 1, #KEYS do redis.call('incr', KEYS[i]) end;"
                           " for i = 1, #ARGV do redis.call('incr', ARGV[i]) end; return 1",
                           "1" if n % 2 else "0", *(keys[n % 3:] + keys[:n % 3]))
                if r != 1:
                    errors.append(r)

    def other(n):
        with srv.raw(timeout=30) as c:
            for j in range(rounds):
                r = c.call("MSET", f"m{n}a", j, f"m{n}b", j, f"m{n}c", j)
                if r != "OK":
                    errors.append(r)
                c.call("MULTI")
                for k in keys:
                    c.call("INCRBY", k + "x", 1)
                r = c.call("EXEC")
                if not isinstance(r, list) or len(r) != len(keys):
                    errors.append(r)

    _run_all(srv, [threading.Thread(target=scripter, args=(n,)) for n in range(4)] +
             [threading.Thread(target=other, args=(n,)) for n in range(2)])
    assert errors == []
    with srv.raw() as c:
        for k in keys:
            assert c.call("GET", k) == str(4 * rounds).encode()
            assert c.call("GET", k + "x") == str(2 * rounds).encode()


def _key_on_of(worker, nworkers, prefix):
    return next(k for k in (f"{prefix}{i}" for i in range(10000)) if _worker_of(k, nworkers) == worker)
