"""File descriptor exhaustion: maxclients fitted to
RLIMIT_NOFILE at start as redis-server 7.0.15 does, clients beyond it
refused with Redis's error, and no spinning when accept() runs out of
descriptors anyway.

What it is for: nodes started under `prlimit --nofile=...` (as an
unprivileged user, so that the limit cannot be raised) or whose limit is
lowered while they run (`prlimit --pid`), flooded with more clients than
they can hold; every client must get an answer (PONG) or the error, and the
process must not burn CPU while the clients stay connected.

What it must never do: stop a process it did not start, or leave its
world-writable directory behind.
"""
import os
import re
import selectors
import shutil
import socket
import subprocess
import tempfile
import time

import pytest

import helpers as h

KINDS = ["shoal", "redis"]
NOBODY = ["setpriv", "--reuid=65534", "--regid=65534", "--clear-groups"]
MAXCLIENTS_ERR = "-ERR max number of clients + cluster connections reached"   # cluster mode, as our nodes run


def _cpu_seconds(pid):
    with open(f"/proc/{pid}/stat") as f:
        fields = f.read().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def _cpu_over_a_second(pid):
    c0 = _cpu_seconds(pid)
    time.sleep(1.0)
    return _cpu_seconds(pid) - c0


_replies = {}     # socket -> the first reply line _flood saw on it


def _reply_of(s):
    return _replies.get(s)


def _flood(port, n, deadline=8.0):
    """Opens n connections, sends PING on each, and returns (open sockets,
    {first reply line or 'closed' or 'silent': count})."""
    socks = []
    for _ in range(n):
        s = socket.socket()
        s.settimeout(5)
        s.connect(("127.0.0.1", port))     # completes from the listen backlog even if never accepted
        s.sendall(b"PING\r\n")
        s.setblocking(False)
        socks.append(s)
    sel = selectors.DefaultSelector()
    got = {}
    for s in socks:
        sel.register(s, selectors.EVENT_READ)
    end = time.monotonic() + deadline
    while len(got) < n and time.monotonic() < end:
        for key, _ in sel.select(timeout=0.2):
            s = key.fileobj
            try:
                data = s.recv(256)
            except ConnectionResetError:
                data = b""
            got[s] = data.split(b"\r\n")[0].decode() if data else "closed"
            sel.unregister(s)
    sel.close()
    counts = {}
    for s in socks:
        _replies[s] = got.get(s, "silent")
        k = got.get(s, "silent")
        counts[k] = counts.get(k, 0) + 1
    return socks, counts


def _held_ping(port):
    """A connection that got +PONG, left open; None if it was refused."""
    s = socket.create_connection(("127.0.0.1", port), timeout=5)
    s.sendall(b"PING\r\n")
    if s.recv(256).startswith(b"+PONG"):
        return s
    s.close()
    return None


def _one_ping(port):
    with socket.create_connection(("127.0.0.1", port), timeout=5) as s:
        s.sendall(b"PING\r\n")
        return s.recv(256).split(b"\r\n")[0].decode()


@pytest.fixture
def opendir():
    # The node runs as nobody: its directory must be reachable and writable
    # by it, which pytest's 0700 tmp tree is not.
    d = tempfile.mkdtemp(prefix="shoal-fd-", dir="/tmp")
    os.chmod(d, 0o777)
    yield d
    shutil.rmtree(d, ignore_errors=True)


def _start_limited(servers, kind, workdir, nofile, args=()):
    # An absolute name puts the server's directory at that path.
    make = servers.shoal if kind == "shoal" else servers.redis
    srv = make(list(args), start=False, name=workdir)
    plain_argv = srv.argv
    srv.argv = lambda: ["prlimit", f"--nofile={nofile}:{nofile}", *NOBODY, *plain_argv()]
    srv.start()
    return srv


@pytest.mark.parametrize("kind", KINDS)
def test_maxclients_reduced_to_fit_nofile(servers, opendir, kind):
    extra = ["--worker-threads", "2"] if kind == "shoal" else []
    srv = _start_limited(servers, kind, opendir, 256, extra)
    log = srv.output()
    m = re.search(r"Current maximum open files is 256\. maxclients has been reduced to (\d+) to compensate "
                  r"for low ulimit\. If you need higher maxclients increase 'ulimit -n'\.", log)
    assert m, log
    reduced = int(m.group(1))
    assert "You requested maxclients of 10000 requiring at least " in log
    assert 0 < reduced < 256
    with srv.raw() as admin:
        assert admin.call("CONFIG", "GET", "maxclients") == [b"maxclients", str(reduced).encode()]
        # the readiness probe's connection must be gone before we count
        h.wait_until(lambda: len(admin.call("CLIENT", "LIST").splitlines()) == 1, 5, what="only the admin connected")
        socks, counts = _flood(srv.port, 400)
        try:
            assert counts.get("+PONG", 0) == reduced - 1, counts        # the admin holds one
            assert counts.get(MAXCLIENTS_ERR, 0) == 400 - (reduced - 1), counts
            assert _cpu_over_a_second(srv.pid) < 0.3
            assert _one_ping(srv.port) == MAXCLIENTS_ERR
        finally:
            for s in socks:
                s.close()
        h.wait_until(lambda: _one_ping(srv.port) == "+PONG", 5, what="a client served again")


def test_accept_out_of_descriptors_does_not_spin(servers):
    # redis-server 7.0.15 in this situation logs "Accepting client
    # connection: accept: Too many open files" on every event loop turn and
    # spins; Redis avoids it by fitting maxclients at start, which a limit
    # lowered at run time defeats. shoal rests its listeners instead, and
    # refuses the waiting client through a spare descriptor.
    srv = servers.shoal(["--worker-threads", "2"])
    # The node closes the readiness probe's connection when it gets to it; counted
    # before that, its descriptor would be freed in the middle of the flood, let one
    # accept through and start a second shortage (a second log line). The admin
    # connection stays open to the end, so the count holds.
    admin = srv.raw()
    h.wait_until(lambda: len(admin.call("CLIENT", "LIST").splitlines()) == 1, 5, what="only the admin connected")
    nfds = len(os.listdir(f"/proc/{srv.pid}/fd"))
    limit = nfds + 24
    subprocess.run(["prlimit", "--pid", str(srv.pid), f"--nofile={limit}:{limit}"], check=True)
    socks, counts = _flood(srv.port, 200)
    try:
        assert counts.get("silent", 0) == 0, counts
        assert counts.get("+PONG", 0) >= 10, counts
        assert counts.get("+PONG", 0) + counts.get(MAXCLIENTS_ERR, 0) == 200, counts
        assert _cpu_over_a_second(srv.pid) < 0.3
        assert _one_ping(srv.port) == MAXCLIENTS_ERR
        # One descriptor freed in the middle of the shortage (here a served
        # client leaves; in the node, any thread closing a file) lets one
        # client in; the refusals after it are the same shortage for the log.
        served = next(s for s in socks if _reply_of(s) == "+PONG")
        served.close()
        relief = h.wait_until(lambda: _held_ping(srv.port), 5, what="the freed descriptor serving one client")
        socks.append(relief)
        assert _one_ping(srv.port) == MAXCLIENTS_ERR
    finally:
        for s in socks:
            s.close()
    h.wait_until(lambda: _one_ping(srv.port) == "+PONG", 5, what="a client served again")
    admin.close()
    log = srv.output()
    assert log.count("Accepting client connection: accept: Too many open files") == 1, log[-3000:]


@pytest.mark.parametrize("kind", KINDS)
def test_config_set_maxclients_must_fit_nofile(servers, opendir, kind):
    extra = ["--worker-threads", "2"] if kind == "shoal" else []
    srv = _start_limited(servers, kind, opendir, 256, extra)
    with srv.raw() as admin:
        fits = int(admin.call("CONFIG", "GET", "maxclients")[1])
        r = admin.call("CONFIG", "SET", "maxclients", "1000")
        assert r == h.Error("ERR CONFIG SET failed (possibly related to argument 'maxclients') - The operating "
                            f"system is not able to handle the specified number of clients, try with {fits}")
        assert int(admin.call("CONFIG", "GET", "maxclients")[1]) == fits
        assert admin.call("CONFIG", "SET", "maxclients", "100") == "OK"
        assert admin.call("CONFIG", "GET", "maxclients") == [b"maxclients", b"100"]
    assert "Failed applying new configuration. Possibly related to new maxclients setting. Restoring previous " \
           "settings." in srv.output()
