#!/usr/bin/python3
"""What a SET costs each server at redis-benchmark -P 1, with and without the AOF.

What it is for: issue 13's `redis-benchmark -t set -c 50 -P 1` with `appendonly yes`, where
redis-benchmark and the server share the machine's 2 cores, so every microsecond of server CPU
per SET is taken from the client. For each round, each binary given (NAME=PATH, shoal-node
builds; `redis` is redis-server) and each mode (noaof, everysec, always; a mode ending in +pin
runs the server on CPU 0 and redis-benchmark on CPU 1, taskset), it starts one node owning all
slots (bench/run.py's Server), runs redis-benchmark, and records: rps; the server's CPU per SET
over all its threads (/proc/PID/task/*/schedstat) and, for shoal, less the time its threads
spun before sleeping (INFO threads), which a thread with a core of its own would have slept;
the server's and the client's voluntary and involuntary context switches per SET (the client's
from wait4's rusage, with its CPU per SET); shoal's fsyncs (INFO threads' aof_group_commit); per
thread (/proc/PID/task/*/comm): the workers' CPU per SET together (wrk_us, less their spin), every
other thread's together (oth_us) and the busiest other thread's (top_oth_us). A mode ending in
+spread has every shoal worker take connections from the start (DEBUG PLACEMENT SPREAD).
The order of the servers is reversed every other round. At the end, per mode and server, the
median of each figure over the rounds and the median of the per-round rps ratios to redis;
then a projection of both rates with the client and each server thread on cores of their own
(the 2 shared cores cannot show it: see projection()).

What it must never do: stop a process it did not start (the servers are run.py Servers,
stopped by pid), or hide a failed run (it prints ERR and leaves the round's cell out).

Run: /usr/bin/python3 bench/aof_cpu.py [-r ROUNDS] [-n REQUESTS] [-m MODES] [-P PIPELINE] old=/tmp/old new=bin/shoal-node
(redis-server is added as `redis`). By hand, not in `make bench`.
"""
import argparse
import json
import os
import re
import statistics
import subprocess
import sys
import tempfile
import time

import run as R


def _switches(pid):
    """(voluntary, involuntary) context switches of every thread of pid."""
    vol = invol = 0
    for tid in os.listdir(f"/proc/{pid}/task"):
        try:
            with open(f"/proc/{pid}/task/{tid}/status") as f:
                text = f.read()
        except OSError:
            continue                    # a thread that exited meanwhile
        vol += int(re.search(r"^voluntary_ctxt_switches:\s+(\d+)", text, re.M).group(1))
        invol += int(re.search(r"^nonvoluntary_ctxt_switches:\s+(\d+)", text, re.M).group(1))
    return vol, invol


def _thread_figures(before, after, spin, requests):
    """Per-SET CPU of the worker threads together (less their spin), of the busiest thread
    that is not a worker, and of every thread that is not a worker together."""
    us = {k: (after[k] - before.get(k, 0)) / requests / 1000 - spin.get(k, 0) / requests for k in after}
    workers = [v for k, v in us.items() if k.startswith("worker-")]
    others = [v for k, v in us.items() if not k.startswith("worker-")]
    # the workers that served: those with a tenth of the workers' CPU or more
    serving = sum(1 for v in workers if v >= 0.1 * sum(workers)) if sum(workers) > 0 else 0
    return {"wrk_us": sum(workers), "wrk_n": serving, "oth_us": sum(others), "top_oth_us": max(others, default=0.0)}


def one(kind, binary, mode, requests, workdir, pipeline=1):
    """One server, one redis-benchmark run: a dict of per-SET figures."""
    pin = "+pin" in mode
    spread = "+spread" in mode
    policy = mode.replace("+pin", "").replace("+spread", "")
    args = [] if policy == "noaof" else ["--appendonly", "yes", "--appendfsync", policy]
    if kind == "shoal":
        R.SHOAL_NODE = binary
        if spread:
            args += ["--enable-debug-command", "yes"]
    srv = R.Server(kind, workdir, args)
    if pin:
        argv = srv.argv
        srv.argv = lambda: ["taskset", "-c", "0"] + argv()
    srv.start()
    try:
        pid = srv.popen.pid
        if kind == "shoal" and spread:
            # every worker takes connections from the start (DEBUG PLACEMENT, ours)
            reply = R.resp_call(srv.port, "DEBUG", "PLACEMENT", "SPREAD")
            if reply != "OK":
                raise R.BenchError(f"DEBUG PLACEMENT SPREAD: {reply!r}")
        spins0 = R.shoal_spin_us(srv.port) if kind == "shoal" else {}
        spin0 = sum(spins0.values())
        thr0 = R.thread_run_ns(pid)
        cpu0, (v0, i0) = R.run_ns(pid), _switches(pid)
        cmd = (["taskset", "-c", "1"] if pin else []) + [
            R.REDIS_BENCHMARK, "-p", str(srv.port), "-t", "set", "-c", "50", "-P", str(pipeline),
            "-r", "100000", "-n", str(requests), "-q"]
        bench = subprocess.Popen(cmd, stdout=subprocess.PIPE, stderr=subprocess.STDOUT)
        out = bench.stdout.read().decode(errors="replace")
        _, status, ru = os.wait4(bench.pid, 0)
        cpu1, (v1, i1) = R.run_ns(pid), _switches(pid)
        thr1 = R.thread_run_ns(pid)
        found = re.findall(r"([\d.]+) requests per second", out)
        if status != 0 or not found:
            raise R.BenchError(f"redis-benchmark failed: {out[-300:]!r}")
        res = {"rps": float(found[-1]),
               "cpu_us": (cpu1 - cpu0) / requests / 1000,
               "vcs": (v1 - v0) / requests, "ivcs": (i1 - i0) / requests,
               "cli_us": (ru.ru_utime + ru.ru_stime) / requests * 1e6,
               "cli_vcs": ru.ru_nvcsw / requests, "cli_ivcs": ru.ru_nivcsw / requests}
        res["busy_us"] = res["cpu_us"]
        spins1 = R.shoal_spin_us(srv.port) if kind == "shoal" else {}
        res.update(_thread_figures(thr0, thr1, {k: v - spins0.get(k, 0) for k, v in spins1.items()}, requests))
        if kind == "shoal":
            spin1 = sum(spins1.values())
            res["busy_us"] = res["cpu_us"] - (spin1 - spin0) / requests
            info = R.resp_call(srv.port, "INFO", "threads").decode(errors="replace")
            m = re.search(r"aof_group_commit:fsyncs=(\d+)", info)
            if m and policy == "always":
                res["sets_per_fsync"] = requests / max(1, int(m.group(1)))
        return res
    finally:
        srv.popen.terminate()
        try:
            srv.popen.wait(30)
        except subprocess.TimeoutExpired:
            srv.popen.kill()
            srv.popen.wait()


FIGURES = ("rps", "cpu_us", "busy_us", "vcs", "ivcs", "cli_us", "cli_vcs", "cli_ivcs", "sets_per_fsync",
           "wrk_us", "wrk_n", "oth_us", "top_oth_us")


def projection(rows, modes):
    """Each server's rate with the client on cores of its own and each server thread on a core
    of its own, from the per-thread CPU per SET: redis-server's one thread at 1e6 / cpu_us
    (median; its fsync waits left out, which flatters it); shoal's at the median over its runs
    of W * 1e6 / wrk_us (W: the workers that served in that run, wrk_n), capped by its busiest
    other thread at 1e6 / top_oth_us (shoal's fsync waits left out too). Neither the fsync's latency nor the client is a
    bound in it (bench/aof_bench.py prints the fsync bounds)."""
    print("\nprojection: SETs/s with the client and each server thread on cores of their own "
          "(from the medians above; redis-server's fsync waits left out)")
    for mode in modes:
        redis = [r for r in rows if r["mode"] == mode and r["kind"] == "redis"]
        names = sorted({r["name"] for r in rows if r["kind"] == "shoal"})
        for name in names:
            shoal = [r for r in rows if r["mode"] == mode and r["name"] == name and r["wrk_us"] > 0]
            if not shoal or not redis:
                continue
            rcpu = statistics.median(r["cpu_us"] for r in redis)
            # per run: its serving workers each on a core, its busiest other thread on one
            rates = [min(r["wrk_n"] * 1e6 / r["wrk_us"], 1e6 / r["top_oth_us"] if r["top_oth_us"] > 0 else float("inf"))
                     for r in shoal]
            rate = statistics.median(rates)
            workers = "/".join(str(n) for n in sorted({r["wrk_n"] for r in shoal}))
            print(f"{mode:14s} redis-server {1e6 / rcpu:9.0f} (cpu {rcpu:.3f} us)  {name} ({workers} workers served) "
                  f"{rate:9.0f} (workers {statistics.median(r['wrk_us'] for r in shoal):.3f} us, busiest other "
                  f"thread {statistics.median(r['top_oth_us'] for r in shoal):.3f} us)  ratio {rate * rcpu / 1e6:.2f}")


def summary(rows, modes, names):
    print("\nmedians over the rounds (us and switches per SET; ratio: median of per-round rps / redis rps)")
    print(f"{'mode':14s} {'server':7s} " + " ".join(f"{f:>9s}" for f in FIGURES) + "     ratio")
    for mode in modes:
        for name in names:
            cells = [r for r in rows if r["mode"] == mode and r["name"] == name]
            if not cells:
                continue
            meds = []
            for f in FIGURES:
                vals = [c[f] for c in cells if f in c]
                meds.append(f"{statistics.median(vals):9.3f}" if vals else f"{'-':>9s}")
            ratios = []
            for c in cells:
                ref = [r for r in rows if r["mode"] == mode and r["name"] == "redis" and r["round"] == c["round"]]
                if ref and ref[0]["rps"]:
                    ratios.append(c["rps"] / ref[0]["rps"])
            ratio = f"{statistics.median(ratios):9.3f}" if ratios else "-"
            print(f"{mode:14s} {name:7s} " + " ".join(meds) + f" {ratio} ({len(cells)} rounds)")


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("-r", "--rounds", type=int, default=6)
    ap.add_argument("-n", "--requests", type=int, default=100_000)
    ap.add_argument("-m", "--modes", default="noaof,everysec,always")
    ap.add_argument("-P", "--pipeline", type=int, default=1, help="redis-benchmark -P (default 1)")
    ap.add_argument("-o", "--out", help="also append every run as a JSON line to this file")
    ap.add_argument("binaries", nargs="+", help="NAME=PATH of a shoal-node")
    a = ap.parse_args()
    # absolute: a server runs in its own directory
    servers = [("shoal", b.split("=", 1)[0], os.path.abspath(b.split("=", 1)[1])) for b in a.binaries]
    servers.append(("redis", "redis", None))
    modes = a.modes.split(",")
    work = tempfile.mkdtemp(prefix="aof_cpu.")
    rows = []
    for rnd in range(a.rounds):
        order = servers if rnd % 2 == 0 else servers[::-1]
        for mode in modes:
            for kind, name, binary in order:
                load = os.getloadavg()[0]
                try:
                    res = one(kind, binary, mode, a.requests, work, a.pipeline)
                except (R.BenchError, OSError) as e:
                    print(f"ERR round {rnd} {mode} {name}: {e}", flush=True)
                    continue
                res.update(round=rnd, mode=mode, name=name, kind=kind, load=load, time=time.time())
                rows.append(res)
                if a.out:
                    with open(a.out, "a") as f:
                        f.write(json.dumps(res) + "\n")
                print(f"r{rnd} {mode:14s} {name:7s} rps {res['rps']:9.0f} cpu {res['cpu_us']:6.2f} "
                      f"busy {res['busy_us']:6.2f} vcs {res['vcs']:.3f} ivcs {res['ivcs']:.3f} "
                      f"cli {res['cli_us']:6.2f} cvcs {res['cli_vcs']:.3f} civcs {res['cli_ivcs']:.3f} "
                      f"load {load:.2f}", flush=True)
    summary(rows, modes, [s[1] for s in servers])
    projection(rows, modes)


if __name__ == "__main__":
    sys.exit(main())
