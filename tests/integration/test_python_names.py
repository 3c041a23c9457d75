"""Every Python file of bench/ and tests/ names only things it defines or imports.

A bench section runs only in `make bench`, so a lost import there (tls_bench.py lost
`import os` in a rebase twice) is found only when someone runs it. pyflakes (Debian's
python3-pyflakes, installed by `make deps`) reads the files without running them; this
test fails on its "undefined name" findings and leaves its style findings alone.
"""
import subprocess
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]


def undefined_names(paths):
    out = subprocess.run(["/usr/bin/python3", "-m", "pyflakes", *map(str, paths)],
                         capture_output=True, text=True, timeout=120)
    return [line for line in out.stdout.splitlines() if "undefined name" in line]


def test_bench_and_test_scripts_use_no_undefined_name():
    files = sorted(ROOT.glob("bench/*.py")) + sorted(ROOT.glob("tests/**/*.py"))
    assert len(files) > 50
    assert undefined_names(files) == []


def test_the_check_finds_an_undefined_name(tmp_path):
    bad = tmp_path / "bad.py"
    bad.write_text("import sys\n\ndef f():\n    return os.getpid() + len(sys.argv)\n")
    assert len(undefined_names([bad])) == 1
