"""The scripting sandbox as 7.0.15 builds it (issue 15): which globals exist, what may not be
read or written, pairs over the globals and the libraries, raw access and metatables of
the protected tables, print, math.random's sequence, and the redis.* helpers that have
no effect outside the debugger or in effects replication (set_repl, replicate_commands,
breakpoint, debug).

What it is for: each case runs the same script on our node and on a real redis-server
7.0.15 (one-node clusters owning every slot) and compares the reply bytes; some cases
check that nothing a script did survives into the next script.

What it must never do: weaken an expectation to match our node; the reference server is
the contract.
"""
import pytest

import helpers as h
from test_scripting import _aof_tail, aof_node

# keys in the order pairs meets them: the tables are built in 7.0.15's order, so the order is Redis's
SORTED_KEYS = "local function keys(t) local r = {} for k in pairs(t) do r[#r + 1] = tostring(k) end return r end "

# (name, script) pairs, each run as EVAL script 0
SANDBOX_CASES = [
    ("globals", SORTED_KEYS + "return keys(_G)"),
    ("string_keys", SORTED_KEYS + "return keys(string)"),
    ("math_keys", SORTED_KEYS + "return keys(math)"),
    ("table_keys", SORTED_KEYS + "return keys(table)"),
    ("redis_keys", SORTED_KEYS + "return keys(redis)"),
    ("cjson_keys", SORTED_KEYS + "return keys(cjson)"),
    ("bit_keys", SORTED_KEYS + "return keys(bit)"),
    ("struct_keys", SORTED_KEYS + "return keys(struct)"),
    ("cmsgpack_keys", SORTED_KEYS + "return keys(cmsgpack)"),
    ("coroutine_keys", SORTED_KEYS + "return keys(coroutine)"),
    ("next_g", "return type(next(_G))"),
    ("next_string", "local k = next(string) return type(k)"),
    ("rawget_g", "return type(rawget(_G, 'redis'))"),
    ("rawget_missing", "return tostring(rawget(_G, 'nosuch'))"),
    ("rawget_string", "return type(rawget(string, 'format'))"),
    ("rawset_g", "rawset(_G, 'x', 1) return x"),
    ("rawset_string", "rawset(string, 'x', 1) return 1"),
    ("rawset_pcall", "return {pcall(rawset, _G, 'x', 1)}"),
    ("table_insert_g", "table.insert(_G, 1) return 1"),
    ("table_insert_string", "table.insert(string, 'x') return 1"),
    ("setmetatable_g", "setmetatable(_G, nil) return 1"),
    ("setmetatable_string", "setmetatable(string, {}) return 1"),
    ("getmetatable_string", "return tostring(getmetatable(string))"),
    ("getmetatable_g", "return type(getmetatable(_G))"),
    ("string_meta_index", "getmetatable('').__index.x = 1 return 1"),
    ("string_method", "return ('abc'):upper() .. ('x'):rep(3)"),
    ("global_write", "x = 1"),
    ("global_read", "return y"),
    ("global_overwrite", "redis = 1"),
    ("lib_overwrite", "string.format = nil"),
    ("nested_lib_write", "math.pi = 3"),
    ("redis_field_write", "redis.call = nil"),
    ("g_write", "_G.x = 1"),
    ("g_read_missing", "return _G.nosuch"),
    ("g_index_string", "return _G['string'] == string"),
    ("setfenv", "setfenv(1, {}) return 1"),
    ("getfenv", "return getfenv(1) == _G"),
    ("loadstring", "local f = loadstring('return 1 + 1') return f()"),
    ("loadstring_global", "local f = loadstring('z = 1') return {pcall(f)}"),
    ("print", "print('x') return 1"),
    ("no_os", "return os"),
    ("no_io", "return io"),
    ("no_require", "return require"),
    ("no_module", "return module"),
    ("no_package", "return package"),
    ("no_loadfile", "return loadfile"),
    ("no_dofile", "return dofile"),
    ("no_debug", "return debug"),
    ("no_newproxy_missing", "return type(newproxy)"),
    ("version", "return _VERSION"),
    ("gcinfo", "return type(gcinfo())"),
    ("coroutine", "local c = coroutine.wrap(function() coroutine.yield(1) return 2 end) return {c(), c()}"),
    ("keys_argv_global", "return {type(KEYS), type(ARGV), #KEYS}"),
    ("unpack_g", "return #{unpack(_G)}"),
    ("len_string", "return #string"),
    ("err_handler_global", "return type(__redis__err__handler)"),
    ("set_repl", "return {redis.set_repl(redis.REPL_ALL), redis.REPL_NONE, redis.REPL_AOF, redis.REPL_SLAVE, redis.REPL_REPLICA, redis.REPL_ALL}"),
    ("set_repl_bad", "redis.set_repl(99)"),
    ("set_repl_no_args", "redis.set_repl()"),
    ("set_repl_str", "redis.set_repl('x')"),
    ("replicate_commands", "return {redis.replicate_commands()}"),
    ("breakpoint", "return {redis.breakpoint()}"),
    ("debug_noop", "return {redis.debug('x', 1)}"),
    ("version_fields", "return {redis.REDIS_VERSION, redis.REDIS_VERSION_NUM}"),
    ("acl_check_cmd", "return redis.acl_check_cmd('get', 'x')"),
    ("acl_check_cmd_bad", "return redis.acl_check_cmd('nosuch')"),
    ("acl_check_cmd_none", "return redis.acl_check_cmd()"),
    ("setresp_none", "redis.setresp()"),
    ("set_repl_in_call", "return redis.pcall('set_repl')"),
    ("foreach_string", "local n = 0 table.foreach(string, function() n = n + 1 end) return n"),
    ("maxn_g", "return table.maxn(_G)"),
    ("remove_g", "return {pcall(table.remove, _G)}"),
    ("insert_pos_string", "return {pcall(table.insert, string, 1, 2)}"),
    ("insert_bad_pos", "return {pcall(table.insert, string, 'a', 2)}"),
    ("insert_no_args", "return {pcall(table.insert, string)}"),
    ("rawset_args", "return {pcall(rawset, _G)}"),
    ("rawset_direct_args", "rawset(_G, 'x')"),
    ("setmetatable_args", "setmetatable(string)"),
    ("getmetatable_string_value", "return {getmetatable('abc') == getmetatable(''), getmetatable('').__index == string}"),
    ("getmetatable_meta", "return type(getmetatable(getmetatable(_G)))"),
    ("string_meta_write", "getmetatable('').__index = {}"),
    ("next_bad_key", "return {pcall(next, _G, 'nosuchkey')}"),
    ("g_is_g", "return rawequal(_G._G, _G)"),
    ("coroutine_global_write", "return {pcall(coroutine.wrap(function() x = 1 end))}"),
    ("keys_writable", "KEYS[1] = 'x' table.insert(ARGV, 'z') return {KEYS[1], #ARGV}"),
    # the globals' __index function is 7.0.15's luaProtectedTableError: it fails for any name,
    # one that exists too (the globals are read through a table, the function is only reached
    # on a miss), and checks its arguments
    ("g_index_existing", "return getmetatable(_G).__index(_G, 'redis')"),
    ("g_index_missing", "return getmetatable(_G).__index(_G, 'nope')"),
    ("g_index_number", "return getmetatable(_G).__index(_G, 5)"),
    ("g_index_one_arg", "return getmetatable(_G).__index(1)"),
    ("g_index_table_key", "return getmetatable(_G).__index(_G, {})"),
    ("g_index_pcall", "return {pcall(getmetatable(_G).__index, _G, 'redis')}"),
    ("g_missing_in_function", "local function f() return nosuch end return {pcall(f)}"),
    ("g_reads_after_keys", "return {type(redis), type(KEYS), type(ARGV), type(string.len), #KEYS}"),
    # 7.0.15's Lua never loads bytecode (unit/scripting 'Binary code loading failed'): a chunk in
    # binary form is parsed as text and fails, from loadstring, load and a reader of pieces
    ("bytecode_loadstring", "return loadstring(string.dump(function() return 1 end))()"),
    ("bytecode_loadstring_err", "return {loadstring(string.dump(function() return 1 end))}"),
    ("bytecode_loadstring_named", "return {loadstring(string.dump(function() return 1 end), '=x')}"),
    ("bytecode_load_pieces",
     "local d = string.dump(function() return 1 end) local i = 0 "
     "return {load(function() i = i + 1 if i == 1 then return d:sub(1, 3) elseif i == 2 then return d:sub(4) end end)}"),
    ("text_load_pieces",
     "local p = {'return ', '4', '2'} local i = 0 "
     "local f = load(function() i = i + 1 return p[i] end, '=pieces') return f()"),
    ("text_load_bad_piece", "return {pcall(load, function() return {} end)}"),
    ("text_loadstring", "return {loadstring('return 7')(), loadstring(' return 8')()}"),
    ("text_loadstring_syntax", "return {loadstring('return +')}"),
]


def _run(server, script):
    with server.raw() as c:
        return c.raw("EVAL", script, "0")


def _bytecode(server):
    with server.raw() as c:
        return c.call("EVAL", "return string.dump(function() return 'ran bytecode' end)", "0")


def test_bytecode_scripts_do_not_compile(snode, sref):
    """A script, a library or a debugger's eval in Lua's binary form fails to compile as
    on 7.0.15, whose loader takes text only: stock Lua 5.1 would run it unverified."""
    for srv in (snode, sref):
        assert _bytecode(srv)[:1] == b"\x1b"
    out = []
    for srv in (snode, sref):
        code = _bytecode(srv)
        lib = b"#!lua name=bc\n" + code
        with srv.raw() as c:
            out.append([c.raw("EVAL", code, "0"), c.raw("SCRIPT", "LOAD", code), c.raw("FUNCTION", "LOAD", lib),
                        c.raw("EVAL_RO", code, "0")])
    assert out[0] == out[1]


def test_nothing_survives_a_script(snode, sref):
    """What 7.0.15 refuses leaves no trace: after every attempt, a later script sees the clean sandbox."""
    attempts = ["rawset(_G, 'leak', 1)", "table.insert(string, 'leak')", "rawset(string, 'leak', 1)",
                "getmetatable('').__index.leak = 1", "setmetatable(_G, {})", "_G.leak = 1", "leak = 1"]
    check = "return {tostring(rawget(_G, 'leak')), #string, tostring(rawget(string, 'leak')), type(getmetatable(_G))}"
    for srv in (snode, sref):
        with srv.raw() as c:
            for a in attempts:
                c.raw("EVAL", a, "0")
    assert _run(snode, check) == _run(sref, check)


@pytest.mark.parametrize("name,script", SANDBOX_CASES, ids=[c[0] for c in SANDBOX_CASES])
def test_sandbox_same_as_redis(snode, sref, name, script):
    expected = _run(sref, script)
    got = _run(snode, script)
    assert got == expected, f"redis {expected!r}, shoal {got!r}"


def test_math_random_one_sequence_for_all_workers(servers):
    """7.0.15 never reseeds between scripts: the sequence goes on from script to script, whichever
    worker runs it (here keys of every worker of a 4-worker node)."""
    script = "return tostring(math.random())"
    got = []
    for kind in ("shoal", "redis"):
        srv = h.single_node(servers, kind, workers=4) if kind == "shoal" else h.single_node(servers, kind)
        with srv.raw() as c:
            got.append([c.raw("EVAL", script, "1", f"key:{i}") for i in range(16)])
    assert got[0] == got[1]


def test_set_repl_none_keeps_writes_out_of_the_aof(servers, tmp_path):
    """redis.set_repl(redis.REPL_NONE): the calls after it are not propagated; REPL_ALL turns it back on."""
    script = ("redis.call('set', KEYS[1], 'a'); redis.set_repl(redis.REPL_NONE); redis.call('set', KEYS[2], 'b');"
              " redis.set_repl(redis.REPL_ALL); redis.call('set', KEYS[3], 'c'); return 1")
    tails = []
    for kind in ("shoal", "redis"):
        srv, d = aof_node(servers, kind, tmp_path)
        with srv.raw() as c:
            assert c.call("EVAL", script, "3", "{s}1", "{s}2", "{s}3") == 1
            assert c.call("EVAL", "redis.set_repl(redis.REPL_NONE); redis.call('set', KEYS[1], 'd'); return 1",
                          "1", "{s}4") == 1
            assert c.call("SET", "{s}last", "z") == "OK"
            assert c.call("GET", "{s}2") == b"b"
        h.wait_until(lambda: b"{s}last" in _aof_tail(d), 5, what="the AOF to have the writes")
        t = _aof_tail(d)
        tails.append(t[t.index(b"*1\r\n$5\r\nMULTI"):])
    assert tails[0] == tails[1]
    assert tails[0] == (h.encode("MULTI") + h.encode("set", "{s}1", "a") + h.encode("set", "{s}3", "c") +
                        h.encode("EXEC") + h.encode("SET", "{s}last", "z"))
