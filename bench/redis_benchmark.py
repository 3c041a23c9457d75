"""One run of the redis-benchmark tool and the server CPU it cost: the runner that bench/run.py
(client and data-type throughput, and the sections that call its redis_benchmark),
script_bench.py (EVALSHA) and tls_bench.py (SET/GET over TLS) share. bench/ is not a package:
they import this with bench/ on sys.path.

What it is for: building the argument line from run.py's settings (-n, -c CLIENTS, -P,
-r KEYSPACE, --csv -q; -t test or a command line of its own; --cluster; TLS arguments and
port), measuring the CPU seconds of the server or of every node of a cluster group during the
run, and reading the rate of the test's row from the csv (found by the first word of its name:
LRANGE_100's row is 'LRANGE_100 (first 100 elements)', a command's row is its whole line).

What it must never do: stop or signal a server (the caller's Server objects own them), or
report a rate redis-benchmark did not print: a timeout, a server that exited, a failed run or
a missing row come back as a Result with the error instead.
"""
import csv
import io
import resource
import subprocess


def run_once(rt, target, pipeline, test=None, command=(), requests=None, port=None, conn_args=(),
             cluster=False, limits=False):
    """One redis-benchmark run against target (an rt.Server or rt.ClusterGroup): `-t test`, or
    the command line `command` (its first word names the csv row), `requests` requests (by
    default rt.REQUESTS[pipeline]) at -P pipeline, to `port` (default target.port) with
    conn_args (TLS options) and --cluster when asked. Returns rt.Result(rps, requests, cpu) or
    rt.Result(error=...). With limits (plain TCP only: it asks shoal's INFO), also
    redis-benchmark's own CPU seconds (client_cpu: getrusage of the children we waited for,
    which is that one process) and the servers' CPU per thread (threads:
    target.thread_seconds())."""
    n = rt.REQUESTS[pipeline] if requests is None else requests
    name = (test or command[0]).upper()
    argv = [rt.REDIS_BENCHMARK, "-h", "127.0.0.1", "-p", str(target.port if port is None else port),
            *conn_args, *(["-t", test] if test else []),
            "-n", str(n), "-c", str(rt.CLIENTS), "-P", str(pipeline), "-r", str(rt.KEYSPACE), "--csv", "-q",
            *(["--cluster"] if cluster else []), *command]
    target.check_alive("before the run")
    threads0 = target.thread_seconds() if limits else None
    client0 = _children_cpu()
    cpu0 = target.cpu_seconds()
    try:
        out = subprocess.run(argv, capture_output=True, text=True, timeout=rt.RUN_TIMEOUT,
                             start_new_session=True)
    except subprocess.TimeoutExpired:
        return rt.Result(error=f"timeout>{rt.RUN_TIMEOUT}s")
    if target.popen.poll() is not None:
        return rt.Result(error=f"server died (exit {target.popen.returncode})")
    cpu = target.cpu_seconds() - cpu0
    client_cpu = _children_cpu() - client0
    threads = None
    if limits:
        threads1 = target.thread_seconds()
        threads = {name: sec - threads0.get(name, 0.0) for name, sec in threads1.items()}
    rows = [r for r in csv.reader(io.StringIO(out.stdout)) if r and r[0] != "test"]
    row = next((r for r in rows if r[0].upper().split(" ")[0] == name), None)
    if out.returncode != 0 or row is None:
        msg = (out.stderr or out.stdout).strip().splitlines()
        return rt.Result(error=f"failed: {msg[-1][:60] if msg else out.returncode}")
    return rt.Result(rps=float(row[1]), requests=n, cpu=cpu,
                     client_cpu=client_cpu if limits else None, threads=threads)


def _children_cpu():
    """User + system CPU seconds of the children this process has waited for."""
    ru = resource.getrusage(resource.RUSAGE_CHILDREN)
    return ru.ru_utime + ru.ru_stime
