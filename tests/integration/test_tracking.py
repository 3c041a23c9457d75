"""Client-side caching (CLIENT TRACKING, default mode) compared with redis-server 7.0.15.

What it is for: CLIENT TRACKING ON/OFF with REDIRECT and NOLOOP, CLIENT GETREDIR, CLIENT
TRACKINGINFO, the `t` flag and redir= in CLIENT LIST, tracking_clients/tracking_total_keys/
tracking_total_items in INFO; invalidation messages as a RESP3 push on the tracking
connection and, for RESP2, as a `message` on `__redis__:invalidate` to the REDIRECT target;
a key is invalidated once per read (it must be read again to be tracked again); writes,
DEL, expiry and FLUSHALL invalidate (FLUSHALL with a null). shoal runs 4 workers, so the
keys of one test sit on several workers (each keeps the table of its own keys). The
installed redis-py (4.x) has no RESP3, so the connections are raw sockets and the replies
are compared byte for byte.

What it must never do: relax an assertion to fit shoal; stop a process it did not start.
"""
import time

import helpers as h
from test_pubsub import _both   # the same calls on shoal (4 workers) and redis-server, replies compared

# keys spread over the slots, hence over shoal's workers
KEYS = ["k%d" % i for i in range(8)]


def _cid(c):
    return c.call("CLIENT", "ID")


def _drain(c, n):
    """The next n replies/pushes, raw."""
    return [c.read()[0] for _ in range(n)]


def _nothing_more(c, wait=0.3):
    got, _closed = c.exchange(h.encode("PING"), idle=wait)
    return got


def test_resp3_push_on_the_same_connection(servers):
    def run(srv):
        out = []
        with srv.raw() as t, srv.raw() as w:
            t.raw("HELLO", "3")
            out.append(t.raw("CLIENT", "TRACKING", "ON"))
            for k in KEYS:
                w.call("SET", k, "v")
            for k in KEYS:
                out.append(t.raw("GET", k))
            out.append(t.raw("MGET", "{m}1", "{m}2"))
            for k in KEYS:
                w.call("SET", k, "w")
            out += _drain(t, len(KEYS))
            # not read since: no second invalidation
            for k in KEYS:
                w.call("SET", k, "x")
            out.append(w.raw("DEL", "m1"))   # m1 did not exist: nothing changed, no message
            w.call("SET", "{m}2", "y")
            out += _drain(t, 1)
            out.append(_nothing_more(t))
        return out
    _both(servers, run)


def test_own_write_invalidates_after_its_reply_and_noloop(servers):
    def run(srv):
        out = []
        with srv.raw() as t:
            t.raw("HELLO", "3")
            out.append(t.raw("CLIENT", "TRACKING", "ON"))
            out.append(t.raw("GET", "a"))
            out.append(t.raw("SET", "a", "1"))
            out += _drain(t, 1)
            out.append(t.raw("CLIENT", "TRACKING", "ON", "NOLOOP"))
            out.append(t.raw("GET", "a"))
            out.append(t.raw("SET", "a", "2"))
            out.append(_nothing_more(t))
            out.append(t.raw("CLIENT", "TRACKINGINFO"))
        return out
    _both(servers, run)


def test_resp2_redirect_to_invalidate_channel(servers):
    def run(srv):
        out = []
        with srv.raw() as r, srv.raw() as t, srv.raw() as w:
            rid = _cid(r)
            out.append(r.raw("SUBSCRIBE", "__redis__:invalidate"))
            out.append(t.raw("CLIENT", "TRACKING", "ON", "REDIRECT", str(rid)))
            out.append(t.call("CLIENT", "GETREDIR") == rid)
            info = t.call("CLIENT", "TRACKINGINFO")
            out.append([info[0], info[1], info[2], info[3] == rid, info[4], info[5]])
            for k in KEYS:
                out.append(t.raw("GET", k))
            for k in KEYS:
                w.call("SET", k, "v")
            out += _drain(r, len(KEYS))
            out.append(t.raw("GET", "e"))
            # a TTL the next GET surely beats on a loaded machine (50 ms did not always)
            w.call("SET", "e", "1", "PX", "1000")
            set_at = time.monotonic()
            out += _drain(r, 1)
            out.append(t.raw("GET", "e"))
            time.sleep(max(0.0, set_at + 1.2 - time.monotonic()))
            out.append(t.raw("GET", "e"))   # expired when looked up: invalidated
            out += _drain(r, 1)
            out.append(t.raw("GET", "f"))
            w.call("FLUSHALL")
            out += _drain(r, 1)
            out.append(_nothing_more(r))
            out.append(t.raw("CLIENT", "TRACKING", "OFF"))
            out.append(t.raw("CLIENT", "GETREDIR"))
        return out
    _both(servers, run)


def test_resp3_flush_and_active_expiry(servers):
    def run(srv):
        out = []
        with srv.raw() as t, srv.raw() as w:
            t.raw("HELLO", "3")
            out.append(t.raw("CLIENT", "TRACKING", "ON"))
            w.call("SET", "x", "1", "PX", "1000")    # the GET surely comes first, even under load
            out.append(t.raw("GET", "x"))
            # removed by the active expiry, nobody reads it
            out += _drain(t, 1)
            out.append(t.raw("GET", "y"))
            w.call("FLUSHDB")
            out += _drain(t, 1)
            out.append(_nothing_more(t))
        return out
    _both(servers, run)


def test_client_list_and_info(servers):
    def run(srv):
        out = []
        with srv.raw() as r, srv.raw() as t:
            rid = _cid(r)
            out.append(t.raw("CLIENT", "TRACKING", "ON", "REDIRECT", str(rid)))
            for k in KEYS[:5]:
                t.call("GET", k)
            t.call("MGET", KEYS[0], "z")
            line = t.call("CLIENT", "INFO").decode()
            f = dict(kv.split("=", 1) for kv in line.split())
            out.append((f["flags"], f["redir"] == str(rid)))
            info = t.call("INFO").decode()
            vals = dict(l.split(":", 1) for l in info.split("\r\n") if l and not l.startswith("#"))
            out.append([vals[n] for n in ("tracking_clients", "tracking_total_keys", "tracking_total_items",
                                          "tracking_total_prefixes")])
            out.append(t.raw("CLIENT", "TRACKING", "OFF"))
            line = t.call("CLIENT", "INFO").decode()
            f = dict(kv.split("=", 1) for kv in line.split())
            out.append((f["flags"], f["redir"]))
            info = t.call("INFO", "clients").decode()
            out.append([l for l in info.split("\r\n") if l.startswith("tracking")])
        return out
    _both(servers, run)


def test_tracking_argument_errors(servers):
    steps = [
        ("CLIENT", "TRACKING", "maybe"),
        ("CLIENT", "TRACKING", "ON", "bogus"),
        ("CLIENT", "TRACKING", "ON", "REDIRECT", "notanumber"),
        ("CLIENT", "TRACKING"),
        ("CLIENT", "GETREDIR"),
        ("CLIENT", "GETREDIR", "x"),
        ("CLIENT", "TRACKINGINFO"),
        ("CLIENT", "TRACKING", "ON"),
        ("CLIENT", "GETREDIR"),
        ("CLIENT", "TRACKING", "off"),
    ]

    def run(srv):
        with srv.raw() as c:
            return [c.raw(*s) for s in steps]
    _both(servers, run)


def test_reset_and_close_stop_tracking(servers):
    def run(srv):
        out = []
        with srv.raw() as t, srv.raw() as w:
            t.raw("HELLO", "3")
            t.call("CLIENT", "TRACKING", "ON")
            t.call("GET", "a")
            out.append(t.raw("RESET"))
            out.append(t.raw("CLIENT", "TRACKINGINFO"))
            w.call("SET", "a", "1")
            out.append(_nothing_more(t))
            with srv.raw() as gone:
                gone.call("CLIENT", "TRACKING", "ON")
            time.sleep(0.1)
            info = w.call("INFO", "clients").decode()
            out.append([l for l in info.split("\r\n") if l.startswith("tracking")])
        return out
    _both(servers, run)


# A write invalidates only the keys it modified (7.0.15's signalModifiedKey): not the keys
# it only read (the sources of *STORE, COPY, SORT ... STORE), not a key DEL did not find,
# not the keys of a multi-key pop it did not pop from, not an SMOVE's destination that held
# the member.
MODIFIED_ONLY_WRITES = [
    ("SUNIONSTORE", "{s}d", "{s}a", "{s}b"),
    ("SINTERSTORE", "{s}d", "{s}a", "{s}b"),
    ("ZRANGESTORE", "{s}zd", "{s}z", "0", "-1"),
    ("SORT", "{s}l2", "ALPHA", "STORE", "{s}sd"),
    ("COPY", "{s}e", "{s}c"),
    ("DEL", "{s}x", "{s}e", "{s}y"),
    ("LMPOP", "2", "{s}l1", "{s}l2", "LEFT"),
    ("BLPOP", "{s}l1", "{s}l2", "0"),
    ("RPOPLPUSH", "{s}l2", "{s}l3"),
    # stream consumer groups: only XGROUP CREATE ... MKSTREAM making the stream signals it
    ("XGROUP", "CREATE", "{s}st", "g", "$", "MKSTREAM"),
    ("XADD", "{s}st", "1-1", "a", "1"),
    ("XGROUP", "CREATE", "{s}st", "g2", "0", "MKSTREAM"),
    ("XREADGROUP", "GROUP", "g", "c", "STREAMS", "{s}st", ">"),
    ("XCLAIM", "{s}st", "g", "c2", "0", "1-1", "JUSTID"),
    ("XAUTOCLAIM", "{s}st", "g", "c3", "0", "0", "JUSTID"),
    ("XACK", "{s}st", "g", "1-1"),
    ("XSETID", "{s}st", "5-0"),
    ("XGROUP", "SETID", "{s}st", "g", "0"),
    ("XGROUP", "CREATECONSUMER", "{s}st", "g", "c9"),
    ("XGROUP", "DELCONSUMER", "{s}st", "g", "c9"),
    ("XGROUP", "DESTROY", "{s}st", "g2"),
    # SMOVE signals its destination only when the member was added there
    ("SMOVE", "{s}a", "{s}b", "2"),
    ("SMOVE", "{s}a", "{s}b", "1"),
]
MODIFIED_ONLY_READS = [("SMEMBERS", "{s}a"), ("SMEMBERS", "{s}b"), ("SMEMBERS", "{s}d"), ("ZRANGE", "{s}z", "0", "-1"),
                       ("ZRANGE", "{s}zd", "0", "-1"), ("LRANGE", "{s}l1", "0", "-1"), ("LRANGE", "{s}l2", "0", "-1"),
                       ("LRANGE", "{s}l3", "0", "-1"), ("LRANGE", "{s}sd", "0", "-1"), ("GET", "{s}e"), ("GET", "{s}c"),
                       ("GET", "{s}x"), ("GET", "{s}y"), ("XRANGE", "{s}st", "-", "+")]


# A key of the same slot that the writer sets after each write of the list: its invalidation
# comes after every message that write caused on the same connection (and, on shoal, from the
# same worker), so reading up to it shows all of them without waiting for silence.
MARK = "{s}mark"


def _through_mark(w, hear):
    """Sets MARK from w, then returns the raw messages on hear up to and including MARK's
    invalidation."""
    w.call("SET", MARK, "1")
    got = []
    while True:
        raw = hear.read()[0]
        got.append(raw)
        if MARK.encode() in raw:
            return got


def _modified_only(srv, mode):
    out = []
    with srv.raw() as r, srv.raw() as t, srv.raw() as w:
        w.call("FLUSHALL")     # the modes share one server
        w.call("SADD", "{s}a", "1", "2")
        w.call("SADD", "{s}b", "2", "3")
        w.call("ZADD", "{s}z", "1", "m")
        w.call("RPUSH", "{s}l2", "p", "q", "r", "s")
        w.call("SET", "{s}e", "v")
        if mode == "resp2":
            rid = _cid(r)      # before SUBSCRIBE, which leaves r able to run only (P)SUBSCRIBE and the like
            out.append(r.raw("SUBSCRIBE", "__redis__:invalidate"))
            out.append(t.raw("CLIENT", "TRACKING", "ON", "REDIRECT", str(rid)))
            hear = r
        else:
            t.raw("HELLO", "3")
            opts = ("BCAST", "PREFIX", "{s}") if mode == "bcast" else ()
            out.append(t.raw("CLIENT", "TRACKING", "ON", *opts))
            hear = t
        for cmd in MODIFIED_ONLY_WRITES:
            for rd in MODIFIED_ONLY_READS + [("GET", MARK)]:
                t.call(*rd)
            out.append(w.raw(*cmd))
            # each write's messages (BCAST: one per write), then MARK's, nothing between
            out.append(_through_mark(w, hear))
        # and nothing after the last one
        out.append(_nothing_more(hear))
    return out


def test_write_invalidates_only_keys_it_modified(servers):
    _both(servers, lambda srv: [_modified_only(srv, mode) for mode in ("resp3", "resp2", "bcast")])
