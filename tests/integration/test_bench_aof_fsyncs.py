"""The AOF bench's fsync table (bench/aof_bench.py): the figures are computed, never typed in.

What it is for: from `perf script -F tid,time,event` lines of fdatasync enter/exit
tracepoints, fsync_totals() counts the calls and the time inside them (per thread: two
threads' overlapping calls are each timed from their own entry); FsyncFigures turns runs
into fsyncs/s, SETs per fsync, mean fsync and disk busy; bound_rps() is clients x P over
the shortest cycle of k client groups (bound_cycle: k fsyncs, the clients' round without a
disk, one fsync plus a group's share of that round). These check that arithmetic on
made-up traces and runs. No server is started.

What it must never do: start or stop a process.
"""
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[2] / "bench"))
import aof_bench               # noqa: E402  (bench/ is not a package)
import run as bench_run        # noqa: E402

TRACE = """\
   100 50.000100: syscalls:sys_enter_fdatasync: fd: 0x00000010
   101 50.000200: syscalls:sys_enter_fdatasync: fd: 0x00000010
   100 50.000600: syscalls:sys_exit_fdatasync: 0x0
   101 50.001200: syscalls:sys_exit_fdatasync: 0x0
   100 50.002000: syscalls:sys_exit_fdatasync: 0x0
   102 50.003000: syscalls:sys_enter_fdatasync: fd: 0x00000011
"""


def test_fsync_totals_pairs_entry_and_exit_per_thread():
    calls, secs = aof_bench.fsync_totals(TRACE)
    # 100: 0.5 ms, 101: 1.0 ms; an exit without an entry and an entry without an exit count for nothing
    assert calls == 2
    assert abs(secs - 0.0015) < 1e-9


def test_figures_over_runs():
    f = aof_bench.FsyncFigures()
    f.add(bench_run.Result(rps=10000.0, requests=10000), (400, 0.2))     # 1 s
    f.add(bench_run.Result(rps=5000.0, requests=10000), (400, 0.6))      # 2 s
    f.add(bench_run.Result(error="timeout>60s"), (1, 1.0))               # ignored
    f.add(bench_run.Result(rps=5000.0, requests=10000), None)            # no perf: ignored
    assert f.cells() == [f"{800 / 3:,.0f}", "25.0", "1.000", f"{0.8 / 3 * 100:.0f}"]
    assert abs(f.mean_fsync_s() - 0.001) < 1e-12
    assert aof_bench.FsyncFigures().cells() == ["-"] * 4


def test_bound_rps():
    # 50 clients, 0.5 ms fsyncs, 100,000 rps without the disk (a 0.5 ms round): 50 / 1 ms
    assert abs(aof_bench.bound_rps(50, 0.0005, 100000.0) - 50000.0) < 1e-6
    assert aof_bench.bound_rps(50, None, 100000.0) is None
    assert aof_bench.bound_rps(50, 0.0005, None) is None


def test_bound_groups():
    # -P 1 shape: 2 ms fsyncs, a 0.5 ms round: one group (2.5 ms); two would take 2 fsyncs (4 ms)
    assert aof_bench.bound_cycle(50, 0.002, 100000.0) == (0.0025, 1)
    assert abs(aof_bench.bound_rps(50, 0.002, 100000.0) - 20000.0) < 1e-6
    # -P 16 shape: 1 ms fsyncs, a 4 ms round: in series 5 ms (160,000 rps); two groups, each
    # turning around (2 ms) while the other's fsync runs, take the round's 4 ms: the rate
    # without the disk
    cycle, k = aof_bench.bound_cycle(800, 0.001, 200000.0)
    assert k == 2 and abs(cycle - 0.004) < 1e-12
    assert abs(aof_bench.bound_rps(800, 0.001, 200000.0) - 200000.0) < 1e-6
    assert abs(aof_bench.bound_rps(800, 0.001, 200000.0, groups=1) - 160000.0) < 1e-6
    # 3 ms fsyncs, a 4 ms round: two groups (max(6, 4, 5) = 6 ms) beat one (7 ms)
    cycle, k = aof_bench.bound_cycle(800, 0.003, 200000.0)
    assert k == 2 and abs(cycle - 0.006) < 1e-12
    assert aof_bench.bound_cycle(800, None, 200000.0) == (None, None)


FAKE_PERF = r'''#!/usr/bin/python3
"""Stands in for perf record: opens its control fifo after a delay, as a slow perf
attaching on a loaded machine, acks 'enable' and notes when; exits on SIGINT."""
import os, signal, sys, time
args = sys.argv[1:]
ctl, ack = args[args.index("--control") + 1][len("fifo:"):].split(",")
time.sleep(float(os.environ["FAKE_PERF_DELAY"]))
with open(ctl, "rb", buffering=0) as c, open(ack, "wb", buffering=0) as a:
    assert c.readline().strip() == b"enable"
    with open(os.environ["FAKE_PERF_NOTE"], "w") as n:
        n.write(repr(time.monotonic()))
    a.write(b"ack\n")
signal.sigwait([signal.SIGINT])
'''


def test_trace_waits_until_perf_records(tmp_path, monkeypatch):
    """FsyncTrace returns only once perf has acknowledged enabling its events: with a
    fixed sleep, a perf slow to attach missed the run's first fsyncs."""
    perf = tmp_path / "perf"
    perf.write_text(FAKE_PERF)
    perf.chmod(0o755)
    note = tmp_path / "enabled"
    monkeypatch.setenv("PATH", f"{tmp_path}:{aof_bench.os.environ['PATH']}")
    monkeypatch.setenv("FAKE_PERF_DELAY", "1.0")
    monkeypatch.setenv("FAKE_PERF_NOTE", str(note))

    class Srv:
        class popen:
            pid = 1

    trace = aof_bench.FsyncTrace(Srv())
    returned = aof_bench.time.monotonic()
    try:
        assert trace.proc is not None
        assert note.exists() and float(note.read_text()) <= returned
    finally:
        if trace.proc is not None:
            trace.proc.kill()
            trace.proc.wait()


def test_bound_row():
    # 800 in flight, 1 ms fsyncs, 200,000 rps without the disk, redis-server at 50,000
    row = aof_bench.bound_row("-P 16", "either", ["", "", "", "1.000", "", "200,000"], (800, 0.001, 200000.0),
                              50000.0, bench_run)
    assert row == ["-P 16", "either", "", "", "", "1.000", "", "200,000", "160,000", "200,000", "2", "4.00"]
