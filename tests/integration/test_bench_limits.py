"""The scripting bench's "what limits each run" table (bench/script_bench.py, limits()).

What it is for: the figures that say what bounds an EVALSHA run are computed, never typed
in: from one run's requests, redis-benchmark's own CPU, the server's CPU and its CPU by
thread (less spinning), limits() gives the client's and server's CPU per request, the
busiest thread, the rate with a core per thread (1/busiest), the client's bound and the
machine's (NCPU/(client + server)). These check that arithmetic on made-up runs, and that
bench/run.py's thread reader sees this process's main thread by name. No server is started.

What it must never do: start or stop a process.
"""
import os
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[2] / "bench"))
import run as bench_run        # noqa: E402  (bench/ is not a package)
import script_bench            # noqa: E402


def test_limits_from_one_run():
    r = bench_run.Result(rps=100000.0, requests=200000, cpu=0.9, client_cpu=0.4,
                         threads={"worker-0": 0.6, "worker-1": 0.3, "state": 0.0})
    lim = script_bench.limits(r, 2)
    assert lim["busiest"] == "worker-0"
    assert abs(lim["client"] - 2.0) < 1e-9 and abs(lim["server"] - 4.5) < 1e-9
    assert abs(lim["threads"]["worker-1"] - 1.5) < 1e-9
    assert abs(lim["own_cores"] - 1e6 / 3.0) < 1e-3          # 3 us/req on worker-0
    assert abs(lim["client_bound"] - 500000.0) < 1e-3         # 2 us/req
    assert abs(lim["machine"] - 2 * 1e6 / 6.5) < 1e-3        # 2 CPUs over 6.5 us/req


def test_a_failed_run_or_one_without_thread_figures_has_no_limits():
    assert script_bench.limits(bench_run.Result(error="timeout>120s"), 2) is None
    assert script_bench.limits(bench_run.Result(rps=1.0, requests=10, cpu=0.1), 2) is None


def test_limit_rows_give_the_own_cores_ratio_on_the_shoal_row():
    s = bench_run.Result(rps=1000.0, requests=1000, cpu=0.004, client_cpu=0.001,
                         threads={"worker-0": 0.002, "worker-1": 0.002})
    r = bench_run.Result(rps=900.0, requests=1000, cpu=0.004, client_cpu=0.001,
                         threads={"redis-server": 0.004})
    rows = script_bench._limit_rows(bench_run, "case", s, r)
    assert [row[1] for row in rows] == ["shoal", "redis"]
    assert rows[0][-1] == "2.00" and rows[1][-1] == ""        # 500k vs 250k with own cores
    assert all(len(row) == len(script_bench.LIMITS_HEADER) for row in rows)


def test_thread_run_ns_names_this_process_threads():
    with open("/proc/self/comm") as f:
        me = f.read().strip()
    names = bench_run.thread_run_ns(os.getpid())
    assert me in names                                        # the main thread, by its name
    assert all(isinstance(v, int) and v >= 0 for v in names.values())
    assert names[me] > 0                                      # we have run
