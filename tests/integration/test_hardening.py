"""The release build of shoal-node is hardened as Debian builds redis-server.

Reads the ELF of bin/shoal-node with readelf, as checksec does: a position-independent
executable, full RELRO (a GNU_RELRO segment and BIND_NOW, so the GOT is read-only once the
node runs), a non-executable stack, stack canaries (__stack_chk_fail referenced) and fortified
libc calls (*_chk symbols from -D_FORTIFY_SOURCE=2).

The file checked is the release binary of this repository, not $SHOAL_NODE (which may be
a sanitizer build, where fortification is off by design); SHOAL_HARDENED_ELF names another.
"""
import os
import re
import subprocess

import helpers as h

ELF = os.environ.get("SHOAL_HARDENED_ELF", str(h.REPO_ROOT / "bin" / "shoal-node"))


def _readelf(*args):
    return subprocess.run(["readelf", "-W", *args, ELF], check=True, capture_output=True,
                          text=True).stdout


def _dynsyms():
    names = set()
    for line in _readelf("--dyn-syms").splitlines():
        parts = line.split()
        if len(parts) >= 8 and parts[0].endswith(":"):
            names.add(parts[7].split("@")[0])
    return names


def test_elf_is_pie():
    assert re.search(r"Type:\s+DYN\b", _readelf("-h"))
    assert re.search(r"FLAGS_1\).*\bPIE\b", _readelf("-d"))


def test_elf_has_full_relro():
    assert "GNU_RELRO" in _readelf("-l")
    dyn = _readelf("-d")
    assert re.search(r"\(FLAGS\).*\bBIND_NOW\b", dyn) or re.search(r"\(BIND_NOW\)", dyn), dyn


def test_elf_stack_is_not_executable():
    stack = [ln for ln in _readelf("-l").splitlines() if "GNU_STACK" in ln]
    assert stack and " RWE " not in stack[0], stack


def test_elf_has_stack_protector():
    assert "__stack_chk_fail" in _dynsyms()


def test_elf_is_fortified():
    syms = _dynsyms()
    fortified = sorted(s for s in syms if re.fullmatch(r"__\w+_chk", s) and s != "__stack_chk_fail")
    # The node copies and formats a lot; with -D_FORTIFY_SOURCE=2 at -O2 these calls with a
    # known destination size go through the checked variants.
    assert "__memcpy_chk" in fortified and "__snprintf_chk" in fortified, fortified
