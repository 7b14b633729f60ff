#!/usr/bin/python3
"""End-to-end tests of the `signcut` binary.

Every case runs the real executable, and checks what it prints against an
independent recomputation with h5py and numpy (the reconstruction is rebuilt
from the decomposition file alone). Results are written as a Boost.Test-style
XML report so that CI counts each case.

usage: test_cli.py SIGNCUT_BINARY SOURCE_ROOT REPORT_XML
"""
import functools
import importlib.util
import json
import os
import shutil
import struct
import sys

import h5py
import numpy as np

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), os.pardir))
sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from signcut_testing import CliCase, digest, metrics, run_signcut, run_signcut_json, run_suite  # noqa: E402
from sct_files import SctFile, stored_dataset_bytes, stored_scales_bytes, stored_widths_bytes, text  # noqa: E402

SIGNCUT, ROOT, REPORT = sys.argv[1], sys.argv[2], sys.argv[3]
CAT = os.path.join(ROOT, "data", "skimage_chelsea.png")
TOPO = os.path.join(ROOT, "data", "topo_etopo20.h5")
READ_SCT_V2 = os.path.join(ROOT, "tests", "format", "read_sct_v2.py")

# DESIGN §7, in the table's order.
COMPRESS_KEYS = ["method", "shape", "width", "bits_per_value", "counted_bits_per_value", "compression_ratio",
                 "file_bytes", "rel_fro_error", "max_abs_error", "rmse", "psnr_db", "seconds", "decompose_seconds",
                 "arch", "threads", "seed", "target_reached", "block_shape", "blocks", "codecs"]
INFO_KEYS = ["method", "shape", "original_dtype", "width", "bits_per_value", "counted_bits_per_value",
             "compression_ratio", "file_bytes", "rel_fro_error", "provenance", "block_shape", "blocks",
             "format_version"]
RECUT_KEYS = ["shape", "width", "bits_per_value", "file_bytes", "rel_fro_error", "block_shape", "blocks"]
DTYPE_BYTES = {"float16": 2, "float32": 4, "float64": 8, "int8": 1, "int16": 2, "int32": 4, "int64": 8,
               "uint8": 1, "uint16": 2, "uint32": 4, "uint64": 8}


run = functools.partial(run_signcut, SIGNCUT)
run_json = functools.partial(run_signcut_json, SIGNCUT)


def rebuild(path, width=None):
    """The tensor a decomposition file describes, from the file alone
    (float32, term order: equal to signcut's own reconstruction)."""
    return SctFile(path).rebuild(width)


def field(shape, seed):
    """A smooth random field (cumulative sums along every mode), float32."""
    x = np.random.default_rng(seed).standard_normal(shape)
    for a in range(len(shape)):
        if shape[a] > 8:
            x = np.cumsum(x, axis=a)
    return x.astype(np.float32)


def whole_payload_bits(shape, width, scale_bits=13):
    """The payload of a one-block file of `width` terms (§7's formula with
    §6's chunks and checksums; short scales unless told)."""
    sign_bytes = (width * sum(shape) + 7) // 8
    return 8 * (stored_widths_bytes(1, width) + stored_scales_bytes(width, scale_bits) +
                stored_dataset_bytes(sign_bytes, 1))


def write_v1_decomposition(path, shape, width, seed):
    """A format-version-1 sct file (variable-length strings, one sign
    matrix per mode, no norm2), as version-1 writers wrote them."""
    rng = np.random.default_rng(seed)
    vlen = h5py.string_dtype("utf-8")
    with h5py.File(path, "w") as f:
        f.attrs.create("signcut_format", "signcut-decomposition", dtype=vlen)
        f.attrs.create("format_version", 1, dtype="<i4")
        g = f.create_group("decomposition")
        for key, value in (("method", "sct"), ("original_dtype", "float32"), ("source", "v1 test"),
                           ("signcut_version", "0"), ("created", "2024-01-01T00:00:00Z")):
            g.attrs.create(key, value, dtype=vlen)
        g.attrs.create("shape", np.array(shape, "<u8"))
        g.attrs.create("width", width, dtype="<u8")
        g.attrs.create("scales_refit", 0, dtype="<u1")
        g.attrs.create("seed", seed, dtype="<u8")
        g.attrs.create("rel_fro_error", 0.25, dtype="<f8")
        g.create_dataset("scales", data=(rng.standard_normal(width) / np.arange(1, width + 1)).astype("<f4"))
        s = g.create_group("signs")
        for a, d in enumerate(shape):
            words = rng.integers(0, 2 ** 64, size=(width, (d + 63) // 64), dtype=np.uint64)
            if d % 64:
                words[:, -1] &= np.uint64((1 << (d % 64)) - 1)
            s.create_dataset(f"mode_{a}", data=words)


def read_h5(path, dataset="data"):
    with h5py.File(path, "r") as f:
        return f[dataset][()]


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
        x = field((40, 30, 6), 1)
        src = self.h5("x.h5", x)
        for block in ("whole", "16x8x3"):
            out = self.path(f"x-{block}.sct.h5")
            j = run_json("compress", src + ":/data", "-o", out, "--bits-per-value", "2", "--seed", "7",
                         "--block", block)
            self.assertEqual(list(j.keys())[:len(COMPRESS_KEYS)], COMPRESS_KEYS)
            self.assertEqual(j["shape"], [40, 30, 6])
            self.assertEqual(j["method"], "sct")
            self.assertEqual(j["seed"], 7)
            self.assertEqual(j["codecs"], ["sct"])
            self.assertEqual(j["file_bytes"], os.path.getsize(out))
            f = SctFile(out)
            self.assertEqual(f.version, 2)
            self.assertEqual(j["block_shape"], [40, 30, 6] if block == "whole" else [16, 8, 3])
            self.assertEqual(f.block_shape, j["block_shape"])
            self.assertEqual(j["blocks"], 1 if block == "whole" else 3 * 4 * 2)
            self.assertEqual(len(f.widths), j["blocks"])
            self.assertEqual(j["width"], sum(f.widths))
            # bits_per_value is the payload (§6), counted_bits_per_value the logical count.
            self.assertEqual(j["bits_per_value"], f.payload_bits() / x.size)
            self.assert_close(j["counted_bits_per_value"], f.counted_bits() / x.size, 1e-12)
            self.assertLessEqual(f.payload_bits(), 2.0 * x.size)
            # Padding and checksums make the payload the larger, unless the
            # signs are deflated (several blocks of a smooth field).
            if f.signs_deflate_level == 0:
                self.assertGreater(j["bits_per_value"], j["counted_bits_per_value"])
            self.assertEqual(f.signs_deflate_level, 0 if block == "whole" else 1)
            self.assert_close(j["compression_ratio"], x.size * 4 / os.path.getsize(out))
            m = metrics(x, rebuild(out))
            for k in ("rel_fro_error", "rmse", "max_abs_error", "psnr_db"):
                self.assert_close(j[k], m[k], 1e-4, f"{block} {k}")
            self.assertTrue(j["target_reached"])
            self.assertIn(j["arch"], ("scalar", "avx2", "avx512"))
            # norm2 is stored in double; the provenance keeps the error.
            self.assert_close(f.norm2, float(np.sum(x.astype(np.float64) ** 2)), 1e-9, "norm2")
            self.assert_close(float(f.attrs["rel_fro_error"]), j["rel_fro_error"], 1e-12, "stored error")
        # The human summary names the block shape and the block count.
        p = run("compress", src, "-o", self.path("h.sct.h5"), "--block", "16x8x3")
        self.assertIn("16x8x3 (24 blocks)", p.stderr)
        self.assertIn("counted", p.stderr)

    def test_whole_and_tiled_blocks_round_trip(self):
        for shape, tile in (((70, 90), "16x32"), ((37, 50, 6), "16x16x3"), ((9, 10, 11, 3), "4x4x4x3")):
            x = field(shape, 11)
            src = self.h5(f"r{len(shape)}.h5", x)
            for block in ("whole", tile):
                dec = self.path(f"r{len(shape)}-{block}.sct.h5")
                j = run_json("compress", src, "-o", dec, "--block", block, "--bits-per-value", "3")
                back = self.path(f"r{len(shape)}-{block}.back.h5")
                d = run_json("decompress", dec, "-o", back)
                self.assertEqual(d["shape"], list(shape))
                self.assertEqual(d["width"], j["width"])
                y = read_h5(back)
                self.assertEqual(y.dtype, np.float32)
                # What the format page says the file holds.
                SctFile(dec).assert_rebuilds(y)
                self.assert_close(metrics(x, y)["rel_fro_error"], j["rel_fro_error"], 1e-5, f"{shape} {block}")
                self.assertLess(j["rel_fro_error"], 0.5)

    def test_info_json(self):
        x = np.random.default_rng(2).standard_normal((33, 70)).astype(np.float64)
        src = self.h5("d.h5", x)
        out = self.path("d.sct.h5")
        c = run_json("compress", src, "-o", out, "--width", "9", "--block", "whole")
        j = run_json("info", out)
        self.assertEqual(list(j)[:len(INFO_KEYS)], INFO_KEYS)
        self.assertEqual(j["original_dtype"], "float64")
        self.assertEqual(j["width"], 9)
        self.assertEqual(j["format_version"], 2)
        self.assertEqual((j["block_shape"], j["blocks"]), ([33, 70], 1))
        self.assertEqual(j["file_bytes"], os.path.getsize(out))
        self.assertEqual(j["bits_per_value"], c["bits_per_value"])
        self.assertEqual(j["counted_bits_per_value"], c["counted_bits_per_value"])
        self.assert_close(j["compression_ratio"], x.size * 8 / os.path.getsize(out))
        self.assert_close(j["rel_fro_error"], c["rel_fro_error"], 1e-12)
        self.assertEqual(j["provenance"]["seed"], 0)
        self.assert_close(j["provenance"]["norm2"], float(np.sum(x.astype(np.float32).astype(np.float64) ** 2)), 1e-9)
        p = run("info", out)
        self.assertIn("format version 2", p.stdout)
        self.assertIn("counted", p.stdout)

    def test_info_and_eval_on_v2_blocks_and_v1(self):
        x = field((48, 40, 3), 12)
        src = self.h5("v.h5", x)
        dec = self.path("v.sct.h5")
        c = run_json("compress", src, "-o", dec, "--block", "16x16x3", "--bits-per-value", "1.5")
        i = run_json("info", dec)
        self.assertEqual((i["block_shape"], i["blocks"], i["format_version"]), ([16, 16, 3], 9, 2))
        for k in ("width", "bits_per_value", "counted_bits_per_value", "file_bytes"):
            self.assertEqual(i[k], c[k], k)
        e = run_json("eval", src, dec)
        self.assertEqual(list(e), ["width", "rel_fro_error", "max_abs_error", "rmse", "psnr_db"])
        self.assertEqual(e["width"], c["width"])
        for k in ("rel_fro_error", "rmse", "max_abs_error", "psnr_db"):
            self.assert_close(e[k], c[k], 1e-9, k)
        # --width W: the first W terms of every block.
        f = SctFile(dec)
        e2 = run_json("eval", src, dec, "--width", "2")
        self.assertEqual(e2["width"], sum(min(w, 2) for w in f.widths))
        self.assert_close(e2["rel_fro_error"], metrics(x, f.rebuild(2))["rel_fro_error"], 1e-5)
        self.assertIn("width", run("eval", src, dec).stdout)
        # A version-1 file: one block, no norm2.
        v1 = self.path("v1.sct.h5")
        write_v1_decomposition(v1, (20, 30), 6, 3)
        i1 = run_json("info", v1)
        self.assertEqual((i1["format_version"], i1["block_shape"], i1["blocks"], i1["width"]), (1, [20, 30], 1, 6))
        self.assertIsNone(i1["provenance"]["norm2"])
        self.assert_close(i1["counted_bits_per_value"], 6 * (20 + 30 + 32) / 600, 1e-12)
        self.assertIn("version-1", run("info", v1).stdout)
        y1 = SctFile(v1).rebuild()
        orig = self.h5("v1-orig.h5", (y1 + 0.5).astype(np.float32))
        e1 = run_json("eval", orig, v1)
        self.assertEqual(e1["width"], 6)
        self.assert_close(e1["max_abs_error"], 0.5, 1e-6)
        back = self.path("v1.back.h5")
        run("decompress", v1, "-o", back, "--region", "2:5,7", "--quiet")
        full1 = self.path("v1.full.h5")
        run("decompress", v1, "-o", full1, "--quiet")
        SctFile(v1).assert_rebuilds(read_h5(full1))
        np.testing.assert_array_equal(read_h5(back), read_h5(full1)[2:5, 7])

    def test_decompress_and_eval_json(self):
        x = np.random.default_rng(3).standard_normal((50, 20)).astype(np.float32)
        src = self.h5("e.h5", x)
        dec = self.path("e.sct.h5")
        run_json("compress", src, "-o", dec, "--width", "12")
        out = self.path("back.h5")
        j = run_json("decompress", dec, "-o", out + ":/restored", "--width", "5")
        self.assertEqual(set(j), {"shape", "width", "seconds", "file_bytes"})
        self.assertEqual(j["width"], 5 * len(SctFile(dec).widths))
        self.assertEqual(j["file_bytes"], os.path.getsize(out))
        y = read_h5(out, "restored")
        self.assertEqual(y.dtype, np.float32)
        SctFile(dec).assert_rebuilds(y, 5)
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
        y = read_h5(out)
        self.assertEqual(y.dtype, np.uint8)
        ref = np.clip(np.round(rebuild(dec).astype(np.float64)), 0, 255)
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
        self.assertEqual(j["blocks"], int(np.prod([-(-d // b) for d, b in zip(j["shape"], j["block_shape"])])))
        save = self.path("cat.sct.h5")
        w = run_json("image", CAT, "-o", self.path("cat-whole.png"), "--bits-per-value", "1", "--block", "whole",
                     "--save", save)
        self.assertEqual((w["block_shape"], w["blocks"]), ([300, 451, 3], 1))
        self.assertEqual(SctFile(save).block_shape, [300, 451, 3])
        p = run("image", CAT, "-o", self.path("cat-t.png"), "--bits-per-value", "1", "--block", "64x64x3")
        self.assertIn("64x64x3 (40 blocks)", p.stderr)

    # ---- regions ----

    def check_regions(self, dec, regions):
        full = self.path("full.h5")
        run("decompress", dec, "-o", full, "--force", "--quiet")
        y = read_h5(full)
        SctFile(dec).assert_rebuilds(y)
        for text_region, index in regions:
            out = self.path("region.h5")
            j = run_json("decompress", dec, "-o", out, "--region", text_region, "--force")
            r = read_h5(out)
            expected = y[index]
            self.assertEqual(list(r.shape), list(expected.shape), text_region)
            self.assertEqual(j["shape"], list(expected.shape), text_region)
            self.assertEqual(r.dtype, np.float32)
            # Bit for bit the same slice of the full decompress.
            self.assertTrue(np.array_equal(r.view(np.uint32), expected.view(np.uint32)), text_region)

    def test_region_equals_the_slice_of_a_full_decompress_2d(self):
        x = field((70, 90), 5)
        src = self.h5("r2.h5", x)
        dec = self.path("r2.sct.h5")
        run("compress", src, "-o", dec, "--block", "16x32", "--bits-per-value", "2", "--quiet")
        s = np.s_
        self.check_regions(dec, [
            ("0:10,:", s[0:10, :]),
            ("5,:", s[5, :]),                   # an index drops the mode
            (":,-1", s[:, -1]),                 # the last column: edge blocks only
            ("64:70,64:90", s[64:70, 64:90]),   # the corner edge block
            ("17:49,31:65", s[17:49, 31:65]),   # across block boundaries
            ("-5:,3:4", s[-5:, 3:4]),
            (":,:", s[:, :]),
            ("69,0:1", s[69, 0:1]),
        ])
        # With --width: the same slice of a full decompress at that width.
        full = self.path("w.h5")
        run("decompress", dec, "-o", full, "--width", "3", "--quiet")
        part = self.path("wr.h5")
        run("decompress", dec, "-o", part, "--width", "3", "--region", "10:40,-20:", "--quiet")
        np.testing.assert_array_equal(read_h5(part), read_h5(full)[10:40, -20:])

    def test_region_equals_the_slice_of_a_full_decompress_3d(self):
        x = field((37, 50, 6), 6)
        src = self.h5("r3.h5", x)
        dec = self.path("r3.sct.h5")
        run("compress", src, "-o", dec, "--block", "16x16x3", "--bits-per-value", "2", "--quiet")
        s = np.s_
        self.check_regions(dec, [
            ("0:37,10:20,2", s[0:37, 10:20, 2]),
            ("3,:,:", s[3, :, :]),
            ("36,49,:", s[36, 49, :]),          # two modes dropped, the last edge block
            ("-1,:,-1", s[-1, :, -1]),
            ("32:,48:,3:", s[32:, 48:, 3:]),    # the last block along every mode
            ("15:17,15:17,2:4", s[15:17, 15:17, 2:4]),  # eight blocks meet here
        ])
        # A region of the whole-tensor file (one block).
        whole = self.path("r3w.sct.h5")
        run("compress", src, "-o", whole, "--block", "whole", "--width", "20", "--quiet")
        self.check_regions(whole, [("1:5,:,4", s[1:5, :, 4]), ("20,30,:", s[20, 30, :])])

    def test_region_of_an_lplr_file_and_its_width_refusal(self):
        x = field((30, 40), 7)
        src = self.h5("l.h5", x)
        dec = self.path("l.lplr.h5")
        run("compress", src, "-o", dec, "--method", "lplr", "--bits-per-value", "4", "--quiet")
        full, part = self.path("lf.h5"), self.path("lp.h5")
        run("decompress", dec, "-o", full, "--quiet")
        run("decompress", dec, "-o", part, "--region", "3:9,-4", "--quiet")
        np.testing.assert_array_equal(read_h5(part), read_h5(full)[3:9, -4])
        # --width has no meaning for lplr; the advice names decompress's own options.
        p = subprocess_refusal(self, ["decompress", dec, "-o", part + "x", "--width", "2"], 2, "--width")
        self.assertIn("--region", p)
        self.assertNotIn("--rank", p)

    # ---- recut ----

    def test_recut_matches_a_fresh_compress_with_the_files_block_shape(self):
        src = TOPO
        big = self.path("t1.sct.h5")
        # Signed cuts only: a recut keeps zfp blocks as they are, so only a
        # file of terms alone recuts to what a fresh compress gives.
        c = run_json("compress", src, "-o", big, "--bits-per-value", "1", "--codecs", "sct")
        block = "x".join(map(str, c["block_shape"]))
        self.assertGreater(c["blocks"], 1)
        x = read_h5(TOPO).astype(np.float32)
        n = x.size
        F = SctFile(big)
        for budget in (0.5, 0.25):
            cut = self.path(f"t{budget}.recut.h5")
            r = run_json("recut", big, "-o", cut, "--bits-per-value", str(budget))
            self.assertEqual(list(r)[:len(RECUT_KEYS)], RECUT_KEYS)
            self.assertEqual((r["shape"], r["block_shape"], r["blocks"]), ([540, 1081], c["block_shape"], c["blocks"]))
            self.assertEqual(r["file_bytes"], os.path.getsize(cut))
            R = SctFile(cut)
            # The payload fits the budget, and is the payload JSON reports.
            self.assertLessEqual(R.payload_bits(), budget * n)
            self.assertEqual(r["bits_per_value"], R.payload_bits() / n)
            self.assertEqual(r["width"], sum(R.widths))
            # Every block keeps a prefix of its own terms.
            self.assertEqual(R.block_shape, F.block_shape)
            big_blocks = list(F.blocks())
            for (b, _, _, w, first, pm), (_, _, _, wb, firstb, pmb) in zip(R.blocks(), big_blocks):
                self.assertLessEqual(w, wb)
                np.testing.assert_array_equal(R.scales[first: first + w], F.scales[firstb: firstb + w])
                np.testing.assert_array_equal(pm, pmb[:w])
            # The estimate: the stored error plus the dropped terms' gains
            # from their stored (short) scales, and the real error.
            stored = float(F.attrs["rel_fro_error"])
            est = np.sqrt(stored ** 2 + (sum(F.gains()) - sum(R.gains())) / F.norm2)
            self.assert_close(r["rel_fro_error"], est, 1e-6, "estimate")
            real = metrics(x, R.rebuild())["rel_fro_error"]
            self.assert_close(r["rel_fro_error"], real, 2e-3, "estimate against the real error")
            e = run_json("eval", src, cut)
            self.assert_close(e["rel_fro_error"], real, 1e-6)
            # A fresh compress at that budget with the file's block shape.
            fresh = run_json("compress", src, "-o", self.path(f"f{budget}.sct.h5"), "--bits-per-value", str(budget),
                             "--block", block, "--codecs", "sct")
            self.assertLessEqual(abs(real - fresh["rel_fro_error"]), 0.005 * fresh["rel_fro_error"],
                                 f"recut {real} vs fresh {fresh['rel_fro_error']} at {budget}")
            # Provenance: the input's, with the estimate and norm2.
            self.assertEqual(R.norm2, F.norm2)
            for k in ("source", "seed", "original_dtype", "created", "signcut_version"):
                self.assertEqual(text(R.attrs[k]), text(F.attrs[k]), k)
            self.assert_close(float(R.attrs["rel_fro_error"]), r["rel_fro_error"], 1e-12)
        # The human summary says the error is an estimate.
        p = run("recut", big, "-o", self.path("h.recut.h5"), "--bits-per-value", "0.3")
        self.assertIn("estimate", p.stderr)
        self.assertEqual(p.stdout, "")
        # --rel-error: the fewest bits whose estimate reaches it.
        cut = self.path("e.recut.h5")
        r = run_json("recut", big, "-o", cut, "--rel-error", "0.1")
        self.assertTrue(r["target_reached"])
        self.assertLessEqual(r["rel_fro_error"], 0.1)
        self.assertLess(r["bits_per_value"], c["bits_per_value"])
        self.assertLessEqual(metrics(x, rebuild(cut))["rel_fro_error"], 0.1 * 1.002)
        # A recut of a recut: the same budget, nearly the same error (with
        # deflated signs the fit to the budget follows the stored sizes of
        # the candidates each file offers, so the kept terms may differ a
        # little).
        rr = run_json("recut", cut, "-o", self.path("ee.recut.h5"), "--bits-per-value", "0.25")
        self.assertLessEqual(SctFile(self.path("ee.recut.h5")).payload_bits(), 0.25 * n)
        self.assert_close(rr["rel_fro_error"],
                          run_json("info", self.path("t0.25.recut.h5"))["rel_fro_error"], 0.03, "recut twice")
        # An unreachable target keeps everything and says so.
        p = run("recut", big, "-o", self.path("u.recut.h5"), "--rel-error", "0.001", "--json")
        self.assertFalse(json.loads(p.stdout)["target_reached"])
        self.assertIn("warning", p.stderr)

    def test_recut_of_one_block_equals_a_prefix(self):
        x = field((64, 48), 8)
        src = self.h5("o.h5", x)
        big = self.path("o.sct.h5")
        run("compress", src, "-o", big, "--block", "whole", "--bits-per-value", "3", "--quiet")
        cut = self.path("o.recut.h5")
        r = run_json("recut", big, "-o", cut, "--bits-per-value", "1")
        fresh = self.path("o1.sct.h5")
        f = run_json("compress", src, "-o", fresh, "--block", "whole", "--bits-per-value", "1")
        self.assertEqual(r["width"], f["width"])
        self.assertEqual(r["bits_per_value"], f["bits_per_value"])
        with h5py.File(cut, "r") as a, h5py.File(fresh, "r") as b:
            for name in ("widths", "scales", "signs"):
                np.testing.assert_array_equal(a["decomposition"][name][...], b["decomposition"][name][...])
        self.assertEqual(whole_payload_bits([64, 48], r["width"]), SctFile(cut).payload_bits())

    # ---- stopping rules ----

    def test_rel_error_stops_at_first_width_reaching_it(self):
        x = np.random.default_rng(4).standard_normal((60, 45)).astype(np.float32)
        src = self.h5("r.h5", x)
        dec = self.path("r.sct.h5")
        j = run_json("compress", src, "-o", dec, "--rel-error", "0.5", "--block", "whole")
        w = j["width"]
        self.assertTrue(j["target_reached"])
        self.assertLessEqual(metrics(x, rebuild(dec, w))["rel_fro_error"], 0.5 + 1e-6)
        self.assertGreater(metrics(x, rebuild(dec, w - 1))["rel_fro_error"], 0.5)
        # With blocks the allocation reaches the target too.
        y = field((64, 64), 4)
        bsrc = self.h5("rb.h5", y)
        bdec = self.path("rb.sct.h5")
        jb = run_json("compress", bsrc, "-o", bdec, "--rel-error", "0.05", "--block", "16x16")
        self.assertTrue(jb["target_reached"])
        self.assertLessEqual(metrics(y, rebuild(bdec))["rel_fro_error"], 0.05 * 1.002)

    def test_refit_lowers_the_error_and_marks_the_file(self):
        x = np.random.default_rng(9).standard_normal((48, 40)).astype(np.float32)
        src = self.h5("f.h5", x)
        greedy, refit = self.path("g.sct.h5"), self.path("f.sct.h5")
        jg = run_json("compress", src, "-o", greedy, "--width", "30", "--block", "whole")
        jr = run_json("compress", src, "-o", refit, "--width", "30", "--refit")
        self.assertFalse(jg["scales_refit"])
        self.assertTrue(jr["scales_refit"])
        self.assertEqual(jr["width"], 30)
        self.assertEqual(jr["blocks"], 1)
        self.assert_close(jr["greedy_rel_fro_error"], jg["rel_fro_error"], 1e-6, "greedy error")
        # The reported error is the refit file's, recomputed from the file alone.
        self.assert_close(jr["rel_fro_error"], metrics(x, rebuild(refit))["rel_fro_error"], 1e-4, "refit error")
        self.assertLess(jr["rel_fro_error"], jg["rel_fro_error"])
        with h5py.File(refit, "r") as f, h5py.File(greedy, "r") as g:
            self.assertEqual(int(f["decomposition"].attrs["scales_refit"]), 1)
            self.assertEqual(int(g["decomposition"].attrs["scales_refit"]), 0)
            # Same signs: only the scales move.
            self.assertTrue(np.array_equal(f["decomposition/signs"][:], g["decomposition/signs"][:]))
        self.assertTrue(run_json("info", refit)["scales_refit"])
        # --rel-error still picks the width by the greedy's error.
        jw = run_json("compress", src, "-o", self.path("w.sct.h5"), "--rel-error", "0.5", "--refit")
        jw0 = run_json("compress", src, "-o", self.path("w0.sct.h5"), "--rel-error", "0.5", "--block", "whole")
        self.assertEqual(jw["width"], jw0["width"])
        p = run("compress", src, "-o", self.path("l.h5"), "--method", "lplr", "--refit", expect=2)
        self.assertIn("--refit", p.stderr)

    def test_restarts_lower_the_error_and_the_update_cap_holds(self):
        x = np.random.default_rng(10).standard_normal((50, 41)).astype(np.float32)
        src = self.h5("s.h5", x)
        whole = ["--block", "whole"]
        j0 = run_json("compress", src, "-o", self.path("s0.sct.h5"), "--width", "20", *whole)
        j2 = run_json("compress", src, "-o", self.path("s2.sct.h5"), "--width", "20", "--restarts", "2", *whole)
        run_json("compress", src, "-o", self.path("s2b.sct.h5"), "--width", "20", "--restarts", "2",
                 "--threads", "1", *whole)
        self.assertLess(j2["rel_fro_error"], j0["rel_fro_error"] * 1.01)
        self.assert_close(j2["rel_fro_error"], metrics(x, rebuild(self.path("s2.sct.h5")))["rel_fro_error"], 1e-4)
        with h5py.File(self.path("s2.sct.h5"), "r") as a, h5py.File(self.path("s2b.sct.h5"), "r") as b:
            self.assertTrue(np.array_equal(a["decomposition/scales"][:], b["decomposition/scales"][:]))
        run("compress", src, "-o", self.path("r.sct.h5"), "--restarts", "-1", expect=2)
        # The cap on mode updates holds for every start of every term.
        jc = run_json("compress", src, "-o", self.path("c.sct.h5"), "--width", "20", "--restarts", "2",
                      "--max-updates", "3", *whole)
        self.assertLessEqual(jc["mode_updates"], 3 * 20 * 3)
        self.assertGreater(j2["mode_updates"], jc["mode_updates"])
        self.assert_close(jc["rel_fro_error"], metrics(x, rebuild(self.path("c.sct.h5")))["rel_fro_error"], 1e-4)
        run("compress", src, "-o", self.path("c0.sct.h5"), "--max-updates", "0", expect=2)
        p = run("compress", src, "-o", self.path("l.h5"), "--method", "lplr", "--max-updates", "5", expect=2)
        self.assertIn("--max-updates", p.stderr)
        p = run("compress", src, "-o", self.path("l.h5"), "--method", "lplr", "--restarts", "1", expect=2)
        self.assertIn("--restarts", p.stderr)

    def test_bits_per_value_is_never_exceeded(self):
        x = field((17, 23, 5), 5)
        src = self.h5("b.h5", x)
        for b in ("0.5", "1", "3.3"):
            dec = self.path(f"b{b}.sct.h5")
            j = run_json("compress", src, "-o", dec, "--bits-per-value", b, "--block", "whole")
            budget = float(b) * x.size
            self.assertLessEqual(whole_payload_bits(x.shape, j["width"]), budget)
            self.assertGreater(whole_payload_bits(x.shape, j["width"] + 1), budget)
            self.assertEqual(SctFile(dec).payload_bits(), whole_payload_bits(x.shape, j["width"]))
            tiled = self.path(f"t{b}.sct.h5")
            t = run_json("compress", src, "-o", tiled, "--bits-per-value", b, "--block", "8x8x5")
            self.assertLessEqual(SctFile(tiled).payload_bits(), budget)
            self.assertEqual(t["bits_per_value"], SctFile(tiled).payload_bits() / x.size)

    def test_unreachable_rel_error_reports_target_not_reached(self):
        x = np.random.default_rng(6).standard_normal((24, 24)).astype(np.float16)
        src = self.h5("h.h5", x)
        p = run("compress", src, "-o", self.path("h.sct.h5"), "--rel-error", "0", "--json")
        j = json.loads(p.stdout)
        self.assertFalse(j["target_reached"])
        self.assertLessEqual(j["bits_per_value"], 16.0)
        self.assertIn("warning", p.stderr)

    def test_all_zero_tensor_gives_width_zero(self):
        src = self.h5("z.h5", np.zeros((40, 50), np.float32))
        dec = self.path("z.sct.h5")
        j = run_json("compress", src, "-o", dec)
        self.assertEqual(j["width"], 0)
        self.assertEqual(j["rel_fro_error"], 0)
        self.assertIsNone(j["psnr_db"])
        e = run_json("eval", src, dec)
        self.assertIsNone(e["psnr_db"])
        self.assertEqual(run_json("info", dec)["width"], 0)
        back = self.path("z.back.h5")
        run("decompress", dec, "-o", back, "--quiet")
        self.assertFalse(read_h5(back).any())

    def test_default_is_one_bit_per_value_and_human_summary(self):
        p = run("compress", TOPO, "-o", self.path("t.sct.h5"))
        self.assertEqual(p.stdout, "")
        self.assertIn("bits/value", p.stderr)
        self.assertIn("blocks", p.stderr)
        j = run_json("info", self.path("t.sct.h5"))
        self.assertLessEqual(j["bits_per_value"], 1.0)
        self.assertGreater(j["bits_per_value"], 0.99)

    def test_threads_give_identical_files(self):
        x = field((80, 70, 3), 13)
        src = self.h5("th.h5", x)
        for block in ("auto", "16x16x3", "whole"):
            files = []
            for threads in ("1", "2"):
                out = self.path(f"th-{block}-{threads}.sct.h5")
                run("compress", src, "-o", out, "--bits-per-value", "1.5", "--block", block, "--threads", threads,
                    "--quiet")
                files.append(out)
            with h5py.File(files[0], "r") as a, h5py.File(files[1], "r") as b:
                for name in ("widths", "scales", "signs"):
                    self.assertTrue(np.array_equal(a["decomposition"][name][...], b["decomposition"][name][...]),
                                    f"{block}: {name}")
                self.assertTrue(np.array_equal(a["decomposition"].attrs["block_shape"],
                                               b["decomposition"].attrs["block_shape"]), block)

    def test_python_reader_of_the_format_matches_decompress(self):
        if not os.path.exists(READ_SCT_V2):
            self.skipTest(f"{READ_SCT_V2} does not exist yet (the version-2 Python reader of docs/FORMAT.md)")
        spec = importlib.util.spec_from_file_location("read_sct_v2", READ_SCT_V2)
        reader = importlib.util.module_from_spec(spec)
        spec.loader.exec_module(reader)
        x = field((37, 50, 6), 14)
        src = self.h5("py.h5", x)
        dec = self.path("py.sct.h5")
        run("compress", src, "-o", dec, "--block", "16x16x4", "--bits-per-value", "2", "--quiet")
        self.assertGreater(len(SctFile(dec).widths), 1)
        back = self.path("py.back.h5")
        run("decompress", dec, "-o", back, "--quiet")
        y = read_h5(back)
        r = np.asarray(reader.read(dec))
        self.assertEqual(r.shape, y.shape)
        if r.dtype == np.float32:
            np.testing.assert_array_equal(r, y)
        else:
            # The reader sums in float64, signcut in float32: equal up to
            # the rounding of a float32 sum of each block's terms.
            f = SctFile(dec)
            self.assertLessEqual(float(np.abs(r - y).max()), f.tolerance())
            f.assert_rebuilds(y)

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

    def test_refuses_bad_block_shapes(self):
        src = self.h5("k.h5", field((30, 40), 15))
        out = self.path("o.h5")
        self.refuse(["compress", src, "-o", out, "--block", "0x8"], 2, "--block", [src], out)
        self.refuse(["compress", src, "-o", out, "--block", "8x8x2"], 2, "--block", [src], out)
        self.refuse(["compress", src, "-o", out, "--block", "8"], 2, "--block", [src], out)
        self.refuse(["compress", src, "-o", out, "--block", "8x41"], 2, "--block", [src], out)
        self.refuse(["compress", src, "-o", out, "--block", "8xx8"], 2, "--block", [src], out)
        self.refuse(["compress", src, "-o", out, "--block", "big"], 2, "--block", [src], out)
        self.refuse(["compress", src, "-o", out, "--block", "8x8", "--method", "lplr"], 2, "--block", [src], out)
        self.refuse(["compress", src, "-o", out, "--block", "whole", "--method", "lplr"], 2, "--block", [src], out)
        self.refuse(["compress", src, "-o", out, "--block", "8x8", "--refit"], 2, "--refit", [src], out)
        png = self.path("o.png")
        self.refuse(["image", CAT, "-o", png, "--block", "64x64x0"], 2, "--block", [CAT], png)
        self.refuse(["image", CAT, "-o", png, "--block", "64x64"], 2, "--block", [CAT], png)
        self.refuse(["image", CAT, "-o", png, "--block", "64x64x4"], 2, "--block", [CAT], png)
        # A block shape equal to the shape is the whole tensor: --refit takes it.
        run("compress", src, "-o", out, "--block", "30x40", "--refit", "--width", "3", "--quiet")

    def test_refuses_bad_regions(self):
        src = self.h5("g.h5", field((20, 30, 4), 16))
        dec = self.path("g.sct.h5")
        run("compress", src, "-o", dec, "--block", "8x8x4", "--quiet")
        out = self.path("o.h5")
        for region, fragment in (("0:10", "0:10"),             # too few entries
                                 ("0:10,:,:,:", "0:10"),       # too many
                                 ("0:21,:,:", "0:21"),         # beyond the dimension
                                 ("20,:,:", "20"),             # an index beyond it
                                 ("-21,:,:", "-21"),
                                 ("5:3,:,:", "5:3"),           # empty
                                 ("a,:,:", "a"),               # malformed
                                 ("0:10:2,:,:", "0:10:2"),     # steps are not supported
                                 ("1,2,3", "single value")):   # no mode left
            self.refuse(["decompress", dec, "-o", out, "--region", region], 2, fragment, [dec], out)
        self.refuse(["decompress", dec, "-o", out, "--region", "0:5,:,:", "--width", "1000"], 1, "exceeds", [dec],
                    out)

    def test_refuses_bad_recuts(self):
        src = self.h5("c.h5", field((64, 64), 17))
        dec = self.path("c.sct.h5")
        c = run_json("compress", src, "-o", dec, "--block", "16x16", "--bits-per-value", "1")
        out = self.path("o.h5")
        self.refuse(["recut", dec, "-o", out, "--bits-per-value", "1.5"], 1, "above", [dec], out)
        self.refuse(["recut", dec, "-o", out, "--bits-per-value", str(c["bits_per_value"] * 1.01)], 1, "above",
                    [dec], out)
        self.refuse(["recut", dec, "-o", out, "--bits-per-value", "0.01"], 1, "minimum", [dec], out)
        self.refuse(["recut", dec, "-o", out], 2, "--bits-per-value", [dec], out)
        self.refuse(["recut", dec, "-o", out, "-b", "0.5", "-e", "0.1"], 2, "excludes", [dec], out)
        self.refuse(["recut", dec, "-o", out, "-b", "0"], 2, "--bits-per-value", [dec], out)
        self.refuse(["recut", dec, "-o", dec, "-b", "0.5", "--force"], 1, "is the input", [dec])
        lp = self.path("c.lplr.h5")
        run("compress", src, "-o", lp, "--method", "lplr", "--quiet")
        self.refuse(["recut", lp, "-o", out, "-b", "0.5"], 1, "lplr", [lp], out)
        v1 = self.path("v1.sct.h5")
        write_v1_decomposition(v1, (20, 30), 6, 3)
        self.refuse(["recut", v1, "-o", out, "-b", "0.5"], 1, "norm2", [v1], out)
        refit = self.path("r.sct.h5")
        run("compress", src, "-o", refit, "--block", "whole", "--refit", "--quiet")
        self.refuse(["recut", refit, "-o", out, "-b", "0.5"], 1, "refit", [refit], out)
        self.refuse(["recut", self.path("nope.h5"), "-o", out, "-b", "0.5"], 1, "nope.h5", output=out)
        existing = self.path("e.h5")
        shutil.copy(dec, existing)
        self.refuse(["recut", dec, "-o", existing, "-b", "0.5"], 1, "--force", [dec, existing])
        run("recut", dec, "-o", existing, "-b", "0.5", "--force", "--quiet")

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
        v = variant("ver.sct.h5", lambda f: f.attrs.modify("format_version", np.int32(3)))
        self.refuse(["decompress", v, "-o", out], 1, "format_version", [v], out)
        m = variant("noattr.sct.h5", lambda f: f["decomposition"].attrs.__delitem__("width"))
        self.refuse(["decompress", m, "-o", out], 1, "width", [m], out)

        def bad_signs(f):
            n = f["decomposition/signs"].shape[0]
            del f["decomposition/signs"]
            f["decomposition"].create_dataset("signs", data=np.zeros(n + 1, np.uint8), chunks=(n + 1,),
                                              fletcher32=True)
        s = variant("signs.sct.h5", bad_signs)
        self.refuse(["decompress", s, "-o", out], 1, "signs", [s], out)
        self.refuse(["recut", s, "-o", out, "-b", "0.5"], 1, "signs", [s], out)
        self.refuse(["decompress", s, "-o", out, "--region", "0:2,0:2"], 1, "signs", [s], out)
        big = variant("big.sct.h5", lambda f: f["decomposition"].attrs.modify(
            "shape", np.array([2 ** 31, 2 ** 31], np.uint64)))
        self.refuse(["decompress", big, "-o", out], 1, "", [big], out)
        self.refuse(["decompress", good, "-o", out, "--max-memory", "1K"], 1, "", [good], out)
        for cmd in (["info", v], ["info", trunc]):
            self.refuse(cmd, 1, "", [cmd[1]])


def subprocess_refusal(case, args, code, fragment):
    """case.refuse(...), returning the error line."""
    import subprocess
    case.refuse(args, code, fragment)
    p = subprocess.run([SIGNCUT, *map(str, args)], capture_output=True, text=True, timeout=600)
    return p.stderr


if __name__ == "__main__":
    run_suite(Cli, "cli", REPORT)
