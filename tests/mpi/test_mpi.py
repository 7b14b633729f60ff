#!/usr/bin/python3
"""End-to-end tests of `signcut-mpi`: for 1, 2 and 3 ranks, compress writes
exactly what `signcut compress` writes with the same options (every dataset
and attribute but @created), on a matrix, a 3-d field and a block grid that
does not split evenly between the ranks, and decompress writes the values
`signcut decompress` writes; a failure on one rank ends every rank with one
line, a non-zero status and no output.

usage: test_mpi.py SIGNCUT_MPI SIGNCUT SOURCE_ROOT REPORT_XML
"""
import os
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

    def test_usage_errors_are_told_once(self):
        src = self.h5("in.h5", field((32, 32), 8))
        r = mpirun(2, "compress", src, "-o", self.path("o.h5"), "--block", "7x7x7", expect=2)
        lines = [line for line in r.stderr.splitlines() if line.strip()]
        self.assertEqual(len(lines), 1, r.stderr)
        self.assertIn("--block 7x7x7", lines[0])


if __name__ == "__main__":
    run_suite(MpiCompress, "mpi", REPORT)
