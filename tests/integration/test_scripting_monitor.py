"""What MONITOR, SCRIPT HELP and INFO show of scripts (issue 15), compared with redis-server 7.0.15.

What it is for: a monitor sees EVAL/EVALSHA/FCALL as sent and then each command the script
called, as `[0 lua]` lines, in 7.0.15's order and quoting, whatever worker runs the script;
SCRIPT HELP's text and INFO's scripting fields are 7.0.15's.

What it must never do: weaken an expectation to match our node; the reference server is
the contract.
"""
import re
import time

import helpers as h

WORKERS = ["--worker-threads", "2", "--enable-debug-command", "yes"]

LIB = "#!lua name=mlib\nredis.register_function('mf', function(keys, args) return redis.call('incr', keys[1]) end)"

STEPS = [
    ("EVAL", "redis.call('set', KEYS[1], 'v'); return redis.call('get', KEYS[1])", "1", "k1"),
    ("EVAL", "redis.call('set', KEYS[1], 3.5); return redis.call('lpush', ARGV[1], 'a\\nb', 7)", "1", "{l}x", "{l}y"),
    ("SCRIPT", "LOAD", "return redis.call('incr', KEYS[1])"),
    ("EVALSHA", "0cfdc39f9a2c07d9a8fa5f8b8ad3f5a0ce12b2c8", "1", "k2"),
    ("EVALSHA", "ffffffffffffffffffffffffffffffffffffffff", "0"),
    ("FUNCTION", "LOAD", LIB),
    ("FCALL", "mf", "1", "k3"),
    ("EVAL", "return redis.pcall('nosuch')", "0"),
    ("EVAL", "return redis.pcall('incr', 'a', 'b')", "0"),
    ("EVAL", "return redis.pcall('config', 'get', 'maxmemory')", "0"),
    # keys of both workers of our node
    ("EVAL", "redis.call('set', 'foo', 1); return redis.call('get', 'bar')", "0"),
    ("EVAL_RO", "return redis.call('get', KEYS[1])", "1", "k1"),
    ("GET", "end"),
]


def _monitor_lines(srv):
    with srv.raw(timeout=10) as m:
        assert m.call("MONITOR") == "OK"
        for step in STEPS:
            with srv.raw() as c:
                c.call(*step)
        deadline = time.monotonic() + 5
        lines = []
        while not (lines and lines[-1].endswith('"GET" "end"')):
            assert time.monotonic() < deadline, lines
            lines.append(str(m.read()[1]))
    # the time and the client's address differ between the servers
    return [re.sub(r"^\d+\.\d{6} \[0 [^\]]*:\d+\]", "T [0 client]", re.sub(r"^\d+\.\d{6} \[0 lua\]", "T [0 lua]", ln))
            for ln in lines]


def test_monitor_shows_script_calls_as_redis(servers):
    """The monitor and the scripts' connections dealt to both workers (each script then runs
    on its keys' worker, or its caller's): the same lines, in the same order, as redis-server."""
    ref = _monitor_lines(h.single_node(servers, "redis"))
    assert 'T [0 lua] "set" "k1" "v"' in ref
    srv = servers.shoal(WORKERS)
    h.own_all_slots(srv)
    h.spread_connections(srv)
    for _ in range(3):
        assert _monitor_lines(srv) == ref


def test_script_help_as_redis(servers):
    got = []
    for kind in ("shoal", "redis"):
        srv = h.single_node(servers, kind, workers=2) if kind == "shoal" else h.single_node(servers, kind)
        with srv.raw() as c:
            got.append([c.raw("SCRIPT", "HELP"), c.raw("SCRIPT", "HELP", "x"), c.raw("COMMAND", "INFO", "script|help"),
                        c.raw("COMMAND", "DOCS", "script|help")])
    assert got[0] == got[1]


def _scripting_info(c):
    d = h.info_dict(c.call("INFO", "memory"))
    return {k: d[k] for k in d if "lua" in k or "script" in k or "function" in k or "vm" in k or "librar" in k}


def _human(n):
    """7.0.15's bytesToHuman, as INFO prints it."""
    for unit, size in (("G", 1 << 30), ("M", 1 << 20), ("K", 1 << 10)):
        if n >= size:
            return f"{n / size:.2f}{unit}"
    return f"{n}B"


def test_info_scripting_fields(servers):
    """The counts as redis-server's after the same steps; the memory figures as 7.0.15 derives
    them from one another, grown by what was loaded and run on both workers."""
    steps = [("SCRIPT", "LOAD", "return 1"), ("SCRIPT", "LOAD", "return 2"),
             ("EVAL", "return redis.call('get', KEYS[1])", "1", "a"),
             ("EVAL", "return redis.call('get', KEYS[1])", "1", "b"),
             ("FUNCTION", "LOAD", LIB), ("FCALL", "mf", "1", "c")]
    counts = []
    for kind in ("shoal", "redis"):
        srv = h.single_node(servers, kind, workers=2) if kind == "shoal" else h.single_node(servers, kind)
        with srv.raw() as c:
            before = _scripting_info(c)
            for s in steps:
                c.call(*s)
            after = _scripting_info(c)
            assert c.call("SCRIPT", "FLUSH") == "OK"
            flushed = _scripting_info(c)
        counts.append([(i["number_of_cached_scripts"], i["number_of_functions"], i["number_of_libraries"])
                       for i in (before, after, flushed)])
        for i in (before, after, flushed):
            assert set(i) == set(before)
            assert int(i["used_memory_lua"]) == int(i["used_memory_vm_eval"])
            assert int(i["used_memory_vm_total"]) == int(i["used_memory_vm_eval"]) + int(i["used_memory_vm_functions"])
            assert int(i["used_memory_scripts"]) == int(i["used_memory_scripts_eval"]) + int(i["used_memory_functions"])
            assert i["used_memory_lua_human"] == _human(int(i["used_memory_lua"]))
            assert i["used_memory_vm_total_human"] == _human(int(i["used_memory_vm_total"]))
            assert i["used_memory_scripts_human"] == _human(int(i["used_memory_scripts"]))
        assert int(after["used_memory_vm_eval"]) > 0 and int(after["used_memory_vm_functions"]) > 0
        assert int(after["used_memory_scripts_eval"]) > int(before["used_memory_scripts_eval"])
        assert int(after["used_memory_functions"]) > int(before["used_memory_functions"])
        assert int(flushed["used_memory_scripts_eval"]) == 0
    assert counts[0] == counts[1]
