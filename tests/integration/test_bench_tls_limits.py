"""The tls_handshakes bench's "what bounds new TLS connections" table (bench/tls_bench.py).

What it is for: the projected rates are computed from one run's measured figures, never
typed in: Hs turns a run's connections, server CPU, per-thread CPU and client CPU into CPU
per connection; projection() gives redis-server's bound 1/(its main thread's CPU per
connection) and shoal's lowest bound over its busy threads (each worker at 1/(its CPU per
connection over all connections), any other busy thread likewise); machine_bound() the
shared-cores bound NCPU/(client + server). These check that arithmetic on made-up runs. No
server is started.

What it must never do: start or stop a process.
"""
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[2] / "bench"))
import tls_bench               # noqa: E402  (bench/ is not a package)


def test_shoal_bound_is_its_busiest_thread():
    # 1000 connections; worker-0 0.5 s, worker-1 0.4 s, state 0.001 s (under 2%: not busy)
    h = tls_bench.Hs(rate=300.0, n=1000, cpu_s=0.901, threads_s={"worker-0": 0.5, "worker-1": 0.4, "state": 0.001},
                     client_cpu=1.0)
    assert abs(h.cpu_us - 901.0) < 1e-9 and abs(h.client_us - 1000.0) < 1e-9
    rate, why = tls_bench.projection(h, "shoal")
    assert abs(rate - 2000.0) < 1e-6                       # 500 us per connection on worker-0
    assert why.startswith("worker-0") and "2 workers busy" in why
    # a serial thread that spends more per connection than any worker bounds it instead
    h = tls_bench.Hs(rate=300.0, n=1000, cpu_s=1.0, threads_s={"worker-0": 0.3, "worker-1": 0.3, "state": 0.4})
    rate, why = tls_bench.projection(h, "shoal")
    assert abs(rate - 2500.0) < 1e-6 and why.startswith("state")


def test_redis_bound_is_its_one_thread():
    h = tls_bench.Hs(rate=300.0, n=1000, cpu_s=1.25, threads_s={"redis-server": 1.2, "bio_close_file": 0.05})
    rate, why = tls_bench.projection(h, "redis")
    assert abs(rate - 1e6 / 1200.0) < 1e-6                 # its main thread does every handshake
    assert why.startswith("redis-server")


def test_machine_bound_and_missing_figures():
    h = tls_bench.Hs(rate=300.0, n=1000, cpu_s=1.0, threads_s={"worker-0": 1.0}, client_cpu=1.0)
    assert abs(tls_bench.machine_bound(h, 2) - 1000.0) < 1e-6   # 2 CPUs over 2,000 us per connection
    none = tls_bench.Hs(rate=0.0, n=0, cpu_s=0.0, threads_s={})
    assert tls_bench.projection(none, "shoal") == (None, "-")
    assert tls_bench.machine_bound(none, 2) is None
