"""SCRIPT DEBUG, the Lua debugger (issue 15): `redis-cli --ldb` and `--ldb-sync-mode`
sessions against our node and against redis-server 7.0.15 give the same transcript.

What it is for: the same redis-cli session (the debugger's commands fed on stdin) run
against both servers, stdout compared after replacing only what must differ (the
addresses of Lua functions and tables); then the data: a forked session (--ldb) leaves
the dataset as it was, a synchronous one (--ldb-sync-mode) keeps the writes. Also
SCRIPT DEBUG's errors, EVALSHA in debug mode, and sessions whose keys another worker
of our node keeps (the client moves there, or reaches them through the node's session).

What it must never do: weaken an expectation to match our node; the reference server is
the contract.
"""
import hashlib
import os
import re
import subprocess
import time

import helpers as h
import replhelpers as rh
import tlshelpers as t

SCRIPT = """local a = redis.call('set', KEYS[1], ARGV[1])
local t = {1, 2, 'x', {y = 3}}
redis.debug('hello', a, t, 1.5)
local n = redis.call('incr', KEYS[2])
redis.breakpoint()
local b = redis.call('get', KEYS[1])
local big = string.rep('z', 300)
redis.pcall('nosuchcommand')
return {b, n}
"""

# Every command of the debugger once (and a few twice), in the order a user might.
STEPS = ["help", "s", "p", "p a", "p KEYS", "p ARGV", "p nosuch", "l", "l 3 1", "w",
         "b 6", "b 0", "b 6 8", "b", "b -6", "b x", "b 99", "t", "e 1 + 1", "e local q = 5",
         "e {1,2,{a=1}}", 'e error("boom")', "r get k1", "r hgetall nosuch", "r", "frob",
         "c", "p", "n", "n", "n", "p big", "m", "m 70", "p big", "m 0", "p big", "c"]


def _servers(servers, workers=1):
    shoal = servers.shoal(base_args="standalone", extra_args=["--worker-threads", str(workers)])
    ref = servers.redis(base_args="standalone")
    return shoal, ref


def _ldb(srv, tmp_path, script, keys=(), args=(), steps=(), sync=False, tls=()):
    f = tmp_path / "script.lua"
    f.write_text(script)
    port = getattr(srv, "tls_port", srv.port) if tls else srv.port
    argv = [h.REDIS_CLI, "-h", "127.0.0.1", "-p", str(port), *tls, "--ldb-sync-mode" if sync else "--ldb",
            "--eval", str(f), *keys]
    if args:
        argv += [",", *args]
    env = dict(os.environ, TERM="dumb")
    r = subprocess.run(argv, input="".join(s + "\n" for s in steps), capture_output=True, text=True,
                       timeout=20, env=env)
    return re.sub(r"@0x[0-9a-f]+", "@ADDR", r.stdout) + r.stderr


def _both(shoal, ref, tmp_path, *a, **kw):
    got = _ldb(shoal, tmp_path, *a, **kw)
    want = _ldb(ref, tmp_path, *a, **kw)
    assert got == want, f"shoal:\n{got}\nredis-server:\n{want}"
    return got


def _wait_value(srv, key, want):
    """The value of key once the session's end reached the server (redis-cli leaves first)."""
    def ok():
        with srv.raw() as c:
            return c.call("GET", key) == want
    h.wait_until(ok, 5, what=f"{key} = {want!r} on {srv.kind}")


def test_forked_session_as_redis_and_rolled_back(servers, tmp_path):
    shoal, ref = _servers(servers)
    out = _both(shoal, ref, tmp_path, SCRIPT, ("k1", "k2"), ("v1",), STEPS)
    assert "* Stopped at 6, stop reason = redis.breakpoint() called" in out
    assert "<hint> The above reply was trimmed. Use 'maxlen 0' to disable trimming." in out
    assert "(Lua debugging session ended -- dataset changes rolled back)" in out
    for srv in (shoal, ref):
        with srv.raw() as c:
            assert c.call("EXISTS", "k1", "k2") == 0
            # the child compiled it: the parent's cache never got it
            assert c.call("SCRIPT", "EXISTS", hashlib.sha1(SCRIPT.encode()).hexdigest()) == [0]


def test_sync_session_as_redis_keeps_writes(servers, tmp_path):
    shoal, ref = _servers(servers)
    out = _both(shoal, ref, tmp_path, SCRIPT, ("k1", "k2"), ("v1",), ["s", "r set k3 x", "c", "c"], sync=True)
    assert "(Lua debugging session ended)" in out
    for srv in (shoal, ref):
        _wait_value(srv, "k1", b"v1")
        with srv.raw() as c:
            assert c.call("GET", "k2") == b"1"
            assert c.call("GET", "k3") == b"x"


def test_abort_and_a_script_that_does_not_compile(servers, tmp_path):
    shoal, ref = _servers(servers)
    out = _both(shoal, ref, tmp_path, SCRIPT, ("k1", "k2"), ("v1",), ["s", "s", "a"], sync=True)
    assert "script aborted for user request" in out
    for srv in (shoal, ref):
        _wait_value(srv, "k1", b"v1")          # sync: what ran before the abort stays
        with srv.raw() as c:
            assert c.call("GET", "k2") is None
    out = _both(shoal, ref, tmp_path, "return +", (), (), ["s"])
    assert "Eval debugging session can't start" in out
    _both(shoal, ref, tmp_path, "return 1", ("a", "b", "c"), (), ["c"])   # keys of several workers


def test_script_debug_errors_as_redis(servers):
    shoal, ref = _servers(servers)
    got = []
    for srv in (shoal, ref):
        out = []
        with srv.raw() as c:
            out.append(c.raw("SCRIPT", "DEBUG", "maybe"))
            out.append(c.raw("SCRIPT", "DEBUG"))
            out.append(c.raw("SCRIPT", "DEBUG", "yes", "no"))
            out.append(c.raw("MULTI"))
            out.append(c.raw("SCRIPT", "DEBUG", "yes"))
            out.append(c.raw("EXEC"))
            c.send(h.encode("PING") + h.encode("SCRIPT", "DEBUG", "yes"))
            out.append(c.read()[0] + c.read()[0])
            out.append(c.raw("SCRIPT", "DEBUG", "no"))
            out.append(c.raw("SCRIPT", "DEBUG", "sync"))
            out.append(c.raw("EVALSHA", "0" * 40, "0"))
            out.append(c.raw("EVALSHA", "abc", "0"))
            out.append(c.raw("SCRIPT", "DEBUG", "NO"))
            out.append(c.raw("EVAL", "return redis.breakpoint()", "0"))
            out.append(c.raw("EVAL", "return redis.debug('x')", "0"))
            out.append(c.raw("COMMAND", "INFO", "script|debug"))
            out.append(c.raw("COMMAND", "DOCS", "script|debug"))
        got.append(out)
    assert got[0] == got[1]


def test_keys_of_another_worker(servers, tmp_path):
    """Two workers: the keys' worker is not the client's (it moves), or the keys are on
    both (the script runs on the client's worker and reaches them through the session)."""
    shoal, ref = _servers(servers, workers=2)
    script = "redis.call('set', KEYS[1], ARGV[1])\nredis.call('set', KEYS[2], ARGV[1])\nreturn redis.call('mget', KEYS[1], KEYS[2])\n"
    for keys in (("a", "{a}b"), ("b", "{b}c"), ("a", "b"), ("b", "a")):
        _both(shoal, ref, tmp_path, script, keys, ("v",), ["s", "p", "c"], sync=True)
        for srv in (shoal, ref):
            _wait_value(srv, keys[1], b"v")
        _both(shoal, ref, tmp_path, script, keys, ("w",), ["s", "s", "r get " + keys[1], "c"])
        for srv in (shoal, ref):
            with srv.raw() as c:
                assert c.call("MGET", *keys) == [b"v", b"v"]


def test_debugger_protocol_as_redis(servers):
    """Redis's own unit/scripting cases "Test scripting debug protocol parsing" and "... lua
    stack overflow", reply bytes compared: arguments with NUL bytes are unknown commands, a
    `redis` command of 100 arguments calls an unknown command; then the session's end."""
    shoal, ref = _servers(servers)
    got = []
    for srv in (shoal, ref):
        out = []
        with srv.raw() as c:
            out.append(c.raw("SCRIPT", "DEBUG", "SYNC"))
            out.append(c.raw("EVAL", "redis.call('set', 'x', '1')\nreturn 'hello'", "0"))
            for arg in (b"hello\0world", b"hello\0", b"\0hello", b"\0hello\0", b"s\0x"):
                out.append(c.raw(arg))
            c.send(b"*101\r\n$5\r\nredis\r\n" + b"$4\r\ntest\r\n" * 100)
            out.append(c.read()[0])
            c.send(b"junk*1\r\n$1\r\nc\r\n")           # 7.0.15 skips to the '*'
            out.append(c.read()[0])                     # <endsession>
            out.append(c.read()[0])                     # the EVAL's reply
            out.append(c.exchange(b"PING\r\n", idle=0.5))   # closed after it
        with srv.raw() as c:
            out.append(c.raw("GET", "x"))
            out.append(c.raw("SCRIPT", "DEBUG", "SYNC"))
            out.append(c.raw("EVAL", "return 1", "0"))
            out.append(c.exchange(b"*1\r\n$0\r\n\r\n", idle=0.5))   # a protocol error ends the script
        got.append(out)
    assert got[0] == got[1]


def test_forked_changes_reach_no_replica_nor_aof(servers, tmp_path):
    """A forked session's writes (its declared keys, and an undeclared key another worker
    keeps) reach neither the master's dataset, nor its replica, nor its AOF; a synchronous
    session's do, as any EVAL's."""
    master = servers.shoal(base_args="standalone", extra_args=["--worker-threads", "2", "--appendonly", "yes",
                                                                "--appendfsync", "always"])
    replica = servers.shoal(base_args="standalone", extra_args=["--worker-threads", "2"])
    with replica.raw() as c:
        assert c.call("REPLICAOF", "127.0.0.1", str(master.port)) == "OK"
    h.wait_until(lambda: h.info_dict(replica.raw().call("INFO", "replication")).get("master_link_status") == "up",
                 30, what="the replica's link up")
    script = "redis.call('set', KEYS[1], ARGV[1])\nredis.call('set', 'b' .. KEYS[1], ARGV[1])\nreturn 1\n"
    for key in ("a", "b"):        # keys of each worker; 'b' .. key: the other worker's, undeclared
        out = _ldb(master, tmp_path, script, (f"forked{key}",), ("x",), ["s", "s", "c"])
        assert "(Lua debugging session ended -- dataset changes rolled back)" in out, out
    out = _ldb(master, tmp_path, script, ("synced",), ("y",), ["s", "c"], sync=True)
    assert "(Lua debugging session ended)" in out, out
    _wait_value(master, "bsynced", b"y")
    with master.raw(timeout=10) as c:
        assert c.call("KEYS", "*forked*") == []
    # the sessions wrote on redis-cli's connections: a WAIT on this one would cover none of
    # their writes (it answers at once, as 7.0.15's); the replica serves all the master's
    # stream once its offset reached the master's
    rh.wait_offsets_equal(master, replica)
    with replica.raw() as c:
        assert sorted(c.call("KEYS", "*")) == [b"bsynced", b"synced"]
    aof = b"".join(p.read_bytes() for p in (master.dir / "appendonlydir").iterdir())
    assert b"synced" in aof and b"forked" not in aof


RESP3_SCRIPT = """redis.setresp(3)
redis.call('hset', KEYS[1], 'f', '1')
redis.call('zadd', KEYS[2], '1.5', 'm')
local m = redis.call('hgetall', KEYS[1])
local s = redis.call('zscore', KEYS[2], 'm')
local e = redis.pcall('incr', KEYS[1])
local n = redis.call('get', 'nosuch')
local x = redis.call('exists', KEYS[1], KEYS[2])
redis.call('sadd', KEYS[3], 'a')
local set = redis.call('smembers', KEYS[3])
local args = redis.call('mget', 'a', 'b', 'c', 'd', 'e', 'f', 'g', 'h', 'i', 'j', 'k', 'l')
return {m, s, e, n, x, set}
"""


def test_replies_errors_and_timeout_as_redis(servers, tmp_path):
    """What stepping logs of RESP3 replies (maps, sets, doubles, nulls), of an error reply,
    of a call of 12 arguments; a script with a shebang; the stop of a script that runs past
    busy-reply-threshold; a session in cluster mode with keys on both workers."""
    shoal, ref = _servers(servers, workers=2)
    steps = ["s"] * 12 + ["p", "c"]
    _both(shoal, ref, tmp_path, RESP3_SCRIPT, ("{h}1", "{h}2", "{h}3"), (), steps, sync=True)
    _both(shoal, ref, tmp_path, "#!lua flags=no-writes\nlocal v = redis.call('get', KEYS[1])\nreturn v\n",
          ("{h}1",), (), ["l", "s", "p", "c"])
    for srv in (shoal, ref):
        with srv.raw() as c:
            assert c.call("CONFIG", "SET", "busy-reply-threshold", "200") == "OK"
    _both(shoal, ref, tmp_path, "local i = 0\nwhile true do\n  i = i + 1\nend\n", (), (), ["c", "a"], sync=True)
    shoal, ref = h.single_node(servers, "shoal", workers=2), h.single_node(servers, "redis")
    _both(shoal, ref, tmp_path, SCRIPT, ("{x}1", "{x}2"), ("v",), ["s", "s", "c", "s", "c"])
    _both(shoal, ref, tmp_path, SCRIPT, ("{y}1", "{y}2"), ("v",), ["c", "c"], sync=True)


def test_sessions_over_tls(servers, tmp_path):
    """The session's reads and writes go through the connection's TLS session. A forked
    session's parent closes its copy without a close_notify, so the child's goes on (with
    redis-server 7.0.15 the forked session over TLS breaks off, at a moment that varies: not
    compared)."""
    pki = t.make_pki(tmp_path / "pki")
    nodes = []
    for kind in ("shoal", "redis"):
        tp = h.free_port()
        extra = t.server_args(pki, tp)
        srv = servers.shoal(base_args="standalone", extra_args=extra) if kind == "shoal" \
            else servers.redis(base_args="standalone", extra_args=extra)
        srv.tls_port = tp
        nodes.append(srv)
    tls = t.cli_args(pki)
    steps = ["s", "p", "c", "c"]
    out = _ldb(nodes[0], tmp_path, SCRIPT, ("k1", "k2"), ("v1",), steps, tls=tls)
    # (redis-cli may die of SIGPIPE writing to the closed TLS connection before it prints
    # the session's end: the EVAL's reply is the end that counts)
    assert "<value> a = {[\"ok\"]=\"OK\"}" in out and '1) "v1"\n2) (integer) 1' in out, out
    with nodes[0].raw() as c:
        assert c.call("EXISTS", "k1", "k2") == 0
    out = _both(*nodes, tmp_path, SCRIPT, ("k1", "k2"), ("v1",), ["c", "r get k1", "c"], sync=True, tls=tls)
    assert "(Lua debugging session ended)" in out


def test_replies_owed_before_the_session_go_first(servers):
    """A pipelined command before a debug mode EVAL, for keys another worker keeps: the EVAL
    waits until its reply is out, then the session starts (redis-server writes the session's
    first lines ahead of replies still in its buffer; we keep the order of the pipeline)."""
    shoal = servers.shoal(base_args="standalone", extra_args=["--worker-threads", "2"])
    with shoal.raw() as c:
        assert c.call("MSET", "a", "1", "b", "2") == "OK"
        assert c.call("SCRIPT", "DEBUG", "SYNC") == "OK"
        c.send(h.encode("GET", "a") + h.encode("GET", "b") + h.encode("EVAL", "return redis.call('get', KEYS[1])", "1", "a"))
        assert c.read()[1] == b"1" and c.read()[1] == b"2"
        assert c.read()[1] == ["* Stopped at 1, stop reason = step over", "-> 1   return redis.call('get', KEYS[1])"]
        assert c.call("c") == ["<endsession>"]
        assert c.read()[1] == b"1"


def test_eval_ro_session_as_redis(servers):
    """EVAL_RO runs in a session too; its write is refused as without the debugger."""
    shoal, ref = _servers(servers)
    got = []
    for srv in (shoal, ref):
        with srv.raw() as c:
            out = [c.raw("SCRIPT", "DEBUG", "SYNC"),
                   c.raw("EVAL_RO", "local x = redis.pcall('set', KEYS[1], 'v')\nreturn redis.call('set', KEYS[1], 'v')",
                         "1", "k"),
                   c.raw("s"), c.raw("p"), c.raw("s")]
            out.append(c.read()[0])
            out.append(c.exchange(b"PING\r\n", idle=0.5))
        got.append(out)
    assert got[0] == got[1]
    assert b"Write commands are not allowed from read-only scripts" in got[0][5]


def test_call_error_tables_as_redis(servers):
    """What a script (and the debugger's print) sees of redis.pcall's error tables: 7.0.15
    adds ignore_error_stats_update = true to a refused call's and to an error reply's, not to
    an argument error's or redis.error_reply's."""
    shoal, ref = _servers(servers)
    script = """redis.call('set', KEYS[1], 'x')
local out = {}
for _, e in ipairs({redis.pcall('nosuch'), redis.pcall('get'), redis.pcall('incr', KEYS[1]),
                    redis.pcall('get', {}), redis.error_reply('my')}) do
  local keys = {}
  for k, v in pairs(e) do keys[#keys + 1] = k .. '=' .. tostring(v) end
  out[#out + 1] = table.concat(keys, ',')
end
out[#out + 1] = cjson.encode(redis.pcall('incr', KEYS[1]))
return out
"""
    got = []
    for srv in (shoal, ref):
        with srv.raw() as c:
            got.append(c.raw("EVAL", script, "1", "k"))
    assert got[0] == got[1], got
    assert b"ignore_error_stats_update=true" in got[0]


def test_sync_session_blocks_only_its_worker(servers):
    """SYNC: the session's worker (the one keeping 'a') waits for the debugger; a client
    of the other worker goes on with that worker's keys ('b') meanwhile."""
    shoal = servers.shoal(base_args="standalone", extra_args=["--worker-threads", "2"])
    with shoal.raw() as dbg, shoal.raw() as other:
        assert other.call("MSET", "a", "1", "b", "2") == "OK"
        assert dbg.call("SCRIPT", "DEBUG", "SYNC") == "OK"
        stop = dbg.call("EVAL", "return redis.call('incr', KEYS[1])", "1", "a")
        assert stop[0] == "* Stopped at 1, stop reason = step over", stop
        assert other.call("PING") == "PONG"
        assert other.call("INCR", "b") == 3
        other.send(h.encode("GET", "a"))              # waits for the session's worker
        assert dbg.call("c") == ["<endsession>"]
        assert dbg.read()[1] == 2
        assert other.read()[1] == b"2"
