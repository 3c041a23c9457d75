"""Clients over TLS on tls-port, side by side with redis-server 7.0.15: redis-cli,
redis-py and redis-benchmark with --tls; client certificates per tls-auth-clients
(yes / no / optional), a certificate from another CA, an expired one; plain text on
the TLS port; an idle half-done handshake; port 0 (TLS only); key passphrases, DH
parameters, protocols and ciphers; big values and pipelines (records that span
reads and writes).
"""
import socket
import ssl
import subprocess
import time

import pytest
import redis

import helpers as h
import tlshelpers as t


@pytest.fixture(scope="module")
def pki(tmp_path_factory):
    return t.make_pki(tmp_path_factory.mktemp("pki"), expired=True)


def both(servers, pki, extra=(), base_args="standalone"):
    """A shoal-node and a redis-server, each with TLS on its own tls-port."""
    out = {}
    for kind in ("shoal", "redis"):
        tp = h.free_port()
        args = t.server_args(pki, tp, extra=extra)
        srv = servers.shoal(extra_args=args, base_args=base_args) if kind == "shoal" \
            else servers.redis(extra_args=args, base_args=base_args)
        srv.tls_port = tp
        out[kind] = srv
    return out


def cli(srv, pki, *args, cert="client"):
    return subprocess.run([h.REDIS_CLI, "-h", "127.0.0.1", "-p", str(srv.tls_port),
                           *t.cli_args(pki, cert), *args],
                          capture_output=True, text=True, timeout=20)


def handshake(port, pki, cert="client", ca="ca"):
    """'ok' after a round trip, else the kind of failure."""
    try:
        with t.tls_socket(port, pki, cert=cert, ca=ca) as s:
            r = t.call(s, "PING")
            return "ok" if r == b"+PONG\r\n" else f"reply {r!r}"
    except ssl.SSLCertVerificationError:
        return "server-cert-rejected"
    except (ssl.SSLError, ConnectionError, OSError):
        return "refused"


def test_cli_py_benchmark(servers, pki):
    nodes = both(servers, pki)
    for kind, srv in nodes.items():
        assert cli(srv, pki, "SET", "k", "v").stdout.strip() == "OK", kind
        assert cli(srv, pki, "GET", "k").stdout.strip() == "v", kind
        r = redis.Redis(host="127.0.0.1", port=srv.tls_port, ssl=True, ssl_ca_certs=str(pki / "ca.crt"),
                        ssl_certfile=str(pki / "client.crt"), ssl_keyfile=str(pki / "client.key"),
                        ssl_check_hostname=False, socket_timeout=10)
        assert r.get("k") == b"v"
        big = b"x" * (3 * 1024 * 1024 + 7)           # many records each way
        assert r.set("big", big)
        assert r.get("big") == big
        p = r.pipeline(transaction=False)
        for i in range(2000):
            p.set(f"p{i}", "y" * 100)
            p.get(f"p{i}")
        res = p.execute()
        assert res[1::2] == [b"y" * 100] * 2000
        r.close()
        b = subprocess.run(["/usr/bin/redis-benchmark", "-h", "127.0.0.1", "-p", str(srv.tls_port),
                            *t.cli_args(pki), "-t", "set,get", "-n", "3000", "-c", "8", "-P", "4", "-q"],
                           capture_output=True, text=True, timeout=60)
        assert b.returncode == 0, (kind, b.stderr)
        assert b.stdout.count("requests per second") == 2, (kind, b.stdout, b.stderr)
        # the plain port still serves plain clients
        with srv.raw() as c:
            assert c.call("GET", "k") == b"v"


def test_client_certificates(servers, pki):
    """Who gets in, per tls-auth-clients, and with which certificate."""
    got = {}
    for mode in ("yes", "no", "optional"):
        nodes = both(servers, pki, extra=("--tls-auth-clients", mode))
        for kind, srv in nodes.items():
            got[(kind, mode)] = [handshake(srv.tls_port, pki, cert=c) for c in ("client", None, "other", "expired")]
            # a client that does not trust our CA refuses us
            got[(kind, mode)].append(handshake(srv.tls_port, pki, ca="other-ca"))
        for srv in nodes.values():
            srv.stop()
    for mode in ("yes", "no", "optional"):
        assert got[("shoal", mode)] == got[("redis", mode)], mode
    assert got[("shoal", "yes")] == ["ok", "refused", "refused", "refused", "server-cert-rejected"]
    assert got[("shoal", "no")][:4] == ["ok", "ok", "ok", "ok"]
    assert got[("shoal", "optional")][:4] == ["ok", "ok", "refused", "refused"]


def test_refusal_is_logged(servers, pki):
    nodes = both(servers, pki)
    for srv in nodes.values():
        assert handshake(srv.tls_port, pki, cert=None) == "refused"
    h.wait_until(lambda: all("peer did not return a certificate" in s.output() for s in nodes.values()),
                 5, what="the refusal in both logs")


def test_expired_server_certificate(servers, pki):
    tp = h.free_port()
    srv = servers.shoal(extra_args=t.server_args(pki, tp, cert="expired"), base_args="standalone")
    assert handshake(tp, pki) == "server-cert-rejected"
    r = cli(type("S", (), {"tls_port": tp})(), pki, "PING")
    assert "PONG" not in r.stdout
    assert srv.alive()


def test_plaintext_on_tls_port_and_tls_on_plain_port(servers, pki):
    nodes = both(servers, pki)
    for kind, srv in nodes.items():
        with socket.create_connection(("127.0.0.1", srv.tls_port), timeout=5) as s:
            s.sendall(b"PING\r\n")
            assert recv_all(s) == b"", kind          # closed, nothing in clear text
    # shoal also closes a TLS client on the plain port at once (redis-server waits
    # for an inline command's newline that never comes)
    srv = nodes["shoal"]
    with socket.create_connection(("127.0.0.1", srv.port), timeout=5) as raw:
        ctx = t.client_context(pki)
        t0 = time.monotonic()
        with pytest.raises((ssl.SSLError, ConnectionError, OSError)):
            ctx.wrap_socket(raw)
        assert time.monotonic() - t0 < 3
    for srv in nodes.values():
        assert handshake(srv.tls_port, pki) == "ok"
        with srv.raw() as c:
            assert c.call("PING") == "PONG"


def recv_all(s):
    data = b""
    try:
        while True:
            d = s.recv(4096)
            if not d:
                return data
            data += d
    except ConnectionResetError:
        return data


def test_idle_handshakes_do_not_hold_a_thread(servers, pki):
    tp = h.free_port()
    srv = servers.shoal(extra_args=t.server_args(pki, tp) + ["--worker-threads", "1"],
                        base_args="standalone")
    idle = []
    for i in range(20):
        s = socket.create_connection(("127.0.0.1", tp), timeout=30)
        if i % 2:
            s.sendall(bytes.fromhex("16030100c4010000c00303") + b"\x00" * 20)   # a hello cut short
        idle.append(s)
    # one worker thread, twenty stalled handshakes: TLS clients are still served at once
    t0 = time.monotonic()
    for _ in range(5):
        assert handshake(tp, pki) == "ok"
    assert time.monotonic() - t0 < 5
    # and the stalled ones are closed after the handshake timeout (10 s)
    t0 = time.monotonic()
    for s in idle:
        assert recv_all(s) == b""
        s.close()
    assert time.monotonic() - t0 < 25
    assert handshake(tp, pki) == "ok"


def wait_tls(port, pki, proc, timeout=10):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if proc.popen.poll() is not None:
            raise AssertionError(proc.log_tail())
        if handshake(port, pki) == "ok":
            return
        time.sleep(0.05)
    raise AssertionError("no TLS answer:\n" + proc.log_tail())


def test_port_zero_tls_only(servers, pki):
    for kind in ("shoal", "redis"):
        tp = h.free_port()
        args = ["--port", "0", "--bind", "127.0.0.1", "--save", ""] + t.server_args(pki, tp)
        mk = servers.shoal if kind == "shoal" else servers.redis
        srv = mk(extra_args=args, base_args=False, start=False)
        srv.dir.mkdir(parents=True, exist_ok=True)
        srv.extra_args += ["--dir", str(srv.dir)]
        srv.spawn()
        wait_tls(tp, pki, srv)
        with pytest.raises(OSError):
            socket.create_connection(("127.0.0.1", srv.port), timeout=2).close()


def startup_failure(servers, pki, extra):
    """How shoal and redis-server end when TLS cannot be configured at startup."""
    out = {}
    for kind in ("shoal", "redis"):
        args = t.server_args(pki, h.free_port()) + list(extra)
        mk = servers.shoal if kind == "shoal" else servers.redis
        srv = mk(extra_args=args, base_args="standalone", start=False)
        srv.spawn()
        rc = srv.wait_exit(10)
        srv.expected_exit = True
        msgs = [ln.split(" # ", 1)[1] for ln in srv.output().splitlines() if " # " in ln]
        out[kind] = (rc, [m for m in msgs if m.startswith(("Failed", "No tls", "Either", "Invalid tls"))])
    return out


def test_key_passphrase_and_startup_errors(servers, pki):
    # the right passphrase
    tp = h.free_port()
    servers.shoal(extra_args=t.server_args(pki, tp, extra=("--tls-key-file", str(pki / "enc.key"),
                                                           "--tls-key-file-pass", "secret")),
                  base_args="standalone")
    assert handshake(tp, pki) == "ok"
    # a wrong one, a missing file, no CA with tls-auth-clients yes: exit 1, the same log lines
    for extra in (("--tls-key-file", str(pki / "enc.key"), "--tls-key-file-pass", "wrong"),
                  ("--tls-cert-file", str(pki / "missing.crt"),),
                  ("--tls-ca-cert-file", "",),
                  ("--tls-protocols", "TLSv9")):
        res = startup_failure(servers, pki, extra)
        assert res["shoal"][0] == 1 == res["redis"][0], (extra, res)
        assert res["shoal"][1] == res["redis"][1], (extra, res)


def negotiated(port, pki, **ctxkw):
    ctx = t.client_context(pki)
    for k, v in ctxkw.items():
        setattr(ctx, k, v)
    with socket.create_connection(("127.0.0.1", port), timeout=5) as raw:
        try:
            with ctx.wrap_socket(raw) as s:
                return s.version(), s.cipher()[0]
        except (ssl.SSLError, OSError):
            return "refused"


def test_protocols_ciphers_dh(servers, pki):
    extra = ("--tls-protocols", "TLSv1.2", "--tls-ciphers", "ECDHE-ECDSA-AES128-GCM-SHA256:DHE-RSA-AES256-GCM-SHA384",
             "--tls-prefer-server-ciphers", "yes", "--tls-dh-params-file", str(pki / "dh.pem"))
    nodes = both(servers, pki, extra=extra)
    res = {k: (negotiated(s.tls_port, pki),
               negotiated(s.tls_port, pki, minimum_version=ssl.TLSVersion.TLSv1_3))
           for k, s in nodes.items()}
    assert res["shoal"] == res["redis"]
    assert res["shoal"] == (("TLSv1.2", "ECDHE-ECDSA-AES128-GCM-SHA256"), "refused")
    for kind, srv in nodes.items():
        with srv.raw() as c:
            assert c.call("CONFIG", "SET", "tls-protocols", "TLSv1.3") == "OK", kind
            assert c.call("CONFIG", "SET", "tls-ciphersuites", "TLS_CHACHA20_POLY1305_SHA256") == "OK", kind
    res = {k: negotiated(s.tls_port, pki) for k, s in nodes.items()}
    assert res["shoal"] == res["redis"] == ("TLSv1.3", "TLS_CHACHA20_POLY1305_SHA256")


def _thread_run_ns(pid):
    """{thread name: run time in ns} from /proc/<pid>/task/*/schedstat."""
    import os
    out = {}
    for tid in os.listdir(f"/proc/{pid}/task"):
        try:
            name = open(f"/proc/{pid}/task/{tid}/comm").read().strip()
            ns = int(open(f"/proc/{pid}/task/{tid}/schedstat").read().split()[0])
        except OSError:
            continue
        out[name] = out.get(name, 0) + ns
    return out


def test_handshakes_spread_over_workers(servers, pki):
    """An idle node packs plain connections on worker 0 (placement.c), but TLS handshakes
    are dealt over every worker: new connections one after the other cost both workers
    CPU (before, worker 0 did every handshake while worker 1 slept)."""
    tp = h.free_port()
    srv = servers.shoal(extra_args=t.server_args(pki, tp, extra=("--worker-threads", "2")),
                        base_args="standalone")
    ctx = t.client_context(pki)
    before = _thread_run_ns(srv.popen.pid)
    for _ in range(150):
        with socket.create_connection(("127.0.0.1", tp), timeout=5) as raw:
            with ctx.wrap_socket(raw) as s:
                assert t.call(s, "PING") == b"+PONG\r\n"
    after = _thread_run_ns(srv.popen.pid)
    used = {w: after[w] - before.get(w, 0) for w in ("worker-0", "worker-1")}
    total = sum(used.values())
    assert min(used.values()) > 0.25 * total, used
    with srv.raw() as c:
        info = c.call("INFO", "threads").decode()
    assert "placement:active_workers=1," in info      # plain packing is unchanged
