"""How a TLS bus link (tls-cluster yes) moves bytes: a link takes several TLS records
per read(2) when the socket holds them (OpenSSL's read-ahead buffer, by default the
size of one record, is enlarged for bus links), and the PONGs of one read round leave
as several records in one write(2) (a write buffer in front of the socket, where
OpenSSL writes each record with its own write(2)), so a gossip flood costs fewer
syscalls per PING. Seen with strace on the node: PINGs queued while the node is
stopped are read, and their PONGs written, in syscalls larger than one record.
"""
import os
import signal
import socket
import ssl
import subprocess
import time

import pytest

import bushelpers as bh
import helpers as h
import tlshelpers as t

ONE_RECORD_READ = 16 * 1024 + 5 + 256 + 64   # a full record with its header and AEAD overhead, rounded up
PINGS = 40                                   # about 90 KB: fits the socket buffers while the node is stopped
SMALL_RECORDS = 20                           # a PING per record: all in one read(2), more than a round's 16 reads


@pytest.fixture(scope="module")
def pki(tmp_path_factory):
    return t.make_pki(tmp_path_factory.mktemp("pki"))


def tls_bus_conn(port, pki):
    c = bh.BusConn(port, timeout=10.0)
    c.sock = t.client_context(pki).wrap_socket(c.sock)
    return c


def wait_traced(pid, timeout=10.0):
    """Until strace is attached to every thread of pid."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        tracers = []
        for tid in os.listdir(f"/proc/{pid}/task"):
            with open(f"/proc/{pid}/task/{tid}/status") as f:
                tracers += [line.split()[1] for line in f if line.startswith("TracerPid:")]
        if tracers and all(tp != "0" for tp in tracers):
            return
        time.sleep(0.05)
    raise TimeoutError("strace did not attach")


def syscall_sizes(trace_path, name):
    """Return values of every `name` syscall (read, write) strace logged."""
    sizes = []
    with open(trace_path) as f:
        for line in f:
            if f"{name}(" in line and "= " in line:
                tail = line.rsplit("= ", 1)[1].split()[0]
                if tail.lstrip("-").isdigit():
                    sizes.append(int(tail))
    return sizes


def traced_burst(servers, pki, tmp_path):
    """PINGS PINGs queued on a TLS bus link while the node is stopped, then answered
    under strace: the trace file."""
    tp = h.free_port()
    srv = servers.shoal(extra_args=t.server_args(pki, tp, extra=["--tls-cluster", "yes"]))
    trace = tmp_path / "trace"
    with tls_bus_conn(tp + 10000, pki) as c:
        c.send(bh.ping())
        bh.expect_pong(c)                  # handshake done, the link is the node's
        st = subprocess.Popen(["strace", "-f", "-qq", "-e", "trace=read,write", "-e", "signal=none",
                               "-o", str(trace), "-p", str(srv.pid)],
                              stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        wait_traced(srv.pid)
        time.sleep(0.5)                    # strace traces syscalls a moment after it shows as the tracer
        os.kill(srv.pid, signal.SIGSTOP)
        try:
            c.send(bh.ping() * PINGS)      # TLS records of 16 KB, all queued in the node's socket
            time.sleep(0.2)
        finally:
            os.kill(srv.pid, signal.SIGCONT)
        try:
            for _ in range(PINGS):
                bh.expect_pong(c, timeout=10.0)
        finally:
            st.send_signal(signal.SIGINT)
            st.wait(timeout=10)
    return trace


def fd_calls(trace_path):
    """(syscall, fd, result) of every read/write strace logged, in order."""
    calls = []
    with open(trace_path) as f:
        for line in f:
            for name in ("read", "write"):
                at = line.find(f"{name}(")
                if at >= 0 and "= " in line:
                    fd = line[at + len(name) + 1:].split(",", 1)[0]
                    tail = line.rsplit("= ", 1)[1].split()[0]
                    if fd.isdigit() and tail.lstrip("-").isdigit():
                        calls.append((name, int(fd), int(tail)))
                    break
    return calls


def test_tls_bus_link_writes_its_pongs_before_the_next_link_reads(servers, pki, tmp_path):
    """As on a plain-text link, a TLS link's PONGs leave right after its read round,
    while they are still in the cache, not once every ready link of the thread has
    been read (the old path held them to the end of the loop iteration)."""
    tp = h.free_port()
    srv = servers.shoal(extra_args=t.server_args(pki, tp, extra=["--tls-cluster", "yes", "--worker-threads", "1"]))
    trace = tmp_path / "trace"
    with tls_bus_conn(tp + 10000, pki) as a, tls_bus_conn(tp + 10000, pki) as b:
        for c in (a, b):
            c.send(bh.ping())
            bh.expect_pong(c)              # handshaken; one worker: both links on its thread
        st = subprocess.Popen(["strace", "-f", "-qq", "-e", "trace=read,write", "-e", "signal=none",
                               "-o", str(trace), "-p", str(srv.pid)],
                              stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        wait_traced(srv.pid)
        time.sleep(0.5)
        os.kill(srv.pid, signal.SIGSTOP)
        try:
            for c in (a, b):               # both sockets ready when the node wakes
                c.send(bh.ping() * 10)
            time.sleep(0.2)
        finally:
            os.kill(srv.pid, signal.SIGCONT)
        try:
            for c in (a, b):
                for _ in range(10):
                    bh.expect_pong(c, timeout=10.0)
        finally:
            st.send_signal(signal.SIGINT)
            st.wait(timeout=10)
    # PINGs are ~2.3 KB: the links' fds are those whose reads returned that much
    calls = [c for c in fd_calls(trace) if c[2] > 0]
    busy = [c for c in calls if c[0] == "read" and c[2] >= 2000]
    assert len({fd for _, fd, _ in busy}) == 2, calls[:20]
    first, second = busy[0][1], next(fd for _, fd, _ in busy if fd != busy[0][1])
    at_second = next(i for i, c in enumerate(calls) if c[0] == "read" and c[1] == second and c[2] >= 2000)
    assert any(c == ("write", first) for c in ((x[0], x[1]) for x in calls[:at_second])), calls[:20]


def test_tls_bus_link_reads_many_records_per_syscall(servers, pki, tmp_path):
    sizes = syscall_sizes(traced_burst(servers, pki, tmp_path), "read")
    assert sizes, "strace saw no read(2)"
    # PINGS * 2.3 KB of records was waiting: with one record per read(2) no read
    # returns more than one record's bytes.
    assert max(sizes) > ONE_RECORD_READ, sorted(sizes)[-10:]


def test_tls_bus_link_writes_many_records_per_syscall(servers, pki, tmp_path):
    sizes = syscall_sizes(traced_burst(servers, pki, tmp_path), "write")
    assert sizes, "strace saw no write(2)"
    # The PINGS PONGs of one read round (about 90 KB of records): one write(2) per
    # record never passes one record's bytes.
    assert max(sizes) > ONE_RECORD_READ, sorted(sizes)[-10:]


def test_tls_bus_link_buffered_pongs_survive_a_full_socket(servers, pki):
    """PONGs held in the write buffer while the peer does not read (the socket full)
    all arrive once it reads again: the buffer is sent when the socket turns writable."""
    tp = h.free_port()
    servers.shoal(extra_args=t.server_args(pki, tp, extra=["--tls-cluster", "yes"]))
    c = bh.BusConn(tp + 10000, timeout=10.0, rcvbuf=4096)
    c.sock = t.client_context(pki).wrap_socket(c.sock)
    with c:
        c.send(bh.ping())
        bh.expect_pong(c)
        # About 4.6 MB of PONGs against a 4 KB receive window: more than the node's
        # send buffer takes (checked with strace: its writes met EAGAIN about 20 times,
        # the rest waited in the write buffer and the link's queue).
        n = 2000
        for _ in range(n // 20):
            c.send(bh.ping() * 20)
        time.sleep(1.0)
        for _ in range(n):
            bh.expect_pong(c, timeout=10.0)


def test_tls_bus_link_answers_records_left_in_openssl(servers, pki):
    """Small records read ahead by OpenSSL beyond what one read round decrypts are
    still answered although the socket has nothing more to announce them: the link
    reads on at the next loop turn (before, their PONGs waited for the peer's next
    bytes, and a peer waiting for them waited for ever)."""
    tp = h.free_port()
    srv = servers.shoal(extra_args=t.server_args(pki, tp, extra=["--tls-cluster", "yes"]))
    with tls_bus_conn(tp + 10000, pki) as c:
        c.send(bh.ping())
        bh.expect_pong(c)
        os.kill(srv.pid, signal.SIGSTOP)
        try:
            for _ in range(SMALL_RECORDS):  # one small record each: many per read(2)
                c.send(bh.ping())
            time.sleep(0.2)
        finally:
            os.kill(srv.pid, signal.SIGCONT)
        for _ in range(SMALL_RECORDS):
            bh.expect_pong(c, timeout=5.0)



class _RecordSock:
    """A TLS client over memory BIOs on a raw socket, shaped like the socket BusConn
    uses (sendall, recv, settimeout, close), that can also send a record with one
    byte flipped."""

    def __init__(self, port, pki):
        self.raw = socket.create_connection(("127.0.0.1", port), timeout=10.0)
        self.inc, self.out = ssl.MemoryBIO(), ssl.MemoryBIO()
        self.tls = t.client_context(pki).wrap_bio(self.inc, self.out)
        while True:
            try:
                self.tls.do_handshake()
                break
            except ssl.SSLWantReadError:
                self._push()
                data = self.raw.recv(65536)
                if not data:
                    raise ConnectionError("closed during the handshake")
                self.inc.write(data)
        self._push()

    def _push(self, flip_at=None):
        data = bytearray(self.out.read())
        if flip_at is not None and data:
            data[flip_at] ^= 0x40
        if data:
            self.raw.sendall(bytes(data))

    def settimeout(self, s):
        self.raw.settimeout(s)

    def sendall(self, data):
        self.tls.write(data)
        self._push()

    def send_corrupted(self, data):
        self.tls.write(data)
        self._push(flip_at=-20)            # inside the ciphertext's last bytes: the tag fails

    def recv(self, n):
        while True:
            try:
                return self.tls.read(n)
            except ssl.SSLWantReadError:
                data = self.raw.recv(65536)
                if not data:
                    return b""
                self.inc.write(data)
            except ssl.SSLZeroReturnError:
                return b""

    def close(self):
        self.raw.close()


def test_tls_bus_link_closes_on_a_corrupted_record(servers, pki):
    """A record whose tag does not verify ends the link (shoal's record layer,
    runtime/tls_rec.c): the node closes the socket, without a frame of it, and serves
    the next link as before."""
    tp = h.free_port()
    srv = servers.shoal(extra_args=t.server_args(pki, tp, extra=["--tls-cluster", "yes", "--loglevel", "verbose"]))
    c = bh.BusConn(tp + 10000, timeout=10.0)
    c.sock.close()
    c.sock = _RecordSock(tp + 10000, pki)
    with c:
        c.send(bh.ping())
        bh.expect_pong(c)
        c.sock.send_corrupted(bh.ping())
        with pytest.raises(ConnectionError):
            bh.expect_pong(c, timeout=10.0)
    h.wait_until(lambda: "I/O error reading from node link: Protocol error" in srv.log(), 10,
                 what="the link's error logged")
    with tls_bus_conn(tp + 10000, pki) as c2:
        c2.send(bh.ping())
        bh.expect_pong(c2)
    with srv.raw() as r:
        d = h.info_dict(r.call("INFO", "busdigest"))
    assert int(d["tls_records_ours"]) >= 2 and int(d["tls_records_openssl"]) == 0, d
