"""SLOWLOG GET/LEN/RESET/HELP answer as redis-server 7.0.15's.

What it is for: operators read the slow log to find what stalls a node. Each shoal
worker logs its own clients' calls; SLOWLOG GET merges the workers' logs by id. The
same session of commands, sent to shoal (three workers, connections on every worker)
and to redis-server, must give the same entries: ids, arguments (cut at 32 arguments
and 128 bytes as 7.0.15 cuts them, secrets redacted), client address and name, and the
same errors; only the time and the durations differ.

What it must never do: relax an expectation to match our node; signal a process it did
not start.
"""
import pytest

import helpers as h

DEBUG = ["--enable-debug-command", "yes"]


def _norm(entries, ports):
    """An entry without its time and duration; the client's port as its index in ports."""
    out = []
    for e in entries:
        assert len(e) == 6, e
        eid, when, usec, args, peer, name = e
        assert isinstance(when, int) and isinstance(usec, int) and usec >= 0
        host, port = peer.rsplit(b":", 1)
        out.append((eid, args, host, ports.index(int(port)), name))
    return out


def _session(srv):
    """The scenario; returns (replies that must match, normalised GET results)."""
    got = []
    conns = [srv.raw() for _ in range(4)]        # several connections: several workers
    try:
        ports = [c.sock.getsockname()[1] for c in conns]
        a, b, c, d = conns
        got.append(a.raw("SLOWLOG", "HELP"))
        got.append(a.raw("CONFIG", "SET", "slowlog-log-slower-than", "0"))
        got.append(a.raw("SLOWLOG", "RESET"))
        got.append(a.raw("SLOWLOG", "LEN"))
        got.append(b.raw("CLIENT", "SETNAME", "bee"))
        for i in range(5):
            got.append(conns[i % 4].raw("SET", f"key{i}", "v" * (i * 60)))
        got.append(c.raw("RPUSH", "list", *[f"e{i}" for i in range(40)]))   # more than 32 arguments
        got.append(d.raw("CONFIG", "SET", "masterauth", "secret"))
        got.append(d.raw("AUTH", "nopass"))
        got.append(d.raw("ACL", "SETUSER", "slowlog-user", "+get", ">pw"))
        got.append(d.raw("MULTI"))
        got.append(d.raw("SET", "{t}1", "x"))
        got.append(d.raw("GET", "{t}1"))
        got.append(d.raw("EXEC"))
        got.append(a.raw("SLOWLOG", "LEN"))
        full = _norm(a.call("SLOWLOG", "GET", "-1"), ports)
        two = _norm(b.call("SLOWLOG", "GET", "2"), ports)
        dflt = _norm(c.call("SLOWLOG", "GET"), ports)
        for bad in (("SLOWLOG", "GET", "-2"), ("SLOWLOG", "GET", "x"), ("SLOWLOG", "GET", "1", "2"),
                    ("SLOWLOG", "LEN", "1"), ("SLOWLOG", "NOPE"), ("SLOWLOG",)):
            got.append(a.raw(*bad))
        # max-len: the newest entries only
        got.append(a.raw("CONFIG", "SET", "slowlog-max-len", "3"))
        for i in range(10):
            conns[i % 4].call("PING")
        got.append(a.raw("SLOWLOG", "LEN"))
        small = _norm(a.call("SLOWLOG", "GET", "-1"), ports)
        got.append(a.raw("CONFIG", "SET", "slowlog-max-len", "128"))
        got.append(a.raw("CONFIG", "SET", "slowlog-log-slower-than", "-1"))
        got.append(a.raw("SLOWLOG", "RESET"))
        got.append(a.raw("SLOWLOG", "LEN"))
        assert isinstance(a.call("HELLO", "3"), h.Map)
        got.append(a.raw("SLOWLOG", "GET"))
        return got, (full, two, dflt, small)
    finally:
        for c in conns:
            c.close()


def test_slowlog_as_redis(servers):
    results = {}
    for srv in (servers.shoal(extra_args=DEBUG + ["--worker-threads", "3"], base_args="standalone"),
                servers.redis(extra_args=DEBUG, base_args="standalone")):
        if srv.kind == "shoal":
            assert srv.raw().call("DEBUG", "PLACEMENT", "SPREAD") == "OK"
        results[srv.kind] = _session(srv)
    (r_got, r_lists), (s_got, s_lists) = results["redis"], results["shoal"]
    for i, (r, s) in enumerate(zip(r_got, s_got)):
        assert s == r, f"reply {i}: redis {r!r}, shoal {s!r}"
    for r, s in zip(r_lists, s_lists):
        assert len(s) == len(r)
        for re_, se in zip(r, s):
            assert se == re_
    full = s_lists[0]
    args = [e[1] for e in full]
    assert [b"CONFIG", b"SET", b"masterauth", b"(redacted)"] in args
    assert [b"AUTH", b"(redacted)"] in args
    assert [b"ACL", b"SETUSER", b"(redacted)", b"(redacted)", b"(redacted)"] in args
    rpush = next(a for a in args if a[0] == b"RPUSH")
    assert len(rpush) == 32 and rpush[-1] == b"... (11 more arguments)"
    long_set = next(a for a in args if a[:2] == [b"SET", b"key3"])
    assert long_set[2] == b"v" * 128 + b"... (52 more bytes)"
    assert any(e[4] == b"bee" for e in full)


def test_slowlog_debug_sleep_is_logged(servers):
    """A slow call (DEBUG SLEEP) is logged with its duration, the client's name and address."""
    srv = servers.shoal(extra_args=DEBUG + ["--worker-threads", "2"])
    with srv.raw() as c:
        assert c.call("CONFIG", "SET", "slowlog-log-slower-than", "100000") == "OK"
        assert c.call("PING") == "PONG"
        assert c.call("SLOWLOG", "LEN") == 0
        assert c.call("CLIENT", "SETNAME", "sleeper") == "OK"
        assert c.call("DEBUG", "SLEEP", "0.2") == "OK"
        assert c.call("SLOWLOG", "LEN") == 1
        e = c.call("SLOWLOG", "GET")[0]
        assert e[2] > 100000 and e[3] == [b"DEBUG", b"SLEEP", b"0.2"] and e[5] == b"sleeper"
        assert e[4] == f"127.0.0.1:{c.sock.getsockname()[1]}".encode()


@pytest.mark.parametrize("workers", ["1", "2"])
def test_slowlog_full_log_answers_max_len_entries(servers, workers):
    """With the caller's worker holding the newest entries and the log full, SLOWLOG LEN and GET
    see max-len entries, as 7.0.15 (the call's own entry must not push one out before they read)."""
    got = {}
    for srv in (servers.shoal(extra_args=DEBUG + ["--worker-threads", workers], base_args="standalone"),
                servers.redis(extra_args=DEBUG, base_args="standalone")):
        with srv.raw() as c:
            assert c.call("CONFIG", "SET", "slowlog-max-len", "5") == "OK"
            assert c.call("CONFIG", "SET", "slowlog-log-slower-than", "0") == "OK"
            assert c.call("SLOWLOG", "RESET") == "OK"
            for i in range(7):
                c.call("SET", f"k{i}", "v")
            out = [c.call("SLOWLOG", "LEN"), [e[3] for e in c.call("SLOWLOG", "GET", "-1")],
                   c.call("SLOWLOG", "LEN"), [e[3] for e in c.call("SLOWLOG", "GET", "2")]]
        got[srv.kind] = out
    assert got["shoal"] == got["redis"]
    assert got["shoal"][0] == 5


def _no_ids(entries):
    """Entries in order, without their ids and the INFO polls for the blocked client (logged
    too, as many as it took)."""
    return [e[1:] for e in entries if e[1][:1] != [b"INFO"]]


def _blocked_session(srv):
    """Blocked pops that are served or time out, as the slow log shows them: a served one
    is logged when it is served, the blocked client's entry (unit/slowlog 'Rewritten
    commands are logged as their original command': BLPOP served by a transaction); shoal
    logged none."""
    out = []
    with srv.raw() as a, srv.raw() as b:
        ports = [a.sock.getsockname()[1], b.sock.getsockname()[1]]
        assert a.call("CONFIG", "SET", "slowlog-log-slower-than", "0") == "OK"
        assert b.call("CLIENT", "SETNAME", "waiter") == "OK"
        for ops in ((("SLOWLOG", "RESET"), ("LPUSH", "l", "foo")),
                    (("MULTI",), ("LPUSH", "l", "foo"), ("SLOWLOG", "RESET"), ("EXEC",))):
            b.send(h.encode("BLPOP", "l", "0"))
            h.wait_until(lambda: h.info_dict(a.call("INFO", "clients").decode())["blocked_clients"] == "1",
                         10, what="BLPOP blocks")
            for op in ops:
                out.append(a.raw(*op))
            out.append(b.read()[0])
            out.append(_no_ids(_norm(a.call("SLOWLOG", "GET", "-1"), ports)))
        out.append(a.raw("SLOWLOG", "RESET"))
        out.append(b.raw("BLPOP", "nokey", "0.01"))                      # times out: not logged
        out.append(_no_ids(_norm(a.call("SLOWLOG", "GET", "-1"), ports)))
    return out


def test_slowlog_logs_blocked_calls_as_redis(servers):
    node = servers.shoal(extra_args=DEBUG + ["--worker-threads", "3"], base_args="standalone")
    ref = servers.redis(extra_args=DEBUG, base_args="standalone")
    want = _blocked_session(ref)
    assert all([b"BLPOP", b"l", b"0"] in [e[0] for e in want[i]] for i in (3, 9)), want
    assert _blocked_session(node) == want
