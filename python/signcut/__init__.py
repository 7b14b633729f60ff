"""signcut: N-dimensional float tensors stored as signed cut decompositions.

A tensor X is approximated, block by block, as a sum of terms
c_j * s_j^(0) (x) ... (x) s_j^(k-1) whose factors s are vectors of +1 and -1
stored one bit each, with a rate-distortion allocation sharing a budget
between blocks (some of which may be stored with zfp instead). This module
drives the same library as the ``signcut`` command: the same input, options
and seed give the same bits.

    >>> import numpy as np, signcut
    >>> x = np.random.default_rng(0).standard_normal((256, 256)).cumsum(0).astype(np.float32)
    >>> d = signcut.compress(x, bits_per_value=1.0)
    >>> y = d.reconstruct()                      # float32, x's shape
    >>> part = d.reconstruct(region=(slice(0, 64), 5))   # only those blocks are rebuilt
    >>> d.save("x.sct.h5")                      # the file `signcut decompress` reads

Importing the module registers its HDF5 filter with the process's HDF5, so
h5py writes and reads signcut-compressed datasets without HDF5_PLUGIN_PATH:

    >>> f.create_dataset("t", data=x, chunks=(128, 128), **signcut.hdf5_filter(bits_per_value=2))

Errors raise ValueError (bad arguments or data), OSError (files),
MemoryError (a memory limit) with the library's message; KeyboardInterrupt
interrupts a long call.
"""

import math
import numbers
import operator
import os
import warnings

import numpy as np

from . import _signcut
from ._cp import to_cp as _to_cp
from ._regions import resolve_region as _resolve_region

__version__ = _signcut.__version__
#: The HDF5 filter id (from the range HDF5 leaves to unregistered filters).
HDF5_FILTER_ID = _signcut.hdf5_filter_id

__all__ = ["compress", "load", "Decomposition", "hdf5_filter", "lplr", "compare", "register_hdf5_filter",
           "HDF5_FILTER_ID", "__version__"]

# The dtypes the library knows by name (signcut/datasets.hpp).
_KNOWN_DTYPES = {"float16", "float32", "float64", "int8", "int16", "int32", "int64", "uint8", "uint16", "uint32",
                 "uint64"}


def _float_array(array, what="compress", allow_float64=True):
    """(array the library views, original dtype name, whether it was converted).

    A C-ordered native float32 array is passed as it is, and so is a
    float64 one (the library rounds it to float32 block by block as it
    copies it into its working buffer). Anything else known is converted
    once into a C-ordered float32 array."""
    a = np.asarray(array)
    if a.dtype.name not in _KNOWN_DTYPES:
        raise ValueError(f"{what}: cannot decompose an array of dtype {a.dtype} (expected a float or integer dtype: "
                         f"{', '.join(sorted(_KNOWN_DTYPES))})")
    name = a.dtype.name
    # Viewed in place only when C-ordered and aligned (a buffer at an odd
    # offset is legal in numpy, not for C++'s float loads).
    in_place = a.flags.c_contiguous and a.flags.aligned
    if a.dtype == np.float32 and in_place:
        return a, name, False
    if allow_float64 and a.dtype == np.float64 and in_place:
        return a, name, False
    return np.ascontiguousarray(a, dtype=np.float32), name, True


def _optional_threads(threads):
    if threads is None:
        return None
    if isinstance(threads, bool) or not isinstance(threads, numbers.Integral) or not 1 <= threads <= 1024:
        raise ValueError(f"threads must be None or an integer from 1 to 1024, got {threads!r}")
    return int(threads)


def _seed(seed):
    if isinstance(seed, bool) or not isinstance(seed, numbers.Integral) or not 0 <= seed < 2**64:
        raise ValueError(f"seed must be an integer from 0 to 2**64-1, got {seed!r}")
    return int(seed)


def _positive(name, value, allow_zero=False):
    if value is None:
        return None
    if isinstance(value, bool) or not isinstance(value, numbers.Real) or not math.isfinite(value) \
            or value < 0 or (value == 0 and not allow_zero):
        raise ValueError(f"{name} must be a {'non-negative' if allow_zero else 'positive'} finite number, got {value!r}")
    return float(value)


def _count(name, value, minimum=1):
    if value is None:
        return None
    if isinstance(value, bool) or not isinstance(value, numbers.Integral) or value < minimum or value >= 2**63:
        raise ValueError(f"{name} must be an integer of at least {minimum}, got {value!r}")
    return int(value)


def _block_text(block, name="block"):
    """"auto", "whole" or "64x64x3" from a string or a sequence of extents."""
    if isinstance(block, str):
        return block
    try:
        extents = [_extent(e) for e in block]
    except TypeError:
        raise ValueError(f"{name} must be 'auto', 'whole', a string like '64x64' or a sequence of extents, "
                         f"got {block!r}") from None
    if not extents or any(e < 1 for e in extents):
        raise ValueError(f"{name}: every extent must be a positive integer, got {block!r}")
    return "x".join(str(e) for e in extents)


def _extent(value):
    if isinstance(value, bool):
        raise TypeError("bool is not an extent")
    return operator.index(value)


def _codecs(codecs):
    """(zfp allowed) from "sct,zfp", "sct" or a sequence of those names."""
    names = codecs.split(",") if isinstance(codecs, str) else list(codecs)
    unknown = [n for n in names if n not in ("sct", "zfp")]
    if unknown:
        raise ValueError(f"codecs: unknown codec {unknown[0]!r} (the codecs are 'sct' and 'zfp')")
    if "sct" not in names:
        raise ValueError("codecs: 'sct' must be among them (the allocation ranks every block against its signed "
                         "cuts): use ('sct',) or ('sct', 'zfp')")
    return "zfp" in names


class Decomposition:
    """A signed cut decomposition (method "sct") or an LPLR factorization
    (method "lplr") of a tensor, as compress(), lplr() or load() give it.

    Attributes: ``shape``, ``block_shape`` (None for lplr), ``width`` (terms
    over all blocks; the rank for lplr), ``bits_per_value`` (the stored
    payload per value, as the file holds it), ``counted_bits_per_value``,
    ``rel_fro_error`` (||X - Y||_F / ||X||_F as measured when compressed,
    or an estimate after recut), ``method``, ``blocks``, ``zfp_blocks``,
    ``format_version``, ``seed``, ``original_dtype``, ``norm2`` and
    ``input_copied`` (compress only: whether the input was converted before
    the library read it; False for C-ordered float32 and float64)."""

    __slots__ = ("_held",)

    def __init__(self, held):
        self._held = held

    method = property(lambda self: self._held.method, doc='"sct" or "lplr".')
    shape = property(lambda self: self._held.shape, doc="The tensor's shape, a tuple.")
    block_shape = property(lambda self: self._held.block_shape,
                           doc="The block shape (edge blocks are cut short); None for lplr.")
    width = property(lambda self: self._held.width, doc="Terms over all blocks (sct) or the rank (lplr).")
    bits_per_value = property(lambda self: self._held.bits_per_value,
                              doc="Stored payload bits per value (what a file's datasets hold).")
    counted_bits_per_value = property(lambda self: self._held.counted_bits_per_value,
                                      doc="The logical count: a sign 1 bit, a scale 13 or 32 bits.")
    rel_fro_error = property(lambda self: self._held.rel_fro_error,
                             doc="Relative Frobenius error against the original (an estimate after recut).")
    blocks = property(lambda self: self._held.blocks, doc="Blocks in the grid (1 for lplr).")
    zfp_blocks = property(lambda self: self._held.zfp_blocks, doc="Blocks the allocation stored with zfp.")
    format_version = property(lambda self: self._held.format_version,
                              doc="The file format version save() writes (3 with zfp blocks, else 2).")
    seed = property(lambda self: self._held.seed, doc="The seed of the starting signs.")
    original_dtype = property(lambda self: self._held.original_dtype, doc="The dtype name of the original data.")
    norm2 = property(lambda self: self._held.norm2, doc="||X||_F^2 of the original (what recut needs).")
    input_copied = property(lambda self: self._held.input_copied,
                            doc="compress() only: True if the input was converted before the library read it.")

    def reconstruct(self, region=None, threads=None):
        """The tensor, or the part of it that ``region`` selects, as a
        C-ordered float32 array.

        ``region`` is what one would write between the brackets of a numpy
        index: an integer, a slice (step 1), Ellipsis, or a tuple of them,
        e.g. ``(slice(0, 64), 5)`` for ``x[0:64, 5]``. Only the blocks the
        region touches are rebuilt, and the result equals the same slice of
        the full reconstruction bit for bit."""
        entries = _resolve_region(region, self.shape)
        return self._held.reconstruct(entries, _optional_threads(threads))

    def recut(self, bits_per_value=None, rel_error=None):
        """A smaller decomposition cut from this one without the original
        (sct only): exactly one of ``bits_per_value`` (a payload bound below
        this one's) and ``rel_error`` (the fewest bits whose estimated error
        is at most it). The result is what compress() at that budget with
        the same block shape and seed gives; its rel_fro_error is the
        estimate."""
        return Decomposition(self._held.recut(_positive("bits_per_value", bits_per_value),
                                              _positive("rel_error", rel_error, allow_zero=True)))

    def save(self, path, overwrite=False):
        """Writes the decomposition file (docs/FORMAT.md) that the signcut
        command reads: ``signcut decompress path out.h5``. The write is
        atomic; an existing file is refused (OSError) unless ``overwrite``."""
        self._held.save(os.fspath(path), bool(overwrite))

    def to_cp(self):
        """(weights, factors) as TensorLy's CP tensors hold them: the
        tensor is sum_r weights[r] * outer(factors[0][:, r], ...,
        factors[k-1][:, r]). Blocks become zero-padded columns and zfp
        blocks one column per fibre along their longest mode, so the sum is
        exactly this decomposition's tensor (sct only)."""
        return _to_cp(self)

    def __repr__(self):
        if self.method == "lplr":
            return f"<signcut.Decomposition lplr shape={self.shape} rank={self.width} " \
                   f"bits_per_value={self.bits_per_value:.4g} rel_fro_error={self.rel_fro_error:.4g}>"
        return f"<signcut.Decomposition sct shape={self.shape} block_shape={self.block_shape} " \
               f"blocks={self.blocks} width={self.width} bits_per_value={self.bits_per_value:.4g} " \
               f"rel_fro_error={self.rel_fro_error:.4g}>"


def compress(array, *, bits_per_value=None, rel_error=None, width=None, block="auto", seed=0, threads=None,
             codecs=("sct", "zfp"), restarts=None, scales="short", signs="deflate", refit=False):
    """Decomposes ``array`` into signed cuts, as ``signcut compress`` does.

    ``array``: any numpy array (or array-like) of a float or integer dtype,
    C or Fortran order. A C-ordered float32 (or float64) array is read in
    place, never copied; anything else is converted once to float32.

    The stopping rule, at most one (default ``bits_per_value=1``):
    ``bits_per_value`` (the lowest error whose stored payload fits),
    ``rel_error`` (the fewest bits with ||X - Y||_F / ||X||_F at most it) or
    ``width`` (that many terms in every block).

    ``block``: "auto" (the measured rule), "whole" (one block), or the
    extents, e.g. ``(64, 64)`` or "64x64". ``seed``: the starting signs.
    ``threads``: default every core; results do not depend on it.
    ``codecs``: ("sct", "zfp") lets the allocation store a block with zfp,
    ("sct",) keeps signed cuts only. ``restarts``, ``scales`` ("short" or
    "float32"), ``signs`` ("deflate" or "plain") and ``refit`` are the CLI's
    options of the same names.

    The GIL is released while the library works; Ctrl-C raises
    KeyboardInterrupt. Returns a Decomposition."""
    if sum(rule is not None for rule in (bits_per_value, rel_error, width)) > 1:
        raise ValueError("give at most one of bits_per_value, rel_error and width")
    if scales not in ("short", "float32"):
        raise ValueError(f"scales must be 'short' or 'float32', got {scales!r}")
    if signs not in ("deflate", "plain"):
        raise ValueError(f"signs must be 'deflate' or 'plain', got {signs!r}")
    args = _signcut.CompressArguments()
    args.bits_per_value = _positive("bits_per_value", bits_per_value)
    args.rel_error = _positive("rel_error", rel_error, allow_zero=True)
    args.width = _count("width", width)
    args.block = _block_text(block)
    args.seed = _seed(seed)
    args.threads = _optional_threads(threads)
    args.zfp = _codecs(codecs)
    args.restarts = _count("restarts", restarts, minimum=0)
    args.short_scales = scales == "short"
    args.deflate_signs = signs == "deflate"
    args.refit = bool(refit)
    x, dtype, copied = _float_array(array)
    return Decomposition(_signcut.compress(x, dtype, copied, args))


def load(path, max_memory=None):
    """Reads a decomposition file of either method (what ``signcut
    compress`` or Decomposition.save wrote). A file that is missing, not
    HDF5, not a decomposition or damaged raises OSError naming what is
    wrong; ``max_memory`` (bytes; default 80 % of the machine's memory)
    bounds what may be read."""
    return Decomposition(_signcut.load(os.fspath(path), _count("max_memory", max_memory)))


def lplr(array, bits_per_value=None, *, rank=None, bits_l=None, bits_r=None, matricize=None, power_iterations=None,
         seed=0, threads=None):
    """LPLR: the tensor's matricization as the product of two quantized
    factors (``signcut compress --method lplr``). Give ``bits_per_value``
    (default 1; rank and code widths are searched) or all of ``rank``,
    ``bits_l`` and ``bits_r``. ``matricize`` splits the modes, e.g. "0|1,2".
    Returns a Decomposition of method "lplr" (save() writes an lplr file)."""
    x, dtype, _ = _float_array(array, "lplr", allow_float64=False)
    return Decomposition(_signcut.lplr(x, dtype, _positive("bits_per_value", bits_per_value), _count("rank", rank),
                                       _count("bits_l", bits_l), _count("bits_r", bits_r), matricize,
                                       _count("power_iterations", power_iterations, minimum=0),
                                       _seed(seed), _optional_threads(threads)))


def compare(original, approximation):
    """The library's error figures of ``approximation`` against
    ``original`` (same shape; compared as float32): a dict with
    rel_fro_error, rmse, max_abs_error, psnr_db, range, original_norm and
    error_norm, as ``signcut eval`` reports them."""
    x, _, _ = _float_array(original, "compare", allow_float64=False)
    y, _, _ = _float_array(approximation, "compare", allow_float64=False)
    if x.shape != y.shape:
        raise ValueError(f"compare: the shapes differ: {x.shape} and {y.shape}")
    return _signcut.compare(x, y)


def hdf5_filter(bits_per_value=None, rel_error=None, rmse=None, block=None, seed=0, codecs=("sct", "zfp")):
    """Keyword arguments for h5py's ``Group.create_dataset`` that store a
    float32 or float64 dataset through the signcut filter, chunk by chunk:

        f.create_dataset("t", data=x, chunks=(256, 256), **signcut.hdf5_filter(rel_error=1e-2))

    One rule per chunk (default ``bits_per_value=1``): ``bits_per_value``,
    ``rel_error`` or ``rmse``. ``block``: None for the auto rule on each
    chunk, or the block shape within a chunk (each extent clamped to the
    chunk's). The parameters come from the library's own encoder of the
    filter's cd_values, so they always match what the filter reads."""
    rules = [(1, bits_per_value, "bits_per_value"), (2, rel_error, "rel_error"), (3, rmse, "rmse")]
    given = [(k, _positive(name, v), name) for k, v, name in rules if v is not None]
    if len(given) > 1:
        raise ValueError("give at most one of bits_per_value, rel_error and rmse")
    kind, value = (given[0][0], given[0][1]) if given else (1, 1.0)
    extents = []
    if block is not None and block != "auto":
        text = _block_text(block)
        try:
            extents = [int(e) for e in text.split("x")]
        except ValueError:
            raise ValueError(f"block must be None, 'auto' or the extents within a chunk, got {block!r}") from None
    params = _signcut.hdf5_filter_parameters(kind, value, extents, _seed(seed), _codecs(codecs))
    return {"compression": HDF5_FILTER_ID, "compression_opts": tuple(params)}


def register_hdf5_filter():
    """Registers the filter with the process's HDF5 (done on import; later
    calls do nothing). Raises OSError if HDF5 refuses."""
    _signcut.register_hdf5_filter()


try:
    _signcut.register_hdf5_filter()
except OSError as e:  # an import must not fail because HDF5 refused a filter
    warnings.warn(f"signcut: the HDF5 filter is not registered: {e}", RuntimeWarning, stacklevel=2)
