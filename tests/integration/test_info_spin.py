"""INFO threads' spin lines: each runtime thread's spins before sleep and their CPU time.

What it is for: a worker that just handled work watches for more for a few microseconds
before it sleeps (runtime/actor.c, rt_thread_set_spin_us). That time shows in the thread's
CPU time but is not work: the scripting bench (bench/script_bench.py) subtracts it when it
projects the rate of a thread with a core of its own. So INFO threads gives, for every
thread line, `spin<i>:name=<same name>,spins=..,catches=..,spin_us=..`; a spin is part of
the thread's run time, so spin_us never exceeds what /proc says the thread ran, and the
counters only grow. redis-server has no such section (INFO threads is shoal's own).

What it must never do: stop a process it did not start, or wait without a deadline.
"""
import re
import socket
import sys
import threading
from pathlib import Path

import helpers as h

sys.path.insert(0, str(Path(__file__).resolve().parents[2] / "bench"))
import run as bench_run        # noqa: E402  (bench/ is not a package)

THREAD = re.compile(r"^thread(\d+):name=([^,]+),wakeups=")
SPIN = re.compile(r"^spin(\d+):name=([^,]+),spins=(\d+),catches=(\d+),spin_us=(\d+)$")


def _spins(conn):
    text = conn.call("INFO", "threads")
    text = text.decode() if isinstance(text, bytes) else str(text)
    threads, spins = {}, {}
    for line in text.split("\r\n"):
        m = THREAD.match(line)
        if m:
            threads[int(m.group(1))] = m.group(2)
        m = SPIN.match(line)
        if m:
            spins[int(m.group(1))] = (m.group(2), int(m.group(3)), int(m.group(4)), int(m.group(5)))
    return threads, spins


def _run_us(pid):
    """{thread name: run time in microseconds} (bench/run.py's reader of /proc schedstat)."""
    return {name: ns // 1000 for name, ns in bench_run.thread_run_ns(pid).items()}


def _traffic(port, rounds, errors):
    """Pipelines of INCRs on keys of both workers, with pauses a spinner can catch."""
    try:
        with socket.create_connection(("127.0.0.1", port), timeout=10) as s:
            for r in range(rounds):
                req = b"".join(h.encode("INCR", f"spin:{r}:{i}") for i in range(20))
                s.sendall(req)
                got = b""
                while got.count(b"\r\n") < 20:
                    chunk = s.recv(65536)
                    if not chunk:
                        raise ConnectionError("closed")
                    got += chunk
    except Exception as e:   # noqa: BLE001 - reported by the test
        errors.append(repr(e))


def test_every_thread_has_a_spin_line_within_its_run_time(servers):
    srv = servers.shoal(["--worker-threads", "2"])
    h.own_all_slots(srv)
    c = h.RawConn(srv.port)
    try:
        threads, before = _spins(c)
        assert threads, "no thread lines"
        assert set(before) == set(threads), (threads, before)
        for i, name in threads.items():
            assert before[i][0] == name
        errors = []
        ts = [threading.Thread(target=_traffic, args=(srv.port, 300, errors)) for _ in range(4)]
        for t in ts:
            t.start()
        for t in ts:
            t.join(timeout=60)
        assert not any(t.is_alive() for t in ts) and not errors, errors
        _, after = _spins(c)
        run = _run_us(srv.pid)
        for i, (name, spins, catches, spin_us) in after.items():
            _, spins0, catches0, spin_us0 = before[i]
            assert spins >= spins0 and catches >= catches0 and spin_us >= spin_us0, (name, before[i], after[i])
            assert catches <= spins, after[i]
            if name in run:
                assert spin_us <= run[name], (name, spin_us, run[name])
    finally:
        c.close()
