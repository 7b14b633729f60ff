"""Rebuilds the tensor of a signcut file (method "sct", format version 2)
with h5py and numpy alone, from docs/FORMAT.md. Any order, edge blocks.

    python3 read_sct_v2.py FILE.sct.h5 [OUT.npy]   # prints nothing
"""
import functools
import sys

import h5py
import numpy as np


def read(path):
    """The tensor stored in a version-2 sct file, as a float64 array."""
    with h5py.File(path, "r") as f:
        g = f["decomposition"]
        if f.attrs["format_version"] != 2 or g.attrs["method"] != b"sct":
            raise ValueError(f"{path} is not a version-2 sct decomposition")
        shape = [int(d) for d in g.attrs["shape"]]
        block = [int(b) for b in g.attrs["block_shape"]]
        widths, scales, signs = g["widths"][:], g["scales"][:].astype(np.float64), g["signs"][:]
    grid = [-(-d // b) for d, b in zip(shape, block)]  # ceil(d / b) blocks along each mode
    x = np.zeros(shape)
    term = byte = 0  # where the current block's scales and sign segment start
    for b, corner in enumerate(np.ndindex(*grid)):  # the blocks in C order
        lo = [c * s for c, s in zip(corner, block)]
        ext = [min(s, d - o) for s, d, o in zip(block, shape, lo)]  # edge blocks are cut short
        w = int(widths[b])
        n = w * sum(ext)  # bits in the block's segment
        bits = np.unpackbits(signs[byte : byte + (n + 7) // 8], bitorder="little")
        if bits[n:].any():
            raise ValueError(f"{path}: block {b} has unused sign bits set")
        pm = 1.0 - 2.0 * bits[:n].reshape(w, sum(ext))  # row j: term j's signs, bit 1 -> -1
        xb = np.zeros(ext)
        for j in range(w):
            factors = np.split(pm[j], np.cumsum(ext)[:-1])  # mode 0's signs, mode 1's, ...
            xb += scales[term + j] * functools.reduce(np.multiply.outer, factors)
        x[tuple(slice(o, o + e) for o, e in zip(lo, ext))] = xb
        term, byte = term + w, byte + (n + 7) // 8
    return x


if __name__ == "__main__":
    array = read(sys.argv[1])
    if len(sys.argv) > 2:
        np.save(sys.argv[2], array)
