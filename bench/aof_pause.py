#!/usr/bin/env python3
"""Where a BGREWRITEAOF pauses a client (issue 13), for several servers side by side.

What it is for: by hand, not in `make bench`. `bench/aof_pause.py [-n KEYS] [-r ROUNDS]
[--sets] [--arg=ARG ...] NAME=BINARY ...` (a BINARY named redis-server runs as redis-server, anything else as
shoal-node) starts one node per binary owning all slots with `appendonly yes appendfsync
everysec --loglevel verbose`, fills each with KEYS string keys (DEBUG POPULATE), then for
ROUNDS rounds, the servers alternating (order reversed every other round): a probe client
sends one SET at a time (wall-clock stamps), BGREWRITEAOF is sent and INFO persistence
polled every 10 ms until the rewrite is done, then the same probe and polling run over a
window as long with no rewrite. Per round and server it prints the longest SET during the
rewrite and in the quiet window, their difference (the bench's 'excess'), and for the five
slowest SETs of the rewrite their start relative to the BGREWRITEAOF and the server's log
lines (verbose) within 20 ms before their reply: which phase of the rewrite each pause
fell in. The load average is printed with every round.

What it must never do: stop a process it did not start.
"""
import argparse
import datetime
import os
import re
import shutil
import socket
import sys
import tempfile
import threading
import time

import run as bench_run

LOGTIME = re.compile(r"^\d+:\w (\d+ \w+ \d+ \d+:\d+:\d+\.\d+) [.\-*#] (.*)$")


class Probe(threading.Thread):
    """SET after SET on one connection; (start wall time, seconds) of each while `window`."""

    def __init__(self, port):
        super().__init__(daemon=True)
        self.port, self.stop, self.window, self.samples = port, False, False, []

    def run(self):
        with socket.create_connection(("127.0.0.1", self.port), timeout=60) as s:
            n = 0
            while not self.stop:
                req = b"*3\r\n$3\r\nSET\r\n$5\r\nprobe\r\n$%d\r\n%d\r\n" % (len(str(n)), n)
                t0, w0 = time.monotonic(), time.time()
                s.sendall(req)
                buf = b""
                while not buf.endswith(b"\r\n"):
                    buf += s.recv(64)
                if self.window:
                    self.samples.append((w0, time.monotonic() - t0))
                n += 1


def info(port):
    v = bench_run.resp_call(port, "INFO", "persistence", timeout=30.0) or b""
    return dict(line.partition(":")[::2] for line in v.decode(errors="replace").split("\r\n"))


def log_lines(path):
    """(wall time, text) of every line of a server log with a timestamp."""
    out = []
    for line in open(path, errors="replace"):
        m = LOGTIME.match(line.rstrip("\n"))
        if m:
            t = datetime.datetime.strptime(m.group(1), "%d %b %Y %H:%M:%S.%f").timestamp()
            out.append((t, m.group(2)))
    return out


def window(port, probe, seconds=None, rewrite=False):
    """Probe samples over one window: the rewrite's (until done) or `seconds` long."""
    probe.samples = []
    probe.window = True
    t0 = time.monotonic()
    if rewrite:
        before = int(info(port).get("aof_rewrites", "0"))
        r = bench_run.resp_call(port, "BGREWRITEAOF", timeout=30.0)
        if not str(r).startswith("Background append only file rewriting"):
            raise bench_run.BenchError(f"BGREWRITEAOF replied {r!r}")
    while True:
        i = info(port)
        if rewrite and i.get("aof_rewrite_in_progress") == "0" and int(i.get("aof_rewrites", "0")) > before:
            break
        if not rewrite and time.monotonic() - t0 >= seconds:
            break
        time.sleep(0.01)
    took = time.monotonic() - t0
    time.sleep(0.1)
    probe.window = False
    return took, list(probe.samples)


def one_round(name, srv):
    probe = Probe(srv.port)
    probe.start()
    time.sleep(0.3)
    sent = time.time()
    took, during = window(srv.port, probe, rewrite=True)
    time.sleep(0.5)
    _, quiet = window(srv.port, probe, seconds=took)
    probe.stop = True
    probe.join(10)
    worst = max(d for _, d in during)
    calm = max(d for _, d in quiet)
    print(f"  {name:8} rewrite {took:.2f} s  longest SET {worst * 1000:6.1f} ms  quiet {calm * 1000:6.1f} ms"
          f"  excess {max(0.0, worst - calm) * 1000:5.1f} ms  ({len(during)} SETs)  load {os.getloadavg()[0]:.2f}",
          flush=True)
    lines = log_lines(srv.log_path)
    for w0, d in sorted(during, key=lambda s: -s[1])[:5]:
        near = [f"{(t - sent) * 1000:7.1f} {text[:70]}" for t, text in lines
                if w0 - 0.02 <= t <= w0 + d and not text.startswith(("Accepted", "Client closed"))]
        print(f"    {d * 1000:6.1f} ms at +{(w0 - sent) * 1000:7.1f} ms" + "".join("\n        " + x for x in near))
    return worst, calm


def restart(srv):
    """Stops srv and starts it again on its files, until it answers PING."""
    srv.stop()
    with open(srv.log_path, "ab") as logf:
        srv.popen = bench_run.subprocess.Popen(srv.argv(), stdout=logf, stderr=bench_run.subprocess.STDOUT,
                                               stdin=bench_run.subprocess.DEVNULL, cwd=str(srv.dir),
                                               start_new_session=True)
    deadline = time.monotonic() + 600
    while time.monotonic() < deadline:
        srv.check_alive("restarting")
        try:
            if bench_run.resp_call(srv.port, "PING", timeout=1.0) == "PONG":
                return
        except OSError:
            pass
        time.sleep(0.05)
    raise bench_run.BenchError(f"{srv.label}: no PONG after a restart")


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("-n", type=int, default=1_000_000)
    ap.add_argument("-r", type=int, default=4)
    ap.add_argument("--sets", action="store_true",
                    help="fill with SETs through the AOF and restart on it (as bench/aof_bench.py)")
    ap.add_argument("--arg", action="append", default=[],
                    help="one more server argument (repeat), e.g. --arg=--aof-use-rdb-preamble --arg=no")
    ap.add_argument("bins", nargs="+")
    a = ap.parse_args()
    workdir = tempfile.mkdtemp(prefix="aof_pause-")
    servers = []
    try:
        for spec in a.bins:
            name, _, path = spec.partition("=")
            kind = "redis" if os.path.basename(path).startswith("redis-server") else "shoal"
            srv = bench_run.Server(kind, workdir, ["--appendonly", "yes", "--appendfsync", "everysec",
                                                   "--loglevel", "verbose", "--enable-debug-command", "yes"] + a.arg)
            srv.argv_base = srv.argv
            srv.argv = (lambda s, p: lambda: [p] + s.argv_base()[1:])(srv, os.path.abspath(path))
            servers.append((name, srv))
            srv.start()
            if a.sets:
                bench_run.pipeline_load(srv.port, (("SET", f"key:{i:07d}", f"value:{i:07d}") for i in range(a.n)))
                restart(srv)
                continue
            r = bench_run.resp_call(srv.port, "DEBUG", "POPULATE", str(a.n), "key", "10", timeout=600)
            if r != "OK":
                raise bench_run.BenchError(f"{name}: DEBUG POPULATE replied {r!r}")
        results = {name: [] for name, _ in servers}
        for rnd in range(a.r):
            print(f"round {rnd + 1}", flush=True)
            order = servers if rnd % 2 == 0 else servers[::-1]
            for name, srv in order:
                results[name].append(one_round(name, srv))
        print("summary (ms): longest during / quiet / excess per round")
        for name, rs in results.items():
            print(f"  {name:8} " + "  ".join(f"{w * 1000:.1f}/{q * 1000:.1f}/{max(0, w - q) * 1000:.1f}"
                                            for w, q in rs))
    finally:
        for _, srv in servers:
            srv.stop()
        if os.environ.get("BENCH_KEEP", "") in ("", "0"):
            shutil.rmtree(workdir, ignore_errors=True)
        else:
            print(f"logs kept in {workdir}")


if __name__ == "__main__":
    sys.exit(main())
