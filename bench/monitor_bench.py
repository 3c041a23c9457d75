#!/usr/bin/python3
"""MONITOR's cost, shoal and redis-server 7.0.15 side by side (a section of bench/run.py).

What it is for: an operator attaches MONITOR (redis-cli monitor) to a loaded node. For each
server, redis-benchmark SET at -P 1 and -P 16 runs without a monitor, then with one monitor
connection attached that reads (and drops) everything it is sent; the table gives requests
per second both ways, what the monitor costs each server, the lines the monitor received,
and the shoal/redis ratio with the monitor attached (target >= 1.0).

What it must never do: stop a process it did not start; report a number it did not measure.
"""
import socket
import threading


class Monitor:
    """One MONITOR connection draining its stream on a thread; counts the lines."""

    def __init__(self, port):
        self.sock = socket.create_connection(("127.0.0.1", port), timeout=5)
        self.sock.sendall(b"*1\r\n$7\r\nMONITOR\r\n")
        first = b""
        while not first.endswith(b"\r\n"):
            chunk = self.sock.recv(64)
            if not chunk:
                raise OSError("monitor connection closed")
            first += chunk
        if not first.startswith(b"+OK\r\n"):
            raise OSError(f"MONITOR answered {first[:80]!r}")
        self.lines = first.count(b"\n") - 1
        self.stop_ev = threading.Event()
        self.t = threading.Thread(target=self._drain, daemon=True)
        self.t.start()

    def _drain(self):
        self.sock.settimeout(0.2)
        while not self.stop_ev.is_set():
            try:
                chunk = self.sock.recv(1 << 20)
            except socket.timeout:
                continue
            except OSError:
                return
            if not chunk:
                return
            self.lines += chunk.count(b"\n")

    def close(self):
        self.stop_ev.set()
        self.t.join()
        self.sock.close()


def section(b, run):
    res = {}
    for kind in ("shoal", "redis"):
        srv = b.server(kind)
        for pipeline in (1, 16):
            plain = run.measure(srv, "set", pipeline)
            mon = Monitor(srv.port)
            try:
                watched = run.measure(srv, "set", pipeline)
            finally:
                mon.close()
            res[kind, pipeline] = (plain, watched, mon.lines)
            run.log(f"  {srv.label} SET -P {pipeline}: {plain.rps or 0:,.0f} rps plain, "
                    f"{watched.rps or 0:,.0f} rps with a monitor ({mon.lines:,} lines)")
        b.stop(srv)
    rows = []
    for pipeline in (1, 16):
        for kind in ("shoal", "redis"):
            plain, watched, lines = res[kind, pipeline]
            cost = (1 - watched.rps / plain.rps) * 100 if plain.rps and watched.rps else None
            rows.append([f"SET -P {pipeline}", kind, run.fmt_num(plain.rps), run.fmt_num(watched.rps),
                         "-" if cost is None else f"{cost:.0f}%", f"{lines:,}",
                         run.fmt_num(watched.rps_per_cpu)])
        s, r = res["shoal", pipeline][1], res["redis", pipeline][1]
        rows.append([f"SET -P {pipeline}", "ratio", "", run.fmt_ratio(s.rps, r.rps), "", "",
                     run.fmt_ratio(s.rps_per_cpu, r.rps_per_cpu)])
    b.table("MONITOR's cost (redis-benchmark SET, one node; one monitor connection attached and draining)",
            ["load", "server", "SET/s plain", "SET/s monitored", "cost", "monitor lines", "req/CPU-s monitored"],
            rows,
            [f"-c {run.CLIENTS} -r {run.KEYSPACE}; median of {run.REPEAT} run(s); the monitor reads on a "
             "thread of the bench process",
             "cost = 1 - monitored / plain; ratio = shoal / redis with the monitor attached (target >= 1.0)",
             "monitor lines: what the monitor received over the monitored runs: the benchmark's SETs (its "
             "CONFIG GET probes are admin commands, hidden), for shoal also the bench's INFO threads probes"])
