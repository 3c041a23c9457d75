"""Shebang flags of EVAL scripts on a replica (issue 15): what a READONLY client may run there,
as 7.0.15's scriptFlagsToCmdFlags makes of the flags (no-writes: a read; otherwise a write;
no shebang: EVAL's own table flags). (A stale replica, replica-serve-stale-data no, is not
built: shoal has no MASTERDOWN at all yet, so allow-stale changes nothing.)

What it must never do: weaken an expectation to match our node; the reference server is
the contract (each pair's replies are compared with the redis-server pair's).
"""
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
        master, replica, _ = rh.make_pair(servers, kind, kind)
        with master.raw() as c:
            assert c.call("SET", "{t}k", "v") == "OK"
            assert c.call("WAIT", "1", "5000") == 1
        got.append(_replies(replica, master.port))
    assert got[0] == got[1]
    assert got[0][0] == b"$1\r\nv\r\n"
