#!/usr/bin/python3
"""signcut-mpi's scaling: `signcut-mpi compress` of one field with P ranks,
each figure the median of `--repeats` runs, timed inside the program with
MPI_Wtime (after MPI's start-up and the ISA agreement; `seconds` is the
whole command from there, `decompose_seconds` the decomposition with its
exchanges, `exchange_seconds` rank 0's time in the exchanges). Checks that
every run wrote the same datasets.

usage: bench_mpi_scaling.py SIGNCUT_MPI FIELD.h5:/data [--ranks 1,2] [--repeats 3]
                            [-- compress options...]
"""
import argparse
import hashlib
import json
import os
import statistics
import subprocess
import sys
import tempfile

import h5py

ENV = dict(os.environ, OMPI_ALLOW_RUN_AS_ROOT="1", OMPI_ALLOW_RUN_AS_ROOT_CONFIRM="1",
           OMPI_MCA_btl_vader_single_copy_mechanism="none")


def datasets_digest(path):
    h = hashlib.sha256()
    with h5py.File(path, "r") as f:
        def visit(name, obj):
            if isinstance(obj, h5py.Dataset):
                h.update(name.encode())
                h.update(obj[()].tobytes())
        f.visititems(visit)
    return h.hexdigest()


def main():
    p = argparse.ArgumentParser()
    p.add_argument("binary")
    p.add_argument("input")
    p.add_argument("--ranks", default="1,2")
    p.add_argument("--repeats", type=int, default=3)
    argv = sys.argv[1:]
    extra = argv[argv.index("--") + 1:] if "--" in argv else []
    a = p.parse_args(argv[:argv.index("--")] if "--" in argv else argv)
    a.options = extra
    digests = set()
    rows = []
    with tempfile.TemporaryDirectory(prefix="signcut-mpi-bench-") as tmp:
        out = os.path.join(tmp, "out.sct.h5")
        for ranks in [int(r) for r in a.ranks.split(",")]:
            runs = []
            for _ in range(a.repeats):
                cmd = ["mpirun", "-q", "--oversubscribe", "-np", str(ranks), a.binary, "compress", a.input, "-o", out,
                       "--force", "--json", *a.options]
                r = subprocess.run(cmd, capture_output=True, text=True, env=ENV, check=True)
                runs.append(json.loads(r.stdout))
                digests.add(datasets_digest(out))
            med = {k: statistics.median(x[k] for x in runs) for k in ("seconds", "decompose_seconds", "exchange_seconds")}
            spread = {k: (min(x[k] for x in runs), max(x[k] for x in runs)) for k in ("seconds", "decompose_seconds")}
            rows.append((ranks, med, spread, runs[0]))
            print(f"P={ranks}: seconds {med['seconds']:.2f} ({spread['seconds'][0]:.2f}-{spread['seconds'][1]:.2f}), "
                  f"decompose {med['decompose_seconds']:.2f} ({spread['decompose_seconds'][0]:.2f}-"
                  f"{spread['decompose_seconds'][1]:.2f}), exchanges {med['exchange_seconds']:.3f} s; "
                  f"{runs[0]['bits_per_value']:.4g} bits/value, rel error {runs[0]['rel_fro_error']:.4g}, "
                  f"{runs[0]['blocks']} blocks, rank 0 received {runs[0].get('exchange_bytes', 0) / 2**20:.1f} MiB in the exchanges",
                  flush=True)
    base = rows[0][1]
    for ranks, med, _, _ in rows[1:]:
        print(f"P={ranks} against P={rows[0][0]}: {base['seconds'] / med['seconds']:.2f}x (whole command), "
              f"{base['decompose_seconds'] / med['decompose_seconds']:.2f}x (decompose)")
    print("the same datasets in every run" if len(digests) == 1 else f"FAIL: {len(digests)} different outputs")
    return 0 if len(digests) == 1 else 1


if __name__ == "__main__":
    sys.exit(main())
