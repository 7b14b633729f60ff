#!/usr/bin/env python3
"""Counts test cases across a `meson test` run.

Boost.Test executables write an XML report (see tests/meson.build); each of
their test cases counts once, and so does each case of a JUnit report (what
pytest writes for the Python suite). Any other test (a script) counts as one
case.
A Boost executable that crashed before writing its report counts as one
failure. Prints "N passed, N failed, N skipped" and exits 1 if anything
failed.
"""
import json
import os
import sys
import xml.etree.ElementTree as ET

build = sys.argv[1] if len(sys.argv) > 1 else "build"
passed = failed = skipped = 0
log = os.path.join(build, "meson-logs", "testlog.json")
if not os.path.exists(log):
    print("no test log found", file=sys.stderr)
    print("0 passed, 1 failed")
    sys.exit(1)
with open(log) as f:
    runs = [json.loads(line) for line in f if line.strip()]
for run in runs:
    # meson names tests "project / name" once any test has a suite.
    name = run["name"].split(" / ")[-1]
    result = run["result"]
    report = os.path.join(build, "test-reports", name + ".xml")
    if os.path.exists(report):
        try:
            root = ET.parse(report).getroot()
            if root.tag in ("testsuites", "testsuite"):
                # JUnit (pytest --junitxml): one <testsuite> or several.
                suites = [root] if root.tag == "testsuite" else root.findall("testsuite")
                total = sum(int(s_.get("tests", 0)) for s_ in suites)
                f_ = sum(int(s_.get("failures", 0)) + int(s_.get("errors", 0)) for s_ in suites)
                s = sum(int(s_.get("skipped", 0)) for s_ in suites)
                if result not in ("OK", "EXPECTEDFAIL") and f_ == 0:
                    f_ = 1
                passed, failed, skipped = passed + total - f_ - s, failed + f_, skipped + s
                continue
            suite = root.find("TestSuite")
            p = int(suite.get("test_cases_passed", 0)) + int(suite.get("test_cases_passed_with_warnings", 0))
            f_ = int(suite.get("test_cases_failed", 0)) + int(suite.get("test_cases_aborted", 0))
            s = int(suite.get("test_cases_skipped", 0))
            if result not in ("OK", "EXPECTEDFAIL") and f_ == 0:
                f_ = 1  # the executable failed outside any test case
            passed, failed, skipped = passed + p, failed + f_, skipped + s
            continue
        except (ET.ParseError, AttributeError, ValueError):
            failed += 1
            continue
    if result in ("OK", "EXPECTEDFAIL"):
        passed += 1
    elif result == "SKIP":
        skipped += 1
    else:
        failed += 1
print(f"tests: {passed} passed, {failed} failed, {skipped} skipped")
with open(os.path.join(build, "test-reports", "counts.txt"), "w") as f:
    f.write(f"{passed} {failed} {skipped}\n")
sys.exit(1 if failed else 0)
