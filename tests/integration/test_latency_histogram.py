"""LATENCY HISTOGRAM and INFO latencystats answer as redis-server 7.0.15's.

What it is for: operators read per-command latency distributions. The same session
runs on shoal (three workers, calls spread over them) and on redis-server: the calls
counted per command, the bucket labels 7.0.15's hdr_histogram prints (a 9 ms DEBUG
SLEEP lands in one bucket from 16908 us up on both), the shapes in RESP2 and RESP3 byte for
byte where the figures are fixed, the percentiles INFO prints (their labels from
latency-tracking-info-percentiles, their values bucket bounds), CONFIG RESETSTAT
emptying them, latency-tracking no stopping them, unknown names left out and a
container bringing its subcommands.

What it must never do: relax an expectation to match our node; signal a process it did
not start.
"""
import re

import helpers as h

DEBUG = ["--enable-debug-command", "yes"]

# The labels 7.0.15 prints: the highest value (us) of the bucket at each doubling
# level from 1024 ns, and of the last bucket (a call of a second or more).
LABELS = {1, 2, 4, 8, 16, 33, 66, 132, 264, 528, 1056, 2113, 4227, 8454, 16908, 33816,
          67633, 135266, 270532, 541065, 1073741}


def _pairs(m):
    """A RESP3 map (h.Map of pairs) or a RESP2 flat array as a list of pairs."""
    if isinstance(m, h.Map):
        return list(m)
    assert isinstance(m, list) and len(m) % 2 == 0, m
    return [(m[i], m[i + 1]) for i in range(0, len(m), 2)]


def _hist(c, *names):
    out = {}
    for name, body in _pairs(c.call("LATENCY", "HISTOGRAM", *names)):
        body = dict(_pairs(body))
        assert set(body) == {b"calls", b"histogram_usec"}, body
        buckets = _pairs(body[b"histogram_usec"])
        labels = [k for k, _ in buckets]
        cums = [v for _, v in buckets]
        assert set(labels) <= LABELS, labels
        assert labels == sorted(labels) and cums == sorted(cums) and len(set(cums)) == len(cums), buckets
        assert cums[-1] == body[b"calls"], body
        out[name.decode()] = (body[b"calls"], buckets)
    return out


def _percentiles(c):
    out = {}
    text = c.call("INFO", "latencystats")
    if isinstance(text, h.Verbatim):
        text = text.data
    for line in text.decode().split("\r\n")[1:]:
        if not line:
            continue
        m = re.fullmatch(r"latency_percentiles_usec_([a-z|\-]+):(.*)", line)
        assert m, line
        out[m.group(1)] = [p.split("=") for p in m.group(2).split(",")] if m.group(2) else []
    return out


def _session(srv, proto):
    got = {}
    with srv.raw() as c:
        if proto == 3:
            assert isinstance(c.call("HELLO", "3"), h.Map)
        assert c.call("CONFIG", "RESETSTAT") == "OK"
        got["empty"] = c.raw("LATENCY", "HISTOGRAM", "set", "nosuch")
        got["info_empty"] = {k: [p[0] for p in v] for k, v in _percentiles(c).items()}
        for i in range(40):
            c.call("SET", f"k{i}", "v")
        for i in range(25):
            c.call("GET", f"k{i}")
        c.call("DBSIZE")
        c.call("CONFIG", "GET", "maxmemory")
        assert c.call("DEBUG", "SLEEP", "0.009") == "OK"
        # a 9 ms sleep: one call in one bucket at or past 16908 us (how far past
        # depends on the machine's load)
        calls, buckets = _hist(c, "debug", "nosuch")["debug"]
        got["sleep"] = (calls, len(buckets), buckets[0][0] >= 16908)
        hist = _hist(c)
        got["calls"] = {k: v[0] for k, v in hist.items()}
        some = ("get", "config", "nosuch", "get", "config|get")
        assert set(_hist(c, *some)) == {"get", "config|get", "config|resetstat"}
        got["some"] = sorted(k.decode() for k, _ in _pairs(c.call("LATENCY", "HISTOGRAM", *some)))
        pct = _percentiles(c)
        got["pct_names"] = {k: [p[0] for p in v] for k, v in pct.items()}
        for cmd, ps in pct.items():
            for _, v in ps:
                assert re.fullmatch(r"\d+\.\d\d\d", v), ps
        # a 9 ms sleep: every percentile is the same bucket's highest value
        assert pct["debug"][0][1] == pct["debug"][1][1] == pct["debug"][2][1], pct["debug"]
        assert float(pct["debug"][0][1]) >= 9000.0, pct["debug"]
        assert c.call("CONFIG", "SET", "latency-tracking-info-percentiles", "0 12.5 100") == "OK"
        got["pct_names2"] = {k: [p[0] for p in v] for k, v in _percentiles(c).items()}
        assert c.call("CONFIG", "SET", "latency-tracking-info-percentiles", "") == "OK"
        got["pct_names3"] = {k: [p[0] for p in v] for k, v in _percentiles(c).items()}
        got["cfg"] = c.raw("CONFIG", "GET", "latency-tracking-info-percentiles")
        assert c.call("CONFIG", "SET", "latency-tracking-info-percentiles", "50 99 99.9") == "OK"
        got["bad"] = [c.raw("CONFIG", "SET", "latency-tracking-info-percentiles", "101"),
                      c.raw("CONFIG", "SET", "latency-tracking-info-percentiles", "x")]
        # off: nothing recorded, INFO's section empty; the histograms stay
        assert c.call("CONFIG", "SET", "latency-tracking", "no") == "OK"
        c.call("INCR", "n")
        got["off_info"] = c.raw("INFO", "latencystats")
        got["off_incr"] = c.raw("LATENCY", "HISTOGRAM", "incr")
        got["off_get"] = _hist(c, "get")["get"][0]
        assert c.call("CONFIG", "SET", "latency-tracking", "yes") == "OK"
        assert c.call("CONFIG", "RESETSTAT") == "OK"
        got["reset"] = c.raw("LATENCY", "HISTOGRAM", "get", "set", "debug")
        c.call("GET", "k1")
        got["after"] = _hist(c, "get")["get"][0]
    return got


def test_latency_histogram_as_redis(servers):
    s = servers.shoal(extra_args=DEBUG + ["--worker-threads", "3"], base_args="standalone")
    r = servers.redis(extra_args=DEBUG, base_args="standalone")
    for proto in (2, 3):
        want = _session(r, proto)
        got = _session(s, proto)
        assert got == want, f"RESP{proto}"
    assert want["calls"]["set"] == 40 and want["calls"]["get"] == 25 and want["calls"]["dbsize"] == 1
    assert want["some"] == ["config|get", "config|get", "config|resetstat", "get", "get"]
    assert want["sleep"] == (1, 1, True)
    assert want["pct_names2"]["get"] == ["p0", "p12.5", "p100"]
    assert want["pct_names3"]["get"] == []
    assert want["off_info"] == b"=20\r\ntxt:# Latencystats\r\n\r\n"   # RESP3, the last session
