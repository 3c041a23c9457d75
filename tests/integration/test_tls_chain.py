"""The certificate chain a TLS server sends, side by side with redis-server 7.0.15.

With a certificate file that holds only its own certificate, OpenSSL builds the chain to
send from the CA store on every handshake (and checks it, signature included); shoal builds
it once when the contexts are made (runtime/tls.c, prebuild_chain), which must send what
7.0.15 sends in every case: the issuers found in the CA file (the root included), the
file's own chain when it has one, our certificate alone when the CA file has no issuer of
it, and the new chain after a CONFIG SET reload. This test guards that behaviour; the CPU
it saves is shown by the bench (tls_handshakes), not here.
"""
import subprocess

import pytest

import tlshelpers as t
from test_tls_clients import both


def _openssl(*args, cwd):
    subprocess.run(["openssl", *args], cwd=str(cwd), check=True, capture_output=True, timeout=60)


@pytest.fixture(scope="module")
def pki(tmp_path_factory):
    d = t.make_pki(tmp_path_factory.mktemp("pki"))
    # an intermediate CA under ca.crt, a leaf under it, and the bundles that use them
    (d / "int.ext").write_text("basicConstraints=critical,CA:TRUE\nkeyUsage=critical,keyCertSign,cRLSign\n")
    _openssl("genpkey", "-algorithm", "EC", "-pkeyopt", "ec_paramgen_curve:P-256", "-out", "int.key", cwd=d)
    _openssl("req", "-new", "-key", "int.key", "-subj", "/O=shoal-test/CN=Intermediate", "-out", "int.csr", cwd=d)
    _openssl("x509", "-req", "-in", "int.csr", "-CA", "ca.crt", "-CAkey", "ca.key", "-CAcreateserial",
             "-sha256", "-days", "30", "-extfile", "int.ext", "-out", "int.crt", cwd=d)
    _openssl("genpkey", "-algorithm", "EC", "-pkeyopt", "ec_paramgen_curve:P-256", "-out", "leaf.key", cwd=d)
    _openssl("req", "-new", "-key", "leaf.key", "-subj", "/O=shoal-test/CN=Leaf", "-out", "leaf.csr", cwd=d)
    _openssl("x509", "-req", "-in", "leaf.csr", "-CA", "int.crt", "-CAkey", "int.key", "-CAcreateserial",
             "-sha256", "-days", "30", "-extfile", "server.ext", "-out", "leaf.crt", cwd=d)
    (d / "leaf-chain.crt").write_text((d / "leaf.crt").read_text() + (d / "int.crt").read_text())
    (d / "bundle.crt").write_text((d / "ca.crt").read_text() + (d / "int.crt").read_text())
    return d


def sent_chain(port, pki):
    """The subjects of the certificates the server sent, in order."""
    out = subprocess.run(["openssl", "s_client", "-connect", f"127.0.0.1:{port}", "-showcerts",
                          "-cert", str(pki / "client.crt"), "-key", str(pki / "client.key")],
                         input="", capture_output=True, text=True, timeout=20).stdout
    return [line.split("CN = ", 1)[1].strip() for line in out.splitlines()
            if line.startswith(" ") and " s:" in line and "CN = " in line]


def chains(nodes, pki):
    return {k: sent_chain(srv.tls_port, pki) for k, srv in nodes.items()}


def test_leaf_only_file_sends_the_issuers_as_redis(servers, pki):
    res = chains(both(servers, pki), pki)
    assert res["shoal"] == res["redis"] == ["Server", "Certificate Authority"], res


def test_intermediate_from_the_ca_bundle_as_redis(servers, pki):
    nodes = both(servers, pki, extra=("--tls-cert-file", str(pki / "leaf.crt"), "--tls-key-file",
                                      str(pki / "leaf.key"), "--tls-ca-cert-file", str(pki / "bundle.crt")))
    res = chains(nodes, pki)
    assert res["shoal"] == res["redis"] == ["Leaf", "Intermediate", "Certificate Authority"], res


def test_file_chain_sent_as_it_is_as_redis(servers, pki):
    nodes = both(servers, pki, extra=("--tls-cert-file", str(pki / "leaf-chain.crt"), "--tls-key-file",
                                      str(pki / "leaf.key")))
    res = chains(nodes, pki)
    assert res["shoal"] == res["redis"] == ["Leaf", "Intermediate"], res


def test_no_issuer_in_the_ca_file_sends_the_certificate_alone_as_redis(servers, pki):
    nodes = both(servers, pki, extra=("--tls-ca-cert-file", str(pki / "other-ca.crt"),
                                      "--tls-auth-clients", "no"))
    res = chains(nodes, pki)
    assert res["shoal"] == res["redis"] == ["Server"], res


def test_reload_sends_the_new_chain_as_redis(servers, pki):
    nodes = both(servers, pki)
    for kind, srv in nodes.items():
        with srv.raw() as c:
            assert c.call("CONFIG", "SET", "tls-cert-file", str(pki / "leaf.crt"), "tls-key-file",
                          str(pki / "leaf.key"), "tls-ca-cert-file", str(pki / "bundle.crt")) == "OK", kind
    res = chains(nodes, pki)
    assert res["shoal"] == res["redis"] == ["Leaf", "Intermediate", "Certificate Authority"], res
