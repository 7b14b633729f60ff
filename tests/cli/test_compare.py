#!/usr/bin/python3
"""End-to-end tests of `signcut compress --method lplr`, of reading lplr files
back (decompress, info, eval and the Python reader of docs/FORMAT.md), and of
`signcut compare` with its SVG plot.

Every case runs the real executable; figures are checked against what h5py
and numpy recompute from the files. Results are written as a Boost.Test-style
XML report so that CI counts each case.

usage: test_compare.py SIGNCUT_BINARY SOURCE_ROOT REPORT_XML
"""
import functools
import os
import shutil
import sys
import xml.etree.ElementTree as ET

import h5py
import numpy as np

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), os.pardir))
from signcut_testing import CliCase, metrics, run_signcut, run_signcut_json, run_suite  # noqa: E402

SIGNCUT, ROOT, REPORT = sys.argv[1], sys.argv[2], sys.argv[3]
CAMERA = os.path.join(ROOT, "data", "skimage_camera.png")
CAT = os.path.join(ROOT, "data", "skimage_chelsea.png")
TOPO = os.path.join(ROOT, "data", "topo_etopo20.h5")
METHODS = ["sct", "lplr", "nq", "svd", "dsvd", "lsvd", "bf16", "f16", "int8", "zfp"]
FIXED_RATE = {"bf16": 16.0, "f16": 16.0, "int8": 8.0}
COMPARE_KEYS = ["method", "budget", "bits_per_value", "rel_fro_error", "psnr_db", "seconds"]


def format_snippet(name):
    """The Python code between the `name` markers of docs/FORMAT.md."""
    with open(os.path.join(ROOT, "docs", "FORMAT.md"), encoding="utf-8") as f:
        text = f.read()
    begin, end = f"<!-- {name}:begin -->", f"<!-- {name}:end -->"
    body = text[text.index(begin) + len(begin): text.index(end)]
    return "\n".join(line for line in body.splitlines() if not line.startswith("```"))


LPLR_READER = {}
exec(compile(format_snippet("python-lplr-reader"), "FORMAT.md", "exec"), LPLR_READER)
read_signcut_lplr = LPLR_READER["read_signcut_lplr"]


run = functools.partial(run_signcut, SIGNCUT)
run_json = functools.partial(run_signcut_json, SIGNCUT)


def stored_bits_from_file(path):
    """Bits counted from the packed arrays themselves: every code of every
    row at its width (the row length checked against its words and its
    padding), plus 32 per scale."""
    with h5py.File(path, "r") as f:
        g = f["decomposition"]
        shape = [int(s) for s in g.attrs["shape"]]
        rows_text, cols_text = str(g.attrs["matricize"]).split("|")
        rows = [int(a) for a in rows_text.split(",") if a]
        cols = [int(a) for a in cols_text.split(",") if a]
        bits = 0
        for codes, scales, modes, width in (("l_codes", "l_scales", rows, int(g.attrs["bits_l"])),
                                            ("r_codes", "r_scales", cols, int(g.attrs["bits_r"]))):
            length = int(np.prod([shape[a] for a in modes]))
            words = g[codes][...]
            assert words.dtype == np.uint64
            assert words.shape[1] * 64 >= length * width > (words.shape[1] - 1) * 64
            string = np.unpackbits(words.astype("<u8").view(np.uint8), axis=1, bitorder="little")
            assert not string[:, length * width:].any(), "padding bits set"
            bits += words.shape[0] * length * width + 32 * g[scales].shape[0]
        return bits, int(np.prod(shape))


class Lplr(CliCase):
    binary = SIGNCUT
    folder_prefix = "signcut-lplr-"

    def refuse(self, args, code, fragment, output=None):
        super().refuse(args, code, fragment, output=output)

    # ---- compress --method lplr and reading the file back ----

    def test_compress_lplr_reports_what_the_file_holds(self):
        out = self.path("cam.lplr.h5")
        j = run_json("compress", CAMERA, "-o", out, "--method", "lplr", "--bits-per-value", "1")
        for k in ["method", "shape", "width", "bits_per_value", "compression_ratio", "file_bytes", "rel_fro_error",
                  "max_abs_error", "rmse", "psnr_db", "seconds", "decompose_seconds", "arch", "threads", "seed",
                  "target_reached", "bits_l", "bits_r", "matricize"]:
            self.assertIn(k, j)
        self.assertEqual(j["method"], "lplr")
        self.assertEqual(j["shape"], [512, 512])
        self.assertEqual(j["matricize"], "0|1")
        self.assertEqual(j["file_bytes"], os.path.getsize(out))
        self.assertLessEqual(j["bits_per_value"], 1.0)
        bits, n = stored_bits_from_file(out)
        self.assertEqual(bits / n, j["bits_per_value"])
        self.assertEqual(bits, j["width"] * (512 * j["bits_l"] + 512 * j["bits_r"] + 64))
        with h5py.File(out, "r") as f:
            g = f["decomposition"]
            self.assertEqual(g.attrs["method"], "lplr")
            self.assertEqual(int(g.attrs["width"]), j["width"])
        info = run_json("info", out)
        self.assertEqual(info["method"], "lplr")
        self.assertEqual(info["width"], j["width"])
        self.assertEqual(info["bits_per_value"], j["bits_per_value"])
        self.assertEqual((info["bits_l"], info["bits_r"], info["matricize"]), (j["bits_l"], j["bits_r"], "0|1"))
        self.assert_close(info["rel_fro_error"], j["rel_fro_error"], 1e-12)
        e = run_json("eval", CAMERA, out)
        self.assertEqual(set(e), {"width", "rel_fro_error", "max_abs_error", "rmse", "psnr_db"})
        for k in ("rel_fro_error", "rmse", "psnr_db"):
            self.assert_close(e[k], j[k], 1e-9, k)
        # LPLR at 1 bit per value against 1-bit nq on the same image.
        nq = [r for r in run_json("compare", CAMERA, "--bits-per-value", "2", "--methods", "nq")]
        self.assertEqual(nq[0]["parameters"], "B=1")
        self.assertLessEqual(j["rel_fro_error"], 0.35 * nq[0]["rel_fro_error"])

    def test_explicit_rank_split_and_the_format_reader(self):
        rng = np.random.default_rng(3)
        x = (rng.standard_normal((6, 40, 3)) @ rng.standard_normal((3, 9))).astype(np.float32)  # 6 x 40 x 9
        src = self.h5("x.h5", x)
        out = self.path("x.lplr.h5")
        j = run_json("compress", src, "-o", out, "--method", "lplr", "--rank", "5", "--bits-l", "7", "--bits-r", "9",
                     "--matricize", "1|2,0", "--seed", "4")
        self.assertEqual((j["width"], j["bits_l"], j["bits_r"], j["matricize"], j["seed"]), (5, 7, 9, "1|2,0", 4))
        self.assertEqual(j["bits_per_value"], 5 * (40 * 7 + 54 * 9 + 64) / x.size)
        y = read_signcut_lplr(out)
        self.assertEqual(y.shape, x.shape)
        m = metrics(x, y)
        for k in ("rel_fro_error", "rmse", "max_abs_error"):
            self.assert_close(j[k], m[k], 1e-4, k)
        back = self.path("back.h5")
        d = run_json("decompress", out, "-o", back + ":/restored", "--dtype", "float64")
        self.assertEqual(d["shape"], [6, 40, 9])
        self.assertEqual(d["width"], 5)
        with h5py.File(back, "r") as f:
            z = f["restored"][...]
        self.assertEqual(z.dtype, np.float64)
        np.testing.assert_allclose(z, y, rtol=1e-5, atol=1e-5 * np.abs(y).max())
        # The same seed gives the same file contents.
        again = self.path("again.lplr.h5")
        run("compress", src, "-o", again, "--method", "lplr", "--rank", "5", "--bits-l", "7", "--bits-r", "9",
            "--matricize", "1|2,0", "--seed", "4", "--quiet")
        with h5py.File(out, "r") as f, h5py.File(again, "r") as g:
            for name in ("l_codes", "l_scales", "r_codes", "r_scales"):
                np.testing.assert_array_equal(f["decomposition"][name][...], g["decomposition"][name][...])

    def test_lplr_usage_errors_exit_2(self):
        src = self.h5("u.h5", np.random.default_rng(5).standard_normal((20, 30)).astype(np.float32))
        out = self.path("u.lplr.h5")
        self.refuse(["compress", src, "-o", out, "--method", "lplr", "--width", "3"], 2, "--width", out)
        self.refuse(["compress", src, "-o", out, "--method", "lplr", "--rel-error", "0.1"], 2, "--rel-error", out)
        self.refuse(["compress", src, "-o", out, "--method", "lplr", "--rank", "3"], 2, "--rank", out)
        self.refuse(["compress", src, "-o", out, "--method", "lplr", "--rank", "3", "--bits-l", "4", "--bits-r", "4",
                     "--bits-per-value", "1"], 2, "either", out)
        self.refuse(["compress", src, "-o", out, "--method", "lplr", "--bits-l", "1", "--bits-r", "4", "--rank", "2"],
                    2, "--bits-l", out)
        self.refuse(["compress", src, "-o", out, "--method", "lplr", "--matricize", "0|0"], 2, "twice", out)
        self.refuse(["compress", src, "-o", out, "--method", "lplr", "--rank", "21", "--bits-l", "4", "--bits-r", "4"],
                    2, "1..20", out)
        self.refuse(["compress", src, "-o", out, "--rank", "3", "--bits-l", "4", "--bits-r", "4"], 2, "--method lplr",
                    out)
        self.refuse(["compress", src, "-o", out, "--method", "tucker"], 2, "--method", out)
        # A budget below one rank at 2-bit codes is bad input, naming the minimum.
        self.refuse(["compress", src, "-o", out, "--method", "lplr", "--bits-per-value", "0.1"], 1, "minimum", out)
        good = self.path("g.lplr.h5")
        run("compress", src, "-o", good, "--method", "lplr", "--quiet")
        back = self.path("b.h5")
        self.refuse(["decompress", good, "-o", back, "--width", "2"], 2, "--width", back)
        self.refuse(["eval", src, good, "--width", "2"], 2, "--width")

    def test_damaged_lplr_files_are_refused(self):
        src = self.h5("c.h5", np.random.default_rng(6).standard_normal((24, 18)).astype(np.float32))
        good = self.path("good.lplr.h5")
        run("compress", src, "-o", good, "--method", "lplr", "--rank", "4", "--bits-l", "5", "--bits-r", "6", "--quiet")
        out = self.path("o.h5")

        def variant(name, edit):
            p = self.path(name)
            shutil.copy(good, p)
            with h5py.File(p, "r+") as f:
                edit(f["decomposition"])
            return p

        def pad(g):
            w = g["l_codes"][...]
            w[1, -1] |= np.uint64(1) << np.uint64(63)  # 24 codes of 5 bits end at bit 120 of 128
            g["l_codes"][...] = w

        p = variant("pad.h5", pad)
        self.refuse(["decompress", p, "-o", out], 1, "padding bits", out)
        m = variant("split.h5", lambda g: g.attrs.modify("matricize", "0|0"))
        self.refuse(["decompress", m, "-o", out], 1, "matricize", out)
        self.refuse(["info", m], 1, "matricize")
        b = variant("bits.h5", lambda g: g.attrs.modify("bits_r", np.uint8(1)))
        self.refuse(["info", b], 1, "bits_r")
        self.refuse(["decompress", good, "-o", out, "--max-memory", "1K"], 1, "memory limit", out)

    # ---- compare ----

    def check_compare(self, src, budgets, expected_shape):
        plot = self.path("plot.svg")
        rows = run_json("compare", src, "--bits-per-value", ",".join(map(str, budgets)), "--plot", plot)
        self.assertIsInstance(rows, list)
        self.assertEqual(sorted({r["method"] for r in rows}), sorted(METHODS))
        for r in rows:
            self.assertEqual(list(r)[:len(COMPARE_KEYS)], COMPARE_KEYS)
        n = int(np.prod(expected_shape))
        for method in METHODS:
            own = [r for r in rows if r["method"] == method]
            if method in FIXED_RATE:
                self.assertEqual(len(own), 1, method)
                self.assertIsNone(own[0]["budget"])
                self.assertAlmostEqual(own[0]["bits_per_value"], FIXED_RATE[method], delta=64 / n)
                continue
            self.assertEqual([r["budget"] for r in own], sorted(budgets), method)
            for r in own:
                if r["bits_per_value"] is None:
                    self.assertIsNone(r["rel_fro_error"], method)
                    self.assertIsNone(r["seconds"], method)
                    continue
                self.assertLessEqual(r["bits_per_value"], r["budget"], method)
                self.assertGreaterEqual(r["rel_fro_error"], 0, method)
            done = [r for r in own if r["rel_fro_error"] is not None]
            errors = [r["rel_fro_error"] for r in done]
            self.assertEqual(errors, sorted(errors, reverse=True), f"{method}: more bits, more error")
        # sct: one decomposition, its prefixes: bits = (Σ d_a + 32)·w / N for whole w.
        per_term = sum(expected_shape) + 32
        for r in rows:
            if r["method"] == "sct" and r["bits_per_value"] is not None:
                w = round(r["bits_per_value"] * n / per_term)
                self.assertEqual(r["parameters"], f"width={w}")
                self.assertAlmostEqual(r["bits_per_value"], per_term * w / n, places=12)
                self.assertGreater(per_term * (w + 1) / n, r["budget"])
        # nq costs B·N + 64 bits, so it misses a budget of exactly B.
        nq = {r["budget"]: r for r in rows if r["method"] == "nq"}
        self.assertIsNone(nq[1]["bits_per_value"])
        self.assertEqual(nq[2]["parameters"], "B=1")
        self.assertAlmostEqual(nq[2]["bits_per_value"], (n + 64) / n, places=12)
        self.check_plot(plot, rows)
        return rows

    def check_plot(self, plot, rows):
        tree = ET.parse(plot)
        svg = tree.getroot()
        self.assertTrue(svg.tag.endswith("svg"))
        texts = [t.text for t in svg.iter() if t.tag.endswith("text")]
        for method in METHODS:
            self.assertIn(method, texts)
        self.assertIn("bits per value", texts)
        self.assertTrue(any(t and t.startswith("relative Frobenius error") for t in texts))
        paths = [p for p in svg.iter() if p.tag.endswith("path") and p.get("fill") == "none" and p.get("stroke-width") == "2"]
        with_curves = {r["method"] for r in rows if r["budget"] is not None and r["rel_fro_error"] is not None}
        multi = [m for m in with_curves if sum(1 for r in rows if r["method"] == m and r["rel_fro_error"] is not None) > 1]
        self.assertEqual(len(paths), len(multi))
        if any(r["rel_fro_error"] == 0 for r in rows):
            self.assertIn("exact", texts)

    def test_compare_cat(self):
        rows = self.check_compare(CAT, [0.5, 1, 2], [300, 451, 3])
        byname = {(r["method"], r["budget"]): r for r in rows}
        # 8-bit samples are exact in bf16 and f16.
        self.assertEqual(byname[("bf16", None)]["rel_fro_error"], 0)
        self.assertIsNone(byname[("bf16", None)]["psnr_db"])
        self.assertEqual(byname[("f16", None)]["rel_fro_error"], 0)
        # sct's rows are prefixes of one decomposition: the same errors as
        # compressing at each budget on its own.
        single = run_json("compress", CAT, "-o", self.path("cat1.sct.h5"), "--bits-per-value", "1")
        self.assert_close(byname[("sct", 1)]["rel_fro_error"], single["rel_fro_error"], 1e-6, "sct at 1 bit")
        lplr = run_json("compress", CAT, "-o", self.path("cat1.lplr.h5"), "--method", "lplr", "--bits-per-value", "1")
        self.assert_close(byname[("lplr", 1)]["rel_fro_error"], lplr["rel_fro_error"], 1e-9, "lplr at 1 bit")
        self.assertEqual(byname[("lplr", 1)]["bits_per_value"], lplr["bits_per_value"])

    def test_compare_topography(self):
        rows = self.check_compare(TOPO, [0.5, 1, 2], [540, 1081])
        self.assertGreater({(r["method"], r["budget"]): r for r in rows}[("bf16", None)]["rel_fro_error"], 0)

    def test_compare_human_table_methods_and_refusals(self):
        src = self.h5("t.h5", np.random.default_rng(7).standard_normal((30, 40)).astype(np.float32))
        p = run("compare", src, "-b", "1,4", "--methods", "int8,svd,zfp")
        lines = p.stdout.splitlines()
        self.assertIn("method", lines[1])
        self.assertEqual([l.split()[0] for l in lines[2:]], ["int8", "svd", "svd", "zfp", "zfp"])
        self.refuse(["compare", src, "-b", "1", "--methods", "sct,jpeg"], 2, "jpeg")
        self.refuse(["compare", src, "-b", "0,1"], 2, "--bits-per-value")
        self.refuse(["compare", src], 2, "--bits-per-value")
        plot = self.path("p.svg")
        with open(plot, "w") as f:
            f.write("keep")
        self.refuse(["compare", src, "-b", "1", "--plot", plot], 1, "--force")
        with open(plot) as f:
            self.assertEqual(f.read(), "keep")
        run("compare", src, "-b", "1", "--methods", "svd", "--plot", plot, "--force")
        ET.parse(plot)


if __name__ == "__main__":
    run_suite(Lplr, "cli-compare", REPORT)
