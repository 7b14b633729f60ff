"""Rebuilds the tensor of a signcut file (method "sct", format version 2 or 3)
with h5py, numpy and zfpy alone, from docs/FORMAT.md. Any order, edge
blocks, blocks stored by zfp.

    python3 read_sct_v3.py FILE.sct.h5 [OUT.npy]   # prints nothing
"""
import functools
import sys

import h5py
import numpy as np
import zfpy


def read(path):
    """The tensor stored in a version-2 or version-3 sct file, as a float64 array."""
    with h5py.File(path, "r") as f:
        g = f["decomposition"]
        version = int(f.attrs["format_version"])
        if version not in (2, 3) or g.attrs["method"] != b"sct":
            raise ValueError(f"{path} is not a version-2 or version-3 sct decomposition")
        shape = [int(d) for d in g.attrs["shape"]]
        block = [int(b) for b in g.attrs["block_shape"]]
        widths, scales, signs = g["widths"][:], g["scales"][:].astype(np.float64), g["signs"][:]
        if version == 3:  # each block's codec, and the coded blocks' streams
            codecs, sizes, streams = g["codecs"][:], g["stream_sizes"][:], g["streams"][:]
        else:  # every block is signed cuts
            codecs, sizes, streams = np.zeros(len(widths), np.uint8), np.zeros(0, np.uint32), np.zeros(0, np.uint8)
    if int(sizes.sum(dtype=np.uint64)) != len(streams):
        raise ValueError(f"{path}: stream_sizes do not sum to the length of streams")
    grid = [-(-d // b) for d, b in zip(shape, block)]  # ceil(d / b) blocks along each mode
    x = np.zeros(shape)
    term = byte = 0  # where the current block's scales and sign segment start
    stream = at = 0  # the current coded block's first stream, and where its bytes start
    for b, corner in enumerate(np.ndindex(*grid)):  # the blocks in C order
        lo = [c * s for c, s in zip(corner, block)]
        ext = [min(s, d - o) for s, d, o in zip(block, shape, lo)]  # edge blocks are cut short
        w = int(widths[b])
        if codecs[b] == 1:  # zfp: no terms; one stream per plane
            if w != 0:
                raise ValueError(f"{path}: block {b} is stored by zfp and has {w} terms")
            planes = [a for a in range(len(ext)) if ext[a] < 4]  # modes shorter than 4
            kept = tuple(e for e in ext if e >= 4)  # zfp's field, its x axis the last of them
            if not 1 <= len(kept) <= 4:
                raise ValueError(f"{path}: zfp cannot store block {b} of extents {ext}")
            xb = np.zeros(ext, np.float32)
            for plane in np.ndindex(*[ext[a] for a in planes]):  # planes in C order of the plane modes
                n = int(sizes[stream])
                values = zfpy.decompress_numpy(streams[at : at + n].tobytes())  # zfp's full header
                if values.dtype != np.float32 or values.shape != kept:
                    raise ValueError(f"{path}: a zfp stream of block {b} holds {values.dtype} {values.shape}")
                index = [slice(None)] * len(ext)
                for a, i in zip(planes, plane):
                    index[a] = i
                xb[tuple(index)] = values
                stream, at = stream + 1, at + n
        elif codecs[b] == 0:  # signed cuts, as in version 2
            n = w * sum(ext)  # bits in the block's segment
            bits = np.unpackbits(signs[byte : byte + (n + 7) // 8], bitorder="little")
            if bits[n:].any():
                raise ValueError(f"{path}: block {b} has unused sign bits set")
            pm = 1.0 - 2.0 * bits[:n].reshape(w, sum(ext))  # row j: term j's signs, bit 1 -> -1
            xb = np.zeros(ext)
            for j in range(w):
                factors = np.split(pm[j], np.cumsum(ext)[:-1])  # mode 0's signs, mode 1's, ...
                xb += scales[term + j] * functools.reduce(np.multiply.outer, factors)
            term, byte = term + w, byte + (n + 7) // 8
        else:
            raise ValueError(f"{path}: block {b} has the unknown codec {codecs[b]}")
        x[tuple(slice(o, o + e) for o, e in zip(lo, ext))] = xb
    if stream != len(sizes):
        raise ValueError(f"{path}: stream_sizes has {len(sizes)} entries, the zfp blocks {stream} streams")
    return x


if __name__ == "__main__":
    array = read(sys.argv[1])
    if len(sys.argv) > 2:
        np.save(sys.argv[2], array)
