#!/usr/bin/python3
"""The drill cluster of bench/drill.py: 3 masters + 3 replicas of one kind, and the small RESP
and CLUSTER NODES helpers the drill's observers use.

What it is for: starting six shoal-node or redis-server processes (cluster-enabled, the given
cluster-node-timeout, repl-diskless-sync-delay 0; redis also save "" and appendonly no) on
free loopback ports, making them one cluster with `redis-cli --cluster create
--cluster-replicas 1`, restarting one node in place (same port, dir and nodes.conf), and
telling when the cluster is whole: every node answers, all views agree on 3 slot owners
covering 16384 slots with one replica each, no fail/pfail flag, cluster_state:ok, replica
links up.

What it must never do: signal a process it did not start (a Node signals only its own
Popen's pid, continues a stopped node before SIGTERM, SIGKILL after 5 s), bind outside
127.0.0.1, or wait without a deadline.
"""
import os
import shutil
import signal
import socket
import subprocess
import time
from pathlib import Path

import resp_wire        # bench/ is on sys.path: drill.py puts it there

REDIS_CLI = os.environ.get("REDIS_CLI", shutil.which("redis-cli") or "redis-cli")
SETTLE_TIMEOUT = 60.0     # a new or recovering cluster must be whole again within this


key_slot = resp_wire.key_slot


def parse_nodes(text):
    """CLUSTER NODES -> {id: {port, flags, master, slots [(a, b)], myself}}."""
    out = {}
    for line in text.splitlines():
        f = line.split()
        if len(f) < 8:
            continue
        addr = f[1].split("@")[0]
        port = int(addr.rsplit(":", 1)[1]) if ":" in addr and addr.rsplit(":", 1)[1] else 0
        flags = set(f[2].split(","))
        slots = []
        for r in f[8:]:
            if r.startswith("["):
                continue
            a, _, b = r.partition("-")
            slots.append((int(a), int(b or a)))
        out[f[0]] = {"port": port, "flags": flags, "master": f[3], "slots": slots,
                     "myself": "myself" in flags, "link": f[7]}
    return out


def parse_info(text):
    out = {}
    for line in text.split("\r\n"):
        if line and not line.startswith("#"):
            k, _, v = line.partition(":")
            out[k] = v
    return out


def owner_of(view, slot):
    for nid, n in view.items():
        if "master" in n["flags"] and any(a <= slot <= b for a, b in n["slots"]):
            return nid
    return None


class Conn:
    """One kept-open RESP connection with a timeout; any error closes it (the next call
    reconnects). Replies: str (+), '-ERR ...' str, int, bytes, list, None."""

    def __init__(self, port, timeout):
        self.port, self.timeout = port, timeout
        self.sock = self.f = None

    def close(self):
        for x in (self.f, self.sock):
            try:
                if x:
                    x.close()
            except OSError:
                pass
        self.sock = self.f = None

    def calls(self, *cmds):
        try:
            if self.sock is None:
                self.sock = socket.create_connection(("127.0.0.1", self.port), self.timeout)
                self.sock.settimeout(self.timeout)
                self.sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
                self.f = self.sock.makefile("rb")
            self.sock.sendall(b"".join(resp_wire.encode(args) for args in cmds))
            return [resp_wire.read_reply(self.f) for _ in cmds]
        except (OSError, ValueError, ConnectionError):
            self.close()
            raise ConnectionError(f":{self.port} unreachable")

    def call(self, *args):
        return self.calls(args)[0]


def one_call(port, *args, timeout=1.0):
    c = Conn(port, timeout)
    try:
        return c.call(*args)
    finally:
        c.close()


# ---------------------------------------------------------------------------------------
# Nodes and the cluster
# ---------------------------------------------------------------------------------------

class Node:
    """One shoal-node or redis-server process of a drill cluster, started by us."""

    def __init__(self, rt, kind, workdir, nt, binary):
        self.rt, self.kind, self.nt, self.binary = rt, kind, nt, binary
        self.port = rt.free_port()
        self.dir = Path(workdir) / f"{kind}-{nt}-{self.port}"
        self.dir.mkdir(parents=True)
        self.popen = None
        self.stopped = False          # SIGSTOPped by us and not yet continued
        self.id = None

    def argv(self):
        common = ["--port", str(self.port), "--bind", "127.0.0.1", "--cluster-enabled", "yes",
                  "--cluster-config-file", "nodes.conf", "--dir", str(self.dir),
                  "--logfile", "", "--daemonize", "no",
                  "--cluster-node-timeout", str(self.nt), "--repl-diskless-sync-delay", "0"]
        extra = os.environ.get("DRILL_NODE_ARGS", "").split()
        if self.kind == "shoal":
            return [self.binary] + common + extra
        return [self.binary] + common + ["--save", "", "--appendonly", "no"] + extra

    def start(self):
        with open(self.dir / "server.log", "ab") as logf:
            self.popen = subprocess.Popen(self.argv(), stdout=logf, stderr=subprocess.STDOUT,
                                          stdin=subprocess.DEVNULL, cwd=str(self.dir),
                                          start_new_session=True)
        self.stopped = False
        deadline = time.monotonic() + 15
        while True:
            if self.popen.poll() is not None:
                raise self.rt.BenchError(f"{self.kind} :{self.port} exited with "
                                         f"{self.popen.returncode} at start\n{self.log_tail()}")
            try:
                if one_call(self.port, "PING") == "PONG":
                    break
            except ConnectionError:
                pass
            if time.monotonic() > deadline:
                raise self.rt.BenchError(f"{self.kind} :{self.port} not answering PING")
            time.sleep(0.05)
        if self.id is None:
            v = one_call(self.port, "CLUSTER", "MYID")
            if not isinstance(v, bytes):
                raise self.rt.BenchError(f":{self.port} CLUSTER MYID: {v!r}")
            self.id = v.decode()

    def alive(self):
        return self.popen is not None and self.popen.poll() is None

    def signal(self, sig):
        if self.alive():
            os.kill(self.popen.pid, sig)
            if sig == signal.SIGSTOP:
                self.stopped = True
            elif sig == signal.SIGCONT:
                self.stopped = False

    def kill9(self):
        if self.alive():
            self.popen.kill()
            self.popen.wait()
        self.stopped = False

    def stop(self):
        if not self.alive():
            return
        if self.stopped:
            self.signal(signal.SIGCONT)
        self.popen.send_signal(signal.SIGTERM)
        try:
            self.popen.wait(timeout=5)
        except subprocess.TimeoutExpired:
            self.popen.kill()
            self.popen.wait()

    def log_tail(self, n=15):
        try:
            return "\n".join((self.dir / "server.log").read_text(errors="replace")
                             .splitlines()[-n:])
        except OSError:
            return "(no log)"


class Cluster:
    def __init__(self, rt, kind, nt, workdir, binary):
        self.rt, self.kind, self.nt = rt, kind, nt
        self.nodes = [Node(rt, kind, workdir, nt, binary) for _ in range(6)]
        self.by_id = {}

    def create(self):
        for n in self.nodes:
            n.start()
        self.by_id = {n.id: n for n in self.nodes}
        argv = [REDIS_CLI, "--cluster", "create"] + [f"127.0.0.1:{n.port}" for n in self.nodes] \
            + ["--cluster-replicas", "1", "--cluster-yes"]
        try:
            out = subprocess.run(argv, capture_output=True, text=True, timeout=90,
                                 stdin=subprocess.DEVNULL)
        except subprocess.TimeoutExpired:
            raise self.rt.BenchError(f"{self.kind}: redis-cli --cluster create timed out")
        if out.returncode != 0 or "[OK] All 16384 slots covered" not in out.stdout:
            raise self.rt.BenchError(f"{self.kind}: redis-cli --cluster create failed: "
                                     f"{(out.stdout + out.stderr)[-300:]}")
        return self.settle()

    def close(self):
        for n in self.nodes:
            n.stop()

    def shape(self):
        """[(master, replica, ranges)] when the cluster is whole and agreed; else None.
        Whole: 6 live nodes answering, every view lists the same 3 slot owners covering all
        16384 slots and the same replica of each, no fail/pfail flag, cluster_state:ok
        everywhere, and each replica's link to its master up."""
        views = []
        for n in self.nodes:
            if not n.alive() or n.stopped:
                return None
            try:
                nodes_txt, info_txt = Conn(n.port, 1.0).calls(("CLUSTER", "NODES"),
                                                               ("CLUSTER", "INFO"))
            except ConnectionError:
                return None
            if not isinstance(nodes_txt, bytes) or not isinstance(info_txt, bytes):
                return None
            if parse_info(info_txt.decode()).get("cluster_state") != "ok":
                return None
            views.append(parse_nodes(nodes_txt.decode()))
        keyed = []
        for v in views:
            if any(f in x["flags"] for x in v.values() for f in ("fail", "fail?", "handshake")):
                return None
            masters = {nid: tuple(sorted(x["slots"])) for nid, x in v.items()
                       if "master" in x["flags"] and x["slots"]}
            reps = {nid: x["master"] for nid, x in v.items() if "slave" in x["flags"]}
            keyed.append((tuple(sorted(masters.items())), tuple(sorted(reps.items()))))
        if len(set(keyed)) != 1:
            return None
        masters, reps = dict(keyed[0][0]), dict(keyed[0][1])
        if len(masters) != 3 or sum(b - a + 1 for r in masters.values() for a, b in r) != 16384:
            return None
        out = []
        for mid, ranges in sorted(masters.items(), key=lambda kv: kv[1][0]):
            rs = [r for r, m in reps.items() if m == mid]
            if len(rs) != 1 or mid not in self.by_id or rs[0] not in self.by_id:
                return None
            out.append((self.by_id[mid], self.by_id[rs[0]], list(ranges)))
        for _, r, _ in out:
            try:
                info = one_call(r.port, "INFO", "replication")
            except ConnectionError:
                return None
            if not isinstance(info, bytes) or \
                    parse_info(info.decode()).get("master_link_status") != "up":
                return None
        return out

    def settle(self, timeout=SETTLE_TIMEOUT):
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            for n in self.nodes:
                if not n.alive():
                    raise self.rt.BenchError(f"{self.kind} :{n.port} exited "
                                             f"({n.popen.returncode})\n{n.log_tail()}")
            s = self.shape()
            if s:
                return s
            time.sleep(0.05)
        raise self.rt.BenchError(f"{self.kind} nt={self.nt}: cluster not whole after "
                                 f"{timeout:.0f} s")
