"""pytest fixtures for the integration tests.

What it is for: giving each test the shoal-node / redis-server processes it needs,
attaching their logs to the report of a failing test, and failing a test whose
node crashed or printed a sanitizer report, even if its assertions passed.

What it must never do: stop a process it did not start, or skip a test (a missing
binary is an error, not a skip).

Fixtures:
  servers  - factory: servers.shoal(...), servers.redis(...); everything it started
             is stopped (SIGTERM, SIGKILL after 5 s) at the end of the test.
  node     - a fresh cluster-enabled shoal-node (no slots).
  ref      - a fresh cluster-enabled redis-server 7.0.15 (no slots), the reference.
  snode    - a shoal-node shared by the session that owns all 16384 slots and is in
             cluster_state:ok; FLUSHALL'd before each test. Tests must not change its
             config or slots (use `node` for that).
  sref     - the same, for the reference redis-server.
"""
import fcntl
import os
import shutil

import pytest

import helpers as h

SANITIZER_MARKS = ("AddressSanitizer", "LeakSanitizer", "UndefinedBehaviorSanitizer",
                   "runtime error:", "ThreadSanitizer")


def _attach(item, server):
    lst = item.__dict__.setdefault("_shoal_servers", [])
    lst.append((server, len(server.log())))


@pytest.hookimpl(hookwrapper=True)
def pytest_runtest_makereport(item, call):
    outcome = yield
    rep = outcome.get_result()
    if rep.failed:
        for server, offset in item.__dict__.get("_shoal_servers", []):
            text = server.log()[offset:]
            if len(text) > 8000:
                text = "...\n" + text[-8000:]
            rep.sections.append((f"{server.kind} :{server.port} log (pid "
                                 f"{server.popen.pid if server.popen else '-'})", text))


def _sanitizer_report(server, offset=0):
    if server.kind != "shoal":
        return None
    text = server.log()[offset:]
    for mark in SANITIZER_MARKS:
        if mark in text:
            return f"{server.kind} on port {server.port} logged '{mark}'"
    return None


def _health_problems(server, offset=0):
    """Returns a description of a crash or sanitizer report, or None."""
    problems = []
    if server.died_unexpectedly():
        problems.append(f"{server.kind} on port {server.port} died during the test "
                        f"(exit code {server.popen.returncode})")
    p = _sanitizer_report(server, offset)
    if p:
        problems.append(p)
    return "; ".join(problems) or None


class ServerSet:
    def __init__(self, item, base_dir):
        self.item = item
        self.base = base_dir
        self.all = []

    def _new(self, kind, extra_args, config_file, start, name, base_args=True, port=None):
        port_was_free = port is None
        port = port or h.free_port()
        d = self.base / (name or f"{kind}-{port}")
        srv = h.Server(kind, port, d, extra_args=extra_args, config_file=config_file,
                       base_args=base_args)
        self.all.append(srv)
        _attach(self.item, srv)
        if start:
            srv.start(retry_port=port_was_free)
        return srv

    def shoal(self, extra_args=(), config_file=None, start=True, name=None, base_args=True,
              port=None):
        """A shoal-node; base_args=False passes only config_file and extra_args."""
        return self._new("shoal", extra_args, config_file, start, name, base_args, port)

    def redis(self, extra_args=(), config_file=None, start=True, name=None, base_args=True,
              port=None):
        return self._new("redis", extra_args, config_file, start, name, base_args, port)

    def stop_all(self):
        problems = []
        for srv in self.all:
            if srv.died_unexpectedly():
                problems.append(f"{srv.kind} on port {srv.port} died during the test "
                                f"(exit code {srv.popen.returncode})")
            rc, _ = srv.stop()
            if rc == "killed":
                problems.append(f"{srv.kind} on port {srv.port} ignored SIGTERM for "
                                f"{h.STOP_GRACE:.0f} s and was killed")
            p = _sanitizer_report(srv)
            if p:
                problems.append(p)
        return problems


@pytest.fixture(autouse=True)
def _port_reservations():
    """The ports a test took stay reserved machine-wide (helpers.free_port) until it ends,
    its servers stopped (an autouse fixture is set up first, so torn down last)."""
    yield
    h.release_ports()


@pytest.fixture
def servers(request, tmp_path):
    ss = ServerSet(request.node, tmp_path)
    yield ss
    problems = ss.stop_all()
    if problems:
        pytest.fail("; ".join(problems), pytrace=False)


@pytest.fixture
def node(servers):
    return servers.shoal()


@pytest.fixture
def ref(servers):
    return servers.redis()


class _Shared:
    """A session-wide server that owns every slot; restarted from scratch if it died."""

    def __init__(self, kind, base):
        self.kind = kind
        self.base = base
        self.server = None
        self.generation = 0
        self.failures = []

    def get(self):
        if len(self.failures) >= 2:
            raise RuntimeError(f"the shared {self.kind} node could not be started "
                               f"(twice); first error:\n{self.failures[0]}")
        if self.server is None or not self.server.alive():
            if self.server is not None:
                self.server.stop()
            self.generation += 1
            port = h.free_port()
            d = self.base / f"{self.kind}-shared-{self.generation}"
            if d.exists():
                shutil.rmtree(d)
            self.server = h.Server(self.kind, port, d)
            try:
                self.server.start(retry_port=True)
                h.own_all_slots(self.server)
            except Exception as e:
                self.failures.append(f"{e!r}\n{self.server.log_tail()}")
                self.server.stop()
                raise
        return self.server

    def close(self):
        if self.server is not None:
            self.server.stop()


@pytest.fixture(scope="session")
def _shared(tmp_path_factory):
    base = tmp_path_factory.mktemp("shared")
    pool = {"shoal": _Shared("shoal", base), "redis": _Shared("redis", base)}
    yield pool
    for s in pool.values():
        s.close()


def _shared_fixture(request, pool, kind):
    srv = pool[kind].get()
    _attach(request.node, srv)
    offset = len(srv.log())
    with srv.raw() as c:
        r = c.call("FLUSHALL")
        assert r == "OK", f"FLUSHALL before the test answered {r!r}"
    yield srv
    p = _health_problems(srv, offset)
    if p:
        pytest.fail(p, pytrace=False)


@pytest.fixture
def snode(request, _shared):
    yield from _shared_fixture(request, _shared, "shoal")


@pytest.fixture
def sref(request, _shared):
    yield from _shared_fixture(request, _shared, "redis")


# ---------------------------------------------------------------------------
# pytest-xdist: `make integration` runs the suite on several workers at once
# ---------------------------------------------------------------------------
# Each worker hands out ports from its own slice (helpers.port_range) and writes under its
# own basetemp (pytest-of-<user>/pytest-<n>/popen-gw<i>), so workers share nothing but the
# machine. A test whose assertions bound a latency from above (a reply within 0.5 s, a
# median PING under 100 ms) is marked `quiet`: it runs while no test runs on any other
# worker. Every test holds a shared flock on a lock file of this run while it runs; a quiet
# test holds it exclusively. A quiet test waiting for its turn holds the turnstile, which
# every test passes through before taking its shared lock, so that the other workers'
# tests cannot keep it waiting for ever. Without xdist nothing is locked.


def pytest_configure(config):
    config.addinivalue_line(
        "markers", "quiet: runs alone under pytest-xdist (no test on another worker meanwhile); "
                   "for tests that bound a latency or a duration from above")


# The files that take longest (seconds of one serial run on 2 cores), started first so that
# the workers do not end on a long test while the others are idle; `quiet` tests come last,
# where they hold up no other test (while one runs the other workers wait). Order only: a
# file not listed runs after these, in the usual order.
SLOW_FILES_FIRST = (
    "test_bus_bad_input.py",            # one xdist group (its module-wide cluster)
    "test_repl_bad_input.py",           # 99 s
    "test_repl.py",                     # 70 s
    "test_client_limits.py",            # 62 s
    "test_failover.py",                 # 58 s
    "test_bus_links.py",                # 41 s
    "test_config_hardening.py",         # 37 s
    "test_cluster_slots_order.py",      # 36 s
    "test_repl_replica_side.py",        # 33 s
    "test_debug_sleep_world.py",        # 30 s
    "test_harness_compat.py",           # 27 s
    "test_replica_loading_health.py",   # 24 s
)


# SHOAL_REFERENCE_RUNS=leave deselects the parametrizations that start only redis-server (no
# shoal-node): they check a test's expectations against the real server, not shoal. `make test`
# leaves them to `make reference`, which sets `only`; unset (a plain pytest run) includes them.
REFERENCE_RUNS = os.environ.get("SHOAL_REFERENCE_RUNS", "include")


def is_reference_run(item):
    """True for a parametrization whose server kinds are all redis-server (ids like
    `redis`, `redis-to-redis-truncate`, `SIGTERM-redis`): it tests the test, not shoal."""
    spec = getattr(item, "callspec", None)
    if spec is None:
        return False
    tokens = spec.id.split("-")
    return "redis" in tokens and "shoal" not in tokens


def pytest_collection_modifyitems(config, items):
    how = REFERENCE_RUNS
    if how in ("leave", "only"):
        keep = [i for i in items if is_reference_run(i) == (how == "only")]
        left = [i for i in items if is_reference_run(i) != (how == "only")]
        if left:
            config.hook.pytest_deselected(items=left)
            items[:] = keep
        # for tests/summary.py: pytest-xdist's last line does not count deselected items
        note = os.environ.get("SHOAL_REFERENCE_NOTE")
        if note and how == "leave":
            with open(note, "w") as f:
                f.write("%d\n" % len(left))
    rank = {name: i for i, name in enumerate(SLOW_FILES_FIRST)}
    items.sort(key=lambda item: (item.get_closest_marker("quiet") is not None,
                                 rank.get(item.path.name, len(rank))))   # stable


def _flock(path, how):
    fd = os.open(path, os.O_RDWR | os.O_CREAT, 0o600)
    fcntl.flock(fd, how)
    return fd


def _unlock(fd):
    fcntl.flock(fd, fcntl.LOCK_UN)
    os.close(fd)


@pytest.fixture(autouse=True)
def _xdist_quiet(request, tmp_path_factory):
    if not hasattr(request.config, "workerinput"):   # not an xdist worker
        yield
        return
    run_dir = tmp_path_factory.getbasetemp().parent    # the controller's basetemp: one per run
    gate, turnstile = run_dir / "quiet.lock", run_dir / "quiet-turnstile.lock"
    quiet = request.node.get_closest_marker("quiet") is not None
    ts = _flock(turnstile, fcntl.LOCK_EX)
    try:
        fd = _flock(gate, fcntl.LOCK_EX if quiet else fcntl.LOCK_SH)
    finally:
        _unlock(ts)
    try:
        yield
    finally:
        _unlock(fd)
