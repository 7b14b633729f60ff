# Type stubs for signcut (the compiled module's API as the package exposes it).
import os
from typing import Any, Literal, Sequence, SupportsIndex, Tuple, Union

import numpy as np
import numpy.typing as npt

__version__: str
HDF5_FILTER_ID: int

_Index = Union[SupportsIndex, slice, "ellipsis"]
Region = Union[_Index, Tuple[_Index, ...], None]
Block = Union[Literal["auto", "whole"], str, Sequence[int]]
Codecs = Union[str, Sequence[Literal["sct", "zfp"]]]

class Decomposition:
    """A signed cut decomposition (method "sct") or an LPLR factorization (method "lplr")."""
    @property
    def method(self) -> Literal["sct", "lplr"]: ...
    @property
    def shape(self) -> Tuple[int, ...]: ...
    @property
    def block_shape(self) -> Tuple[int, ...] | None: ...
    @property
    def width(self) -> int: ...
    @property
    def bits_per_value(self) -> float: ...
    @property
    def counted_bits_per_value(self) -> float: ...
    @property
    def rel_fro_error(self) -> float: ...
    @property
    def blocks(self) -> int: ...
    @property
    def zfp_blocks(self) -> int: ...
    @property
    def format_version(self) -> int: ...
    @property
    def seed(self) -> int: ...
    @property
    def original_dtype(self) -> str: ...
    @property
    def norm2(self) -> float: ...
    @property
    def input_copied(self) -> bool: ...
    def reconstruct(self, region: Region = None, threads: int | None = None) -> npt.NDArray[np.float32]:
        """The tensor, or the part a numpy index selects, as float32 (only the blocks it touches are rebuilt)."""
    def recut(self, bits_per_value: float | None = None, rel_error: float | None = None) -> Decomposition:
        """A smaller budget cut from this decomposition without the original."""
    def save(self, path: str | os.PathLike[str], overwrite: bool = False) -> None:
        """Writes the decomposition file the signcut command reads (atomic)."""
    def to_cp(self) -> Tuple[npt.NDArray[np.float32], list[npt.NDArray[np.float32]]]:
        """(weights, factors) as TensorLy holds a CP tensor; exact."""

def compress(array: npt.ArrayLike, *, bits_per_value: float | None = None, rel_error: float | None = None,
             width: int | None = None, block: Block = "auto", seed: int = 0, threads: int | None = None,
             codecs: Codecs = ("sct", "zfp"), restarts: int | None = None,
             scales: Literal["short", "float32"] = "short", signs: Literal["deflate", "plain"] = "deflate",
             refit: bool = False) -> Decomposition:
    """Decomposes a float or integer array into signed cuts (as `signcut compress`)."""

def load(path: str | os.PathLike[str], max_memory: int | None = None) -> Decomposition:
    """Reads a decomposition file of either method."""

def lplr(array: npt.ArrayLike, bits_per_value: float | None = None, *, rank: int | None = None,
         bits_l: int | None = None, bits_r: int | None = None, matricize: str | None = None,
         power_iterations: int | None = None, seed: int = 0, threads: int | None = None) -> Decomposition:
    """LPLR of the tensor's matricization (`signcut compress --method lplr`)."""

def compare(original: npt.ArrayLike, approximation: npt.ArrayLike) -> dict[str, float]:
    """The library's error figures of an approximation against the original."""

def hdf5_filter(bits_per_value: float | None = None, rel_error: float | None = None, rmse: float | None = None,
                block: Block | None = None, seed: int = 0, codecs: Codecs = ("sct", "zfp")) -> dict[str, Any]:
    """Keyword arguments for h5py's create_dataset that store a dataset through the signcut filter."""

def register_hdf5_filter() -> None:
    """Registers the filter with the process's HDF5 (done on import)."""
