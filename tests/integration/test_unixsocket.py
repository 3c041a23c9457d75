"""The `unixsocket` / `unixsocketperm` directives: the node listens on a unix
domain socket as redis-server 7.0.15 does.

What it is for: starting a shoal-node and a redis-server the same way with a
unix socket, and checking that redis-cli -s and redis-py's
UnixDomainSocketConnection get the same answers from both, that CLIENT LIST
names such a client `addr=<path>:0` with the U flag, that the permissions
are applied, that a stale file at the path is replaced and that the file is
removed at shutdown.

What it must never do: stop a process it did not start, or leave its socket
directory behind.
"""
import os
import re
import shutil
import socket
import stat
import subprocess
import tempfile

import pytest
import redis

import helpers as h

KINDS = ["shoal", "redis"]


@pytest.fixture
def sockdir():
    # Short on purpose: a unix socket path must fit in sun_path (108 bytes),
    # which pytest's tmp_path does not always do.
    d = tempfile.mkdtemp(prefix="shoal-us-", dir="/tmp")
    yield d
    shutil.rmtree(d, ignore_errors=True)


def _start(servers, kind, path, perm="700"):
    args = ["--unixsocket", path, "--unixsocketperm", perm]
    srv = servers.shoal(args) if kind == "shoal" else servers.redis(args)
    h.own_all_slots(srv)
    return srv


def _cli(path, *args):
    return subprocess.run([h.REDIS_CLI, "-s", path, *args], capture_output=True, text=True, timeout=20)


@pytest.mark.parametrize("kind", KINDS)
def test_redis_cli_over_unix_socket(servers, sockdir, kind):
    path = os.path.join(sockdir, f"{kind}.sock")
    _start(servers, kind, path)
    assert stat.S_ISSOCK(os.stat(path).st_mode)
    assert _cli(path, "PING").stdout.strip() == "PONG"
    assert _cli(path, "SET", "k", "over-unix").stdout.strip() == "OK"
    assert _cli(path, "GET", "k").stdout.strip() == "over-unix"
    info = _cli(path, "CLIENT", "INFO").stdout.strip()
    fields = dict(kv.split("=", 1) for kv in info.split(" "))
    assert fields["addr"] == f"{path}:0"
    assert fields["laddr"] == f"{path}:0"
    assert fields["flags"] == "U"


@pytest.mark.parametrize("kind", KINDS)
def test_redis_py_unix_domain_socket_connection(servers, sockdir, kind):
    path = os.path.join(sockdir, f"{kind}.sock")
    srv = _start(servers, kind, path)
    r = redis.Redis(unix_socket_path=path, socket_timeout=10)
    try:
        assert isinstance(r.connection_pool.get_connection("PING"), redis.UnixDomainSocketConnection)
        assert r.ping() is True
        assert r.set("u", "1") is True
        assert r.incr("u") == 2
        r.client_setname("unixpy")
        mine = [c for c in r.client_list() if c["name"] == "unixpy"]
        assert len(mine) == 1
        assert mine[0]["addr"] == f"{path}:0" and mine[0]["laddr"] == f"{path}:0"
        assert "U" in mine[0]["flags"]
    finally:
        r.close()
    # a TCP client of the same node is not marked U
    with srv.raw() as c:
        line = c.call("CLIENT", "INFO").decode()
        assert " flags=N " in line and " addr=127.0.0.1:" in line


@pytest.mark.parametrize("kind", KINDS)
def test_unixsocketperm_applied(servers, sockdir, kind):
    path = os.path.join(sockdir, f"{kind}.sock")
    _start(servers, kind, path, perm="770")
    assert stat.S_IMODE(os.stat(path).st_mode) == 0o770


@pytest.mark.parametrize("kind", KINDS)
def test_stale_file_replaced_and_removed_at_shutdown(servers, sockdir, kind):
    path = os.path.join(sockdir, f"{kind}.sock")
    with open(path, "w") as f:
        f.write("left over from a previous run\n")
    srv = _start(servers, kind, path)
    assert stat.S_ISSOCK(os.stat(path).st_mode)
    s = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    s.settimeout(5)
    s.connect(path)
    s.sendall(b"PING\r\n")
    assert s.recv(64) == b"+PONG\r\n"
    s.close()
    rc, _ = srv.stop()
    assert rc == 0
    assert not os.path.exists(path)
    assert "Removing the unix socket file." in srv.output()


@pytest.mark.parametrize("kind", KINDS)
def test_unix_socket_path_too_long_refuses_to_start(servers, sockdir, kind):
    path = os.path.join(sockdir, "x" * 120)
    args = ["--unixsocket", path]
    srv = servers.shoal(args, start=False) if kind == "shoal" else servers.redis(args, start=False)
    srv.spawn()
    srv.expected_exit = True
    assert srv.wait_exit(10) == 1
    assert "Failed opening Unix socket: unix socket path too long (" in srv.output()


@pytest.mark.parametrize("kind", KINDS)
def test_port_0_listens_on_the_unix_socket_only(servers, sockdir, kind):
    # Standalone, no TCP listener at all: the socket is the only way in.
    path = os.path.join(sockdir, f"{kind}.sock")
    port = h.free_port()
    # No save points: the socket directory goes away before the node is
    # stopped, and a final save into a missing directory refuses the exit.
    args = ["--port", "0", "--unixsocket", path, "--dir", sockdir, "--save", "", "--appendonly", "no"]
    make = servers.shoal if kind == "shoal" else servers.redis
    srv = make(args, start=False, base_args=False, port=port)
    srv.spawn()
    h.wait_until(lambda: os.path.exists(path) and _cli(path, "PING").stdout.strip() == "PONG", 10,
                 what="PONG over the unix socket")
    assert _cli(path, "SET", "a", "1").stdout.strip() == "OK"
    assert _cli(path, "CONFIG", "GET", "port").stdout.split() == ["port", "0"]
    out = srv.output()
    assert f"The server is now ready to accept connections at {path}" in out
    assert re.search(r"\* Ready to accept connections$", out, re.M) is None
    listening = subprocess.run(["ss", "-ltnpH"], capture_output=True, text=True).stdout
    assert f"pid={srv.pid}," not in listening


@pytest.mark.parametrize("kind", KINDS)
def test_unix_socket_client_is_local(servers, sockdir, kind):
    # enable-debug-command / enable-protected-configs "local" and protected
    # mode all count a unix-socket client as local, as 7.0.15 does.
    path = os.path.join(sockdir, f"{kind}.sock")
    args = ["--unixsocket", path, "--protected-mode", "yes", "--enable-debug-command", "local",
            "--enable-protected-configs", "local"]
    srv = servers.shoal(args) if kind == "shoal" else servers.redis(args)
    assert _cli(path, "PING").stdout.strip() == "PONG"
    assert _cli(path, "DEBUG", "SLEEP", "0").stdout.strip() == "OK"
    here = str(srv.dir.resolve())
    assert _cli(path, "CONFIG", "SET", "dir", here).stdout.strip() == "OK"
    assert _cli(path, "CONFIG", "GET", "dir").stdout.split() == ["dir", here]
