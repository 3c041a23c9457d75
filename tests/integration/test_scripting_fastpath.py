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
