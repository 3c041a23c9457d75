#!/usr/bin/python3
"""Adds the unit runner's count and pytest's junit counts into one line: N passed, N failed."""
import re
import sys
import xml.etree.ElementTree as ET

passed = failed = 0
unit_log, junit = sys.argv[1], sys.argv[2]
try:
    text = open(unit_log).read()
    m = re.findall(r"unit: (\d+) passed, (\d+) failed", text)
    if m:
        passed += int(m[-1][0]); failed += int(m[-1][1])
    else:
        print("unit tests did not finish (crash or sanitizer report)")
        failed += 1
except OSError:
    print("no unit test log"); failed += 1
try:
    root = ET.parse(junit).getroot()
    suites = [root] if root.tag == "testsuite" else list(root)
    for s in suites:
        total = int(s.get("tests", 0)); f = int(s.get("failures", 0)) + int(s.get("errors", 0))
        sk = int(s.get("skipped", 0))
        passed += total - f - sk; failed += f + sk   # a skipped test counts as not passed
except (OSError, ET.ParseError):
    print("no integration test results"); failed += 1
# `make test` leaves the redis-server-only reference runs to `make reference`; say how many
# (conftest.py notes the count in <junit file>.left).
left = 0
try:
    left = int(open(junit + ".left").read())
except (OSError, ValueError):
    pass
if left:
    print(f"({left} reference runs that start only redis-server are left to `make reference`)")
print(f"{passed} passed, {failed} failed")
sys.exit(1 if failed else 0)
