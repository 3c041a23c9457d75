"""Busy scripts (issue 15): a script past busy-reply-threshold (lua-time-limit) makes the other
clients of its worker get 7.0.15's -BUSY, SCRIPT KILL stops it (-UNKILLABLE once it wrote,
-NOTBUSY when none runs), SHUTDOWN NOSAVE ends the node under it, and clients of other
workers go on.

What it is for: the same steps against our node (one worker: every client shares the
script's worker) and a real redis-server 7.0.15, reply bytes compared; then, on a node of
several workers, that a client of another worker is not blocked.

What it must never do: weaken an expectation to match our node; the reference server is
the contract.
"""
import time

import helpers as h

SPIN = "while true do end"


def _wait_busy(c):
    """PINGs until the node answers -BUSY (the script passed the threshold); returns that reply."""
    deadline = time.monotonic() + 5
    while time.monotonic() < deadline:
        r = c.raw("PING")
        if r.startswith(b"-BUSY"):
            return r
        time.sleep(0.02)
    raise AssertionError("the node never turned busy")


def _node(servers, kind, workers=1):
    srv = h.single_node(servers, kind, workers=workers) if kind == "shoal" else h.single_node(servers, kind)
    with srv.raw() as c:
        assert c.call("CONFIG", "SET", "busy-reply-threshold", "100") == "OK"
    return srv


def _kill_steps(srv, script, nkeys_args):
    out = []
    with srv.raw(timeout=10) as a, srv.raw() as b:
        out.append(b.raw("SCRIPT", "KILL"))                  # nothing runs: -NOTBUSY
        a.send(h.encode("EVAL", script, *nkeys_args))
        out.append(_wait_busy(b))
        out.append(b.raw("GET", "k"))                        # any command: -BUSY
        out.append(b.raw("SHUTDOWN"))                        # only with NOSAVE
        out.append(b.raw("SCRIPT", "KILL"))
        out.append(a.read()[0])                              # the killed script's error
        out.append(b.raw("PING"))
        out.append(a.raw("PING"))
    return out


def test_busy_and_script_kill_as_redis(servers):
    got = [_kill_steps(_node(servers, kind), SPIN, ("0",)) for kind in ("shoal", "redis")]
    assert got[0] == got[1]
    assert got[0][1] == b"-BUSY Redis is busy running a script. You can only call SCRIPT KILL or SHUTDOWN NOSAVE.\r\n"
    assert got[0][4] == b"+OK\r\n"


def test_pcall_cannot_catch_the_kill(servers):
    script = "while true do pcall(function() while true do end end) end"
    got = [_kill_steps(_node(servers, kind), script, ("0",)) for kind in ("shoal", "redis")]
    assert got[0] == got[1]


def test_unkillable_after_a_write_then_shutdown_nosave(servers):
    got = []
    for kind in ("shoal", "redis"):
        srv = _node(servers, kind)
        out = []
        with srv.raw(timeout=10) as a, srv.raw() as b:
            a.send(h.encode("EVAL", "redis.call('set', KEYS[1], 1) " + SPIN, "1", "{k}a"))
            out.append(_wait_busy(b))
            out.append(b.raw("SCRIPT", "KILL"))
            b.send(h.encode("SHUTDOWN", "NOSAVE"))
            assert srv.wait_exit(10) is not None, f"{kind} did not exit"
            srv.expected_exit = True
        got.append(out)
    assert got[0] == got[1]
    assert got[0][1].startswith(b"-UNKILLABLE Sorry the script already executed write commands")


def test_clients_of_other_workers_not_blocked(servers):
    """With 4 workers, a busy script holds its own worker only: fresh clients get PONG while
    the script runs, whichever worker accepts them (the busy worker's poll accepts too, and
    on a loaded machine it used to win the race and keep them, answering -BUSY)."""
    srv = _node(servers, "shoal", workers=4)
    with srv.raw(timeout=10) as a:
        a.send(h.encode("EVAL", SPIN, "0"))
        time.sleep(0.3)
        conns = [srv.raw() for _ in range(8)]
        try:
            replies = [c.raw("PING") for c in conns]
            assert replies == [b"+PONG\r\n"] * len(conns), replies
            # SCRIPT KILL from any worker reaches the script's
            free = conns[replies.index(b"+PONG\r\n")]
            assert free.raw("SCRIPT", "KILL") == b"+OK\r\n"
            assert a.read()[0].startswith(b"-ERR Script killed by user with SCRIPT KILL...")
        finally:
            for c in conns:
                c.close()


def test_connection_accepted_during_busy_script_stays_served(servers):
    """With 4 workers packed on one (no load), a connection accepted while that worker runs a
    busy script goes to an idle worker. That worker is not an active one, and its cron hands
    its connections to the active workers: it must not hand one to the worker in the script,
    which reads no messages until the script ends (the connection would hang, where
    redis-server answers it). Several crons pass before the PING."""
    srv = _node(servers, "shoal", workers=4)
    with srv.raw(timeout=10) as a:
        a.send(h.encode("EVAL", SPIN, "0"))
        h.wait_until(lambda: "Slow script detected" in srv.log(), 10, what="the script to turn busy")
        conns = [srv.raw(timeout=10) for _ in range(4)]
        try:
            time.sleep(1.0)   # ten crons of every worker
            replies = [c.raw("PING") for c in conns]
            assert replies == [b"+PONG\r\n"] * len(conns), replies
            assert conns[0].raw("SCRIPT", "KILL") == b"+OK\r\n"
            assert a.read()[0].startswith(b"-ERR Script killed by user with SCRIPT KILL...")
        finally:
            for c in conns:
                c.close()


def test_busy_function_and_function_kill_as_redis(servers):
    """A busy FCALL: -BUSY names FUNCTION KILL, SCRIPT KILL refuses it, FUNCTION KILL kills it."""
    lib = "#!lua name=spin\nredis.register_function('spin', function() while true do end end)"
    got = []
    for kind in ("shoal", "redis"):
        srv = _node(servers, kind)
        out = []
        with srv.raw(timeout=10) as a, srv.raw() as b:
            assert a.call("FUNCTION", "LOAD", lib) == b"spin"
            out.append(b.raw("FUNCTION", "KILL"))
            a.send(h.encode("FCALL", "spin", "0"))
            out.append(_wait_busy(b))
            out.append(b.raw("SCRIPT", "KILL"))
            out.append(b.raw("FUNCTION", "KILL"))
            out.append(a.read()[0])
            out.append(b.raw("PING"))
        got.append(out)
    assert got[0] == got[1]
    assert got[0][3] == b"+OK\r\n"
