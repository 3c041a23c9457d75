#!/usr/bin/env python3
"""How many SETs a BGREWRITEAOF costs the clients (issue 13), for several servers side by side.

What it is for: by hand, not in `make bench`. `bench/aof_rewrite_tput.py [-n KEYS] [-r ROUNDS]
[-w SECONDS] [--load c1,c50p1,c50p16] [--test set|get] NAME=BINARY ...` (a BINARY named redis-server runs as
redis-server, anything else as shoal-node) starts one node per binary owning all slots with
`appendonly yes appendfsync everysec auto-aof-rewrite-percentage 0` (no rewrite but ours), fills it with KEYS keys named as redis-benchmark's
`-r KEYS` names them (`key:%012d`, so that the load overwrites keys the rewrite child holds),
then for ROUNDS rounds, every load and server in turn (servers alternating, order reversed
every other round): `redis-benchmark -t set -r KEYS` (or `-t get` with --test get; the
figures below then count GETs) with that load runs throughout
(c1: `-c 1 -P 1`, one SET at a time; c50p1: `-c 50 -P 1`; c50p16: `-c 50 -P 16`), and two
windows of SECONDS each are measured, one in which a BGREWRITEAOF is sent 0.2 s after the
start (stretched if the rewrite is not done 0.2 s before its end), one as long without a
rewrite (their order alternates by round). INFO persistence is polled every 10 ms in both.
For each window: the SETs the server completed (INFO commandstats, so the probe's own polls
do not count), and for the rewrite window the SETs completed between BGREWRITEAOF and the
rewrite's end; the time every thread of the server ran and waited for a core (schedstat) and
the rewrite child's CPU (its schedstat read while it lives, 10 ms polls). Per round it prints:
rewrite seconds, SETs in the quiet window, in the rewrite window, lost (the quiet window's
count scaled to the rewrite window's length, less the rewrite window's), the rate during the
rewrite against the quiet rate, the child's CPU, the threads' ms running / waiting for a core
in both windows, and the load average. A summary per server and load gives medians, and the
sums over all rounds (SETs and the serving threads' CPU per SET in each kind of window).
Single rounds on the shared 2-core machine vary by 2x: compare medians of many rounds.

What it must never do: stop a process it did not start.
"""
import argparse
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time

import run as bench_run

LOADS = {"c1": (1, 1), "c50p1": (50, 1), "c50p16": (50, 16)}


def info(port, section):
    v = bench_run.resp_call(port, "INFO", section, timeout=30.0) or b""
    return dict(line.partition(":")[::2] for line in v.decode(errors="replace").split("\r\n"))


COMMAND = "set"     # the command counted (--test)


def set_calls(port):
    v = info(port, "commandstats").get("cmdstat_" + COMMAND, "")
    return int(v.split("calls=")[1].split(",")[0]) if "calls=" in v else 0


def children(pid):
    out = []
    for tid in os.listdir(f"/proc/{pid}/task"):
        try:
            with open(f"/proc/{pid}/task/{tid}/children") as f:
                out += [int(x) for x in f.read().split()]
        except OSError:
            pass
    return out


def proc_ns(pid):
    """CPU ns of a (single-threaded) process, or None once it is gone."""
    try:
        with open(f"/proc/{pid}/schedstat") as f:
            return int(f.read().split()[0])
    except (OSError, ValueError, IndexError):
        return None


def thread_sched(pid):
    """{thread name: (ns running, ns runnable waiting for a core)} from schedstat (threads of
    one name summed)."""
    out = {}
    for tid in os.listdir(f"/proc/{pid}/task"):
        try:
            with open(f"/proc/{pid}/task/{tid}/comm") as f:
                name = f.read().strip()
            with open(f"/proc/{pid}/task/{tid}/schedstat") as f:
                run, wait = (int(x) for x in f.read().split()[:2])
        except (OSError, ValueError):
            continue                   # a thread that exited meanwhile
        r0, w0 = out.get(name, (0, 0))
        out[name] = (r0 + run, w0 + wait)
    return out


def threads_delta(a, b):
    """{thread: (ms running, ms waiting for a core)} between two thread_sched readings."""
    out = {}
    for k, (run, wait) in b.items():
        r0, w0 = a.get(k, (0, 0))
        if run - r0 > 0:
            out[k] = ((run - r0) / 1e6, (wait - w0) / 1e6)
    return out


def window(srv, seconds, rewrite):
    """One window: (SETs done, seconds, rewrite info or None, {thread: CPU ms})."""
    pid, port = srv.popen.pid, srv.port
    c0, th0, t0 = set_calls(port), thread_sched(pid), time.monotonic()
    rw = None
    end = t0 + seconds
    kids = {}
    while True:
        now = time.monotonic()
        if rewrite and rw is None and now - t0 >= 0.2:
            before = int(info(port, "persistence").get("aof_rewrites", "0"))
            rw = {"calls0": set_calls(port), "t0": time.monotonic(), "before": before}
            r = bench_run.resp_call(port, "BGREWRITEAOF", timeout=30.0)
            if not str(r).startswith("Background append only file rewriting"):
                raise bench_run.BenchError(f"BGREWRITEAOF replied {r!r}")
        i = info(port, "persistence")
        if rw is not None and "t1" not in rw:
            for k in children(pid):
                ns = proc_ns(k)
                if ns is not None:
                    kids[k] = ns
            if i.get("aof_rewrite_in_progress") == "0" and int(i.get("aof_rewrites", "0")) > rw["before"]:
                rw["t1"] = time.monotonic()
                rw["calls1"] = set_calls(port)
                end = max(end, rw["t1"] + 0.2)
        if now >= end and (not rewrite or (rw is not None and "t1" in rw)):
            break
        time.sleep(0.01)
    c1, th1, t1 = set_calls(port), thread_sched(pid), time.monotonic()
    if rw is not None:
        rw["child_ms"] = sum(kids.values()) / 1e6
    return c1 - c0, t1 - t0, rw, threads_delta(th0, th1)


def fill(srv, n):
    bench_run.pipeline_load(srv.port, (("SET", f"key:{i:012d}", "xxx") for i in range(n)), batch=5000)
    bench_run.resp_call(srv.port, "BGREWRITEAOF", timeout=30.0)
    deadline = time.monotonic() + 300
    while info(srv.port, "persistence").get("aof_rewrite_in_progress") != "0" or \
            info(srv.port, "persistence").get("aof_rewrite_scheduled") == "1":
        if time.monotonic() > deadline:
            raise bench_run.BenchError("first rewrite did not end")
        time.sleep(0.1)


def fmt_threads(d):
    return " ".join(f"{k}={r:.0f}/{w:.0f}" for k, (r, w) in sorted(d.items(), key=lambda kv: -kv[1][0]) if r >= 5)


def one(name, srv, load, keys, seconds, rewrite_first, test="set"):
    clients, pipe = LOADS[load]
    argv = [bench_run.REDIS_BENCHMARK, "-h", "127.0.0.1", "-p", str(srv.port), "-t", test, "-r", str(keys),
            "-c", str(clients), "-P", str(pipe), "-n", "2000000000", "-q"]
    bench = subprocess.Popen(argv, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, start_new_session=True)
    try:
        time.sleep(1.0)
        res = {}
        for rewrite in ((True, False) if rewrite_first else (False, True)):
            if rewrite and "quiet" in res:
                seconds = res["quiet"][1]
            res["rw" if rewrite else "quiet"] = window(srv, seconds, rewrite)
            time.sleep(0.5)
            if rewrite:
                seconds = res["rw"][1]
    finally:
        bench.terminate()
        bench.wait(10)
    (n_rw, s_rw, rw, th_rw), (n_q, s_q, _, th_q) = res["rw"], res["quiet"]
    took = rw["t1"] - rw["t0"]
    rate_in = (rw["calls1"] - rw["calls0"]) / took
    rate_q = n_q / s_q
    lost = n_q * s_rw / s_q - n_rw
    print(f"  {name:8} {load:7} rewrite {took:5.2f} s  window {s_rw:4.2f}/{s_q:4.2f} s  SETs quiet {n_q:8d}"
          f"  with rewrite {n_rw:8d}  lost {lost:8.0f} ({lost / max(rate_q, 1):5.2f} s of quiet rate)"
          f"  rate in rewrite {rate_in:8.0f}/s vs quiet {rate_q:8.0f}/s ({rate_in / max(rate_q, 1):4.2f})"
          f"  child {rw['child_ms']:.0f} ms  load {os.getloadavg()[0]:.2f}", flush=True)
    print(f"      ms running/waiting for a core, rewrite window: {fmt_threads(th_rw)}", flush=True)
    print(f"      ms running/waiting for a core, quiet window:   {fmt_threads(th_q)}", flush=True)
    serving = ("worker-", "redis-server")
    return {"took": took, "lost": lost, "ratio": rate_in / max(rate_q, 1), "rate_in": rate_in, "rate_q": rate_q,
            "child": rw["child_ms"], "n_rw": n_rw, "n_q": n_q * s_rw / s_q,
            "cpu_rw": sum(r for k, (r, _) in th_rw.items() if k.startswith(serving)),
            "cpu_q": sum(r for k, (r, _) in th_q.items() if k.startswith(serving)) * s_rw / s_q}


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("-n", type=int, default=1_000_000)
    ap.add_argument("-r", type=int, default=3)
    ap.add_argument("-w", type=float, default=2.0, help="window seconds (stretched to the rewrite)")
    ap.add_argument("--load", default="c1,c50p1,c50p16")
    ap.add_argument("--test", default="set", choices=("set", "get"), help="the load's command (GET: reads only)")
    ap.add_argument("--arg", action="append", default=[], help="one more server argument (repeat)")
    ap.add_argument("bins", nargs="+")
    a = ap.parse_args()
    global COMMAND
    COMMAND = a.test
    loads = a.load.split(",")
    workdir = tempfile.mkdtemp(prefix="aof_rewrite_tput-")
    servers = []
    try:
        for spec in a.bins:
            name, _, path = spec.partition("=")
            kind = "redis" if os.path.basename(path).startswith("redis-server") else "shoal"
            srv = bench_run.Server(kind, workdir, ["--appendonly", "yes", "--appendfsync", "everysec",
                                                   "--auto-aof-rewrite-percentage", "0"] + a.arg)
            srv.argv_base = srv.argv
            srv.argv = (lambda s, p: lambda: [p] + s.argv_base()[1:])(srv, os.path.abspath(path))
            servers.append((name, srv))
            srv.start()
            fill(srv, a.n)
            print(f"{name}: {a.n} keys, pid {srv.popen.pid}", flush=True)
        results = {}
        for rnd in range(a.r):
            print(f"round {rnd + 1}  load {os.getloadavg()[0]:.2f}", flush=True)
            for load in loads:
                order = servers if rnd % 2 == 0 else servers[::-1]
                for name, srv in order:
                    results.setdefault((name, load), []).append(one(name, srv, load, a.n, a.w, rnd % 2 == 0, a.test))
        print("summary (medians over rounds): rewrite s, SETs lost, lost in s of quiet rate, rate ratio in/quiet,"
              " rate in rewrite, quiet rate, child CPU ms")
        for (name, load), rs in results.items():
            med = {k: statistics.median(r[k] for r in rs) for k in rs[0]}
            lost_s = statistics.median(r["lost"] / max(r["rate_q"], 1) for r in rs)
            n_rw, n_q = sum(r["n_rw"] for r in rs), sum(r["n_q"] for r in rs)
            cpu_rw, cpu_q = sum(r["cpu_rw"] for r in rs), sum(r["cpu_q"] for r in rs)
            print(f"  {name:8} {load:7} {med['took']:5.2f} s  lost {med['lost']:8.0f}  {lost_s:5.2f} s"
                  f"  ratio {med['ratio']:4.2f}  {med['rate_in']:8.0f} / {med['rate_q']:8.0f} /s"
                  f"  child {med['child']:.0f} ms  | sums: SETs rewrite/quiet windows {n_rw / max(n_q, 1):.2f},"
                  f" serving CPU us/SET {cpu_rw * 1000 / max(n_rw, 1):.2f} / {cpu_q * 1000 / max(n_q, 1):.2f}")
    finally:
        for _, srv in servers:
            srv.stop()
        shutil.rmtree(workdir, ignore_errors=True)


if __name__ == "__main__":
    sys.exit(main())
