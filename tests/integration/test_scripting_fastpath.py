"""What the fast path of EVAL/EVALSHA and redis.call keeps of 7.0.15's behaviour (issue 15,
the scripting bench): each test pins a behaviour that a shortcut taken for speed could break.

What it is for: the script path was trimmed for CPU (the collector's cadence, global reads,
the slot checks of each call, the text of number arguments); the same scripts give
redis-server 7.0.15's replies, and the collector still reclaims a script's garbage.

What it must never do: weaken an expectation to match our node; the reference server is
the contract.
"""
import helpers as h

GARBAGE = "local t = {} for i = 1, 20000 do t[i] = 'x' .. i end return #t"


def _vm_eval(c):
    info = c.call("INFO", "memory").decode()
    return int(next(ln.split(":")[1] for ln in info.splitlines() if ln.startswith("used_memory_vm_eval:")))


def test_collector_reclaims_garbage_between_small_scripts(servers):
    """A script that leaves a megabyte of garbage, then only small scripts (too little allocation
    for Lua's own collector to start a cycle): 7.0.15 steps the collector every 50 scripts, so
    the Lua VM comes back near its size before; it does on both."""
    for kind in ("shoal", "redis"):
        srv = h.single_node(servers, kind, workers=1) if kind == "shoal" else h.single_node(servers, kind)
        with srv.raw() as c:
            assert c.call("EVAL", "return 1", "0") == 1
            base = _vm_eval(c)
            assert c.call("EVAL", GARBAGE, "0") == 20000
            assert _vm_eval(c) > base + 1_000_000, kind
            c.send(h.encode("EVAL", "return 1", "0") * 400)
            assert [c.read()[1] for _ in range(400)] == [1] * 400
            after = _vm_eval(c)
        assert after < 2 * base, f"{kind}: Lua VM {after} bytes after the small scripts, {base} before"


# Numbers given to redis.call become their %.17g text (7.0.15's luaArgsToRedisArgv); integers
# take a shorter path here, so both sides of each of its bounds are compared (z is a zero known
# only when the script runs: -z is a negative zero, which a constant -0 is not in Lua 5.1).
NUMBERS = ["0", "-0", "-z", "z * -1", "0/0", "1/0", "-1/0", "1", "-1", "3600", "0.5", "-0.5", "1/3", "1e15", "1e16",
           "1e16 + 1", "99999999999999984", "-99999999999999984", "1e17", "-1e17", "1e17 + 16",
           "2^53", "2^53 + 1", "-2^53", "2^62", "2^63", "-2^63", "2^64", "1e300", "1e-300",
           "123456789.25", "-123456789012345", "4503599627370495.5"]


def test_number_arguments_same_text_as_redis(snode, sref):
    script = ("local z = 0 local r = {} for i, v in ipairs({" + ", ".join(NUMBERS) + "}) do "
              "redis.call('set', KEYS[1], v) r[i] = redis.call('get', KEYS[1]) end "
              "r[#r + 1] = redis.call('incrby', KEYS[2], 7) r[#r + 1] = redis.call('getrange', KEYS[1], 0, -1) "
              "return r")
    got = [srv_raw(srv, "EVAL", script, "2", "{n}a", "{n}b") for srv in (snode, sref)]
    assert got[0] == got[1]
    assert b"3600" in got[0] and b"99999999999999984" in got[0] and b"$2\r\n-0\r\n" in got[0]


def srv_raw(srv, *args):
    with srv.raw() as c:
        c.call("DEL", "{n}a", "{n}b")
        return c.raw(*args)


def _worker_of(key, nworkers=2):
    return (h.crc16(key.encode()) % 16384) % nworkers


def _key_on(worker, prefix):
    return next(k for k in (f"{prefix}{i}" for i in range(10000)) if _worker_of(k) == worker)


K0, K1 = _key_on(0, "w0:"), _key_on(1, "w1:")
# The slot of a call's key that equals the first declared key is the one computed when the
# script started; any other key's is computed for the call. Scripts whose calls mix the first
# declared key, the same bytes passed through ARGV, other declared keys and undeclared keys of
# both workers, with and without a shebang (one slot per script), as redis-server answers them.
KEY_SCRIPTS = [
    ("return {redis.call('incr', KEYS[1]), redis.call('incr', ARGV[1]), redis.call('get', KEYS[1])}", [K0], [K0]),
    ("return {redis.call('incr', KEYS[1]), redis.call('incr', KEYS[2]), redis.call('incr', ARGV[1])}", [K1, K0], [K1]),
    ("return {redis.call('incr', KEYS[2]), redis.call('incr', KEYS[1])}", [K0, K1], []),
    ("return {redis.call('incr', ARGV[1]), redis.call('incr', KEYS[1])}", [K1], [K0]),
    ("return redis.call('mget', KEYS[1], ARGV[1])", [K0], [K0]),
    ("return redis.pcall('mget', KEYS[1], ARGV[1])", [K0], [K1]),
    ("#!lua\nreturn {redis.call('incr', KEYS[1]), redis.call('incr', ARGV[1])}", [K0], [K0]),
    ("#!lua\nreturn {redis.call('incr', KEYS[1]), redis.pcall('incr', ARGV[1])}", [K0], [K1]),
    ("#!lua\nreturn {redis.pcall('incr', ARGV[1]), redis.pcall('incr', KEYS[1])}", [K1], [K0]),
    ("#!lua\nreturn {redis.pcall('incr', ARGV[1]), redis.pcall('incr', ARGV[2])}", [], [K0, K1]),
    ("#!lua flags=allow-cross-slot-keys\nreturn {redis.call('incr', KEYS[1]), redis.call('incr', ARGV[1])}",
     [K0], [K1]),
]


def _key_replies(srv, cases):
    out = []
    for script, keys, args in cases:
        for _ in range(2):            # two connections: on both workers of a shoal node
            with srv.raw() as c:
                out.append(c.raw("EVAL", script, str(len(keys)), *keys, *args))
    return out


def test_call_key_slots_as_redis_cluster(servers):
    """Cluster mode, one node owning every slot (2 workers): the same replies and errors."""
    cases = [c for c in KEY_SCRIPTS if len(c[1]) < 2 or len({h.crc16(k.encode()) % 16384 for k in c[1]}) == 1]
    cases.append(("return redis.call('incr', KEYS[1])", [K0, K1], []))    # CROSSSLOT
    got = []
    for kind in ("shoal", "redis"):
        if kind == "shoal":
            srv = servers.shoal(["--worker-threads", "2", "--enable-debug-command", "yes"])
            h.own_all_slots(srv)
            h.spread_connections(srv)
        else:
            srv = h.single_node(servers, kind)
        got.append(_key_replies(srv, cases))
    assert got[0] == got[1]
    assert any(b"do not hash to the same slot" in r for r in got[0])


def test_call_key_slots_as_redis_standalone(servers):
    """Standalone, 2 workers: declared keys of both workers, undeclared ones, the same replies."""
    got = []
    for kind in ("shoal", "redis"):
        port = h.free_port()
        args = ["--port", str(port), "--bind", "127.0.0.1", "--save", "", "--cluster-enabled", "no"]
        if kind == "shoal":
            srv = servers.shoal(base_args=False, port=port,
                                extra_args=args + ["--worker-threads", "2", "--enable-debug-command", "yes"])
            h.spread_connections(srv)
        else:
            srv = servers.redis(base_args=False, port=port, extra_args=args + ["--daemonize", "no"])
        got.append(_key_replies(srv, KEY_SCRIPTS))
    assert got[0] == got[1]


def test_many_scripts_returning_errors_leave_the_stack_as_it_was(servers):
    """9000 scripts that return an error, then scripts that return values: each reply as
    redis-server's (the error path used to leave a value on the worker's Lua stack, and past
    about 8000 every script answered -ERR reached lua stack limit)."""
    n = 9000
    for kind in ("shoal", "redis"):
        srv = h.single_node(servers, kind, workers=1) if kind == "shoal" else h.single_node(servers, kind)
        with srv.raw(timeout=60) as c:
            for script in ("return redis.error_reply('x')", "return {err = 'y'}", "error('z')"):
                c.send(h.encode("EVAL", script, "0") * n)
                replies = [c.read()[0] for _ in range(n)]
                assert len(set(replies)) == 1 and replies[0].startswith(b"-"), (kind, replies[0])
                assert c.raw("EVAL", "return {1, 2}", "0") == b"*2\r\n:1\r\n:2\r\n", kind


# Blocks of every size class and across their bounds (script_alloc.c keeps small blocks on
# lists by 16-byte class): strings of 1..300 bytes, tables grown one element at a time past
# 256 bytes and shrunk again by the collector, a digest of everything built.
ALLOC_SCRIPT = """
local parts = {}
for n = 1, 300 do parts[#parts + 1] = string.rep(string.char(65 + n % 26), n) end
local t = {}
for i = 1, 600 do t[i] = {i, tostring(i) .. ARGV[1]} end
for i = 600, 1, -3 do t[i] = nil end
collectgarbage()
local acc = {}
for i = 1, 600 do if t[i] then acc[#acc + 1] = t[i][2] end end
local h = {}
for i = 1, 200 do h['k' .. i] = string.rep('v', i) end
for i = 1, 200, 2 do h['k' .. i] = nil end
local n = 0
for k, v in pairs(h) do n = n + #v end
return {redis.sha1hex(table.concat(parts)), redis.sha1hex(table.concat(acc, ',')), n, #acc}
"""


def test_lua_blocks_of_every_size_same_as_redis(snode, sref):
    """Strings and tables of every small size class, grown and shrunk, digests as redis-server's;
    on the same connection again after SCRIPT FLUSH (the state closed with its lists, a new one)."""
    for srv in (snode, sref):
        with srv.raw() as c:
            c.call("SCRIPT", "FLUSH")
    got = []
    for srv in (snode, sref):
        with srv.raw() as c:
            out = [c.raw("EVAL", ALLOC_SCRIPT, "0", str(i)) for i in range(3)]
            assert c.call("SCRIPT", "FLUSH") == "OK"
            out += [c.raw("EVAL", ALLOC_SCRIPT, "0", "x") for _ in range(2)]
        got.append(out)
    assert got[0] == got[1]


def _script_no(i):
    return f"return {{{i}, KEYS[1], ARGV[1]}}"


def test_many_shas_each_runs_its_own_script(servers):
    """300 scripts loaded (more than a worker's index of recent shas holds, so entries are
    replaced and shas share index slots): EVALSHA of each, in an order that alternates them,
    runs that script with its own flags; SCRIPT FLUSH makes every one NOSCRIPT."""
    srv = servers.shoal(["--worker-threads", "1"])
    h.own_all_slots(srv)
    scripts = ["#!lua\n" + _script_no(i) if i % 3 else "#!lua flags=no-writes\n" + _script_no(i) for i in range(300)]
    with srv.raw() as c:
        shas = [c.call("SCRIPT", "LOAD", s).decode() for s in scripts]
        order = list(range(300)) + list(range(299, -1, -7)) + list(range(0, 300, 5)) * 2
        for i in order:
            assert c.call("EVALSHA", shas[i], "1", "{k}", str(i)) == [i, b"{k}", str(i).encode()], i
            ro = c.call("EVALSHA_RO", shas[i], "1", "{k}", "ro")
            if i % 3:
                assert isinstance(ro, h.Error) and "write flag" in str(ro), (i, ro)
            else:
                assert ro == [i, b"{k}", b"ro"], i
        assert c.call("SCRIPT", "FLUSH") == "OK"
        for i in (0, 1, 150):
            r = c.call("EVALSHA", shas[i], "1", "{k}", "x")
            assert isinstance(r, h.Error) and str(r).startswith("NOSCRIPT"), r
        assert c.call("EVAL", scripts[7], "1", "{k}", "again") == [7, b"{k}", b"again"]
        assert c.call("EVALSHA", shas[7], "1", "{k}", "back") == [7, b"{k}", b"back"]


# redis.call's replies go through one buffer per worker, reused from call to call: replies
# of every size in a row (one past the 64 KB it keeps), in RESP2 and RESP3 (redis.setresp
# between calls), errors among them.
REPLY_SCRIPT = """
redis.call('set', KEYS[1], string.rep('x', 100000))
redis.call('hset', KEYS[2], 'f', 'v', 'g', 'w')
local big = redis.call('get', KEYS[1])
local r = {#big, redis.call('strlen', KEYS[1])}
redis.setresp(3)
r[#r + 1] = redis.call('hgetall', KEYS[2])['map']['f']
r[#r + 1] = redis.pcall('incr', KEYS[2])['err']
redis.setresp(2)
r[#r + 1] = redis.call('hgetall', KEYS[2])
r[#r + 1] = redis.sha1hex(redis.call('get', KEYS[1]))
r[#r + 1] = redis.call('getrange', KEYS[1], 0, 4)
r[#r + 1] = redis.pcall('lpush', KEYS[1], 'a')['err']
return r
"""


def test_call_replies_of_every_size_same_as_redis(snode, sref):
    got = []
    for srv in (snode, sref):
        with srv.raw() as c:
            got.append([c.raw("EVAL", REPLY_SCRIPT, "2", "{r}big", "{r}h") for _ in range(3)])
    assert got[0] == got[1]
    assert got[0][0].startswith(b"*8\r\n:100000\r\n:100000\r\n")
