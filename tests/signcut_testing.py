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


def write_netcdf_like_file(path, user_block=512):
    """A netCDF-4-style file: dimension scales attached to a variable, global
    and variable attributes (variable- and fixed-length strings, numbers), a
    group, a dataset of object references, a compound dataset and a user
    block of `user_block` bytes."""
    import h5py
    x = np.random.default_rng(1).standard_normal((48, 40))
    x = np.cumsum(np.cumsum(x, axis=0), axis=1).astype(np.float32)
    with h5py.File(path, "w", userblock_size=user_block, track_order=True) as f:
        f.attrs["title"] = "a test field"
        f.attrs["Conventions"] = np.bytes_("CF-1.8")
        f["lat"] = np.linspace(-90, 90, 48)
        f["lon"] = np.linspace(0, 357.5, 40)
        f["lat"].make_scale("lat")
        f["lon"].make_scale("lon")
        t = f.create_dataset("t", data=x, chunks=(16, 20), compression="gzip")
        t.attrs["units"] = "K"
        t.attrs["long_name"] = np.bytes_("air temperature")
        t.attrs["valid_range"] = np.array([-500, 500], np.float32)
        t.attrs["_FillValue"] = np.float32(-9999)
        t.attrs["levels"] = np.array([1, 2, 3], np.int16)
        t.dims[0].attach_scale(f["lat"])
        t.dims[1].attach_scale(f["lon"])
        g = f.create_group("meta")
        g.attrs["licence"] = "CC-BY-4.0"
        g["counts"] = np.arange(12, dtype=np.int64).reshape(3, 4)
        refs = g.create_dataset("refs", (2,), dtype=h5py.ref_dtype)
        refs[0] = f["t"].ref
        refs[1] = f["lat"].ref
        g["table"] = np.array([(1, 2.5), (2, 3.5)], dtype=[("id", "<i4"), ("v", "<f8")])
    if user_block:
        with open(path, "r+b") as fh:
            fh.write(b"USERBLOCK: keep me".ljust(64, b"."))


def hdf5_snapshot(path, user_block=0, leave_out=()):
    """Everything of a file h5py sees, as comparable values: every object's
    kind, data and attributes, with references shown as the names they point
    to, plus the user block's bytes; the objects named in `leave_out` (and
    their members) are left out."""
    import h5py
    out = {}
    with open(path, "rb") as fh:
        out["#userblock"] = fh.read(user_block)

    def value(v, f):
        if isinstance(v, h5py.Reference):
            return ("ref", f[v].name if v else None)
        if isinstance(v, np.void):
            return tuple(value(e, f) for e in v)
        if isinstance(v, np.ndarray):
            if v.dtype == object or (v.dtype.fields and any(d[0].hasobject for d in v.dtype.fields.values())):
                return tuple(value(e, f) for e in v.ravel())
            return (v.dtype.str, v.shape, v.tobytes())
        if isinstance(v, bytes):
            return ("bytes", v)
        return ("value", repr(v))

    def left_out(name):
        return any(name == n or name.startswith(n + "/") for n in leave_out)

    with h5py.File(path, "r") as f:
        def visit(name, obj):
            if left_out(name):
                return
            attrs = tuple(sorted((k, value(obj.attrs[k], f)) for k in obj.attrs))
            if isinstance(obj, h5py.Dataset):
                out[name] = ("dataset", value(obj[()], f), attrs)
            else:
                out[name] = ("group", attrs)
        out["/"] = ("group", tuple(sorted((k, value(f.attrs[k], f)) for k in f.attrs)))
        f.visititems(visit)
    return out


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
