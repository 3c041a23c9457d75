#!/usr/bin/python3
"""Atomic slot migration benchmark: `CLUSTER MIGRATESLOTS` of the same 8,192 slots and keys as
the reshard bench, on shoal, under the same GET/SET client, set against redis-server 7.0.15's
classic `redis-cli --cluster reshard` measured in the same run (issue 12's second bench item;
called at the end of bench/reshard_bench.py's section, which passes its redis-server figures).

What it is for: a 3-master shoal cluster built as reshard_bench builds it (master 0 owns
0..10922, the keys live in 0..8191), the keys loaded, the client started (reshard_bench.Client:
GET and SET alternately on random loaded keys, following MOVED), then `CLUSTER MIGRATESLOTS
SLOTSRANGE 0 8191 NODE <master 1>` sent to master 0 and CLUSTER GETSLOTMIGRATIONS polled every
5 ms until the job reports success: that is the wall time. The longest request of the client
inside that window is the longest write pause a client saw on a moving slot (every loaded key
is in a moving slot); every error reply other than MOVED (which the client follows) is
counted, and must be zero. Afterwards: `redis-cli --cluster check`, the moving slots' keys on
master 0 / master 1, and every key (quick) or a sample plus every written key read back from
master 1 with its value.

What it must never do: stop a process it did not start, report a figure it did not measure,
or hide a wrong value.
"""
import time

import reshard_bench as rb

BASELINE_S = 5.0   # the client alone, before MIGRATESLOTS is sent


def _job_state(rt, port):
    reply = rt.resp_call(port, "CLUSTER", "GETSLOTMIGRATIONS")
    if not isinstance(reply, list) or not reply:
        return None, ""
    d = {reply[0][i].decode() if isinstance(reply[0][i], bytes) else reply[0][i]: reply[0][i + 1]
         for i in range(0, len(reply[0]), 2)}
    state = d.get("state")
    msg = d.get("message", b"")
    return (state.decode() if isinstance(state, bytes) else state,
            msg.decode() if isinstance(msg, bytes) else str(msg))


def run_one(b, rt, keys, timeout):
    grp = rt.start_cluster(b, "shoal", ranges=rb.RANGES)
    ports = grp.ports
    res = {}
    try:
        t0 = time.monotonic()
        n = rt.pipeline_load(ports[0], ([b"SET", k, rb.value(i)] for i, k in enumerate(keys)),
                             timeout=timeout)
        res["load_s"] = time.monotonic() - t0
        moving = list(range(rb.MOVE_SLOTS))
        before = rb.count_keys(ports[0], moving)
        if before < n:
            raise rt.BenchError(f"master 0 holds {before} keys in the moving slots after loading {n}")
        ids = rb.node_ids(rt, ports)
        client = rb.Client(rt, ports, keys)
        rt.log(f"  shoal MIGRATESLOTS: {n:,} keys loaded in {res['load_s']:.1f} s; migrating")
        client.start()
        time.sleep(0.3)
        # the same client with nothing moving, for BASELINE_S: what this machine's
        # scheduling alone does to its longest request (the row below the migration's own)
        b0 = time.perf_counter()
        time.sleep(BASELINE_S)
        base = [d for s, d in client.samples if b0 <= s and s + d <= b0 + BASELINE_S]
        res["idle_max"] = max(base) if base else None
        cpu0 = grp.cpu_seconds()
        t_start = time.perf_counter()
        rt.log(f"  shoal MIGRATESLOTS: sent at {time.strftime('%H:%M:%S', time.localtime())}"
               f".{int(time.time() * 1000) % 1000:03d}")
        r = rt.resp_call(ports[0], "CLUSTER", "MIGRATESLOTS", "SLOTSRANGE", "0", str(rb.MOVE_SLOTS - 1),
                         "NODE", ids[1])
        state, msg = None, ""
        if r != "OK":
            res["error"] = f"MIGRATESLOTS replied {r!r}"[:80]
        else:
            deadline = time.monotonic() + timeout
            while time.monotonic() < deadline:
                state, msg = _job_state(rt, ports[0])
                if state in ("success", "failed", "cancelled"):
                    break
                time.sleep(0.005)
            if state != "success":
                res["error"] = f"job {state}: {msg}"[:80]
        t_end = time.perf_counter()
        res["cpu_s"] = grp.cpu_seconds() - cpu0
        time.sleep(0.3)
        client.stop_flag.set()
        client.join(30)
        grp.check_alive("after MIGRATESLOTS")
        res["wall_s"] = t_end - t_start
        lat = sorted(d for s, d in client.samples if t_start <= s and s + d <= t_end + 0.3)
        res.update(requests=len(lat), p50=rb.percentile(lat, 0.50), p99=rb.percentile(lat, 0.99),
                   max=lat[-1] if lat else None, errors=sum(client.errors.values()),
                   error_kinds=dict(client.errors), wrong=client.wrong, moved=client.moved,
                   asked=client.asked)
        rt.log(f"  shoal MIGRATESLOTS: {res['wall_s']:.2f} s ({state}), {res['cpu_s']:.1f} CPU-s of "
               f"the masters; client {len(lat)} requests, p50 {(res['p50'] or 0) * 1e3:.2f} ms p99 "
               f"{(res['p99'] or 0) * 1e3:.2f} ms max {(res['max'] or 0) * 1e3:.1f} ms, errors "
               f"{client.errors}, wrong {client.wrong}, MOVED {client.moved}, ASK {client.asked}; "
               "slowest: " + ", ".join(f"{d * 1e3:.0f} ms {op} slot {sl} at +{t - t_start:.2f} s"
                                       + (f" ({how})" if how else "")
                                       for d, t, op, sl, how in reversed(client.slowest) if d))
        # the source's own account of its pause (paused -> target published as owner)
        res["paused_ms"] = None
        try:
            for line in open(grp.servers[0].log_path, errors="replace"):
                if "were paused for" in line:
                    res["paused_ms"] = float(line.split("paused for")[1].split()[0])
        except OSError:
            pass
        ok, why = rb.cluster_check(ports[0], timeout=120)
        res["check"] = "ok" if ok else why
        # the source drops the moved keys in the background: wait for it
        deadline = time.monotonic() + 60
        while True:
            left, arrived = rb.count_keys(ports[0], moving), rb.count_keys(ports[1], moving)
            if left == 0 or time.monotonic() > deadline:
                break
            time.sleep(0.2)
        res["counts"] = f"{left}/{arrived}"
        idxs, bad, first = rb.read_back(rt, ports[1], keys, client)
        res["verified"], res["bad"] = len(idxs), bad
        rt.log(f"  shoal MIGRATESLOTS: check {res['check']}; keys on master 0/1 after: {left}/{arrived} "
               f"(master 0 had {before}); {len(idxs):,} keys read from master 1: {bad} wrong {first}")
        rb.note_after(res, left, arrived, before, bad, first, ok, why)
    finally:
        rt.stop_nodes(grp.servers)
    return res


def section(b, rt, keys, timeout, classic):
    """`classic`: reshard_bench's redis-server result of the same run (its wall_s, p99)."""
    runs = []
    for _ in range(rt.REPEAT):
        try:
            runs.append(run_one(b, rt, keys, timeout))
        except (rt.BenchError, OSError, ConnectionError) as e:
            rt.log(f"  shoal MIGRATESLOTS: {e}")
            runs.append({"error": str(e).splitlines()[0][:80]})
    good = sorted((r for r in runs if "wall_s" in r), key=lambda r: r["wall_s"])
    s = good[len(good) // 2] if good else runs[0]

    def num(res, key, scale=1.0, fmt="{:.2f}"):
        v = res.get(key)
        return "-" if v is None else fmt.format(v * scale)
    rows = [
        ["wall time s", num(s, "wall_s"), num(classic, "wall_s"), rt.fmt_ratio(s.get("wall_s"),
                                                                                 classic.get("wall_s")),
         "<= 0.10"],
        ["source's write pause (its log) ms", num(s, "paused_ms", fmt="{:.0f}"), "-", "", "<= 50"],
        ["longest client request ms", num(s, "max", 1e3, "{:.1f}"), num(classic, "max", 1e3, "{:.1f}"),
         "", "<= 50"],
        [f"longest client request, {BASELINE_S:.0f} s before the move ms", num(s, "idle_max", 1e3, "{:.1f}"),
         "-", "", ""],
        ["client p99 ms", num(s, "p99", 1e3), num(classic, "p99", 1e3),
         rt.fmt_ratio(s.get("p99"), classic.get("p99")), ""],
        ["client requests in window", num(s, "requests", fmt="{:,.0f}"),
         num(classic, "requests", fmt="{:,.0f}"), "", ""],
        ["client errors other than MOVED", str(s.get("errors", "-")), str(classic.get("errors", "-")),
         "", "0"],
        ["client wrong GET values", str(s.get("wrong", "-")), str(classic.get("wrong", "-")), "", "0"],
        ["client MOVED / ASK", f"{s.get('moved', '-')} / {s.get('asked', '-')}",
         f"{classic.get('moved', '-')} / {classic.get('asked', '-')}", "", ""],
        ["masters' CPU during it s", num(s, "cpu_s"), num(classic, "cpu_s"),
         rt.fmt_ratio(s.get("cpu_s"), classic.get("cpu_s")), ""],
        ["--cluster check after", s.get("check", "-"), classic.get("check", "-"), "", "ok"],
        ["moving slots' keys on master 0/1 after", s.get("counts", "-"), classic.get("counts", "-"), "", ""],
        ["keys read back wrong from master 1", f"{s.get('bad', '-')} of {s.get('verified', '-')}",
         f"{classic.get('bad', '-')} of {classic.get('verified', '-')}", "", "0"],
        ["result", s.get("error", "ok"), classic.get("error", "ok"), "", ""],
    ]
    b.table(f"CLUSTER MIGRATESLOTS of {rb.MOVE_SLOTS} slots holding {len(keys):,} keys (shoal) vs "
            "redis-cli --cluster reshard of the same (redis-server 7.0.15, classic)",
            ["", "shoal MIGRATESLOTS", "redis reshard", "ratio", "target"], rows,
            ["same cluster layout, keys and client as the reshard table above; the redis column is "
             "that table's redis-server run",
             "wall: from sending MIGRATESLOTS to GETSLOTMIGRATIONS reporting success (polled every "
             "5 ms); the source's background drop of the moved keys comes after",
             "every loaded key is in a moving slot, so the longest client request bounds the longest "
             "wait a client saw on a moving slot (its writes are held during the final pause; the "
             "figure also holds scheduling stalls of this loaded machine, as the redis column "
             "does); the source logs how long it held the slots' writes; the row below it is the "
             f"same client in the {BASELINE_S:.0f} s before MIGRATESLOTS is sent, nothing moving",
             f"median of {rt.REPEAT} run(s) by wall time"])
