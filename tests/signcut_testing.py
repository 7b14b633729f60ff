"""What the Python test programs share: running the `signcut` binary,
independent error metrics, file digests, a test case with its own temporary
folder, and the Boost.Test-style XML report through which CI counts cases.
"""
import hashlib
import json
import os
import shutil
import subprocess
import sys
import tempfile
import time
import unittest

import numpy as np


def run_signcut(binary, *args, expect=0, timeout=600):
    """Runs `binary args...`; fails the test unless it exits with `expect`."""
    p = subprocess.run([binary, *map(str, args)], capture_output=True, text=True, timeout=timeout)
    if p.returncode != expect:
        raise AssertionError(f"signcut {' '.join(map(str, args))} exited {p.returncode}, expected {expect}\n"
                             f"stdout: {p.stdout}\nstderr: {p.stderr}")
    return p


def run_signcut_json(binary, *args):
    """The one JSON object `binary args... --json` prints."""
    return json.loads(run_signcut(binary, *args, "--json").stdout)


def metrics(x, y):
    """Relative Frobenius error, RMSE, max |error| and PSNR (over the range
    of x), in float64, as the CLI defines them."""
    x = x.astype(np.float64)
    e = x - y
    norm = np.linalg.norm(x)
    rel = np.linalg.norm(e) / norm if norm > 0 else (0.0 if not e.any() else float("inf"))
    rmse = float(np.sqrt(np.mean(e * e)))
    rng = float(x.max() - x.min())
    psnr = float("inf") if rmse == 0 else (20 * np.log10(rng / rmse) if rng > 0 else float("-inf"))
    return {"rel_fro_error": rel, "rmse": rmse, "max_abs_error": float(np.abs(e).max()), "psnr_db": psnr}


def digest(path):
    with open(path, "rb") as f:
        return hashlib.sha256(f.read()).hexdigest()


class TempFolderCase(unittest.TestCase):
    """A test case whose every test gets a fresh temporary folder."""
    folder_prefix = "signcut-test-"

    def setUp(self):
        self.dir = tempfile.mkdtemp(prefix=self.folder_prefix)

    def tearDown(self):
        shutil.rmtree(self.dir, ignore_errors=True)

    def path(self, name):
        return os.path.join(self.dir, name)

    def h5(self, name, data, dataset="data", **kw):
        """Writes `data` as one dataset of a new HDF5 file; returns its path."""
        import h5py
        p = self.path(name)
        with h5py.File(p, "w") as f:
            f.create_dataset(dataset, data=data, **kw)
        return p

    def assert_close(self, a, b, rel=1e-5, msg=""):
        """|a - b| <= rel·|b| (a and b both None also passes)."""
        if b is None or a is None:
            self.assertEqual(a, b, msg)
        else:
            self.assertLessEqual(abs(a - b), rel * max(abs(b), 1e-12), f"{msg}: {a} vs {b}")


class CliCase(TempFolderCase):
    """A test case of the `signcut` binary (`binary`, set by the subclass)."""
    binary = None

    def refuse(self, args, code, fragment, inputs=(), output=None):
        """`signcut args` must exit with `code` and print exactly one line,
        a `signcut: error:` naming `fragment`, leave `inputs` unchanged, not
        write `output`, and leave no temporary file in the test's folder."""
        before = {p: digest(p) for p in inputs if os.path.exists(p)}
        p = subprocess.run([self.binary, *map(str, args)], capture_output=True, text=True, timeout=600)
        self.assertEqual(p.returncode, code, f"{args}: {p.stderr}")
        lines = [line for line in p.stderr.splitlines() if line.strip()]
        self.assertEqual(len(lines), 1, f"{args}: stderr was {p.stderr!r}")
        self.assertTrue(lines[0].startswith("signcut: error: "), lines[0])
        self.assertIn(fragment, lines[0])
        if output:
            self.assertFalse(os.path.exists(output), f"{output} was written")
        for path, h in before.items():
            self.assertEqual(digest(path), h, f"{path} changed")
        self.assertEqual([f for f in os.listdir(self.dir) if "signcut-tmp" in f], [])


# The sanitizer build runs these suites too (.ci/check-sanitizers), some
# twenty times slower; there the largest inputs shrink and what a sanitizer
# cannot see (RSS, kills, wall time) is left to the release build.
UNDER_SANITIZERS = "ASAN_OPTIONS" in os.environ


class _TimedResult(unittest.TextTestResult):
    """A text result that also keeps each case's wall time."""

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.seconds = {}

    def startTest(self, test):
        self._t0 = time.monotonic()
        super().startTest(test)

    def stopTest(self, test):
        self.seconds[test._testMethodName] = time.monotonic() - self._t0
        super().stopTest(test)


def run_suite(case, suite_name, report_path, after=None):
    """Runs every test of `case`, writes the XML report CI reads, and exits
    non-zero if any failed. `after(result)` may print figures first."""
    suite = unittest.defaultTestLoader.loadTestsFromTestCase(case)
    result = unittest.TextTestRunner(verbosity=2, resultclass=_TimedResult).run(suite)
    # Where the suite's time went, slowest first: CI's budget is kept by it.
    for name, seconds in sorted(result.seconds.items(), key=lambda kv: -kv[1])[:5]:
        print(f"  {seconds:7.1f} s  {name}", file=sys.stderr)
    if after is not None:
        after(result)
    failed = len(result.failures) + len(result.errors)
    skipped = len(result.skipped)
    passed = result.testsRun - failed - skipped
    with open(report_path, "w") as f:
        f.write('<TestResult><TestSuite name="{}" result="{}" test_cases_passed="{}" test_cases_failed="{}" '
                'test_cases_skipped="{}" test_cases_aborted="0"/></TestResult>\n'.format(
                    suite_name, "passed" if failed == 0 else "failed", passed, failed, skipped))
    sys.exit(0 if failed == 0 else 1)
