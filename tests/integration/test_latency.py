"""LATENCY LATEST/HISTORY/RESET/GRAPH/DOCTOR/HELP answer as redis-server 7.0.15's.

What it is for: operators turn latency-monitor-threshold on and read what stalled the
node. The same session sent to shoal (several workers) and to redis-server: with the
monitor off DOCTOR says so, with it on and nothing slow it says nothing was seen, a
slow call (DEBUG SLEEP) is a sample of the `command` event, the texts of DOCTOR and
GRAPH are 7.0.15's (the measured milliseconds and periods normalised), RESET counts
what it dropped, errors match in RESP2 and RESP3.

What it must never do: relax an expectation to match our node; signal a process it did
not start.
"""
import re

import diffhelpers as dh
import helpers as h

DEBUG = ["--enable-debug-command", "yes"]


def _norm(b):
    # milliseconds measured around a sleep, and periods, differ from run to run
    b = re.sub(rb"\d+ ?ms", b"Nms", b)
    b = re.sub(rb"period [0-9.]+ sec", b"period P sec", b)
    b = re.sub(rb"mean deviation \d+", b"mean deviation D", b)
    return b


def _session(srv, proto):
    out = []
    with dh.conn(srv, proto) as c:
        out.append(c.raw("LATENCY", "HELP"))
        out.append(c.raw("LATENCY", "DOCTOR"))
        out.append(c.raw("LATENCY", "LATEST"))
        out.append(c.raw("LATENCY", "HISTORY", "command"))
        out.append(c.raw("LATENCY", "GRAPH", "command"))
        out.append(c.raw("CONFIG", "SET", "latency-monitor-threshold", "100"))
        out.append(c.raw("LATENCY", "DOCTOR"))
        out.append(c.raw("SET", "fast", "x"))                  # under the threshold: no sample
        out.append(c.raw("LATENCY", "LATEST"))
        out.append(c.raw("DEBUG", "SLEEP", "0.15"))
        latest = c.call("LATENCY", "LATEST")
        assert len(latest) == 1 and latest[0][0] == b"command"
        assert 150 <= latest[0][2] < 400 and latest[0][3] == latest[0][2]
        hist = c.call("LATENCY", "HISTORY", "command")
        assert len(hist) == 1 and hist[0][0] == latest[0][1]
        out.append(_norm(c.raw("LATENCY", "GRAPH", "command")))
        out.append(_norm(c.raw("LATENCY", "DOCTOR")))
        out.append(c.raw("LATENCY", "GRAPH", "nope"))
        out.append(c.raw("LATENCY", "HISTORY", "nope"))
        out.append(c.raw("LATENCY", "HISTORY"))
        out.append(c.raw("LATENCY", "LATEST", "x"))
        out.append(c.raw("LATENCY", "NOPE"))
        out.append(c.raw("CONFIG", "SET", "slowlog-log-slower-than", "-1"))
        out.append(_norm(c.raw("LATENCY", "DOCTOR")))           # advises to turn the slow log on
        out.append(c.raw("LATENCY", "RESET", "nope", "COMMAND", "command"))
        out.append(c.raw("LATENCY", "LATEST"))
        out.append(c.raw("LATENCY", "RESET"))
        out.append(c.raw("CONFIG", "SET", "latency-monitor-threshold", "0"))
        out.append(c.raw("CONFIG", "SET", "slowlog-log-slower-than", "10000"))
    return out


def test_latency_as_redis(servers):
    s = servers.shoal(extra_args=DEBUG + ["--worker-threads", "2"], base_args="standalone")
    r = servers.redis(extra_args=DEBUG, base_args="standalone")
    dh.assert_same_sessions(r, s, _session)
