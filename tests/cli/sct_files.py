"""Independent readers of signcut decomposition files for the CLI tests.

Everything here is written from the contract (DESIGN.md §6: the version-2 sct
layout, its payload, its sign stream; docs/FORMAT.md for version 3's zfp
blocks) with h5py and numpy alone (and zfpy for the zfp blocks of a version-3
file), never from signcut's code, so that the tests check the binary against
the page.
"""
import functools
import zlib

import h5py
import numpy as np

MIB = 1 << 20


def text(value):
    """An HDF5 string attribute as str (fixed-length strings read as bytes)."""
    if isinstance(value, bytes):
        return value.decode("utf-8")
    if isinstance(value, np.ndarray) and value.shape == ():
        return text(value[()])
    return str(value)


def stored_dataset_bytes(elements, size):
    """What a version-2 dataset of `elements` values of `size` bytes
    occupies: n = ceil(bytes / 1 MiB) equal chunks, the last padded to the
    chunk length, each followed by a 4-byte fletcher32 checksum."""
    if elements == 0:
        return 0
    n = -(-(elements * size) // MIB)
    per_chunk = -(-elements // n)
    return n * per_chunk * size + 4 * n


def stored_packed_bytes(elements, precision):
    """What a float32 dataset packed by HDF5's n-bit filter to `precision`
    bits a value occupies (short scales): chunked as 4-byte values, each
    chunk floor(values · precision / 8) + 1 bytes and its checksum."""
    if elements == 0:
        return 0
    n = -(-(elements * 4) // MIB)
    per_chunk = -(-elements // n)
    return n * (per_chunk * precision // 8 + 1 + 4)


def stored_scales_bytes(terms, scale_bits):
    """The scales dataset: float32, or short scales of 13 bits."""
    return stored_packed_bytes(terms, 13) if scale_bits == 13 else stored_dataset_bytes(terms, 4)


def scale_bits_of(dataset):
    """13 for the short scales' type of docs/FORMAT.md (IEEE float32's sign,
    exponent and top 4 mantissa bits: precision 13 at offset 19, n-bit
    filtered), 32 for IEEE float32; anything else fails the test."""
    t = dataset.id.get_type()
    plist = dataset.id.get_create_plist()
    filters = [plist.get_filter(i)[0] for i in range(plist.get_nfilters())]
    if t.get_precision() == 32:
        assert t.get_fields() == (31, 23, 8, 0, 23) and t.get_size() == 4, t.get_fields()
        assert h5py.h5z.FILTER_NBIT not in filters
        return 32
    assert (t.get_size(), t.get_offset(), t.get_precision(), t.get_fields(), t.get_ebias()) == \
        (4, 19, 13, (31, 23, 8, 19, 4), 127), (t.get_offset(), t.get_precision(), t.get_fields())
    assert dataset.shape[0] == 0 or h5py.h5z.FILTER_NBIT in filters, filters
    return 13


def deflate_level_of(dataset):
    """The level of the deflate filter on `dataset`, 0 without one."""
    plist = dataset.id.get_create_plist()
    for i in range(plist.get_nfilters()):
        code, _, values, _ = plist.get_filter(i)
        if code == h5py.h5z.FILTER_DEFLATE:
            return int(values[0]) if len(values) else 6
    return 0


def stored_deflated_bytes(stream, level):
    """FORMAT.md: a byte dataset deflated at `level`, chunked as
    stored_dataset_bytes() chunks it; each chunk (the last padded with zeros)
    is zlib's compress at that level, then a 4-byte checksum."""
    stream = bytes(stream)
    if not stream:
        return 0
    n = -(-len(stream) // MIB)
    per_chunk = -(-len(stream) // n)
    total = 0
    for at in range(0, len(stream), per_chunk):
        chunk = stream[at: at + per_chunk]
        total += len(zlib.compress(chunk + bytes(per_chunk - len(chunk)), level)) + 4
    return total


def width_bits(max_width):
    """The bits a widths entry keeps: the largest width's bit length, at
    least 1 (32: plain uint32)."""
    return max(1, int(max_width).bit_length())


def stored_widths_bytes(blocks, max_width):
    """The widths dataset: uint32 packed by the n-bit filter to
    width_bits(max_width) bits."""
    bits = width_bits(max_width)
    return stored_dataset_bytes(blocks, 4) if bits >= 32 else stored_packed_bytes(blocks, bits)


def check_widths_type(dataset, widths):
    """FORMAT.md: a little-endian uint32 of precision width_bits(max), n-bit
    filtered when below 32."""
    t = dataset.id.get_type()
    bits = width_bits(max(widths, default=0))
    assert (t.get_size(), t.get_offset(), t.get_precision(), t.get_sign()) == (4, 0, bits, h5py.h5t.SGN_NONE), \
        (t.get_offset(), t.get_precision(), bits)
    plist = dataset.id.get_create_plist()
    filters = [plist.get_filter(i)[0] for i in range(plist.get_nfilters())]
    assert (h5py.h5z.FILTER_NBIT in filters) == (bits < 32 and len(widths) > 0), filters


V3_DATASETS = ("codecs", "stream_sizes", "streams")


class SctFile:
    """A version-2 or version-3 sct file (or a version-1 one, read as one
    block). The zfp blocks of a version-3 file have no terms (width 0): their
    values are their decoded streams, which rebuild() puts in place."""

    def __init__(self, path):
        with h5py.File(path, "r") as f:
            self.version = int(f.attrs["format_version"])
            g = f["decomposition"]
            self.method = text(g.attrs["method"])
            self.attrs = {k: g.attrs[k] for k in g.attrs}
            self.shape = [int(d) for d in g.attrs["shape"]]
            self.width = int(g.attrs["width"])
            self.scales = g["scales"][...].astype(np.float32)
            self.scale_bits = scale_bits_of(g["scales"]) if self.version >= 2 else 32
            if self.version >= 2:
                self.block_shape = [int(b) for b in g.attrs["block_shape"]]
                self.widths = [int(w) for w in g["widths"][...]]
                check_widths_type(g["widths"], self.widths)
                self.signs = g["signs"][...]
                self.signs_deflate_level = deflate_level_of(g["signs"])
                assert self.signs.dtype == np.uint8 and self.signs.ndim == 1
                names = ("widths", "scales", "signs") + (V3_DATASETS if self.version >= 3 else ())
                self.storage = {name: g[name].id.get_storage_size() for name in names}
                self.norm2 = float(g.attrs["norm2"])
                if self.version >= 3:
                    self.codecs = g["codecs"][...]
                    self.stream_sizes = [int(n) for n in g["stream_sizes"][...]]
                    self.streams = g["streams"][...]
            else:
                self.block_shape = list(self.shape)
                self.widths = [self.width]
                self.v1_signs = [g["signs"][f"mode_{a}"][...] for a in range(len(self.shape))]
                self.norm2 = None
        if self.version < 3:
            self.codecs = np.zeros(len(self.widths), np.uint8)
            self.stream_sizes, self.streams = [], np.zeros(0, np.uint8)
        self.n = int(np.prod(self.shape))
        self.grid = [-(-d // b) for d, b in zip(self.shape, self.block_shape)]

    def zfp_blocks(self):
        """Block index -> its values (float32, the block's extents) for every
        zfp block: one stream per index of its modes shorter than 4 (C order),
        each decoded alone by zfpy into the field of its other modes."""
        out, s, at = {}, 0, 0
        if not (self.codecs == 1).any():
            return out
        import zfpy
        for b, corner in enumerate(np.ndindex(*self.grid)):
            if self.codecs[b] != 1:
                continue
            lo = [c * k for c, k in zip(corner, self.block_shape)]
            ext = [min(k, d - o) for k, d, o in zip(self.block_shape, self.shape, lo)]
            planes = [a for a, e in enumerate(ext) if e < 4]
            xb = np.zeros(ext, np.float32)
            for plane in np.ndindex(*[ext[a] for a in planes]):
                values = zfpy.decompress_numpy(self.streams[at: at + self.stream_sizes[s]].tobytes())
                index = [slice(None)] * len(ext)
                for a, i in zip(planes, plane):
                    index[a] = i
                xb[tuple(index)] = values
                at += self.stream_sizes[s]
                s += 1
            out[b] = xb
        assert s == len(self.stream_sizes) and at == len(self.streams), "zfp streams"
        return out

    def blocks(self):
        """(index, origin, extents, width, first scale, signs as w x Σe array of ±1)."""
        term = byte = 0
        for b, corner in enumerate(np.ndindex(*self.grid)):
            lo = [c * s for c, s in zip(corner, self.block_shape)]
            ext = [min(s, d - o) for s, d, o in zip(self.block_shape, self.shape, lo)]
            w = self.widths[b]
            if self.version >= 2:
                n = w * sum(ext)
                segment = self.signs[byte: byte + (n + 7) // 8]
                bits = np.unpackbits(segment, bitorder="little")
                assert not bits[n:].any(), f"block {b}: padding bits set"
                pm = 1.0 - 2.0 * bits[:n].reshape(w, sum(ext)).astype(np.float64)
                byte += (n + 7) // 8
            else:
                rows = []
                for a, d in enumerate(self.shape):
                    words = self.v1_signs[a][:w]
                    bits = np.unpackbits(words.astype("<u8").view(np.uint8).reshape(w, -1), axis=1, bitorder="little")
                    rows.append(1.0 - 2.0 * bits[:, :d])
                pm = np.concatenate(rows, axis=1) if w else np.zeros((0, sum(ext)))
            yield b, lo, ext, w, term, pm
            term += w
        if self.version >= 2:
            assert byte == len(self.signs), "sign stream length"
            assert term == len(self.scales) == self.width, "scales length"

    def rebuild(self, width=None, dtype=np.float32):
        """The tensor, each block summed in `dtype` in term order as the
        format describes it; `width` keeps the first `width` terms of every
        block (zfp blocks whole). In float32, signcut's own sum may group the
        terms differently (its sign GEMM), so compare with tolerance(), not
        bit for bit; in float64, the sum is the contract of DESIGN §6 (each
        term is computed in float64 from the float32 scale either way). A zfp
        block is its decoded float32 values, exactly."""
        out = np.zeros(self.shape, dtype)
        coded = self.zfp_blocks()
        for b, lo, ext, w, first, pm in self.blocks():
            if b in coded:
                out[tuple(slice(o, o + e) for o, e in zip(lo, ext))] = coded[b].astype(dtype)
                continue
            use = w if width is None else min(w, width)
            xb = np.zeros(ext, dtype)
            for j in range(use):
                factors = np.split(pm[j], np.cumsum(ext)[:-1])
                xb = xb + (self.scales[first + j] * functools.reduce(np.multiply.outer, factors)).astype(dtype)
            out[tuple(slice(o, o + e) for o, e in zip(lo, ext))] = xb
        return out

    def tolerance(self, width=None):
        """A bound on how far two float32 sums of a block's terms in any
        order can be apart: 2·w·2^-24·Σ_j |c_j| over the worst block."""
        worst = 0.0
        for _, _, _, w, first, _ in self.blocks():
            use = w if width is None else min(w, width)
            c = np.abs(self.scales[first: first + use].astype(np.float64)).sum()
            worst = max(worst, 2.0 * use * 2.0 ** -24 * c)
        return worst

    def assert_rebuilds(self, y, width=None):
        """y is this file's tensor, up to the order of float32 sums."""
        r = self.rebuild(width)
        assert y.shape == r.shape, (y.shape, r.shape)
        gap = float(np.abs(y.astype(np.float64) - r).max()) if y.size else 0.0
        assert gap <= self.tolerance(width), f"{gap} > {self.tolerance(width)}"

    def counted_bits(self):
        """Σ_b w_b·(Σ_a e_{b,a} + scale bits): a sign 1 bit, a scale 13 or
        32; a zfp stream 8 bits a byte and 32 (its size entry)."""
        return (sum(w * (sum(ext) + self.scale_bits) for _, _, ext, w, _, _ in self.blocks()) + 8 * len(self.streams) +
                32 * len(self.stream_sizes))

    def payload_bits(self):
        """The payload by §6's rule, checked against HDF5's own storage sizes."""
        expected = {"widths": stored_widths_bytes(len(self.widths), max(self.widths, default=0)),
                    "scales": stored_scales_bytes(self.width, self.scale_bits),
                    "signs": (stored_deflated_bytes(self.signs, self.signs_deflate_level) if self.signs_deflate_level
                              else stored_dataset_bytes(len(self.signs), 1))}
        if self.version >= 3:
            expected.update({"codecs": stored_dataset_bytes(len(self.codecs), 1),
                             "stream_sizes": stored_dataset_bytes(len(self.stream_sizes), 4),
                             "streams": stored_dataset_bytes(len(self.streams), 1)})
        assert expected == self.storage, f"{expected} != {self.storage}"
        return 8 * sum(expected.values())

    def gains(self):
        """Every kept term's gain c²·n_b, in block order (exact for float32
        scales, within 2^-4 of the gain for short ones)."""
        out = []
        for _, _, ext, w, first, _ in self.blocks():
            nb = int(np.prod(ext))
            out += [float(c) ** 2 * nb for c in self.scales[first: first + w].astype(np.float64)]
        return out
