"""Per-client limits that redis-server 7.0.15 enforces: proto-max-bulk-len,
client-query-buffer-limit, client-output-buffer-limit.

What it is for: each limit is set the same way on a shoal-node and on a
redis-server, the same client misbehaves against both, and the test checks
that both answer (or disconnect, and log) the same way.

What it must never do: stop a process it did not start, or wait on a fixed
long sleep where a deadline poll works.
"""
import os
import socket
import time

import pytest

import helpers as h

KINDS = ["shoal", "redis"]


def _start(servers, kind, args=()):
    srv = servers.shoal(list(args)) if kind == "shoal" else servers.redis(list(args))
    h.own_all_slots(srv)
    return srv


def _rss_kb(pid):
    with open(f"/proc/{pid}/status") as f:
        for line in f:
            if line.startswith("VmRSS:"):
                return int(line.split()[1])
    return 0


def _send_until_closed(conn, data, idle=1.0):
    """Sends data (the peer may close part way) and returns (bytes received, closed)."""
    try:
        return conn.exchange(data, idle=idle)
    except (ConnectionResetError, BrokenPipeError):
        got = conn.buf
        try:
            conn.sock.settimeout(idle)
            while True:
                chunk = conn.sock.recv(65536)
                if not chunk:
                    break
                got += chunk
        except OSError:
            pass
        return got, True


def _big_set(key, n):
    return b"*3\r\n$3\r\nSET\r\n$%d\r\n%s\r\n$%d\r\n" % (len(key), key, n) + b"x" * n + b"\r\n"


# ---------------------------------------------------------------------------
# proto-max-bulk-len (item 15): CONFIG SET applies to connections already open
# ---------------------------------------------------------------------------

@pytest.mark.parametrize("kind", KINDS)
def test_proto_max_bulk_len_lowered_applies_to_open_connection(servers, kind):
    srv = _start(servers, kind)
    with srv.raw() as early, srv.raw() as admin:
        assert early.call("PING") == "PONG"          # connected before the change
        assert admin.call("CONFIG", "SET", "proto-max-bulk-len", "1mb") == "OK"
        got, closed = _send_until_closed(early, _big_set(b"k", 2 * 1024 * 1024))
        assert got == b"-ERR Protocol error: invalid bulk length\r\n", got[:200]
        assert closed
        assert admin.call("EXISTS", "k") == 0


@pytest.mark.parametrize("kind", KINDS)
def test_proto_max_bulk_len_raised_applies_to_open_connection(servers, kind):
    srv = _start(servers, kind, ["--proto-max-bulk-len", "1mb"])
    with srv.raw() as early, srv.raw() as admin:
        assert early.call("PING") == "PONG"
        got, closed = _send_until_closed(early, _big_set(b"k", 2 * 1024 * 1024))
        assert got == b"-ERR Protocol error: invalid bulk length\r\n"
    with srv.raw() as early, srv.raw() as admin:
        assert early.call("PING") == "PONG"
        assert admin.call("CONFIG", "SET", "proto-max-bulk-len", "4mb") == "OK"
        early.send(_big_set(b"k", 2 * 1024 * 1024))
        assert early.read()[0] == b"+OK\r\n"
        assert admin.call("STRLEN", "k") == 2 * 1024 * 1024
