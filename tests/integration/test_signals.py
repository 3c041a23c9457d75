"""Signals: SIGHUP is ignored; a crash signal logs a report and kills.

redis-server ignores SIGHUP and keeps serving; shoal died of it (default action) without
saving nodes.conf. On SIGSEGV, SIGBUS, SIGFPE, SIGILL and SIGABRT redis-server logs a bug
report with a stack trace and dies by the signal; shoal now does the same in its own words:
a header line, the signal's number and name, a stack trace, an END line.
"""
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


@pytest.mark.parametrize("sig", CRASH_SIGNALS, ids=lambda s: s.name)
def test_crash_signal_logs_stack_trace_and_dies_by_it(servers, sig):
    node = servers.shoal()
    node.expected_exit = True          # this test makes it die
    node.signal(sig)
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
def test_redis_crash_signal_reference(servers, sig):
    """What redis-server does, for comparison: a bug report with a stack trace, death by the signal."""
    ref = servers.redis()
    ref.expected_exit = True
    ref.signal(sig)
    rc = ref.wait_exit(20)
    assert rc == -sig
    out = ref.output()
    assert f"crashed by signal: {int(sig)}" in out
    assert "STACK TRACE" in out
