"""MONITOR shows every command of every worker as redis-server 7.0.15 shows it.

What it is for: operators and test harnesses watch a node's traffic with MONITOR (and
redis-cli monitor). The same session sent to shoal (three workers, connections spread
over all of them) and to redis-server gives the same lines: `+<time> [0 <addr>] "arg"
...` with 7.0.15's quoting, secrets redacted, admin commands hidden, a transaction's
commands shown as EXEC runs them; a second MONITOR is ignored; RESET and closing end it.

What it must never do: relax an expectation to match our node; signal a process it did
not start.
"""
import re
import time

import helpers as h

LINE = re.compile(rb"^\+(\d+)\.(\d{6}) \[0 127\.0\.0\.1:(\d+)\] (.*)$")


def _lines(mon, n, timeout=5.0):
    out = []
    deadline = time.monotonic() + timeout
    while len(out) < n and time.monotonic() < deadline:
        raw, v = mon.read()
        out.append(raw)
    return out


def _session(srv):
    mon = srv.raw()
    conns = [srv.raw() for _ in range(4)]
    try:
        ports = [c.sock.getsockname()[1] for c in conns]
        pre = mon.raw("MONITOR")
        again = mon.sock.sendall(h.encode("MONITOR"))          # ignored: no reply at all
        a, b, c, d = conns
        sent = 0
        for i in range(12):
            conns[i % 4].call("SET", f"k{i}", f"v {i}\"\\\n\x01")
            sent += 1
        a.call("GET", "k1"); sent += 1
        b.call("AUTH", "secret"); sent += 1
        b.call("HELLO", "2", "AUTH", "user", "pass"); sent += 1
        c.call("CONFIG", "GET", "maxmemory")                     # admin: hidden
        c.call("CLIENT", "LIST")                                 # admin: hidden
        c.call("CLIENT", "SETNAME", "x"); sent += 1
        d.call("MULTI"); sent += 1
        d.call("SET", "{t}a", "1")
        d.call("INCR", "{t}a")
        d.call("EXEC"); sent += 3
        d.call("NOSUCHCOMMAND")                                  # refused before the call: hidden
        d.call("GET")                                            # wrong arity: hidden
        lines = _lines(mon, sent)
        norm = []
        for ln in lines:
            m = LINE.match(ln.rstrip(b"\r\n"))
            assert m, ln
            assert abs(int(m.group(1)) - time.time()) < 60
            norm.append((ports.index(int(m.group(3))), m.group(4)))
        # nothing more came (the hidden commands, the second MONITOR's reply)
        a.call("PING"); sent += 1
        last = _lines(mon, 1)
        assert LINE.match(last[0].rstrip(b"\r\n")).group(4) == b'"PING"', last
        assert mon.call("RESET") == "RESET"                         # ends MONITOR
        a.call("SET", "after", "reset")
        assert mon.call("PING") == "PONG"
        return pre, norm
    finally:
        for x in conns + [mon]:
            x.close()


def _per_conn(norm):
    out = {}
    for i, line in norm:
        out.setdefault(i, []).append(line)
    return out


def test_monitor_as_redis(servers):
    got = {}
    for srv in (servers.shoal(extra_args=["--worker-threads", "3", "--enable-debug-command", "yes"],
                              base_args="standalone"),
                servers.redis(base_args="standalone")):
        if srv.kind == "shoal":
            assert srv.raw().call("DEBUG", "PLACEMENT", "SPREAD") == "OK"
        got[srv.kind] = _session(srv)
    assert got["shoal"][0] == got["redis"][0] == b"+OK\r\n"
    # one connection's commands in its order; connections interleave as they ran
    assert _per_conn(got["shoal"][1]) == _per_conn(got["redis"][1])
    assert (0, b'"SET" "k0" "v 0\\"\\\\\\n\\x01"') in got["shoal"][1]
    assert (1, b'"AUTH" "(redacted)"') in got["shoal"][1]
    assert (1, b'"HELLO" "2" "AUTH" "(redacted)" "(redacted)"') in got["shoal"][1]


def test_monitor_flag_in_client_list_and_close(servers):
    srv = servers.shoal(extra_args=["--worker-threads", "2"], base_args="standalone")
    mon = srv.raw()
    assert mon.call("MONITOR") == "OK"
    with srv.raw() as c:
        line = [ln for ln in c.call("CLIENT", "LIST").decode().splitlines() if "cmd=monitor" in ln][0]
        assert " flags=O " in line
        mon.close()
        h.wait_until(lambda: "cmd=monitor" not in c.call("CLIENT", "LIST").decode(), 5)
        # with no monitor left, commands go on as before
        for i in range(100):
            assert c.call("SET", f"x{i}", "y") == "OK"
