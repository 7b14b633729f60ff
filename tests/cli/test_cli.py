#!/usr/bin/python3
"""End-to-end tests of the `signcut` binary.

Every case runs the real executable, and checks what it prints against an
independent recomputation with h5py and numpy (the reconstruction is rebuilt
from the decomposition file alone). Results are written as a Boost.Test-style
XML report so that CI counts each case.

usage: test_cli.py SIGNCUT_BINARY SOURCE_ROOT REPORT_XML
"""
import functools
import json
import os
import shutil
import struct
import sys

import h5py
import numpy as np

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), os.pardir))
from signcut_testing import CliCase, digest, metrics, run_signcut, run_signcut_json, run_suite  # noqa: E402

SIGNCUT, ROOT, REPORT = sys.argv[1], sys.argv[2], sys.argv[3]
CAT = os.path.join(ROOT, "data", "skimage_chelsea.png")
TOPO = os.path.join(ROOT, "data", "topo_etopo20.h5")

COMPRESS_KEYS = ["method", "shape", "width", "bits_per_value", "compression_ratio", "file_bytes", "rel_fro_error",
                 "max_abs_error", "rmse", "psnr_db", "seconds", "decompose_seconds", "arch", "threads", "seed",
                 "target_reached"]
DTYPE_BYTES = {"float16": 2, "float32": 4, "float64": 8, "int8": 1, "int16": 2, "int32": 4, "int64": 8,
               "uint8": 1, "uint16": 2, "uint32": 4, "uint64": 8}


run = functools.partial(run_signcut, SIGNCUT)
run_json = functools.partial(run_signcut_json, SIGNCUT)


def rebuild(path, width=None):
    """The tensor a decomposition file describes, from the file alone."""
    with h5py.File(path, "r") as f:
        g = f["decomposition"]
        shape = [int(d) for d in g.attrs["shape"]]
        w = int(g.attrs["width"]) if width is None else width
        scales = g["scales"][:w].astype(np.float64)
        out = np.zeros(shape)
        factors = []
        for a, d in enumerate(shape):
            words = g["signs"][f"mode_{a}"][:w]
            bits = np.unpackbits(words.astype("<u8").view(np.uint8).reshape(w, -1), axis=1, bitorder="little")
            factors.append(1.0 - 2.0 * bits[:, :d])
        for j in range(w):
            term = np.array(scales[j])
            for a in range(len(shape)):
                term = np.multiply.outer(term, factors[a][j])
            out += term
        return out


def png_size(path):
    with open(path, "rb") as f:
        head = f.read(24)
    assert head[:8] == b"\x89PNG\r\n\x1a\n", "not a PNG"
    return struct.unpack(">II", head[16:24])  # width, height


class Cli(CliCase):
    binary = SIGNCUT
    folder_prefix = "signcut-cli-"

    # ---- JSON contracts, checked against recomputation ----

    def test_compress_json_keys_and_values(self):
        rng = np.random.default_rng(1)
        x = rng.standard_normal((40, 30, 6)).astype(np.float32)
        src = self.h5("x.h5", x)
        out = self.path("x.sct.h5")
        j = run_json("compress", src + ":/data", "-o", out, "--bits-per-value", "2", "--seed", "7")
        self.assertEqual(list(j.keys())[:len(COMPRESS_KEYS)], COMPRESS_KEYS)
        self.assertEqual(j["shape"], [40, 30, 6])
        self.assertEqual(j["method"], "sct")
        self.assertEqual(j["seed"], 7)
        self.assertEqual(j["file_bytes"], os.path.getsize(out))
        self.assert_close(j["bits_per_value"], (40 + 30 + 6 + 32) * j["width"] / x.size)
        self.assertLessEqual(j["bits_per_value"], 2.0)
        self.assertGreater((40 + 30 + 6 + 32) * (j["width"] + 1) / x.size, 2.0)
        self.assert_close(j["compression_ratio"], x.size * 4 / os.path.getsize(out))
        m = metrics(x, rebuild(out))
        for k in ("rel_fro_error", "rmse", "max_abs_error", "psnr_db"):
            self.assert_close(j[k], m[k], 1e-4, k)
        self.assertTrue(j["target_reached"])
        self.assertIn(j["arch"], ("scalar", "avx2", "avx512"))

    def test_info_json(self):
        x = np.random.default_rng(2).standard_normal((33, 70)).astype(np.float64)
        src = self.h5("d.h5", x)
        out = self.path("d.sct.h5")
        c = run_json("compress", src, "-o", out, "--width", "9")
        j = run_json("info", out)
        for k in ("method", "shape", "original_dtype", "width", "bits_per_value", "compression_ratio", "file_bytes",
                  "rel_fro_error", "provenance"):
            self.assertIn(k, j)
        self.assertEqual(j["original_dtype"], "float64")
        self.assertEqual(j["width"], 9)
        self.assertEqual(j["file_bytes"], os.path.getsize(out))
        self.assert_close(j["compression_ratio"], x.size * 8 / os.path.getsize(out))
        self.assert_close(j["rel_fro_error"], c["rel_fro_error"], 1e-12)
        self.assertEqual(j["provenance"]["seed"], 0)

    def test_decompress_and_eval_json(self):
        x = np.random.default_rng(3).standard_normal((50, 20)).astype(np.float32)
        src = self.h5("e.h5", x)
        dec = self.path("e.sct.h5")
        run_json("compress", src, "-o", dec, "--width", "12")
        out = self.path("back.h5")
        j = run_json("decompress", dec, "-o", out + ":/restored", "--width", "5")
        self.assertEqual(set(j), {"shape", "width", "seconds", "file_bytes"})
        self.assertEqual(j["width"], 5)
        self.assertEqual(j["file_bytes"], os.path.getsize(out))
        with h5py.File(out, "r") as f:
            y = f["restored"][...]
            self.assertEqual(y.dtype, np.float32)
        np.testing.assert_allclose(y, rebuild(dec, 5), rtol=1e-5, atol=1e-5)
        e = run_json("eval", src, dec, "--width", "5")
        self.assertEqual(set(e), {"width", "rel_fro_error", "max_abs_error", "rmse", "psnr_db"})
        m = metrics(x, rebuild(dec, 5))
        for k in ("rel_fro_error", "rmse", "max_abs_error", "psnr_db"):
            self.assert_close(e[k], m[k], 1e-4, k)

    def test_decompress_keeps_integer_dtype_rounded_and_clamped(self):
        x = (np.arange(12 * 10).reshape(12, 10) % 250).astype(np.uint8)
        src = self.h5("u.h5", x)
        dec = self.path("u.sct.h5")
        run_json("compress", src, "-o", dec, "--width", "4")
        out = self.path("u-back.h5")
        run("decompress", dec, "-o", out)
        with h5py.File(out, "r") as f:
            y = f["data"][...]
        self.assertEqual(y.dtype, np.uint8)
        ref = np.clip(np.round(rebuild(dec)), 0, 255)
        self.assertLessEqual(np.abs(y.astype(float) - ref).max(), 1.0)

    def test_image_to_png(self):
        out = self.path("cat.png")
        j = run_json("image", CAT, "-o", out, "--bits-per-value", "1")
        self.assertEqual(png_size(out), (451, 300))
        for k in COMPRESS_KEYS + ["png_psnr_db"]:
            self.assertIn(k, j)
        self.assertEqual(j["shape"], [300, 451, 3])
        self.assertLess(j["rel_fro_error"], 0.05)
        self.assertLessEqual(j["bits_per_value"], 1.0)

    # ---- stopping rules ----

    def test_rel_error_stops_at_first_width_reaching_it(self):
        x = np.random.default_rng(4).standard_normal((60, 45)).astype(np.float32)
        src = self.h5("r.h5", x)
        dec = self.path("r.sct.h5")
        j = run_json("compress", src, "-o", dec, "--rel-error", "0.5")
        w = j["width"]
        self.assertTrue(j["target_reached"])
        self.assertLessEqual(metrics(x, rebuild(dec, w))["rel_fro_error"], 0.5 + 1e-6)
        self.assertGreater(metrics(x, rebuild(dec, w - 1))["rel_fro_error"], 0.5)

    def test_refit_lowers_the_error_and_marks_the_file(self):
        x = np.random.default_rng(9).standard_normal((48, 40)).astype(np.float32)
        src = self.h5("f.h5", x)
        greedy, refit = self.path("g.sct.h5"), self.path("f.sct.h5")
        jg = run_json("compress", src, "-o", greedy, "--width", "30")
        jr = run_json("compress", src, "-o", refit, "--width", "30", "--refit")
        self.assertFalse(jg["scales_refit"])
        self.assertTrue(jr["scales_refit"])
        self.assertEqual(jr["width"], 30)
        self.assert_close(jr["greedy_rel_fro_error"], jg["rel_fro_error"], 1e-6, "greedy error")
        # The reported error is the refit file's, recomputed from the file alone.
        self.assert_close(jr["rel_fro_error"], metrics(x, rebuild(refit))["rel_fro_error"], 1e-4, "refit error")
        self.assertLess(jr["rel_fro_error"], jg["rel_fro_error"])
        with h5py.File(refit, "r") as f, h5py.File(greedy, "r") as g:
            self.assertEqual(int(f["decomposition"].attrs["scales_refit"]), 1)
            self.assertEqual(int(g["decomposition"].attrs["scales_refit"]), 0)
            # Same signs: only the scales move.
            for a in range(2):
                self.assertTrue(np.array_equal(f["decomposition/signs"][f"mode_{a}"][:],
                                               g["decomposition/signs"][f"mode_{a}"][:]))
        self.assertTrue(run_json("info", refit)["scales_refit"])
        # --rel-error still picks the width by the greedy's error.
        jw = run_json("compress", src, "-o", self.path("w.sct.h5"), "--rel-error", "0.5", "--refit")
        jw0 = run_json("compress", src, "-o", self.path("w0.sct.h5"), "--rel-error", "0.5")
        self.assertEqual(jw["width"], jw0["width"])
        p = run("compress", src, "-o", self.path("l.h5"), "--method", "lplr", "--refit", expect=2)
        self.assertIn("--refit", p.stderr)

    def test_restarts_lower_the_error_and_the_update_cap_holds(self):
        x = np.random.default_rng(10).standard_normal((50, 41)).astype(np.float32)
        src = self.h5("s.h5", x)
        j0 = run_json("compress", src, "-o", self.path("s0.sct.h5"), "--width", "20")
        j2 = run_json("compress", src, "-o", self.path("s2.sct.h5"), "--width", "20", "--restarts", "2")
        run_json("compress", src, "-o", self.path("s2b.sct.h5"), "--width", "20", "--restarts", "2",
                 "--threads", "1")
        self.assertLess(j2["rel_fro_error"], j0["rel_fro_error"] * 1.01)
        self.assert_close(j2["rel_fro_error"], metrics(x, rebuild(self.path("s2.sct.h5")))["rel_fro_error"], 1e-4)
        with h5py.File(self.path("s2.sct.h5"), "r") as a, h5py.File(self.path("s2b.sct.h5"), "r") as b:
            self.assertTrue(np.array_equal(a["decomposition/scales"][:], b["decomposition/scales"][:]))
        run("compress", src, "-o", self.path("r.sct.h5"), "--restarts", "-1", expect=2)
        # The cap on mode updates holds for every start of every term.
        jc = run_json("compress", src, "-o", self.path("c.sct.h5"), "--width", "20", "--restarts", "2",
                      "--max-updates", "3")
        self.assertLessEqual(jc["mode_updates"], 3 * 20 * 3)
        self.assertGreater(j2["mode_updates"], jc["mode_updates"])
        self.assert_close(jc["rel_fro_error"], metrics(x, rebuild(self.path("c.sct.h5")))["rel_fro_error"], 1e-4)
        run("compress", src, "-o", self.path("c0.sct.h5"), "--max-updates", "0", expect=2)
        p = run("compress", src, "-o", self.path("l.h5"), "--method", "lplr", "--max-updates", "5", expect=2)
        self.assertIn("--max-updates", p.stderr)
        p = run("compress", src, "-o", self.path("l.h5"), "--method", "lplr", "--restarts", "1", expect=2)
        self.assertIn("--restarts", p.stderr)

    def test_bits_per_value_is_never_exceeded(self):
        x = np.random.default_rng(5).standard_normal((17, 23, 5)).astype(np.float32)
        src = self.h5("b.h5", x)
        for b in ("0.5", "1", "3.3"):
            dec = self.path(f"b{b}.sct.h5")
            j = run_json("compress", src, "-o", dec, "--bits-per-value", b)
            bits = (17 + 23 + 5 + 32)
            self.assertLessEqual(bits * j["width"], float(b) * x.size)
            self.assertGreater(bits * (j["width"] + 1), float(b) * x.size)

    def test_unreachable_rel_error_reports_target_not_reached(self):
        x = np.random.default_rng(6).standard_normal((24, 24)).astype(np.float16)
        src = self.h5("h.h5", x)
        p = run("compress", src, "-o", self.path("h.sct.h5"), "--rel-error", "0", "--json")
        j = json.loads(p.stdout)
        self.assertFalse(j["target_reached"])
        self.assertLessEqual(j["bits_per_value"], 16.0)
        self.assertIn("warning", p.stderr)

    def test_all_zero_tensor_gives_width_zero(self):
        src = self.h5("z.h5", np.zeros((8, 9), np.float32))
        dec = self.path("z.sct.h5")
        j = run_json("compress", src, "-o", dec)
        self.assertEqual(j["width"], 0)
        self.assertEqual(j["rel_fro_error"], 0)
        self.assertIsNone(j["psnr_db"])
        e = run_json("eval", src, dec)
        self.assertIsNone(e["psnr_db"])
        self.assertEqual(run_json("info", dec)["width"], 0)

    def test_default_is_one_bit_per_value_and_human_summary(self):
        p = run("compress", TOPO, "-o", self.path("t.sct.h5"))
        self.assertEqual(p.stdout, "")
        self.assertIn("bits/value", p.stderr)
        j = run_json("info", self.path("t.sct.h5"))
        self.assertLessEqual(j["bits_per_value"], 1.0)
        self.assertGreater(j["bits_per_value"], 0.99)

    # ---- bad input: exit status, one error line, no output, input unchanged ----

    def test_refuses_missing_file_and_dataset(self):
        out = self.path("o.h5")
        self.refuse(["compress", self.path("nope.h5"), "-o", out], 1, "nope.h5", output=out)
        src = self.h5("m.h5", np.ones((3, 3), np.float32))
        self.refuse(["compress", src + ":/missing", "-o", out], 1, "missing", [src], out)

    def test_refuses_non_hdf5_and_odd_datasets(self):
        out = self.path("o.h5")
        junk = self.path("junk.h5")
        with open(junk, "wb") as f:
            f.write(b"this is not HDF5" * 10)
        self.refuse(["compress", junk, "-o", out], 1, "junk.h5", [junk], out)
        s = self.path("s.h5")
        with h5py.File(s, "w") as f:
            f.create_dataset("text", data=np.array([b"ab", b"cd"]))
            f.create_dataset("pairs", data=np.zeros(3, dtype=[("a", "<f4"), ("b", "<i4")]))
            f.create_dataset("scalar", data=np.float32(3))
            f.create_dataset("empty", shape=(0, 4), dtype=np.float32)
        self.refuse(["compress", s + ":/text", "-o", out], 1, "string", [s], out)
        self.refuse(["compress", s + ":/pairs", "-o", out], 1, "compound", [s], out)
        self.refuse(["compress", s + ":/scalar", "-o", out], 1, "rank", [s], out)
        self.refuse(["compress", s + ":/empty", "-o", out], 1, "zero", [s], out)

    def test_refuses_nan_and_inf_naming_the_count(self):
        x = np.ones((5, 5), np.float32)
        x[0, 0] = np.nan
        x[1, 1] = np.inf
        x[2, 2] = np.nan
        src = self.h5("n.h5", x)
        out = self.path("o.h5")
        self.refuse(["compress", src, "-o", out], 1, "2 NaN", [src], out)

    def test_refuses_bad_usage(self):
        src = self.h5("u.h5", np.ones((4, 4), np.float32))
        out = self.path("o.h5")
        self.refuse(["compress", src, "-o", out, "--width", "0"], 2, "--width", [src], out)
        self.refuse(["compress", src, "-o", out, "--width", "3", "--rel-error", "0.1"], 2, "excludes", [src], out)
        self.refuse(["compress", src, "-o", out, "--bits-per-value", "0.001"], 1, "minimum", [src], out)

    def test_output_policy(self):
        src = self.h5("p.h5", np.random.default_rng(7).standard_normal((6, 7)).astype(np.float32))
        out = self.path("p.sct.h5")
        run("compress", src, "-o", out, "--width", "2", "--quiet")
        first = digest(out)
        self.refuse(["compress", src, "-o", out, "--width", "3"], 1, "--force", [src, out])
        self.assertEqual(digest(out), first)
        run("compress", src, "-o", out, "--width", "3", "--force", "--quiet")
        self.assertEqual(run_json("info", out)["width"], 3)
        self.refuse(["compress", src, "-o", src, "--force"], 1, "is the input", [src])
        link = self.path("hard.h5")
        os.link(src, link)
        self.refuse(["compress", src, "-o", link, "--force"], 1, "is the input", [src])
        self.refuse(["compress", src, "-o", os.path.join(self.dir, "no", "such", "dir.h5")], 1, "dir", [src])
        # A folder nobody may write to (even root cannot create files in /proc).
        self.refuse(["compress", src, "-o", "/proc/signcut-test.h5", "--width", "2"], 1, "/proc", [src], "/proc/signcut-test.h5")
        if os.geteuid() != 0:
            ro = self.path("ro")
            os.mkdir(ro, 0o555)
            self.refuse(["compress", src, "-o", os.path.join(ro, "x.h5")], 1, "ro", [src])

    def test_refuses_corrupt_decompositions(self):
        src = self.h5("c.h5", np.random.default_rng(8).standard_normal((20, 30)).astype(np.float32))
        good = self.path("good.sct.h5")
        run("compress", src, "-o", good, "--width", "6", "--quiet")
        out = self.path("o.h5")

        def variant(name, edit):
            p = self.path(name)
            shutil.copy(good, p)
            with h5py.File(p, "r+") as f:
                edit(f)
            return p

        trunc = self.path("trunc.sct.h5")
        with open(good, "rb") as f:
            data = f.read()
        with open(trunc, "wb") as f:
            f.write(data[: len(data) // 2])
        self.refuse(["decompress", trunc, "-o", out], 1, "trunc.sct.h5", [trunc], out)
        v = variant("ver.sct.h5", lambda f: f.attrs.modify("format_version", np.int32(2)))
        self.refuse(["decompress", v, "-o", out], 1, "format_version", [v], out)
        m = variant("noattr.sct.h5", lambda f: f["decomposition"].attrs.__delitem__("width"))
        self.refuse(["decompress", m, "-o", out], 1, "width", [m], out)

        def bad_signs(f):
            del f["decomposition/signs/mode_1"]
            f["decomposition/signs"].create_dataset("mode_1", data=np.zeros((6, 5), "<u8"))
        s = variant("signs.sct.h5", bad_signs)
        self.refuse(["decompress", s, "-o", out], 1, "mode_1", [s], out)
        big = variant("big.sct.h5", lambda f: f["decomposition"].attrs.modify(
            "shape", np.array([2 ** 31, 2 ** 31], np.uint64)))
        self.refuse(["decompress", big, "-o", out], 1, "", [big], out)
        self.refuse(["decompress", good, "-o", out, "--max-memory", "1K"], 1, "", [good], out)
        for cmd in (["info", v], ["info", trunc]):
            self.refuse(cmd, 1, "", [cmd[1]])


if __name__ == "__main__":
    run_suite(Cli, "cli", REPORT)
