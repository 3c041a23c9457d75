#!/usr/bin/python3
"""Checks bench/cluster_sim's PING-rate model against a real cluster of redis-server 7.0.15.

What it is for: cluster_sim models the gossip between the members it plays (see
bench/README.md, cluster_cost). This script builds a real cluster of N redis-server nodes
with `redis-cli --cluster create --cluster-replicas 1` at node timeout 15000, lets it settle,
and reads every node's `cluster_stats_messages_ping_received` over a few windows: the PINGs
a node of a real N-node cluster receives per second. Then it runs cluster_sim with the same
N against one more redis-server and prints the rate the model gives. The two should agree
(N = 60: real 3.9-4.1, model 3.6; N = 120: real 5.4-5.7, model 5.2 on our machine).

What it must never do: stop a process it did not start (run.py's helpers stop every node
by the pid they started), or bind outside 127.0.0.1.

Usage: python3 bench/cluster_sim_check.py [N=60] [settle_s=30] [window_s=30] [windows=2]
N real servers run at once (about 10 MB and 0.3 % of a core each when idle).
"""
import subprocess
import sys
import time

import run as R     # bench/ is sys.path[0] when this file runs as a script


def ping_stats(servers):
    out = []
    for srv in servers:
        info = R.resp_call(srv.port, "CLUSTER", "INFO").decode()
        kv = dict(line.split(":", 1) for line in info.split("\r\n") if ":" in line)
        out.append(int(kv.get("cluster_stats_messages_ping_received", 0)))
    return out


def main():
    args = [float(a) for a in sys.argv[1:]]
    n = int(args[0]) if args else 60
    settle = args[1] if len(args) > 1 else 30.0
    window = args[2] if len(args) > 2 else 30.0
    windows = int(args[3]) if len(args) > 3 else 2
    if n % 2 or n < 6:
        sys.exit("N must be even and at least 6")
    R.raise_fd_limit()
    b = R.Bench()
    try:
        servers = R.start_nodes(b, "redis", n, ["--cluster-node-timeout", "15000"])
        out = subprocess.run([R.shutil.which("redis-cli") or "redis-cli", "--cluster", "create",
                              *[f"127.0.0.1:{s.port}" for s in servers],
                              "--cluster-replicas", "1", "--cluster-yes"],
                             capture_output=True, text=True, timeout=300)
        if out.returncode != 0:
            sys.exit(f"redis-cli --cluster create failed: {out.stdout[-300:]}{out.stderr}")
        deadline = time.monotonic() + 120
        while True:
            infos = [R.resp_call(s.port, "CLUSTER", "INFO").decode() for s in servers]
            if all("cluster_state:ok" in i and f"cluster_known_nodes:{n}\r" in i
                   for i in infos):
                break
            if time.monotonic() > deadline:
                sys.exit("the real cluster did not converge in 120 s")
            time.sleep(1)
        R.log(f"real cluster of {n} converged; settling {settle:g} s")
        time.sleep(settle)
        upper = (n - 1) / 7.55 + 1
        for _ in range(windows):
            a, t0 = ping_stats(servers), time.monotonic()
            time.sleep(window)
            z, dt = ping_stats(servers), time.monotonic() - t0
            rates = [(y - x) / dt for x, y in zip(a, z)]
            print(f"real  N={n}: PINGs received per node per s: mean {sum(rates) / n:.2f}, "
                  f"min {min(rates):.2f}, max {max(rates):.2f} (upper bound {upper:.1f})",
                  flush=True)
        R.stop_nodes(servers)
        srv = b.server("redis", ["--cluster-node-timeout", "15000"], own_all_slots=False)
        sim = subprocess.run([R.CLUSTER_SIM, "-p", str(srv.port + 10000), "-c", str(srv.port),
                              "-n", str(n), "-W", str(settle), "-t", str(window * windows),
                              "-P", str(srv.popen.pid)],
                             capture_output=True, text=True,
                             timeout=settle + window * windows + 120)
        kv = dict(f.split("=", 1) for f in sim.stdout.split() if "=" in f)
        if sim.returncode != 0 or "pings_in_per_sec" not in kv:
            sys.exit(f"cluster_sim failed: {sim.stderr.strip()[-300:]}")
        print(f"model N={n}: PINGs received by the node per s: {kv['pings_in_per_sec']} "
              f"(node_timeout/2 {kv['timeout_pings_per_sec']}, random "
              f"{kv['random_pings_per_sec']}); the node's own PINGs out "
              f"{kv['pings_out_per_sec']}/s", flush=True)
    finally:
        b.close()


if __name__ == "__main__":
    main()
