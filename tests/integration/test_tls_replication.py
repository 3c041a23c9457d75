"""Replication over TLS (tls-replication yes) with redis-server 7.0.15 on the other
side, both ways: a shoal master with a redis-server replica, a redis-server master
with a shoal replica, and shoal to shoal. Full sync (a payload of several TLS
records) and the command stream after it; a replica whose master's certificate is
not from its CA never syncs.
"""
import pytest

import helpers as h
import tlshelpers as t


@pytest.fixture(scope="module")
def pki(tmp_path_factory):
    return t.make_pki(tmp_path_factory.mktemp("pki"))


def tls_node(servers, kind, pki, extra=()):
    tp = h.free_port()
    args = t.server_args(pki, tp, extra=("--tls-replication", "yes", *extra))
    mk = servers.shoal if kind == "shoal" else servers.redis
    srv = mk(extra_args=args, base_args="standalone")
    srv.tls_port = tp
    return srv


def fill(srv, n, prefix):
    with srv.raw() as c:
        for i in range(0, n, 500):
            args = []
            for j in range(i, min(n, i + 500)):
                args += [f"{prefix}{j}", f"value-{j}-" + "x" * 200]
            assert c.call("MSET", *args) == "OK"


def link_up(srv):
    with srv.raw() as c:
        return b"master_link_status:up" in c.raw("INFO", "replication")


def dbsize(srv):
    with srv.raw() as c:
        return c.call("DBSIZE")


@pytest.mark.parametrize("master_kind,replica_kind", [("shoal", "redis"), ("redis", "shoal"), ("shoal", "shoal")])
def test_replication_over_tls(servers, pki, master_kind, replica_kind):
    master = tls_node(servers, master_kind, pki)
    fill(master, 3000, "before")                      # the full sync carries these
    replica = tls_node(servers, replica_kind, pki)
    with replica.raw() as c:
        assert c.call("REPLICAOF", "127.0.0.1", str(master.tls_port)) == "OK"
    h.wait_until(lambda: link_up(replica), 20, what="master_link_status:up over TLS")
    h.wait_until(lambda: dbsize(replica) == 3000, 20, what="the full sync")
    fill(master, 1000, "after")                       # and the stream these
    with master.raw() as c:
        c.call("SET", "last", "one")
    h.wait_until(lambda: dbsize(replica) == 4001, 20, what="the stream")
    with replica.raw() as c:
        assert c.call("GET", "last") == b"one"
        assert c.call("GET", "after999") == b"value-999-" + b"x" * 200
    with master.raw() as c:
        info = c.raw("INFO", "replication")
        assert b"connected_slaves:1" in info


@pytest.mark.parametrize("replica_kind", ["shoal", "redis"])
def test_replica_refuses_master_from_other_ca(servers, pki, replica_kind):
    # the master's certificate comes from the other CA
    tp = h.free_port()
    master = servers.shoal(extra_args=t.server_args(pki, tp, cert="other",
                                                    extra=("--tls-auth-clients", "no")),
                           base_args="standalone")
    replica = tls_node(servers, replica_kind, pki)
    with replica.raw() as c:
        assert c.call("REPLICAOF", "127.0.0.1", str(tp)) == "OK"
    h.wait_until(lambda: "certificate verify failed" in replica.output(), 10,
                 what="the replica's log names the failed verification")
    assert not link_up(replica)
    with master.raw() as c:
        assert b"connected_slaves:0" in c.raw("INFO", "replication")
