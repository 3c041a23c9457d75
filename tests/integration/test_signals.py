"""Signals: SIGHUP is ignored; a crash signal logs a report and kills.

redis-server ignores SIGHUP and keeps serving; shoal died of it (default action) without
saving nodes.conf. On SIGSEGV, SIGBUS, SIGFPE, SIGILL and SIGABRT redis-server logs a bug
report with a stack trace and dies by the signal; shoal now does the same in its own words:
a header line, the signal's number and name, a stack trace, an END line.
"""
import ctypes
import os
import signal
import time

import pytest

import helpers as h

CRASH_SIGNALS = [signal.SIGSEGV, signal.SIGBUS, signal.SIGFPE, signal.SIGILL, signal.SIGABRT]


def _still_serving(server, seconds):
    """PING answered throughout `seconds` and the process alive at the end."""
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        with server.raw() as c:
            assert c.call("PING") == "PONG"
        time.sleep(0.05)
    return server.alive()


@pytest.mark.parametrize("kind", ["shoal", "redis"])
def test_sighup_leaves_the_node_running(servers, kind):
    srv = servers.shoal() if kind == "shoal" else servers.redis()
    h.own_all_slots(srv)
    with srv.raw() as c:
        assert c.call("SET", "k", "v") == "OK"
    srv.signal(signal.SIGHUP)
    assert _still_serving(srv, 0.5)
    with srv.raw() as c:
        assert c.call("GET", "k") == b"v"
        assert c.call("CLUSTER", "MYID")
    srv.signal(signal.SIGHUP)
    assert _still_serving(srv, 0.2)


def test_sighup_then_sigterm_still_saves_nodes_conf(servers):
    node = servers.shoal()
    myid = node.raw().call("CLUSTER", "MYID")
    node.signal(signal.SIGHUP)
    assert _still_serving(node, 0.3)
    node.nodes_conf.unlink()
    rc, _ = node.stop()
    assert rc == 0
    assert node.nodes_conf.exists()
    assert myid.decode() in node.nodes_conf.read_text()
    assert "Saving the cluster config file before exiting." in node.output()


SYS_TGKILL = 234  # x86_64


def _signal_main_thread(pid, sig):
    """Sends sig to the process's main thread only (tgkill): a signal sent with kill
    lands on whichever thread the kernel picks, and a thread caught at its very start
    or end has no frame of the node to name."""
    libc = ctypes.CDLL(None, use_errno=True)
    if libc.syscall(SYS_TGKILL, pid, pid, int(sig)) != 0:
        raise OSError(ctypes.get_errno(), "tgkill")


@pytest.mark.parametrize("sig", CRASH_SIGNALS, ids=lambda s: s.name)
def test_crash_signal_logs_stack_trace_and_dies_by_it(servers, sig):
    node = servers.shoal()
    node.expected_exit = True          # this test makes it die
    _signal_main_thread(node.pid, sig)
    rc = node.wait_exit(10)
    assert rc == -sig, f"exit code {rc}, expected death by {sig.name}\n{node.log_tail()}"
    out = node.output()
    start = out.index("=== SHOAL CRASH REPORT START")
    report = out[start:]
    assert f"crashed by signal: {int(sig)} ({sig.name})" in report
    assert "------ STACK TRACE ------" in report
    trace = report.split("------ STACK TRACE ------", 1)[1].split("=== SHOAL CRASH REPORT END", 1)
    assert len(trace) == 2, "no END line after the trace"
    frames = [ln for ln in trace[0].splitlines() if ln.strip()]
    # backtrace_symbols_fd lines: object(symbol+offset)[address]; main's frame names the node.
    assert len(frames) >= 3, frames
    assert any(f"{h.SHOAL_BIN.name}(main+" in f for f in frames), frames


@pytest.mark.parametrize("sig", [signal.SIGSEGV, signal.SIGABRT], ids=lambda s: s.name)
def test_crash_signal_to_the_process_reports_and_dies(servers, sig):
    """Sent with kill (any thread may take it): the report and death by the signal."""
    node = servers.shoal()
    node.expected_exit = True
    node.signal(sig)
    rc = node.wait_exit(10)
    assert rc == -sig, f"exit code {rc}, expected death by {sig.name}\n{node.log_tail()}"
    out = node.output()
    report = out[out.index("=== SHOAL CRASH REPORT START"):]
    assert f"crashed by signal: {int(sig)} ({sig.name})" in report
    assert "------ STACK TRACE ------" in report and "=== SHOAL CRASH REPORT END" in report


@pytest.mark.parametrize("sig", [signal.SIGSEGV, signal.SIGABRT], ids=lambda s: s.name)
def test_redis_crash_signal_reference(servers, sig):
    """What redis-server does, for comparison: a bug report with a stack trace, death by the signal."""
    ref = servers.redis()
    ref.expected_exit = True
    ref.signal(sig)
    rc = ref.wait_exit(20)
    # Seen under load: 7.0.15's own report code faults on a SIGABRT sent with kill
    # and the process then dies by SIGSEGV, after the report's first lines.
    assert rc in (-sig, -signal.SIGSEGV), rc
    out = ref.output()
    assert f"crashed by signal: {int(sig)}" in out
    assert "STACK TRACE" in out
