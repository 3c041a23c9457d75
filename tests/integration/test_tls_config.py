"""CONFIG SET of the tls-* directives, side by side with redis-server 7.0.15: a new
certificate is used by new connections while connected clients keep theirs; files
that do not load fail the command with 7.0.15's error and change nothing; a new
CA and tls-auth-clients apply to the next handshake.
"""
import ssl

import pytest

import helpers as h
import tlshelpers as t
from test_tls_clients import both, handshake


@pytest.fixture(scope="module")
def pki(tmp_path_factory):
    return t.make_pki(tmp_path_factory.mktemp("pki"))


def peer_cn(port, pki):
    with t.tls_socket(port, pki) as s:
        subject = dict(x[0] for x in s.getpeercert()["subject"])
        return subject["commonName"]


def test_reload_certificates_while_connected(servers, pki):
    nodes = both(servers, pki)
    res = {}
    for kind, srv in nodes.items():
        out = []
        kept = t.tls_socket(srv.tls_port, pki)
        assert t.call(kept, "SET", "k", "1") == b"+OK\r\n"
        out.append(peer_cn(srv.tls_port, pki))
        with srv.raw() as c:
            out.append(c.call("CONFIG", "SET", "tls-cert-file", str(pki / "client.crt"),
                              "tls-key-file", str(pki / "client.key")))
        out.append(peer_cn(srv.tls_port, pki))               # new connections: the new certificate
        out.append(t.call(kept, "GET", "k"))                  # the old one goes on
        with srv.raw() as c:
            # files that do not load: an error, nothing changes
            out.append(c.call("CONFIG", "SET", "tls-cert-file", str(pki / "missing.crt")))
            out.append(c.call("CONFIG", "SET", "tls-key-file", str(pki / "server.key")))   # does not match
            out.append(c.call("CONFIG", "SET", "tls-protocols", "TLSv9"))
            out.append(c.call("CONFIG", "GET", "tls-cert-file")[1].rsplit(b"/", 1)[-1])
            out.append(c.call("CONFIG", "GET", "tls-protocols"))
        out.append(peer_cn(srv.tls_port, pki))
        out.append(t.call(kept, "GET", "k"))
        kept.close()
        # a new CA: our client's certificate no longer passes, the other CA's does
        with srv.raw() as c:
            out.append(c.call("CONFIG", "SET", "tls-ca-cert-file", str(pki / "other-ca.crt")))
        out.append(handshake(srv.tls_port, pki, cert="client", ca="ca"))
        with srv.raw() as c:
            out.append(c.call("CONFIG", "SET", "tls-ca-cert-file", str(pki / "ca.crt"),
                              "tls-auth-clients", "no"))
        out.append(handshake(srv.tls_port, pki, cert=None))
        with srv.raw() as c:
            out.append(c.call("CONFIG", "SET", "tls-auth-clients", "yes"))
        out.append(handshake(srv.tls_port, pki, cert=None))
        out.append(handshake(srv.tls_port, pki, cert="client"))
        res[kind] = out
    assert res["shoal"] == res["redis"]
    o = res["shoal"]
    assert o[0] == "Server" and o[2] == "Client" and o[3] == b"$1\r\n1\r\n"
    assert isinstance(o[4], h.Error) and "Unable to update TLS configuration" in o[4]
    assert o[9] == "Client"
    assert o[12] == "refused" and o[14] == "ok" and o[16] == "refused" and o[17] == "ok"


def test_tls_directives_before_tls_is_used(servers, pki):
    """Without tls-port/tls-cluster/tls-replication the files are only stored; setting
    tls-port's companions then enabling fails or succeeds as in 7.0.15."""
    res = {}
    for kind in ("shoal", "redis"):
        srv = servers.shoal(base_args="standalone") if kind == "shoal" else servers.redis(base_args="standalone")
        with srv.raw() as c:
            res[kind] = [c.call("CONFIG", "SET", "tls-cert-file", str(pki / "missing.crt")),
                         c.call("CONFIG", "GET", "tls-cert-file")[1].rsplit(b"/", 1)[-1],
                         c.call("CONFIG", "SET", "tls-replication", "yes"),
                         c.call("CONFIG", "SET", "tls-cert-file", str(pki / "server.crt"),
                                "tls-key-file", str(pki / "server.key"),
                                "tls-ca-cert-file", str(pki / "ca.crt")),
                         c.call("CONFIG", "SET", "tls-replication", "yes"),
                         c.call("CONFIG", "SET", "tls-ca-cert-file", ""),
                         c.call("CONFIG", "GET", "tls-replication")]
    assert res["shoal"] == res["redis"]
