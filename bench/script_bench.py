#!/usr/bin/python3
"""EVALSHA throughput, shoal and redis-server 7.0.15 side by side (a section of bench/run.py).

What it is for: the issue 15 bench. A script of three commands on one random key
(INCR, EXPIRE, GET) is loaded with SCRIPT LOAD on every master, then redis-benchmark sends
EVALSHA of it at -P 1 and -P 16 in two layouts, each against 3 shoal masters and 3
redis-server masters started in the same run, the two clusters alternating per run:
- "spread": redis-benchmark --cluster, each client's keys tagged to its node's slots
  (key bench:{tag}:__rand_int__), so the load is spread over the three masters;
- "one node": the first master holds every slot (the other two none) and
  redis-benchmark, without --cluster, sends every request to it with keys over all the
  slots (bench:__rand_int__). One redis-server node runs one script at a time; shoal runs
  scripts of different workers at the same time.
The columns are those of the throughput tables: rps, rps per server CPU-second, ratios.

What it must never do: stop a process it did not start; report a number it did not measure.
"""
import redis_benchmark      # bench/ is sys.path[0] when bench/run.py runs

SCRIPT = ("local n = redis.call('incr', KEYS[1]) redis.call('expire', KEYS[1], 3600) "
          "return redis.call('get', KEYS[1])")


def _load_everywhere(run, group):
    shas = {run.resp_call(port, "SCRIPT", "LOAD", SCRIPT) for port in group.ports}
    if len(shas) != 1:
        raise run.BenchError(f"{group.label}: SCRIPT LOAD replied {shas!r}")
    sha = shas.pop()
    return sha.decode() if isinstance(sha, bytes) else sha


def _evalsha_run(run, group, sha, pipeline, spread):
    """One redis-benchmark run of EVALSHA: client-side rps and the masters' CPU seconds."""
    key = "bench:{tag}:__rand_int__" if spread else "bench:__rand_int__"
    r = redis_benchmark.run_once(run, group, pipeline, command=["EVALSHA", sha, "1", key], cluster=spread,
                                 limits=True)
    if not r.error:
        run.log(f"  {group.label} EVALSHA -P {pipeline} ({'spread' if spread else 'one node'}): "
                f"{r.rps:,.0f} rps, {r.cpu:.2f} server CPU-s")
    return r


def _us(seconds, requests):
    return seconds * 1e6 / requests


def limits(r, ncpu):
    """What bounds one run's rate (None for a failed run), from its CPU figures per request:
    - client: redis-benchmark's own CPU; 1/client is the most one such process can send;
    - server: the node(s)' CPU; by thread, less spinning before sleep (Server.thread_seconds);
    - own_cores: 1/(the busiest thread's CPU per request), the rate at which that thread
      would be busy all the time if every thread had a core of its own and the client cost
      nothing (the serial part: a thread's work cannot be shared with another thread);
    - machine: ncpu/(client + server), the rate at which client and server together fill
      this machine's CPUs.
    These assume the CPU per request stays what it was at the measured rate."""
    if r.error or not r.requests or r.threads is None:
        return None
    per_thread = {name: _us(sec, r.requests) for name, sec in r.threads.items()}
    busiest = max(per_thread, key=per_thread.get)
    client, server = _us(r.client_cpu, r.requests), _us(r.cpu, r.requests)
    return {"client": client, "server": server, "threads": per_thread, "busiest": busiest,
            "own_cores": 1e6 / per_thread[busiest] if per_thread[busiest] > 0 else None,
            "client_bound": 1e6 / client if client > 0 else None,
            "machine": ncpu * 1e6 / (client + server) if client + server > 0 else None}


def _threads_cell(lim):
    """The threads that did at least 5 % of the busiest one's work, busiest first."""
    top = lim["threads"][lim["busiest"]]
    shown = sorted(((us, name) for name, us in lim["threads"].items() if us >= 0.05 * top), reverse=True)
    return ", ".join(f"{name} {us:.2f}" for us, name in shown)


def _limit_rows(run, case, s, r):
    ls, lr = limits(s, run.NCPU), limits(r, run.NCPU)
    rows = []
    for kind, res, lim in (("shoal", s, ls), ("redis", r, lr)):
        if lim is None:
            rows.append([case, kind, run.cell(res, "rps")] + ["-"] * 7)
            continue
        rows.append([case, kind, run.fmt_num(res.rps), f"{lim['client']:.2f}", f"{lim['server']:.2f}",
                     _threads_cell(lim), run.fmt_num(lim["own_cores"]), run.fmt_num(lim["client_bound"]),
                     run.fmt_num(lim["machine"]),
                     run.fmt_ratio(ls["own_cores"], lr["own_cores"]) if kind == "shoal" and ls and lr else ""])
    return rows


LIMITS_HEADER = ["test", "server", "rps", "client us/req", "server us/req", "by thread us/req",
                 "own-cores bound", "client bound", "machine bound", "own-cores ratio"]


def _rows(run, shoal, redis, spread):
    shas = {g.kind: _load_everywhere(run, g) for g in (shoal, redis)}
    rows, lrows = [], []
    for pipeline in (1, 16):
        runs = {"shoal": [], "redis": []}
        for _ in range(run.REPEAT):
            for g in (shoal, redis):
                runs[g.kind].append(_evalsha_run(run, g, shas[g.kind], pipeline, spread))
        s, r = run.median_result(runs["shoal"]), run.median_result(runs["redis"])
        case = f"EVALSHA -P {pipeline} ({'spread, --cluster' if spread else 'one node'})"
        rows.append([case, run.cell(s, "rps"), run.cell(r, "rps"), run.fmt_ratio(s.rps, r.rps),
                     run.cell(s, "rps_per_cpu"), run.cell(r, "rps_per_cpu"),
                     run.fmt_ratio(s.rps_per_cpu, r.rps_per_cpu)])
        lrows += _limit_rows(run, case, s, r)
    return rows, lrows


def section(b, run):
    rows, lrows = [], []
    for spread in (True, False):
        ranges = None if spread else [(0, 16383), None, None]
        shoal = run.start_cluster(b, "shoal", ranges=ranges)
        redis = run.start_cluster(b, "redis", ranges=ranges)
        try:
            got, lgot = _rows(run, shoal, redis, spread)
            rows += got
            lrows += lgot
        finally:
            run.stop_nodes(shoal.servers)
            run.stop_nodes(redis.servers)
    b.table(f"Scripting: EVALSHA of a 3-command script, {run.CLUSTER_MASTERS} masters",
            run.THROUGHPUT_HEADER[:-1], rows,
            [f"script: {SCRIPT}",
             f"-c {run.CLIENTS} -r {run.KEYSPACE}; -n {run.REQUESTS[1]} at -P 1, "
             f"{run.REQUESTS[16]} at -P 16; median of {run.REPEAT} run(s), the clusters alternating",
             "spread: redis-benchmark --cluster, keys bench:{tag}:<rand> on every master; "
             "one node: the first master holds every slot (the others none), all requests go "
             "to it, keys bench:<rand> over its slots",
             "shoal masters: " + (" ".join(run.cluster_extra_args("shoal")) or
                                  f"default worker threads ({run.NCPU} CPUs)") +
             "; CPU is the sum over the masters",
             "targets (issue 15): ratio >= 1.0 spread, >= 1.5 one node"])
    b.table("Scripting: what limits each EVALSHA run (the median run of each cell above), "
            "CPU per request in microseconds", LIMITS_HEADER, lrows,
            ["client: redis-benchmark's own CPU (getrusage of the finished child); server: the "
             "masters' CPU (schedstat of every thread); by thread: each thread's CPU, shoal's less "
             "the time it spun waiting for work before sleeping (INFO threads spin_us), 'n<i>' = "
             "the i-th master",
             "own-cores bound = 1/(busiest thread's us/req): the rate when every thread has a core "
             "of its own and the client costs nothing; a thread's work is serial, so the busiest "
             "one bounds the node (redis-server: its one event-loop thread)",
             "client bound = 1/(client us/req): what one redis-benchmark process can send; "
             f"machine bound = {run.NCPU} CPUs/(client + server us/req): client and server "
             "together filling this machine",
             "own-cores ratio = shoal's own-cores bound / redis-server's; all bounds assume the CPU "
             "per request stays what it was at the measured rate (under load, batching usually "
             "lowers it)",
             "the measured ratio can only show the own-cores ratio when the client and machine "
             "bounds are both above the two own-cores bounds"])
