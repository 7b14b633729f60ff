#!/usr/bin/python3
"""End-to-end tests of the `signcut` binary. `decompress` of an sct file to
HDF5 streams: it rebuilds and writes one row of blocks along mode 0 at a
time, so `--max-memory` bounds a slab, not the tensor.

The values are checked against independent readers (tests/format's reader of
FORMAT.md, and float64 sums written here from the format alone, both exact
for float64 outputs) and against signcut's own in-memory path, which
`decompress --all` still takes (exact for float32 and integer outputs, whose
float32 sums group terms as signcut's sign GEMM does).

usage: test_streaming_decompress.py SIGNCUT_BINARY SOURCE_ROOT REPORT_XML
"""
import functools
import os
import re
import subprocess
import sys

import h5py
import numpy as np

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.join(HERE, os.pardir))
sys.path.insert(0, os.path.join(HERE, os.pardir, "format"))
sys.path.insert(0, HERE)
from signcut_testing import CliCase, digest, run_signcut, run_signcut_json, run_suite  # noqa: E402
from sct_files import SctFile  # noqa: E402
import read_sct_v2  # noqa: E402
from test_cli import write_v1_decomposition  # noqa: E402

SIGNCUT, ROOT, REPORT = sys.argv[1], sys.argv[2], sys.argv[3]
run = functools.partial(run_signcut, SIGNCUT)
run_json = functools.partial(run_signcut_json, SIGNCUT)
MIB = 1 << 20
FLT_MAX = float(np.finfo(np.float32).max)


def field(shape, seed, top=1.0):
    """A smooth field with noise whose largest magnitude is `top`."""
    rng = np.random.default_rng(seed)
    x = rng.standard_normal(shape)
    for a in range(len(shape)):
        x = np.cumsum(x, axis=a)
    x += 0.05 * np.abs(x).max() * rng.standard_normal(shape)
    return x / np.abs(x).max() * top


def rebuild64(path, width=None):
    """The file's tensor summed in float64, term after term in term order,
    the first `width` terms of every block (DESIGN §6 read with h5py alone;
    version-1 files too)."""
    return SctFile(path).rebuild(width, np.float64)


def read(path, name="data"):
    with h5py.File(path, "r") as f:
        return f[name][()]


def peak_rss_kib(*args):
    """Runs `signcut args` from a fresh Python process and returns its exit
    status and the peak RSS (KiB) of that one child (wait4's ru_maxrss)."""
    probe = ("import resource, subprocess, sys\n"
             "p = subprocess.run(sys.argv[1:], stdout=subprocess.DEVNULL)\n"
             "print(p.returncode, resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss)\n")
    out = subprocess.run([sys.executable, "-c", probe, SIGNCUT, *map(str, args)], capture_output=True, text=True,
                         check=True, timeout=600).stdout.split()
    return int(out[0]), int(out[1])


def snapshot(path):
    """Every object h5py sees in a file, with its data and attributes."""
    out = {"/": {k: np.asarray(v).tolist() for k, v in h5py.File(path, "r").attrs.items()}}

    def visit(name, obj):
        attrs = {k: np.asarray(v).tolist() for k, v in obj.attrs.items()}
        data = obj[()].tolist() if isinstance(obj, h5py.Dataset) else "group"
        out[name] = (data, attrs)

    with h5py.File(path, "r") as f:
        f.visititems(visit)
    return out


class CliStreamingDecompress(CliCase):
    binary = SIGNCUT
    folder_prefix = "signcut-stream-"

    def compress(self, x, name, *args, attrs=None):
        src = self.h5(name + ".h5", x)
        if attrs:
            with h5py.File(src, "a") as f:
                for k, v in attrs.items():
                    f["data"].attrs[k] = v
        dec = self.path(name + ".sct.h5")
        run("compress", src, "-o", dec, "--restarts", "0", "--quiet", *args)
        return src, dec

    def in_memory(self, x, name, *args):
        """signcut's in-memory reconstruction of the same decomposition:
        compress into a group of a holder file, then `decompress --all`,
        which rebuilds each decomposition whole and writes it with
        write_dataset. Returns the decomposition inside the holder and the
        values --all wrote."""
        src = self.h5(name + "-src.h5", x)
        holder = self.path(name + "-holder.h5")
        run("compress", src, "-o", holder + ":/g", "--restarts", "0", "--quiet", *args)
        out = self.path(name + "-all.h5")
        run("decompress", holder, "--all", "-o", out, "--quiet")
        return holder + ":/g", read(out, "g")

    # --- (a) values, dtypes, regions -------------------------------------

    def test_float32_and_float64_values_equal_the_in_memory_and_independent_ones(self):
        x = field((120, 100, 90), 1, 50.0).astype(np.float32)  # 4.3 MB; 16-blocks with edges on every mode
        args = ("--block", "16x16x16", "-b", "1")
        dec, kept = self.in_memory(x, "f", *args)
        self.assertEqual(kept.dtype, np.float32)
        out = self.path("f.h5")
        j = run_json("decompress", dec, "-o", out)
        self.assertEqual(j["shape"], [120, 100, 90])
        y32 = read(out)
        self.assertEqual(y32.dtype, np.float32)
        np.testing.assert_array_equal(y32, kept)  # the in-memory path's values, bit for bit
        # The file as it stands, read from the format alone.
        single = self.path("f.sct.h5")
        run("compress", self.h5("f1.h5", x), "-o", single, "--restarts", "0", "--quiet", *args)
        f = SctFile(single)
        self.assertGreater(f.grid[0], 4)  # several rows of blocks, joined into two slabs
        out1 = self.path("f1.out.h5")
        run("decompress", single, "-o", out1, "--quiet")
        np.testing.assert_array_equal(read(out1), y32)
        f.assert_rebuilds(y32)
        self.assertEqual(j["width"], f.width)
        # float64: the double sums in term order, exactly as FORMAT.md's reader.
        out64 = self.path("f64.h5")
        run("decompress", single, "-o", out64, "--dtype", "float64", "--quiet")
        y64 = read(out64)
        self.assertEqual(y64.dtype, np.float64)
        np.testing.assert_array_equal(y64, read_sct_v2.read(single))
        # Threads take whole blocks: the file does not depend on their number.
        for dtype in ("float32", "float64"):
            a, b = self.path(f"t1-{dtype}.h5"), self.path(f"t2-{dtype}.h5")
            run("decompress", single, "-o", a, "--dtype", dtype, "--threads", "1", "--quiet")
            run("decompress", single, "-o", b, "--dtype", dtype, "--threads", "2", "--quiet")
            self.assertEqual(digest(a), digest(b), dtype)
        with h5py.File(out1, "r") as h:
            self.assertIsNone(h["data"].chunks)  # contiguous, as write_dataset has always written

        # --region: only the touched blocks, slab by slab; the slice of the
        # whole bit for bit, in either type. Dropped modes too (a dropped
        # mode 0 touches one row of blocks: one slab).
        for region, cut in (("5:77,:,10:50", np.s_[5:77, :, 10:50]), ("17,:,:", np.s_[17, :, :]),
                            (":,3,:", np.s_[:, 3, :]), ("100:,90:,:1", np.s_[100:, 90:, :1]),
                            (":,:,-1", np.s_[:, :, -1])):
            for dtype, whole in (("float32", y32), ("float64", y64)):
                r = self.path("r.h5")
                jr = run_json("decompress", single, "-o", r, "--region", region, "--dtype", dtype, "--force")
                got = read(r)
                self.assertEqual(list(got.shape), jr["shape"])
                np.testing.assert_array_equal(got, whole[cut], f"{region} {dtype}")

    def test_an_int16_original_is_stored_as_the_in_memory_path_stores_it(self):
        # Large enough that rebuilt values pass ±32767 (clamped) and have
        # halves to round.
        x = np.clip(np.round(field((96, 80, 60), 2, 36000.0)), -32768, 32767).astype(np.int16)
        args = ("--block", "8x32x16", "-b", "2")
        dec, kept = self.in_memory(x, "i", *args)
        self.assertEqual(kept.dtype, np.int16)
        out = self.path("i.h5")
        run("decompress", dec, "-o", out, "--quiet")
        y = read(out)
        self.assertEqual(y.dtype, np.int16)
        np.testing.assert_array_equal(y, kept)
        self.assertTrue((y == 32767).any() or (y == -32768).any(), "no value was clamped")
        # The same file at a file's root, against the format: round half away
        # from zero and clamp, within one step of float32 rounding.
        single = self.path("i1.sct.h5")
        run("compress", self.h5("i1.h5", x), "-o", single, "--restarts", "0", "--quiet", *args)
        out1 = self.path("i1.out.h5")
        run("decompress", single, "-o", out1, "--quiet")
        np.testing.assert_array_equal(read(out1), y)
        exact = rebuild64(single)
        ref = np.clip(np.sign(exact) * np.floor(np.abs(exact) + 0.5), -32768, 32767)
        self.assertLessEqual(np.abs(y.astype(np.float64) - ref).max(), 1.0)
        # A region of an int16 output is the slice of the whole.
        r = self.path("ir.h5")
        run("decompress", single, "-o", r, "--region", "3:90,7,:", "--quiet")
        np.testing.assert_array_equal(read(r), y[3:90, 7, :])

    def test_width_and_version_1(self):
        x = field((64, 48, 40), 3, 10.0).astype(np.float32)
        src, dec = self.compress(x, "w", "--block", "8x16x16", "-b", "2")
        f = SctFile(dec)
        out = self.path("w.out.h5")
        j = run_json("decompress", dec, "-o", out, "--width", "3", "--dtype", "float64")
        self.assertEqual(j["width"], sum(min(w, 3) for w in f.widths))
        np.testing.assert_array_equal(read(out), rebuild64(dec, 3))
        out32 = self.path("w32.h5")
        run("decompress", dec, "-o", out32, "--width", "3", "--quiet")
        f.assert_rebuilds(read(out32), 3)
        self.refuse(["decompress", dec, "-o", self.path("no.h5"), "--width", str(max(f.widths) + 1)], 1,
                    "exceeds the", [dec], self.path("no.h5"))
        # A version-1 file is one block: one slab.
        v1 = self.path("v1.sct.h5")
        write_v1_decomposition(v1, (40, 70), 6, 5)
        o1 = self.path("v1.h5")
        run("decompress", v1, "-o", o1, "--dtype", "float64", "--quiet")
        np.testing.assert_array_equal(read(o1), rebuild64(v1))
        o2 = self.path("v1r.h5")
        run("decompress", v1, "-o", o2, "--dtype", "float64", "--region", "3:9,60:", "--quiet")
        np.testing.assert_array_equal(read(o2), rebuild64(v1)[3:9, 60:])
        o3 = self.path("v1w.h5")
        run("decompress", v1, "-o", o3, "--width", "2", "--quiet")
        SctFile(v1).assert_rebuilds(read(o3), 2)

    def test_thin_rows_of_blocks_join_into_larger_slabs(self):
        # Rows of blocks of 2 rows of mode 0: joined into slabs of up to 2^20
        # values (fewer HDF5 calls), or fewer under a tight limit.
        x = field((12000, 24, 5), 8, 10.0).astype(np.float32)
        for block in ("2x24x5", "2x8x5"):  # blocks that are runs of a slab, and blocks that are not
            args = ("--block", block, "--width", "1")
            dec, kept = self.in_memory(x, "thin" + block, *args)
            for limit in ((), ("--max-memory", "3M")):
                out = self.path("thin.out.h5")
                run("decompress", dec, "-o", out, "--force", "--quiet", *limit)
                np.testing.assert_array_equal(read(out), kept, f"{block} {limit}")
                r = self.path("thin.r.h5")
                run("decompress", dec, "-o", r, "--region", "7:11001,3:21,:", "--force", "--quiet", *limit)
                np.testing.assert_array_equal(read(r), kept[7:11001, 3:21, :], f"{block} {limit}")
            single = self.path(f"thin{block}.sct.h5")
            run("compress", self.h5(f"thin{block}.h5", x), "-o", single, "--restarts", "0", "--quiet", *args)
            out64 = self.path("thin64.h5")
            run("decompress", single, "-o", out64, "--dtype", "float64", "--force", "--quiet")
            np.testing.assert_array_equal(read(out64), rebuild64(single), block)

    # --- (b) memory ------------------------------------------------------

    def test_a_tensor_larger_than_the_memory_limit_decompresses_in_slabs(self):
        shape = (256, 256, 256)  # 64 MiB of float32
        x = field(shape, 4, 100.0).astype(np.float32)
        src, dec = self.compress(x, "big", "--block", "8x32x32", "--width", "2")
        del x
        f = SctFile(dec)
        n_bytes = f.n * 4
        limit = 16 * MIB
        self.assertGreaterEqual(n_bytes, 4 * limit)
        # The whole-tensor paths keep their check: an image output is still
        # rebuilt in memory, so it is refused under this limit.
        self.refuse(["decompress", dec, "-o", self.path("big.png"), "--max-memory", "16M"], 1,
                    "more than the memory limit of 16777216 bytes", [dec], self.path("big.png"))
        out = self.path("big.out.h5")
        code, big = peak_rss_kib("decompress", dec, "-o", out, "--max-memory", "16M", "--threads", "1", "--quiet")
        self.assertEqual(code, 0)
        y = read(out)
        self.assertEqual(y.shape, shape)
        f.assert_rebuilds(y)
        del y
        # The fixed overhead: the same command on a tiny decomposition
        # (libraries, HDF5's caches, the process itself).
        _, tiny = self.compress(field((8, 8, 8), 5).astype(np.float32), "tiny", "--block", "8x8x8", "--width", "2")
        code, base = peak_rss_kib("decompress", tiny, "-o", self.path("tiny.out.h5"), "--max-memory", "16M",
                                  "--threads", "1", "--quiet")
        self.assertEqual(code, 0)
        print(f"\n  peak RSS: {big / 1024:.1f} MiB for the 64 MiB tensor under --max-memory 16M, "
              f"{base / 1024:.1f} MiB for an 8x8x8 one", file=sys.stderr)
        # AddressSanitizer's shadow memory and quarantine make RSS say
        # nothing about signcut's own holdings there.
        if "ASAN_OPTIONS" not in os.environ:
            self.assertLessEqual(big * 1024, base * 1024 + limit)
            self.assertLess(big * 1024, base * 1024 + n_bytes // 4)  # nowhere near the whole tensor
        # float64 and int16 outputs stream too (their buffers are counted).
        out64 = self.path("big64.h5")
        code, big64 = peak_rss_kib("decompress", dec, "-o", out64, "--dtype", "float64", "--max-memory", "16M",
                                   "--threads", "1", "--quiet")
        self.assertEqual(code, 0)
        if "ASAN_OPTIONS" not in os.environ:
            self.assertLessEqual(big64 * 1024, base * 1024 + limit)
        with h5py.File(out64, "r") as h:
            np.testing.assert_array_equal(h["data"][100:108], rebuild64(dec)[100:108])
        # A limit one slab does not fit in: one line naming the numbers, no output.
        self.refuse(["decompress", dec, "-o", self.path("small.h5"), "--max-memory", "1M"], 1,
                    "rebuilding it slab by slab needs", [dec], self.path("small.h5"))
        p = subprocess.run([SIGNCUT, "decompress", dec, "-o", self.path("small.h5"), "--max-memory", "1M"],
                           capture_output=True, text=True)
        self.assertRegex(p.stderr, r"needs \d+ bytes at once, more than the memory limit of 1048576 bytes: its "
                                   r"largest row of blocks \(rows \d+:\d+ of mode 0, 524288 values of 4 bytes")
        # A region needs only its own slabs: a thin one fits where the whole does not.
        r = self.path("thin.h5")
        run("decompress", dec, "-o", r, "--region", ":,:,5:7", "--max-memory", "1M", "--quiet")
        self.assertEqual(read(r).shape, (256, 256, 2))

    # --- (c) into an existing file ---------------------------------------

    def test_into_an_existing_file_keeps_its_other_objects(self):
        x = field((64, 40, 30), 6, 20.0).astype(np.float32)
        src, dec = self.compress(x, "e", "--block", "8x8x16", "-b", "1",
                                 attrs={"units": "K", "valid_range": np.array([-50, 50], np.float32)})
        whole = self.path("e.out.h5")
        run("decompress", dec, "-o", whole, "--quiet")
        with h5py.File(whole, "r") as h:
            self.assertEqual(h["data"].attrs["units"], b"K")
            np.testing.assert_array_equal(h["data"].attrs["valid_range"], [-50, 50])
        existing = self.path("existing.h5")
        with h5py.File(existing, "w") as h:
            h.attrs["title"] = "kept"
            h["a"] = np.arange(12).reshape(3, 4)
            h["a"].attrs["note"] = "mine"
            g = h.create_group("g")
            g["b"] = np.linspace(0, 1, 5)
            g.attrs["licence"] = "CC0"
        before = snapshot(existing)
        run("decompress", dec, "-o", existing + ":/g/rebuilt", "--quiet")
        after = snapshot(existing)
        self.assertEqual(after.pop("g/rebuilt")[0], read(whole).tolist())
        self.assertEqual(after, before)
        with h5py.File(existing, "r") as h:
            self.assertEqual(h["g/rebuilt"].attrs["units"], b"K")
        # An existing object needs --force; a region replaces it then.
        self.refuse(["decompress", dec, "-o", existing + ":/g/rebuilt"], 1, "use --force", [existing])
        run("decompress", dec, "-o", existing + ":/g/rebuilt", "--region", "8:24,:,:", "--force", "--quiet")
        np.testing.assert_array_equal(read(existing, "g/rebuilt"), read(whole)[8:24])
        # Another object of the decomposition's own file: read while the copy
        # is written, then replaced by it.
        run("decompress", dec, "-o", dec + ":/rebuilt", "--quiet")
        np.testing.assert_array_equal(read(dec, "rebuilt"), read(whole))
        self.assertEqual(run_json("info", dec)["width"], SctFile(dec).width)

    # --- (d) a float32 reconstruction that overflows ---------------------

    def test_an_overflowing_slab_fails_cleanly_and_leaves_nothing(self):
        rng = np.random.default_rng(7)
        x = rng.standard_normal((2048, 1024)).astype(np.float32)  # two slabs of 2^20 values
        x[1536:] = (FLT_MAX * (1 - 0.3 * rng.random((512, 1024)))).astype(np.float32)  # the last rows near the top
        src, dec = self.compress(x, "top", "--block", "64x1024", "-b", "2")
        y = rebuild64(dec)
        self.assertGreater(np.abs(y).max(), FLT_MAX)
        self.assertLessEqual(np.abs(y[:1024]).max(), FLT_MAX)  # the first slab is written before the refusal
        out = self.path("top.out.h5")
        self.refuse(["decompress", dec, "-o", out], 1, "--dtype float64", [dec], out)
        p = subprocess.run([SIGNCUT, "decompress", dec, "-o", out], capture_output=True, text=True)
        first = int(re.search(r"of entries (\d+)\.\.", p.stderr).group(1))
        self.assertEqual(first, 1024 * 1024)
        self.assertIn("overflows at", p.stderr)
        # Into an existing file: the file is left as it was.
        existing = self.path("existing.h5")
        with h5py.File(existing, "w") as h:
            h["keep"] = np.arange(3)
        self.refuse(["decompress", dec, "-o", existing + ":/top"], 1, "overflows at", [dec, existing])
        self.refuse(["decompress", dec, "-o", out, "--region", "1500:,:"], 1, "overflows at", [dec], out)
        # float64 holds the sums.
        out64 = self.path("top64.h5")
        run("decompress", dec, "-o", out64, "--dtype", "float64", "--quiet")
        np.testing.assert_array_equal(read(out64), y)


if __name__ == "__main__":
    run_suite(CliStreamingDecompress, "cli-streaming-decompress", REPORT)
