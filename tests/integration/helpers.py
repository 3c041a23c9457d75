"""Process and wire helpers for the integration tests.

What it is for: starting shoal-node and reference redis-server processes on free
loopback ports, stopping exactly the processes we started (by pid), and talking
RESP over raw sockets so that tests can compare replies byte for byte.

What it must never do: kill a process it did not start, sleep for a fixed long
time (everything polls with a deadline), or hide a node's death: a process that
exited on its own is reported with its log.
"""
import fcntl
import os
import random
import signal
import socket
import subprocess
import tempfile
import time
from pathlib import Path

REPO_ROOT = Path(__file__).resolve().parents[2]
SHOAL_BIN = Path(os.environ.get("SHOAL_NODE", str(REPO_ROOT / "bin" / "shoal-node")))
REDIS_SERVER = os.environ.get("REDIS_SERVER", "/usr/bin/redis-server")
REDIS_CLI = os.environ.get("REDIS_CLI", "/usr/bin/redis-cli")

READY_LINE = "Ready to accept connections"
START_TIMEOUT = 10.0
STOP_GRACE = 5.0

# Client ports stay below 22768 so that the bus port (+10000) stays below 32768,
# out of the usual ephemeral range.
PORT_LOW, PORT_HIGH = 20000, 22700
# The ports this process handed out, oldest first (a dict as an ordered set). free_port does
# not hand one out again while it is among the most recent half of its slice (forget_oldest).
_handed_out = {}


def port_range():
    """The client ports this process may hand out. Under pytest-xdist (`make integration`
    runs the suite on several workers) worker gwI of N gets the I-th of N disjoint slices
    of [PORT_LOW, PORT_HIGH], so that two workers never pick the same port (or bus port)
    even when one picks it between the other's bindable() check and its node's bind.
    Read on every call: xdist sets the variables after this module may have been imported."""
    worker = os.environ.get("PYTEST_XDIST_WORKER", "")
    try:
        count = int(os.environ.get("PYTEST_XDIST_WORKER_COUNT", "1"))
        index = int(worker[2:]) if worker.startswith("gw") else -1
    except ValueError:
        count, index = 1, -1
    if count <= 1 or not 0 <= index < count:
        return PORT_LOW, PORT_HIGH
    width = (PORT_HIGH - PORT_LOW + 1) // count
    low = PORT_LOW + index * width
    return low, low + width - 1

# After this many consecutive shoal-node start timeouts, further starts fail at once,
# so that a node that never answers cannot stretch the suite to hours.
MAX_START_TIMEOUTS = 3
_start_timeouts = {"shoal": 0, "redis": 0}


def _bindable(port):
    s = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    try:
        s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        s.bind(("127.0.0.1", port))
        return True
    except OSError:
        return False
    finally:
        s.close()


# Test sessions that run at the same time on one machine (other worktrees, a bench) pick
# from the same ports. A port pair whose node a test killed is bindable again although the
# test still counts on it (the survivors must find nothing there, the node comes back on
# it): another session's node on it would answer the survivors' reconnects and be taken
# for the killed node's new address (a PONG with another name: noaddr, never FAIL). So a
# handed-out port is also reserved machine-wide by an flock on a file named after it, held
# until the test that took it ends (release_ports, called by conftest.py).
PORT_LOCK_DIR = Path(tempfile.gettempdir()) / "shoal-test-ports"
_port_locks = {}    # port -> fd holding its lock file


def _reserve(port):
    """True if this process now holds port's machine-wide reservation."""
    PORT_LOCK_DIR.mkdir(mode=0o777, exist_ok=True)
    fd = os.open(PORT_LOCK_DIR / f"{port}.lock", os.O_RDWR | os.O_CREAT, 0o666)
    try:
        fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
    except OSError:
        os.close(fd)
        return False
    _port_locks[port] = fd
    return True


def release_ports():
    """Gives up the reservations of every port handed out so far (they stay out of this
    process's own free_port for a while: _handed_out)."""
    for fd in _port_locks.values():
        os.close(fd)
    _port_locks.clear()


def _forget_oldest(keep):
    """Lets free_port hand out again the oldest ports of tests that have ended, so that at
    most `keep` stay out. A worker of `make integration` runs a few hundred tests from a
    slice of 2700 / INTEGRATION_JOBS ports: on 6 workers one used 381 of its 450, and every
    test added brought it closer to 'no free loopback port pair found'. A port whose test
    has ended has no process of ours left on it (the servers fixture stopped them); one
    still in use (the shared nodes' ports) fails the bindable check."""
    for p in list(_handed_out):
        if len(_handed_out) <= keep:
            return
        if p not in _port_locks:       # reserved: the running test's own
            del _handed_out[p]


def free_port():
    """A client port P such that P and P+10000 are both bindable right now, and reserved
    for this process (no other test session hands it out until release_ports)."""
    low, high = port_range()
    _forget_oldest((high - low + 1) // 2)
    for _ in range(2000):
        p = random.randint(low, high)
        if p in _handed_out:
            continue
        if not _reserve(p):
            continue
        if _bindable(p) and _bindable(p + 10000):
            _handed_out[p] = True
            return p
        os.close(_port_locks.pop(p))
    raise RuntimeError("no free loopback port pair found")


def wait_until(pred, timeout, interval=0.02, what="condition"):
    """Polls pred() until it returns a truthy value; returns that value or raises."""
    deadline = time.monotonic() + timeout
    last_exc = None
    while True:
        try:
            v = pred()
            if v:
                return v
        except Exception as e:  # noqa: BLE001 - the predicate may fail while a node starts
            last_exc = e
        if time.monotonic() >= deadline:
            raise TimeoutError(f"timed out after {timeout}s waiting for {what}"
                               + (f" (last error: {last_exc!r})" if last_exc else ""))
        time.sleep(interval)


# ---------------------------------------------------------------------------
# RESP
# ---------------------------------------------------------------------------

class Status(str):
    """A simple-string reply (+...)."""


class Error(str):
    """An error reply (-...)."""


class Verbatim:
    def __init__(self, fmt, data):
        self.fmt, self.data = fmt, data

    def __repr__(self):
        return f"Verbatim({self.fmt!r}, {self.data!r})"


class Map(list):
    """A RESP3 map kept as an ordered list of (key, value) pairs."""


class Push(list):
    pass


class ProtocolDesync(Exception):
    pass


def encode(*args):
    """Encodes a command as a RESP array of bulk strings."""
    out = [b"*%d\r\n" % len(args)]
    for a in args:
        if isinstance(a, str):
            a = a.encode()
        elif isinstance(a, int):
            a = str(a).encode()
        out.append(b"$%d\r\n%s\r\n" % (len(a), a))
    return b"".join(out)


class RawConn:
    """A socket that speaks RESP and keeps the raw bytes of every reply."""

    def __init__(self, port, host="127.0.0.1", timeout=5.0):
        self.sock = socket.create_connection((host, port), timeout=timeout)
        self.sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        self.buf = b""
        self.timeout = timeout

    def close(self):
        try:
            self.sock.close()
        except OSError:
            pass

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.close()

    def send(self, data):
        self.sock.sendall(data)

    def _fill(self):
        chunk = self.sock.recv(65536)
        if not chunk:
            raise ConnectionError("connection closed by peer")
        self.buf += chunk

    def _line(self, pos):
        while True:
            i = self.buf.find(b"\r\n", pos)
            if i >= 0:
                return self.buf[pos:i], i + 2
            self._fill()

    def _need(self, end):
        while len(self.buf) < end:
            self._fill()

    def _parse(self, pos):
        line, pos = self._line(pos)
        if not line:
            raise ProtocolDesync("empty reply line")
        t, rest = line[:1], line[1:]
        if t == b"+":
            return Status(rest.decode("utf-8", "replace")), pos
        if t == b"-":
            return Error(rest.decode("utf-8", "replace")), pos
        if t == b":":
            return int(rest), pos
        if t == b"(":
            return int(rest), pos
        if t == b",":
            return float(rest), pos
        if t == b"#":
            return rest == b"t", pos
        if t == b"_":
            return None, pos
        if t in (b"$", b"=", b"!"):
            n = int(rest)
            if n < 0:
                return None, pos
            self._need(pos + n + 2)
            data = self.buf[pos:pos + n]
            if self.buf[pos + n:pos + n + 2] != b"\r\n":
                raise ProtocolDesync("bulk not terminated by CRLF")
            pos += n + 2
            if t == b"=":
                return Verbatim(data[:3].decode(), data[4:]), pos
            if t == b"!":
                return Error(data.decode("utf-8", "replace")), pos
            return data, pos
        if t in (b"*", b"~", b">"):
            n = int(rest)
            if n < 0:
                return None, pos
            items = []
            for _ in range(n):
                v, pos = self._parse(pos)
                items.append(v)
            return (Push(items) if t == b">" else items), pos
        if t == b"%" or t == b"|":
            n = int(rest)
            m = Map()
            for _ in range(n):
                k, pos = self._parse(pos)
                v, pos = self._parse(pos)
                m.append((k, v))
            return m, pos
        raise ProtocolDesync(f"unknown reply type {line!r}")

    def read(self):
        """Reads one reply; returns (raw_bytes, value)."""
        v, end = self._parse(0)
        raw, self.buf = self.buf[:end], self.buf[end:]
        return raw, v

    def req(self, *args):
        """Sends one command; returns (raw_bytes, value) of its reply."""
        self.send(encode(*args))
        return self.read()

    def raw(self, *args):
        self.send(encode(*args))
        return self.read()[0]

    def call(self, *args):
        self.send(encode(*args))
        return self.read()[1]

    def until_echo(self, data, mark="--end-of-reply"):
        """Sends raw bytes and an ECHO of `mark` behind them; returns every byte that came
        back before the ECHO's reply (the replies to `data`, however long the server takes
        and whatever their shape: pushes and attributes included)."""
        tail = b"$%d\r\n%s\r\n" % (len(mark), mark.encode())
        self.send(data + encode("ECHO", mark))
        while not self.buf.endswith(tail):
            self._fill()
        got, self.buf = self.buf[:-len(tail)], b""
        return got

    def exchange(self, data, idle=0.3, limit=5.0):
        """Sends raw bytes; collects what comes back until the peer closes, or until
        nothing arrives for `idle` seconds (at most `limit` s). Returns (bytes, closed)."""
        self.send(data)
        got, self.buf = self.buf, b""
        deadline = time.monotonic() + limit
        while True:
            left = deadline - time.monotonic()
            if left <= 0:
                return got, False
            self.sock.settimeout(min(idle, left))
            try:
                chunk = self.sock.recv(65536)
            except socket.timeout:
                return got, False
            except ConnectionResetError:
                return got, True
            finally:
                self.sock.settimeout(self.timeout)
            if not chunk:
                return got, True
            got += chunk

    def is_closed(self, timeout=2.0):
        """True if the peer closed the connection within timeout (no pending data)."""
        self.sock.settimeout(timeout)
        try:
            chunk = self.sock.recv(1)
        except socket.timeout:
            return False
        except ConnectionResetError:
            return True
        finally:
            self.sock.settimeout(self.timeout)
        if chunk:
            self.buf += chunk
            return False
        return True


def info_dict(text):
    """Parses INFO / CLUSTER INFO text into {field: value-string}."""
    if isinstance(text, Verbatim):
        text = text.data
    if isinstance(text, bytes):
        text = text.decode()
    out = {}
    for line in text.split("\r\n"):
        if not line or line.startswith("#"):
            continue
        k, _, v = line.partition(":")
        out[k] = v
    return out


# ---------------------------------------------------------------------------
# processes
# ---------------------------------------------------------------------------

class ProcessExited(Exception):
    pass


def _die_with_parent():
    """Runs in the child before exec: if the test runner itself is killed, the kernel
    sends SIGKILL to the servers it started, so none is left behind."""
    try:
        import ctypes
        ctypes.CDLL("libc.so.6", use_errno=True).prctl(1, signal.SIGKILL)  # PR_SET_PDEATHSIG
    except OSError:
        pass


class Server:
    """One shoal-node or redis-server process that this test run started."""

    def __init__(self, kind, port, workdir, extra_args=(), config_file=None, base_args=True):
        self.kind = kind            # "shoal" or "redis"
        self.port = port
        self.dir = Path(workdir)
        self.dir.mkdir(parents=True, exist_ok=True)
        self.extra_args = list(extra_args)
        self.config_file = config_file
        # False: only the config file and extra_args; "standalone": the usual arguments
        # without the cluster ones (cluster-enabled stays at its default, no)
        self.base_args = base_args
        self.log_path = self.dir / f"{kind}-{port}.log"
        self.popen = None
        self.expected_exit = False
        self.starts = 0

    # argv ---------------------------------------------------------------
    def argv(self):
        binary = str(SHOAL_BIN) if self.kind == "shoal" else REDIS_SERVER
        argv = [binary]
        if self.config_file:
            argv.append(str(self.config_file))
        if not self.base_args:
            return argv + self.extra_args
        argv += ["--port", str(self.port), "--bind", "127.0.0.1",
                 "--dir", str(self.dir), "--logfile", ""]
        if self.base_args != "standalone":
            argv += ["--cluster-enabled", "yes", "--cluster-config-file", "nodes.conf",
                     "--cluster-node-timeout", "5000"]
        # repl-diskless-sync-delay 0 (both kinds): a master starts a full sync at once rather
        # than after 5 s of waiting for more replicas, as Redis's own test suite sets it
        argv += ["--repl-diskless-sync-delay", "0"]
        if self.kind == "shoal":
            # as for redis-server below: no save points, so that stopping a test's node writes
            # no dump.rdb (tests of save points and of the save on shutdown set their own)
            argv += ["--save", ""]
        if self.kind == "redis":
            argv += ["--save", "", "--appendonly", "no", "--daemonize", "no"]
        return argv + self.extra_args

    @property
    def nodes_conf(self):
        return self.dir / "nodes.conf"

    # lifecycle ----------------------------------------------------------
    def spawn(self):
        """Starts the process without waiting for readiness."""
        if self.kind == "shoal" and not SHOAL_BIN.exists():
            raise FileNotFoundError(f"{SHOAL_BIN} is not built (run make in the repo root)")
        if _start_timeouts[self.kind] >= MAX_START_TIMEOUTS:
            raise RuntimeError(f"{self.kind} failed to become ready {MAX_START_TIMEOUTS} times "
                               "in a row; not trying again in this run")
        self.starts += 1
        self.expected_exit = False
        logf = open(self.log_path, "ab")
        logf.write(f"==== start #{self.starts}: {' '.join(self.argv())}\n".encode())
        logf.flush()
        env = dict(os.environ)
        env.setdefault("ASAN_OPTIONS", "detect_leaks=0")
        self.popen = subprocess.Popen(self.argv(), stdout=logf, stderr=subprocess.STDOUT,
                                      stdin=subprocess.DEVNULL, cwd=str(self.dir), env=env,
                                      preexec_fn=_die_with_parent)
        logf.close()
        return self

    def start(self, timeout=START_TIMEOUT, retry_port=False):
        """Starts and waits for readiness. With retry_port, a port that another program
        took between free_port() and our bind is replaced (at most twice)."""
        for attempt in range(3):
            self.spawn()
            try:
                self.wait_ready(timeout)
                return self
            except ProcessExited:
                taken = "in use" in self.log().split("==== start")[-1]
                if not (retry_port and taken and attempt < 2):
                    raise
                self.port = free_port()
        return self

    def wait_ready(self, timeout=START_TIMEOUT):
        """Waits until the server answers PING (PONG, or NOAUTH when a password is set)."""
        deadline = time.monotonic() + timeout
        while True:
            if self.popen.poll() is not None:
                raise ProcessExited(f"{self.kind} on port {self.port} exited with code "
                                    f"{self.popen.returncode} during startup:\n{self.log_tail()}")
            if self.ping_ok():
                _start_timeouts[self.kind] = 0
                return
            if time.monotonic() >= deadline:
                _start_timeouts[self.kind] += 1
                raise TimeoutError(f"{self.kind} on port {self.port} not ready after {timeout}s:\n"
                                   + self.log_tail())
            time.sleep(0.02)

    def ping_ok(self):
        try:
            with RawConn(self.port, timeout=1.0) as c:
                v = c.call("PING")
                return v == "PONG" or (isinstance(v, Error) and v.startswith("NOAUTH"))
        except (OSError, ConnectionError, ProtocolDesync, ValueError):
            return False

    def alive(self):
        return self.popen is not None and self.popen.poll() is None

    @property
    def pid(self):
        return self.popen.pid

    def signal(self, sig):
        if self.alive():
            os.kill(self.popen.pid, sig)

    def wait_exit(self, timeout):
        """Waits for the process to exit; returns its exit code or None on timeout."""
        try:
            return self.popen.wait(timeout=timeout)
        except subprocess.TimeoutExpired:
            return None

    def stop(self, grace=STOP_GRACE):
        """SIGTERM, then SIGKILL after grace seconds. Returns (exit code, seconds to exit)."""
        if self.popen is None:
            return None, 0.0
        self.expected_exit = True
        if self.popen.poll() is not None:
            return self.popen.returncode, 0.0
        t0 = time.monotonic()
        os.kill(self.popen.pid, signal.SIGTERM)
        rc = self.wait_exit(grace)
        if rc is None:
            os.kill(self.popen.pid, signal.SIGKILL)
            self.popen.wait()
            return "killed", time.monotonic() - t0
        return rc, time.monotonic() - t0

    def died_unexpectedly(self):
        return (self.popen is not None and not self.expected_exit
                and self.popen.poll() is not None)

    # logs ---------------------------------------------------------------
    def log(self):
        try:
            return self.log_path.read_text(errors="replace")
        except OSError:
            return ""

    def output(self):
        """What the process itself printed: the log without our '==== start' header lines."""
        return "".join(ln for ln in self.log().splitlines(keepends=True)
                       if not ln.startswith("==== start #"))

    def log_tail(self, nbytes=6000):
        text = self.log()
        return text[-nbytes:]

    # clients ------------------------------------------------------------
    def raw(self, timeout=5.0):
        return RawConn(self.port, timeout=timeout)

    def client(self, **kw):
        import redis
        kw.setdefault("socket_timeout", 10)
        return redis.Redis(host="127.0.0.1", port=self.port, **kw)

    def cli(self, *args, timeout=20, check=False):
        """Runs redis-cli against this server; returns CompletedProcess (text)."""
        return subprocess.run([REDIS_CLI, "-h", "127.0.0.1", "-p", str(self.port), *args],
                              capture_output=True, text=True, timeout=timeout, check=check)


def cluster_info(conn):
    v = conn.call("CLUSTER", "INFO")
    assert not isinstance(v, Error), v
    return info_dict(v)


def spread_connections(server, on=True):
    """shoal only, started with --enable-debug-command yes: new connections dealt over
    every worker again, whatever the load (DEBUG PLACEMENT SPREAD; AUTO gives the choice back to the load, actors/worker/placement.h).
    For tests of what happens between workers: a node that is not busy serves every
    connection from one worker."""
    with server.raw() as c:
        r = c.call("DEBUG", "PLACEMENT", "SPREAD" if on else "AUTO")
        assert r == "OK", r


def wait_cluster_ok(server, timeout=10.0):
    def ok():
        with server.raw() as c:
            return cluster_info(c).get("cluster_state") == "ok"
    wait_until(ok, timeout, interval=0.05, what=f"cluster_state:ok on port {server.port}")


def own_all_slots(server, timeout=10.0):
    with server.raw() as c:
        r = c.call("CLUSTER", "ADDSLOTSRANGE", "0", "16383")
        assert r == "OK", r
    wait_cluster_ok(server, timeout)


def own_free_slots(server, timeout=10.0):
    """Assigns the server every slot no node serves yet: a node that loaded keys at start
    has taken their slots already (as 7.0.15 does), so ADDSLOTSRANGE 0 16383 would be
    refused. Waits for cluster_state:ok."""
    with server.raw() as c:
        owned = set()
        for start, end, *_ in c.call("CLUSTER", "SLOTS"):
            owned.update(range(start, end + 1))
        free = [str(s) for s in range(16384) if s not in owned]
        if free:
            r = c.call("CLUSTER", "ADDSLOTS", *free)
            assert r == "OK", r
    wait_cluster_ok(server, timeout)


def single_node(servers, kind, workers=None):
    """A one-node cluster owning every slot: shoal (with `workers` worker threads when
    given) or redis-server, from the `servers` fixture."""
    if kind == "shoal":
        srv = servers.shoal(extra_args=["--worker-threads", str(workers)] if workers else [])
    else:
        srv = servers.redis()
    own_all_slots(srv)
    return srv


def single_nodes(servers, kinds, workers=None):
    """single_node for each of kinds (`workers` for the shoal ones), started together: a
    fresh master reaches cluster_state:ok only 2 s after it started (7.0.15's writable delay,
    shoal's too), so one-node clusters made one after the other wait it out each in turn."""
    nodes = [servers.shoal(extra_args=["--worker-threads", str(workers)] if workers else [])
             if kind == "shoal" else servers.redis() for kind in kinds]
    for srv in nodes:
        with srv.raw() as c:
            r = c.call("CLUSTER", "ADDSLOTSRANGE", "0", "16383")
            assert r == "OK", r
    for srv in nodes:
        wait_cluster_ok(srv)
    return nodes


def crc16(data):
    """CRC16-CCITT (XMODEM) of bytes: Redis Cluster's key hash."""
    crc = 0
    for byte in data:
        crc ^= byte << 8
        for _ in range(8):
            crc = ((crc << 1) ^ 0x1021) if crc & 0x8000 else crc << 1
            crc &= 0xFFFF
    return crc


def key_slot(key):
    """The cluster slot of key (str or bytes): of its {tag} when it has a non-empty
    one, as CLUSTER KEYSLOT."""
    k = key.encode() if isinstance(key, str) else key
    s = k.find(b"{")
    if s >= 0:
        e = k.find(b"}", s + 1)
        if e > s + 1:
            k = k[s + 1:e]
    return crc16(k) % 16384


def tag_in(node, lo, hi, prefix="t"):
    """A hash tag `{<prefix><i>}` whose slot lies in [lo, hi], and that slot, as the
    node's own CLUSTER KEYSLOT answers it."""
    with node.raw() as c:
        for i in range(10000):
            tag = f"{{{prefix}{i}}}"
            s = c.call("CLUSTER", "KEYSLOT", tag)
            if lo <= s <= hi:
                return tag, s
    raise AssertionError("no tag found")


def set_keys(server, keys, value="v", batch=500):
    """SET every key to `value`, pipelined `batch` at a time; each must answer OK."""
    with server.raw(timeout=30) as c:
        for i in range(0, len(keys), batch):
            part = keys[i:i + batch]
            c.send(b"".join(encode("SET", k, value) for k in part))
            for _ in part:
                assert c.read()[1] == "OK"


def scan_all(conn, *extra):
    """A whole SCAN iteration on conn (extra: MATCH/COUNT/TYPE arguments): every key
    returned, duplicates kept, and the number of calls it took."""
    cursor, seen, calls = b"0", [], 0
    while True:
        reply = conn.call("SCAN", cursor, *extra)
        assert isinstance(reply, list) and len(reply) == 2, reply
        cursor, batch = reply
        assert isinstance(cursor, bytes) and cursor.isdigit(), cursor
        seen.extend(batch)
        calls += 1
        assert calls < 100000, "SCAN does not terminate"
        if cursor == b"0":
            return seen, calls


def parse_nodes(text):
    """Parses CLUSTER NODES text into a list of dicts."""
    if isinstance(text, Verbatim):
        text = text.data
    if isinstance(text, bytes):
        text = text.decode()
    out = []
    for line in text.split("\n"):
        if not line:
            continue
        f = line.split(" ")
        out.append({"id": f[0], "addr": f[1], "flags": f[2].split(","), "master": f[3],
                    "ping_sent": f[4], "pong_recv": f[5], "config_epoch": f[6],
                    "link": f[7], "slots": f[8:], "line": line})
    return out


def fill_keys(port, n, px=None, prefix=b"k", value=b"v"):
    """SETs n keys (prefix + number, optionally with PX px) in one pipelined write and
    reads the n +OK replies: a quick way to a large dataset."""
    buf = bytearray()
    tail = b"" if px is None else b"$2\r\nPX\r\n$%d\r\n%s\r\n" % (len(px), px)
    head = b"*3\r\n$3\r\nSET\r\n" if px is None else b"*5\r\n$3\r\nSET\r\n"
    for i in range(n):
        k = b"%s%d" % (prefix, i)
        buf += head + b"$%d\r\n%s\r\n$%d\r\n%s\r\n" % (len(k), k, len(value), value) + tail
    s = socket.create_connection(("127.0.0.1", port), timeout=60)
    try:
        s.sendall(buf)
        got = 0
        while got < n * 5:            # "+OK\r\n" each
            d = s.recv(1 << 20)
            assert d, "connection closed while loading"
            got += len(d)
    finally:
        s.close()
