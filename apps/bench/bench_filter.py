#!/usr/bin/python3
"""The HDF5 filter against the command line, on the same data and bits.

For each input dataset and chunk shape:
  * size: the filtered dataset's stored bytes (H5Dget_storage_size) in bits
    per value, written by `signcut repack --bits-per-value B --chunk C`;
  * error: the relative Frobenius error of what h5py reads back, against
    `signcut compress -b <the same bits per value>` of the whole dataset
    (the bits the filter actually stored, so the comparison is at equal
    bits);
  * time: writing the dataset through the filter from h5py
    (`create_dataset(..., compression=34021)`) against `signcut compress
    --threads 1`, and reading it with h5py against `signcut decompress
    --threads 1`; each the median of --runs runs, each in a fresh
    process, timed by the process itself (the h5py call alone; signcut's
    reported seconds), so that Python's start-up is not counted.

usage: bench_filter.py SIGNCUT PLUGIN_DIR [--runs 3] [--bits 1] FILE.h5:/dataset[=CHUNK,CHUNK...] ...
  e.g. bench_filter.py build/apps/signcut/signcut build/apps/h5plugin \\
         data/topo_etopo20.h5:/data=540x1081,270x541,128x128
"""
import argparse
import json
import os
import statistics
import struct
import subprocess
import sys
import tempfile
import time

import h5py
import numpy as np

FILTER_ID = 34021


def parameters(bits, block):
    """The filter's cd_values (docs/FORMAT.md): version 1, rule 1 (bits per
    value) as a double in two words, seed 0, zfp allowed, the block shape."""
    low, high = struct.unpack("<II", struct.pack("<d", bits))
    return (1, 1, low, high, 0, 0, 1, len(block), *block)


def timed(args, env=None):
    t0 = time.monotonic()
    p = subprocess.run(args, capture_output=True, text=True, env=env)
    if p.returncode != 0:
        raise SystemExit(f"{' '.join(args)}: {p.stderr}")
    return time.monotonic() - t0, p


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("signcut")
    ap.add_argument("plugin_dir")
    ap.add_argument("inputs", nargs="+")
    ap.add_argument("--runs", type=int, default=3)
    ap.add_argument("--bits", type=float, default=1.0)
    a = ap.parse_args()
    env = dict(os.environ, HDF5_PLUGIN_PATH=os.path.abspath(a.plugin_dir))
    work = tempfile.mkdtemp(prefix="signcut-bench-filter-")
    print("| input | chunk | filter bits/value | filter error | compress error at those bits | error ratio | "
          "write s (h5py) | compress s | ratio | read s (h5py) | decompress s | ratio | read again s | ratio |")
    print("|---|---|---|---|---|---|---|---|---|---|---|---|---|---|")
    for spec in a.inputs:
        source, _, chunks = spec.partition("=")
        file, _, dataset = source.partition(":")
        with h5py.File(file, "r") as f:
            x = f[dataset or "/data"][()]
        if x.dtype not in (np.float32, np.float64):
            x = x.astype(np.float32)
        raw = os.path.join(work, "x.npy")
        np.save(raw, x)
        plain = os.path.join(work, "plain.h5")
        with h5py.File(plain, "w") as f:
            f["data"] = x
        for chunk_text in (chunks.split(",") if chunks else ["auto"]):
            out = os.path.join(work, "r.h5")
            args = [a.signcut, "repack", plain, out, "-b", str(a.bits), "--force", "--json"]
            if chunk_text != "auto":
                args += ["--chunk", chunk_text]
            _, p = timed(args)
            row = json.loads(p.stdout)["datasets"][0]
            bpv, chunk, block = row["bits_per_value"], row["chunk"], row["block"]
            # h5py writes with the parameters repack chose, its block shape
            # included.
            opts = parameters(a.bits, block)
            _, p = timed(["/usr/bin/python3", "-c", f"import h5py, numpy as np; "
                          f"np.save({os.path.join(work, 'y.npy')!r}, h5py.File({out!r}, 'r')['data'][()])"], env)
            y = np.load(os.path.join(work, "y.npy"))
            err = float(np.linalg.norm(x.astype(np.float64) - y) / np.linalg.norm(x.astype(np.float64)))
            dec = os.path.join(work, "c.sct.h5")
            _, p = timed([a.signcut, "compress", plain + ":/data", "-o", dec, "-b", f"{bpv:.6f}", "--force", "--json",
                          "--threads", "1"])
            c_err = json.loads(p.stdout)["rel_fro_error"]
            write, comp, read, again, decomp = [], [], [], [], []
            # Each side's own clock: the Python child times the h5py call
            # alone (not the interpreter's start or imports), signcut
            # reports its run's seconds.
            code_write = (f"import h5py, numpy as np, time; x = np.load({raw!r}); t0 = time.monotonic(); "
                          f"f = h5py.File({os.path.join(work, 'w.h5')!r}, 'w'); "
                          f"f.create_dataset('data', data=x, chunks={tuple(chunk)!r}, compression={FILTER_ID}, "
                          f"compression_opts={opts!r}); f.close(); print(time.monotonic() - t0)")
            # The first read of a fresh process, then a second read in the
            # same process (its memory already mapped: what a program that
            # reads many datasets sees).
            code_read = (f"import h5py, time\nfor _ in range(2):\n    t0 = time.monotonic(); "
                         f"h5py.File({os.path.join(work, 'w.h5')!r}, 'r')['data'][()]; print(time.monotonic() - t0)")
            for _ in range(a.runs):
                write.append(float(timed(["/usr/bin/python3", "-c", code_write], env)[1].stdout))
                comp.append(json.loads(timed([a.signcut, "compress", plain + ":/data", "-o", dec, "-b", str(a.bits),
                                              "--force", "--json", "--threads", "1"])[1].stdout)["seconds"])
                first, second = timed(["/usr/bin/python3", "-c", code_read], env)[1].stdout.split()
                read.append(float(first))
                again.append(float(second))
                decomp.append(json.loads(timed([a.signcut, "decompress", dec, "-o", os.path.join(work, "d.h5"),
                                                "--force", "--json", "--threads", "1"])[1].stdout)["seconds"])
            w, c, r, r2, d = (statistics.median(v) for v in (write, comp, read, again, decomp))
            print(f"| {source} {'x'.join(map(str, x.shape))} | {'x'.join(map(str, chunk))} | {bpv:.3f} | {err:.5f} | "
                  f"{c_err:.5f} | {err / c_err:.3f} | {w:.2f} | {c:.2f} | {w / c:.2f} | {r:.2f} | {d:.2f} | "
                  f"{r / d:.2f} | {r2:.2f} | {r2 / d:.2f} |", flush=True)


if __name__ == "__main__":
    sys.exit(main())
