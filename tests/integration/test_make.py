"""`make unit`, `make integration` and `make test` must fail when a test fails.

Each test runs the repository's Makefile with a failing (or passing) stand-in: a fake
unit runner that prints the runner's summary line and exits like it, and a pytest file
of one test in a temporary directory. Logs and junit files go to the temporary directory
so the outer run's own files are untouched. `-o` keeps make from rebuilding the node or
the dependency stamp (the stand-ins need neither).
"""
import os
import subprocess

import helpers as h

PASSING_UNIT = "#!/bin/sh\necho 'unit: 3 passed, 0 failed'\nexit 0\n"
FAILING_UNIT = "#!/bin/sh\necho 'FAIL x (y.c:1): z'\necho 'unit: 2 passed, 1 failed'\nexit 1\n"
PASSING_PY = "def test_ok():\n    assert True\n"
FAILING_PY = "def test_broken():\n    assert 1 == 2\n"


def _env():
    env = dict(os.environ)
    for k in ("MAKEFLAGS", "MFLAGS", "MAKELEVEL", "MAKEOVERRIDES"):
        env.pop(k, None)
    return env


def _setup(tmp_path, unit_src, py_src):
    unit = tmp_path / "fake-unit"
    unit.write_text(unit_src)
    unit.chmod(0o755)
    py = tmp_path / "test_standin.py"
    py.write_text(py_src)
    return [f"UNIT_BIN={unit}", f"UNIT_LOG={tmp_path}/unit.log",
            f"INTEGRATION_ARGS={py}", f"INTEGRATION_LOG={tmp_path}/int.log",
            f"INTEGRATION_XML={tmp_path}/int.xml"]


def _make(target, tmp_path, unit_src=PASSING_UNIT, py_src=PASSING_PY):
    args = ["make", "--no-print-directory", "-o", "bin/shoal-node", "-o", "build/.deps-ok",
            target] + _setup(tmp_path, unit_src, py_src)
    return subprocess.run(args, cwd=h.REPO_ROOT, env=_env(), capture_output=True, text=True,
                          timeout=120)


def test_make_unit_fails_when_a_unit_test_fails(tmp_path):
    r = _make("unit", tmp_path, unit_src=FAILING_UNIT)
    assert r.returncode != 0, r.stdout + r.stderr
    assert "unit: 2 passed, 1 failed" in (tmp_path / "unit.log").read_text()


def test_make_unit_succeeds_when_unit_tests_pass(tmp_path):
    r = _make("unit", tmp_path)
    assert r.returncode == 0, r.stdout + r.stderr


def test_make_integration_fails_when_a_test_fails(tmp_path):
    r = _make("integration", tmp_path, py_src=FAILING_PY)
    assert r.returncode != 0, r.stdout + r.stderr
    assert "1 failed" in (tmp_path / "int.log").read_text()


def test_make_integration_succeeds_when_tests_pass(tmp_path):
    r = _make("integration", tmp_path)
    assert r.returncode == 0, r.stdout + r.stderr


def test_make_test_runs_both_halves_prints_summary_and_fails(tmp_path):
    # The unit half fails; the integration half must still run, and the summary follow.
    r = _make("test", tmp_path, unit_src=FAILING_UNIT)
    assert r.returncode != 0, r.stdout + r.stderr
    assert "1 passed" in (tmp_path / "int.log").read_text()
    assert r.stdout.rstrip().splitlines()[-1] == "3 passed, 1 failed", r.stdout

    r = _make("test", tmp_path, py_src=FAILING_PY)
    assert r.returncode != 0, r.stdout + r.stderr
    assert r.stdout.rstrip().splitlines()[-1] == "3 passed, 1 failed", r.stdout


def test_make_test_succeeds_when_everything_passes(tmp_path):
    r = _make("test", tmp_path)
    assert r.returncode == 0, r.stdout + r.stderr
    assert r.stdout.rstrip().splitlines()[-1] == "4 passed, 0 failed", r.stdout
