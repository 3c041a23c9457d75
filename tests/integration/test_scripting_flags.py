"""Shebang flags of EVAL scripts on a replica (issue 15): what a READONLY client may run there,
as 7.0.15's scriptFlagsToCmdFlags makes of the flags (no-writes: a read; otherwise a write;
no shebang: EVAL's own table flags). And a stale replica (replica-serve-stale-data no, its
master gone): scripts without allow-stale get -MASTERDOWN, allow-stale ones run and their calls
of commands without the stale flag fail.

What it must never do: weaken an expectation to match our node; the reference server is
the contract (each pair's replies are compared with the redis-server pair's).
"""
import os
import signal

import helpers as h
import replhelpers as rh

SCRIPTS = [
    ("EVAL", "#!lua flags=no-writes\nreturn redis.call('get', KEYS[1])", "1", "{t}k"),
    ("EVAL", "#!lua\nreturn redis.call('get', KEYS[1])", "1", "{t}k"),
    ("EVAL", "return redis.call('get', KEYS[1])", "1", "{t}k"),
    ("EVAL_RO", "return redis.call('get', KEYS[1])", "1", "{t}k"),
    ("EVAL_RO", "#!lua\nreturn redis.call('get', KEYS[1])", "1", "{t}k"),
    ("EVAL", "#!lua flags=no-writes\nreturn 1", "0"),
    ("EVAL", "#!lua\nreturn 1", "0"),
    ("EVAL", "return 1", "0"),
    ("EVAL", "#!lua flags=no-writes,allow-stale\nreturn 1", "0"),
    ("EVAL", "#!lua flags=allow-stale\nreturn 1", "0"),
    ("EVAL", "#!lua flags=no-writes\nreturn redis.call('set', KEYS[1], 1)", "1", "{t}k"),
    ("EVAL", "return redis.call('set', KEYS[1], 1)", "1", "{t}k"),
    ("EVAL", "return redis.call('set', 'x', 1)", "0"),
    ("EVAL", "#!lua flags=no-writes,allow-stale\nreturn redis.call('get', KEYS[1])", "1", "{t}k"),
]


def _pair(servers, kind):
    """A master owning every slot with {t}k set, and its replica, which has it."""
    master, replica, _ = rh.make_pair(servers, kind, kind)
    with master.raw() as c:
        assert c.call("SET", "{t}k", "v") == "OK"
        assert c.call("WAIT", "1", "5000") == 1
    return master, replica


def _replies(replica, port):
    with replica.raw() as c:
        assert c.call("READONLY") == "OK"
        return [c.raw(*q).replace(str(port).encode(), b"PORT") for q in SCRIPTS]


def test_shebang_flags_on_a_replica_as_redis(servers):
    """A READONLY client of a replica: no-writes scripts (and EVAL_RO, and scripts without a
    shebang that only read) run there; a script with a shebang lacking no-writes is a write
    (MOVED with keys, READONLY without), as redis-server answers."""
    got = []
    for kind in ("shoal", "redis"):
        master, replica = _pair(servers, kind)
        got.append(_replies(replica, master.port))
    assert got[0] == got[1]
    assert got[0][0] == b"$1\r\nv\r\n"


def test_shebang_flags_on_a_stale_replica_as_redis(servers):
    got = []
    for kind in ("shoal", "redis"):
        master, replica = _pair(servers, kind)
        with replica.raw() as c:
            assert c.call("CONFIG", "SET", "replica-serve-stale-data", "no") == "OK"
            live = [c.raw("GET", "{t}k").replace(str(master.port).encode(), b"PORT"), c.raw("PING")]
        master.stop()
        h.wait_until(lambda: not rh.link_up(replica), 20, what="the replica to lose its master")
        with replica.raw() as c:
            stale = [c.raw("READONLY"), c.raw("GET", "{t}k"), c.raw("PING"), c.raw("INFO", "nosuch")]
        got.append((live, stale, _replies(replica, master.port)))
    assert got[0] == got[1]
    assert got[0][1][1].startswith(b"-MASTERDOWN")


def _same_standalone(servers, queries):
    """Sends queries in order on one connection to a standalone shoal-node and to a standalone
    redis-server 7.0.15; each reply must be the same."""
    out = []
    for srv in (servers.shoal(base_args="standalone"), servers.redis(base_args="standalone")):
        with srv.raw() as c:
            out.append([c.raw(*q) for q in queries])
    for q, got, want in zip(queries, out[0], out[1]):
        assert got == want, (q, got, want)


MIN_REPLICAS = [
    ("SET", "x", "v"), ("CONFIG", "SET", "min-replicas-to-write", "1"),
    ("SET", "y", "1"),                      # at once: 7.0.15 reads the setting at each write
    ("EVAL", "#!lua flags=no-writes\nreturn redis.call('get', KEYS[1])", "1", "x"),
    ("EVAL", "return redis.call('get', KEYS[1])", "1", "x"),
    ("EVAL", "#!lua\nreturn redis.call('get', KEYS[1])", "1", "x"),
    ("EVAL", "return redis.call('set', KEYS[1], 1)", "1", "x"),
    ("EVAL", "local t = redis.pcall('set', KEYS[1], 1) return t['err']", "1", "x"),
    ("EVAL", "return {redis.call('get', KEYS[1]), redis.pcall('incr', KEYS[1])['err']}", "1", "x"),
    ("EVAL_RO", "return redis.call('get', KEYS[1])", "1", "x"),
    ("FUNCTION", "LOAD", "#!lua name=lib\n"
     "redis.register_function('w', function(k) return redis.call('get', k[1]) end)\n"
     "redis.register_function{function_name='r', callback=function(k) return redis.call('get', k[1]) end,"
     " flags={'no-writes'}}"),
    ("FCALL", "w", "1", "x"), ("FCALL", "r", "1", "x"), ("FCALL_RO", "r", "1", "x"),
    ("GET", "x"), ("CONFIG", "SET", "min-replicas-to-write", "0"), ("SET", "y", "1"),
    ("EVAL", "return redis.call('set', KEYS[1], 1)", "1", "x"), ("GET", "x"),
]


def test_min_replicas_to_write_reaches_scripts(servers):
    """unit/scripting 'not enough good replicas': with min-replicas-to-write unmet, a script
    whose flags make it a write (a shebang without no-writes, a function without it) is
    refused before it runs, and a write called from a flagless script fails with NOREPLICAS;
    reads run. The setting counts from its CONFIG SET on."""
    _same_standalone(servers, MIN_REPLICAS)


MIN_REPLICAS_NO_LAG = [
    ("CONFIG", "SET", "min-replicas-max-lag", "0"), ("CONFIG", "SET", "min-replicas-to-write", "1"),
    ("SET", "y", "1"), ("EVAL", "return redis.call('set', KEYS[1], 1)", "1", "x"),
    ("EVAL", "#!lua\nreturn redis.call('set', KEYS[1], 2)", "1", "x"),
    ("CONFIG", "SET", "min-replicas-max-lag", "10"),
    ("SET", "y", "1"), ("EVAL", "return redis.call('set', KEYS[1], 1)", "1", "x"),
    ("CONFIG", "SET", "min-replicas-max-lag", "0"), ("SET", "y", "2"), ("GET", "y"),
]


def test_min_replicas_max_lag_0_turns_the_check_off(servers):
    """7.0.15's checkGoodReplicasStatus lets every write through while min-replicas-max-lag
    is 0, whatever min-replicas-to-write says; each CONFIG SET of either counts at once."""
    _same_standalone(servers, MIN_REPLICAS_NO_LAG)


def _children(pid):
    out = []
    for t in os.listdir(f"/proc/{pid}/task"):
        try:
            out += [int(x) for x in open(f"/proc/{pid}/task/{t}/children").read().split()]
        except OSError:
            pass
    return out


MISCONF_QUERIES = [
    ("GET", "x"), ("SET", "x", "y"), ("PING",),
    ("EVAL", "return redis.call('set','x',1)", "1", "x"),
    ("EVAL", "return redis.call('get','x')", "1", "x"),
    ("EVAL", "local t = redis.pcall('set', KEYS[1], 1) return t['err']", "1", "x"),
    ("EVAL", "return {redis.call('get', KEYS[1]), redis.pcall('incr', KEYS[1])['err']}", "1", "x"),
    ("EVAL", "#!lua\nreturn redis.call('set','x',1)", "1", "x"),
    ("EVAL", "#!lua flags=no-writes\nreturn redis.call('get','x')", "1", "x"),
    ("EVAL_RO", "return redis.call('get','x')", "1", "x"),
    ("FCALL", "w", "1", "x"), ("FCALL", "r", "1", "x"), ("FCALL_RO", "r", "1", "x"),
    ("GET", "x"),
]


def _after_failed_bgsave(srv):
    """integration/rdb 'failed bgsave prevents writes': a BGSAVE whose child is killed
    leaves writes refused with MISCONF (save points set, stop-writes-on-bgsave-error yes),
    calls of writes from scripts included; reads run."""
    with srv.raw(timeout=20) as c:
        assert c.call("FUNCTION", "LOAD", "#!lua name=lib\n"
                      "redis.register_function('w', function(k) return redis.call('set', k[1], 2) end)\n"
                      "redis.register_function{function_name='r', callback=function(k) "
                      "return redis.call('get', k[1]) end, flags={'no-writes'}}") == b"lib"
        assert c.call("DEBUG", "POPULATE", "1000") == "OK"
        assert c.call("SET", "x", "x") == "OK"
        assert c.call("CONFIG", "SET", "rdb-key-save-delay", "10000000") == "OK"
        assert c.call("BGSAVE") == "Background saving started"
        kids = h.wait_until(lambda: _children(srv.pid), 10, what="the BGSAVE child")
        for k in kids:
            os.kill(k, signal.SIGKILL)
        h.wait_until(lambda: h.info_dict(c.call("INFO", "persistence").decode())["rdb_bgsave_in_progress"] == "0",
                     20, what="the BGSAVE ends")
        out = [c.raw(*q) for q in MISCONF_QUERIES]
        assert c.call("CONFIG", "SET", "rdb-key-save-delay", "0") == "OK"
        assert c.call("BGSAVE") == "Background saving started"
        h.wait_until(lambda: h.info_dict(c.call("INFO", "persistence").decode())["rdb_bgsave_in_progress"] == "0",
                     20, what="the second BGSAVE ends")
        out += [c.raw("SET", "x", "y"), c.raw("EVAL", "return redis.call('set','x',3)", "1", "x")]
    return out


def test_failed_bgsave_refuses_writes_from_scripts(servers):
    args = ["--enable-debug-command", "yes", "--save", "3600 1"]
    node = servers.shoal(base_args="standalone", extra_args=args)
    ref = servers.redis(base_args="standalone", extra_args=args)
    want = _after_failed_bgsave(ref)
    assert want[1].startswith(b"-MISCONF") and want[3].startswith(b"-MISCONF"), want
    got = _after_failed_bgsave(node)
    for q, g, w in zip(MISCONF_QUERIES + [("SET",), ("EVAL",)], got, want):
        assert g == w, (q, g, w)
