"""FUNCTION and FCALL (issue 15): libraries loaded, listed, called, deleted, flushed,
dumped and restored, persisted in the RDB and replicated, as redis-server 7.0.15 does.

What it is for: every case sends the same commands to our node and to a real
redis-server 7.0.15 (both one-node clusters owning every slot, or fresh nodes) and
compares the reply bytes (RESP2 and RESP3); payloads and dump.rdb files cross between
the two.

What it must never do: weaken an expectation to match our node; the reference server
is the contract. FUNCTION LIST's order of libraries is its dict's in 7.0.15 (flagged
nondeterministic_output_order): cases list one library, or compare sorted.
"""
import time

import pytest

import helpers as h


def lib(name, body):
    return f"#!lua name={name}\n{body}"


LIB = lib("mylib", "redis.register_function('f1', function(keys, args) return 1 end)\n"
          "redis.register_function{function_name='f2', description='desc', flags={'no-writes'},"
          " callback=function(keys, args) return redis.call('get', keys[1]) end}\n"
          "redis.register_function{function_name='setter', flags={'allow-oom', 'allow-stale', 'no-cluster',"
          " 'allow-cross-slot-keys'}, callback=function(keys, args) return redis.call('set', keys[1], args[1]) end}\n"
          "redis.register_function('echo', function(keys, args) return {#keys, #args, keys[1], args[1]} end)\n"
          "redis.register_function('err', function() error('boom') end)\n"
          "redis.register_function('w', function(keys) return redis.call('set', keys[1], 'x') end)\n")
REG = "redis.register_function('g', function() return 1 end)"

# (name, setup commands, command whose reply bytes are compared)
CASES = [
    ("load", [], ("FUNCTION", "LOAD", LIB)),
    ("load_exists", [("FUNCTION", "LOAD", LIB)], ("FUNCTION", "LOAD", LIB)),
    ("load_replace", [("FUNCTION", "LOAD", LIB)], ("FUNCTION", "LOAD", "REPLACE", LIB)),
    ("load_replace_lower", [("FUNCTION", "LOAD", LIB)], ("FUNCTION", "LOAD", "replace", LIB)),
    ("load_function_taken", [("FUNCTION", "LOAD", LIB)],
     ("FUNCTION", "LOAD", lib("other", "redis.register_function('F1', function() return 2 end)"))),
    ("load_bad_option", [], ("FUNCTION", "LOAD", "bogus", LIB)),
    ("load_replace_only", [], ("FUNCTION", "LOAD", "REPLACE")),
    ("load_no_shebang", [], ("FUNCTION", "LOAD", "return 1")),
    ("load_no_newline", [], ("FUNCTION", "LOAD", "#!lua name=x")),
    ("load_no_name", [], ("FUNCTION", "LOAD", "#!lua\n" + REG)),
    ("load_bad_meta", [], ("FUNCTION", "LOAD", "#!lua name=x foo=bar\n" + REG)),
    ("load_name_twice", [], ("FUNCTION", "LOAD", "#!lua name=x name=y\n" + REG)),
    ("load_bad_lib_name", [], ("FUNCTION", "LOAD", lib("a-b", REG))),
    # unit/functions 'test registration with wrong name format': a NUL inside a function's name
    ("load_nul_in_function_name", [],
     ("FUNCTION", "LOAD", lib("x", "redis.register_function('test\\0test', function() return 1 end)"))),
    ("load_nul_in_named_function_name", [],
     ("FUNCTION", "LOAD", lib("x", "redis.register_function{function_name='a\\0', callback=function() return 1 end}"))),
    ("load_empty_lib_name", [], ("FUNCTION", "LOAD", "#!lua name=\n" + REG)),
    ("load_engine", [], ("FUNCTION", "LOAD", "#!js name=x\n" + REG)),
    ("load_engine_upper", [], ("FUNCTION", "LOAD", "#!LUA name=x\n" + REG)),
    ("load_quoted_meta", [], ("FUNCTION", "LOAD", "#!lua \"name=q\"\n" + REG)),
    ("load_nothing", [], ("FUNCTION", "LOAD", lib("x", "local a = 1"))),
    ("load_compile_error", [], ("FUNCTION", "LOAD", lib("x", "return ret("))),
    ("load_runtime_error", [], ("FUNCTION", "LOAD", lib("x", "local t = nil\nt.x = 1"))),
    ("load_string_global", [], ("FUNCTION", "LOAD", lib("x", "local s = string.format('x')\n" + REG))),
    ("load_redis_call", [], ("FUNCTION", "LOAD", lib("x", "redis.call('ping')"))),
    # global reads while a library loads go to the library API, afterwards to the state's globals
    ("load_missing_global", [], ("FUNCTION", "LOAD", lib("x", "local a = nosuch\n" + REG))),
    ("fcall_missing_global", [("FUNCTION", "LOAD", lib("x", "redis.register_function('g', function() "
                                                         "return {type(string), nosuch} end)"))],
     ("FCALL", "g", "0")),
    ("load_global_write", [], ("FUNCTION", "LOAD", lib("x", "x = 1"))),
    ("load_redis_write", [], ("FUNCTION", "LOAD", lib("x", "redis.log = 1"))),
    ("load_error_fn", [], ("FUNCTION", "LOAD", lib("x", "error('boom')"))),
    ("load_log_version", [], ("FUNCTION", "LOAD", lib("x", "redis.log(redis.LOG_NOTICE, redis.REDIS_VERSION, "
                                                      "redis.REDIS_VERSION_NUM)\n" + REG))),
    ("reg_no_args", [], ("FUNCTION", "LOAD", lib("x", "redis.register_function()"))),
    ("reg_three_args", [], ("FUNCTION", "LOAD", lib("x", "redis.register_function('a', function() end, 1)"))),
    ("reg_name_not_string", [], ("FUNCTION", "LOAD", lib("x", "redis.register_function({}, function() end)"))),
    ("reg_number_name", [], ("FUNCTION", "LOAD", lib("x", "redis.register_function(12, function() return 1 end)"))),
    ("reg_not_function", [], ("FUNCTION", "LOAD", lib("x", "redis.register_function('a', 1)"))),
    ("reg_bad_fn_name", [], ("FUNCTION", "LOAD", lib("x", "redis.register_function('a-b', function() end)"))),
    ("reg_dup", [], ("FUNCTION", "LOAD", lib("x", "redis.register_function('a', function() end)\n"
                                                 "redis.register_function('a', function() end)"))),
    ("reg_single_not_table", [], ("FUNCTION", "LOAD", lib("x", "redis.register_function('a')"))),
    ("reg_key_not_string", [], ("FUNCTION", "LOAD", lib("x", "redis.register_function{[1]='a'}"))),
    ("reg_name_bad_type", [], ("FUNCTION", "LOAD", lib("x", "redis.register_function{function_name={}}"))),
    ("reg_desc_bad_type", [], ("FUNCTION", "LOAD", lib("x", "redis.register_function{description={}}"))),
    ("reg_cb_bad_type", [], ("FUNCTION", "LOAD", lib("x", "redis.register_function{callback=1}"))),
    ("reg_flags_bad_type", [], ("FUNCTION", "LOAD", lib("x", "redis.register_function{flags=1}"))),
    ("reg_flags_unknown", [], ("FUNCTION", "LOAD", lib("x", "redis.register_function{function_name='a', "
                                                       "callback=function() end, flags={'bogus'}}"))),
    ("reg_flags_not_string", [], ("FUNCTION", "LOAD", lib("x", "redis.register_function{function_name='a', "
                                                          "callback=function() end, flags={{}}}"))),
    ("reg_unknown_arg", [], ("FUNCTION", "LOAD", lib("x", "redis.register_function{foo=1}"))),
    ("reg_no_name", [], ("FUNCTION", "LOAD", lib("x", "redis.register_function{callback=function() end}"))),
    ("reg_no_callback", [], ("FUNCTION", "LOAD", lib("x", "redis.register_function{function_name='a'}"))),
    ("reg_upper_keys", [], ("FUNCTION", "LOAD", lib("x", "redis.register_function{FUNCTION_NAME='a', "
                                                    "Callback=function() return 7 end, FLAGS={'NO-WRITES'}}"))),
    ("list_pattern_none", [("FUNCTION", "LOAD", LIB)], ("FUNCTION", "LIST", "libraryname", "zz*")),
    ("list_empty", [], ("FUNCTION", "LIST")),
    ("list_no_pattern", [], ("FUNCTION", "LIST", "LIBRARYNAME")),
    ("list_bad_arg", [], ("FUNCTION", "LIST", "bogus")),
    ("list_withcode_twice", [], ("FUNCTION", "LIST", "WITHCODE", "WITHCODE")),
    ("list_pattern_twice", [], ("FUNCTION", "LIST", "LIBRARYNAME", "a", "LIBRARYNAME", "b")),
    ("delete", [("FUNCTION", "LOAD", LIB)], ("FUNCTION", "DELETE", "mylib")),
    ("delete_case", [("FUNCTION", "LOAD", LIB)], ("FUNCTION", "DELETE", "MYLIB")),
    ("delete_missing", [], ("FUNCTION", "DELETE", "nosuch")),
    ("delete_arity", [], ("FUNCTION", "DELETE")),
    ("deleted_gone", [("FUNCTION", "LOAD", LIB), ("FUNCTION", "DELETE", "mylib")], ("FCALL", "f1", "0")),
    ("flush", [("FUNCTION", "LOAD", LIB)], ("FUNCTION", "FLUSH")),
    ("flush_async", [("FUNCTION", "LOAD", LIB)], ("FUNCTION", "FLUSH", "ASYNC")),
    ("flush_sync", [("FUNCTION", "LOAD", LIB)], ("FUNCTION", "FLUSH", "sync")),
    ("flush_bad", [], ("FUNCTION", "FLUSH", "later")),
    ("flush_too_many", [], ("FUNCTION", "FLUSH", "sync", "x")),
    ("flushed_gone", [("FUNCTION", "LOAD", LIB), ("FUNCTION", "FLUSH")], ("FUNCTION", "LIST")),
    ("flushall_keeps", [("FUNCTION", "LOAD", LIB), ("FLUSHALL",)], ("FCALL", "f1", "0")),
    ("stats_empty", [], ("FUNCTION", "STATS")),
    ("stats", [("FUNCTION", "LOAD", LIB)], ("FUNCTION", "STATS")),
    ("kill", [], ("FUNCTION", "KILL")),
    ("help", [], ("FUNCTION", "HELP")),
    ("unknown_sub", [], ("FUNCTION", "bogus")),
    ("fcall", [("FUNCTION", "LOAD", LIB)], ("FCALL", "f1", "0")),
    ("fcall_case", [("FUNCTION", "LOAD", LIB)], ("FCALL", "F1", "0")),
    ("fcall_args", [("FUNCTION", "LOAD", LIB)], ("FCALL", "echo", "1", "{t}k", "a", "b")),
    ("fcall_get", [("FUNCTION", "LOAD", LIB), ("SET", "{t}k", "v")], ("FCALL", "f2", "1", "{t}k")),
    ("fcall_no_writes_write", [("FUNCTION", "LOAD", lib("nw", "redis.register_function{function_name='nw', "
                                                         "flags={'no-writes'}, callback=function(k) "
                                                         "return redis.call('set', k[1], 1) end}"))],
     ("FCALL", "nw", "1", "{t}k")),
    ("fcall_set", [("FUNCTION", "LOAD", LIB)], ("FCALL", "w", "1", "{t}k")),
    ("fcall_no_cluster", [("FUNCTION", "LOAD", LIB)], ("FCALL", "setter", "1", "{t}k", "v")),
    ("fcall_error", [("FUNCTION", "LOAD", LIB)], ("FCALL", "err", "0")),
    ("fcall_missing", [("FUNCTION", "LOAD", LIB)], ("FCALL", "nosuch", "0")),
    ("fcall_bad_numkeys", [("FUNCTION", "LOAD", LIB)], ("FCALL", "f1", "x")),
    ("fcall_numkeys_missing_fn", [], ("FCALL", "nosuch", "x")),
    ("fcall_numkeys_big", [("FUNCTION", "LOAD", LIB)], ("FCALL", "f1", "3", "a")),
    ("fcall_numkeys_negative", [("FUNCTION", "LOAD", LIB)], ("FCALL", "f1", "-1")),
    ("fcall_crossslot", [("FUNCTION", "LOAD", LIB)], ("FCALL", "f1", "2", "a", "b")),
    ("fcall_ro_write_fn", [("FUNCTION", "LOAD", LIB)], ("FCALL_RO", "w", "1", "{t}k")),
    ("fcall_ro_no_writes", [("FUNCTION", "LOAD", LIB), ("SET", "{t}k", "v")], ("FCALL_RO", "f2", "1", "{t}k")),
    ("fcall_keys_global", [("FUNCTION", "LOAD", lib("g", "redis.register_function('kk', function() return KEYS end)"))],
     ("FCALL", "kk", "0")),
    ("fcall_register_at_run", [("FUNCTION", "LOAD", lib("g", "redis.register_function('r', function() "
                                                          "redis.register_function('z', function() end) end)"))],
     ("FCALL", "r", "0")),
    ("fcall_libraries", [("FUNCTION", "LOAD", lib("g", "redis.register_function('t', function() return "
                                                     "{type(string), type(redis.call), type(math.floor), "
                                                     "string.format('%d', 7)} end)"))],
     ("FCALL", "t", "0")),
    ("fcall_local_helper", [("FUNCTION", "LOAD", lib("g", "local function h(k) return redis.call('incr', k) end\n"
                                                       "redis.register_function('t', function(keys) "
                                                       "return h(keys[1]) + h(keys[1]) end)"))],
     ("FCALL", "t", "1", "{t}n")),
    ("fcall_undeclared_other_slot", [("FUNCTION", "LOAD", lib("g", "redis.register_function('t', function(k, a) "
                                                                "redis.call('set', k[1], 1) return redis.call('set', "
                                                                "a[1], 1) end)"))],
     ("FCALL", "t", "1", "{a}", "{b}")),
    ("fcall_global_write", [("FUNCTION", "LOAD", lib("g", "redis.register_function('t', function() x = 1 end)"))],
     ("FCALL", "t", "0")),
    ("restore_bad", [], ("FUNCTION", "RESTORE", "abc")),
    ("restore_bad_policy", [], ("FUNCTION", "RESTORE", "abc", "bogus")),
    ("restore_too_many", [], ("FUNCTION", "RESTORE", "a", "b", "c")),
    ("dump_empty", [], ("FUNCTION", "DUMP")),
    ("multi", [("MULTI",), ("FUNCTION", "LOAD", LIB), ("FCALL", "w", "1", "{t}k"), ("FCALL", "f2", "1", "{t}k"),
               ("FUNCTION", "DELETE", "mylib")], ("EXEC",)),
    ("multi_after", [("MULTI",), ("FUNCTION", "LOAD", LIB), ("EXEC",)], ("FUNCTION", "STATS")),
    ("load_timeout", [], ("FUNCTION", "LOAD", lib("x", "local i = 0\nwhile true do i = i + 1 end"))),
    ("load_timeout_pcall", [], ("FUNCTION", "LOAD", lib("x", "local ok = redis.pcall ~= nil"))),
    ("fcall_from_eval", [("FUNCTION", "LOAD", LIB)], ("EVAL", "return redis.call('fcall', 'f1', 0)", "0")),
    ("function_from_eval", [], ("EVAL", "return redis.call('function', 'list')", "0")),
    ("fcall_from_function", [("FUNCTION", "LOAD", lib("g", "redis.register_function('t', function() "
                                                        "return redis.call('fcall', 't', 0) end)"))],
     ("FCALL", "t", "0")),
    ("fcall_pcall_error", [("FUNCTION", "LOAD", lib("g", "redis.register_function('t', function(k) "
                                                      "local e = redis.pcall('incr', k[1]) return {e['err'], 1} end)")),
                           ("SET", "{t}s", "abc")],
     ("FCALL", "t", "1", "{t}s")),
    ("fcall_resp3_setresp", [("FUNCTION", "LOAD", lib("g", "redis.register_function('t', function(k) "
                                                        "redis.setresp(3) return redis.call('hgetall', k[1]) end)")),
                             ("HSET", "{t}h", "a", "1")],
     ("FCALL", "t", "1", "{t}h")),
    ("debug_reload", [("FUNCTION", "LOAD", LIB), ("DEBUG", "RELOAD")], ("FCALL", "F1", "0")),
]


RESP3_CASES = [
    ("fcall_setresp", [("FUNCTION", "LOAD", lib("g", "redis.register_function('t', function(k) "
                                                  "redis.setresp(3) return redis.call('hgetall', k[1]) end)")),
                       ("HSET", "{t}h", "a", "1")],
     ("FCALL", "t", "1", "{t}h")),
    ("list_plain", [("FUNCTION", "LOAD", lib("g", "redis.register_function{function_name='t', description='d', "
                                               "flags={'no-writes', 'allow-stale'}, callback=function() end}"))],
     ("FUNCTION", "LIST", "WITHCODE")),
    ("stats", [("FUNCTION", "LOAD", LIB)], ("FUNCTION", "STATS")),
    ("fcall_args", [("FUNCTION", "LOAD", LIB)], ("FCALL", "echo", "1", "{t}k", "a", "b")),
    ("fcall_error", [("FUNCTION", "LOAD", LIB)], ("FCALL", "err", "0")),
]


ALL_CASES = [(n, s, c, False) for n, s, c in CASES] + [(n + "_resp3", s, c, True) for n, s, c in RESP3_CASES]


@pytest.mark.parametrize("name,setup,cmd,resp3", ALL_CASES, ids=[c[0] for c in ALL_CASES])
def test_function_same_as_redis(snode, sref, name, setup, cmd, resp3):
    """Each case on a node without libraries: the setup, then the compared command."""
    replies = []
    for srv in (sref, snode):
        with srv.raw() as c:
            assert c.call("FUNCTION", "FLUSH") == "OK"
            if resp3:
                c.raw("HELLO", "3")
            for step in setup:
                c.raw(*step)
            replies.append(c.raw(*cmd))
    assert replies[1] == replies[0], f"redis {replies[0]!r}, shoal {replies[1]!r}"


def _pairs(m):
    """A library or function entry as (key, value) pairs, from a RESP2 flat array or a RESP3 map."""
    if isinstance(m, h.Map):
        return list(m)
    return [(m[i], m[i + 1]) for i in range(0, len(m), 2)]


def _list_shape(reply):
    """FUNCTION LIST with the order 7.0.15 leaves to its dicts made canonical: the libraries,
    and the functions of each, sorted; field order and every value kept."""
    libs = []
    for entry in reply:
        fields = []
        for k, v in _pairs(entry):
            if k == b"functions":
                v = sorted(repr((type(f).__name__, _pairs(f))) for f in v)
            fields.append((k, v))
        libs.append(repr((type(entry).__name__, fields)))
    return sorted(libs)


OTHER_LIB = lib("other", "redis.register_function('o1', function() return 'o' end)")


@pytest.mark.parametrize("resp3", [False, True], ids=["resp2", "resp3"])
@pytest.mark.parametrize("args", [(), ("WITHCODE",), ("LIBRARYNAME", "MY*", "withcode"), ("libraryname", "*o*")],
                         ids=["plain", "withcode", "pattern", "pattern_all"])
def test_function_list_same_as_redis(snode, sref, resp3, args):
    got = []
    for srv in (sref, snode):
        with srv.raw() as c:
            assert c.call("FUNCTION", "FLUSH") == "OK"
            if resp3:
                c.raw("HELLO", "3")
            assert c.call("FUNCTION", "LOAD", LIB) == b"mylib"
            assert c.call("FUNCTION", "LOAD", OTHER_LIB) == b"other"
            raw, value = c.req("FUNCTION", "LIST", *args)
            got.append((raw[:raw.index(b"\r\n")], _list_shape(value)))
    assert got[1] == got[0]


def test_every_worker_runs_every_library(servers):
    """With 4 workers, a library loaded through one connection runs on the worker of any slot;
    REPLACE, DELETE and FLUSH reach every worker's state."""
    node = h.single_node(servers, "shoal", workers=4)
    counter = lib("cnt", "redis.register_function('bump', function(keys, args) "
                         "return redis.call('incrby', keys[1], args[1]) end)")
    with node.raw() as c, node.raw() as d:
        assert c.call("FUNCTION", "LOAD", counter) == b"cnt"
        for i in range(64):
            assert d.call("FCALL", "bump", "1", f"key:{i}", str(i)) == i
        assert c.call("FUNCTION", "LOAD", "REPLACE", counter.replace("args[1]", "args[1] * 2")) == b"cnt"
        for i in range(64):
            assert d.call("FCALL", "bump", "1", f"key:{i}", str(i)) == 3 * i
        assert c.call("FUNCTION", "DELETE", "cnt") == "OK"
        for i in range(0, 64, 7):
            assert d.raw("FCALL", "bump", "1", f"key:{i}", "1") == b"-ERR Function not found\r\n"
        assert c.call("FUNCTION", "LOAD", counter) == b"cnt"
        assert d.call("FCALL", "bump", "1", "key:5", "1") == 16
        assert c.call("FUNCTION", "FLUSH") == "OK"
        assert d.raw("FCALL", "bump", "1", "key:6", "1") == b"-ERR Function not found\r\n"


LONG_LIB = lib("longlib", "-- " + "padding that LZF squeezes " * 8 + "\n"
               "redis.register_function('long_f', function() return 'long' end)")


@pytest.mark.parametrize("policy", [None, "APPEND", "REPLACE", "FLUSH"])
def test_dump_restore_both_ways_with_redis(snode, sref, policy):
    """FUNCTION DUMP gives redis-server's bytes (records, RDB version, CRC-64; LZF for a long
    library); each side restores the other's payload, under every policy, with the same replies."""
    dumps = []
    for srv in (sref, snode):
        with srv.raw() as c:
            assert c.call("FUNCTION", "FLUSH") == "OK"
            assert c.call("FUNCTION", "LOAD", LONG_LIB) == b"longlib"
            dumps.append(c.call("FUNCTION", "DUMP"))
    assert dumps[1] == dumps[0]
    one = dumps[0]
    with sref.raw() as c:
        assert c.call("FUNCTION", "LOAD", LIB) == b"mylib"
        both = c.call("FUNCTION", "DUMP")
    tail = (policy,) if policy else ()
    replies = []
    for srv in (sref, snode):
        with srv.raw() as c:
            assert c.call("FUNCTION", "FLUSH") == "OK"
            assert c.call("FUNCTION", "LOAD", OTHER_LIB) == b"other"
            r = [c.raw("FUNCTION", "RESTORE", both, *tail)]
            r.append(c.raw("FUNCTION", "RESTORE", one, *tail))            # longlib again
            r.append(c.raw("FCALL", "long_f", "0"))
            r.append(c.raw("FCALL", "o1", "0"))
            r.append(sorted(x[1] for x in c.call("FUNCTION", "LIST")))  # library names
            r.append(c.raw("FUNCTION", "RESTORE", one[:-1] + bytes([one[-1] ^ 1])))
            r.append(c.raw("FUNCTION", "RESTORE", b"\x00" + one[1:-10] + one[-10:]))
            replies.append(r)
    assert replies[1] == replies[0]


def test_restore_payload_errors_same_as_redis(snode, sref):
    """A payload whose footer is right but whose records are not: the errors 7.0.15 gives."""
    import struct as st
    import replhelpers as rh

    def payload(body):
        data = body + b"\x0a\x00"
        return data + st.pack("<Q", rh.crc64(data))

    cases = [payload(b"\xf5\x05hello"), payload(b"\x00\x01a"), payload(b"\xf5\x40"),
             payload(b"\xf5\x3fx"), payload(b"\xf6\x01x\x03lua\x00\x07return1"),
             payload(b"\xf6\x01x\x03lua\x01\x01d" + bytes([len(REG) + 1]) + b"\n" + REG.encode()),
             payload(b"\xf5\x0c#!lua name=x"), payload(b"")]
    for body in cases:
        got = []
        for srv in (sref, snode):
            with srv.raw() as c:
                assert c.call("FUNCTION", "FLUSH") == "OK"
                got.append(c.raw("FUNCTION", "RESTORE", body))
        assert got[1] == got[0], body


def _libraries(srv):
    """FUNCTION LIST WITHCODE of srv in canonical order (see _list_shape)."""
    with srv.raw() as c:
        return _list_shape(c.call("FUNCTION", "LIST", "WITHCODE"))


def _fill_libraries(srv):
    with srv.raw() as c:
        assert c.call("FUNCTION", "LOAD", LIB) == b"mylib"
        assert c.call("FUNCTION", "LOAD", LONG_LIB) == b"longlib"
        assert c.call("SET", "k", "v") == "OK"


@pytest.mark.parametrize("save", ["SAVE", "BGSAVE"])
def test_rdb_libraries_both_ways_with_redis(servers, save):
    """dump.rdb carries the libraries (FUNCTION2 records before the keys): shoal's file and
    redis-server's are byte-identical up to the aux fields; each loads the other's, and
    redis-check-rdb accepts shoal's."""
    import subprocess
    nodes = [getattr(servers, kind)(base_args="standalone") for kind in ("shoal", "redis")]
    records = []      # each library's FUNCTION2 record, as redis-server's FUNCTION DUMP has it
    with nodes[1].raw() as c:
        for code in (LIB, LONG_LIB):
            assert c.call("FUNCTION", "LOAD", code)
            records.append(c.call("FUNCTION", "DUMP")[:-10])
            assert c.call("FUNCTION", "FLUSH") == "OK"
    files = []
    for srv in nodes:
        _fill_libraries(srv)
        with srv.raw() as c:
            if save == "SAVE":
                assert c.call("SAVE") == "OK"
            else:
                assert c.call("BGSAVE") == "Background saving started"
                h.wait_until(lambda: h.info_dict(c.call("INFO", "persistence"))["rdb_bgsave_in_progress"] == "0",
                             10, what="the BGSAVE")
        expected = _libraries(srv)
        srv.stop()
        path = srv.dir / "dump.rdb"
        chk = subprocess.run(["redis-check-rdb", str(path)], capture_output=True, text=True, timeout=60)
        assert chk.returncode == 0, chk.stdout + chk.stderr
        data = path.read_bytes()
        files.append(data)
        # both records, before the keys' SELECTDB
        for rec in records:
            assert rec in data and data.index(rec) < data.index(b"\xfe\x00"), (srv.kind, rec[:40])
    (nodes[0].dir / "dump.rdb").write_bytes(files[1])
    (nodes[1].dir / "dump.rdb").write_bytes(files[0])
    for srv in nodes:
        srv.start()
        assert _libraries(srv) == expected
        with srv.raw() as c:
            assert c.call("FCALL", "long_f", "0") == b"long"
            assert c.call("FCALL", "f2", "1", "k") == b"v"


def test_aof_replays_libraries(servers):
    """FUNCTION LOAD/DELETE reach the AOF as sent and are replayed at start; a rewrite's base
    carries the libraries (RDB preamble, and FUNCTION LOAD commands without it), as 7.0.15."""
    for preamble in ("yes", "no"):
        srv = servers.shoal(base_args="standalone", extra_args=["--appendonly", "yes", "--appendfsync", "always",
                                                                 "--aof-use-rdb-preamble", preamble])
        with srv.raw() as c:
            assert c.call("FUNCTION", "LOAD", LIB) == b"mylib"
            assert c.call("FUNCTION", "LOAD", OTHER_LIB) == b"other"
            assert c.call("FUNCTION", "DELETE", "other") == "OK"
        srv.stop()
        srv.start()
        with srv.raw() as c:
            assert [x[1] for x in c.call("FUNCTION", "LIST")] == [b"mylib"]
            assert c.call("FUNCTION", "LOAD", OTHER_LIB) == b"other"
            assert c.call("BGREWRITEAOF") == "Background append only file rewriting started"
            h.wait_until(lambda: h.info_dict(c.call("INFO", "persistence"))["aof_rewrite_in_progress"] == "0",
                         10, what="the rewrite")
        before = _libraries(srv)
        srv.stop()
        base = [p for p in (srv.dir / "appendonlydir").iterdir() if ".base." in p.name]
        assert len(base) == 1
        if preamble == "no":
            assert base[0].read_bytes().count(h.encode("FUNCTION", "LOAD", LIB)) == 1
        srv.start()
        assert _libraries(srv) == before


REPL_PAIRS = [("shoal", "shoal"), ("redis", "shoal"), ("shoal", "redis"), ("redis", "redis")]
# On a replica, with READONLY: what redis-server 7.0.15 answers (the redis-to-redis case checks it).
REPLICA_CALLS = [("FCALL", "f2", "1", "{t}k"), ("FCALL_RO", "f2", "1", "{t}k"), ("FCALL", "f2", "0"),
                 ("FCALL", "w", "0"), ("FCALL_RO", "w", "0"), ("FCALL", "w", "1", "{t}k"),
                 ("FCALL_RO", "w", "1", "{t}k"), ("FCALL", "nosuch", "1", "{t}k"), ("FUNCTION", "LOAD", OTHER_LIB),
                 ("FUNCTION", "DELETE", "mylib"), ("FUNCTION", "LIST", "LIBRARYNAME", "zz")]
REPLICA_REPLIES = [
    b"$1\r\nx\r\n", b"$1\r\nx\r\n",
    b"-ERR Lua redis lib command arguments must be strings or integers script: f2, on @user_function:3.\r\n",
    b"-READONLY You can't write against a read only replica.\r\n",
    b"-READONLY You can't write against a read only replica.\r\n",
    b"-MOVED 15891 127.0.0.1:PORT\r\n", b"-MOVED 15891 127.0.0.1:PORT\r\n", b"-ERR Function not found\r\n",
    b"-READONLY You can't write against a read only replica.\r\n",
    b"-READONLY You can't write against a read only replica.\r\n", b"*0\r\n"]


@pytest.mark.parametrize("mkind,rkind", REPL_PAIRS, ids=[f"{m}-to-{r}" for m, r in REPL_PAIRS])
def test_libraries_replicate_both_ways_with_redis(servers, mkind, rkind):
    """A replica gets its master's libraries in the full sync's RDB, then FUNCTION LOAD,
    RESTORE, DELETE and FLUSH from the stream, and a function's writes as their effects;
    a READONLY client runs no-writes functions there; write functions are refused."""
    import replhelpers as rh

    def before(master):
        _fill_libraries(master)

    master, replica, _ = rh.make_pair(servers, mkind, rkind, writes_before=before)
    with master.raw() as c:
        payload = None
        assert c.call("FUNCTION", "LOAD", OTHER_LIB) == b"other"
        payload = c.call("FUNCTION", "DUMP")
        assert c.call("FUNCTION", "DELETE", "other") == "OK"
        assert c.call("FUNCTION", "LOAD", "REPLACE", LIB.replace("return 1 end", "return 11 end")) == b"mylib"
        assert c.call("FUNCTION", "RESTORE", payload, "REPLACE") == "OK"
        assert c.call("FCALL", "w", "1", "{t}k") == "OK"
        assert c.call("WAIT", "1", "5000") == 1
    rh.wait_offsets_equal(master, replica)
    assert _libraries(replica) == _libraries(master)
    with replica.raw() as c:
        assert c.call("READONLY") == "OK"
        got = [c.raw(*cmd).replace(str(master.port).encode(), b"PORT") for cmd in REPLICA_CALLS]
    assert got == REPLICA_REPLIES
    with master.raw() as c:
        assert c.call("FUNCTION", "FLUSH", "ASYNC") == "OK"
        assert c.call("WAIT", "1", "5000") == 1
    rh.wait_offsets_equal(master, replica)
    assert _libraries(replica) == []


def test_info_counts_same_as_redis(snode, sref):
    """INFO memory's number_of_functions and number_of_libraries, as 7.0.15 counts them."""
    got = []
    for srv in (sref, snode):
        with srv.raw() as c:
            assert c.call("FUNCTION", "FLUSH") == "OK"
            assert c.call("FUNCTION", "LOAD", LIB) == b"mylib"
            assert c.call("FUNCTION", "LOAD", OTHER_LIB) == b"other"
            mem = h.info_dict(c.call("INFO", "memory"))
            got.append((mem["number_of_functions"], mem["number_of_libraries"]))
    assert got[1] == got[0] == ("7", "2")


def test_cluster_routing_same_as_redis(servers):
    """In a 3-master cluster: FCALL's declared keys route it as EVAL's do (MOVED to the slot's
    owner, CROSSSLOT, ASK and ASKING during a migration), a key of another node touched by
    a function fails, FCALL_RO reads; replies equal to redis-server's up to port numbers."""
    import bushelpers as bh
    code = lib("route", "redis.register_function{function_name='get', flags={'no-writes'}, "
                        "callback=function(k) return redis.call('get', k[1]) end}\n"
                        "redis.register_function('set', function(k, a) return redis.call('set', k[1], a[1]) end)\n"
                        "redis.register_function('other', function(k, a) return redis.call('get', a[1]) end)")
    results = []
    for kind in ("redis", "shoal"):
        nodes = bh.start_cluster(servers, 3, kind=kind)
        index = {str(n.port).encode(): str(i).encode() for i, n in enumerate(nodes)}

        def norm(reply):
            for port, i in index.items():
                reply = reply.replace(b":" + port, b":N" + i)
            return reply

        for n in nodes:
            with n.raw() as c:
                assert c.call("FUNCTION", "LOAD", code) == b"route"
        owner = {}   # the node serving each key, from where node 0 sends it
        keys = ["{a}", "{b}", "{c}", "{d}", "{e}"]
        replies = []
        with nodes[0].raw() as c:
            for k in keys:
                r = c.raw("FCALL", "set", "1", k, "v")
                replies.append(norm(r))
                if r.startswith(b"-MOVED"):
                    owner[k] = next(n for n in nodes if str(n.port).encode() in r)
                else:
                    owner[k] = nodes[0]
            replies.append(norm(c.raw("FCALL", "get", "2", "{a}", "{b}")))
            replies.append(norm(c.raw("FCALL_RO", "get", "1", keys[0])))
        local = next(k for k in keys if owner[k] is nodes[0])
        remote = next(k for k in keys if owner[k] is not nodes[0])
        with nodes[0].raw() as c:
            replies.append(norm(c.raw("FCALL", "other", "1", local, remote)))
            replies.append(norm(c.raw("FCALL", "other", "0", local, local)))
        # a migration of `local`'s slot from node 0 to the remote key's owner
        src, dst = nodes[0], owner[remote]
        slot = str(h.key_slot(local))
        with src.raw() as s, dst.raw() as d:
            assert d.call("CLUSTER", "SETSLOT", slot, "IMPORTING", bh.myid(src)) == "OK"
            assert s.call("CLUSTER", "SETSLOT", slot, "MIGRATING", bh.myid(dst)) == "OK"
            replies.append(norm(s.raw("FCALL", "get", "1", local)))            # the key is still here
            missing = local + "missing"                                         # same slot, no key
            replies.append(norm(s.raw("FCALL", "get", "1", missing)))          # ASK
            replies.append(norm(d.raw("FCALL", "get", "1", missing)))          # MOVED back without ASKING
            assert d.call("ASKING") == "OK"
            replies.append(norm(d.raw("FCALL", "get", "1", missing)))          # served
        results.append(replies)
    assert results[1] == results[0]


def test_stats_and_kill_of_a_busy_function_as_redis(servers):
    """FUNCTION STATS while a function is busy shows it (name, command; duration_ms counts
    up), RESP2 and RESP3; while an EVAL is busy it answers -BUSY; FUNCTION KILL stops the
    function; with 2 workers shoal shows it to a client of either worker."""
    spin = lib("busy", "redis.register_function{function_name='spin', flags={'no-writes'}, "
                       "callback=function() local i = 0 while true do i = i + 1 end end}")

    def duration_masked(reply):
        i = reply.find(b"duration_ms\r\n:")
        return reply if i < 0 else reply[:i + 14] + b"D" + reply[reply.index(b"\r\n", i + 14):]

    # an even slot below 8192 and an odd one above: different workers of 2 whether slots are
    # dealt out by parity or by halves
    keys = [next(k for k in (f"{{s{i}}}" for i in range(9999)) if h.key_slot(k) % 2 == p and
                 (h.key_slot(k) < 8192) == (p == 0)) for p in (0, 1)]
    got = []
    for kind, workers in (("redis", None), ("shoal", 1), ("shoal", 2)):
        srv = h.single_node(servers, kind, workers=workers) if kind == "shoal" else h.single_node(servers, kind)
        out = []
        with srv.raw(timeout=10) as a, srv.raw() as b, srv.raw() as b3:
            assert b.call("CONFIG", "SET", "busy-reply-threshold", "100") == "OK"
            assert b.call("FUNCTION", "LOAD", spin) == b"busy"
            b3.raw("HELLO", "3")
            out.append(b.raw("FUNCTION", "STATS"))
            for key in keys:   # keys of both workers: the caller's own, and one its worker must not borrow
                a.send(h.encode("FCALL", "spin", "1", key, "arg"))
                deadline = time.monotonic() + 5
                while not b.raw("FUNCTION", "STATS").startswith(b"*4\r\n$14\r\nrunning_script\r\n*6"):
                    assert time.monotonic() < deadline, "the function never showed in FUNCTION STATS"
                    time.sleep(0.02)
                first = b.raw("FUNCTION", "STATS")
                time.sleep(0.2)
                d1 = int(first.split(b"duration_ms\r\n:")[1].split(b"\r\n")[0])
                second = b.raw("FUNCTION", "STATS")
                d2 = int(second.split(b"duration_ms\r\n:")[1].split(b"\r\n")[0])
                assert d2 >= d1 + 150, (d1, d2)
                out += [duration_masked(first), duration_masked(b3.raw("FUNCTION", "STATS"))]
                out.append(b.raw("SCRIPT", "KILL"))
                out.append(b.raw("FUNCTION", "KILL"))
                out.append(a.read()[0])
                out.append(b.raw("FUNCTION", "STATS"))
            a.send(h.encode("EVAL", "while true do end", "0"))
            h.wait_until(lambda: b.raw("FUNCTION", "STATS").startswith(b"-BUSY"), 5, what="the EVAL turned busy")
            out.append(b.raw("FUNCTION", "STATS"))
            out.append(b.raw("SCRIPT", "KILL"))
            a.read()
        got.append(out)
    assert got[1] == got[0]
    assert got[2] == got[0]
