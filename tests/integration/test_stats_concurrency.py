"""Statistics under concurrency.

Every worker counts its own commands and errors; INFO and CONFIG RESETSTAT read or reset
them from whichever worker the asking client is on. The stress test runs INFO, CONFIG
RESETSTAT and commands failing with new error codes on connections spread over both
workers at once: under `make test-tsan` (a ThreadSanitizer build of the node) any data
race on the counters is reported in the node's log, which fails the test (conftest.py).
The other tests check the results against redis-server: a reset is seen at once by a
client on any worker, and the counts after it are exact.
"""
import threading
import time

import helpers as h

# Commands that fail, each with its own error code (the code is the reply's first word).
FAILING = [
    ("NOSUCHCOMMAND",),                 # ERR unknown command
    ("INCR", "{s}str"),                 # ERR value is not an integer
    ("MSET", "a", "1", "b", "2"),       # CROSSSLOT
    ("HELLO", "9"),                     # NOPROTO
    ("EXEC",),                          # ERR EXEC without MULTI
]


def _conns(server, n):
    return [h.RawConn(server.port, timeout=10) for _ in range(n)]


def _run_for(seconds, fns):
    stop = threading.Event()
    errors = []

    def loop(fn):
        try:
            while not stop.is_set():
                fn()
        except Exception as e:  # noqa: BLE001 - reported by the test below
            errors.append(repr(e))

    threads = [threading.Thread(target=loop, args=(fn,)) for fn in fns]
    for t in threads:
        t.start()
    time.sleep(seconds)
    stop.set()
    for t in threads:
        t.join(30)
    return errors


def test_info_resetstat_and_new_error_codes_concurrently(servers):
    node = servers.shoal(["--worker-threads", "2", "--enable-debug-command", "yes"])
    h.own_all_slots(node)
    h.spread_connections(node)
    conns = _conns(node, 6)           # accepted round-robin: three on each worker
    conns[0].call("SET", "{s}str", "abc")

    def fail_some(c):
        def fn():
            for cmd in FAILING:
                assert isinstance(c.call(*cmd), h.Error)
            # A MULTI with a bad command: EXECABORT.
            c.call("MULTI")
            c.call("NOSUCH")
            assert isinstance(c.call("EXEC"), h.Error)
        return fn

    def info(c):
        return lambda: c.call("INFO", "everything")

    def reset(c):
        def fn():
            assert c.call("CONFIG", "RESETSTAT") == "OK"
        return fn

    errors = _run_for(2.0, [info(conns[0]), info(conns[1]), reset(conns[2]), reset(conns[3]),
                            fail_some(conns[4]), fail_some(conns[5])])
    assert not errors, errors
    with conns[0] as c:
        assert c.call("PING") == "PONG"
    for c in conns[1:]:
        c.close()


def _stats(conn, section):
    text = conn.call("INFO", section).decode()
    return {k: v for k, v in (ln.split(":", 1) for ln in text.splitlines()
                              if ln and not ln.startswith("#"))}


def _workload(server):
    """Commands and errors on four connections (both workers of shoal); returns them."""
    conns = _conns(server, 4)
    for c in conns:
        c.call("SET", "{s}str", "abc")
        c.call("GET", "{s}str")
        for cmd in FAILING:
            c.call(*cmd)
    return conns


def _reset_seen_everywhere(server):
    conns = _workload(server)
    try:
        assert conns[0].call("CONFIG", "RESETSTAT") == "OK"
        seen = []
        for c in conns:
            err = _stats(c, "errorstats")
            cmd = {k: v.split(",")[0] for k, v in _stats(c, "commandstats").items()}
            stats = _stats(c, "stats")
            seen.append((err, cmd, stats["total_error_replies"], stats["total_commands_processed"]))
        # After one more round of commands on every connection, the counts are exact sums.
        for c in conns:
            c.call("GET", "{s}str")
            c.call("NOSUCHCOMMAND")
        after = (_stats(conns[1], "errorstats"),
                 {k: v.split(",")[0] for k, v in _stats(conns[2], "commandstats").items()})
        return seen, after
    finally:
        for c in conns:
            c.close()


def test_resetstat_is_seen_at_once_from_every_worker(servers):
    node = servers.shoal(["--worker-threads", "2", "--enable-debug-command", "yes"])
    ref = servers.redis()
    h.own_all_slots(node)
    h.own_all_slots(ref)
    h.spread_connections(node)
    got, ref_got = _reset_seen_everywhere(node), _reset_seen_everywhere(ref)
    assert got == ref_got
    seen, after = got
    assert seen[0][0] == {}                     # no errorstat line right after the reset
    assert after[0] == {"errorstat_ERR": "count=4"}
