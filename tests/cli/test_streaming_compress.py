#!/usr/bin/python3
"""End-to-end tests of streamed compression: `compress` reads an HDF5
dataset a row of blocks at a time, so a dataset larger than `--max-memory`
compresses, to the same bits as a run with room to spare, with a peak RSS
under the limit; a run whose terms would not fit is refused before it starts.

usage: test_streaming_compress.py SIGNCUT_BINARY SOURCE_ROOT REPORT_XML
"""
import functools
import os
import resource
import subprocess
import sys

import h5py
import numpy as np

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.join(HERE, os.pardir))
from signcut_testing import UNDER_SANITIZERS, CliCase, run_signcut, run_signcut_json, run_suite  # noqa: E402

SIGNCUT, ROOT, REPORT = sys.argv[1], sys.argv[2], sys.argv[3]
run = functools.partial(run_signcut, SIGNCUT)
run_json = functools.partial(run_signcut_json, SIGNCUT)
MIB = 1 << 20


def field(shape, seed):
    """Smooth waves plus noise: local structure, so blocks pay."""
    g = np.random.default_rng(seed)
    grids = np.meshgrid(*[np.linspace(0, 6, n, dtype=np.float32) for n in shape], indexing="ij")
    x = sum(np.sin((a + 1) * t) for a, t in enumerate(grids))
    return (x + 0.1 * g.standard_normal(shape, dtype=np.float32)).astype(np.float32)


def peak_rss_mib(args):
    """Runs signcut in a fresh child and returns (exit code, its peak RSS)."""
    pid = os.fork()
    if pid == 0:
        devnull = os.open(os.devnull, os.O_WRONLY)
        os.dup2(devnull, 1)
        os.dup2(devnull, 2)
        os.execv(SIGNCUT, [SIGNCUT, *map(str, args)])
    _, status, usage = os.wait4(pid, 0)
    return os.waitstatus_to_exitcode(status), usage.ru_maxrss / 1024.0


def stored(path):
    with h5py.File(path, "r") as f:
        g = f["decomposition"]
        return {k: g[k][()] for k in ("widths", "scales", "signs")}, dict(g.attrs)


class StreamingCompress(CliCase):
    binary = SIGNCUT
    folder_prefix = "signcut-stream-"

    def test_a_dataset_larger_than_the_memory_limit_compresses_to_the_same_bits(self):
        # 48 MiB of float32 in chunks unlike the blocks; 20 MiB of memory
        # (16 MiB against 16 under the sanitizers, where RSS is not checked).
        # The decomposer counts 12.9 MiB here, and a quarter more for the
        # heap and scratch buffers.
        x = field((64, 256, 256) if UNDER_SANITIZERS else (192, 256, 256), 1)
        limit = "16M" if UNDER_SANITIZERS else "20M"
        src = self.h5("big.h5", x, chunks=(16, 64, 64))
        opts = ["--block", "16x32x32", "--bits-per-value", "0.25", "--restarts", "0"]
        roomy = self.path("roomy.sct.h5")
        tight = self.path("tight.sct.h5")
        two = self.path("two.sct.h5")
        run("compress", src, "-o", roomy, *opts, "--threads", "1")
        code, rss = peak_rss_mib(["compress", src, "-o", tight, *opts, "--threads", "1", "--max-memory", limit, "-q"])
        self.assertEqual(code, 0)
        # The limit bounds signcut's own holdings; the process itself (code,
        # HDF5's caches) costs about 15 MiB more, as `signcut --version` shows.
        # (Not under AddressSanitizer, whose shadow memory and quarantine
        # make RSS say nothing about signcut's own holdings.)
        _, floor = peak_rss_mib(["--version"])
        if not UNDER_SANITIZERS:
            self.assertLess(rss, 20 + floor + 4, f"peak RSS {rss:.1f} MiB, floor {floor:.1f} MiB")
        run("compress", src, "-o", two, *opts, "--threads", "2", "--max-memory", limit)
        a, attrs_a = stored(roomy)
        for other in (tight, two):
            b, attrs_b = stored(other)
            for k in a:
                np.testing.assert_array_equal(a[k], b[k], err_msg=f"{other}: {k}")
            self.assertEqual(attrs_a["rel_fro_error"], attrs_b["rel_fro_error"])
        # Measured as it streamed: the stored error is the error of the file.
        out = self.path("x.h5")
        run("decompress", roomy, "-o", out)
        with h5py.File(out, "r") as f:
            y = f["data"][()].astype(np.float64)
        rel = np.linalg.norm(x - y) / np.linalg.norm(x.astype(np.float64))
        self.assertAlmostEqual(float(attrs_a["rel_fro_error"]), rel, delta=1e-6 * rel)

    def test_terms_that_would_not_fit_are_refused_before_any_work(self):
        src = self.h5("small.h5", field((64, 80), 2))
        out = self.path("o.sct.h5")
        self.refuse(["compress", src, "-o", out, "--width", "1000000000", "--max-memory", "100M"], 1,
                    "for the terms", inputs=[src], output=out)
        self.refuse(["compress", src, "-o", out, "--bits-per-value", "1e7", "--max-memory", "1G"], 1, "for the terms", inputs=[src],
                    output=out)
        # One block must fit in memory whole.
        self.refuse(["compress", src, "-o", out, "--block", "whole", "--max-memory", "10K"], 1,
                    "cut it into blocks", inputs=[src], output=out)


if __name__ == "__main__":
    run_suite(StreamingCompress, "cli-streaming-compress", REPORT)
