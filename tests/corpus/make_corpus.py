#!/usr/bin/python3
"""Writes the bad-input corpus: small damaged files in files/ and the command
lines that must refuse them in cases.json.

Every file is built here from first principles (h5py for HDF5, hand-made PNG
chunks, libjpeg-turbo's encoder through a small C program compiled here with
the system's C compiler, PNM text), never by signcut, so the corpus does not
depend on the writer it tests. The output is committed: the corpus is fixed,
and this script documents how each file was made. (The committed files cut
from a valid JPEG were made when this script used stb_image_write's encoder;
libjpeg's gives other bytes with the same defects.) Run it again only to
change the corpus:

    /usr/bin/python3 tests/corpus/make_corpus.py

Each case in cases.json has a name, a category (decomposition, dataset,
image, cli), the arguments given to signcut (paths relative to this folder;
"{out}", "{out.png}" and "{outdir}" name places in an empty scratch folder),
"{fifo}" a named pipe with no writer, made by the runner outside the corpus),
the exit status it must give (1 bad input, 2 bad usage), a fragment its one
error line must contain, and why the input is bad.
"""
import json
import os
import shutil
import struct
import sys
import zlib

import h5py
import numpy as np

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.dirname(HERE))
import libjpeg_encoder  # noqa: E402  (tests/libjpeg_encoder.py)
FILES = os.path.join(HERE, "files")

cases = []


def case(name, category, args, exit_code, fragment, why):
    assert category in ("decomposition", "dataset", "image", "cli"), category
    assert exit_code in (1, 2)
    assert all(c["name"] != name for c in cases), name
    cases.append({"name": name, "category": category, "args": args, "exit": exit_code, "message": fragment,
                  "why": why})


def path(name):
    return os.path.join(FILES, name)


def rel(name):
    return "files/" + name


def write_bytes(name, data):
    with open(path(name), "wb") as f:
        f.write(data)


# --- HDF5 helpers --------------------------------------------------------------

VLEN = h5py.string_dtype("utf-8")


def put_string(attrs, key, value):
    attrs.create(key, value, dtype=VLEN)


def sign_words(rng, width, d):
    """width rows of ceil(d/64) words, random signs, zero padding."""
    w = rng.integers(0, 2 ** 64, size=(width, (d + 63) // 64), dtype=np.uint64)
    if d % 64:
        w[:, -1] &= np.uint64((1 << (d % 64)) - 1)
    return w


def write_decomposition(name, shape=(20, 30), width=6, seed=1, edit=None, chunked_claims=False):
    """A decomposition file following the format (docs/FORMAT.md), written
    with h5py; `edit(f)` damages it afterwards. With `chunked_claims` the
    arrays are chunked and never written, so a file can claim enormous arrays
    while staying a few kilobytes (HDF5 allocates chunks only when written)."""
    rng = np.random.default_rng(seed)
    with h5py.File(path(name), "w", track_order=False) as f:
        put_string(f.attrs, "signcut_format", "signcut-decomposition")
        f.attrs.create("format_version", 1, dtype="<i4")
        g = f.create_group("decomposition")
        put_string(g.attrs, "method", "sct")
        g.attrs.create("shape", np.array(shape, dtype="<u8"))
        put_string(g.attrs, "original_dtype", "float32")
        g.attrs.create("width", width, dtype="<u8")
        g.attrs.create("scales_refit", 0, dtype="<u1")
        put_string(g.attrs, "source", "corpus")
        g.attrs.create("seed", 0, dtype="<u8")
        put_string(g.attrs, "signcut_version", "0.1.0")
        g.attrs.create("rel_fro_error", 0.5, dtype="<f8")
        put_string(g.attrs, "created", "2024-01-01T00:00:00Z")
        s = g.create_group("signs")
        if chunked_claims:
            g.create_dataset("scales", shape=(width,), dtype="<f4", chunks=(min(width, 1024),))
            for a, d in enumerate(shape):
                words = (d + 63) // 64
                s.create_dataset(f"mode_{a}", shape=(width, words), dtype="<u8",
                                 chunks=(min(width, 1024), min(words, 64)))
        else:
            g.create_dataset("scales", data=(rng.standard_normal(width) + 3).astype("<f4"))
            for a, d in enumerate(shape):
                s.create_dataset(f"mode_{a}", data=sign_words(rng, width, d))
        if edit:
            edit(f)
    return rel(name)


def untimed():
    """Dataset creation properties without timestamps, so that running this
    script again writes the same bytes."""
    dcpl = h5py.h5p.create(h5py.h5p.DATASET_CREATE)
    dcpl.set_obj_track_times(False)
    return dcpl


# --- version-2 files (docs/FORMAT.md, "Layout (version 2)") ---------------------
#
# Written with h5py's low-level calls so that every type is the one the
# layout names: fixed-length, null-terminated UTF-8 strings of the text's
# length + 1 bytes, little-endian numbers, one-dimensional datasets chunked in
# signcut's ceil(n·s / 2^20) equal chunks with fletcher32, and no object
# timestamps on the file, the group or the datasets.

V2_SHAPE = (24, 16)  # valid.h5's shape, so that eval can compare
V2_BLOCK = (10, 6)  # a 3x3 grid whose last row and column are edge blocks (4 and 4)
V2_WIDTHS = (3, 2, 1, 2, 0, 1, 1, 1, 2)  # block 4 has no terms


class Vlen(str):
    """A string attribute written variable-length (what version 2 forbids)."""


def put_fixed_string(obj, key, value):
    data = value.encode("utf-8")
    tid = h5py.h5t.C_S1.copy()
    tid.set_size(len(data) + 1)
    tid.set_strpad(h5py.h5t.STR_NULLTERM)
    tid.set_cset(h5py.h5t.CSET_UTF8)
    attr = h5py.h5a.create(obj.id, key.encode(), tid, h5py.h5s.create(h5py.h5s.SCALAR))
    attr.write(np.array(data + b"\0", dtype=f"S{len(data) + 1}"), mtype=tid)
    attr.close()


def put_v2_attribute(obj, key, value):
    if key in obj.attrs:
        del obj.attrs[key]
    if isinstance(value, Vlen):
        put_string(obj.attrs, key, str(value))
    elif isinstance(value, str):
        put_fixed_string(obj, key, value)
    else:
        value = np.asarray(value)
        assert value.dtype.str[0] in "<|", (key, value.dtype)
        obj.attrs.create(key, value)


def v2_chunk(n, size):
    """signcut's chunk length for n elements of `size` bytes (FORMAT.md)."""
    c = -(-(n * size) // 2 ** 20)
    return -(-n // c)


def put_v2_dataset(group, name, data, fletcher32=True):
    data = np.ascontiguousarray(data)
    assert data.ndim == 1 and data.dtype.str[0] in "<|", (name, data.dtype)
    dcpl = h5py.h5p.create(h5py.h5p.DATASET_CREATE)
    dcpl.set_obj_track_times(False)
    if data.size > 0:  # an empty dataset is contiguous
        dcpl.set_chunk((v2_chunk(data.size, data.dtype.itemsize),))
        if fletcher32:
            dcpl.set_fletcher32()
    space = h5py.h5s.create_simple((data.size,))
    d = h5py.h5d.create(group.id, name.encode(), h5py.h5t.py_create(data.dtype), space, dcpl=dcpl)
    if data.size > 0:
        d.write(h5py.h5s.ALL, h5py.h5s.ALL, data)
    d.close()


def write_v2_file(name, attrs, datasets, fletcher32=True, root=None, libver=None):
    """A version-2 file: the root attributes (`root` overrides them), the
    /decomposition group with `attrs` (name -> value; str is a fixed-length
    string, Vlen a variable-length one, anything else a little-endian numpy
    value) and `datasets` (name -> 1-D array), in the order given."""
    fcpl = h5py.h5p.create(h5py.h5p.FILE_CREATE)
    fcpl.set_obj_track_times(False)
    fapl = h5py.h5p.create(h5py.h5p.FILE_ACCESS)
    if libver == "v110":  # what signcut writes: checksummed object headers
        fapl.set_libver_bounds(h5py.h5f.LIBVER_V110, h5py.h5f.LIBVER_V110)
    fid = h5py.h5f.create(path(name).encode(), h5py.h5f.ACC_TRUNC, fcpl=fcpl, fapl=fapl)
    with h5py.File(fid) as f:
        root_attrs = {"signcut_format": "signcut-decomposition", "format_version": np.array(2, "<i4")}
        root_attrs.update(root or {})
        for key, value in root_attrs.items():
            put_v2_attribute(f, key, value)
        gcpl = h5py.h5p.create(h5py.h5p.GROUP_CREATE)
        gcpl.set_obj_track_times(False)
        g = h5py.Group(h5py.h5g.create(f.id, b"decomposition", gcpl=gcpl))
        for key, value in attrs.items():
            put_v2_attribute(g, key, value)
        for key, data in datasets.items():
            put_v2_dataset(g, key, data, fletcher32)
    return rel(name)


def block_extents(shape, block_shape):
    """Every block's extents, in C order of the grid (edge blocks cut short)."""
    grid = [-(-d // b) for d, b in zip(shape, block_shape)]
    return [[min(b, d - c * b) for c, b, d in zip(corner, block_shape, shape)] for corner in np.ndindex(*grid)]


def sct_v2(shape=V2_SHAPE, block_shape=V2_BLOCK, widths=V2_WIDTHS, seed=2, aligned=True):
    """(attributes, datasets) of a valid version-2 sct file: each block's
    scales decrease as the greedy's do, its signs are random, the unused
    bits of each segment's last byte are clear, and norm2 and rel_fro_error
    agree with the scales' gains (the stored terms leave 30 % of the norm).
    `aligned=False` packs the signs as one bit stream, each segment starting
    right after the previous one (a writer that forgets the byte alignment)."""
    rng = np.random.default_rng(seed)
    extents = block_extents(shape, block_shape)
    assert len(extents) == len(widths)
    scales, segments, bits_all, gains = [], [], [], 0.0
    for ext, w in zip(extents, widths):
        c = (rng.uniform(1, 3) * 0.6 ** np.arange(w)).astype("<f4")
        scales.append(c)
        gains += float(np.sum(c.astype(np.float64) ** 2)) * int(np.prod(ext))
        bits = rng.integers(0, 2, size=w * sum(ext), dtype=np.uint8)  # 1 is -1
        bits_all.append(bits)
        segments.append(np.packbits(bits, bitorder="little"))  # pads the last byte with zeros
    signs = np.concatenate(segments) if aligned else np.packbits(np.concatenate(bits_all), bitorder="little")
    rel_error = 0.3
    attrs = {
        "method": "sct",
        "shape": np.array(shape, "<u8"),
        "original_dtype": "float32",
        "width": np.array(sum(widths), "<u8"),
        "scales_refit": np.array(0, "<u1"),
        "norm2": np.array(gains / (1 - rel_error ** 2), "<f8"),
        "source": "corpus",
        "seed": np.array(0, "<u8"),
        "signcut_version": "0.1.0",
        "rel_fro_error": np.array(rel_error, "<f8"),
        "created": "2025-01-31T17:04:05Z",
        "block_shape": np.array(block_shape, "<u8"),
    }
    datasets = {
        "widths": np.array(widths, "<u4"),
        "scales": np.concatenate(scales).astype("<f4"),
        "signs": signs.astype("<u1"),
    }
    return attrs, datasets


def sct_v3_cases(D):
    """Version-3 files (docs/FORMAT.md, "Version 3"), each valid but for one
    defect: valid-v2.sct.h5's blocks with the codec record of version 3
    (codecs, stream_sizes, streams). Its block 4 (10x6) has no terms, so it
    may be a zfp block of one stream; zfp streams are not made here (they
    would need libzfp), so the defects are the ones the metadata shows, and a
    stream that is not zfp's."""
    def v3(name, codecs, sizes, streams, version=3):
        attrs, datasets = sct_v2()
        datasets.update(codecs=np.array(codecs, "<u1"), stream_sizes=np.array(sizes, "<u4"),
                        streams=np.array(streams, "<u1"))
        return write_v2_file(name, attrs, datasets, root={"format_version": np.array(version, "<i4")})

    none = [0] * len(V2_WIDTHS)
    p = write_v2_file("v3-without-codecs.sct.h5", *sct_v2(), root={"format_version": np.array(3, "<i4")})
    case("dec-v3-codecs-missing", D, ["info", p], 1, "dataset /decomposition/codecs is missing",
         "a version-2 file that claims format version 3, without its codec record")
    p = v3("v2-with-codecs.sct.h5", none, [], [], version=2)
    case("dec-v2-with-v3-datasets", D, ["decompress", p, "-o", "{out}"], 1,
         "/decomposition/codecs is a format version 3 dataset, but /format_version is 2",
         "version 3's datasets in a file that claims version 2")
    p = v3("v3-unknown-codec.sct.h5", none[:4] + [7] + none[5:], [], [])
    case("dec-v3-unknown-codec", D, ["info", p], 1, "codecs entry 4 is 7, expected 0 (signed cuts) or 1 (zfp)",
         "a codec id no reader knows")
    p = v3("v3-zfp-block-with-terms.sct.h5", [1] + none[1:], [8], [0] * 8)
    case("dec-v3-zfp-block-with-terms", D, ["decompress", p, "-o", "{out}"], 1, "a coded block has width 0",
         "block 0 is marked zfp but has 3 signed cut terms")
    p = v3("v3-stream-sizes-length.sct.h5", none[:4] + [1] + none[5:], [8, 8], [0] * 16)
    case("dec-v3-stream-sizes-length", D, ["info", p], 1, "stream_sizes has 2 entries, expected 1",
         "two stream sizes for one zfp block of one plane")
    p = v3("v3-stream-sizes-sum.sct.h5", none[:4] + [1] + none[5:], [9], [0] * 8)
    case("dec-v3-stream-sizes-sum", D, ["decompress", p, "-o", "{out}"], 1,
         "stream_sizes sum to 9 bytes, but /decomposition/streams holds 8", "the stream sizes overrun the streams")
    p = v3("v3-not-a-zfp-stream.sct.h5", none[:4] + [1] + none[5:], [24], list(b"this is not a zfp stream"))
    case("dec-v3-not-a-zfp-stream", D, ["decompress", p, "-o", "{out}"], 1, "block 4 (zfp, extents 10x6)",
         "block 4's stream has no zfp header")


def segment_offsets(shape=V2_SHAPE, block_shape=V2_BLOCK, widths=V2_WIDTHS):
    """(first byte, bytes, bits) of every block's sign segment."""
    out, at = [], 0
    for ext, w in zip(block_extents(shape, block_shape), widths):
        bits = w * sum(ext)
        out.append((at, (bits + 7) // 8, bits))
        at += (bits + 7) // 8
    return out


def pack_codes(codes, bits):
    """One group of signed codes as offset-binary fields in uint64 words (FORMAT.md, "Packed codes")."""
    fields = np.asarray(codes, np.int64) + (1 << (bits - 1))
    assert (fields >= 1).all() and (fields < (1 << bits)).all()
    string = ((fields[:, None] >> np.arange(bits)) & 1).astype(np.uint8).ravel()  # LSB first
    words = -(-len(string) // 64)
    string = np.concatenate([string, np.zeros(words * 64 - len(string), np.uint8)])
    return np.packbits(string, bitorder="little").view("<u8")


def lplr_v2(shape=(24, 16), rank=2, bits_l=4, bits_r=5, seed=3):
    """(attributes, datasets) of a valid version-2 lplr file, matricized "0|1"."""
    rng = np.random.default_rng(seed)
    n, d = shape
    top_l, top_r = (1 << (bits_l - 1)) - 1, (1 << (bits_r - 1)) - 1
    l_codes = rng.integers(-top_l, top_l + 1, size=(rank, n))
    r_codes = rng.integers(-top_r, top_r + 1, size=(rank, d))
    l_scales = rng.uniform(0.1, 1, rank).astype("<f4")
    r_scales = rng.uniform(0.1, 1, rank).astype("<f4")
    y = (l_codes.T * l_scales.astype(np.float64)) @ (r_codes * r_scales.astype(np.float64)[:, None])
    rel_error = 0.2
    attrs = {
        "method": "lplr",
        "shape": np.array(shape, "<u8"),
        "original_dtype": "float32",
        "width": np.array(rank, "<u8"),
        "norm2": np.array(float(np.sum(y ** 2)) / (1 - rel_error ** 2), "<f8"),
        "matricize": "0|1",
        "bits_l": np.array(bits_l, "<u1"),
        "bits_r": np.array(bits_r, "<u1"),
        "source": "corpus",
        "seed": np.array(0, "<u8"),
        "signcut_version": "0.1.0",
        "rel_fro_error": np.array(rel_error, "<f8"),
        "created": "2025-01-31T17:04:05Z",
    }
    datasets = {
        "l_codes": np.concatenate([pack_codes(c, bits_l) for c in l_codes]),
        "l_scales": l_scales,
        "r_codes": np.concatenate([pack_codes(c, bits_r) for c in r_codes]),
        "r_scales": r_scales,
    }
    return attrs, datasets


def write_dataset(name, data=None, dataset="data", **kw):
    with h5py.File(path(name), "w") as f:
        f.create_dataset(dataset, data=data, **kw)
    return rel(name)


def truncate(src_name, dst_name, keep):
    with open(path(src_name), "rb") as f:
        data = f.read()
    write_bytes(dst_name, data[: int(len(data) * keep)])
    return rel(dst_name)


def corrupt_first_chunk(name, dataset):
    """Overwrites the compressed bytes of a dataset's first chunk, where the
    file says they are."""
    with h5py.File(path(name), "r") as f:
        info = f[dataset].id.get_chunk_info(0)
    with open(path(name), "r+b") as f:
        f.seek(info.byte_offset + 2)  # keep the zlib header, garble the stream
        f.write(bytes([0xff, 0xee, 0xdd, 0xcc]) * (min(info.size - 2, 64) // 4))


# --- PNG helpers ---------------------------------------------------------------

def chunk(kind, data, length=None):
    """A PNG chunk; `length` overrides the stored length (to lie about it)."""
    body = kind + data
    n = len(data) if length is None else length
    return struct.pack(">I", n) + body + struct.pack(">I", zlib.crc32(body) & 0xffffffff)


def ihdr(width, height, depth=8, colour=2, interlace=0):
    return chunk(b"IHDR", struct.pack(">IIBBBBB", width, height, depth, colour, 0, 0, interlace))


PNG_SIGNATURE = b"\x89PNG\r\n\x1a\n"


def png(width, height, colour=2, depth=8, rows=None, idat=None, extra=b"", interlace=0):
    channels = {0: 1, 2: 3, 3: 1, 4: 2, 6: 4}[colour]
    if idat is None:
        if rows is None:
            rows = [bytes((x * 7 + y * 13 + c) % 256 for x in range(width) for c in range(channels * depth // 8))
                    for y in range(height)]
        idat = zlib.compress(b"".join(b"\x00" + r for r in rows), 9)
    return PNG_SIGNATURE + ihdr(width, height, depth, colour, interlace) + extra + chunk(b"IDAT", idat) + \
        chunk(b"IEND", b"")


# --- JPEG helpers --------------------------------------------------------------

def libjpeg_jpeg(width, height, channels=3, quality=90, noise=False):
    """A baseline JPEG written by libjpeg; `noise` makes pixels whose scan
    data holds stuffed 0xff bytes."""
    if noise:
        pixels = bytes(((x * 7919 + y * 104729 + c * 31) * 2654435761 >> 13) % 256
                       for y in range(height) for x in range(width) for c in range(channels))
        quality = 100
    else:
        pixels = bytes((x * 5 + y * 3 + c * 40) % 256 for y in range(height) for x in range(width) for c in range(channels))
    return libjpeg_encoder.encode(width, height, channels, quality, pixels)


def jpeg_markers(data):
    """(offset, marker) of every marker segment before the scan data."""
    out, pos = [], 2
    while pos + 4 <= len(data) and data[pos] == 0xff:
        marker = data[pos + 1]
        out.append((pos, marker))
        if marker == 0xda:
            break
        pos += 2 + struct.unpack(">H", data[pos + 2:pos + 4])[0]
    return out


def v1_heap_damage(good, name, edit):
    """valid.sct.h5 (version 1: variable-length strings in one global heap
    collection) with the heap or a reference into it damaged by `edit(data,
    heap, refs)`; refs maps each string attribute's value to the offset of
    its heap reference (length u32, collection address u64, index u32)."""
    data = bytearray(good)
    assert data.count(b"GCOL") == 1
    heap = data.index(b"GCOL")
    objects, p = {}, heap + 16
    while True:  # index (2), reference count (2), reserved (4), size (8), data padded to 8
        index, _, _, size = struct.unpack_from("<HHIQ", data, p)
        if index == 0:
            break
        objects[index] = bytes(data[p + 16:p + 16 + size]).decode()
        p += 16 + -(-size // 8) * 8
    refs, address, at = {}, struct.pack("<Q", heap), 0
    while (at := data.find(address, at + 1)) > 0:
        length, index = struct.unpack_from("<I", data, at - 4)[0], struct.unpack_from("<I", data, at + 8)[0]
        if index in objects and len(objects[index]) == length:
            refs[objects[index]] = at - 4
    edit(data, heap, refs)
    write_bytes(name, bytes(data))
    return rel(name)


def faults(D, C, valid_h5, good):
    """Files that crashed or hung libhdf5 before the readers took care, and
    inputs the system cannot give (a FIFO, more threads than allowed)."""
    # A version-1 file's strings are variable-length: libhdf5 reads them from
    # the global heap trusting its sizes and indexes (H5HG_read), so damage
    # there crashed the process. The reader tries each read in a child
    # process first and refuses the file when the child dies.
    def object_size(data, heap, refs):
        # object 1 (signcut_format's text) claims 2^62 bytes
        data[heap + 24:heap + 32] = struct.pack("<Q", 2 ** 62)
    p = v1_heap_damage(good, "v1-heap-object-size.sct.h5", object_size)
    for command, args in (("info", ["info", p]), ("decompress", ["decompress", p, "-o", "{out}"]),
                          ("eval", ["eval", valid_h5, p])):
        case(f"dec-v1-heap-object-size-{command}", D, args, 1,
             "attribute /signcut_format is a damaged variable-length string: a trial read crashed",
             "version 1: the heap object behind @signcut_format claims 2^62 bytes (libhdf5 copied them)")

    def method_index(data, heap, refs):
        # @method's reference names heap object 0xfff0 of a collection of 7
        data[refs["sct"] + 12:refs["sct"] + 16] = struct.pack("<I", 0xFFF0)
    p = v1_heap_damage(good, "v1-heap-index.sct.h5", method_index)
    case("dec-v1-heap-index", D, ["decompress", p, "-o", "{out}"], 1,
         "attribute /decomposition/method is a damaged variable-length string",
         "version 1: @method points at heap object 65520 of 7 (libhdf5 indexed past its table)")

    # Only regular files are inputs: a FIFO would block the open for ever
    # ("{fifo}" is a named pipe the runner makes, with no writer).
    for command, args in (("info", ["info", "{fifo}"]), ("compress", ["compress", "{fifo}", "-o", "{out}"]),
                          ("decompress", ["decompress", "{fifo}", "-o", "{out}"]),
                          ("eval", ["eval", valid_h5, "{fifo}"])):
        case(f"cli-fifo-{command}", C, args, 1, "not a regular file (a FIFO, socket or device)",
             "a named pipe as input: opening it blocks until someone writes")
    case("cli-device", C, ["info", "/dev/zero"], 1, "not a regular file", "a device as input: an endless stream")
    case("cli-threads-beyond-cap", C, ["compress", valid_h5, "-o", "{out}", "--threads", "100000"], 2,
         "--threads", "100000 threads: thread creation failed and aborted the run")

    # A version-2 file as signcut writes it (HDF5's 1.10 format, whose
    # object headers carry checksums) with one byte of @shape changed: the
    # header's checksum no longer matches, so the file is refused instead of
    # read with another shape.
    write_v2_file("v2-header-checksum.sct.h5", *sct_v2(), libver="v110")
    with open(path("v2-header-checksum.sct.h5"), "rb") as f:
        data = bytearray(f.read())
    # @shape is uint64[2] = (24, 16): the only such run of bytes in the file
    at = data.index(struct.pack("<QQ", *V2_SHAPE))
    data[at] ^= 0x04  # 24 -> 28
    write_bytes("v2-header-checksum.sct.h5", bytes(data))
    for command, args in (("info", ["info", rel("v2-header-checksum.sct.h5")]),
                          ("decompress", ["decompress", rel("v2-header-checksum.sct.h5"), "-o", "{out}"])):
        case(f"dec-v2-header-checksum-{command}", D, args, 1, "incorrect metadata checksum",
             "a bit of @shape flipped under the object header's checksum")


def main():
    shutil.rmtree(FILES, ignore_errors=True)
    os.makedirs(FILES)

    # --- valid inputs the usage cases start from --------------------------------
    rng = np.random.default_rng(0)
    valid_h5 = write_dataset("valid.h5", rng.standard_normal((24, 16)).astype("<f4"))
    valid_dec = write_decomposition("valid.sct.h5")
    write_bytes("valid.png", png(8, 6))
    valid_png = rel("valid.png")

    # --- the decomposition reader (decompress, info, eval) ----------------------
    D = "decomposition"
    with open(path("valid.sct.h5"), "rb") as f:
        good = f.read()
    write_bytes("trunc.sct.h5", good[: len(good) // 2])
    case("dec-truncated", D, ["decompress", "files/trunc.sct.h5", "-o", "{out}"], 1, "trunc.sct.h5",
         "the file ends halfway through its object headers")
    write_bytes("empty.sct.h5", b"")
    case("dec-empty-file", D, ["info", "files/empty.sct.h5"], 1, "not an HDF5 file", "a zero-byte file")
    write_bytes("noise.sct.h5", bytes(np.random.default_rng(9).integers(0, 256, 4096, dtype=np.uint8)))
    case("dec-random-bytes", D, ["decompress", "files/noise.sct.h5", "-o", "{out}"], 1, "not an HDF5 file",
         "4 KiB of random bytes")
    p = write_dataset("plain.sct.h5", np.ones((4, 4), "<f4"))
    case("dec-plain-dataset-file", D, ["info", p], 1, "no signcut_format attribute",
         "an ordinary HDF5 file that holds a dataset, not a decomposition")
    p = write_decomposition("format-name.sct.h5", edit=lambda f: put_string(f.attrs, "signcut_format", "zfp"))
    case("dec-wrong-format-name", D, ["info", p], 1, "signcut_format is 'zfp'", "another program's format tag")
    p = write_decomposition("version2.sct.h5", edit=lambda f: f.attrs.modify("format_version", np.int32(2)))
    case("dec-format-version-2", D, ["decompress", p, "-o", "{out}"], 1, "variable-length string",
         "a version-1 file (variable-length strings) that claims format version 2, which has fixed-length strings "
         "only")
    p = write_decomposition("version4.sct.h5", edit=lambda f: f.attrs.modify("format_version", np.int32(4)))
    case("dec-format-version-4", D, ["decompress", p, "-o", "{out}"], 1, "format_version 4",
         "a format version this reader does not know")
    p = write_decomposition("version-string.sct.h5",
                            edit=lambda f: put_string(f.attrs, "format_version", "1"))
    case("dec-format-version-string", D, ["info", p], 1, "format_version is string",
         "the version is a string, not an integer")
    p = write_decomposition("no-group.sct.h5", edit=lambda f: f.move("decomposition", "other"))
    case("dec-missing-group", D, ["info", p], 1, "group /decomposition is missing",
         "the /decomposition group was renamed")

    def group_as_dataset(f):
        del f["decomposition"]
        f.create_dataset("decomposition", data=np.zeros(3))
    p = write_decomposition("group-dataset.sct.h5", edit=group_as_dataset)
    case("dec-group-is-dataset", D, ["info", p], 1, "/decomposition is not a group",
         "/decomposition is a dataset")
    p = write_decomposition("method.sct.h5", edit=lambda f: put_string(f["decomposition"].attrs, "method", "tucker"))
    case("dec-unknown-method", D, ["info", p], 1, "unknown method 'tucker'", "a method name the format does not define")
    p = write_decomposition("no-width.sct.h5", edit=lambda f: f["decomposition"].attrs.__delitem__("width"))
    case("dec-missing-width", D, ["decompress", p, "-o", "{out}"], 1, "width is missing", "the width attribute is absent")
    p = write_decomposition("width-float.sct.h5",
                            edit=lambda f: f["decomposition"].attrs.create("width", 6.0, dtype="<f8"))
    case("dec-width-float", D, ["info", p], 1, "width is float", "the width is stored as a float")
    p = write_decomposition("width-negative.sct.h5",
                            edit=lambda f: f["decomposition"].attrs.create("width", -6, dtype="<i8"))
    case("dec-width-negative", D, ["info", p], 1, "negative", "a signed width of -6")
    p = write_decomposition("width-array.sct.h5",
                            edit=lambda f: f["decomposition"].attrs.create("width", np.array([6, 6], "<u8")))
    case("dec-width-array", D, ["info", p], 1, "holds 2 values", "the width is an array of two values")
    p = write_decomposition("width-mismatch.sct.h5",
                            edit=lambda f: f["decomposition"].attrs.create("width", 7, dtype="<u8"))
    case("dec-width-disagrees-with-scales", D, ["decompress", p, "-o", "{out}"], 1, "scales has 6 entries",
         "width says 7 terms, the arrays hold 6")
    p = write_decomposition("shape-empty.sct.h5",
                            edit=lambda f: f["decomposition"].attrs.create("shape", np.zeros(0, "<u8")))
    case("dec-shape-rank-0", D, ["info", p], 1, "rank 0", "an empty shape")
    p = write_decomposition("shape-zero.sct.h5",
                            edit=lambda f: f["decomposition"].attrs.create("shape", np.array([20, 0], "<u8")))
    case("dec-shape-zero-dimension", D, ["info", p], 1, "zero dimension", "a shape of 20x0")
    p = write_decomposition("shape-2d.sct.h5",
                            edit=lambda f: f["decomposition"].attrs.create("shape", np.array([[20, 30]], "<u8")))
    case("dec-shape-2d-attribute", D, ["info", p], 1, "1-D array", "the shape attribute is a 1x2 matrix")
    p = write_decomposition("shape-string.sct.h5",
                            edit=lambda f: put_string(f["decomposition"].attrs, "shape", "20x30"))
    case("dec-shape-string", D, ["info", p], 1, "shape is string", "the shape is written as text")
    p = write_decomposition("shape-overflow.sct.h5",
                            edit=lambda f: f["decomposition"].attrs.create("shape", np.array([2 ** 32] * 3, "<u8")))
    case("dec-shape-product-overflows", D, ["info", p], 1, "2^64",
         "a shape of 2^32 x 2^32 x 2^32: its element count does not fit in 64 bits")
    p = write_decomposition("shape-huge.sct.h5", shape=(2 ** 31, 2 ** 31), width=4, chunked_claims=True)
    case("dec-absurd-shape", D, ["decompress", p, "-o", "{out}"], 1, "memory limit",
         "arrays that agree with a 2^31 x 2^31 shape, stored as unwritten chunks: reading must stop before "
         "allocating 16 EiB")
    case("dec-absurd-shape-without-limit", D, ["decompress", p, "-o", "{out}", "--max-memory", str(2 ** 64 - 1)], 1,
         "memory limit", "the same file under the largest memory limit there is: its needs do not fit in 64 bits")
    p = write_decomposition("width-huge.sct.h5", shape=(20, 30), width=2 ** 40, chunked_claims=True)
    case("dec-absurd-width", D, ["decompress", p, "-o", "{out}"], 1, "memory limit",
         "a width of 2^40 with arrays of that length, stored as unwritten chunks")
    p = write_decomposition("width-huge-eval.sct.h5", shape=(24, 16), width=2 ** 40, chunked_claims=True)
    case("dec-absurd-width-eval", D, ["eval", valid_h5, p], 1, "memory limit",
         "the same claim reached through eval")
    p = write_decomposition("dtype.sct.h5",
                            edit=lambda f: put_string(f["decomposition"].attrs, "original_dtype", "complex64"))
    case("dec-unknown-original-dtype", D, ["info", p], 1, "not a known dtype", "original_dtype is complex64")
    p = write_decomposition("refit.sct.h5",
                            edit=lambda f: f["decomposition"].attrs.create("scales_refit", 2, dtype="<u1"))
    case("dec-scales-refit-2", D, ["info", p], 1, "expected 0 or 1", "a flag that is neither 0 nor 1")

    def scales_int(f):
        del f["decomposition/scales"]
        f["decomposition"].create_dataset("scales", data=np.arange(6, dtype="<i4"))
    p = write_decomposition("scales-int.sct.h5", edit=scales_int)
    case("dec-scales-integers", D, ["info", p], 1, "holds integer values", "the scales are integers")

    def scales_2d(f):
        del f["decomposition/scales"]
        f["decomposition"].create_dataset("scales", data=np.ones((6, 1), "<f4"))
    p = write_decomposition("scales-2d.sct.h5", edit=scales_2d)
    case("dec-scales-2d", D, ["info", p], 1, "1-D array", "the scales are a 6x1 matrix")

    def scales_nan(f):
        f["decomposition/scales"][2] = np.nan
        f["decomposition/scales"][4] = np.inf
    p = write_decomposition("scales-nan.sct.h5", edit=scales_nan)
    case("dec-non-finite-scales", D, ["decompress", p, "-o", "{out}"], 1, "2 non-finite",
         "one scale is NaN and one is Inf")

    def signs_float(f):
        del f["decomposition/signs/mode_1"]
        f["decomposition/signs"].create_dataset("mode_1", data=np.zeros((6, 1), "<f8"))
    p = write_decomposition("signs-float.sct.h5", edit=signs_float)
    case("dec-signs-float", D, ["info", p], 1, "must hold uint64 words", "mode_1 holds float64 values")

    def signs_int32(f):
        del f["decomposition/signs/mode_0"]
        f["decomposition/signs"].create_dataset("mode_0", data=np.zeros((6, 1), "<i4"))
    p = write_decomposition("signs-int32.sct.h5", edit=signs_int32)
    case("dec-signs-int32", D, ["info", p], 1, "must hold uint64 words", "mode_0 holds 4-byte signed integers")

    def signs_shape(f):
        del f["decomposition/signs/mode_1"]
        f["decomposition/signs"].create_dataset("mode_1", data=np.zeros((6, 5), "<u8"))
    p = write_decomposition("signs-shape.sct.h5", edit=signs_shape)
    case("dec-signs-wrong-shape", D, ["decompress", p, "-o", "{out}"], 1, "expected 6x1",
         "mode_1 has 5 words per term where ceil(30/64) = 1")
    p = write_decomposition("signs-missing.sct.h5", edit=lambda f: f["decomposition/signs"].__delitem__("mode_1"))
    case("dec-signs-missing-mode", D, ["info", p], 1, "mode_1 is missing", "the sign array of mode 1 is absent")
    p = write_decomposition("signs-extra.sct.h5",
                            edit=lambda f: f["decomposition/signs"].create_dataset("mode_2", data=np.zeros((6, 1), "<u8")))
    case("dec-signs-extra-mode", D, ["info", p], 1, "has 3 members", "a third sign array for an order-2 shape")

    def signs_scalar(f):
        del f["decomposition/signs/mode_0"]
        f["decomposition/signs"].create_dataset("mode_0", data=np.uint64(0))
    p = write_decomposition("signs-scalar.sct.h5", edit=signs_scalar)
    case("dec-signs-scalar", D, ["info", p], 1, "a scalar", "mode_0 is a scalar dataset")

    def padding(f):
        w = f["decomposition/signs/mode_0"][...]
        w[3, 0] |= np.uint64(1) << np.uint64(40)  # d = 20: bits 20..63 are padding
        f["decomposition/signs/mode_0"][...] = w
    p = write_decomposition("padding.sct.h5", edit=padding)
    case("dec-padding-bits", D, ["decompress", p, "-o", "{out}"], 1, "padding bits",
         "a sign word has a bit set past the mode's 20 entries")

    def gzip_signs(f):
        w = f["decomposition/signs/mode_1"][...]
        del f["decomposition/signs/mode_1"]
        f["decomposition/signs"].create_dataset("mode_1", data=np.repeat(w, 1, axis=0), chunks=(6, 1),
                                                compression="gzip")
    write_decomposition("chunk.sct.h5", edit=gzip_signs)
    corrupt_first_chunk("chunk.sct.h5", "decomposition/signs/mode_1")
    case("dec-corrupt-gzip-chunk", D, ["decompress", rel("chunk.sct.h5"), "-o", "{out}"], 1, "cannot read",
         "the deflate stream of a compressed sign array is garbled")

    # --- version-2 sct files (docs/FORMAT.md), each valid but for one defect ----
    # valid-v2.sct.h5 is the valid file they start from: 24x16 (valid.h5's
    # shape, for eval) in 10x6 blocks, a 3x3 grid with edge blocks along both
    # modes, 13 terms in all and one block of none.
    def v2(name, change=None, **kw):
        attrs, datasets = sct_v2(**kw)
        if change:
            change(attrs, datasets)
        return write_v2_file(name, attrs, datasets)

    valid_v2 = v2("valid-v2.sct.h5")
    # Accepted, not refused: FORMAT.md asks writers for fletcher32, but a
    # reader refuses only filters outside fletcher32, deflate and shuffle, so
    # a file whose chunks carry no checksums reads as any other.
    attrs, datasets = sct_v2()
    write_v2_file("v2-no-fletcher32.sct.h5", attrs, datasets, fletcher32=False)
    # The lplr file the recut cases start from (also valid).
    attrs, datasets = lplr_v2()
    valid_lplr_v2 = write_v2_file("valid-v2.lplr.h5", attrs, datasets)
    sct_v3_cases(D)

    p = v2("v2-width-sum.sct.h5", lambda a, d: a.update(width=np.array(14, "<u8")))
    case("dec-v2-widths-do-not-sum-to-width", D, ["info", p], 1, "width is 14 but /decomposition/widths sum to 13",
         "@width says 14 terms, the blocks' widths sum to 13")
    p = v2("v2-widths-length.sct.h5", lambda a, d: d.update(widths=d["widths"][:8]))
    case("dec-v2-widths-length", D, ["info", p], 1, "widths has 8 entries, expected 9",
         "8 widths for a 3x3 grid of blocks")
    p = v2("v2-scales-short.sct.h5", lambda a, d: d.update(scales=d["scales"][:12]))
    case("dec-v2-scales-too-short", D, ["decompress", p, "-o", "{out}"], 1, "scales has 12 entries, expected 13",
         "12 scales for 13 terms")
    p = v2("v2-scales-long.sct.h5", lambda a, d: d.update(scales=np.append(d["scales"], np.float32(0.5))))
    case("dec-v2-scales-too-long", D, ["eval", valid_h5, p], 1, "scales has 14 entries, expected 13",
         "14 scales for 13 terms, reached through eval")
    p = v2("v2-signs-extra-byte.sct.h5", lambda a, d: d.update(signs=np.append(d["signs"], np.uint8(0))))
    case("dec-v2-signs-too-long", D, ["decompress", p, "-o", "{out}"], 1, "signs has 25 entries, expected 24",
         "one sign byte more than the blocks' 24 segment bytes")
    p = v2("v2-signs-unaligned.sct.h5", aligned=False)
    case("dec-v2-signs-not-byte-aligned", D, ["info", p], 1, "signs has 22 entries, expected 24",
         "the signs packed as one bit stream (22 bytes), not one byte-aligned segment per block (24)")
    p = v2("v2-block-zero.sct.h5", lambda a, d: a.update(block_shape=np.array([0, 6], "<u8")))
    case("dec-v2-block-shape-zero", D, ["info", p], 1, "entry 0 is 0, expected 1..24", "a block shape of 0x6")
    p = v2("v2-block-beyond.sct.h5", lambda a, d: a.update(block_shape=np.array([10, 17], "<u8")))
    case("dec-v2-block-shape-beyond-dimension", D, ["decompress", p, "-o", "{out}"], 1,
         "entry 1 is 17, expected 1..16", "a block extent of 17 along a mode of 16")
    p = v2("v2-block-order.sct.h5", lambda a, d: a.update(block_shape=np.array([10, 6, 1], "<u8")))
    case("dec-v2-block-shape-wrong-order", D, ["info", p], 1, "block_shape has 3 entries, expected 2",
         "a block shape of three modes for a shape of two")
    p = v2("v2-norm2-nan.sct.h5", lambda a, d: a.update(norm2=np.array(np.nan, "<f8")))
    case("dec-v2-norm2-nan", D, ["eval", valid_h5, p], 1, "norm2 is nan", "@norm2 is NaN, reached through eval")
    case("dec-v2-norm2-nan-recut", D, ["recut", p, "-o", "{out}", "--bits-per-value", "1"], 1, "norm2 is nan",
         "recut estimates its error from @norm2, here NaN")
    p = v2("v2-norm2-negative.sct.h5", lambda a, d: a.update(norm2=np.array(-1.0, "<f8")))
    case("dec-v2-norm2-negative", D, ["info", p], 1, "norm2 is -1", "@norm2 is -1")

    # A variable-length @source whose global heap object claims 2^60 bytes:
    # reading it could crash libhdf5, so the reader must refuse it from its
    # type alone, by name, before reading.
    p = v2("v2-vlen-string.sct.h5", lambda a, d: a.update(source=Vlen("corpus")))
    with open(path("v2-vlen-string.sct.h5"), "rb") as f:
        data = bytearray(f.read())
    assert data.count(b"GCOL") == 1
    heap = data.index(b"GCOL")
    # GCOL, version, 3 reserved, collection size (8); object 1: index (2),
    # reference count (2), 4 reserved, size (8).
    assert struct.unpack("<H", data[heap + 16:heap + 18])[0] == 1
    data[heap + 24:heap + 32] = struct.pack("<Q", 2 ** 60)
    write_bytes("v2-vlen-string.sct.h5", bytes(data))
    case("dec-v2-variable-length-string", D, ["info", p], 1,
         "attribute /decomposition/source is a variable-length string",
         "@source is a variable-length string (with a damaged global heap) in a version-2 file")

    def notes(a, d):
        d["notes"] = np.arange(4, dtype="<u1")
    p = v2("v2-unknown-dataset.sct.h5", notes)
    case("dec-v2-unknown-dataset", D, ["decompress", p, "-o", "{out}"], 1,
         "/decomposition/notes is not part of a version-2 sct decomposition",
         "a dataset the version-2 layout does not list")
    case("dec-v2-no-checksum", D, ["decompress", "files/v2-no-fletcher32.sct.h5", "-o", "{out}"], 1,
         "has no fletcher32 checksum",
         "datasets written without HDF5's fletcher32 filter: damage would go unnoticed")
    p = v2("v2-unknown-attribute.sct.h5", lambda a, d: a.update(comment="hello"))
    case("dec-v2-unknown-attribute", D, ["info", p], 1,
         "/decomposition/comment is not an attribute of a version-2 sct decomposition",
         "an attribute the version-2 layout does not list")

    # Block 6 (4x6, one term) has 10 sign bits: bits 2..7 of its second byte,
    # byte 19 of the stream, are unused.
    first, count, bits = segment_offsets()[6]
    assert (first, count, bits) == (18, 2, 10)

    def tail_bit(a, d):
        d["signs"][19] |= 0x80
    p = v2("v2-sign-tail-bits.sct.h5", tail_bit)
    case("dec-v2-sign-tail-bits", D, ["decompress", p, "-o", "{out}"], 1,
         "unused bits set in the last byte of block 6's segment (byte 19)",
         "bit 7 of the last byte of block 6's 10-bit segment is set")
    case("dec-v2-sign-tail-bits-eval", D, ["eval", valid_h5, p], 1, "block 6's segment",
         "the same file reached through eval")

    write_v2_file("v2-checksum.sct.h5", *sct_v2())
    with h5py.File(path("v2-checksum.sct.h5"), "r") as f:
        info = f["decomposition/scales"].id.get_chunk_info(0)
    with open(path("v2-checksum.sct.h5"), "r+b") as f:
        f.seek(info.byte_offset + 5)
        f.write(b"\x5a")
    case("dec-v2-fletcher32-mismatch", D, ["decompress", rel("v2-checksum.sct.h5"), "-o", "{out}"], 1,
         "cannot read /decomposition/scales", "a byte of the scales' only chunk changed under its fletcher32 checksum")

    # --- the HDF5 dataset reader (compress, eval) --------------------------------
    S = "dataset"
    write_bytes("text.h5", b"temperature,pressure\n1,2\n" * 20)
    case("ds-text-file", S, ["compress", rel("text.h5"), "-o", "{out}"], 1, "not an HDF5 file", "a CSV file named .h5")
    truncate("valid.h5", "trunc.h5", 0.4)
    case("ds-truncated", S, ["compress", rel("trunc.h5"), "-o", "{out}"], 1, "trunc.h5",
         "the first 40 % of a valid file")
    with h5py.File(path("kinds.h5"), "w") as f:
        f.create_dataset("text", data=np.array([b"ab", b"cd"]))
        f.create_dataset("pairs", data=np.zeros(3, dtype=[("a", "<f4"), ("b", "<i4")]))
        f.create_dataset("scalar", data=np.float32(3))
        f.create_dataset("empty", shape=(0, 4), dtype="<f4")
        f.create_dataset("null", data=h5py.Empty("<f4"))
        f.create_dataset("colour", data=np.array([0, 1, 1], "<i1"),
                         dtype=h5py.enum_dtype({"red": 0, "green": 1}, basetype="i1"))
        f.create_dataset("bits", data=np.arange(6, dtype="<i4").view("V4"))
        vlen = f.create_dataset("ragged", shape=(2,), dtype=h5py.vlen_dtype("<f4"))
        vlen[0] = np.ones(3, "<f4")
        triple = h5py.h5t.array_create(h5py.h5t.IEEE_F32LE, (3,))
        h5py.h5d.create(f.id, b"matrix", triple, h5py.h5s.create_simple((2, 3)), dcpl=untimed()).close()
        f.create_dataset("refs", shape=(2,), dtype=h5py.ref_dtype)
        f.create_group("group")
        wide = h5py.h5t.STD_I64LE.copy()
        wide.set_size(16)
        space = h5py.h5s.create_simple((4,))
        h5py.h5d.create(f.id, b"int128", wide, space, dcpl=untimed()).close()
    k = rel("kinds.h5")
    case("ds-string", S, ["compress", k + ":/text", "-o", "{out}"], 1, "string", "fixed-length strings")
    case("ds-compound", S, ["compress", k + ":/pairs", "-o", "{out}"], 1, "compound", "a compound type")
    case("ds-enum", S, ["compress", k + ":/colour", "-o", "{out}"], 1, "enum", "an enumeration")
    case("ds-opaque", S, ["compress", k + ":/bits", "-o", "{out}"], 1, "opaque", "opaque 4-byte blobs")
    case("ds-variable-length", S, ["compress", k + ":/ragged", "-o", "{out}"], 1, "variable-length",
         "ragged float arrays")
    case("ds-array-type", S, ["compress", k + ":/matrix", "-o", "{out}"], 1, "array", "elements that are 3-float arrays")
    case("ds-references", S, ["compress", k + ":/refs", "-o", "{out}"], 1, "reference", "object references")
    case("ds-scalar", S, ["compress", k + ":/scalar", "-o", "{out}"], 1, "rank 0", "a scalar dataset")
    case("ds-zero-size", S, ["compress", k + ":/empty", "-o", "{out}"], 1, "zero size", "a 0x4 dataset")
    case("ds-null-dataspace", S, ["compress", k + ":/null", "-o", "{out}"], 1, "null dataspace",
         "a dataset with a null dataspace")
    case("ds-16-byte-integers", S, ["compress", k + ":/int128", "-o", "{out}"], 1, "16-byte integer",
         "128-bit integers")
    case("ds-group-not-dataset", S, ["compress", k + ":/group", "-o", "{out}"], 1, "is not a dataset",
         "the path names a group")
    case("ds-missing-dataset", S, ["compress", k + ":/nowhere", "-o", "{out}"], 1, "has no dataset /nowhere",
         "the path names nothing")
    case("ds-several-datasets", S, ["compress", k, "-o", "{out}"], 1, "name one",
         "no dataset named and the file holds several")

    x = np.ones((6, 5), "<f4")
    x[1, 1], x[2, 3], x[4, 0] = np.nan, np.inf, np.nan
    p = write_dataset("nan.h5", x)
    case("ds-nan-and-inf", S, ["compress", p, "-o", "{out}"], 1, "2 NaN and 1 Inf", "non-finite float32 values")
    x = np.ones((6, 5), "<f2")
    x[0, 0] = np.inf
    p = write_dataset("inf16.h5", x)
    case("ds-float16-inf", S, ["compress", p, "-o", "{out}"], 1, "1 Inf", "a float16 infinity")
    x = np.ones((6, 5), "<f8")
    x[3, 3], x[0, 1] = 1e300, -1e39
    p = write_dataset("beyond32.h5", x)
    case("ds-float64-beyond-float32", S, ["compress", p, "-o", "{out}"], 1, "2 float64 values beyond the float32 range",
         "finite float64 values that float32 cannot hold")
    bf16 = h5py.h5t.IEEE_F32LE.copy()
    bf16.set_fields(15, 7, 8, 0, 7)
    bf16.set_size(2)
    bf16.set_ebias(127)
    with h5py.File(path("bfloat16.h5"), "w") as f:
        h5py.h5d.create(f.id, b"data", bf16, h5py.h5s.create_simple((4, 4)), dcpl=untimed()).close()
    case("ds-bfloat16", S, ["compress", rel("bfloat16.h5"), "-o", "{out}"], 1, "not IEEE binary16",
         "a 16-bit float with an 8-bit exponent")
    p = write_dataset("huge.h5", None, shape=(2 ** 21, 2 ** 21), dtype="<f4", chunks=(64, 64))
    case("ds-absurd-shape", S, ["compress", p, "-o", "{out}"], 1, "memory limit",
         "a 2^21 x 2^21 float32 dataset of unwritten chunks: 16 TiB claimed by a small file")
    p = write_dataset("huge-eval.h5", None, shape=(2 ** 21, 2 ** 21), dtype="<f4", chunks=(64, 64))
    case("ds-absurd-shape-eval", S, ["eval", p, valid_dec], 1, "memory limit",
         "the same claim reached through eval")
    p = write_dataset("overflow.h5", None, shape=(2 ** 22, 2 ** 22, 2 ** 22), dtype="<f4", chunks=(1, 1, 64))
    case("ds-shape-product-overflows", S, ["compress", p, "-o", "{out}"], 1, "2^64",
         "a 2^22 x 2^22 x 2^22 dataset: 2^66 entries")
    x = np.arange(64 * 64, dtype="<f4").reshape(64, 64)
    write_dataset("gzip.h5", x, chunks=(64, 64), compression="gzip")
    corrupt_first_chunk("gzip.h5", "data")
    case("ds-corrupt-gzip-chunk", S, ["compress", rel("gzip.h5"), "-o", "{out}"], 1, "cannot read",
         "the deflate stream of the only chunk is garbled")
    with h5py.File(path("links.h5"), "w") as f:
        f["dangling"] = h5py.SoftLink("/does/not/exist")
        f["elsewhere"] = h5py.ExternalLink("missing-file.h5", "/data")
    case("ds-dangling-soft-link", S, ["compress", rel("links.h5") + ":/dangling", "-o", "{out}"], 1, "/dangling",
         "a soft link to a path that does not exist")
    case("ds-external-link-to-missing-file", S, ["compress", rel("links.h5") + ":/elsewhere", "-o", "{out}"], 1,
         "/elsewhere", "an external link into a file that does not exist")
    with h5py.File(path("cycle.h5"), "w") as f:
        g = f.create_group("a")
        g["loop"] = g
        g["up"] = f
    case("ds-cyclic-groups", S, ["compress", rel("cycle.h5"), "-o", "{out}"], 1, "holds no datasets",
         "groups that link to themselves and to the root, and no dataset")

    # --- the image loader (compress and image on pictures) ---------------------
    I = "image"
    write_bytes("text.png", b"GIF89a, or any other text" * 4)
    case("img-not-an-image", I, ["image", rel("text.png"), "-o", "{out.png}"], 1, "not a PNG, JPEG, PPM or PGM",
         "text named .png")
    write_bytes("empty.png", b"")
    case("img-empty-file", I, ["compress", rel("empty.png"), "-o", "{out}"], 1, "not a PNG, JPEG, PPM or PGM",
         "a zero-byte file")
    write_bytes("pbm.pgm", b"P4\n8 2\n\xff\x00")
    case("img-pbm", I, ["image", rel("pbm.pgm"), "-o", "{out.png}"], 1, "not a PNG, JPEG, PPM or PGM",
         "a 1-bit PBM named .pgm")
    full = png(32, 24)
    write_bytes("trunc.png", full[: len(full) // 2])
    case("img-png-truncated", I, ["image", rel("trunc.png"), "-o", "{out.png}"], 1, "trunc.png",
         "the first half of a PNG")
    write_bytes("signature-only.png", PNG_SIGNATURE)
    case("img-png-signature-only", I, ["image", rel("signature-only.png"), "-o", "{out.png}"], 1, "PNG",
         "the eight signature bytes and nothing else")
    write_bytes("huge.png", PNG_SIGNATURE + ihdr(100000, 100000) + chunk(b"IEND", b""))
    case("img-png-huge-dimensions", I, ["image", rel("huge.png"), "-o", "{out.png}"], 1, "more than the limit",
         "a header claiming 100000x100000 pixels")
    write_bytes("wide16.png", PNG_SIGNATURE + ihdr(12000, 12000, depth=16, colour=6) + chunk(b"IEND", b""))
    case("img-png-over-memory-limit", I, ["compress", rel("wide16.png"), "-o", "{out}", "--max-memory", "64M"], 1,
         "more than the memory limit", "12000x12000 16-bit RGBA under a 64 MiB memory limit")
    # A chunk that claims 2 GiB in a file of a few hundred bytes: signcut
    # checks each chunk's length against the file as libpng reads its header.
    rows = [bytes(24) for _ in range(8)]
    small_idat = zlib.compress(b"".join(b"\x00" + r for r in rows))
    lie = PNG_SIGNATURE + ihdr(8, 8) + chunk(b"IDAT", small_idat, length=0x7ffffff0) + chunk(b"IEND", b"")
    write_bytes("idat-length.png", lie)
    case("img-png-chunk-longer-than-file", I, ["image", rel("idat-length.png"), "-o", "{out.png}"], 1,
         "runs past the end of the file", "an IDAT chunk whose length field says 2 GiB")
    lie = PNG_SIGNATURE + ihdr(8, 8) + chunk(b"tEXt", b"Comment\x00hello", length=0xfffffff0) + \
        chunk(b"IDAT", small_idat) + chunk(b"IEND", b"")
    write_bytes("text-length.png", lie)
    case("img-png-ancillary-chunk-length", I, ["compress", rel("text-length.png"), "-o", "{out}"], 1,
         "runs past the end of the file", "a tEXt chunk whose length field is near 2^32")
    # One gray pixel whose IDAT is 16 KiB of compressed zeros: deflate
    # inflates it a thousandfold. libpng inflates the image's rows and
    # refuses a stream that holds more ("benign" in libpng, an error here).
    bomb = zlib.compress(b"\x00" * (16 << 20), 9)
    write_bytes("bomb.png", png(1, 1, colour=0, idat=bomb))
    case("img-png-idat-beyond-pixel-count", I, ["image", rel("bomb.png"), "-o", "{out.png}"], 1,
         "Too much image data", f"one pixel with a {len(bomb)}-byte IDAT that inflates to 16 MiB")
    # 256x256 gray (64 KiB of rows) whose IDAT is no larger than the rows,
    # but inflates to 16 MiB: only inflating tells.
    write_bytes("bomb-rows.png", png(256, 256, colour=0, idat=bomb))
    case("img-png-inflates-beyond-its-rows", I, ["image", rel("bomb-rows.png"), "-o", "{out.png}"], 1,
         "Too much image data", "a 256x256 gray image whose IDAT inflates to 16 MiB, 250 times its rows")
    # Apple's CgBI chunk before IHDR (found by the image fuzz target with
    # the earlier reader, behind it an IDAT length lie): libpng refuses the
    # unknown critical chunk first.
    cgbi = PNG_SIGNATURE + chunk(b"CgBI", b"\x50\x00\x20\x06") + ihdr(1, 5, depth=1, colour=0) + \
        chunk(b"IDAT", b"\x78\xda", length=0x7dca7f96)
    write_bytes("cgbi-idat-length.png", cgbi)
    case("img-png-cgbi-then-chunk-longer-than-file", I, ["image", rel("cgbi-idat-length.png"), "-o", "{out.png}"], 1,
         "CgBI: unhandled critical chunk", "a CgBI chunk, a header, and an IDAT claiming 2 GiB")
    write_bytes("no-idat.png", PNG_SIGNATURE + ihdr(8, 8) + chunk(b"IEND", b""))
    case("img-png-no-pixel-data", I, ["image", rel("no-idat.png"), "-o", "{out.png}"], 1, "no IDAT",
         "a header and no IDAT chunk")
    write_bytes("bad-zlib.png", png(8, 8, idat=b"\x78\x9c" + bytes(range(200, 240))))
    case("img-png-bad-deflate", I, ["image", rel("bad-zlib.png"), "-o", "{out.png}"], 1, "PNG",
         "an IDAT that is not a deflate stream")
    write_bytes("colour-type.png", png(8, 8, colour=2)[:8] + ihdr(8, 8, 8, 5) + png(8, 8)[33:])
    case("img-png-bad-colour-type", I, ["image", rel("colour-type.png"), "-o", "{out.png}"], 1, "PNG",
         "colour type 5, which PNG does not define")
    write_bytes("depth.png", png(8, 8)[:8] + ihdr(8, 8, 3, 0) + png(8, 8)[33:])
    case("img-png-bad-bit-depth", I, ["image", rel("depth.png"), "-o", "{out.png}"], 1, "PNG",
         "a bit depth of 3")
    write_bytes("short-rows.png", png(16, 16, rows=[bytes(48)] * 4))
    case("img-png-too-few-rows", I, ["image", rel("short-rows.png"), "-o", "{out.png}"], 1, "PNG",
         "16 rows promised, 4 stored")
    write_bytes("palette.png", png(4, 4, colour=3, rows=[bytes(4)] * 4))
    case("img-png-palette-missing", I, ["image", rel("palette.png"), "-o", "{out.png}"], 1, "PNG",
         "a palette image without a PLTE chunk")

    jpeg = libjpeg_jpeg(32, 24)
    write_bytes("trunc.jpg", jpeg[:40])
    case("img-jpeg-truncated-header", I, ["image", rel("trunc.jpg"), "-o", "{out.png}"], 1, "JPEG",
         "a JPEG cut inside its tables")
    sof = next(off for off, m in jpeg_markers(jpeg) if m == 0xc0)
    huge = bytearray(jpeg)
    huge[sof + 5:sof + 9] = struct.pack(">HH", 65000, 65000)
    write_bytes("huge.jpg", bytes(huge))
    case("img-jpeg-huge-dimensions", I, ["image", rel("huge.jpg"), "-o", "{out.png}"], 1, "more than the limit",
         "a frame header claiming 65000x65000 pixels")
    zero = bytearray(jpeg)
    zero[sof + 5:sof + 7] = struct.pack(">H", 0)
    write_bytes("zero-height.jpg", bytes(zero))
    case("img-jpeg-zero-height", I, ["image", rel("zero-height.jpg"), "-o", "{out.png}"], 1, "JPEG",
         "a frame header with height 0 (the DNL form, which libjpeg does not read)")
    # A Huffman table that declares 510 codes where a table holds 256, in a
    # file that ends inside it (found by the image fuzz target against the
    # earlier decoder, which wrote the excess past its arrays; minimised to
    # 9 bytes): libjpeg runs out of data before it judges the table.
    write_bytes("huffman-codes.jpg", b"\xff\xd8\xff\xc4\xa2\x00\x00\xff\xff")
    case("img-jpeg-huffman-table-overflow", I, ["image", rel("huffman-codes.jpg"), "-o", "{out.png}"], 1,
         "Premature end of JPEG file", "a Huffman table of 510 codes, in a 9-byte file")
    # The same kind of table, whole, after the first scan: libjpeg reads it
    # once the scan's data is decoded.
    table = b"\x10" + bytes([0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 255, 255]) + bytes(510)
    late = jpeg[:-2] + b"\xff\xc4" + struct.pack(">H", 2 + len(table)) + table + b"\xff\xd9"
    write_bytes("huffman-after-scan.jpg", late)
    case("img-jpeg-huffman-table-after-scan", I, ["compress", rel("huffman-after-scan.jpg"), "-o", "{out}"], 1,
         "Bogus Huffman table definition", "a valid JPEG followed by a 510-code Huffman table before its end marker")
    # The same table after a scan whose data holds a stuffed 0xff written
    # with a fill byte (ff ff 00): a decoder skips the fill byte and reads
    # on to the table (signcut's earlier JPEG walk took ff 00 for a marker
    # and jumped past it).
    noisy = libjpeg_jpeg(32, 32, noise=True)
    sos = next(off for off, m in jpeg_markers(noisy) if m == 0xda)
    stuffed = noisy.index(b"\xff\x00", sos + 2 + struct.unpack(">H", noisy[sos + 2:sos + 4])[0])
    filled = noisy[:stuffed] + b"\xff\xff\x00" + noisy[stuffed + 2:-2]
    write_bytes("huffman-after-fill-byte.jpg", filled + b"\xff\xc4" + struct.pack(">H", 2 + len(table)) + table +
                b"\xff\xd9")
    case("img-jpeg-huffman-table-after-fill-byte", I, ["image", rel("huffman-after-fill-byte.jpg"), "-o", "{out.png}"],
         1, "Bogus Huffman table definition", "a 510-code Huffman table after a scan that holds ff ff 00")
    write_bytes("soi-only.jpg", b"\xff\xd8\xff\xd9")
    case("img-jpeg-no-frame", I, ["image", rel("soi-only.jpg"), "-o", "{out.png}"], 1, "JPEG",
         "start and end markers with nothing between")

    write_bytes("trunc.ppm", b"P6\n16 16\n255\n" + bytes(100))
    case("img-ppm-truncated", I, ["image", rel("trunc.ppm"), "-o", "{out.png}"], 1, "truncated",
         "768 sample bytes promised, 100 stored")
    write_bytes("maxval0.pgm", b"P5\n4 4\n0\n" + bytes(16))
    case("img-pgm-maxval-0", I, ["image", rel("maxval0.pgm"), "-o", "{out.png}"], 1, "maxval 0", "a maxval of 0")
    write_bytes("maxval-big.pgm", b"P5\n4 4\n70000\n" + bytes(32))
    case("img-pgm-maxval-too-large", I, ["image", rel("maxval-big.pgm"), "-o", "{out.png}"], 1, "maxval 70000",
         "a maxval above 65535")
    write_bytes("sample.pgm", b"P2\n2 2\n100\n5 6 101 7\n")
    case("img-pgm-sample-above-maxval", I, ["image", rel("sample.pgm"), "-o", "{out.png}"], 1, "above the maxval",
         "a plain sample of 101 under maxval 100")
    write_bytes("few.pgm", b"P2\n3 3\n255\n1 2 3 4 5\n")
    case("img-pgm-plain-too-few-samples", I, ["image", rel("few.pgm"), "-o", "{out.png}"], 1,
         "9 samples expected, 5 found", "a plain PGM that stops after 5 of 9 samples")
    write_bytes("negative.ppm", b"P6\n-3 4\n255\n" + bytes(36))
    case("img-ppm-negative-width", I, ["image", rel("negative.ppm"), "-o", "{out.png}"], 1, "malformed ppm header",
         "a width of -3")
    write_bytes("zero.ppm", b"P6\n0 4\n255\n")
    case("img-ppm-zero-width", I, ["image", rel("zero.ppm"), "-o", "{out.png}"], 1, "empty image", "a width of 0")
    write_bytes("huge.ppm", b"P6\n4000000000 4000000000\n255\n" + bytes(12))
    case("img-ppm-huge-dimensions", I, ["image", rel("huge.ppm"), "-o", "{out.png}"], 1, "more than the limit",
         "a header claiming 4e9 x 4e9 pixels")
    write_bytes("overflow.ppm", b"P6\n99999999999999999999 2\n255\n")
    case("img-ppm-width-overflows", I, ["image", rel("overflow.ppm"), "-o", "{out.png}"], 1, "malformed ppm header",
         "a width with twenty digits")

    # --- command-line arguments ----------------------------------------------
    C = "cli"
    case("cli-no-subcommand", C, [], 2, "subcommand is required", "no subcommand")
    case("cli-unknown-subcommand", C, ["frobnicate", valid_h5], 2, "frobnicate", "a subcommand that does not exist")
    case("cli-unknown-option", C, ["compress", valid_h5, "-o", "{out}", "--bogus"], 2, "--bogus", "an unknown option")
    case("cli-missing-output", C, ["compress", valid_h5], 2, "--output", "compress without -o")
    case("cli-missing-input", C, ["decompress", "-o", "{out}"], 2, "input", "decompress without its input")
    case("cli-width-zero", C, ["compress", valid_h5, "-o", "{out}", "--width", "0"], 2, "--width", "a width of 0")
    case("cli-width-negative", C, ["compress", valid_h5, "-o", "{out}", "--width", "-3"], 2, "--width",
         "a negative width")
    case("cli-width-not-a-number", C, ["compress", valid_h5, "-o", "{out}", "--width", "ten"], 2, "ten",
         "a width that is a word")
    case("cli-width-overflows", C, ["compress", valid_h5, "-o", "{out}", "--width", "99999999999999999999999"], 2,
         "--width", "a width beyond 2^64")
    case("cli-two-stopping-rules", C, ["compress", valid_h5, "-o", "{out}", "--width", "3", "--rel-error", "0.1"], 2,
         "excludes", "--width together with --rel-error")
    case("cli-bits-zero", C, ["compress", valid_h5, "-o", "{out}", "--bits-per-value", "0"], 2, "--bits-per-value",
         "a budget of 0 bits per value")
    case("cli-rel-error-negative", C, ["compress", valid_h5, "-o", "{out}", "--rel-error", "-0.5"], 2, "--rel-error",
         "a negative error target")
    case("cli-rel-error-nan", C, ["compress", valid_h5, "-o", "{out}", "--rel-error", "nan"], 2, "--rel-error",
         "an error target of NaN")
    case("cli-seed-beyond-64-bits", C, ["compress", valid_h5, "-o", "{out}", "--seed", "18446744073709551616"], 2,
         "--seed", "a seed of 2^64")
    case("cli-threads-zero", C, ["compress", valid_h5, "-o", "{out}", "--threads", "0"], 2, "--threads",
         "zero threads")
    case("cli-seed-negative", C, ["compress", valid_h5, "-o", "{out}", "--seed", "-1"], 2, "--seed",
         "a negative seed")
    case("cli-method-unknown", C, ["compress", valid_h5, "-o", "{out}", "--method", "tucker"], 2, "tucker",
         "a method that does not exist")
    case("cli-dtype-unknown", C, ["decompress", valid_dec, "-o", "{out}", "--dtype", "int7"], 2, "int7",
         "an output dtype that does not exist")
    case("cli-max-memory-garbage", C, ["compress", valid_h5, "-o", "{out}", "--max-memory", "12Q"], 2, "12Q",
         "a byte count with an unknown unit")
    case("cli-max-memory-zero", C, ["decompress", valid_dec, "-o", "{out}", "--max-memory", "0"], 2,
         "must be positive", "a memory limit of 0 bytes")
    case("cli-max-memory-too-small", C, ["compress", valid_h5, "-o", "{out}", "--max-memory", "1K"], 1,
         "memory limit", "a valid 24x16 input under a 1 KiB limit")
    case("cli-decompress-max-memory-too-small", C, ["decompress", valid_dec, "-o", "{out}", "--max-memory", "100"], 1,
         "memory limit", "a valid decomposition under a 100-byte limit")
    case("cli-bits-below-one-term", C, ["compress", valid_h5, "-o", "{out}", "--bits-per-value", "0.001"], 1,
         "minimum", "a budget smaller than one term")
    case("cli-width-beyond-stored", C, ["decompress", valid_dec, "-o", "{out}", "--width", "100"], 1,
         "exceeds the 6 terms", "100 terms asked of a 6-term file")
    case("cli-output-is-input", C, ["compress", valid_h5, "-o", valid_h5, "--force"], 1, "is the input",
         "the output names the input, even with --force")
    case("cli-output-folder-missing", C, ["compress", valid_h5, "-o", "{outdir}/no/such/folder/x.h5"], 1,
         "does not exist", "the output's folder does not exist")
    case("cli-output-is-folder", C, ["decompress", valid_dec, "-o", "{outdir}", "--force"], 1, "folder",
         "the output is a folder")
    case("cli-image-output-not-png", C, ["image", valid_png, "-o", "{out}"], 2, "must be a .png",
         "an output name that is not an image format")
    case("cli-image-input-not-image", C, ["image", valid_h5, "-o", "{out.png}"], 1, "is not an image",
         "image given an HDF5 file")
    case("cli-save-same-as-output", C, ["image", valid_png, "-o", "{out.png}", "--save", "{out.png}"], 2,
         "same file", "--save and -o name one file")
    case("cli-dataset-path-invalid", C, ["compress", valid_h5 + ":/a//b", "-o", "{out}"], 2, "invalid dataset name",
         "a dataset path with an empty component")
    other = write_dataset("other-shape.h5", rng.standard_normal((30, 20)).astype("<f4"))
    case("cli-eval-shape-mismatch", C, ["eval", other, valid_dec], 1, "has shape 30x20",
         "eval of a 30x20 original against a 20x30 decomposition")
    case("cli-input-missing", C, ["compress", "files/does-not-exist.h5", "-o", "{out}"], 1, "does-not-exist.h5",
         "an input that does not exist")
    case("cli-image-missing", C, ["image", "files/does-not-exist.png", "-o", "{out.png}"], 1, "does-not-exist.png",
         "an image that does not exist")
    case("cli-block-zero", C, ["compress", valid_h5, "-o", "{out}", "--block", "0x4"], 2, "extent 0",
         "a block shape with a zero extent")
    case("cli-block-wrong-order", C, ["compress", valid_h5, "-o", "{out}", "--block", "4x4x4"], 2, "3 modes",
         "a block shape of three modes for a 24x16 input")
    case("cli-block-beyond-dimension", C, ["compress", valid_h5, "-o", "{out}", "--block", "4x99"], 2, "extent 99",
         "a block extent of 99 along a mode of 16")
    case("cli-block-malformed", C, ["compress", valid_h5, "-o", "{out}", "--block", "4by4"], 2, "--block 4by4",
         "a block shape that is not extents joined by x")
    case("cli-block-with-lplr", C, ["compress", valid_h5, "-o", "{out}", "--method", "lplr", "--block", "4x4"],
         2, "--block applies to --method sct only",
         "blocks are an sct option")
    case("cli-block-with-refit", C, ["compress", valid_h5, "-o", "{out}", "--block", "8x8", "--refit"],
         2, "--refit needs one block",
         "the refit of the scales needs the whole tensor as one block")
    case("cli-region-out-of-range", C, ["decompress", valid_dec, "-o", "{out}", "--region", "0:21,:"],
         2, "out of range",
         "a region past the end of a 20x30 decomposition")
    case("cli-region-wrong-order", C, ["decompress", valid_dec, "-o", "{out}", "--region", "0:5"], 2, "has 1 entries",
         "a region of one entry for two modes")
    case("cli-region-malformed", C, ["decompress", valid_dec, "-o", "{out}", "--region", "1:2:3,:"],
         2, "steps are not supported",
         "a region with a step")
    case("cli-region-single-value", C, ["decompress", valid_dec, "-o", "{out}", "--region", "1,2"], 2, "single value",
         "a region that drops every mode")
    case("cli-recut-version-1", C, ["recut", valid_dec, "-o", "{out}", "--bits-per-value", "0.5"], 1, "norm2",
         "a version-1 file has no norm2 to estimate the recut's error from")
    case("cli-recut-no-budget", C, ["recut", valid_dec, "-o", "{out}"], 2, "--bits-per-value",
         "recut without a budget")
    case("cli-recut-two-budgets", C, ["recut", valid_dec, "-o", "{out}", "-b", "0.5", "-e", "0.1"], 2, "excludes",
         "recut with two budgets")
    # Recut of version-2 files (the valid ones above).
    case("cli-recut-above-own-budget", C, ["recut", valid_v2, "-o", "{out}", "--bits-per-value", "8"], 1,
         "recut only lowers a budget", "8 bits per value asked of a file that stores about 2.6")
    case("cli-recut-below-one-term", C, ["recut", valid_v2, "-o", "{out}", "--bits-per-value", "0.01"], 1,
         "the minimum is 0.395833",
         "0.01 bits per value, below the 0.395833 of one term in the smallest (4x4) block, the widths packed to "
         "1 bit, plus the datasets' chunk checksums")
    case("cli-recut-lplr", C, ["recut", valid_lplr_v2, "-o", "{out}", "--bits-per-value", "1"], 1,
         "only sct files can be recut", "an lplr factorization has no prefixes to cut")
    p = v2("v2-refit.sct.h5", lambda a, d: a.update(scales_refit=np.array(1, "<u1")))
    case("cli-recut-refit", C, ["recut", p, "-o", "{out}", "--bits-per-value", "1"], 1, "has refit scales",
         "refit scales are no longer the greedy's prefixes")

    # Mistyped commands and options: one line that says what was meant.
    case("cli-mistyped-subcommand", C, ["compres", valid_h5, "-o", "{out}"], 2, "did you mean 'compress'?",
         "a command one letter short")
    case("cli-mistyped-option", C, ["compress", valid_h5, "-o", "{out}", "--thread", "1"], 2,
         "did you mean '--threads'?", "an option one letter short")
    case("cli-mistyped-option-with-value", C, ["compress", valid_h5, "-o", "{out}", "--thread=1"], 2,
         "unknown option '--thread' for compress", "a mistyped option written name=value")
    case("cli-mistyped-output", C, ["compress", valid_h5, "--ouput", "{out}"], 2, "did you mean '--output'?",
         "the typo, not the missing --output it causes, is named")
    case("cli-other-commands-option", C, ["decompress", valid_dec, "-o", "{out}", "--method", "lplr"], 2,
         "(an option of compress)", "an option of another command")
    case("cli-option-before-command", C, ["--threads", "2", "compress", valid_h5, "-o", "{out}"], 2,
         "comes before the command", "a command's option given before it")
    case("cli-extra-positional", C, ["compress", valid_h5, valid_h5, "-o", "{out}"], 2, "unexpected argument",
         "two inputs to compress")
    case("cli-help-unknown-command", C, ["help", "nosuch"], 2, "unknown command 'nosuch'",
         "help on a command that does not exist")
    case("cli-help-mistyped-command", C, ["help", "compres"], 2, "did you mean 'compress'?",
         "help on a mistyped command")
    case("cli-lplr-width-on-decompress", C, ["decompress", valid_lplr_v2, "-o", "{out}", "--width", "2"], 2,
         "--region keeps part of it", "lplr has no prefixes; the advice names decompress's own options")

    # Image outputs: the format the extension names, the image's sample range.
    case("img-output-tif", I, ["image", valid_png, "-o", "{outdir}/out.tif"], 2, "does not write TIFF",
         "a known image format signcut does not write")
    case("img-decompress-to-bmp", I, ["decompress", valid_dec, "-o", "{outdir}/out.bmp"], 2, "does not write BMP",
         "an image name must not become an HDF5 file")
    case("img-decompress-to-webp", I, ["decompress", valid_dec, "-o", "{outdir}/out.webp"], 2, "does not write WebP",
         "the same, WebP")
    case("img-rgb-to-pgm", I, ["image", valid_png, "-o", "{outdir}/out.pgm"], 1, "name the output .ppm",
         "an RGB image cannot be a PGM")
    write_bytes("gray.pgm", b"P5\n8 6\n255\n" + bytes(range(0, 96, 2)))
    case("img-gray-to-ppm", I, ["image", rel("gray.pgm"), "-o", "{outdir}/out.ppm"], 1, "name the output .pgm",
         "a gray image cannot be a PPM")
    case("img-float-centred-to-png", I, ["decompress", valid_dec, "-o", "{out.png}"], 1,
         "--scale maps min..max onto 0..255", "float data around 0, half of it below the 0..255 of 8-bit samples")
    for name, factor in (("topo.sct.h5", 1000.0), ("unit.sct.h5", 0.01)):
        write_decomposition(name)
        with h5py.File(path(name), "r+") as f:
            f["decomposition/scales"][...] = f["decomposition/scales"][()] * factor
    case("img-topography-to-png", I, ["decompress", rel("topo.sct.h5"), "-o", "{out.png}"], 1,
         "--scale maps min..max onto 0..255", "metres, thousands below and above 0..255")
    case("img-unit-float-to-jpg", I, ["decompress", rel("unit.sct.h5"), "-o", "{outdir}/out.jpg"], 1,
         "the float data runs only from", "float data on a unit scale would round to a nearly uniform image")

    case("img-compress-to-png", I, ["compress", valid_h5, "-o", "{out.png}"], 2, "not an image",
         "compress writes HDF5; a .png name would hold no image")

    # Values near the float32 limit: never a silent ±Inf.
    p = v2("v2-scales-3e38.sct.h5", lambda a, d: d.update(scales=np.full_like(d["scales"], np.float32(3e38))))
    case("dec-v2-scales-overflow-float32", D, ["decompress", p, "-o", "{out}"], 1, "overflows at",
         "finite scales of 3e38 whose float32 sums overflow; --dtype float64 holds them")
    x = np.ones((10, 12))
    x[2, 3] = float(np.finfo(np.float32).max) + 0.4 * 2.0 ** 104  # rounds to FLT_MAX, but lies beyond it
    p = write_dataset("f64-just-beyond.h5", x)
    case("ds-float64-just-beyond-float32", S, ["compress", p, "-o", "{out}"], 1, "beyond the float32 range",
         "a float64 value 0.4 ulp above the largest float32")

    # --- writing into existing files, whole files, attributes ------------------
    case("ds-output-object-exists", S, ["decompress", valid_v2, "-o", valid_h5 + ":/data"], 1,
         "exists (a dataset); use --force to replace it",
         "an object of an existing file is replaced only with --force")
    case("ds-output-is-the-input", S, ["compress", valid_h5 + ":/data", "-o", valid_h5 + ":/data", "--force"], 1,
         "it is the input", "the input dataset as the output, even with --force")
    case("ds-output-holds-the-input", S, ["compress", valid_h5 + ":/data", "-o", valid_h5 + ":/data/x"], 1,
         "lies inside the input /data", "an output below the input dataset")
    case("ds-output-root-group", S, ["decompress", valid_v2, "-o", valid_h5 + ":/"], 2, "names the root group",
         "an object output that names the root of a file")
    case("ds-output-dot-dot", S, ["decompress", valid_v2, "-o", valid_h5 + ":/a/../b"], 2,
         "is not an HDF5 object name", "'..' in an object path")
    case("ds-output-not-hdf5", S, ["decompress", valid_v2, "-o", rel("noise.sct.h5") + ":/x", "--force"], 1,
         "it exists and is not an HDF5 file", "an object added to a file of random bytes")
    case("ds-output-empty-file", S, ["decompress", valid_v2, "-o", rel("empty.sct.h5") + ":/x", "--force"], 1,
         "the file is empty", "an object added to a zero-byte file")
    case("ds-output-below-a-dataset", S, ["decompress", valid_v2, "-o", valid_h5 + ":/data/x", "--force"], 1,
         "/data in files/valid.h5 is a dataset, not a group", "an output path that runs through a dataset")
    case("ds-input-group-missing", S, ["decompress", valid_v2 + ":/nothing", "-o", "{out}"], 1,
         "has no object /nothing", "a decomposition group that does not exist")
    case("ds-input-group-is-dataset", S, ["info", valid_h5 + ":/data"], 1, "a dataset, not a decomposition",
         "a dataset named where a decomposition group belongs")
    case("ds-all-into-object", S, ["compress", valid_h5, "--all", "-o", "{out}:/g"], 2, "whole new file",
         "--all writes a new file, not one object")
    case("ds-all-lplr", S, ["compress", valid_h5, "--all", "-o", "{out}", "--method", "lplr"], 2,
         "--method sct only", "--all with lplr")
    case("ds-decompress-all-of-one-decomposition", S, ["decompress", valid_v2, "--all", "-o", "{out}"], 2,
         "decompress it without --all", "--all on a file that is one decomposition")
    shutil.copyfile(path("valid-v2.sct.h5"), path("v2-source-vlen.sct.h5"))
    with h5py.File(path("v2-source-vlen.sct.h5"), "r+") as f:
        g = f["decomposition"].create_group("source_attributes")
        g.attrs.create("units", "K", dtype=VLEN)
    case("ds-source-attributes-vlen", S, ["decompress", rel("v2-source-vlen.sct.h5"), "-o", "{out}"], 1,
         "variable-length string", "source_attributes holds a variable-length string, which version 2 excludes")
    shutil.copyfile(path("valid-v2.sct.h5"), path("v2-source-member.sct.h5"))
    with h5py.File(path("v2-source-member.sct.h5"), "r+") as f:
        g = f["decomposition"].create_group("source_attributes")
        g["x"] = np.arange(3)
    case("ds-source-attributes-member", S, ["info", rel("v2-source-member.sct.h5")], 1,
         "it holds attributes only", "a dataset inside source_attributes")
    shutil.copyfile(path("valid-v2.sct.h5"), path("v2-source-reference.sct.h5"))
    with h5py.File(path("v2-source-reference.sct.h5"), "r+") as f:
        g = f["decomposition"].create_group("source_attributes")
        g.attrs.create("target", f["decomposition"].ref, dtype=h5py.ref_dtype)
    case("ds-source-attributes-reference", S, ["decompress", rel("v2-source-reference.sct.h5"), "-o", "{out}"], 1,
         "reference values cannot be carried", "an object reference inside source_attributes")

    # --- faults of files and of the system (RELIABILITY.md) ------------------------
    faults(D, C, valid_h5, good)

    with open(os.path.join(HERE, "cases.json"), "w") as f:
        json.dump(cases, f, indent=1)
        f.write("\n")
    counts = {}
    for c in cases:
        counts[c["category"]] = counts.get(c["category"], 0) + 1
    print(f"{len(cases)} cases: " + ", ".join(f"{n} {k}" for k, n in sorted(counts.items())))


if __name__ == "__main__":
    main()
