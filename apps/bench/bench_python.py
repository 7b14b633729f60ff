#!/usr/bin/env python3
"""What the Python module adds to the library's own time.

A round trip (compress, then reconstruct) of a 512 x 512 crop of the bundled
topography from Python, against the wall time of the library calls inside
the binding for the same round trip (the module measures those around the
decompose() and reconstruct() calls it makes, with the GIL released):
everything else, from argument checks to handing the result to numpy, is
the binding's overhead. Medians of --runs runs after one warm-up.

    PYTHONPATH=build/python /usr/bin/python3 apps/bench/bench_python.py [--runs 9] [--threads 1] \
        [--cli build/apps/signcut/signcut]

With --cli, the same round trip through the CLI and temporary files (what a
Python user did before the module) is timed too.
"""

import argparse
import os
import statistics
import subprocess
import tempfile
import time

import h5py
import numpy as np

import signcut
from signcut import _signcut

here = os.path.dirname(os.path.abspath(__file__))
parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
parser.add_argument("--runs", type=int, default=9)
parser.add_argument("--threads", type=int, default=1)
parser.add_argument("--bits-per-value", type=float, default=1.0)
parser.add_argument("--cli", help="the signcut executable, to time the same round trip through it")
args = parser.parse_args()

with h5py.File(os.path.join(here, "..", "..", "data", "topo_etopo20.h5")) as f:
    x = np.ascontiguousarray(f["data"][:512, :512], dtype=np.float32)

python_seconds, library_seconds = [], []
for run in range(args.runs + 1):
    start = time.perf_counter()
    d = signcut.compress(x, bits_per_value=args.bits_per_value, threads=args.threads)
    inside = _signcut.last_library_seconds()
    y = d.reconstruct(threads=args.threads)
    inside += _signcut.last_library_seconds()
    total = time.perf_counter() - start
    if run > 0:
        python_seconds.append(total)
        library_seconds.append(inside)

p, lib = statistics.median(python_seconds), statistics.median(library_seconds)
ratios = [a / b for a, b in zip(python_seconds, library_seconds)]
print(f"512x512 round trip at {args.bits_per_value} bits per value, {args.threads} thread(s), "
      f"{d.blocks} blocks of {d.block_shape}, width {d.width}, rel error {d.rel_fro_error:.4g}")
print(f"  from Python: median {p * 1e3:.2f} ms; the library inside: median {lib * 1e3:.2f} ms")
print(f"  ratio {p / lib:.4f} (median of the per-run ratios {statistics.median(ratios):.4f}; "
      f"max {max(ratios):.4f}) over {args.runs} runs")

if args.cli:
    cli_seconds = []
    with tempfile.TemporaryDirectory() as tmp:
        source, packed, out = (os.path.join(tmp, n) for n in ("x.h5", "x.sct.h5", "y.h5"))
        for run in range(args.runs + 1):
            start = time.perf_counter()
            with h5py.File(source, "w") as f:
                f["data"] = x
            common = ["--threads", str(args.threads), "--quiet", "--force"]
            subprocess.run([args.cli, "compress", source + ":/data", "-o", packed, "-b", str(args.bits_per_value)]
                           + common, check=True)
            subprocess.run([args.cli, "decompress", packed, "-o", out + ":/data"] + common, check=True)
            with h5py.File(out) as f:
                z = f["data"][()]
            if run > 0:
                cli_seconds.append(time.perf_counter() - start)
    assert np.array_equal(z, y)
    c = statistics.median(cli_seconds)
    print(f"  through the CLI and files: median {c * 1e3:.2f} ms ({c / p:.2f}x the module; same values)")
