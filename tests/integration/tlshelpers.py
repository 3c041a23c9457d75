"""Throwaway certificates for the TLS tests, made with the openssl CLI in the
test's own directory, and the arguments that turn TLS on in shoal-node and
redis-server alike.

make_pki(dir) writes:
  ca.crt/ca.key             the CA every node and client trusts
  server.crt/server.key     a node certificate (CN=Server, SAN 127.0.0.1/localhost)
  client.crt/client.key     a client certificate from the same CA
  enc.key                   server.key encrypted with the passphrase "secret"
  other-ca.crt, other.crt/other.key   a second CA and a certificate it signed ("wrong CA")
  expired.crt/expired.key   a certificate from ca.crt whose validity ended in the past
  dh.pem                    DH parameters (ffdhe2048, no generation needed)
"""
import socket
import ssl
import subprocess
from pathlib import Path

OPENSSL = "openssl"

# RFC 7919 ffdhe2048: fixed DH parameters, so no test waits for dhparam generation.
FFDHE2048 = """-----BEGIN DH PARAMETERS-----
MIIBCAKCAQEA//////////+t+FRYortKmq/cViAnPTzx2LnFg84tNpWp4TZBFGQz
+8yTnc4kmz75fS/jY2MMddj2gbICrsRhetPfHtXV/WVhJDP1H18GbtCFY2VVPe0a
87VXE15/V8k1mE8McODmi3fipona8+/och3xWKE2rec1MKzKT0g6eXq8CrGCsyT7
YdEIqUuyyOP7uWrat2DX9GgdT0Kj3jlN9K5W7edjcrsZCwenyO4KbXCeAvzhzffi
7MA0BM0oNC9hkXL+nOmFg/+OTxIy7vKBg8P+OxtMb61zO7X8vC7CIAXFjvGDfRaD
ssbzSibBsu/6iGtCOGEoXJf//////////wIBAg==
-----END DH PARAMETERS-----
"""


def _run(*args, cwd):
    subprocess.run([OPENSSL, *args], cwd=str(cwd), check=True, capture_output=True, timeout=60)


def _key(name, cwd):
    _run("genpkey", "-algorithm", "EC", "-pkeyopt", "ec_paramgen_curve:P-256", "-out", name, cwd=cwd)


def _ca(prefix, cn, cwd):
    _key(f"{prefix}.key", cwd)
    _run("req", "-x509", "-new", "-key", f"{prefix}.key", "-sha256", "-days", "30",
         "-subj", f"/O=shoal-test/CN={cn}", "-out", f"{prefix}.crt", cwd=cwd)


def _signed(name, ca, cn, cwd, extra=()):
    _key(f"{name}.key", cwd)
    (Path(cwd) / f"{name}.ext").write_text(
        "basicConstraints=CA:FALSE\nsubjectAltName=IP:127.0.0.1,DNS:localhost\n"
        "keyUsage=digitalSignature,keyEncipherment\nextendedKeyUsage=serverAuth,clientAuth\n")
    _run("req", "-new", "-key", f"{name}.key", "-subj", f"/O=shoal-test/CN={cn}",
         "-out", f"{name}.csr", cwd=cwd)
    _run("x509", "-req", "-in", f"{name}.csr", "-CA", f"{ca}.crt", "-CAkey", f"{ca}.key",
         "-CAcreateserial", "-sha256", "-extfile", f"{name}.ext", "-out", f"{name}.crt",
         *extra, cwd=cwd)


def make_pki(directory, expired=False):
    d = Path(directory)
    d.mkdir(parents=True, exist_ok=True)
    _ca("ca", "Certificate Authority", d)
    _signed("server", "ca", "Server", d, extra=("-days", "30"))
    _signed("client", "ca", "Client", d, extra=("-days", "30"))
    _run("pkey", "-in", "server.key", "-aes256", "-passout", "pass:secret", "-out", "enc.key", cwd=d)
    _ca("other-ca", "Other Authority", d)
    _signed("other", "other-ca", "Other", d, extra=("-days", "30"))
    if expired:
        # `openssl ca` takes explicit start and end dates, both in the past.
        (d / "index.txt").write_text("")
        (d / "ca.cnf").write_text(
            "[ca]\ndefault_ca=tca\n[tca]\ndir=.\ndatabase=index.txt\nnew_certs_dir=.\n"
            "serial=ca.srl\ndefault_md=sha256\npolicy=pol\nunique_subject=no\ncopy_extensions=copy\n"
            "[pol]\ncommonName=supplied\norganizationName=optional\n")
        _key("expired.key", d)
        _run("req", "-new", "-key", "expired.key", "-subj", "/O=shoal-test/CN=Expired",
             "-addext", "subjectAltName=IP:127.0.0.1", "-out", "expired.csr", cwd=d)
        _run("ca", "-batch", "-config", "ca.cnf", "-cert", "ca.crt", "-keyfile", "ca.key",
             "-startdate", "20200101000000Z", "-enddate", "20200102000000Z",
             "-in", "expired.csr", "-out", "expired.crt", "-notext", cwd=d)
    (d / "dh.pem").write_text(FFDHE2048)
    return d


def server_args(pki, tls_port, cert="server", extra=()):
    """Command-line arguments for TLS on tls_port (both kinds of server)."""
    pki = Path(pki)
    return ["--tls-port", str(tls_port),
            "--tls-cert-file", str(pki / f"{cert}.crt"), "--tls-key-file", str(pki / f"{cert}.key"),
            "--tls-ca-cert-file", str(pki / "ca.crt"), *extra]


def client_context(pki, cert="client", ca="ca"):
    ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_CLIENT)
    ctx.check_hostname = False
    ctx.load_verify_locations(str(Path(pki) / f"{ca}.crt"))
    if cert:
        ctx.load_cert_chain(str(Path(pki) / f"{cert}.crt"), str(Path(pki) / f"{cert}.key"))
    return ctx


def tls_socket(port, pki, cert="client", ca="ca", timeout=5.0):
    """A connected, handshaken TLS socket to 127.0.0.1:port."""
    raw = socket.create_connection(("127.0.0.1", port), timeout=timeout)
    try:
        return client_context(pki, cert, ca).wrap_socket(raw)
    except Exception:
        raw.close()
        raise


def call(sock, *args):
    """Sends one command, returns the raw reply bytes (one read loop until CRLF-complete
    for simple replies)."""
    out = b"*%d\r\n" % len(args)
    for a in args:
        a = a if isinstance(a, bytes) else str(a).encode()
        out += b"$%d\r\n%s\r\n" % (len(a), a)
    sock.sendall(out)
    buf = b""
    while not buf.endswith(b"\r\n"):
        chunk = sock.recv(65536)
        if not chunk:
            break
        buf += chunk
    return buf


def cli_args(pki, cert="client"):
    pki = Path(pki)
    a = ["--tls", "--cacert", str(pki / "ca.crt")]
    if cert:
        a += ["--cert", str(pki / f"{cert}.crt"), "--key", str(pki / f"{cert}.key")]
    return a
