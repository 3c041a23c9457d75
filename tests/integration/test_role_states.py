"""ROLE (and INFO's master_link_status) of a standalone replica in every state of its link,
side by side with redis-server 7.0.15, against a scripted master.

What it is for: tools read ROLE to learn where a replica stands: `connect` before the TCP
connection, `handshake` while the PING / REPLCONF / PSYNC exchange waits, `sync` while the
full sync's RDB comes in, `connected` once the stream flows, with the offset only when
connected (-1 before). A small master written here stops in each state on purpose.

What it must never do: stop a process it did not start; leave its listening socket open.
"""
import socket
import threading
import time

import pytest

import helpers as h

SA = "standalone"


def _start(servers, kind):
    if kind == "shoal":
        return servers.shoal(extra_args=["--worker-threads", "2"], base_args=SA)
    return servers.redis(base_args=SA)


class ScriptedMaster:
    """Listens on a free port; answers the replica handshake up to `stop_at`:
    "handshake" (never answers the PING), "sync" (+FULLRESYNC and part of an RDB)."""

    def __init__(self, stop_at):
        self.stop_at = stop_at
        self.port = h.free_port()
        self.lsock = socket.socket()
        self.lsock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        self.lsock.bind(("127.0.0.1", self.port))
        self.lsock.listen(4)
        self.lsock.settimeout(0.2)
        self.done = threading.Event()
        self.conns = []
        self.t = threading.Thread(target=self.run, daemon=True)
        self.t.start()

    def run(self):
        while not self.done.is_set():
            try:
                conn, _ = self.lsock.accept()
            except OSError:
                continue
            self.conns.append(conn)
            threading.Thread(target=self.serve, args=(conn,), daemon=True).start()

    def serve(self, conn):
        conn.settimeout(0.2)
        buf = b""
        while not self.done.is_set():
            try:
                chunk = conn.recv(4096)
            except OSError:
                continue
            if not chunk:
                return
            buf += chunk
            while b"\r\n" in buf:
                cmd, buf = self._one(buf)
                if cmd is None:
                    break
                name = cmd[0].upper()
                if self.stop_at == "handshake":
                    continue              # never answers: the replica waits in its handshake
                if name == b"PING":
                    conn.sendall(b"+PONG\r\n")
                elif name == b"REPLCONF":
                    conn.sendall(b"+OK\r\n")
                elif name == b"PSYNC":
                    conn.sendall(b"+FULLRESYNC " + b"a" * 40 + b" 0\r\n$1000\r\nREDIS0010")

    @staticmethod
    def _one(buf):
        """One RESP array command from buf, or (None, buf) when incomplete."""
        if not buf.startswith(b"*"):
            line, _, rest = buf.partition(b"\r\n")
            return line.split(), rest
        try:
            n_end = buf.index(b"\r\n")
            n = int(buf[1:n_end])
            pos, out = n_end + 2, []
            for _ in range(n):
                l_end = buf.index(b"\r\n", pos)
                ln = int(buf[pos + 1:l_end])
                out.append(buf[l_end + 2:l_end + 2 + ln])
                pos = l_end + 2 + ln + 2
                if pos > len(buf):
                    return None, buf
            return out, buf[pos:]
        except ValueError:
            return None, buf

    def close(self):
        self.done.set()
        self.t.join(2)
        for c in self.conns:
            c.close()
        self.lsock.close()


def _role(srv):
    with srv.raw() as c:
        return c.call("ROLE")


@pytest.mark.parametrize("state", ["connect", "handshake", "sync"])
def test_replica_role_in_each_link_state(servers, state):
    got = {}
    for kind in ("shoal", "redis"):
        srv = _start(servers, kind)
        master = ScriptedMaster(state) if state != "connect" else None
        port = master.port if master else h.free_port()   # nobody listens: "connect"
        try:
            with srv.raw() as c:
                assert c.call("REPLICAOF", "127.0.0.1", str(port)) == "OK"
            want = [b"slave", b"127.0.0.1", port, state.encode(), -1]
            h.wait_until(lambda: _role(srv) == want, 10, what=f"{kind} ROLE {want} (last: {_role(srv)})")
            time.sleep(0.3)
            got[kind] = _role(srv)
            got[kind][2] = "port"              # each server has its own scripted master
            with srv.raw() as c:
                assert h.info_dict(c.call("INFO", "replication").decode())["master_link_status"] == "down"
                c.call("REPLICAOF", "NO", "ONE")
        finally:
            if master:
                master.close()
    assert got["shoal"] == got["redis"]


def test_master_role_lists_online_replicas(servers):
    for kind in ("shoal", "redis"):
        m, r = _start(servers, kind), _start(servers, kind)
        with m.raw() as c:
            role = c.call("ROLE")
            assert role[0] == b"master" and role[2] == []
        with r.raw() as c:
            c.call("REPLICAOF", "127.0.0.1", str(m.port))
        h.wait_until(lambda: len(_role(m)[2]) == 1, 15, what=f"{kind}: one replica in ROLE")
        with m.raw() as c:
            c.call("SET", "k", "v")
            assert c.call("WAIT", "1", "5000") == 1
            role = c.call("ROLE")
        assert role[2][0][:2] == [b"127.0.0.1", str(r.port).encode()]
        h.wait_until(lambda: _role(r)[3] == b"connected" and _role(r)[4] == _role(m)[1], 10,
                     what=f"{kind}: the replica's offset in ROLE")
