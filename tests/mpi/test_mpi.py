#!/usr/bin/python3
"""End-to-end tests of `signcut-mpi`: for 1, 2 and 3 ranks, compress writes
exactly what `signcut compress` writes with the same options (every dataset
and attribute but @created), on a matrix, a 3-d field and a block grid that
does not split evenly between the ranks, and decompress writes the values
`signcut decompress` writes; a failure on one rank ends every rank with one
line, a non-zero status and no output.

usage: test_mpi.py SIGNCUT_MPI SIGNCUT SOURCE_ROOT REPORT_XML
"""
import json
import os
import re
import shutil
import subprocess
import sys

import numpy as np

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.join(HERE, os.pardir))
from signcut_testing import TempFolderCase, hdf5_snapshot, run_signcut, run_suite  # noqa: E402

SIGNCUT_MPI, SIGNCUT, ROOT, REPORT = sys.argv[1:5]

# OpenMPI refuses root without these; in containers its shared-memory
# transport may need the single-copy mechanism off; two cores need
# --oversubscribe for three ranks; -q keeps a failing rank's message alone.
ENV = dict(os.environ, OMPI_ALLOW_RUN_AS_ROOT="1", OMPI_ALLOW_RUN_AS_ROOT_CONFIRM="1",
           OMPI_MCA_btl_vader_single_copy_mechanism="none", OMPI_MCA_rmaps_base_oversubscribe="1")


def mpirun(ranks, *args, expect=0):
    cmd = ["mpirun", "-q", "--oversubscribe", "-np", str(ranks), SIGNCUT_MPI, *map(str, args)]
    p = subprocess.run(cmd, capture_output=True, text=True, timeout=120, env=ENV)
    if expect is not None and p.returncode != expect:
        raise AssertionError(f"{' '.join(cmd)} exited {p.returncode}, expected {expect}\n"
                             f"stdout: {p.stdout}\nstderr: {p.stderr}")
    return p


def field(shape, seed):
    """Smooth waves plus noise: local structure, so blocks and zfp both have
    something to win."""
    g = np.random.default_rng(seed)
    grids = np.meshgrid(*[np.linspace(0, 6, n, dtype=np.float32) for n in shape], indexing="ij")
    x = sum(np.sin((a + 1) * t) for a, t in enumerate(grids))
    return (x + 0.1 * g.standard_normal(shape, dtype=np.float32)).astype(np.float32)


def without_created(snapshot):
    """A file's snapshot with every @created left out (the time of writing)."""
    out = {}
    for name, entry in snapshot.items():
        if isinstance(entry, tuple) and entry and entry[0] in ("group", "dataset"):
            attrs = tuple(a for a in entry[-1] if a[0] != "created")
            entry = entry[:-1] + (attrs,)
        out[name] = entry
    return out


class MpiCompress(TempFolderCase):
    folder_prefix = "signcut-mpi-test-"

    def same_as_serial(self, data, options, ranks=(1, 2, 3)):
        src = self.h5("in.h5", data)
        serial = self.path("serial.sct.h5")
        run_signcut(SIGNCUT, "compress", src + ":/data", "-o", serial, "--quiet", *options)
        want = without_created(hdf5_snapshot(serial))
        self.assertIn("decomposition/signs", want)
        for p in ranks:
            out = self.path(f"p{p}.sct.h5")
            mpirun(p, "compress", src + ":/data", "-o", out, "--quiet", *options)
            got = without_created(hdf5_snapshot(out))
            self.assertEqual(sorted(got), sorted(want), f"P={p}: the objects differ")
            for name in want:
                self.assertEqual(got[name], want[name], f"P={p}: {name} differs")
        return want

    def test_matrix_with_zfp_blocks_and_deflated_signs(self):
        # The default codecs and sign storage: the smooth half of this field
        # goes to zfp at 4 bits per value, the signs are deflated.
        x = field((96, 80), 1)
        t = np.meshgrid(np.linspace(0, 6, 96), np.linspace(0, 6, 80), indexing="ij")
        x[:48] = (np.sin(t[0]) + np.cos(t[1]))[:48]
        want = self.same_as_serial(x, ["--block", "16x16", "--bits-per-value", "4"])
        self.assertIn("decomposition/codecs", want)
        self.assertIn("decomposition/streams", want)

    def test_three_modes(self):
        self.same_as_serial(field((24, 20, 16), 2), ["--block", "8x8x8", "--bits-per-value", "1.5"])

    def test_uneven_split_of_block_rows(self):
        # 5 block rows, the last one short: 2, 2 and 1 for three ranks.
        self.same_as_serial(field((70, 50), 3), ["--block", "16x16", "--bits-per-value", "0.75",
                                                 "--codecs", "sct", "--signs", "plain"], ranks=(2, 3))

    def test_error_target(self):
        self.same_as_serial(field((64, 48), 4), ["--block", "16x16", "--rel-error", "0.05"], ranks=(2,))

    def test_auto_blocks(self):
        # The auto rule runs on every rank alike.
        self.same_as_serial(field((64, 64), 5), [], ranks=(2,))

    def test_more_ranks_than_block_rows(self):
        self.same_as_serial(field((32, 96), 6), ["--block", "16x32", "--bits-per-value", "1"], ranks=(3,))

    def test_one_block_is_written_once(self):
        # A run of one block is made whole by every rank; rank 0 writes it.
        self.same_as_serial(field((40, 36), 12), ["--block", "whole", "--bits-per-value", "2"], ranks=(2, 3))

    def test_into_a_group_of_an_existing_file(self):
        # The ranks write into a copy of the file; its other objects stay as
        # they were, and the size reported is the decomposition's own, not
        # the file's.
        import h5py
        src = self.h5("in.h5", field((64, 48), 14))
        base = self.path("base.h5")
        with h5py.File(base, "w") as f:
            f.attrs["title"] = "run 42"
            f["old"] = np.arange(60000.0)  # 480 kB, far more than the decomposition
        options = ["--block", "16x16", "--bits-per-value", "2", "--json"]
        serial = self.path("serial.h5")
        shutil.copy(base, serial)
        r = run_signcut(SIGNCUT, "compress", src + ":/data", "-o", serial + ":/runs/a", *options)
        serial_bytes = json.loads(r.stdout)["file_bytes"]
        want = without_created(hdf5_snapshot(serial))
        self.assertIn("runs/a/decomposition/signs", want)
        for p in (2, 3):
            out = self.path(f"p{p}.h5")
            shutil.copy(base, out)
            r = mpirun(p, "compress", src + ":/data", "-o", out + ":/runs/a", *options)
            got = without_created(hdf5_snapshot(out))
            self.assertEqual(sorted(got), sorted(want), f"P={p}")
            for name in want:
                self.assertEqual(got[name], want[name], f"P={p}: {name} differs")
            # The decomposition's group copied into a file of its own: about
            # the file signcut writes of it (HDF5's bookkeeping differs).
            got_bytes = json.loads(r.stdout)["file_bytes"]
            self.assertLess(abs(got_bytes - serial_bytes), 0.1 * serial_bytes, f"P={p}: {got_bytes} {serial_bytes}")

    def test_a_bad_slab_on_one_rank_ends_every_rank(self):
        x = field((64, 32), 7)
        x[60, 5] = np.nan  # in the last block row: the last rank's
        src = self.h5("nan.h5", x)
        out = self.path("out.sct.h5")
        for p in (2, 3):
            r = mpirun(p, "compress", src, "-o", out, "--block", "16x16", expect=None)
            self.assertEqual(r.returncode, 1, r.stderr)
            lines = [line for line in r.stderr.splitlines() if line.strip()]
            self.assertEqual(len(lines), 1, f"P={p}: stderr was {r.stderr!r}")
            self.assertTrue(lines[0].startswith("signcut-mpi: error: "), lines[0])
            self.assertIn("NaN", lines[0])
            self.assertFalse(os.path.exists(out))
            self.assertEqual([f for f in os.listdir(self.dir) if f not in ("nan.h5",)], [])

    def test_a_full_disk_while_the_ranks_write_ends_every_rank(self):
        # Each rank may write at most 400 kB into a file (RLIMIT_FSIZE, with
        # SIGXFSZ ignored, so a write past it fails as on a full disk); the
        # file needs 790 kB. Parallel HDF5 waited forever for the rank that
        # failed inside a collective call; the space is now reserved first.
        # The ranks talk over TCP: the shared-memory transport's files would
        # pass the limit too.
        src = self.h5("noise.h5", np.random.default_rng(15).standard_normal((512, 512), dtype=np.float32))
        out = self.path("out.sct.h5")
        limit = ("import os, resource, signal, sys; signal.signal(signal.SIGXFSZ, signal.SIG_IGN); "
                 "resource.setrlimit(resource.RLIMIT_FSIZE, (400000, 400000)); os.execv(sys.argv[1], sys.argv[1:])")
        cmd = ["mpirun", "-q", "--oversubscribe", "--mca", "btl", "self,tcp", "-np", "2", sys.executable, "-c", limit,
               SIGNCUT_MPI, "compress", src + ":/data", "-o", out, "--block", "64x64", "--bits-per-value", "24",
               "--codecs", "sct", "--signs", "plain"]
        r = subprocess.run(cmd, capture_output=True, text=True, timeout=120, env=ENV)
        self.assertEqual(r.returncode, 1, r.stderr)
        self.assertEqual(len(lines_of(r.stderr)), 1, r.stderr)
        self.assertIn("no room for", r.stderr)
        self.assertFalse(os.path.exists(out))
        self.assertEqual([f for f in os.listdir(self.dir) if f != "noise.h5"], [])

    def test_decompress_writes_the_values_signcut_decompress_writes(self):
        import h5py
        x = field((70, 52), 9)
        t = np.meshgrid(np.linspace(0, 6, 70), np.linspace(0, 6, 52), indexing="ij")
        x[:32] = (np.sin(t[0]) + np.cos(t[1]))[:32]
        cases = [(x, ["--block", "16x16", "--bits-per-value", "4"]),  # zfp blocks too
                 (field((20, 24, 16), 10), ["--block", "8x8x8", "--bits-per-value", "1"])]
        for i, (data, options) in enumerate(cases):
            src = self.h5(f"in{i}.h5", data)
            sct = self.path(f"d{i}.sct.h5")
            run_signcut(SIGNCUT, "compress", src, "-o", sct, "--quiet", *options)
            serial = self.path(f"serial{i}.h5")
            run_signcut(SIGNCUT, "decompress", sct, "-o", serial, "--quiet")
            with h5py.File(serial, "r") as f:
                want = f["data"][()]
            for p in (1, 2, 3):
                out = self.path(f"p{p}-{i}.h5")
                mpirun(p, "decompress", sct, "-o", out + ":/field", "--quiet")
                with h5py.File(out, "r") as f:
                    got = f["field"][()]
                self.assertEqual(got.dtype, np.float32)
                self.assertTrue(np.array_equal(got.view(np.uint32), want.view(np.uint32)), f"P={p}, case {i}")
        r = mpirun(2, "decompress", self.path("missing.sct.h5"), "-o", self.path("o.h5"), expect=1)
        lines = [line for line in r.stderr.splitlines() if line.strip()]
        self.assertEqual(len(lines), 1, r.stderr)
        self.assertTrue(lines[0].startswith("signcut-mpi: error: "), lines[0])
        self.assertFalse(os.path.exists(self.path("o.h5")))
        self.assertEqual([f for f in os.listdir(self.dir) if "signcut-tmp" in f], [])

    def test_each_rank_stays_within_its_memory_limit(self):
        # 72 MiB of float32, more than a rank's --max-memory of 68M, which
        # bounds the whole rank: what MPI and the parallel HDF5 hold before
        # any data (about 28 MiB) and 16 MiB for MPI's buffers are taken off
        # the decomposer's share (about 21 MiB needed here).
        src = self.h5("big.h5", field((288, 256, 256), 11), chunks=(16, 64, 64))
        base = ["--block", "16x32x32", "--bits-per-value", "0.25", "--quiet"]
        options = base + ["--threads", "1"]
        serial = self.path("serial.sct.h5")
        # (Results do not depend on the thread count: two threads for speed.)
        run_signcut(SIGNCUT, "compress", src, "-o", serial, *base, "--threads", "2")
        out = self.path("p2.sct.h5")
        cmd = ["mpirun", "-q", "--oversubscribe", "-np", "2", sys.executable, os.path.join(HERE, "peak_rss.py"),
               SIGNCUT_MPI, "compress", src, "-o", out, *options, "--max-memory", "68M"]
        r = subprocess.run(cmd, capture_output=True, text=True, timeout=300, env=ENV)
        self.assertEqual(r.returncode, 0, r.stderr)
        peaks = [int(line.split()[2]) for line in r.stderr.splitlines() if line.startswith("peak RSS")]
        self.assertEqual(len(peaks), 2, r.stderr)
        for kib in peaks:
            self.assertLessEqual(kib, 68 * 1024, f"a rank peaked at {kib} KiB: {r.stderr}")
        self.assertEqual(without_created(hdf5_snapshot(out)), without_created(hdf5_snapshot(serial)))
        # Below what a rank holds before any data, and below what the
        # decomposition needs: one line each, naming the figures; no output.
        for limit, said in (("20M", "before reading any data"), ("50M", "less the")):
            r = mpirun(2, "compress", src, "-o", out + ".x", *options, "--max-memory", limit, expect=1)
            lines = [line for line in r.stderr.splitlines() if line.strip()]
            self.assertEqual(len(lines), 1, r.stderr)
            self.assertIn(said, lines[0])
            self.assertIn("--max-memory", lines[0])
            self.assertFalse(os.path.exists(out + ".x"))

    def test_usage_errors_are_told_once(self):
        src = self.h5("in.h5", field((32, 32), 8))
        r = mpirun(2, "compress", src, "-o", self.path("o.h5"), "--block", "7x7x7", expect=2)
        lines = [line for line in r.stderr.splitlines() if line.strip()]
        self.assertEqual(len(lines), 1, r.stderr)
        self.assertIn("--block 7x7x7", lines[0])


def lines_of(stderr):
    return [line for line in stderr.splitlines() if line.strip()]


class MpiDecompress(TempFolderCase):
    """signcut-mpi decompress against signcut decompress: the same file
    contents (values bit for bit, dtype, shape, attributes) for the same
    options, for 1, 2 and 3 ranks."""
    folder_prefix = "signcut-mpi-test-"

    def compress(self, data, options, name="d.sct.h5", **attrs):
        import h5py
        src = self.h5(name + ".in.h5", data)
        with h5py.File(src, "a") as f:
            for k, v in attrs.items():
                f["data"].attrs[k] = v
        sct = self.path(name)
        run_signcut(SIGNCUT, "compress", src, "-o", sct, "--quiet", *options)
        os.remove(src)
        return sct

    def leftovers(self):
        return [f for f in os.listdir(self.dir) if "signcut-tmp" in f]

    def decompressed_as_serial(self, sct, options, ranks=(1, 2, 3), dataset=""):
        serial = self.path("serial.h5")
        run_signcut(SIGNCUT, "decompress", sct, "-o", serial + dataset, "--quiet", "--threads", "1", *options)
        want = hdf5_snapshot(serial)
        os.remove(serial)
        rounds = {}
        for p in ranks:
            out = self.path(f"p{p}.h5")
            r = mpirun(p, "decompress", sct, "-o", out + dataset, "--json", *options)
            rounds[p] = json.loads(r.stdout)["rounds"]
            got = hdf5_snapshot(out)
            self.assertEqual(sorted(got), sorted(want), f"P={p} {options}: the objects differ")
            for name in want:
                self.assertEqual(got[name], want[name], f"P={p} {options}: {name} differs")
            os.remove(out)
        self.assertEqual(self.leftovers(), [])
        return want, rounds

    def test_values_dtype_shape_and_attributes_for_each_option(self):
        # 5 block rows of 16 (the last short): 2, 2 and 1 for three ranks;
        # zfp blocks in the smooth half; a carried attribute.
        x = field((70, 52), 9)
        t = np.meshgrid(np.linspace(0, 6, 70), np.linspace(0, 6, 52), indexing="ij")
        x[:32] = (np.sin(t[0]) + np.cos(t[1]))[:32]
        sct = self.compress(x, ["--block", "16x16", "--bits-per-value", "4"], units="K")
        # Every P for the defaults and for all options at once; three ranks
        # (the uneven split) for each option alone, to keep the suite short.
        for options, ranks in (([], (1, 2, 3)), (["--width", "1", "--region", "40:,10:20", "--dtype", "float64"],
                                                 (1, 2, 3)),
                               (["--dtype", "float64"], (3,)), (["--region", "5:60,3:40"], (3,)),
                               (["--region", "20:36,:"], (3,)), (["--region", "33,:"], (3,)),
                               (["--region", ":,7"], (3,)), (["--width", "2"], (3,))):
            want, _ = self.decompressed_as_serial(sct, options, ranks)
            self.assertIn("units", dict(want["data"][2]), options)
        cube = self.compress(field((20, 24, 16), 10), ["--block", "8x8x8", "--bits-per-value", "1"], "c.sct.h5")
        self.decompressed_as_serial(cube, [])
        self.decompressed_as_serial(cube, ["--region", "3:17,5,2:9"])

    def test_the_original_integer_dtype_is_converted_as_signcut_does(self):
        g = np.random.default_rng(11)
        for dtype in (np.int16, np.uint8):
            info = np.iinfo(dtype)
            x = (field((48, 40), 12) * 40 + (info.max + info.min) / 2).clip(info.min, info.max).astype(dtype)
            x[0, :4] = info.max  # values near the ends: clamped, not wrapped
            x[47, :4] = info.min
            x += g.integers(0, 2, x.shape).astype(dtype)
            sct = self.compress(x, ["--block", "16x8", "--bits-per-value", "1"], f"{np.dtype(dtype).name}.sct.h5")
            want, _ = self.decompressed_as_serial(sct, [])
            self.assertEqual(want["data"][1][0], np.dtype(dtype).str)

    def test_a_dataset_added_to_an_existing_file_keeps_everything_else(self):
        import h5py
        sct = self.compress(field((40, 36), 13), ["--block", "8x12", "--bits-per-value", "2"])
        base = self.path("base.h5")
        with h5py.File(base, "w", userblock_size=512) as f:
            f.attrs["title"] = "run 42"
            f["grid/x"] = np.arange(40.0)
            f["grid/x"].attrs["units"] = "m"
            f["old"] = np.ones((3, 3), np.int32)
            f["ref"] = f["grid/x"].ref
        with open(base, "r+b") as fh:
            fh.write(b"user block bytes")
        for dataset, extra in ((":/recon/t", []), (":/old", ["--force"])):
            serial = self.path("serial.h5")
            shutil.copy(base, serial)
            run_signcut(SIGNCUT, "decompress", sct, "-o", serial + dataset, "--quiet", *extra)
            want = hdf5_snapshot(serial, user_block=512)
            for p in (1, 2, 3):
                out = self.path(f"p{p}.h5")
                shutil.copy(base, out)
                mpirun(p, "decompress", sct, "-o", out + dataset, "--quiet", *extra)
                got = hdf5_snapshot(out, user_block=512)
                self.assertEqual(sorted(got), sorted(want), f"P={p} {dataset}")
                for name in want:
                    self.assertEqual(got[name], want[name], f"P={p} {dataset}: {name} differs")
            self.assertEqual(self.leftovers(), [])
        # Without --force an existing object is refused, and the file is kept.
        out = self.path("kept.h5")
        shutil.copy(base, out)
        before = open(out, "rb").read()
        r = mpirun(2, "decompress", sct, "-o", out + ":/old", expect=1)
        self.assertEqual(len(lines_of(r.stderr)), 1, r.stderr)
        self.assertIn("--force", r.stderr)
        self.assertEqual(open(out, "rb").read(), before)

    def test_a_small_memory_limit_makes_several_rounds_with_the_same_values(self):
        # 12 block rows of 4: thin rows that a generous limit joins into one
        # slab per rank.
        sct = self.compress(field((48, 40, 12), 14), ["--block", "4x8x12", "--bits-per-value", "1",
                                                      "--codecs", "sct"])
        _, generous = self.decompressed_as_serial(sct, [], ranks=(1, 2, 3))
        self.assertEqual(generous, {1: 1, 2: 1, 3: 1})
        # The least limit signcut decompress accepts holds one row of blocks
        # and not two.
        r = run_signcut(SIGNCUT, "decompress", sct, "-o", self.path("x.h5"), "--threads", "1",
                        "--max-memory", "1000", expect=1)
        needed = int(re.search(r"needs (\d+) bytes at once", r.stderr).group(1))
        _, tight = self.decompressed_as_serial(sct, ["--max-memory", str(needed)], ranks=(1, 2, 3))
        self.assertEqual(tight, {1: 12, 2: 6, 3: 4})
        self.assertEqual(os.listdir(self.dir), ["d.sct.h5"])

    def test_ranks_without_rows_join_every_round(self):
        # 2 block rows for 3 ranks: the third has nothing to rebuild; a
        # region in the last rows leaves the first rank nothing either.
        sct = self.compress(field((32, 40), 15), ["--block", "16x16", "--bits-per-value", "2"])
        self.decompressed_as_serial(sct, [], ranks=(3,))
        self.decompressed_as_serial(sct, ["--region", "20:30,:"], ranks=(2, 3))
        r = run_signcut(SIGNCUT, "decompress", sct, "-o", self.path("x.h5"), "--threads", "1",
                        "--max-memory", "1000", expect=1)
        needed = int(re.search(r"needs (\d+) bytes at once", r.stderr).group(1))
        self.decompressed_as_serial(sct, ["--max-memory", str(needed)], ranks=(3,))

    def test_a_failure_on_one_rank_leaves_nothing(self):
        import h5py
        sct = self.compress(field((64, 32), 16), ["--block", "16x16", "--bits-per-value", "1", "--codecs", "sct",
                                                  "--signs", "plain"])
        # The last block's last scale: read by the last rank only.
        with h5py.File(sct, "a") as f:
            scales = f["decomposition/scales"]
            s = scales[()]
            s[-1] = np.nan
            scales[...] = s
        existing = self.path("existing.h5")
        with h5py.File(existing, "w") as f:
            f["keep"] = np.arange(5)
        before = open(existing, "rb").read()
        for p in (1, 2, 3):
            for target in (self.path("new.h5"), existing + ":/t"):
                r = mpirun(p, "decompress", sct, "-o", target, expect=None)
                self.assertEqual(r.returncode, 1, r.stderr)
                lines = lines_of(r.stderr)
                self.assertEqual(len(lines), 1, f"P={p}: stderr was {r.stderr!r}")
                self.assertTrue(lines[0].startswith("signcut-mpi: error: "), lines[0])
                self.assertIn("scale", lines[0])
                self.assertFalse(os.path.exists(self.path("new.h5")))
                self.assertEqual(open(existing, "rb").read(), before)
                self.assertEqual(self.leftovers(), [])
        # A missing input, and an output in a folder that does not exist.
        for args in (["decompress", self.path("missing.sct.h5"), "-o", self.path("o.h5")],
                     ["decompress", sct, "-o", self.path("no/such/folder/o.h5")]):
            r = mpirun(3, *args, expect=1)
            self.assertEqual(len(lines_of(r.stderr)), 1, r.stderr)
            self.assertTrue(lines_of(r.stderr)[0].startswith("signcut-mpi: error: "), r.stderr)
        self.assertEqual(sorted(os.listdir(self.dir)), ["d.sct.h5", "existing.h5"])

    def test_what_only_signcut_decompress_does_is_refused_in_one_line(self):
        sct = self.compress(field((32, 32), 17), ["--block", "16x16", "--bits-per-value", "1"])
        for args, word in ((["-o", self.path("o.png")], "image"), (["-o", self.path("o.h5"), "--all"], "--all"),
                           (["-o", self.path("o.h5"), "--scale"], "--scale")):
            r = mpirun(2, "decompress", sct, *args, expect=2)
            lines = lines_of(r.stderr)
            self.assertEqual(len(lines), 1, r.stderr)
            self.assertIn(word, lines[0])
        lplr = self.compress(field((32, 32), 18), ["--method", "lplr", "--bits-per-value", "2"], "l.sct.h5")
        r = mpirun(2, "decompress", lplr, "-o", self.path("o.h5"), expect=2)
        self.assertEqual(len(lines_of(r.stderr)), 1, r.stderr)
        self.assertIn("lplr", r.stderr)
        self.assertEqual(sorted(os.listdir(self.dir)), ["d.sct.h5", "l.sct.h5"])


class MpiSuite(MpiCompress, MpiDecompress):
    """Both, in one report."""


if __name__ == "__main__":
    run_suite(MpiSuite, "mpi", REPORT)
