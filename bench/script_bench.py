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
    r = redis_benchmark.run_once(run, group, pipeline, command=["EVALSHA", sha, "1", key], cluster=spread)
    if not r.error:
        run.log(f"  {group.label} EVALSHA -P {pipeline} ({'spread' if spread else 'one node'}): "
                f"{r.rps:,.0f} rps, {r.cpu:.2f} server CPU-s")
    return r


def _rows(run, shoal, redis, spread):
    shas = {g.kind: _load_everywhere(run, g) for g in (shoal, redis)}
    rows = []
    for pipeline in (1, 16):
        runs = {"shoal": [], "redis": []}
        for _ in range(run.REPEAT):
            for g in (shoal, redis):
                runs[g.kind].append(_evalsha_run(run, g, shas[g.kind], pipeline, spread))
        s, r = run.median_result(runs["shoal"]), run.median_result(runs["redis"])
        rows.append([f"EVALSHA -P {pipeline} ({'spread, --cluster' if spread else 'one node'})",
                     run.cell(s, "rps"), run.cell(r, "rps"), run.fmt_ratio(s.rps, r.rps),
                     run.cell(s, "rps_per_cpu"), run.cell(r, "rps_per_cpu"),
                     run.fmt_ratio(s.rps_per_cpu, r.rps_per_cpu)])
    return rows


def section(b, run):
    rows = []
    for spread in (True, False):
        ranges = None if spread else [(0, 16383), None, None]
        shoal = run.start_cluster(b, "shoal", ranges=ranges)
        redis = run.start_cluster(b, "redis", ranges=ranges)
        try:
            rows += _rows(run, shoal, redis, spread)
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
