"""Protected mode, enable-debug-command and enable-protected-configs, compared
with redis-server 7.0.15 run the same way.

"Local" needs a client whose address is not 127.0.0.1: these tests run both
servers inside a network namespace of their own (netns.py) that has a second
address, 192.0.2.2, on its loopback device, and connect from inside it.
"""
import os
import shutil
import socket
import tempfile
import time

import pytest

import helpers as h
from netns import OTHER_ADDR, NetNs, NsServer

DENIED_PREFIX = (b"-DENIED Redis is running in protected mode because protected mode is enabled "
                 b"and no password is set for the default user.")
DEBUG_REFUSED = (b"-ERR DEBUG command not allowed. If the enable-debug-command option is set to "
                 b"\"local\", you can run it from a local connection, otherwise you need to set "
                 b"this option in the configuration file, and then restart the server.\r\n")
DIR_REFUSED = (b"-ERR CONFIG SET failed (possibly related to argument 'dir') - "
               b"can't set protected config\r\n")


@pytest.fixture
def ns():
    with NetNs() as n:
        yield n


def ns_pair(servers, ns, *args):
    """shoal and redis-server inside `ns`, started the same way: default bind
    (* -::*), default protected-mode, plus `args`."""
    out = []
    for kind in ("shoal", "redis"):
        port = h.free_port()
        d = servers.base / f"{kind}-ns-{port}"
        argv = ["--port", str(port), "--cluster-enabled", "yes", "--cluster-config-file", "nodes.conf",
                "--dir", str(d), "--logfile", ""]
        if kind == "redis":
            argv += ["--save", "", "--appendonly", "no", "--daemonize", "no"]
        srv = NsServer(ns, kind, port, d, extra_args=argv + list(args), base_args=False)
        servers.all.append(srv)      # stopped by the fixture, by pid
        srv.start()
        out.append(srv)
    return out


def test_protected_mode_denies_non_loopback(servers, ns):
    seen = {}
    for srv in ns_pair(servers, ns):
        with srv.raw(host=OTHER_ADDR) as c:
            got, closed = c.exchange(h.encode("PING"), idle=1.0)
        assert closed, f"{srv.kind}: connection left open"
        seen[srv.kind] = got
        # loopback and the same server with a password are served
        with srv.raw() as c:
            assert c.raw("PING") == b"+PONG\r\n"
            assert c.raw("CONFIG", "SET", "requirepass", "pw") == b"+OK\r\n"
        with srv.raw(host=OTHER_ADDR) as c:
            assert c.raw("PING").startswith(b"-NOAUTH")
            assert c.raw("AUTH", "pw") == b"+OK\r\n"
            assert c.raw("CONFIG", "SET", "requirepass", "") == b"+OK\r\n"
        with srv.raw(host=OTHER_ADDR) as c:
            got2, closed2 = c.exchange(h.encode("PING"), idle=1.0)
        assert closed2 and got2.startswith(DENIED_PREFIX)
        # protected-mode no, set from loopback, lets the other address in
        with srv.raw() as c:
            assert c.raw("CONFIG", "SET", "protected-mode", "no") == b"+OK\r\n"
        with srv.raw(host=OTHER_ADDR) as c:
            assert c.raw("PING") == b"+PONG\r\n"
        with srv.raw() as c:
            info = h.info_dict(c.call("INFO", "stats"))
            assert int(info["rejected_connections"]) == 2
    assert seen["shoal"].startswith(DENIED_PREFIX)
    assert seen["shoal"].endswith(b"\r\n") and seen["shoal"].count(b"\r\n") == 1
    assert seen["shoal"] == seen["redis"]


def test_debug_command_refused_by_default(servers):
    for srv in (servers.shoal(), servers.redis()):
        with srv.raw() as c:
            assert c.raw("DEBUG", "SLEEP", "0") == DEBUG_REFUSED, srv.kind
            # refused before AUTH and inside MULTI (the transaction is aborted)
            assert c.raw("MULTI") == b"+OK\r\n"
            assert c.raw("DEBUG", "SLEEP", "0") == DEBUG_REFUSED, srv.kind
            assert c.raw("EXEC").startswith(b"-EXECABORT"), srv.kind
    for srv in (servers.shoal(extra_args=["--requirepass", "pw"]),
                servers.redis(extra_args=["--requirepass", "pw"])):
        with srv.raw() as c:
            assert c.raw("DEBUG", "SLEEP", "0") == DEBUG_REFUSED, srv.kind


def test_debug_command_local(servers, ns):
    for srv in ns_pair(servers, ns, "--enable-debug-command", "local", "--protected-mode", "no"):
        with srv.raw() as c:
            assert c.raw("DEBUG", "SLEEP", "0") == b"+OK\r\n", srv.kind
        with srv.raw(host=OTHER_ADDR) as c:
            assert c.raw("DEBUG", "SLEEP", "0") == DEBUG_REFUSED, srv.kind
            assert c.raw("PING") == b"+PONG\r\n"


def test_protected_configs_local(servers, ns):
    for srv in ns_pair(servers, ns, "--enable-protected-configs", "local", "--protected-mode", "no"):
        with srv.raw(host=OTHER_ADDR) as c:
            assert c.raw("CONFIG", "SET", "dir", str(srv.dir)) == DIR_REFUSED, srv.kind
            assert c.raw("CONFIG", "SET", "dbfilename", "x.rdb").startswith(
                b"-ERR CONFIG SET failed (possibly related to argument 'dbfilename') - "
                b"can't set protected config"), srv.kind
        with srv.raw() as c:
            assert c.raw("CONFIG", "SET", "dir", str(srv.dir)) == b"+OK\r\n", srv.kind
    # with the default (no), not even loopback may set them
    for srv in (servers.shoal(), servers.redis()):
        with srv.raw() as c:
            assert c.raw("CONFIG", "SET", "dir", str(srv.dir)) == DIR_REFUSED, srv.kind


@pytest.mark.parametrize("value", ["inf", "-inf", "nan", "1e300", "9300000000000", "1" + "0" * 80])
def test_debug_sleep_out_of_range(servers, value):
    node = servers.shoal(extra_args=["--enable-debug-command", "yes"])
    with node.raw(timeout=3.0) as c:
        t0 = time.monotonic()
        reply = c.raw("DEBUG", "SLEEP", value)
        assert reply.startswith(b"-ERR value is"), reply
        assert time.monotonic() - t0 < 1.0
        assert c.raw("PING") == b"+PONG\r\n"


def _unix_conn(path, timeout=5.0):
    c = h.RawConn.__new__(h.RawConn)
    c.sock = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    c.sock.settimeout(timeout)
    c.sock.connect(path)
    c.buf = b""
    c.timeout = timeout
    return c


def test_unix_socket_client_is_local(servers):
    """A unix-socket client has no IP address and is local, as in 7.0.15:
    'local' settings let it run DEBUG and set protected configs."""
    d = tempfile.mkdtemp(prefix="shp", dir="/tmp")
    try:
        got = {}
        for kind in ("shoal", "redis"):
            path = os.path.join(d, f"{kind}.sock")
            args = ["--unixsocket", path, "--enable-debug-command", "local",
                    "--enable-protected-configs", "local"]
            srv = servers.shoal(extra_args=args) if kind == "shoal" else servers.redis(extra_args=args)
            with _unix_conn(path) as c:
                got[kind] = [c.raw("DEBUG", "SLEEP", "0"), c.raw("CONFIG", "SET", "dir", str(srv.dir)),
                             c.raw("PING")]
        assert got["shoal"] == got["redis"] == [b"+OK\r\n", b"+OK\r\n", b"+PONG\r\n"]
    finally:
        shutil.rmtree(d, ignore_errors=True)
