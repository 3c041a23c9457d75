"""TLS session resumption and OpenSSL's memory, side by side with redis-server 7.0.15.

shoal keeps TLS sessions in its server-side cache (stateful tickets) where 7.0.15 sends
OpenSSL's default stateless tickets, to spare the re-parsing of the client's certificate on
every ticket (runtime/tls.c, docs/tls.md). What a client sees must stay 7.0.15's: a ticket
resumes any number of times, after the client dropped the socket without close_notify too,
over TLS 1.3 and TLS 1.2; a certificate reload or tls-session-cache-timeout ends it; and
OpenSSL's memory (sessions, record buffers) is not in used_memory.
"""
import socket
import ssl
import time

import pytest
import redis

import tlshelpers as t
from test_tls_clients import both


@pytest.fixture(scope="module")
def pki(tmp_path_factory):
    return t.make_pki(tmp_path_factory.mktemp("pki"))


def connect(port, ctx, session=None):
    """One connection: handshake (offering `session`), PING, then a close without
    close_notify (as most clients do). Returns (session, reused)."""
    with socket.create_connection(("127.0.0.1", port), timeout=5) as raw:
        with ctx.wrap_socket(raw, session=session) as s:
            assert t.call(s, "PING") == b"+PONG\r\n"       # TLS 1.3 tickets come before it
            return s.session, s.session_reused


def resumption(port, pki, tls12=False):
    """(the first session offered 4 times, each connection offering the previous one's
    session 3 times): which resumed."""
    ctx = t.client_context(pki)
    if tls12:
        ctx.maximum_version = ssl.TLSVersion.TLSv1_2
    first, reused = connect(port, ctx)
    assert not reused
    again = [connect(port, ctx, first)[1] for _ in range(4)]
    chain, s = [], first
    for _ in range(3):
        s, r = connect(port, ctx, s)
        chain.append(r)
    return again, chain


def test_resumption_as_redis(servers, pki):
    nodes = both(servers, pki)
    for tls12 in (False, True):
        res = {k: resumption(srv.tls_port, pki, tls12) for k, srv in nodes.items()}
        assert res["shoal"] == res["redis"] == ([True] * 4, [True] * 3), (tls12, res)
    # a rebuilt context (certificate reload) knows no earlier session
    ctx = t.client_context(pki)
    sessions = {k: connect(srv.tls_port, ctx)[0] for k, srv in nodes.items()}
    for kind, srv in nodes.items():
        with srv.raw() as c:
            assert c.call("CONFIG", "SET", "tls-cert-file", str(pki / "server.crt")) == "OK", kind
    res = {k: [connect(srv.tls_port, ctx, sessions[k])[1], connect(srv.tls_port, ctx, sessions[k])[1]]
           for k, srv in nodes.items()}
    assert res["shoal"] == res["redis"] == [False, False], res


def test_session_timeout_and_caching_off(servers, pki):
    nodes = both(servers, pki, extra=("--tls-session-cache-timeout", "1"))
    ctx = t.client_context(pki)
    sessions = {k: connect(srv.tls_port, ctx)[0] for k, srv in nodes.items()}
    fresh = {k: connect(srv.tls_port, ctx, sessions[k])[1] for k, srv in nodes.items()}
    time.sleep(2.5)
    stale = {k: connect(srv.tls_port, ctx, sessions[k])[1] for k, srv in nodes.items()}
    assert fresh == {"shoal": True, "redis": True}, fresh
    assert stale == {"shoal": False, "redis": False}, stale
    # caching off: 7.0.15 sets no session id context then, so OpenSSL fails a handshake
    # that offers a session (with a client certificate to verify) with an internal error
    for tls12 in (False, True):
        ctx = t.client_context(pki)
        if tls12:
            ctx.maximum_version = ssl.TLSVersion.TLSv1_2
        sessions = {k: connect(srv.tls_port, ctx)[0] for k, srv in nodes.items()}
        for kind, srv in nodes.items():
            with srv.raw() as c:
                assert c.call("CONFIG", "SET", "tls-session-caching", "no") == "OK", kind
        res = {k: offer(srv.tls_port, ctx, sessions[k]) for k, srv in nodes.items()}
        fresh = {k: offer(srv.tls_port, ctx, connect(srv.tls_port, ctx)[0]) for k, srv in nodes.items()}
        assert res["shoal"] == res["redis"], (tls12, res)
        assert fresh["shoal"] == fresh["redis"], (tls12, fresh)
        for kind, srv in nodes.items():
            with srv.raw() as c:
                assert c.call("CONFIG", "SET", "tls-session-caching", "yes") == "OK", kind


def offer(port, ctx, session):
    """'resumed', 'full' or the handshake's failure."""
    try:
        return "resumed" if connect(port, ctx, session)[1] else "full"
    except ssl.SSLError as e:
        return f"refused: {e.reason}"
    except OSError as e:
        return f"closed: {e}"


def test_openssl_memory_not_in_used_memory(servers, pki):
    """redis-server's used_memory counts what zmalloc allocates: OpenSSL's sessions and
    record buffers (some 50 KB per TLS connection) are not in it. shoal counted every
    malloc of the process, OpenSSL's too; now OpenSSL allocates beside the counting."""
    nodes = both(servers, pki)
    for kind, srv in nodes.items():
        r = redis.Redis(host="127.0.0.1", port=srv.port)

        def per_conn(tls, n=60):
            u0 = r.info("memory")["used_memory"]
            socks = []
            try:
                for _ in range(n):
                    raw = socket.create_connection(("127.0.0.1", srv.tls_port if tls else srv.port), timeout=5)
                    s = t.client_context(pki).wrap_socket(raw) if tls else raw
                    socks.append(s)
                    assert t.call(s, "PING") == b"+PONG\r\n"
                time.sleep(0.3)
                return (r.info("memory")["used_memory"] - u0) / n
            finally:
                for s in socks:
                    s.close()
                time.sleep(0.3)

        plain, tls = per_conn(False), per_conn(True)
        # OpenSSL's part alone is over 50 KB; the clients' own buffers vary by some KB
        # between runs (redis-server's query buffers do)
        assert tls - plain < 20000, (kind, plain, tls)
        r.close()


def after_close_notify(port, pki):
    """A memory-BIO client: handshake, PING, then our close_notify; returns the reply and
    how many bytes the server sent after our close_notify before closing."""
    obj_in, obj_out = ssl.MemoryBIO(), ssl.MemoryBIO()
    obj = t.client_context(pki).wrap_bio(obj_in, obj_out)
    with socket.create_connection(("127.0.0.1", port), timeout=5) as raw:
        def send():
            data = obj_out.read()
            if data:
                raw.sendall(data)

        def receive():
            chunk = raw.recv(65536)
            if chunk:
                obj_in.write(chunk)
            else:
                obj_in.write_eof()

        while True:
            try:
                obj.do_handshake()
                break
            except ssl.SSLWantReadError:
                send()
                receive()
        obj.write(b"*1\r\n$4\r\nPING\r\n")
        send()
        reply = b""
        while not reply.endswith(b"\r\n"):
            try:
                reply += obj.read(64)
            except ssl.SSLWantReadError:
                receive()
        try:
            obj.unwrap()
        except ssl.SSLWantReadError:
            pass
        send()
        tail = 0
        while True:
            chunk = raw.recv(65536)
            if not chunk:
                return reply, tail
            tail += len(chunk)


def test_no_close_notify_after_the_peer_closed(servers, pki):
    """7.0.15 closes a connection whose peer sent close_notify without answering it; shoal
    answered (a write per connection, to a peer that has usually gone)."""
    nodes = both(servers, pki)
    res = {k: after_close_notify(srv.tls_port, pki) for k, srv in nodes.items()}
    assert res["shoal"] == res["redis"] == (b"+PONG\r\n", 0), res
