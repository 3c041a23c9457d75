#!/usr/bin/python3
"""The timeline picture of bench/drill.py: per-node states over one drill, drawn by gnuplot.

What it is for: showing how a failover unfolds on every node, for the first kill -9 drill of
each kind (shoal, redis) at the shortest node timeout: one row per node, coloured by what its
CLUSTER NODES / CLUSTER INFO samples said (unreachable, ok with the old owner, the failed
master seen PFAIL or FAIL, cluster_state fail, ok with the new owner), a row of the writer's
writes (acknowledged, SET ok but not acknowledged, failed), and dashed lines at FAIL on all
survivors, replica promoted and all ok. Writes <out>/drill-timeline.dat, .gp and .svg.

What it must never do: fail the drill run (a missing or failing gnuplot only logs and returns
None) or draw anything it was not given in the drill results.
"""
import shutil
import subprocess

GNUPLOT = shutil.which("gnuplot") or "gnuplot"


def draw(results, outdir, log, drill_title):
    """Draws the first completed kill -9 drill at the shortest timeout of each kind as an
    SVG of per-node states over time (gnuplot)."""
    picks = []
    for kind in ("shoal", "redis"):
        rs = [r for r in results if r["kind"] == kind and r["drill"] == "kill" and
              r.get("samples")]
        rs.sort(key=lambda r: (r["nt"], not r["completed"]))
        if rs:
            picks.append(rs[0])
    if not picks:
        return None
    states = [("unreachable", "#999999"), ("ok, old owner", "#a6d96a"),
              ("sees M pfail", "#fee08b"), ("sees M fail", "#fdae61"),
              ("cluster_state fail", "#d73027"), ("ok, new owner", "#1a9850")]
    dat = outdir / "drill-timeline.dat"
    gp = outdir / "drill-timeline.gp"
    svg = outdir / "drill-timeline.svg"
    blocks = []
    xmax = 0
    for bi, r in enumerate(picks):
        lines = []
        ports = r["roles"]["ports"]
        m_id_owner = r["roles"]["replica_id"]
        for yi, port in enumerate(ports):
            smp = [s for s in r["samples"][str(port)] if s[0] >= -300]
            segs = []
            for s in smp:
                t, reach, ok, mflag, owner = s[0], s[1], s[2], s[3], s[4]
                if not reach:
                    st = 0
                elif ok and owner is not None and owner == m_id_owner:
                    st = 5
                elif not ok:
                    st = 4
                elif mflag == "fail":
                    st = 3
                elif mflag == "pfail":
                    st = 2
                else:
                    st = 1
                if segs and segs[-1][2] == st:
                    segs[-1][1] = t
                else:
                    if segs:
                        segs[-1][1] = t
                    segs.append([t, t, st])
            for a, b, st in segs:
                lines.append(f"{a} {b} {yi} {st} {int(states[st][1][1:], 16)}")
            xmax = max(xmax, smp[-1][0] if smp else 0)
        ops = [o for o in r["ops"] if o[0] >= -300]
        for o in ops:
            acked = o[3] and (o[4] or 0) >= 1
            lines.append(f"{o[1]} {o[1]} 6 {1 if acked else (2 if o[3] else 0)} 0")
        blocks.append("\n".join(lines))
    dat.write_text("\n\n\n".join(blocks) + "\n")
    xmax = min(xmax, max((r.get("t_back") or 0) + (r.get("t_all_ok") or 0) for r in picks)
               + 500) if any(r.get("t_back") for r in picks) else xmax
    g = ["set terminal svg size 1100,%d dynamic font 'sans,11'" % (300 * len(picks) + 80),
         f"set output '{svg}'",
         f"set multiplot layout {len(picks)},1"]
    g += ["set termoption noenhanced",
          "set xlabel 'ms since the fault'", "set yrange [-0.7:6.7]", "set grid x",
          f"set xrange [-300:{xmax:.0f}]", "set key outside right top"]
    for bi, r in enumerate(picks):
        ports = r["roles"]["ports"]
        labels = []
        for yi, port in enumerate(ports):
            role = "M (failed)" if port == r["roles"]["master"] else (
                "R (its replica)" if port == r["roles"]["replica"] else "")
            labels.append(f"':{port} {role}' {yi}")
        labels.append("'writer' 6")
        g.append("set ytics (" + ", ".join(labels) + ")")
        g.append(f"set title '{r['kind']} {r['nt']} ms node timeout, {drill_title[r['drill']]}: "
                 f"all ok at {r.get('t_all_ok')} ms, promoted at {r.get('t_promoted')} ms'")
        g.append("unset arrow")
        for mtr, color in (("t_fail", "#d73027"), ("t_promoted", "#4575b4"),
                           ("t_all_ok", "#1a9850")):
            if r.get(mtr) is not None:
                g.append(f"set arrow from {r[mtr]},-0.6 to {r[mtr]},6.6 nohead dt 2 "
                         f"lc rgb '{color}'")
        plots = [f"'{dat}' index {bi} using (($1+$2)/2):($3 < 6 ? $3 : 1/0):"
                 "(($2-$1)/2 + 2):(0.32):5 with boxxyerror fs solid 1.0 noborder "
                 "lc rgb variable notitle"]
        plots.append(f"'{dat}' index {bi} using 1:($3 == 6 && $4 == 1 ? 6 : 1/0) with points "
                     "pt 7 ps 0.3 lc rgb '#1a9850' title 'write acked'")
        plots.append(f"'{dat}' index {bi} using 1:($3 == 6 && $4 == 2 ? 6 : 1/0) with points "
                     "pt 7 ps 0.3 lc rgb '#fdae61' title 'SET ok, not acked'")
        plots.append(f"'{dat}' index {bi} using 1:($3 == 6 && $4 == 0 ? 6 : 1/0) with points "
                     "pt 2 ps 0.3 lc rgb '#d73027' title 'write failed'")
        for i, (name, color) in enumerate(states):
            plots.append(f"NaN with boxes fs solid lc rgb '{color}' title '{name}'")
        for name, color in (("FAIL on all survivors", "#d73027"),
                            ("replica is master", "#4575b4"), ("all ok", "#1a9850")):
            plots.append(f"NaN with lines dt 2 lc rgb '{color}' title '{name}'")
        g.append("plot " + ", \\\n  ".join(plots))
    g.append("unset multiplot")
    gp.write_text("\n".join(g) + "\n")
    try:
        out = subprocess.run([GNUPLOT, str(gp)], capture_output=True, text=True, timeout=60)
    except (OSError, subprocess.TimeoutExpired) as e:
        log(f"  gnuplot failed: {e}")
        return None
    if out.returncode != 0 or not svg.exists():
        log(f"  gnuplot failed: {out.stderr[-400:]}")
        return None
    return svg
