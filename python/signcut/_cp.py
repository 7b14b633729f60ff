"""A signed cut decomposition as the (weights, factors) pair of a CP model.

TensorLy and most tensor code think of a decomposition as
X = sum_r weights[r] * factors[0][:, r] (x) ... (x) factors[k-1][:, r]. A
blocked decomposition is one: each term of block b becomes one column whose
factor in mode a holds the term's signs on the block's rows of that mode
and zeros elsewhere. A block that the allocation stored with zfp has no
terms; it enters exactly as rank-one pieces too, one per fibre along its
longest mode (the fibre's values there, a unit vector in every other mode),
so the sum is still the decomposition's tensor.
"""

import numpy as np

__all__ = ["to_cp"]


def _sct_columns(block, shape):
    origin, extents = block["origin"], block["extents"]
    weights = block["scales"]
    factors = []
    for mode, signs in enumerate(block["signs"]):
        f = np.zeros((shape[mode], signs.shape[1]), dtype=np.float32)
        f[origin[mode]:origin[mode] + extents[mode], :] = signs
        factors.append(f)
    return weights, factors


def _coded_columns(block, shape, values):
    origin, extents = block["origin"], block["extents"]
    dense = int(np.argmax(extents))
    others = [a for a in range(len(extents)) if a != dense]
    rank = values.size // extents[dense]
    columns = np.moveaxis(values, dense, 0).reshape(extents[dense], rank)
    positions = np.unravel_index(np.arange(rank), [extents[a] for a in others]) if others else ()
    factors = []
    for mode in range(len(shape)):
        f = np.zeros((shape[mode], rank), dtype=np.float32)
        if mode == dense:
            f[origin[mode]:origin[mode] + extents[mode], :] = columns
        else:
            f[origin[mode] + positions[others.index(mode)], np.arange(rank)] = 1
        factors.append(f)
    return np.ones(rank, dtype=np.float32), factors


def to_cp(decomposition):
    """(weights, factors): weights a float32 vector of length R, factors one
    float32 matrix of shape (d_a, R) per mode."""
    shape = decomposition.shape
    weights, factors = [], [[] for _ in shape]
    for block in decomposition._held.blocks_of():
        if block["codec"] == "sct":
            w, f = _sct_columns(block, shape)
        else:
            region = tuple(slice(o, o + e) for o, e in zip(block["origin"], block["extents"]))
            w, f = _coded_columns(block, shape, decomposition.reconstruct(region))
        weights.append(w)
        for mode in range(len(shape)):
            factors[mode].append(f[mode])
    if not weights:
        return np.zeros(0, dtype=np.float32), [np.zeros((d, 0), dtype=np.float32) for d in shape]
    return np.concatenate(weights), [np.concatenate(f, axis=1) for f in factors]
