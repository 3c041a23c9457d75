#!/usr/bin/env python3
"""Where an `appendfsync always` fsync cycle's time goes (issue 13), traced, for one server.

What it is for: by hand, not in `make bench`. `bench/aof_cycle.py shoal|redis [-P 16] [-n N]`
starts one node of that kind owning all slots with `appendonly yes appendfsync always`,
runs `redis-benchmark -t set -c 50 -r 100000` under `perf record -a` of the scheduler's
switch and wake-up events and the syscalls of the cycle, and prints from `perf script`:
- each busy thread's share of the run running, runnable with both cores taken, runnable
  while a core was idle (the scheduler's own delay), in the disk (D) and asleep, its CPU per
  SET, and who took the core when it was preempted;
- the fsyncs (count, median and mean) and, after each fsync's end, the median delay to the
  next event of the cycle: a reply written, redis-benchmark reading, its next request, the
  server reading, the next AOF write (a write to the fsynced file), the next fsync.
analyse() takes the `perf script -F comm,pid,tid,cpu,time,event,trace` text, so that the
arithmetic is tested without a server (tests/integration/test_bench_aof_cycle.py).

What it must never do: stop a process it did not start; it needs root's perf (`-a`).
"""
import bisect
import collections
import os
import re
import statistics
import subprocess
import sys
import tempfile

import run as bench_run

EVENTS = ["sched:sched_switch", "sched:sched_wakeup"] + [
    f"syscalls:sys_{d}_{c}" for c in ("fdatasync", "write", "writev", "read", "recvfrom", "sendto")
    for d in ("enter", "exit")]
LINE = re.compile(r"^\s*(.+?)\s+(\d+)/(\d+)\s+\[(\d+)\]\s+([\d.]+):\s+(\S+):\s*(.*)$")
SWITCH = re.compile(r"prev_pid=(\d+) prev_prio=\d+ prev_state=(\S+) ==> next_comm=(.+?) next_pid=(\d+)")
FD = re.compile(r"fd: 0x([0-9a-f]+)")


def parse(text):
    """(time, comm, pid, tid, cpu, event, args) per line, in time order."""
    out = []
    for line in text.splitlines():
        m = LINE.match(line)
        if m:
            comm, pid, tid, cpu, t, ev, args = m.groups()
            out.append((float(t), comm, int(pid), int(tid), int(cpu), ev.split(":")[-1], args))
    out.sort(key=lambda e: e[0])
    return out


def _states(evs, who, t0, t1):
    """Seconds per state of each thread in `who` within [t0, t1], and who preempted it."""
    state, cur = {}, {}
    acc = collections.defaultdict(collections.Counter)
    pre = collections.defaultdict(collections.Counter)
    last = None
    for t, _comm, _pid, tid, cpu, ev, args in evs:
        if last is not None and t > t0 and last < t1:
            dt = min(t, t1) - max(last, t0)
            idle = len(cur) < 2 or 0 in cur.values()
            for x, s in state.items():
                acc[x]["runnable, a core idle" if s == "runnable" and idle else s] += dt
        last = t
        if ev == "sched_switch":
            m = SWITCH.search(args)
            if not m:
                continue
            p, ps, ncomm, n = int(m.group(1)), m.group(2), m.group(3), int(m.group(4))
            cur[cpu] = n
            if p in who:
                state[p] = "runnable" if ps.startswith("R") else ("disk" if "D" in ps else "asleep")
                if ps.startswith("R"):
                    pre[p][ncomm] += 1
            if n in who:
                state[n] = "running"
        elif ev == "sched_wakeup":
            m = re.search(r" pid=(\d+)", args)
            if m and int(m.group(1)) in who and state.get(int(m.group(1))) != "running":
                state[int(m.group(1))] = "runnable"
    return acc, pre


def analyse(text, server_pid, bench_pid, requests):
    """The report's figures: {'run_s', 'threads': {name: {...}}, 'fsyncs', 'after_fsync_ms'}."""
    evs = parse(text)
    bench = [e for e in evs if e[2] == bench_pid and e[5] in ("sys_enter_sendto", "sys_enter_write")]
    if not bench:
        return None
    t0, t1 = bench[0][0], bench[-1][0]
    names = {e[3]: e[1] for e in evs if e[2] in (server_pid, bench_pid)}
    acc, pre = _states(evs, set(names), t0, t1)
    threads = {}
    for tid, a in acc.items():
        if a["running"] <= 0.01 * (t1 - t0):
            continue
        total = sum(a.values())
        a["runnable, a core idle"] += 0.0
        threads[f"{names[tid]}:{tid}"] = {
            "share": {k: v / total for k, v in a.items()},
            "cpu_us_per_set": a["running"] / requests * 1e6,
            "preempted_by": pre[tid].most_common(3)}
    fs, opened, aof_fds = [], {}, set()
    for t, _c, pid, tid, _cpu, ev, args in evs:
        if pid != server_pid:
            continue
        if ev == "sys_enter_fdatasync":
            opened[tid] = t
            m = FD.search(args)
            if m:
                aof_fds.add(int(m.group(1), 16))
        elif ev == "sys_exit_fdatasync" and tid in opened:
            start = opened.pop(tid)
            if t0 <= start <= t1:
                fs.append((start, t))

    def fd_of(args):
        m = FD.search(args)
        return int(m.group(1), 16) if m else -1

    def at(pred):
        return [e[0] for e in evs if pred(e)]
    series = {
        "reply written": at(lambda e: e[2] == server_pid and e[5] in ("sys_enter_write", "sys_enter_writev",
                                                                       "sys_enter_sendto")
                            and fd_of(e[6]) not in aof_fds),
        "redis-benchmark reads": at(lambda e: e[2] == bench_pid and e[5] in ("sys_exit_recvfrom", "sys_exit_read")
                                    and not e[6].strip().startswith("0xf")),
        "redis-benchmark sends": [e[0] for e in bench],
        "server reads": at(lambda e: e[2] == server_pid and e[5] in ("sys_enter_read", "sys_enter_recvfrom")),
        "AOF write": at(lambda e: e[2] == server_pid and e[5] in ("sys_enter_write", "sys_enter_writev")
                        and fd_of(e[6]) in aof_fds),
        "next fsync": [s for s, _ in fs]}
    after = {}
    for k, times in series.items():
        d = []
        for _, end in fs:
            i = bisect.bisect_right(times, end)
            if i < len(times):
                d.append((times[i] - end) * 1e3)
        if d:
            after[k] = (statistics.median(d), statistics.mean(d))
    durs = [(e - s) * 1e3 for s, e in fs]
    return {"run_s": t1 - t0, "threads": threads,
            "fsyncs": (len(fs), statistics.median(durs), statistics.mean(durs)) if durs else (0, 0.0, 0.0),
            "after_fsync_ms": after}


def report(fig, requests):
    print(f"run {fig['run_s']:.3f} s, {requests / fig['run_s']:,.0f} SET/s")
    n, med, mean = fig["fsyncs"]
    if n:
        print(f"fsyncs {n} ({requests / n:.0f} SETs each), median {med:.3f} ms, mean {mean:.3f} ms, "
              f"cycle {fig['run_s'] / n * 1e3:.3f} ms")
    for name, t in sorted(fig["threads"].items()):
        shares = ", ".join(f"{k} {v * 100:.0f}%" for k, v in sorted(t["share"].items(), key=lambda kv: -kv[1]))
        print(f"{name}: {shares}; {t['cpu_us_per_set']:.2f} CPU-us/SET; preempted by {t['preempted_by']}")
    for k, (med, mean) in fig["after_fsync_ms"].items():
        print(f"fsync end -> {k:<22} median {med:.3f} ms, mean {mean:.3f} ms")


def main(argv):
    kind = argv[1] if len(argv) > 1 else "shoal"
    pipeline = int(argv[argv.index("-P") + 1]) if "-P" in argv else 16
    requests = int(argv[argv.index("-n") + 1]) if "-n" in argv else 200_000
    b = bench_run.Bench()
    try:
        srv = b.server(kind, ["--appendonly", "yes", "--appendfsync", "always"])
        tmpdir = tempfile.TemporaryDirectory(prefix="aof-cycle.")
        data = os.path.join(tmpdir.name, "perf.data")
        cmd = ["perf", "record", "-q", "-a", "-o", data] + [x for e in EVENTS for x in ("-e", e)] + \
              ["--", bench_run.REDIS_BENCHMARK, "-p", str(srv.port), "-c", "50", "-P", str(pipeline),
               "-n", str(requests), "-t", "set", "-r", "100000", "-q"]
        bench_pid = None
        p = subprocess.Popen(cmd, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        p.wait()
        text = subprocess.run(["perf", "script", "-i", data, "-F", "comm,pid,tid,cpu,time,event,trace"],
                              capture_output=True, text=True).stdout
        # perf execs redis-benchmark in its forked child: that pid
        for e in parse(text):
            if e[1] == "redis-benchmark":
                bench_pid = e[2]
                break
        fig = analyse(text, srv.popen.pid, bench_pid, requests) if bench_pid else None
        print(f"{kind} -P {pipeline} -n {requests}, load {os.getloadavg()[0]:.1f}")
        if fig:
            report(fig, requests)
        else:
            print("no trace (perf refused?)")
        tmpdir.cleanup()
    finally:
        b.close()


if __name__ == "__main__":
    main(sys.argv)
