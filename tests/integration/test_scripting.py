"""EVAL scripting (issue 15): EVAL/EVALSHA/EVAL_RO/EVALSHA_RO, SCRIPT LOAD/EXISTS/FLUSH,
the redis.* API, the Lua <-> RESP conversions, the sandbox and the error texts.

What it is for: every case sends the same commands to our node and to a real
redis-server 7.0.15 (both one-node clusters owning every slot) and compares the
reply bytes; a few cases also check where a script runs (keys of several
workers) and what it propagates (its writes, wrapped in MULTI/EXEC, in the AOF).

What it must never do: weaken an expectation to match our node; the reference
server is the contract.
"""
import hashlib
import re
import time

import pytest

import helpers as h

OTHER = next(k for k in (f"o{i}" for i in range(10000))
             if h.key_slot(k) != h.key_slot("a") and h.key_slot(k) % 4 == h.key_slot("a") % 4)
SET_INCR = "redis.call('set', KEYS[1], ARGV[1]); return redis.call('incr', KEYS[1])"

# (name, setup commands, command whose reply bytes are compared)
CASES = [
    ("int", [], ("EVAL", "return 42", "0")),
    ("float_truncated", [], ("EVAL", "return 3.99", "0")),
    ("negative_float", [], ("EVAL", "return -3.99", "0")),
    ("string", [], ("EVAL", "return 'hello'", "0")),
    ("true", [], ("EVAL", "return true", "0")),
    ("false", [], ("EVAL", "return false", "0")),
    ("nil", [], ("EVAL", "return nil", "0")),
    ("no_return", [], ("EVAL", "local a = 1", "0")),
    ("array_stops_at_nil", [], ("EVAL", "return {1, 2, 3.7, 'a', nil, 4}", "0")),
    ("nested", [], ("EVAL", "return {1, {2, {'x', false, true}}, {}}", "0")),
    ("hash_part_ignored", [], ("EVAL", "return {1, foo = 'bar', 2}", "0")),
    ("err_table", [], ("EVAL", "return {err = 'My Error'}", "0")),
    ("err_table_code", [], ("EVAL", "return {err = 'WRONGTYPE stuff'}", "0")),
    ("ok_table", [], ("EVAL", "return {ok = 'FINE'}", "0")),
    ("ok_crlf", [], ("EVAL", "return {ok = 'a\\r\\nb'}", "0")),
    ("error_reply", [], ("EVAL", "return redis.error_reply('My Error')", "0")),
    ("error_reply_dash", [], ("EVAL", "return redis.error_reply('-CODE my error')", "0")),
    ("error_reply_bad_args", [], ("EVAL", "return redis.error_reply(1, 2)", "0")),
    ("status_reply", [], ("EVAL", "return redis.status_reply('FINE')", "0")),
    # an error inside an array is one element: the elements after it follow
    ("error_in_array", [], ("EVAL", "return {redis.error_reply('x'), 3}", "0")),
    ("errors_nested", [], ("EVAL", "return {1, {err = 'a'}, {ok = 'b'}, {2, redis.error_reply('y'), 4}, 5}", "0")),
    ("pcall_errors_in_array", [("SET", "{t}s", "abc")],
     ("EVAL", "return {redis.pcall('incr', KEYS[1]), redis.pcall('nosuch'), redis.call('get', KEYS[1])}", "1", "{t}s")),
    ("error_long", [], ("EVAL", "return {err = string.rep('e', 10000)}", "0")),
    ("keys_argv", [], ("EVAL", "return {KEYS[1], ARGV[1], ARGV[2], #KEYS, #ARGV}", "1", "{t}k", "a", "b")),
    ("set_incr", [], ("EVAL", SET_INCR, "1", "{t}k", "10")),
    ("call_reply_types", [("RPUSH", "{t}l", "a", "b"), ("SET", "{t}s", "v")],
     ("EVAL", "return {redis.call('get', KEYS[1]), redis.call('get', KEYS[2]), redis.call('lrange', KEYS[3], 0, -1),"
      " redis.call('set', KEYS[1], 'x'), redis.call('exists', KEYS[3])}", "3", "{t}s", "{t}none", "{t}l")),
    ("status_to_lua", [], ("EVAL", "local r = redis.call('set', KEYS[1], 'x'); return type(r) .. r['ok']", "1", "{t}k")),
    ("nil_bulk_to_false", [], ("EVAL", "return tostring(redis.call('get', KEYS[1]))", "1", "{t}k")),
    ("number_args", [], ("EVAL", "redis.call('set', KEYS[1], 3.5); redis.call('rpush', KEYS[2], 1e20, 0.1, -7);"
                         " return {redis.call('get', KEYS[1]), redis.call('lrange', KEYS[2], 0, -1)}", "2", "{t}a", "{t}b")),
    ("call_error_raises", [("SET", "{t}s", "abc")], ("EVAL", "return redis.call('incr', KEYS[1])", "1", "{t}s")),
    ("call_error_line", [("SET", "{t}s", "abc")], ("EVAL", "local x = 1\n\nreturn redis.call('incr', KEYS[1])", "1", "{t}s")),
    ("pcall_error_table", [("SET", "{t}s", "abc")], ("EVAL", "return redis.pcall('incr', KEYS[1])", "1", "{t}s")),
    ("pcall_error_fields", [("SET", "{t}s", "abc")],
     ("EVAL", "local e = redis.pcall('incr', KEYS[1]); return e['err']", "1", "{t}s")),
    ("wrongtype", [("RPUSH", "{t}l", "a")], ("EVAL", "return redis.call('get', KEYS[1])", "1", "{t}l")),
    ("unknown_command", [], ("EVAL", "return redis.call('nosuch')", "0")),
    ("wrong_arity", [], ("EVAL", "return redis.call('get', 'a', 'b')", "0")),
    ("no_args", [], ("EVAL", "return redis.call()", "0")),
    ("bad_arg_type", [], ("EVAL", "return redis.call({})", "0")),
    ("pcall_bad_arg_type", [], ("EVAL", "return redis.pcall('get', {})", "0")),
    ("noscript_command", [], ("EVAL", "return redis.call('eval', 'return 1', 0)", "0")),
    ("runtime_error", [], ("EVAL", "error('boom')", "0")),
    ("runtime_error_table", [], ("EVAL", "error({err = 'X boom'})", "0")),
    ("runtime_error_line3", [], ("EVAL", "local a = 1\nlocal b = 2\nreturn a + nil", "0")),
    ("compile_error", [], ("EVAL", "return ret(", "0")),
    ("numkeys_negative", [], ("EVAL", "return 1", "-1")),
    ("numkeys_too_many", [], ("EVAL", "return 1", "3", "a")),
    ("numkeys_not_int", [], ("EVAL", "return 1", "x")),
    ("evalsha_unknown", [], ("EVALSHA", "ffffffffffffffffffffffffffffffffffffffff", "0")),
    ("evalsha_short", [], ("EVALSHA", "abc", "0")),
    ("global_write", [], ("EVAL", "x = 1", "0")),
    ("global_read", [], ("EVAL", "return y", "0")),
    ("global_overwrite", [], ("EVAL", "redis = 1", "0")),
    ("library_write", [], ("EVAL", "string.x = 1", "0")),
    ("local_ok", [], ("EVAL", "local x = 5; return x", "0")),
    ("no_os", [], ("EVAL", "return os", "0")),
    ("no_io", [], ("EVAL", "return io", "0")),
    ("no_require", [], ("EVAL", "return require", "0")),
    ("no_loadfile", [], ("EVAL", "return loadfile", "0")),
    ("no_dofile", [], ("EVAL", "return dofile", "0")),
    ("no_print", [], ("EVAL", "print('hi') return 1", "0")),
    ("no_debug", [], ("EVAL", "return debug", "0")),
    ("libraries", [], ("EVAL", "return {type(string), type(math), type(table), type(string.format), type(loadstring)}", "0")),
    ("string_format", [], ("EVAL", "return string.format('%d-%s', 7, 'x')", "0")),
    ("tostring_number", [], ("EVAL", "return tostring(1/3)", "0")),
    ("sha1hex", [], ("EVAL", "return {redis.sha1hex(''), redis.sha1hex('abc')}", "0")),
    ("sha1hex_no_args", [], ("EVAL", "return redis.sha1hex()", "0")),
    ("version", [], ("EVAL", "return {redis.REDIS_VERSION, redis.REDIS_VERSION_NUM}", "0")),
    ("log_levels", [], ("EVAL", "return {redis.LOG_DEBUG, redis.LOG_VERBOSE, redis.LOG_NOTICE, redis.LOG_WARNING}", "0")),
    ("log", [], ("EVAL", "redis.log(redis.LOG_NOTICE, 'from', 'script'); return 1", "0")),
    ("log_one_arg", [], ("EVAL", "redis.log(redis.LOG_NOTICE)", "0")),
    ("log_bad_level", [], ("EVAL", "redis.log(9, 'x')", "0")),
    ("setresp_bad", [], ("EVAL", "redis.setresp(4)", "0")),
    ("setresp3_in_resp2", [("RPUSH", "{t}l", "a")],
     ("EVAL", "redis.setresp(3); return {redis.call('get', KEYS[1]), redis.call('lrange', KEYS[2], 0, -1)}",
      "2", "{t}none", "{t}l")),
    ("setresp3_hash", [("HSET", "{t}h", "f", "v")],
     ("EVAL", "redis.setresp(3); return redis.call('hgetall', KEYS[1])", "1", "{t}h")),
    ("double_table", [], ("EVAL", "return {double = 3.5}", "0")),
    ("eval_ro_write", [], ("EVAL_RO", "return redis.call('set', KEYS[1], 'x')", "1", "{t}k")),
    ("eval_ro_read", [("SET", "{t}k", "v")], ("EVAL_RO", "return redis.call('get', KEYS[1])", "1", "{t}k")),
    ("crossslot", [], ("EVAL", "return 1", "2", "a", "b")),
    ("undeclared_first_key", [], ("EVAL", "return redis.call('set', KEYS[1] .. 'x', 1)", "1", "{a}")),
    # a script without shebang may touch any slot of the node (allow-cross-slot-keys); OTHER is a key
    # of another slot that any worker count up to 4 keeps on the same worker as {a}
    ("declared_then_other_slot", [], ("EVAL", "redis.call('set', KEYS[1], 1); return redis.call('set', ARGV[1], 1)",
                                      "1", "{a}", OTHER)),
    ("undeclared_other_slot", [], ("EVAL", "return redis.call('set', ARGV[1], 1)", "1", "{a}", OTHER)),
    ("declared_same_slot", [], ("EVAL", "redis.call('set', '{a}x', 1); return redis.call('get', KEYS[1])", "1", "{a}y")),
    ("shebang_plain", [], ("EVAL", "#!lua\nreturn 1", "0")),
    ("shebang_no_cluster", [], ("EVAL", "#!lua flags=no-cluster\nreturn 1", "0")),
    ("shebang_no_writes_read", [("SET", "{t}k", "v")], ("EVAL", "#!lua flags=no-writes\nreturn redis.call('get', KEYS[1])", "1", "{t}k")),
    ("shebang_no_writes_write", [], ("EVAL", "#!lua flags=no-writes\nreturn redis.call('set', KEYS[1], 1)", "1", "{t}k")),
    ("shebang_ro_without_no_writes", [], ("EVAL_RO", "#!lua\nreturn 1", "0")),
    ("shebang_ro_no_writes", [], ("EVAL_RO", "#!lua flags=no-writes,allow-oom\nreturn 1", "0")),
    ("shebang_unknown_flag", [], ("EVAL", "#!lua flags=no-writes,bogus\nreturn 1", "0")),
    ("shebang_unknown_engine", [], ("EVAL", "#!python\nreturn 1", "0")),
    ("shebang_no_newline", [], ("EVAL", "#!lua", "0")),
    ("shebang_unknown_option", [], ("EVAL", "#!lua name=x\nreturn 1", "0")),
    ("shebang_keeps_line_numbers", [], ("EVAL", "#!lua\n\nerror('x')", "0")),
    ("shebang_cross_slot", [], ("EVAL", "#!lua\nredis.call('set', KEYS[1], 1); return redis.call('set', ARGV[1], 1)",
                                "1", "{a}", OTHER)),
    ("shebang_cross_slot_pcall", [], ("EVAL", "#!lua\nredis.call('set', KEYS[1], 1); return redis.pcall('set', ARGV[1], 1)",
                                      "1", "{a}", OTHER)),
    ("shebang_allow_cross_slot", [], ("EVAL", "#!lua flags=allow-cross-slot-keys\nredis.call('set', KEYS[1], 1);"
                                      " return redis.call('set', ARGV[1], 1)", "1", "{a}", OTHER)),
    ("script_load_bad_shebang", [], ("SCRIPT", "LOAD", "#!lua flags=nope\nreturn 1")),
    ("lua_pcall_of_call_error", [("SET", "{t}s", "abc")],
     ("EVAL", "return {pcall(function() return redis.call('incr', KEYS[1]) end)}", "1", "{t}s")),
    ("lua_pcall_of_error", [], ("EVAL", "return {pcall(error, 'x')}", "0")),
    ("lua_pcall_ok", [], ("EVAL", "return {pcall(function(a) return a + 1 end, 41)}", "0")),
    ("lua_pcall_table_error", [], ("EVAL", "local ok, e = pcall(error, {code = 1}); return {ok, type(e)}", "0")),
    ("call_ping_echo", [], ("EVAL", "return {redis.call('ping'), redis.call('ping', 'x'), redis.call('echo', 'e')}", "0")),
    ("call_time", [], ("EVAL", "local t = redis.call('time'); return {#t, type(t[1]), type(t[2])}", "0")),
    # one call's own keys in two slots: 7.0.15's getNodeByQuery answers CROSSSLOT, a non-local key to a script
    ("call_cross_slot", [], ("EVAL", "return redis.call('mset', KEYS[1], 1, ARGV[1], 2)", "1", "{a}", OTHER)),
    ("pcall_cross_slot", [], ("EVAL", "return redis.pcall('mset', ARGV[1], 1, ARGV[2], 2)", "0", "{a}x", OTHER)),
    ("call_same_slot_multi", [], ("EVAL", "return redis.call('mset', KEYS[1], 1, '{a}2', 2)", "1", "{a}1")),
    ("noscript_subscribe", [], ("EVAL", "return redis.pcall('subscribe', 'ch')", "0")),
    ("noscript_multi", [], ("EVAL", "return redis.pcall('multi')", "0")),
    ("noscript_watch", [], ("EVAL", "return redis.pcall('watch', KEYS[1])", "1", "{t}k")),
    ("noscript_script_load", [], ("EVAL", "return redis.pcall('script', 'load', 'return 1')", "0")),
    ("noscript_evalsha", [], ("EVAL", "return redis.pcall('evalsha', 'x', 0)", "0")),
    ("noscript_client", [], ("EVAL", "return redis.pcall('client', 'id')", "0")),
    ("blpop_does_not_block", [], ("EVAL", "return redis.pcall('blpop', KEYS[1], 0)", "1", "{t}l")),
    ("script_exists", [], ("SCRIPT", "EXISTS", "ffffffffffffffffffffffffffffffffffffffff", "x")),
    ("script_load_bad", [], ("SCRIPT", "LOAD", "return ret(")),
    ("script_flush_bad", [], ("SCRIPT", "FLUSH", "LATER")),
]


def h_sha1(body):
    return hashlib.sha1(body.encode()).hexdigest()


def _run(server, setup, cmd, resp3=False):
    with server.raw() as c:
        if resp3:
            c.raw("HELLO", "3")
        for s in setup:
            c.raw(*s)
        return c.raw(*cmd)


@pytest.mark.parametrize("name,setup,cmd", CASES, ids=[c[0] for c in CASES])
def test_eval_same_as_redis(snode, sref, name, setup, cmd):
    expected = _run(sref, setup, cmd)
    got = _run(snode, setup, cmd)
    assert got == expected, f"redis {expected!r}, shoal {got!r}"


RESP3_CASES = [
    ("true", [], ("EVAL", "return true", "0")),
    ("false", [], ("EVAL", "return false", "0")),
    ("nil", [], ("EVAL", "return nil", "0")),
    ("double", [], ("EVAL", "return {double = 3.5}", "0")),
    ("big_number", [], ("EVAL", "return {big_number = '123456789012345678901234567890'}", "0")),
    ("map", [], ("EVAL", "return {map = {a = 1}}", "0")),
    ("set", [], ("EVAL", "return {set = {a = true}}", "0")),
    ("verbatim", [], ("EVAL", "return {verbatim_string = {format = 'txt', string = 'hi'}}", "0")),
    ("setresp3_types", [("HSET", "{t}h", "f", "v"), ("SADD", "{t}s", "m")],
     ("EVAL", "redis.setresp(3); return {redis.call('hgetall', KEYS[1]), redis.call('smembers', KEYS[2]),"
      " redis.call('get', KEYS[3]), redis.call('zscore', KEYS[2] .. 'z', 'x')}", "3", "{t}h", "{t}s", "{t}none")),
    ("setresp3_double", [("ZADD", "{t}z", "1.5", "m")],
     ("EVAL", "redis.setresp(3); return redis.call('zscore', KEYS[1], 'm')", "1", "{t}z")),
    ("setresp2_in_resp3", [("HSET", "{t}h", "f", "v")],
     ("EVAL", "return redis.call('hgetall', KEYS[1])", "1", "{t}h")),
]


@pytest.mark.parametrize("name,setup,cmd", RESP3_CASES, ids=[c[0] for c in RESP3_CASES])
def test_eval_resp3_same_as_redis(snode, sref, name, setup, cmd):
    expected = _run(sref, setup, cmd, resp3=True)
    got = _run(snode, setup, cmd, resp3=True)
    assert got == expected, f"redis {expected!r}, shoal {got!r}"


def test_script_load_evalsha_on_every_worker(snode, sref):
    """SCRIPT LOAD once; EVALSHA then runs on the workers of keys of many slots."""
    body = "return redis.call('incr', KEYS[1])"
    for srv in (snode, sref):
        with srv.raw() as c:
            sha = c.call("SCRIPT", "LOAD", body)
            assert sha == h_sha1(body).encode()
            assert c.call("SCRIPT", "EXISTS", sha, sha.upper(), "0" * 40) == [1, 1, 0]
            for i in range(32):
                assert c.call("EVALSHA", sha, "1", f"k{i}") == 1
            # EVAL of the same body caches the same sha
            assert c.call("EVAL", body, "1", "k0") == 2
            assert c.call("SCRIPT", "FLUSH") == "OK"
            assert c.call("SCRIPT", "EXISTS", sha) == [0]
            assert c.raw("EVALSHA", sha, "1", "k0") == b"-NOSCRIPT No matching script. Please use EVAL.\r\n"
            assert c.call("SCRIPT", "FLUSH", "ASYNC") == "OK"
            assert c.call("EVAL", body, "1", "k0") == 3
            assert c.call("EVALSHA", sha, "1", "k1") == 2


def test_math_random_sequence_same_as_redis(servers):
    """math.random is 7.0.15's lrand48 sequence: a fresh node gives redis-server's numbers."""
    script = ("local t = {}; for i = 1, 5 do t[#t + 1] = tostring(math.random()) end;"
              " t[#t + 1] = math.random(100); t[#t + 1] = math.random(-5, 5);"
              " math.randomseed(42); t[#t + 1] = tostring(math.random()); t[#t + 1] = math.random(1000); return t")
    got = []
    for kind in ("shoal", "redis"):
        srv = h.single_node(servers, kind, workers=1) if kind == "shoal" else h.single_node(servers, kind)
        with srv.raw() as c:
            got.append([c.raw("EVAL", script, "0"), c.raw("EVAL", "return math.random(1, 1000000)", "0"),
                        c.raw("EVAL", "return {pcall(math.random, 1, 0)}", "0")])
    assert got[0] == got[1]


def test_evalsha_ro_refuses_writes_same_as_redis(snode, sref):
    replies = []
    for srv in (snode, sref):
        with srv.raw() as c:
            sha = c.call("SCRIPT", "LOAD", "return redis.call('set', KEYS[1], 'x')")
            replies.append(c.raw("EVALSHA_RO", sha, "1", "k"))
            replies.append(c.raw("EVALSHA", sha.upper(), "1", "k"))
    assert replies[0:2] == replies[2:4]


def test_keys_on_several_workers_of_one_node(servers):
    """With 4 workers, scripts on keys of every worker see their own keys and values."""
    node = h.single_node(servers, "shoal", workers=4)
    with node.raw() as c:
        for i in range(64):
            assert c.call("EVAL", SET_INCR, "1", f"key:{i}", str(i)) == i + 1
        for i in range(64):
            assert c.call("GET", f"key:{i}") == str(i + 1).encode()


def aof_node(servers, kind, tmp_path):
    """A one-node cluster of `kind` owning every slot, with an AOF fsynced at every write
    under tmp_path/kind; returns (server, its directory)."""
    d = tmp_path / kind
    d.mkdir()
    port = h.free_port()
    args = ["--port", str(port), "--bind", "127.0.0.1", "--dir", str(d), "--logfile", "", "--save", "",
            "--appendonly", "yes", "--appendfsync", "always", "--cluster-enabled", "yes"]
    if kind == "shoal":
        srv = servers.shoal(base_args=False, port=port, extra_args=args)
    else:
        srv = servers.redis(base_args=False, port=port, extra_args=args + ["--daemonize", "no"])
    h.own_all_slots(srv)
    return srv, d


def _aof_tail(d):
    man = (d / "appendonlydir" / "appendonly.aof.manifest").read_text()
    name = re.findall(r"file (\S+) seq \d+ type i", man)[-1]
    return (d / "appendonlydir" / name).read_bytes()


def test_effects_in_aof_wrapped_in_multi(servers, tmp_path):
    """A script's writes reach the AOF as its commands, in MULTI/EXEC, as 7.0.15 writes them."""
    script = "redis.call('set', KEYS[1], 'a'); redis.call('append', KEYS[1], 'b'); redis.call('get', KEYS[1]); return 1"
    single = "redis.call('set', KEYS[1], 'z'); return 1"
    tails = []
    for kind in ("shoal", "redis"):
        srv, d = aof_node(servers, kind, tmp_path)
        with srv.raw() as c:
            assert c.call("EVAL", script, "1", "{s}k") == 1
            assert c.call("EVAL", single, "1", "{s}j") == 1
            assert c.call("EVAL", "return redis.call('get', KEYS[1])", "1", "{s}k") == b"ab"
            # inside MULTI the script adds no MULTI/EXEC of its own
            assert c.call("MULTI") == "OK"
            for q in (("EVAL", script, "1", "{s}m"), ("SET", "{s}n", "1")):
                assert c.call(*q) == "QUEUED"
            assert c.call("EXEC") == [1, "OK"]
            assert c.call("EVAL", single, "1", "{s}last") == 1
        h.wait_until(lambda: b"{s}last" in _aof_tail(d), 5, what="the AOF to have the writes")
        t = _aof_tail(d)
        tails.append(t[t.index(b"*1\r\n$5\r\nMULTI"):])
    assert tails[0] == tails[1]
    assert tails[0] == (h.encode("MULTI") + h.encode("set", "{s}k", "a") + h.encode("append", "{s}k", "b") +
                        h.encode("EXEC") + h.encode("set", "{s}j", "z") +
                        h.encode("MULTI") + h.encode("set", "{s}m", "a") + h.encode("append", "{s}m", "b") +
                        h.encode("SET", "{s}n", "1") + h.encode("EXEC") + h.encode("set", "{s}last", "z"))


def test_eval_held_by_write_pause_as_redis(snode, sref):
    """EVAL/EVALSHA may write (7.0.15's may-replicate): CLIENT PAUSE WRITE holds them, as it holds
    writes (the manual failover's pause relies on it); EVAL_RO goes through."""
    for srv in (snode, sref):
        with srv.raw() as admin, srv.raw() as c:
            sha = c.call("SCRIPT", "LOAD", "return 1")
            for cmd, held in ((("EVAL", "return 1", "1", "k"), True), (("EVALSHA", sha, "0"), True),
                              (("EVAL_RO", "return 1", "1", "k"), False)):
                assert admin.call("CLIENT", "PAUSE", "400", "WRITE") == "OK"
                t0 = time.monotonic()
                assert c.call(*cmd) == 1
                waited = time.monotonic() - t0
                assert (waited >= 0.3) == held, (srv.kind, cmd, waited)
                assert admin.call("CLIENT", "UNPAUSE") == "OK"


def test_no_writes_scripts_run_under_write_pause_as_redis(snode, sref):
    """CLIENT PAUSE WRITE holds only calls that may write, judged per call as 7.0.15's
    getCommandFlags does: a function or a shebang script flagged no-writes runs (FCALL,
    FCALL_RO, EVAL, EVAL_RO, EVALSHA, EVALSHA_RO); one without that flag is a write and
    waits, even through FCALL_RO or EVAL_RO; a script without shebang keeps the
    command's own flags (EVAL waits, EVAL_RO runs); an unknown function or sha too."""
    lib = "#!lua name=pausecheck\n" \
          "redis.register_function{function_name='pc_ro', callback=function() return 1 end, flags={'no-writes'}}\n" \
          "redis.register_function('pc_rw', function() return 1 end)"
    ro_script, rw_script, plain = "#!lua flags=no-writes\nreturn 1", "#!lua\nreturn 1", "return 1"
    got = {}
    for srv in (snode, sref):
        with srv.raw() as admin, srv.raw() as c:
            assert c.call("FUNCTION", "LOAD", "REPLACE", lib) == b"pausecheck"
            shas = {body: c.call("SCRIPT", "LOAD", body).decode() for body in (ro_script, rw_script, plain)}
            calls = [("FCALL", "pc_ro", "0"), ("FCALL_RO", "pc_ro", "0"), ("FCALL", "pc_rw", "0"),
                     ("FCALL_RO", "pc_rw", "0"), ("FCALL", "pc_none", "0"), ("FCALL_RO", "pc_none", "0"),
                     ("EVAL", ro_script, "0"), ("EVAL_RO", ro_script, "0"), ("EVAL", rw_script, "0"),
                     ("EVAL_RO", rw_script, "0"), ("EVAL", plain, "0"), ("EVAL_RO", plain, "0"),
                     ("EVALSHA", shas[ro_script], "0"), ("EVALSHA_RO", shas[ro_script], "0"),
                     ("EVALSHA", shas[rw_script], "0"), ("EVALSHA_RO", shas[plain], "0"),
                     ("EVALSHA_RO", "f" * 40, "0")]
            out = []
            for cmd in calls:
                assert admin.call("CLIENT", "PAUSE", "1000", "WRITE") == "OK"
                t0 = time.monotonic()
                reply = c.raw(*cmd)
                out.append((cmd[0], cmd[1][:12], "held" if time.monotonic() - t0 >= 0.7 else "ran",
                            reply.split(b"\r\n")[0][:40]))
                assert admin.call("CLIENT", "UNPAUSE") == "OK"
            for fn in ("pc_ro", "pc_rw"):   # EXEC waits when a call queued in it may write
                assert c.call("MULTI") == "OK" and c.call("FCALL", fn, "0") == "QUEUED"
                assert admin.call("CLIENT", "PAUSE", "1000", "WRITE") == "OK"
                t0 = time.monotonic()
                reply = c.raw("EXEC")
                out.append(("EXEC", fn, "held" if time.monotonic() - t0 >= 0.7 else "ran", reply[:12]))
                assert admin.call("CLIENT", "UNPAUSE") == "OK"
            assert c.call("FUNCTION", "DELETE", "pausecheck") == "OK"
        got[srv.kind] = out
    assert got["shoal"] == got["redis"], [(a, b) for a, b in zip(got["shoal"], got["redis"]) if a != b]
    assert ("FCALL", "pc_ro", "ran", b":1") in got["shoal"]


def test_shebang_write_script_moved_from_replica(servers):
    """A script with a shebang and without no-writes is a write (7.0.15's
    evalGetCommandFlags): a READONLY replica redirects EVAL and EVALSHA of it with
    -MOVED, as any write (Redis's cluster suite 16-transactions-on-replica); a
    no-writes script and a script without shebang (compatibility mode) run there."""
    import replhelpers as rh
    got = {}
    for kind in ("shoal", "redis"):
        master, replica, _ = rh.make_pair(servers, kind, kind)
        with replica.raw() as c:
            assert c.call("READONLY") == "OK"
            sha = c.call("SCRIPT", "LOAD", "#!lua\nreturn redis.call('del', KEYS[1])")
            replies = [c.raw("EVAL", "#!lua\nreturn redis.call('del', KEYS[1])", "1", "a"),
                       c.raw("EVALSHA", sha, "1", "a"),
                       c.raw("EVAL", "#!lua flags=no-writes\nreturn 1", "1", "a"),
                       c.raw("EVAL", "return 1", "1", "a"),
                       c.raw("EVAL_RO", "#!lua\nreturn 1", "1", "a")]
        got[kind] = [r[:6] if r.startswith(b"-MOVED") else r for r in replies]
    assert got["shoal"][0] == b"-MOVED"
    assert got["shoal"] == got["redis"]
