"""The socket that PSYNC hands from a worker to the replication thread.

What it is for: a client's connection becomes a replica link when it sends PSYNC; the
worker stops watching it and the replication thread owns and later closes it. libev's
epoll backend leaves a stopped fd in the kernel poll set until the next event for it,
and then removes it by number from the worker's thread. Once the replication thread has
closed the socket, that number can name a new connection, so the worker raced the close
(ThreadSanitizer saw it in test_repl.py) and could drop the new connection's
registration. The worker must take the fd out of its own poll set before the handover.

Checked through /proc: once PSYNC is answered, the node's socket for that connection is
in exactly one epoll set (the replication thread's), while the replica stays silent (a
registration left behind is removed only by an event, so silence keeps it visible). Then
many handovers with replica traffic and fd reuse by new clients, which under
`make test-tsan` must leave no ThreadSanitizer report (the conftest fails on one), and
with every client served. redis-server has one thread and no handover; not compared.

What it must never do: read /proc entries of a process it did not start, or wait without
a deadline.
"""
import os
import time

import helpers as h


def _server_socket_inode(pid, node_port, client_port):
    """The inode of the node's socket whose peer is 127.0.0.1:client_port."""
    want_local = f"{node_port:04X}"
    want_remote = f"{client_port:04X}"
    for table in ("/proc/%d/net/tcp" % pid, "/proc/%d/net/tcp6" % pid):
        try:
            lines = open(table).read().splitlines()[1:]
        except FileNotFoundError:
            continue
        for line in lines:
            f = line.split()
            local, remote, inode = f[1], f[2], int(f[9])
            if local.endswith(":" + want_local) and remote.endswith(":" + want_remote) and inode:
                return inode
    return None


def _epoll_sets_holding(pid, inode):
    """How many of the node's epoll fds hold a registration of the socket `inode`."""
    n = 0
    fd_dir = f"/proc/{pid}/fd"
    for name in os.listdir(fd_dir):
        try:
            if os.readlink(f"{fd_dir}/{name}") != "anon_inode:[eventpoll]":
                continue
            info = open(f"/proc/{pid}/fdinfo/{name}").read()
        except OSError:
            continue
        for line in info.splitlines():
            if line.startswith("tfd:") and "ino:" in line:
                if int(line.split("ino:")[1].split()[0], 16) == inode:
                    n += 1
                    break
    return n


def _psync(port):
    c = h.RawConn(port)
    assert c.call("REPLCONF", "listening-port", "1") == "OK"
    c.send(h.encode("PSYNC", "?", "-1"))
    line, _ = c._line(0)
    assert line.startswith(b"+FULLRESYNC"), line
    return c


def test_worker_forgets_the_handed_over_socket(servers):
    srv = servers.shoal(extra_args=["--worker-threads", "2"])
    h.own_all_slots(srv)
    c = _psync(srv.port)
    try:
        inode = _server_socket_inode(srv.pid, srv.port, c.sock.getsockname()[1])
        assert inode, "the node's end of the replica connection was not found in /proc"
        # The replication thread registers the socket; give it a moment, then the count
        # must settle at one (the worker's registration would keep it at two).
        h.wait_until(lambda: _epoll_sets_holding(srv.pid, inode) >= 1, 5,
                     what="the replication thread watching the replica socket")
        time.sleep(0.3)
        assert _epoll_sets_holding(srv.pid, inode) == 1
    finally:
        c.close()


def test_handovers_with_fd_reuse(servers):
    srv = servers.shoal(extra_args=["--worker-threads", "2"])
    h.own_all_slots(srv)
    for _ in range(15):
        c = _psync(srv.port)
        # Replica traffic after the handover: an event for the socket in every poll set
        # that still holds it.
        c.send(h.encode("REPLCONF", "ACK", "0"))
        time.sleep(0.03)
        others = [h.RawConn(srv.port) for _ in range(3)]
        c.close()               # the replication thread closes its end; numbers get reused
        time.sleep(0.03)
        others += [h.RawConn(srv.port) for _ in range(3)]
        for o in others:
            assert o.call("PING") == "PONG"
            o.close()
    assert srv.alive()
