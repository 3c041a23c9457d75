"""CONFIG SET tls-port, port and bind re-listen at runtime, and CONFIG SET of the
certificate files reloads the contexts of every channel (clients, replication, the
cluster bus), side by side with redis-server 7.0.15.
"""
import socket
import time

import pytest

import helpers as h
import tlshelpers as t
from test_tls_clients import both, handshake
from test_tls_config import peer_cn
from test_tls_replication import link_up, tls_node


@pytest.fixture(scope="module")
def pki(tmp_path_factory):
    return t.make_pki(tmp_path_factory.mktemp("pki"))


def plain(port):
    """'ok' if a plain-text PING is answered on port, else 'refused'."""
    try:
        with socket.create_connection(("127.0.0.1", port), timeout=5) as s:
            s.sendall(b"PING\r\n")
            return "ok" if s.recv(64) == b"+PONG\r\n" else "no reply"
    except OSError:
        return "refused"


def tls_cmd(port, pki, *args):
    with t.tls_socket(port, pki) as s:
        return t.call(s, *args)


def test_config_set_tls_port_and_port(servers, pki):
    res = {}
    for kind, srv in both(servers, pki).items():
        p1, p2, p3 = srv.tls_port, h.free_port(), h.free_port()
        busy = socket.socket()
        busy.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        busy.bind(("127.0.0.1", h.free_port()))
        busy.listen(1)
        out = []
        with srv.raw() as c:
            out.append(c.call("CONFIG", "SET", "tls-port", str(p2)))
            out.append(handshake(p2, pki))
            out.append(handshake(p1, pki))
            # a port that cannot be bound: the error, still listening where it was
            out.append(c.call("CONFIG", "SET", "tls-port", str(busy.getsockname()[1])))
            out.append(int(c.call("CONFIG", "GET", "tls-port")[1]) == p2)
            out.append(handshake(p2, pki))
        # port 0: TLS only; then plain text back, from a TLS client
        out.append(tls_cmd(p2, pki, "CONFIG", "SET", "port", "0"))
        out.append(plain(srv.port))
        out.append(handshake(p2, pki))
        out.append(tls_cmd(p2, pki, "CONFIG", "SET", "port", str(srv.port)))
        out.append(plain(srv.port))
        with srv.raw() as c:
            out.append(c.call("CONFIG", "SET", "tls-port", "0"))
            out.append(handshake(p2, pki))
            out.append(c.call("CONFIG", "SET", "tls-port", str(p3)))
            out.append(handshake(p3, pki))
            # bind moves the TLS listener with the plain one
            out.append(c.call("CONFIG", "SET", "bind", "127.0.0.1"))
        out.append(handshake(p3, pki))
        out.append(plain(srv.port))
        busy.close()
        res[kind] = out
    assert res["shoal"] == res["redis"]
    o = res["shoal"]
    assert o[:3] == ["OK", "ok", "refused"], o
    assert isinstance(o[3], h.Error) and "Unable to listen on this port" in o[3], o
    assert o[4:7] == [True, "ok", b"+OK\r\n"] and o[7:9] == ["refused", "ok"], o
    assert o[10:] == ["ok", "OK", "refused", "OK", "ok", "OK", "ok", "ok"], o


def test_tls_port_turned_on_at_runtime(servers, pki):
    """No TLS at start: tls-port without certificates fails as 7.0.15; with them it
    builds the contexts and listens."""
    res = {}
    for kind in ("shoal", "redis"):
        srv = servers.shoal(base_args="standalone") if kind == "shoal" else servers.redis(base_args="standalone")
        tp = h.free_port()
        with srv.raw() as c:
            out = [c.call("CONFIG", "SET", "tls-port", str(tp)),
                   c.call("CONFIG", "GET", "tls-port"),
                   handshake(tp, pki),
                   c.call("CONFIG", "SET", "tls-cert-file", str(pki / "server.crt"),
                          "tls-key-file", str(pki / "server.key"), "tls-ca-cert-file", str(pki / "ca.crt")),
                   c.call("CONFIG", "SET", "tls-port", str(tp)),
                   handshake(tp, pki)]
        res[kind] = out
    assert res["shoal"] == res["redis"]
    o = res["shoal"]
    assert isinstance(o[0], h.Error) and "Unable to update TLS configuration" in o[0] and "'tls-port'" in o[0]
    assert o[1] == [b"tls-port", b"0"] and o[2] == "refused" and o[3:] == ["OK", "OK", "ok"], o


@pytest.mark.parametrize("kind", ["shoal", "redis"])
def test_reload_reaches_replication(servers, pki, kind):
    """A replica's client certificate changed by CONFIG SET is the one its next link
    presents: one from another CA is refused by the master, the right one syncs again."""
    master = tls_node(servers, kind, pki)
    replica = tls_node(servers, kind, pki, extra=("--tls-client-cert-file", str(pki / "client.crt"),
                                                  "--tls-client-key-file", str(pki / "client.key")))
    with master.raw() as c:
        c.call("SET", "k", "1")
    with replica.raw() as c:
        assert c.call("REPLICAOF", "127.0.0.1", str(master.tls_port)) == "OK"
    h.wait_until(lambda: link_up(replica), 20, what="master_link_status:up over TLS")
    with replica.raw() as c:
        assert c.call("CONFIG", "SET", "tls-client-cert-file", str(pki / "other.crt"),
                      "tls-client-key-file", str(pki / "other.key")) == "OK"
    with master.raw() as c:
        assert c.call("CLIENT", "KILL", "TYPE", "replica") == 1
    h.wait_until(lambda: not link_up(replica), 10, what="the link down")
    with master.raw() as c:
        c.call("SET", "k", "2")
    time.sleep(2)                 # reconnection attempts, each refused
    assert not link_up(replica)
    with replica.raw() as c:
        assert c.call("GET", "k") == b"1"
        assert c.call("CONFIG", "SET", "tls-client-cert-file", str(pki / "client.crt"),
                      "tls-client-key-file", str(pki / "client.key")) == "OK"
    h.wait_until(lambda: link_up(replica), 20, what="the link up again with the right certificate")
    with replica.raw() as c:
        h.wait_until(lambda: c.call("GET", "k") == b"2", 10, what="the write made meanwhile")


def bus_node(servers, kind, pki, cert="server"):
    tp = h.free_port()
    mk = servers.shoal if kind == "shoal" else servers.redis
    srv = mk(extra_args=["--tls-port", str(tp), "--tls-cluster", "yes", "--tls-replication", "yes",
                         "--tls-cert-file", str(pki / f"{cert}.crt"), "--tls-key-file", str(pki / f"{cert}.key"),
                         "--tls-ca-cert-file", str(pki / "ca.crt"), "--enable-debug-command", "yes"])
    srv.tls_port = tp
    return srv


def link_of(srv, node_id):
    with srv.raw() as c:
        return next(r["link"] for r in h.parse_nodes(c.call("CLUSTER", "NODES")) if r["id"] == node_id)


def pong_of(srv, node_id):
    with srv.raw() as c:
        return next(r["pong_recv"] for r in h.parse_nodes(c.call("CLUSTER", "NODES")) if r["id"] == node_id)


def test_reload_reaches_the_bus(servers, pki):
    """The bus listener presents the certificate set by CONFIG SET to new links; a node
    whose certificate became one from another CA cannot link to its peer again (either
    way) once its links are killed, and links again with the right one."""
    res = {}
    for kind in ("shoal", "redis"):
        a, b = bus_node(servers, kind, pki), bus_node(servers, kind, pki)
        ids = {}
        for n in (a, b):
            with n.raw() as c:
                ids[n] = c.call("CLUSTER", "MYID").decode()
        with a.raw() as c:
            c.call("CLUSTER", "MEET", "127.0.0.1", str(b.tls_port))
        h.wait_until(lambda: link_of(a, ids[b]) == "connected" and link_of(b, ids[a]) == "connected", 20,
                     what=f"{kind}: the nodes meet")
        bus = a.tls_port + 10000
        out = [peer_cn(bus, pki)]
        with a.raw() as c:
            out.append(c.call("CONFIG", "SET", "tls-cert-file", str(pki / "client.crt"),
                              "tls-key-file", str(pki / "client.key")))
        out.append(peer_cn(bus, pki))
        with a.raw() as c:
            out.append(c.call("CONFIG", "SET", "tls-cert-file", str(pki / "other.crt"),
                              "tls-key-file", str(pki / "other.key")))
            out.append(c.call("DEBUG", "CLUSTERLINK", "KILL", "TO", ids[b]))
        with b.raw() as c:
            out.append(c.call("DEBUG", "CLUSTERLINK", "KILL", "TO", ids[a]))
        # Reconnections, each refused: no PONG gets through either way. (The link state is
        # no proof: redis-server shows "connected" while an attempt's handshake is under way.)
        time.sleep(1)
        before = (pong_of(a, ids[b]), pong_of(b, ids[a]))
        time.sleep(2.5)
        out.append("no pong" if (pong_of(a, ids[b]), pong_of(b, ids[a])) == before else "pong")
        with a.raw() as c:
            out.append(c.call("CONFIG", "SET", "tls-cert-file", str(pki / "server.crt"),
                              "tls-key-file", str(pki / "server.key")))
        h.wait_until(lambda: link_of(a, ids[b]) == "connected" and link_of(b, ids[a]) == "connected", 20,
                     what=f"{kind}: the links back with the right certificate")
        res[kind] = out
    assert res["shoal"] == res["redis"]
    assert res["shoal"] == ["Server", "OK", "Client", "OK", "OK", "OK", "no pong", "OK"], \
        res["shoal"]
