#!/usr/bin/python3
"""End-to-end tests of format version 3: sct files whose blocks may be
stored by zfp (`compress --codecs sct,zfp`), on the sample data.

Every file is read back with tests/format/read_sct_v3.py, the Python reader
of docs/FORMAT.md (h5py, numpy and zfpy alone), and with h5py against the
layout of FORMAT.md: the payload, the codec record, the streams of each zfp
block; `decompress` (whole, --region, float32 and float64), `info`, `eval`
and `recut` are checked against them.

usage: test_format_v3.py SIGNCUT_BINARY SOURCE_ROOT REPORT_XML
"""
import functools
import math
import os
import sys

import h5py
import numpy as np

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.join(HERE, os.pardir))
sys.path.insert(0, os.path.join(HERE, os.pardir, "format"))
sys.path.insert(0, HERE)
from signcut_testing import CliCase, metrics, run_signcut, run_signcut_json, run_suite  # noqa: E402
from sct_files import (check_widths_type, deflate_level_of, scale_bits_of, stored_dataset_bytes,  # noqa: E402
                       stored_deflated_bytes, stored_scales_bytes, stored_widths_bytes)
import read_sct_v2  # noqa: E402
import read_sct_v3  # noqa: E402

SIGNCUT, ROOT, REPORT = sys.argv[1], sys.argv[2], sys.argv[3]
TOPO = os.path.join(ROOT, "data", "topo_etopo20.h5")
CAT = os.path.join(ROOT, "data", "skimage_chelsea.png")
run = functools.partial(run_signcut, SIGNCUT)
run_json = functools.partial(run_signcut_json, SIGNCUT)
V3_DATASETS = ("codecs", "stream_sizes", "streams")


def read(path, name="data"):
    with h5py.File(path, "r") as f:
        return f[name][()]


class V3File:
    """A version-2 or version-3 sct file read with h5py, from FORMAT.md."""

    def __init__(self, path):
        with h5py.File(path, "r") as f:
            self.version = int(f.attrs["format_version"])
            g = f["decomposition"]
            self.names = sorted(g.keys())
            self.shape = [int(d) for d in g.attrs["shape"]]
            self.block = [int(b) for b in g.attrs["block_shape"]]
            self.norm2 = float(g.attrs["norm2"])
            self.rel_fro_error = float(g.attrs["rel_fro_error"])
            self.widths = g["widths"][...].astype(np.int64)
            check_widths_type(g["widths"], [int(w) for w in self.widths])
            self.scales = g["scales"][...]
            self.scale_bits = scale_bits_of(g["scales"])
            self.signs = g["signs"][...]
            self.signs_deflate_level = deflate_level_of(g["signs"])
            self.storage = {n: g[n].id.get_storage_size() for n in g if isinstance(g[n], h5py.Dataset)}
            self.lengths = {n: len(g[n]) for n in g if isinstance(g[n], h5py.Dataset)}
            if self.version == 3:
                self.codecs = g["codecs"][...]
                self.sizes = g["stream_sizes"][...].astype(np.int64)
                self.streams = g["streams"][...]
            else:
                self.codecs = np.zeros(len(self.widths), np.uint8)
                self.sizes = np.zeros(0, np.int64)
                self.streams = np.zeros(0, np.uint8)
        self.grid = [-(-d // b) for d, b in zip(self.shape, self.block)]
        self.n = int(np.prod(self.shape))

    def blocks(self):
        """(index, slices, extents) of every block, in grid order."""
        for b, corner in enumerate(np.ndindex(*self.grid)):
            lo = [c * s for c, s in zip(corner, self.block)]
            ext = [min(s, d - o) for s, d, o in zip(self.block, self.shape, lo)]
            yield b, tuple(slice(o, o + e) for o, e in zip(lo, ext)), ext

    def zfp_streams(self):
        """Block index -> its streams (bytes), in plane order: a zfp block
        has one stream per index of its modes shorter than 4."""
        out, s, at = {}, 0, 0
        for b, _, ext in self.blocks():
            if self.codecs[b] != 1:
                continue
            planes = int(np.prod([e for e in ext if e < 4]))
            out[b] = []
            for _ in range(planes):
                out[b].append(self.streams[at: at + self.sizes[s]].tobytes())
                at += int(self.sizes[s])
                s += 1
        assert s == len(self.sizes) and at == len(self.streams)
        return out

    def payload_bytes(self):
        """§6's payload: the datasets' stored sizes, chunked as signcut
        chunks them (checked against HDF5's own figures)."""
        sizes = {"widths": 4, "scales": 4, "signs": 1, "codecs": 1, "stream_sizes": 4, "streams": 1}
        expected = {n: stored_dataset_bytes(self.lengths[n], sizes[n]) for n in sizes if n in self.lengths}
        expected["scales"] = stored_scales_bytes(self.lengths["scales"], self.scale_bits)
        expected["widths"] = stored_widths_bytes(self.lengths["widths"], int(self.widths.max(initial=0)))
        if self.signs_deflate_level:
            expected["signs"] = stored_deflated_bytes(self.signs, self.signs_deflate_level)
        storage = {n: self.storage[n] for n in expected}
        assert expected == storage, f"{expected} != {storage}"
        return sum(expected.values())

    def tolerance(self):
        """How far two float32 sums of a block's terms in any order can be
        apart, over the worst block: 2·w·2^-24·Σ_j |c_j|."""
        worst, term = 0.0, 0
        for b, _, _ in self.blocks():
            w = int(self.widths[b])
            worst = max(worst, 2.0 * w * 2.0 ** -24 * float(np.abs(self.scales[term: term + w].astype(np.float64)).sum()))
            term += w
        return worst


class CliFormatV3(CliCase):
    binary = SIGNCUT
    folder_prefix = "signcut-format-v3-"

    def compress(self, src, name, *args):
        out = self.path(name)
        j = run_json("compress", src, "-o", out, *args)
        return out, j

    def check_reader(self, path, f=None):
        """The Python reader of FORMAT.md against `decompress`: float64
        exactly, float32 to float32 rounding, zfp blocks exactly."""
        f = f or V3File(path)
        r = read_sct_v3.read(path)
        self.assertEqual(list(r.shape), f.shape)
        out64, out32 = self.path("check64.h5"), self.path("check32.h5")
        run("decompress", path, "-o", out64, "--dtype", "float64", "--quiet", "--force")
        run("decompress", path, "-o", out32, "--dtype", "float32", "--quiet", "--force")
        y64, y32 = read(out64), read(out32)
        np.testing.assert_array_equal(r, y64)
        self.assertLessEqual(float(np.abs(r - y32).max()), f.tolerance())
        for b, where, _ in f.blocks():
            if f.codecs[b] == 1:
                np.testing.assert_array_equal(r[where].astype(np.float32), y32[where], err_msg=f"zfp block {b}")
        return r, y32

    # ---- the sample data ----

    def test_topography_stores_zfp_blocks_that_every_command_reads(self):
        dec, j = self.compress(TOPO, "t.sct.h5", "--bits-per-value", "2", "--block", "32x32", "--codecs", "sct,zfp")
        f = V3File(dec)
        self.assertEqual(f.version, 3)
        self.assertEqual(j["format_version"], 3)
        zfp = int((f.codecs == 1).sum())
        self.assertGreater(zfp, 0, "zfp stores no block of the topography at 2 bits per value")
        self.assertLess(zfp, len(f.codecs))
        self.assertEqual(j["zfp_blocks"], zfp)
        self.assertEqual(set(np.unique(f.codecs)), {0, 1})
        # zfp blocks have no terms; widths, scales, signs as in version 2.
        self.assertFalse(f.widths[f.codecs == 1].any())
        self.assertEqual(len(f.scales), int(f.widths.sum()))
        self.assertEqual(set(f.names) - {"source_attributes"},
                         {"widths", "scales", "signs", "codecs", "stream_sizes", "streams"})
        # Each zfp block's stream is a zfp stream of the block alone.
        streams = f.zfp_streams()
        self.assertEqual(len(streams), zfp)
        # The payload: six datasets' stored sizes, what bits_per_value counts.
        payload = f.payload_bytes()
        self.assertAlmostEqual(j["bits_per_value"], 8 * payload / f.n, places=12)
        info = run_json("info", dec)
        self.assertEqual(info["format_version"], 3)
        self.assertEqual(info["bits_per_value"], j["bits_per_value"])
        self.assertEqual(info["zfp_blocks"], zfp)
        self.assertEqual(info["block_codecs"], {"sct": len(f.codecs) - zfp, "zfp": zfp})
        # Counted: a sign 1 bit, a scale 13 (short), a stream its bytes and 32.
        self.assertEqual((f.scale_bits, info["scale_bits"]), (13, 13))
        counted = sum(int(f.widths[b]) * (sum(e) + 13) for b, _, e in f.blocks())
        counted += 8 * len(f.streams) + 32 * len(f.sizes)
        self.assertAlmostEqual(info["counted_bits_per_value"], counted / f.n, places=9)
        text = run("info", dec).stdout
        self.assertIn(f"({len(f.codecs)} blocks: {len(f.codecs) - zfp} signed cuts, {zfp} zfp)", text)

        r, y32 = self.check_reader(dec, f)
        # The error the file stores is the error of what it stores.
        with h5py.File(TOPO, "r") as t:
            x = t[next(iter(t.keys()))][()]
        self.assertAlmostEqual(metrics(x, r)["rel_fro_error"], f.rel_fro_error, delta=1e-6 * f.rel_fro_error + 1e-9)
        e = run_json("eval", TOPO, dec)
        self.assertAlmostEqual(e["rel_fro_error"], metrics(x, y32)["rel_fro_error"], delta=1e-9)

        # A region is the same slice of the whole, bit for bit; the
        # streamed and the in-memory paths agree.
        out = self.path("region.h5")
        run("decompress", dec, "-o", out, "--region", "100:300,17:900", "--quiet")
        np.testing.assert_array_equal(read(out), y32[100:300, 17:900])
        out = self.path("row.h5")
        run("decompress", dec, "-o", out, "--region", "77,5:1000", "--quiet", "--max-memory", "1M")
        np.testing.assert_array_equal(read(out), y32[77, 5:1000])
        png = self.path("t.png")
        run("decompress", dec, "-o", png, "--scale", "--quiet")
        # --width keeps zfp blocks whole.
        out = self.path("width.h5")
        run("decompress", dec, "-o", out, "--width", "1", "--quiet")
        w1 = read(out)
        for b, where, _ in f.blocks():
            if f.codecs[b] == 1:
                np.testing.assert_array_equal(w1[where], y32[where])

    def test_rgb_tiles_store_one_stream_per_channel(self):
        dec, j = self.compress(CAT, "c.sct.h5", "--bits-per-value", "2", "--block", "20x24x3", "--codecs",
                               "sct,zfp")
        f = V3File(dec)
        self.assertEqual(f.version, 3)
        streams = f.zfp_streams()
        self.assertGreater(len(streams), 0)
        import zfpy
        for b, where, ext in f.blocks():
            if b in streams:
                # Mode 2 (3 long) is the plane mode: three 2-D fields.
                self.assertEqual(len(streams[b]), 3)
                for s in streams[b]:
                    self.assertEqual(s[:3], b"zfp")
                    self.assertEqual(zfpy.decompress_numpy(s).shape, tuple(ext[:2]))
        # (Edge blocks, 451 = 18·24 + 19 along mode 1, are read alike when
        # zfp stores them; tests/io covers them block by block.)
        self.check_reader(dec, f)
        self.assertEqual(run_json("info", dec)["zfp_blocks"], len(streams))

    def test_codecs_sct_writes_version_2(self):
        dec, j = self.compress(TOPO, "v2.sct.h5", "--bits-per-value", "1", "--block", "32x32", "--codecs", "sct")
        f = V3File(dec)
        self.assertEqual(f.version, 2)
        self.assertEqual(j["format_version"], 2)
        for name in V3_DATASETS:
            self.assertNotIn(name, f.names)
        info = run_json("info", dec)
        self.assertEqual((info["format_version"], info["zfp_blocks"]), (2, 0))
        self.assertNotIn("zfp)", run("info", dec).stdout)
        # Both readers of FORMAT.md read it, equally.
        np.testing.assert_array_equal(read_sct_v3.read(dec), read_sct_v2.read(dec))
        self.check_reader(dec, f)

    def test_recut_keeps_zfp_blocks_and_estimates_from_the_stored_error(self):
        dec, _ = self.compress(TOPO, "r.sct.h5", "--bits-per-value", "2", "--block", "32x32", "--codecs", "sct,zfp")
        f = V3File(dec)
        cut = self.path("cut.sct.h5")
        j = run_json("recut", dec, "-o", cut, "--bits-per-value", "1.9")
        g = V3File(cut)
        self.assertEqual(g.version, 3)
        self.assertLessEqual(j["bits_per_value"], 1.9)
        self.assertAlmostEqual(j["bits_per_value"], 8 * g.payload_bytes() / g.n, places=12)
        self.assertEqual(j["zfp_blocks"], int((f.codecs == 1).sum()))
        # The same codecs; every zfp block's streams copied bit for bit.
        np.testing.assert_array_equal(g.codecs, f.codecs)
        self.assertEqual(g.zfp_streams(), f.zfp_streams())
        # Signed cut blocks keep a prefix of their terms.
        self.assertTrue((g.widths <= f.widths).all())
        self.assertLess(int(g.widths.sum()), int(f.widths.sum()))
        dropped, term_f, term_g = 0.0, 0, 0
        for b, _, ext in f.blocks():
            wf, wg = int(f.widths[b]), int(g.widths[b])
            np.testing.assert_array_equal(g.scales[term_g: term_g + wg], f.scales[term_f: term_f + wg])
            nb = int(np.prod(ext))
            dropped += sum(float(c) ** 2 * nb for c in f.scales[term_f + wg: term_f + wf].astype(np.float64))
            term_f, term_g = term_f + wf, term_g + wg
        # FORMAT.md: sqrt(rel_fro_error² + Σ dropped gains / norm2).
        estimate = math.sqrt(f.rel_fro_error ** 2 + dropped / f.norm2)
        self.assertAlmostEqual(j["rel_fro_error"], estimate, delta=1e-9 * estimate)
        self.assertAlmostEqual(g.rel_fro_error, j["rel_fro_error"], delta=1e-15)
        # An estimate up to float32 rounding of what eval measures.
        e = run_json("eval", TOPO, cut)
        self.assertAlmostEqual(e["rel_fro_error"], estimate, delta=0.02 * estimate)
        self.check_reader(cut, g)
        # A budget the zfp blocks alone pass is refused, naming the minimum.
        self.refuse(["recut", dec, "-o", self.path("tiny.h5"), "--bits-per-value", "0.1"], 1, "minimum",
                    [dec], self.path("tiny.h5"))

    def test_into_a_group_of_an_existing_file(self):
        host = self.path("host.h5")
        with h5py.File(host, "w") as h:
            h["keep"] = np.arange(5)
        run("compress", TOPO, "-o", host + ":/results/topo", "--bits-per-value", "2", "--block", "32x32",
            "--codecs", "sct,zfp", "--quiet")
        with h5py.File(host, "r") as h:
            self.assertEqual(int(h["results/topo"].attrs["format_version"]), 3)
            self.assertIn("codecs", h["results/topo/decomposition"])
            np.testing.assert_array_equal(h["keep"][...], np.arange(5))
        info = run_json("info", host + ":/results/topo")
        self.assertEqual(info["format_version"], 3)
        self.assertGreater(info["zfp_blocks"], 0)
        out = self.path("out.h5")
        run("decompress", host + ":/results/topo", "-o", out, "--quiet", "--dtype", "float64")
        self.assertEqual(read(out).shape, (540, 1081))

    def test_damaged_streams_are_refused_naming_the_file_and_block(self):
        dec, _ = self.compress(TOPO, "d.sct.h5", "--bits-per-value", "2", "--block", "32x32", "--codecs", "sct,zfp")
        f = V3File(dec)
        first = int(np.flatnonzero(f.codecs == 1)[0])
        bad = self.path("bad.sct.h5")
        with open(dec, "rb") as src, open(bad, "wb") as dst:
            dst.write(src.read())
        with h5py.File(bad, "r+") as h:  # through HDF5: the checksums stay valid
            s = h["decomposition/streams"][...]
            s[0] ^= 0xFF  # the first zfp block's magic
            h["decomposition/streams"][...] = s
        out = self.path("bad.out.h5")
        for args in (["decompress", bad, "-o", out], ["decompress", bad, "-o", out, "--dtype", "float64"],
                     ["eval", TOPO, bad], ["recut", bad, "-o", out, "--bits-per-value", "1.9"]):
            self.refuse(args, 1, f"block {first} (zfp", [bad], out)
            self.refuse(args, 1, bad, [bad], out)
        self.assertEqual(run_json("info", bad)["format_version"], 3)  # info reads no stream
        # Sizes that do not add up to the streams.
        with h5py.File(bad, "r+") as h:
            h["decomposition/streams"][...] = f.streams
            sizes = h["decomposition/stream_sizes"][...]
            sizes[0] += 1
            h["decomposition/stream_sizes"][...] = sizes
        self.refuse(["decompress", bad, "-o", out], 1, "stream_sizes sum to", [bad], out)
        # A file that claims version 2 while holding version 3's datasets.
        with h5py.File(bad, "r+") as h:
            h["decomposition/stream_sizes"][...] = f.sizes
            h.attrs.modify("format_version", np.int32(2))
        self.refuse(["info", bad], 1, "format version 3 dataset", [bad])
        with h5py.File(bad, "r+") as h:
            h.attrs.modify("format_version", np.int32(4))
        self.refuse(["decompress", bad, "-o", out], 1, "format version 4 needs a newer signcut", [bad], out)


if __name__ == "__main__":
    run_suite(CliFormatV3, "cli-format-v3", REPORT)
