#!/usr/bin/python3
"""Failover drills: kill -9, SIGSTOP, manual CLUSTER FAILOVER and TAKEOVER on a 3+3 cluster of
shoal nodes and, in the same run, of redis-server 7.0.15 nodes (`make drill`).

What it is for: measuring how fast a cluster recovers from a lost master and whether it ever
loses a write a replica acknowledged. For each kind (redis, then shoal) and node timeout
(cluster-node-timeout 1000 and 5000 ms) it builds 3 masters + 3 replicas with
`redis-cli --cluster create --cluster-replicas 1`, then runs each drill REPS times on that
cluster (the next master in turn each time). While a drill runs:
  - one poller thread per node (its own connection) sends CLUSTER NODES + CLUSTER INFO every
    ~10 ms and keeps what each sample says about the failed master M and its replica R;
  - a writer thread (redis-py, one connection per node it talks to, MOVED followed by
    re-reading CLUSTER SLOTS) writes unique keys of M's slots, each SET followed by
    `WAIT 1 100`; a write is acknowledged when SET said OK and WAIT said >= 1.
From the samples it derives, relative to the fault (t = 0):
  t_fail      every survivor flags M `fail`;
  t_promoted  R's own CLUSTER NODES says it is a master;
  t_all_ok    every reachable node has cluster_state:ok and gives M's slots to R, and stays so
              (for a manual failover this is "all nodes agree on the new master");
  t_roles     (manual only) as t_all_ok, and every node also lists M as R's replica: all views
              consistent (the figure the manual-failover target is for; redis's ~462 ms matches it);
  t_write     the first SET answered OK by R; t_acked: the first acknowledged one (R has a
              replica again only once the old master is back, see README);
  lost        acknowledged keys that R does not return with their value after the drill.
After a drill the old master is brought back (restarted after kill -9, SIGCONT after SIGSTOP)
and the harness waits until it is R's replica and the cluster is whole again; a cluster that
does not get there is torn down and a new one built for the next drill.

What it must never do: stop or signal a process it did not start (everything by the pid from
Popen, SIGCONT before SIGTERM, also on errors and Ctrl-C), bind outside 127.0.0.1 or use a
client port at or above 22768, hang (every wait has a deadline; a drill that misses its deadline
is reported as "did not complete"), or report a figure it did not measure.

Environment (besides bench/run.py's): DRILL_REPS (default 5; 1 with BENCH_QUICK=1),
DRILL_TIMEOUTS=1000,5000 (1000 with BENCH_QUICK=1), DRILL_ONLY=kill,stop,manual,takeover,
DRILL_KINDS=redis,shoal, DRILL_NODE_ARGS (directives for every node, e.g.
"--cluster-replica-no-failover yes" to see drills that do not complete), DRILL_BUDGET seconds
for the whole run (default 840: drills that would start later are skipped and the table says
so), DRILL_OUT (default build/), DRILL_RAW=1 (also drill-raw.json: every sample and write).
The timeline SVG is drawn by bench/drill_timeline.py.
Run alone: `/usr/bin/python3 bench/drill.py`.
"""
import json
import os
import re
import shutil
import signal
import statistics
import sys
import threading
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))
import drill_timeline  # noqa: E402 - bench/ is not a package
from drill_cluster import Cluster, Conn, key_slot, one_call, parse_info, parse_nodes, \
    owner_of  # noqa: E402

DRILLS = ("kill", "stop", "manual", "takeover")
DRILL_TITLE = {"kill": "kill -9 master", "stop": "SIGSTOP master",
               "manual": "CLUSTER FAILOVER", "takeover": "kill -9 + TAKEOVER"}
# What each drill reports (keys of a drill's result), in table order.
METRICS = {
    "kill": ("t_fail", "t_promoted", "t_all_ok", "t_write", "t_acked", "t_back", "lost"),
    "stop": ("t_fail", "t_promoted", "t_all_ok", "t_write", "t_acked", "t_back", "lost"),
    "manual": ("t_promoted", "t_all_ok", "t_roles", "t_write", "t_acked", "lost"),
    "takeover": ("t_promoted", "t_all_ok", "t_write", "t_acked", "t_back", "lost"),
}
METRIC_TITLE = {
    "t_fail": "FAIL on every survivor (ms)", "t_promoted": "replica is master (ms)",
    "t_all_ok": "all nodes ok, new owner (ms)", "t_write": "first write accepted (ms)",
    "t_acked": "first write acked, WAIT 1 (ms)", "t_back": "old master back as replica (ms)",
    "t_roles": "consistent: + old master a replica (ms)", "lost": "acked writes lost",
}
# Targets for the recovery times (ms), keyed by (drill, metric, node timeout or None for any).
TARGETS = {("kill", "t_all_ok", 1000): ("<= 1300 (redis ~2248)", 1300),
           ("kill", "t_all_ok", 5000): ("<= 5500 (redis ~8384)", 5500),
           ("manual", "t_roles", 1000): ("<= 150 (redis ~462)", 150)}
WAIT_MS = 100             # WAIT 1 <WAIT_MS> after every SET
OP_TIMEOUT = 0.2          # the writer's socket timeout (a SIGSTOPped master never answers)
POLL_INTERVAL = 0.010


def drill_deadline(nt):
    """Seconds after the fault within which a failover must complete (generous)."""
    return 10.0 + 4.0 * nt / 1000.0


# ---------------------------------------------------------------------------------------
# Observers: pollers and the writer
# ---------------------------------------------------------------------------------------

class Poller(threading.Thread):
    """Samples one node every ~10 ms: (t, reachable, state_ok, M's flag as this node sees it,
    owner of M's slots, node's own role, M's master id). t is when the reply arrived."""

    def __init__(self, node, m_id, r_id, check_slots, stop_evt):
        super().__init__(daemon=True)
        self.node, self.m_id, self.r_id = node, m_id, r_id
        self.check_slots, self.stop_evt = check_slots, stop_evt
        self.samples = []

    def run(self):
        conn = Conn(self.node.port, 0.25)
        while not self.stop_evt.is_set():
            t_sent = time.monotonic()
            try:
                nodes_txt, info_txt = conn.calls(("CLUSTER", "NODES"), ("CLUSTER", "INFO"))
                t = time.monotonic()
                v = parse_nodes(nodes_txt.decode()) if isinstance(nodes_txt, bytes) else {}
                ok = isinstance(info_txt, bytes) and \
                    parse_info(info_txt.decode()).get("cluster_state") == "ok"
                m = v.get(self.m_id, {"flags": set(), "master": "-"})
                mflag = "fail" if "fail" in m["flags"] else \
                    ("pfail" if "fail?" in m["flags"] else "")
                owners = {owner_of(v, s) for s in self.check_slots}
                owner = owners.pop() if len(owners) == 1 else None
                me = next((x for x in v.values() if x["myself"]), None)
                self_master = bool(me and "master" in me["flags"])
                self.samples.append((t, True, ok, mflag, owner, self_master, m["master"]))
            except (ConnectionError, ValueError, IndexError, UnicodeDecodeError):
                # Unreachable, or a reply we cannot read: this node is not ok at t.
                t = time.monotonic()
                self.samples.append((t, False, False, "", None, False, None))
                # A refused connection comes back at once: do not spin.
                time.sleep(max(0.0, POLL_INTERVAL - (t - t_sent)))
                continue
            time.sleep(max(0.0, POLL_INTERVAL - (time.monotonic() - t_sent)))
        conn.close()


MOVED_RE = re.compile(r"(\d+)\s+([\w.:\[\]-]+):(\d+)")


class Writer(threading.Thread):
    """Writes unique keys of the failed master's slots, each SET followed by WAIT 1, with
    redis-py: one connection per node, MOVED or an error -> re-read CLUSTER SLOTS."""

    def __init__(self, redis_mod, ports, tags, prefix, stop_evt):
        super().__init__(daemon=True)
        self.redis = redis_mod
        self.ports, self.tags, self.prefix, self.stop_evt = ports, tags, prefix, stop_evt
        self.slot_port = {}
        self.clients = {}
        self.ops = []     # (t_start, t_set, t_end, port, key, value, set_ok, wait_n, error)
        self.refreshes = 0

    def client(self, port):
        c = self.clients.get(port)
        if c is None:
            c = self.redis.Redis(host="127.0.0.1", port=port, socket_timeout=OP_TIMEOUT,
                                 socket_connect_timeout=OP_TIMEOUT,
                                 single_connection_client=True)
            self.clients[port] = c
        return c

    def drop(self, port):
        c = self.clients.pop(port, None)
        if c is not None:
            try:
                c.close()
            except Exception:  # noqa: BLE001 - closing a broken client must not stop the writer
                pass

    def refresh(self, avoid=None):
        """Re-reads CLUSTER SLOTS from the first node that answers (the last failing port
        last). Keeps the old map if nobody answers."""
        self.refreshes += 1
        order = [p for p in self.ports if p != avoid] + ([avoid] if avoid else [])
        for p in order:
            try:
                slots = self.client(p).execute_command("CLUSTER", "SLOTS")
            except self.redis.RedisError:
                self.drop(p)
                continue
            m = {}
            for entry in slots or []:
                a, b, master = int(entry[0]), int(entry[1]), entry[2]
                for tag_slot in self.tag_slots:
                    if a <= tag_slot <= b:
                        m[tag_slot] = int(master[1])
            if m:
                self.slot_port = m
                return

    def run(self):
        self.tag_slots = {key_slot(t) for t in self.tags}
        self.refresh()
        seq = 0
        while not self.stop_evt.is_set():
            tag = self.tags[seq % len(self.tags)]
            key = f"{{{tag}}}:{self.prefix}:{seq}"
            value = f"v{seq}"
            seq += 1
            slot = key_slot(key)
            port = self.slot_port.get(slot) or self.ports[0]
            t0 = time.monotonic()
            set_ok, wait_n, err, t_set = False, None, None, None
            try:
                c = self.client(port)
                set_ok = c.set(key, value) is True
                t_set = time.monotonic()
                if set_ok:
                    wait_n = int(c.execute_command("WAIT", 1, WAIT_MS))
            except self.redis.ResponseError as e:
                err = str(e)
                mv = MOVED_RE.search(err) if "MOVED" in type(e).__name__.upper() or \
                    err.startswith("MOVED") or MOVED_RE.fullmatch(err.strip()) else None
                if mv:
                    self.slot_port[int(mv.group(1))] = int(mv.group(3))
                    self.refresh()
                else:
                    self.refresh(avoid=port)
                    time.sleep(0.005)
            except (self.redis.RedisError, ValueError, TypeError) as e:
                err = f"{type(e).__name__}: {e}"
                self.drop(port)
                self.refresh(avoid=port)
                time.sleep(0.005)
            self.ops.append((t0, t_set, time.monotonic(), port, key, value, set_ok, wait_n,
                             err))
            time.sleep(0.001)
        for p in list(self.clients):
            self.drop(p)


# ---------------------------------------------------------------------------------------
# One drill
# ---------------------------------------------------------------------------------------

def stable_since(samples, good, t_max):
    """Time of the first sample after the last bad one (samples up to t_max); None if the
    last sample is bad or there is none."""
    since = None
    for s in samples:
        if s[0] > t_max:
            break
        if good(s):
            if since is None:
                since = s[0]
        else:
            since = None
    return since


def first_time(samples, pred, t_from):
    for s in samples:
        if s[0] >= t_from and pred(s):
            return s[0]
    return None


def run_drill(rt, redis_mod, cl, drill, shard, drill_no, log):
    """Runs one drill on a whole cluster. Returns (result dict, cluster_whole_after)."""
    m, r, ranges = shard
    nt = cl.nt
    check_slots = sorted({x for a, b in ranges for x in (a, b)})
    tags, i = [], 0
    while len(tags) < 64:
        t = f"t{i}"
        if any(a <= key_slot(t) <= b for a, b in ranges):
            tags.append(t)
        i += 1
    stop_evt = threading.Event()
    pollers = {n.id: Poller(n, m.id, r.id, check_slots, stop_evt) for n in cl.nodes}
    writer = Writer(redis_mod, [n.port for n in cl.nodes], tags, f"d{drill_no}", stop_evt)
    for p in pollers.values():
        p.start()
    writer.start()
    res = {"drill": drill, "kind": cl.kind, "nt": nt, "master": m.port, "replica": r.port,
           "completed": False}
    whole = False
    t0 = None
    try:
        time.sleep(0.5)                     # acknowledged writes before the fault
        pre_acked = sum(1 for o in writer.ops if o[6] and (o[7] or 0) >= 1)
        if pre_acked == 0:
            log("    warning: no acknowledged write before the fault")
        t0 = time.monotonic()
        if drill in ("kill", "takeover"):
            m.kill9()
        elif drill == "stop":
            m.signal(signal.SIGSTOP)
        reply = "OK"
        try:
            if drill == "takeover":
                reply = one_call(r.port, "CLUSTER", "FAILOVER", "TAKEOVER", timeout=2.0)
            elif drill == "manual":
                reply = one_call(r.port, "CLUSTER", "FAILOVER", timeout=2.0)
        except ConnectionError as e:
            reply = f"no reply within 2 s ({e})"
        if reply != "OK":
            res["error"] = f"CLUSTER FAILOVER replied {reply!r}"
        survivors = [n for n in cl.nodes if n is not m]
        watched = cl.nodes if drill == "manual" else survivors

        def good(s):
            return s[1] and s[2] and s[4] == r.id

        def good_roles(s):
            # Manual failover: the old master also listed as R's replica.
            return good(s) and s[6] == r.id

        deadline = t0 + drill_deadline(nt)
        t_all_ok = t_roles = None
        while "error" not in res and time.monotonic() < deadline:
            time.sleep(0.05)
            now = time.monotonic()
            sinces = [stable_since(pollers[n.id].samples, good, now) for n in watched]
            if drill == "manual":
                sinces_roles = [stable_since(pollers[n.id].samples, good_roles, now)
                                for n in watched]
            else:
                sinces_roles = [now - 1.0]
            promoted = first_time(pollers[r.id].samples, lambda s: s[5], t0)
            fails = [first_time(pollers[n.id].samples, lambda s: s[3] == "fail", t0)
                     for n in survivors]
            need_fail = drill in ("kill", "stop")
            if all(x is not None for x in sinces + sinces_roles) and promoted is not None \
                    and (not need_fail or all(x is not None for x in fails)):
                # Stable for at least 100 ms of samples on every node.
                if now - max(sinces + sinces_roles) >= 0.1:
                    t_all_ok = max(sinces)
                    t_roles = max(sinces_roles) if drill == "manual" else None
                    break
        samples = {nid: list(p.samples) for nid, p in pollers.items()}
        res["t_promoted"] = first_time(samples[r.id], lambda s: s[5], t0)
        if drill in ("kill", "stop"):
            fails = [first_time(samples[n.id], lambda s: s[3] == "fail", t0) for n in survivors]
            res["t_fail"] = max(fails) if all(x is not None for x in fails) else None
        res["t_all_ok"] = t_all_ok
        res["t_roles"] = t_roles
        res["completed"] = t_all_ok is not None and res["t_promoted"] is not None and \
            (drill not in ("kill", "stop") or res["t_fail"] is not None)

        # Bring the old master back, as an operator or a supervisor would (after a drill
        # that did not complete, the cluster is torn down instead).
        if not res["completed"]:
            pass
        elif drill in ("kill", "takeover"):
            try:
                m.start()
            except rt.BenchError as e:
                log(f"    restart of the old master failed: {e}")
        elif drill == "stop":
            m.signal(signal.SIGCONT)
        t_back_from = time.monotonic()
        if res["completed"]:
            try:
                shape = cl.settle(timeout=30.0)
                whole = any(mm is r and rr is m for mm, rr, _ in shape)
                if whole:
                    res["t_back"] = time.monotonic() - t_back_from if drill != "manual" \
                        else None
                    # Some acknowledged writes with the new replica (at most 3 s more).
                    t_end = time.monotonic() + 3.0
                    time.sleep(0.3)
                    while time.monotonic() < t_end and not any(
                            o[0] >= t_back_from and o[3] == r.port and (o[7] or 0) >= 1
                            for o in writer.ops[-50:]):
                        time.sleep(0.05)
            except rt.BenchError as e:
                log(f"    cluster not whole again after the drill: {e}")
        samples = {nid: list(p.samples) for nid, p in pollers.items()}
    finally:
        stop_evt.set()
        writer.join(timeout=5)
        for p in pollers.values():
            p.join(timeout=5)
    ops = list(writer.ops)
    after = [o for o in ops if o[0] >= t0 and o[3] == r.port and o[6]]
    res["t_write"] = after[0][1] if after else None
    acked_after = [o for o in after if (o[7] or 0) >= 1]
    res["t_acked"] = acked_after[0][2] if acked_after else None
    for k in ("t_fail", "t_promoted", "t_all_ok", "t_roles", "t_write", "t_acked"):
        if res.get(k) is not None:
            res[k] = round((res[k] - t0) * 1000.0, 1)
    if res.get("t_back") is not None:
        res["t_back"] = round(res["t_back"] * 1000.0, 1)
    acked = [(o[4], o[5]) for o in ops if o[6] and (o[7] or 0) >= 1]
    res["acked"] = len(acked)
    res["writes"] = len(ops)
    # Only a completed drill has a new master to read from.
    res["lost"] = count_lost(redis_mod, r.port, acked) \
        if res["completed"] and r.alive() and not r.stopped else None
    res["samples"] = {str(n.port): [(round((s[0] - t0) * 1000.0, 1),) + s[1:]
                                    for s in samples.get(n.id, [])] for n in cl.nodes}
    res["ops"] = [(round((o[0] - t0) * 1000.0, 1), round((o[2] - t0) * 1000.0, 1), o[3],
                   o[6], o[7]) for o in ops]
    res["roles"] = {"master": m.port, "replica": r.port, "replica_id": r.id,
                    "ports": [n.port for n in cl.nodes]}
    return res, whole


def count_lost(redis_mod, port, acked):
    """Acknowledged (key, value) pairs that the new master does not return as written."""
    if not acked:
        return 0
    c = redis_mod.Redis(host="127.0.0.1", port=port, socket_timeout=10)
    lost = 0
    try:
        for i in range(0, len(acked), 1000):
            chunk = acked[i:i + 1000]
            pipe = c.pipeline(transaction=False)
            for k, _ in chunk:
                pipe.get(k)
            got = pipe.execute(raise_on_error=False)
            lost += sum(1 for (_, v), g in zip(chunk, got)
                        if not isinstance(g, bytes) or g.decode() != v)
    except redis_mod.RedisError:
        return None
    finally:
        c.close()
    return lost


# ---------------------------------------------------------------------------------------
# The run, the table, the JSON and the timeline
# ---------------------------------------------------------------------------------------

def settings(rt):
    reps = int(os.environ.get("DRILL_REPS", "1" if rt.QUICK else "5"))
    tos = os.environ.get("DRILL_TIMEOUTS", "1000" if rt.QUICK else "1000,5000")
    only = os.environ.get("DRILL_ONLY", ",".join(DRILLS))
    kinds = os.environ.get("DRILL_KINDS", "redis,shoal")
    budget = float(os.environ.get("DRILL_BUDGET", "240" if rt.QUICK else "840"))
    return (max(1, reps), [int(x) for x in tos.split(",") if x],
            [d for d in DRILLS if d in only.split(",")], kinds.split(","), budget)


def run_all(rt, workdir, log):
    import redis as redis_mod
    reps, timeouts, drills, kinds, budget = settings(rt)
    start = time.monotonic()
    # Our own copy of shoal-node: others may rebuild bin/shoal-node during the run, and a
    # restarted node must run the same binary as the rest (and never a half-written one).
    binaries = {"redis": rt.REDIS_SERVER}
    if "shoal" in kinds:
        binaries["shoal"] = str(Path(workdir) / "shoal-node")
        shutil.copy2(rt.SHOAL_NODE, binaries["shoal"])
    results = []
    drill_no = 0
    for nt in timeouts:
        for kind in kinds:
            cl = None
            try:
                for rep in range(reps):
                    for drill in drills:
                        left = budget - (time.monotonic() - start)
                        if left < drill_deadline(nt) + 20:
                            log(f"  budget spent: skipping {kind} nt={nt} {drill} rep {rep + 1}")
                            continue
                        drill_no += 1
                        try:
                            if cl is None:
                                log(f"  {kind} nt={nt}: building a 3+3 cluster")
                                cl = Cluster(rt, kind, nt, workdir, binaries[kind])
                                shape = cl.create()
                            else:
                                shape = cl.settle(timeout=10.0)
                        except rt.BenchError as e:
                            log(f"  {kind} nt={nt}: no whole cluster: {e}")
                            if cl:
                                cl.close()
                            cl = None
                            results.append({"drill": drill, "kind": kind, "nt": nt,
                                            "completed": False, "error": str(e)[:200]})
                            continue
                        shard = shape[drill_no % 3]
                        try:
                            res, whole = run_drill(rt, redis_mod, cl, drill, shard, drill_no,
                                                   log)
                        except (rt.BenchError, OSError, ValueError, TypeError, KeyError,
                                IndexError, redis_mod.RedisError) as e:
                            log(f"  {kind} nt={nt} {drill} #{rep + 1}: harness error {e!r}")
                            res = {"drill": drill, "kind": kind, "nt": nt, "completed": False,
                                   "error": repr(e)[:200], "acked": 0, "writes": 0}
                            whole = False
                        log(f"  {kind} nt={nt} {drill} #{rep + 1}: " + (
                            "did not complete: " if not res["completed"] else "") + " ".join(
                            f"{k}={res.get(k)}" for k in METRICS[drill]) +
                            f" acked={res['acked']}/{res['writes']}")
                        results.append(res)
                        if not whole:
                            log(f"  {kind} nt={nt}: rebuilding the cluster")
                            cl.close()
                            cl = None
            finally:
                if cl:
                    cl.close()
    return results


def summarize(results, rt):
    """{(drill, nt, kind): {metric: (median, min, max, n)}, plus counts}."""
    reps, timeouts, drills, kinds, _ = settings(rt)
    out = {}
    for nt in timeouts:
        for drill in drills:
            for kind in kinds:
                rs = [r for r in results if r["drill"] == drill and r["nt"] == nt and
                      r["kind"] == kind]
                done = [r for r in rs if r.get("completed")]
                entry = {"runs": len(rs), "completed": len(done), "planned": reps}
                for mtr in METRICS[drill]:
                    src = rs if mtr == "lost" else done
                    vals = [r[mtr] for r in src if r.get(mtr) is not None]
                    entry[mtr] = ({"median": statistics.median(vals), "min": min(vals),
                                   "max": max(vals), "n": len(vals)} if vals else None)
                out[(drill, nt, kind)] = entry
    return out


def fmt_stat(s, lost=False):
    if s is None:
        return "-"
    if lost:
        return f"{s['max']:g} (max; {s['n']} runs)" if s["max"] else f"0 ({s['n']} runs)"
    return f"{s['median']:.0f} ({s['min']:.0f}-{s['max']:.0f})"


def table_rows(summary, rt):
    _, timeouts, drills, kinds, _ = settings(rt)
    rows = []
    for drill in drills:
        for nt in timeouts:
            sh, rd = summary.get((drill, nt, "shoal")), summary.get((drill, nt, "redis"))
            label = f"{DRILL_TITLE[drill]}, nt {nt}"

            def runs(e):
                if e is None:
                    return "-"
                skipped = e["planned"] - e["runs"]
                return f"{e['completed']}/{e['runs']} completed" + (
                    f", {skipped} skipped (budget)" if skipped > 0 else "")
            rows.append([label, "runs", runs(sh), runs(rd), "", ""])
            for mtr in METRICS[drill]:
                a = sh.get(mtr) if sh else None
                z = rd.get(mtr) if rd else None
                lost = mtr == "lost"
                ratio = "-" if lost or a is None or z is None or not z["median"] else \
                    f"{a['median'] / z['median']:.2f}"
                tgt = TARGETS.get((drill, mtr, nt)) or TARGETS.get((drill, mtr, None))
                target = "0" if lost else (tgt[0] if tgt else "")
                if tgt and a is not None:
                    target += " met" if a["median"] <= tgt[1] else " MISSED"
                if lost and a is not None:
                    target += " met" if a["max"] == 0 else " MISSED"
                if sh and sh["completed"] < sh["runs"] and tgt:
                    target += f" ({sh['runs'] - sh['completed']} did not complete)"
                rows.append(["", METRIC_TITLE[mtr], fmt_stat(a, lost), fmt_stat(z, lost),
                             ratio, target])
    return rows


HEADER = ["drill", "measure", "shoal median (min-max)", "redis median (min-max)",
          "ratio", "target (shoal)"]
NOTES = [
    "3 masters + 3 replicas per kind, built by redis-cli --cluster create --cluster-replicas 1; "
    "times in ms from the fault (kill -9 / SIGSTOP / CLUSTER FAILOVER sent) to the first "
    "~10 ms poll sample showing the event; ratio = shoal / redis",
    "all nodes ok: every node still reachable has cluster_state:ok and gives the failed "
    "master's slots to its replica, stable from then on (manual: all 6 nodes agree on the new "
    "master; the next row also waits until every node lists the old master as its replica)",
    "writes: SET + WAIT 1 100 on keys of the failed master's slots, redis-py, MOVED -> CLUSTER "
    "SLOTS; acked = SET OK and WAIT >= 1; after kill -9 the new master has a replica again "
    "only once the old master is restarted (after all ok), so 'acked' includes that restart",
    "SIGSTOP is held until all survivors are ok, then SIGCONT; TAKEOVER is sent right after "
    "kill -9 of the master (an operator not waiting for the node timeout)",
]


def section(b, rt):
    """The `drill` section of bench/run.py (and all of `make drill`)."""
    outdir = Path(os.environ.get("DRILL_OUT", str(rt.REPO / "build")))
    outdir.mkdir(parents=True, exist_ok=True)
    t = time.monotonic()
    results = run_all(rt, b.workdir, rt.log)
    summary = summarize(results, rt)
    rows = table_rows(summary, rt)
    reps, timeouts, drills, kinds, budget = settings(rt)
    svg = drill_timeline.draw(results, outdir, rt.log, DRILL_TITLE)
    doc = {
        "settings": {"reps": reps, "node_timeouts": timeouts, "drills": drills, "kinds": kinds,
                     "wait_ms": WAIT_MS, "poll_interval_ms": POLL_INTERVAL * 1000,
                     "seconds": round(time.monotonic() - t, 1)},
        "targets": {f"{d} {m} {nt or 'any'}": v[0] for (d, m, nt), v in TARGETS.items()},
        "summary": [{"drill": d, "node_timeout": nt, "kind": k, **v}
                    for (d, nt, k), v in summary.items()],
        "runs": [{k: v for k, v in r.items() if k not in ("samples", "ops")} for r in results],
    }
    (outdir / "drill.json").write_text(json.dumps(doc, indent=1) + "\n")
    if os.environ.get("DRILL_RAW", "") not in ("", "0"):     # every sample and write, to debug
        (outdir / "drill-raw.json").write_text(json.dumps(results) + "\n")
    notes = list(NOTES) + [f"{reps} repetition(s) per cell; JSON: {outdir / 'drill.json'}"
                           + (f"; timeline: {svg}" if svg else "; no timeline drawn")]
    b.table(f"Failover drills ({time.monotonic() - t:.0f} s)", HEADER, rows, notes)


def main():
    import run as rt

    def on_term(signum, frame):
        raise KeyboardInterrupt
    signal.signal(signal.SIGTERM, on_term)
    for binary in (rt.SHOAL_NODE, rt.REDIS_SERVER):
        if not (os.path.isfile(binary) and os.access(binary, os.X_OK)):
            sys.exit(f"drill: {binary} not found or not executable (run make)")
    b = rt.Bench()
    code = 0
    try:
        section(b, rt)
    except KeyboardInterrupt:
        rt.log("interrupted")
        code = 1
    except rt.BenchError as e:
        rt.log(f"drill failed: {e}")
        code = 1
    finally:
        b.close()
    for tbl in b.tables:
        print()
        print(rt.render(*tbl))
    return code


if __name__ == "__main__":
    sys.exit(main())
