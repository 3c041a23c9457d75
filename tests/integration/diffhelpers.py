"""Differential runs: the same commands to shoal-node and to redis-server 7.0.15, replies
compared byte for byte (tests/integration/test_types_*.py).

What it is for: sending a fixed scenario or a long seeded command stream (pipelined in
batches, so that 100,000 commands take seconds) to both servers over RESP2 or RESP3,
and reporting the first differing reply with the command that produced it.

What it must never do: normalise either side's bytes (the reference is the contract),
or hide which command diverged.
"""
import helpers as h


def run(server, cmds, proto=2, timeout=20):
    """Raw reply bytes of each command, sent one at a time on one connection."""
    out = []
    with server.raw(timeout=timeout) as c:
        if proto == 3:
            assert isinstance(c.call("HELLO", "3"), h.Map)
        for args in cmds:
            out.append(c.raw(*args))
    return out


def pipelined(server, cmds, proto=2, batch=400, timeout=60):
    """As run(), but sends `batch` commands before reading their replies."""
    out = []
    with server.raw(timeout=timeout) as c:
        if proto == 3:
            assert isinstance(c.call("HELLO", "3"), h.Map)
        for i in range(0, len(cmds), batch):
            part = cmds[i:i + batch]
            c.send(b"".join(h.encode(*a) for a in part))
            for _ in part:
                out.append(c.read()[0])
    return out


def _shown(args):
    return tuple(a if len(a) < 60 else a[:20] + ("..." if isinstance(a, str) else b"...") for a in args)


def assert_same(node, ref, cmds, proto=2, pipeline=False):
    """Every reply of node equals ref's, in order."""
    fn = pipelined if pipeline else run
    expected = fn(ref, cmds, proto)
    got = fn(node, cmds, proto)
    assert len(got) == len(expected)
    for i, (args, e, g) in enumerate(zip(cmds, expected, got)):
        assert g == e, f"command {i} {_shown(args)} (RESP{proto}): redis {e[:300]!r}, shoal {g[:300]!r}"


def values(server, keys):
    """{key: GET reply bytes} for the given keys (raw, so errors show too); READONLY
    first, so that a cluster replica answers for its master's slots."""
    with server.raw(timeout=20) as c:
        assert c.call("READONLY") == "OK"
        return {k: c.raw("GET", k) for k in keys}


def norm(v):
    """A parsed reply with every array sorted, nested ones too: for replies whose
    element order is the hash table's (HGETALL, SMEMBERS, SSCAN ...)."""
    if isinstance(v, list):
        return sorted((norm(x) for x in v), key=repr)
    return v


def run_unordered(server, cmds, proto, unordered, randomized=frozenset()):
    """As run(), but the reply of a command named in `unordered` is kept as its
    type and sorted content (norm), and that of one named in `randomized` (SPOP,
    HRANDFIELD with a count: random picks) as its shape only, type byte and
    length; every other reply stays raw bytes."""
    out = []
    with server.raw(timeout=10) as c:
        if proto == 3:
            assert isinstance(c.call("HELLO", "3"), h.Map)
        for args in cmds:
            raw, val = c.req(*args)
            name = args[0].upper()
            if name in randomized and isinstance(val, (list, bytes)):
                out.append((raw[:1], len(val) if isinstance(val, list) else 1))
            elif name in unordered:
                out.append((raw[:1], type(val).__name__, norm(val)))
            else:
                out.append(raw)
    return out


def compare(cmds, expected, got):
    """Every reply of `got` (shoal's) equals `expected` (redis-server's), in order;
    the first that differs is reported with its index and command."""
    for n, (args, e, g) in enumerate(zip(cmds, expected, got)):
        shown = tuple(a if len(a) < 60 else a[:20] + "..." for a in args)[:8]
        assert g == e, f"#{n} {shown}: redis {str(e)[:300]}, shoal {str(g)[:300]}"


def plain(servers, kind, dirpath, name, *extra):
    """A standalone shoal-node or redis-server started in dirpath (loading a dump.rdb
    there), without the cluster arguments, saving nothing by itself; extra: more
    arguments for both."""
    port = h.free_port()
    args = ["--port", str(port), "--bind", "127.0.0.1", "--dir", str(dirpath), "--logfile", "", *extra]
    if kind == "redis":
        args += ["--save", "", "--appendonly", "no", "--daemonize", "no"]
    return (servers.redis if kind == "redis" else servers.shoal)(base_args=False, port=port, name=name,
                                                                 extra_args=args)


def blocked(srv):
    """INFO's blocked_clients."""
    with srv.raw() as c:
        return int(h.info_dict(c.call("INFO", "clients"))["blocked_clients"])


def wait_blocked(srv, n, timeout=5.0):
    h.wait_until(lambda: blocked(srv) == n, timeout, what=f"{n} blocked clients")


def block(srv, *cmd, proto=2):
    """A new connection that sent cmd and waits for its reply."""
    c = h.RawConn(srv.port, timeout=10)
    if proto == 3:
        c.call("HELLO", "3")
    c.send(h.encode(*cmd))
    return c


def assert_same_sessions(ref, node, session, protos=(2, 3)):
    """Runs session(server, proto) -> [replies] on ref (redis-server) then on node, for
    each protocol, and asserts the lists equal reply by reply (naming the first that
    differs)."""
    for proto in protos:
        want = session(ref, proto)
        got = session(node, proto)
        for i, (w, g) in enumerate(zip(want, got)):
            assert g == w, f"RESP{proto} reply {i}: redis {w!r}, shoal {g!r}"
        assert len(got) == len(want), f"RESP{proto}: {len(got)} replies, redis gave {len(want)}"


class conn:
    """`with conn(server, proto) as c:` a raw connection, switched to RESP3 by HELLO 3
    when proto is 3."""

    def __init__(self, server, proto, timeout=5.0):
        self.c = server.raw(timeout=timeout)
        self.proto = proto

    def __enter__(self):
        if self.proto == 3:
            assert isinstance(self.c.call("HELLO", "3"), h.Map)
        return self.c

    def __exit__(self, *exc):
        self.c.close()
