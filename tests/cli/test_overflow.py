#!/usr/bin/python3
"""End-to-end tests of the `signcut` binary. Values near the float32 limit, float64 output, non-finite results and checked writes to stdout.

usage: test_overflow.py SIGNCUT_BINARY SOURCE_ROOT REPORT_XML
"""
import functools
import os
import signal
import subprocess
import sys

import h5py
import numpy as np

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), os.pardir))
sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from signcut_testing import CliCase, digest, metrics, run_signcut, run_signcut_json, run_suite  # noqa: E402,F401
from sct_files import SctFile  # noqa: E402

SIGNCUT, ROOT, REPORT = sys.argv[1], sys.argv[2], sys.argv[3]
run = functools.partial(run_signcut, SIGNCUT)
run_json = functools.partial(run_signcut_json, SIGNCUT)

FLT_MAX = float(np.finfo(np.float32).max)


def field(shape, top, seed=1):
    """A smooth field with noise, scaled so that its largest magnitude is `top`."""
    rng = np.random.default_rng(seed)
    grids = np.meshgrid(*[np.arange(d) for d in shape], indexing="ij")
    x = np.sin(grids[0] / 7.0) * np.cos(grids[-1] / 5.0) + 0.2 * rng.standard_normal(shape)
    return x / np.abs(x).max() * top


def near_top(shape, seed=3):
    """Values between 0.7·FLT_MAX and FLT_MAX: an approximation overshoots
    the float32 range at some entries."""
    rng = np.random.default_rng(seed)
    return (FLT_MAX * (1 - 0.3 * rng.random(shape))).astype(np.float32)


def rebuild64(path):
    """The file's tensor summed in float64, term after term in term order
    (the contract of DESIGN §6 read with h5py alone)."""
    return SctFile(path).rebuild(dtype=np.float64)


def read(path, name="data"):
    with h5py.File(path, "r") as f:
        return f[name][...]


class CliOverflow(CliCase):
    binary = SIGNCUT

    def compress(self, x, name, *args):
        src = self.h5(name + ".h5", x)
        dec = self.path(name + ".sct.h5")
        j = run_json("compress", src, "-o", dec, *args)
        return src, dec, j

    def assert_measured(self, j, x, y, rel=1e-6):
        """JSON metrics of signcut against numpy's on the float64 reconstruction."""
        m = metrics(x.astype(np.float32).astype(np.float64), y)
        for k in ("rel_fro_error", "rmse", "max_abs_error"):
            self.assertIsNotNone(j[k], k)
            self.assert_close(j[k], m[k], rel, k)
        self.assertGreater(j["max_abs_error"], 0)

    # --- compress, decompress and eval near the limit ----------------------

    def test_field_scaled_to_3e38_round_trips(self):
        for shape, block in (((40, 50), "whole"), ((40, 50), "auto"), ((48, 40, 3), "16x16x3")):
            x = field(shape, 3e38).astype(np.float32)
            src, dec, j = self.compress(x, f"f{len(shape)}{block}", "-b", "1", "--block", block)
            f = SctFile(dec)
            self.assertTrue(np.isfinite(f.scales).all(), f"{shape} {block}")
            self.assertGreater(f.width, 0)
            y = rebuild64(dec)
            self.assertTrue(np.isfinite(y).all())
            self.assert_measured(j, x, y, 1e-5)
            self.assertLess(j["rel_fro_error"], 1.0)
            # decompress reads the file it wrote; float64 holds the exact sums.
            out = self.path("back64.h5")
            run("decompress", dec, "-o", out, "--dtype", "float64", "--force")
            np.testing.assert_array_equal(read(out), y)
            e = run_json("eval", src, dec)
            self.assert_measured(e, x, y, 1e-5)
            # float32: finite values, or a refusal that names --dtype float64.
            out32 = self.path("back32.h5")
            p = subprocess.run([SIGNCUT, "decompress", dec, "-o", out32, "--force"], capture_output=True, text=True)
            if p.returncode == 0:
                self.assertTrue(np.isfinite(read(out32)).all())
            else:
                self.assertEqual(p.returncode, 1)
                self.assertIn("--dtype float64", p.stderr)

    def test_a_few_huge_values_among_ordinary_ones(self):
        x = np.random.default_rng(2).standard_normal((40, 50)).astype(np.float32)
        x[3, 4], x[10, 20], x[30, 40] = 2e38, -2e38, 3e38
        for args in (["-b", "1"], ["-w", "20", "--block", "whole"], ["-e", "0.5", "--block", "whole"]):
            src, dec, j = self.compress(x, "few", *args, "--force")
            self.assertTrue(np.isfinite(SctFile(dec).scales).all(), args)
            y = rebuild64(dec)
            self.assert_measured(j, x, y, 1e-5)
            e = run_json("eval", src, dec)
            self.assert_measured(e, x, y, 1e-5)

    def test_float64_input_near_the_limit(self):
        x = field((40, 50), 3.4e38)  # float64, every value within float32's range
        src, dec, j = self.compress(x, "f64", "-b", "1")
        self.assertTrue(np.isfinite(SctFile(dec).scales).all())
        y = rebuild64(dec)
        self.assert_measured(j, x, y, 1e-5)
        out = self.path("back.h5")
        run("decompress", dec, "-o", out)  # the original's dtype: float64, summed in double
        z = read(out)
        self.assertEqual(z.dtype, np.float64)
        np.testing.assert_array_equal(z, y)

    def test_float64_input_beyond_float32_is_refused(self):
        x = field((40, 50), 1.0)
        x[7, 7] = 1e39
        src = self.h5("beyond.h5", x)
        self.refuse(["compress", src, "-o", self.path("o.h5")], 1, "beyond the float32 range", [src],
                    self.path("o.h5"))

    # --- float32 reconstructions that overflow -----------------------------

    def test_an_overflowing_float32_reconstruction_is_refused_and_float64_is_exact(self):
        x = near_top((40, 50))
        src, dec, j = self.compress(x, "top", "-b", "2", "--block", "whole")
        y = rebuild64(dec)
        self.assertGreater(np.abs(y).max(), FLT_MAX)  # the sums pass the float32 range
        self.assert_measured(j, x, y, 1e-6)
        out = self.path("top32.h5")
        self.refuse(["decompress", dec, "-o", out], 1, "--dtype float64", [dec], out)
        self.refuse(["decompress", dec, "-o", out, "--region", "0:20,:"], 1, "overflows at", [dec], out)
        out64 = self.path("top64.h5")
        d = run_json("decompress", dec, "-o", out64, "--dtype", "float64")
        self.assertEqual(d["shape"], [40, 50])
        z = read(out64)
        self.assertTrue(np.isfinite(z).all())
        np.testing.assert_array_equal(z, y)
        # A region in float64 equals the same slice of the whole, bit for bit.
        part = self.path("part64.h5")
        run("decompress", dec, "-o", part, "--dtype", "float64", "--region", "3:17,5:40")
        np.testing.assert_array_equal(read(part), z[3:17, 5:40])
        e = run_json("eval", src, dec)
        self.assert_measured(e, x, z, 1e-6)
        p = run("eval", src, dec)
        self.assertNotIn("nan", p.stdout.lower())
        self.assertIn("--dtype float64", p.stderr)

    def test_overflowing_blocks_are_measured_in_double(self):
        x = near_top((64, 48), seed=4)
        src, dec, j = self.compress(x, "topb", "-b", "3", "--block", "16x16")
        y = rebuild64(dec)
        self.assert_measured(j, x, y, 1e-6)
        self.assert_measured(run_json("eval", src, dec), x, y, 1e-6)

    def test_stored_scales_of_3e38(self):
        # A file whose finite scales sum beyond float32: every term 3e38 (or
        # -3e38), so values reach ±w·3e38 in float64.
        x = np.random.default_rng(5).standard_normal((20, 30)).astype(np.float32)
        src, dec, _ = self.compress(x, "s", "-w", "4", "--block", "whole")
        with h5py.File(dec, "r+") as f:
            f["decomposition/scales"][...] = np.array([3e38, 3e38, -3e38, 3e38], np.float32)
        y = rebuild64(dec)
        self.assertGreater(np.abs(y).max(), 3 * FLT_MAX)
        out = self.path("s32.h5")
        self.refuse(["decompress", dec, "-o", out], 1, "--dtype float64", [dec], out)
        out64 = self.path("s64.h5")
        run("decompress", dec, "-o", out64, "--dtype", "float64")
        np.testing.assert_array_equal(read(out64), y)
        e = run_json("eval", src, dec)
        self.assert_measured(e, x, y, 1e-9)
        p = run("eval", src, dec)
        self.assertNotIn("nan", p.stdout.lower())
        # The warning counts the float32 values that overflow: at least those
        # beyond float32, as partial sums can also overflow where the final
        # value fits (3e38 + 3e38 − 3e38).
        count = int(p.stderr.split("signcut: warning: ")[1].split()[0])
        self.assertGreaterEqual(count, int((np.abs(y) > FLT_MAX).sum()))

    def test_lplr_near_the_limit(self):
        for name, x in (("lf", field((40, 50), 3e38).astype(np.float32)), ("lt", near_top((40, 50)))):
            src = self.h5(name + ".h5", x)
            dec = self.path(name + ".lplr.h5")
            j = run_json("compress", src, "-o", dec, "--method", "lplr", "-b", "4")
            for k in ("rel_fro_error", "rmse", "max_abs_error"):
                self.assertIsNotNone(j[k], k)
            out64 = self.path(name + "64.h5")
            run("decompress", dec, "-o", out64, "--dtype", "float64")
            z = read(out64)
            self.assertTrue(np.isfinite(z).all())
            self.assert_measured(j, x, z, 1e-4)
            e = run_json("eval", src, dec)
            self.assert_measured(e, x, z, 1e-4)
            out32 = self.path(name + "32.h5")
            p = subprocess.run([SIGNCUT, "decompress", dec, "-o", out32], capture_output=True, text=True)
            if p.returncode != 0:
                self.assertEqual(p.returncode, 1)
                self.assertIn("--dtype float64", p.stderr)
                self.assertFalse(os.path.exists(out32))
            else:
                self.assertTrue(np.isfinite(read(out32)).all())

    def test_ordinary_float64_output_is_the_float32_one_summed_in_double(self):
        x = field((48, 40, 3), 1.0).astype(np.float32)
        src, dec, _ = self.compress(x, "ord", "-b", "1.5", "--block", "16x16x3")
        y = rebuild64(dec)
        out64, out32 = self.path("o64.h5"), self.path("o32.h5")
        run("decompress", dec, "-o", out64, "--dtype", "float64")
        run("decompress", dec, "-o", out32)
        np.testing.assert_array_equal(read(out64), y)
        np.testing.assert_allclose(read(out32), y, rtol=0, atol=SctFile(dec).tolerance())
        part = self.path("p64.h5")
        run("decompress", dec, "-o", part, "--dtype", "float64", "--region", "5:40,7,:")
        np.testing.assert_array_equal(read(part), read(out64)[5:40, 7, :])

    # --- every write to stdout is checked ----------------------------------

    def stdout_to(self, args, **kw):
        return subprocess.run([SIGNCUT, *map(str, args)], stderr=subprocess.PIPE, text=True, timeout=600, **kw)

    def assert_lost_output_fails(self, p, reason):
        self.assertEqual(p.returncode, 1, p.stderr)
        lines = [line for line in p.stderr.splitlines() if line.strip()]
        self.assertEqual(len(lines), 1, p.stderr)
        self.assertTrue(lines[0].startswith("signcut: error: cannot write to standard output: "), lines[0])
        self.assertIn(reason, lines[0])

    def commands(self):
        x = field((20, 30), 1.0).astype(np.float32)
        src, dec, _ = self.compress(x, "w", "-b", "2")
        out = self.path("w.back.h5")
        return [["info", dec, "--json"], ["info", dec], ["eval", src, dec, "--json"], ["eval", src, dec],
                ["decompress", dec, "-o", out, "--json", "--force"],
                ["compress", src, "-o", self.path("w2.sct.h5"), "--json", "--force"],
                ["recut", dec, "-o", self.path("w3.sct.h5"), "-b", "1", "--json", "--force"],
                ["compare", src, "-b", "1", "--methods", "nq,bf16", "--json"],
                ["compare", src, "-b", "1", "--methods", "nq,bf16"]]

    def test_output_to_a_full_device_exits_1(self):
        if not os.path.exists("/dev/full"):
            self.skipTest("no /dev/full")
        for args in self.commands():
            with open("/dev/full", "w") as full:
                p = self.stdout_to(args, stdout=full)
            with self.subTest(args=args[:2]):
                self.assert_lost_output_fails(p, "No space left on device")

    def test_output_to_a_closed_stdout_exits_1(self):
        for args in self.commands():
            # The shell's `>&-`: the process starts with descriptor 1 closed.
            p = subprocess.run(["/bin/sh", "-c", 'exec "$@" >&-', "sh", SIGNCUT, *map(str, args)],
                               stderr=subprocess.PIPE, text=True, timeout=600)
            with self.subTest(args=args[:2]):
                self.assert_lost_output_fails(p, "Bad file descriptor")

    def test_a_pipe_closed_by_its_reader_ends_quietly_with_sigpipe(self):
        # `signcut info f | head` whose reader has gone: SIGPIPE, as for any
        # Unix tool, and no error line.
        args = self.commands()[0]
        r, w = os.pipe()
        os.close(r)
        try:
            p = subprocess.run([SIGNCUT, *args], stdout=w, stderr=subprocess.PIPE, text=True, timeout=600)
        finally:
            os.close(w)
        self.assertEqual(p.returncode, -signal.SIGPIPE, p.stderr)
        self.assertEqual(p.stderr, "")

    def test_output_to_a_working_stdout_is_complete(self):
        for args in self.commands():
            p = run(*args)
            self.assertTrue(p.stdout.endswith("\n"), args)


if __name__ == "__main__":
    run_suite(CliOverflow, "cli-overflow", REPORT)
