"""The pub/sub bench's "what limits it" table (bench/pubsub_bench.py, limits_row).

What it is for: the bounds printed next to the fan-out and SPUBLISH rows are computed from
one run's deliveries and CPU times, never typed in: CPU-us per delivery of each server
thread, of the readers and of the publisher; the projected rate with every thread on a core
of its own (deliveries / the busiest thread's or the publisher's CPU time); and the bound of
N shared cores (N / everything's CPU per delivery). These check that arithmetic on made-up
runs. No server is started.

What it must never do: start or stop a process.
"""
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[2] / "bench"))
import run as bench_run        # noqa: E402  (bench/ is not a package)
import pubsub_bench            # noqa: E402


class _Run:
    """bench/run.py's formatting with a chosen CPU count."""
    NCPU = 2
    fmt_num = staticmethod(bench_run.fmt_num)
    fmt_ratio = staticmethod(bench_run.fmt_ratio)


def test_two_workers_each_bound_by_their_own_cpu_per_delivery():
    lim = {"delivered": 1_000_000, "readers": 0.4, "publisher": 0.01, "writes": 62_500,
           "threads": {"worker-0": 0.3, "worker-1": 0.25, "state": 0.001}}
    row, projected, cores = pubsub_bench.limits_row(_Run, "shoal", lim)
    assert abs(projected - 1_000_000 / 0.3) < 1e-6            # worker-0 at 0.3 us/delivery bounds
    assert abs(cores - 2 * 1_000_000 / (0.3 + 0.25 + 0.001 + 0.4 + 0.01)) < 1e-6
    assert row[0] == "shoal" and row[1].startswith("worker-0 0.300, worker-1 0.250")
    assert "state" not in row[1]                                # 0.001 us/delivery: left out
    assert row[2] == "16.0"                                     # deliveries per write
    assert row[3] == "0.400" and row[4] == "0.010"


def test_a_slow_publisher_bounds_the_projection_too():
    lim = {"delivered": 100, "readers": 0.0, "publisher": 2.0, "threads": {"redis-server": 1.0}}
    _, projected, _ = pubsub_bench.limits_row(_Run, "redis", lim)
    assert abs(projected - 50.0) < 1e-9


def test_limits_table_ratio_row():
    class _B:
        tables = []

        def table(self, *t):
            self.tables.append(t)
    b = _B()
    res = {"shoal": {"delivered": 1000, "readers": 0.0, "publisher": 0.0,
                     "threads": {"worker-0": 0.001, "worker-1": 0.001}},
           "redis": {"delivered": 1000, "readers": 0.0, "publisher": 0.0, "threads": {"redis-server": 0.002}}}
    pubsub_bench.limits_table(b, _Run, "t", res)
    rows = b.tables[0][2]
    assert rows[-1][0] == "ratio" and rows[-1][5] == "2.00" and rows[-1][6] == "1.00"
    assert rows[0][2] == "-"                                    # no write count: not shown


def test_fanout_and_shard_runs_alternate_and_pair():
    """The fan-out and SPUBLISH tables alternate the two servers' runs after one warm-up each
    (shoal first, then redis-server first, ...) and take the ratio per back-to-back pair,
    as the 6-node table does, instead of all of one server's runs then all of the other's."""
    class _R:
        REPEAT = 3
    order = []

    def fn(kind, rate):
        def call():
            order.append(kind)
            return (0, rate, rate / 2, None)
        return call
    runs = pubsub_bench.alternate(_R, {"shoal": fn("shoal", 6.0), "redis": fn("redis", 2.0)},
                                  {"shoal": fn("shoal-warm", 0), "redis": fn("redis-warm", 0)})
    assert order == ["shoal-warm", "redis-warm", "shoal", "redis", "redis", "shoal", "shoal", "redis"]
    assert pubsub_bench.pair_ratios(runs, 1) == [3.0, 3.0, 3.0]
    assert pubsub_bench.median([3.0, 1.0, 2.0, 10.0]) == 2.5
