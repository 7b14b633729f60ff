#!/usr/bin/python3
"""End-to-end tests of `signcut compress --method lplr`, of reading lplr files
back (decompress, info, eval and the Python reader of docs/FORMAT.md), and of
`signcut compare` with its SVG plot.

Every case runs the real executable; figures are checked against what h5py
and numpy recompute from the files. Results are written as a Boost.Test-style
XML report so that CI counts each case.

usage: test_compare.py SIGNCUT_BINARY SOURCE_ROOT REPORT_XML
"""
import csv
import functools
import os
import re
import shutil
import sys
import unittest
import xml.etree.ElementTree as ET

import h5py
import numpy as np

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), os.pardir))
sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from signcut_testing import UNDER_SANITIZERS, CliCase, metrics, run_signcut, run_signcut_json, run_suite  # noqa: E402
from sct_files import stored_dataset_bytes, stored_scales_bytes, stored_widths_bytes, text  # noqa: E402

SIGNCUT, ROOT, REPORT = sys.argv[1], sys.argv[2], sys.argv[3]
CAMERA = os.path.join(ROOT, "data", "skimage_camera.png")
CAT = os.path.join(ROOT, "data", "skimage_chelsea.png")
TOPO = os.path.join(ROOT, "data", "topo_etopo20.h5")
METHODS = ["auto", "sct", "sct-whole", "lplr", "nq", "svd", "dsvd", "lsvd", "bf16", "f16", "int8", "zfp"]
SIGNED_CUTS = ("auto", "sct", "sct-whole")
LOW_RANK = ("lplr", "dsvd", "lsvd")  # budgets bound their counted bits (see test_low_rank_payload_fits_the_budget)
FIXED_RATE = {"bf16": 16.0, "f16": 16.0, "int8": 8.0}
COMPARE_KEYS = ["method", "budget", "bits_per_value", "rel_fro_error", "psnr_db", "seconds"]
ZFP_MODES = ("fixed-rate", "fixed-precision", "fixed-accuracy")


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


def code_words(g, codes, groups, length, width):
    """A factor's codes as [groups][words per group] uint64 (version 2
    stores them 1-D, group after group)."""
    words = g[codes][...]
    assert words.dtype == np.uint64
    per_group = -(-(length * width) // 64)
    assert words.size == groups * per_group, (codes, words.shape, groups, per_group)
    return words.reshape(groups, per_group)


def stored_bits_from_file(path):
    """Bits counted from the packed arrays themselves: every code of every
    row at its width (the row length checked against its words and its
    padding), plus 32 per scale; and the payload, each dataset's stored
    size by §6's rule, checked against HDF5's own storage sizes."""
    with h5py.File(path, "r") as f:
        g = f["decomposition"]
        shape = [int(s) for s in g.attrs["shape"]]
        rows_text, cols_text = text(g.attrs["matricize"]).split("|")
        rows = [int(a) for a in rows_text.split(",") if a]
        cols = [int(a) for a in cols_text.split(",") if a]
        bits = payload = 0
        for codes, scales, modes, width in (("l_codes", "l_scales", rows, int(g.attrs["bits_l"])),
                                            ("r_codes", "r_scales", cols, int(g.attrs["bits_r"]))):
            length = int(np.prod([shape[a] for a in modes]))
            groups = g[scales].shape[0]
            words = code_words(g, codes, groups, length, width)
            string = np.unpackbits(words.astype("<u8").view(np.uint8), axis=1, bitorder="little")
            assert not string[:, length * width:].any(), "padding bits set"
            bits += groups * length * width + 32 * groups
            for name, elements, size in ((codes, words.size, 8), (scales, groups, 4)):
                assert g[name].id.get_storage_size() == stored_dataset_bytes(elements, size), name
                payload += 8 * stored_dataset_bytes(elements, size)
        return bits, int(np.prod(shape)), payload


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
        self.assertLessEqual(j["counted_bits_per_value"], 1.0)
        self.assertIsNone(j["block_shape"])
        self.assertIsNone(j["blocks"])
        bits, n, payload = stored_bits_from_file(out)
        self.assertEqual(bits / n, j["counted_bits_per_value"])
        self.assertEqual(payload / n, j["bits_per_value"])
        self.assertEqual(bits, j["width"] * (512 * j["bits_l"] + 512 * j["bits_r"] + 64))
        with h5py.File(out, "r") as f:
            g = f["decomposition"]
            self.assertEqual(text(g.attrs["method"]), "lplr")
            self.assertEqual(int(g.attrs["width"]), j["width"])
            self.assertEqual(int(f.attrs["format_version"]), 2)
        info = run_json("info", out)
        self.assertEqual(info["method"], "lplr")
        self.assertEqual(info["width"], j["width"])
        self.assertEqual(info["format_version"], 2)
        self.assertEqual(info["bits_per_value"], j["bits_per_value"])
        self.assertEqual(info["counted_bits_per_value"], j["counted_bits_per_value"])
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
        self.assertEqual(j["counted_bits_per_value"], 5 * (40 * 7 + 54 * 9 + 64) / x.size)
        self.assertEqual(j["bits_per_value"], stored_bits_from_file(out)[2] / x.size)
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
        self.refuse(["compress", src, "-o", out, "--method", "lplr", "--block", "4x4"], 2, "--block", out)

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
            # Row 1 of [4][2] words: 24 codes of 5 bits end at bit 120 of 128.
            w.reshape(4, 2)[1, -1] |= np.uint64(1) << np.uint64(63)
            g["l_codes"][...] = w

        p = variant("pad.h5", pad)
        self.refuse(["decompress", p, "-o", out], 1, "padding bits", out)
        m = variant("split.h5", lambda g: g.attrs.modify("matricize", np.bytes_("0|0")))
        self.refuse(["decompress", m, "-o", out], 1, "matricize", out)
        self.refuse(["info", m], 1, "matricize")
        b = variant("bits.h5", lambda g: g.attrs.modify("bits_r", np.uint8(1)))
        self.refuse(["info", b], 1, "bits_r")
        self.refuse(["decompress", good, "-o", out, "--max-memory", "1K"], 1, "memory limit", out)

    # ---- compare ----

    def check_compare(self, src, budgets, expected_shape):
        plot, table = self.path("plot.svg"), self.path("table.csv")
        rows = run_json("compare", src, "--bits-per-value", ",".join(map(str, budgets)), "--plot", plot,
                        "--csv", table)
        self.assertIsInstance(rows, list)
        self.assertEqual(sorted({r["method"] for r in rows}), sorted(METHODS))
        for r in rows:
            self.assertEqual(list(r)[:len(COMPARE_KEYS)], COMPARE_KEYS)
            self.assertIn("counted_bits_per_value", r)
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
                    self.assertIsNone(r["counted_bits_per_value"], method)
                    continue
                # Real bits bound the budget; the low-rank methods' search
                # bounds their counted bits (test_low_rank_payload_fits_the_budget).
                self.assertLessEqual(r["counted_bits_per_value" if method in LOW_RANK else "bits_per_value"],
                                     r["budget"], method)
                self.assertGreaterEqual(r["rel_fro_error"], 0, method)
                # The logical count is below the stored bits, except where
                # deflated signs store fewer bytes than they hold.
                if method not in ("auto", "sct"):
                    self.assertLessEqual(r["counted_bits_per_value"], r["bits_per_value"] + 1e-12, method)
            done = [r for r in own if r["rel_fro_error"] is not None]
            errors = [r["rel_fro_error"] for r in done]
            self.assertEqual(errors, sorted(errors, reverse=True), f"{method}: more bits, more error")
        # auto (signed cuts or zfp, block by block) is never much worse than
        # signed cuts alone, at every budget both reach.
        sct = {r["budget"]: r for r in rows if r["method"] == "sct"}
        for r in rows:
            if r["method"] == "auto" and r["rel_fro_error"] is not None and sct[r["budget"]]["rel_fro_error"]:
                self.assertLessEqual(r["rel_fro_error"], 1.02 * sct[r["budget"]]["rel_fro_error"], r["budget"])
        # sct-whole: one block, its payload by §6/§7: for w terms,
        # widths + scales + ceil(w·Σd/8) sign bytes, each chunked with its checksum.
        per_term = sum(expected_shape) + 13  # short scales
        for r in rows:
            if r["method"] in SIGNED_CUTS and r["bits_per_value"] is not None:
                m = re.fullmatch(r"blocks=(\S+) width=(\d+)( zfp_blocks=\d+)?", r["parameters"])
                self.assertIsNotNone(m, r["parameters"])
                w = int(m.group(2))
                if r["method"] == "sct-whole":
                    self.assertEqual(m.group(1), "whole")
                    payload = 8 * (stored_widths_bytes(1, w) + stored_scales_bytes(w, 13) +
                                   stored_dataset_bytes((w * sum(expected_shape) + 7) // 8, 1))
                    self.assertEqual(r["bits_per_value"], payload / n)
                    self.assertAlmostEqual(r["counted_bits_per_value"], per_term * w / n, places=12)
        # The whole file's size: the payload plus at most 24 KiB of HDF5
        # metadata and attributes (§6) for the file methods; zfp's stream is
        # its file; the others write none.
        for r in rows:
            if r["bits_per_value"] is None or r["method"] not in SIGNED_CUTS + ("lplr", "dsvd", "lsvd", "zfp"):
                if r["bits_per_value"] is None or r["method"] in FIXED_RATE or r["method"] in ("nq", "svd"):
                    self.assertIsNone(r["file_bits_per_value"], r["method"])
                continue
            if r["method"] == "zfp":
                self.assertEqual(r["file_bits_per_value"], r["bits_per_value"])
                continue
            self.assertGreater(r["file_bits_per_value"], r["bits_per_value"], r["method"])
            self.assertLessEqual((r["file_bits_per_value"] - r["bits_per_value"]) * n / 8, 24 * 1024, r["method"])
        # zfp at its best names the mode it chose.
        for r in rows:
            if r["method"] == "zfp" and r["bits_per_value"] is not None:
                self.assertTrue(r["parameters"].startswith(ZFP_MODES), r["parameters"])
        # nq costs B·N + 64 bits, so it misses a budget of exactly B.
        nq = {r["budget"]: r for r in rows if r["method"] == "nq"}
        self.assertIsNone(nq[1]["bits_per_value"])
        self.assertEqual(nq[2]["parameters"], "B=1")
        self.assertAlmostEqual(nq[2]["bits_per_value"], (n + 64) / n, places=12)
        self.check_plot(plot, rows)
        self.check_csv(table, rows)
        return rows

    def check_csv(self, path, rows):
        with open(path, newline="") as f:
            lines = list(csv.reader(f))
        self.assertEqual(lines[0], ["method", "budget", "bits_per_value", "counted_bits_per_value", "rel_fro_error",
                                    "psnr_db", "seconds", "parameters", "file_bits_per_value"])
        self.assertEqual(len(lines) - 1, len(rows))
        for line, r in zip(lines[1:], rows):
            self.assertEqual(line[0], r["method"])
            self.assertEqual(line[7], r["parameters"])
            if r["file_bits_per_value"] is None:
                self.assertEqual(line[8], "")
            else:
                self.assertEqual(float(line[8]), r["file_bits_per_value"])
            for k, cell in zip(("budget", "bits_per_value", "counted_bits_per_value", "rel_fro_error", "psnr_db"),
                               line[1:6]):
                if r[k] is None:
                    self.assertEqual(cell, "", k)
                else:
                    self.assertEqual(float(cell), r[k], k)

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
        # Two budgets under the sanitizers, where the cat's compare alone
        # would take three minutes; the release build runs all three.
        rows = self.check_compare(CAT, [1, 2] if UNDER_SANITIZERS else [0.5, 1, 2], [300, 451, 3])
        byname = {(r["method"], r["budget"]): r for r in rows}
        # 8-bit samples are exact in bf16 and f16.
        self.assertEqual(byname[("bf16", None)]["rel_fro_error"], 0)
        self.assertIsNone(byname[("bf16", None)]["psnr_db"])
        self.assertEqual(byname[("f16", None)]["rel_fro_error"], 0)
        # sct's rows are recut from one decomposition at the largest budget:
        # within 0.5 % of compressing at each budget on its own with the
        # same block shape (design §8).
        auto = byname[("auto", 1)]
        block = re.fullmatch(r"blocks=(\S+) width=\d+", auto["parameters"]).group(1)
        single = run_json("compress", CAT, "-o", self.path("cat1.sct.h5"), "--bits-per-value", "1", "--block", block)
        self.assertLessEqual(abs(auto["rel_fro_error"] - single["rel_fro_error"]), 0.005 * single["rel_fro_error"])
        self.assertLessEqual(auto["bits_per_value"], 1.0)
        whole = run_json("compress", CAT, "-o", self.path("cat1w.sct.h5"), "--bits-per-value", "1", "--block", "whole")
        self.assertLessEqual(abs(byname[("sct-whole", 1)]["rel_fro_error"] - whole["rel_fro_error"]),
                             0.005 * whole["rel_fro_error"])
        lplr = run_json("compress", CAT, "-o", self.path("cat1.lplr.h5"), "--method", "lplr", "--bits-per-value", "1")
        self.assert_close(byname[("lplr", 1)]["rel_fro_error"], lplr["rel_fro_error"], 1e-9, "lplr at 1 bit")
        self.assertEqual(byname[("lplr", 1)]["bits_per_value"], lplr["bits_per_value"])

    def test_compare_topography(self):
        # Budgets 1 and 2 at least: the nq checks need both.
        rows = self.check_compare(TOPO, [1, 2] if UNDER_SANITIZERS else [0.5, 1, 2], [540, 1081])
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


    def test_compare_says_where_another_method_wins(self):
        budgets = (1,) if UNDER_SANITIZERS else (1, 2)
        listed = ",".join(map(str, budgets))
        p = run("compare", TOPO, "-b", listed, "--methods", "auto,zfp")
        rows = run_json("compare", TOPO, "-b", listed, "--methods", "auto,zfp")
        errors = {(r["method"], r["budget"]): r["rel_fro_error"] for r in rows}
        lines = p.stdout.splitlines()
        self.assertIn("counted", lines[1])
        rows_end = 2 + 2 * len(budgets)
        self.assertEqual([l.split()[0] for l in lines[2:rows_end]], ["auto"] * len(budgets) + ["zfp"] * len(budgets))
        verdicts = [v.strip() for v in lines[rows_end:]]
        for b in budgets:
            zfp, ours = errors[("zfp", b)], errors[("auto", b)]
            said = f"zfp at its best beats auto at {b:g} bits per value: {zfp:.3g} against {ours:.3g}"
            if zfp is not None and zfp < ours:
                self.assertIn(said, verdicts)
            else:
                self.assertFalse(any(f"at {b:g} bits per value" in v for v in verdicts), verdicts)
        if not any(v.startswith("zfp") for v in verdicts):
            self.assertEqual(verdicts, ["signed cuts have the lowest error at every budget"])
        # The real and the counted bits per value are both in the table.
        by_row = {(l.split()[0], float(l.split()[1])): l.split() for l in lines[2:rows_end]}
        for r in rows:
            cells = by_row[(r["method"], r["budget"])]
            self.assertEqual(cells[2], f"{r['bits_per_value']:.4f}")
            self.assertEqual(cells[3], f"{r['counted_bits_per_value']:.4f}")

    def test_compare_block_choices_and_csv_refusals(self):
        src = self.h5("b.h5", np.cumsum(np.random.default_rng(8).standard_normal((64, 96)), axis=1).astype(np.float32))
        rows = run_json("compare", src, "-b", "0.5,1,2", "--methods", "sct,sct-whole")
        whole = [r for r in rows if r["method"] == "sct-whole"]
        self.assertTrue(all(r["parameters"].startswith("blocks=whole ") for r in whole))
        # sct-whole at each budget is the whole-tensor greedy's prefix.
        for r in whole:
            single = run_json("compress", src, "-o", self.path(f"w{r['budget']}.sct.h5"), "--block", "whole",
                              "-b", str(r["budget"]))
            self.assertEqual(r["parameters"], f"blocks=whole width={single['width']}")
            self.assertEqual(r["bits_per_value"], single["bits_per_value"])
            self.assert_close(r["rel_fro_error"], single["rel_fro_error"], 1e-6)
        out = self.path("t.csv")
        with open(out, "w") as f:
            f.write("keep")
        self.refuse(["compare", src, "-b", "1", "--methods", "svd", "--csv", out], 1, "--force")
        with open(out) as f:
            self.assertEqual(f.read(), "keep")
        self.refuse(["compare", src, "-b", "1", "--methods", "svd", "--csv", self.path("x.csv"), "--plot",
                     self.path("x.csv")], 2, "same file")
        self.assertFalse(os.path.exists(self.path("x.csv")))
        self.refuse(["compare", src, "-b", "1", "--methods", "sct-block"], 2, "sct-block")

    def test_low_rank_payload_fits_the_budget(self):
        """DESIGN §7: a budget bounds the payload for every method: the
        (rank, bits) search counts whole code words, chunk padding and
        checksums as the file stores them."""
        rows = run_json("compare", TOPO, "-b", "2", "--methods", "lplr,dsvd,lsvd")
        for r in rows:
            self.assertLessEqual(r["bits_per_value"], r["budget"], r["method"])


if __name__ == "__main__":
    run_suite(Lplr, "cli-compare", REPORT)
