#!/usr/bin/python3
"""Writes the seed corpora of the fuzz targets (committed; run again only to
change them):

    /usr/bin/python3 tests/fuzz/make_seeds.py

corpus/decomposition/seed-*: scripts for fuzz_decomposition.cpp. A script
is 8 bytes seeding the arrays' contents, then the base file (a head byte:
order - 1, plus 0x80 for a version-1 file; each dimension - 1; version 2:
each block extent - 1; the width; or, with 0x40 in the head, a file
signcut writes: each dimension - 1, each block extent - 1 and a style
byte, see written()), a byte choosing the region read back,
then edits: a target byte (an index into the target's object table), an
edit byte, and the edit's own bytes. The numbers an edit reads use the
target's compact encoding (see Script::number).

corpus/chunk/seed-*: scripts for fuzz_chunk.cpp: chunks the target encodes
and then damages, and streams given as bytes (see chunk_seeds()).

corpus/image/seed-*: small PNG (every colour type and depth, interlaced,
palette with transparency, 16-bit), JPEG (libjpeg-turbo's encoder, through a
small C program compiled here with the system's C compiler; colour and gray)
and PPM/PGM (binary and plain, 8 and 16 bit) files. The committed JPEG seeds
were written when this script used stb_image_write's encoder; libjpeg's
gives other bytes for the same pixels.
"""
import os
import struct
import sys
import zlib

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.dirname(HERE))
import libjpeg_encoder  # noqa: E402  (tests/libjpeg_encoder.py)

# --- decomposition scripts -------------------------------------------------------

# Indices into the target's tables.
(ROOT, GROUP, SCALES, SIGNS, MODE0, MODE1, MODE2, MODE3, WIDTHS, SOURCE_ATTRIBUTES, EXTRA, ELSEWHERE,
 SIGNS_EXTRA, CODECS, STREAM_SIZES, STREAMS) = range(16)
ATTR = {n: i for i, n in enumerate(["signcut_format", "format_version", "method", "shape", "original_dtype", "width",
                                    "scales_refit", "source", "seed", "signcut_version", "rel_fro_error", "created",
                                    "unrelated", "norm2", "block_shape"])}
EDGES = [0, 1, 63, 64, 65, 127, 128, 255, 2 ** 31 - 1, 2 ** 31, 2 ** 32, 2 ** 61 + 1, 2 ** 62, 2 ** 63, 2 ** 64 - 2,
         2 ** 64 - 1]
U8, I8, U16, I16, U32, I32, U64, I64, U64BE, F32, F64BE, I128, COMPOUND, BITFIELD = range(14)
STRINGS = ["signcut-decomposition", "sct", "lplr", "float32", "uint8", "float16", "", "signcut-decomposition ", "SCT",
           "2024-01-01T00:00:00Z", "complex64", "int128"]
REGION = 5  # the region byte of most seeds


def number(v):
    """The shortest encoding of v that Script::number reads back."""
    if v < 32:
        return bytes([v])
    if v < 256:
        return bytes([0x60, v])
    if v < 65536:
        return bytes([0x80]) + struct.pack("<H", v)
    if v in EDGES:
        return bytes([0xa0, EDGES.index(v)])
    return bytes([0xc0]) + struct.pack("<Q", v)


def base(dims, block, width, seed=1, region=REGION):
    """A version-2 file: `width` terms in block 0, a mix in the others."""
    return struct.pack("<Q", seed) + bytes([len(dims) - 1] + [d - 1 for d in dims] + [b - 1 for b in block] +
                                           [width, region])


# The style byte of a file signcut writes: the budget is 0.25 · (1 + low
# four bits) bits per value; then these flags.
ZFP, DEFLATE, FLOAT32_SCALES, SMOOTH_THIRD = 0x10, 0x20, 0x40, 0x80


def written(dims, block, style, seed=1, region=REGION):
    """A file as signcut writes it (head bit 0x40): a tensor of `dims`
    decomposed in blocks of `block` with the `style` byte's budget and
    options, through write_decomposition."""
    assert all(1 <= d <= 64 for d in dims) and all(1 <= b <= d for b, d in zip(block, dims))
    return struct.pack("<Q", seed) + bytes([0x40 | (len(dims) - 1)] + [d - 1 for d in dims] +
                                           [b - 1 for b in block] + [style, region])


def base_v1(dims, width, seed=1, region=REGION):
    return struct.pack("<Q", seed) + bytes([0x80 | (len(dims) - 1)] + [d - 1 for d in dims] + [width, region])


def set_number_attribute(obj, name, type_kind, values, layout="scalar"):
    """Edit 0: an attribute of the root (obj 0) or the group (obj 1), laid
    out as a scalar, a null dataspace, a 1-D array or (rows, cols)."""
    out = bytes([0, 0, obj, ATTR[name]])
    if layout == "scalar":
        out += bytes([0])
    elif layout == "null":
        out += bytes([1])
    elif layout == "1d":
        out += bytes([5, len(values)])
    else:
        rows, cols = layout
        out += bytes([7, rows - 1, cols - 1])
    out += bytes([1, type_kind])  # a numeric type, then which one
    for v in values:
        out += (bytes([0]) + number(v)) if type_kind in (F32, F64BE) else number(v)  # floats: 0 = "a number"
    return out


def set_float_special(obj, name, special):
    """Edit 0: a float32 scalar that is one of the target's specials
    (0, 1, -1, 1e300, NaN, Inf, 6, denormal)."""
    return bytes([0, 0, obj, ATTR[name], 0, 1, F32, 128 + special])


def set_string_attribute(obj, name, text_index, variable=True, size=24):
    """Edit 0 with a string from the target's table, variable-length UTF-8 or
    fixed-length (`size` bytes) ASCII."""
    out = bytes([0, 0, obj, ATTR[name], 0, 4 if variable else 0, text_index])
    return out if variable else out + bytes([size - 1])


def delete_attribute(obj, name):
    return bytes([0, 1, obj, ATTR[name]])


def replace_array(target, type_kind, dims, keep_padding=True, padding_d=0):
    out = bytes([target, 2, type_kind, len(dims)])
    for d in dims:
        out += number(d)
    return out + bytes([1 if keep_padding else 0, padding_d])


def claim(dims, width, block=None):
    """Edit 3: a new shape (version 2: and block shape) and width, with
    arrays that agree with them."""
    out = bytes([0, 3, len(dims) - 1])
    for d in dims:
        out += number(d)
    for b in block or []:
        out += number(b - 1)  # the target reads 1 + number % d
    return out + number(width)


def overwrite(target, index, value, is_float=False):
    out = bytes([target, 4])
    for i in index:
        out += number(i)
    if is_float:
        return out + bytes([128 + value])  # a special: 0, 1, -1, 1e300, NaN, Inf, 6, denormal
    return out + number(value)


def link(target, kind, source=None):
    op = {"delete": 5, "group": 6, "soft": 7, "hard": 8, "external": 9}[kind]
    out = bytes([target, op])
    if kind in ("soft", "hard"):
        out += bytes([source])
    return out


def decomposition_seeds():
    # 20 x 30 in blocks of 7 x 10: a 3 x 3 grid with edge blocks, widths
    # 6 4 2 0 3 1 4 2 0 (22 terms), segments of 13 9 5 0 7 3 8 4 0 bytes
    # (49); block 0's is 6 · 17 = 102 bits, the last two bits of byte 12
    # unused; block 5's last byte is byte 36.
    valid = base([20, 30], [7, 10], 6)
    v1 = base_v1([20, 30], 6)
    # Files signcut writes: version 3 where the allocation gave blocks to
    # zfp (the smooth middle third), version 2 otherwise.
    v3 = written([64, 64], [16, 16], SMOOTH_THIRD | ZFP | DEFLATE | 7)
    seeds = {
        "written-64x64-b16x16-zfp-deflate": v3,
        "written-16x16x16-b8x8x8-zfp": written([16, 16, 16], [8, 8, 8], SMOOTH_THIRD | ZFP | 7, seed=2),
        "written-24x16-b8x8-float32-scales": written([24, 16], [8, 8], FLOAT32_SCALES | 5, seed=3),
        "written-64-b16-deflate": written([64], [16], DEFLATE | 15, seed=4, region=0xff),
        "written-4x4x4x4-b2x4x1x4": written([4, 4, 4, 4], [2, 4, 1, 4], SMOOTH_THIRD | ZFP | 3, seed=5),
        "written-unknown-codec": v3 + overwrite(CODECS, [0], 7),
        "written-stream-size-huge": v3 + overwrite(STREAM_SIZES, [0], 2 ** 32 - 1),
        "written-streams-short": v3 + replace_array(STREAMS, U8, [3]),
        "written-streams-byte": v3 + overwrite(STREAMS, [5], 0xa5),
        "written-no-codecs": v3 + link(CODECS, "delete"),
        "written-v3-as-v2": v3 + set_number_attribute(0, "format_version", I32, [2]),
        "written-scales-uint8": v3 + replace_array(SCALES, U8, [40]),
        "written-signs-overwritten": v3 + overwrite(SIGNS, [1], 0xff),
        "valid-20x30-b7x10-w6": valid,
        "valid-64-b64-w3": base([64], [64], 3, seed=2),
        "valid-65x1x7-b16x1x4-w10": base([65, 1, 7], [16, 1, 4], 10, seed=3),
        "valid-2x2x2x2-b1x2x1x2-w32": base([2, 2, 2, 2], [1, 2, 1, 2], 32, seed=4, region=0x0a),
        "valid-130-b3-w1": base([130], [3], 1, seed=5, region=0xff),
        "valid-width-0": base([9, 9], [9, 9], 0),
        "valid-v1-20x30-w6": v1,
        "valid-v1-65x1x7-w10": base_v1([65, 1, 7], 10, seed=3),
        "v1-padding-bit": v1 + overwrite(MODE0, [3, 0], 2 ** 40),
        "v1-padding-all": v1 + overwrite(MODE1, [0, 0], 2 ** 64 - 1),
        "v1-signs-extra-mode": v1 + replace_array(MODE2, U64, [6, 1], True, 7),
        "v1-delete-mode-1": v1 + link(MODE1, "delete"),
        "v1-claim-2pow31-squared": v1 + claim([2 ** 31, 2 ** 31], 4),
        "v1-soft-mode-1-to-mode-0": base_v1([20, 20], 6) + link(MODE1, "soft", MODE0),
        "width-2pow63": valid + set_number_attribute(1, "width", U64, [2 ** 63]),
        "width-signed-negative": valid + set_number_attribute(1, "width", I64, [2 ** 64 - 1]),
        "width-float": valid + set_number_attribute(1, "width", F32, [22]),
        "width-128-bit": valid + set_number_attribute(1, "width", I128, [22]),
        "width-null": valid + set_number_attribute(1, "width", U64, [], layout="null"),
        "shape-2d": valid + set_number_attribute(1, "shape", U64, [20, 30], layout=(1, 2)),
        "shape-compound": valid + set_number_attribute(1, "shape", COMPOUND, [20, 30], layout="1d"),
        "shape-big-endian": valid + set_number_attribute(1, "shape", U64BE, [20, 30], layout="1d"),
        "shape-zero": valid + set_number_attribute(1, "shape", U32, [20, 0], layout="1d"),
        "block-shape-zero": valid + set_number_attribute(1, "block_shape", U64, [7, 0], layout="1d"),
        "block-shape-too-big": valid + set_number_attribute(1, "block_shape", U64, [21, 10], layout="1d"),
        "block-shape-order-3": valid + set_number_attribute(1, "block_shape", U64, [7, 10, 1], layout="1d"),
        "block-shape-other-grid": valid + set_number_attribute(1, "block_shape", U64, [20, 30], layout="1d"),
        "norm2-nan": valid + set_float_special(1, "norm2", 4),
        "norm2-inf": valid + set_float_special(1, "norm2", 5),
        "norm2-negative": valid + set_float_special(1, "norm2", 2),
        "no-norm2": valid + delete_attribute(1, "norm2"),
        "version-3": valid + set_number_attribute(0, "format_version", I32, [3]),
        "version-0": valid + set_number_attribute(0, "format_version", I32, [0]),
        "version-1-of-a-v2-file": valid + set_number_attribute(0, "format_version", I32, [1]),
        "version-bitfield": valid + set_number_attribute(0, "format_version", BITFIELD, [2]),
        "refit-2": valid + set_number_attribute(1, "scales_refit", U8, [2]),
        "method-lplr": valid + set_string_attribute(1, "method", 2, variable=False, size=5),
        "method-vlen": valid + set_string_attribute(1, "method", 1),
        "format-vlen": valid + set_string_attribute(0, "signcut_format", 0),
        "format-fixed-string-spaces": valid + set_string_attribute(0, "signcut_format", 7, variable=False),
        "dtype-unknown": valid + set_string_attribute(1, "original_dtype", 10, variable=False, size=10),
        "unknown-attribute": valid + set_number_attribute(1, "unrelated", U8, [1]),
        "no-format-version": valid + delete_attribute(0, "format_version"),
        "no-created": valid + delete_attribute(1, "created"),
        "no-block-shape": valid + delete_attribute(1, "block_shape"),
        "claim-2pow31-squared": valid + claim([2 ** 31, 2 ** 31], 4, [2 ** 16, 2 ** 16]),
        "claim-2pow31-squared-whole": valid + claim([2 ** 31, 2 ** 31], 4, [2 ** 31, 2 ** 31]),
        "claim-width-2pow40": valid + claim([20, 30], 2 ** 40, [7, 10]),
        "claim-2pow62-x-4": valid + claim([2 ** 62, 4], 2, [2 ** 62, 1]),
        "claim-order-4-edges": valid + claim([65, 2 ** 32, 63, 2 ** 31], 2 ** 31, [64, 2 ** 32, 1, 2 ** 31]),
        "claim-many-small-blocks": valid + claim([40, 50], 3, [1, 3]),
        "widths-uint64": valid + replace_array(WIDTHS, U64, [9]),
        "widths-int32": valid + replace_array(WIDTHS, I32, [9]),
        "widths-short": valid + replace_array(WIDTHS, U32, [8]),
        "widths-2d": valid + replace_array(WIDTHS, U32, [9, 1]),
        "widths-max": valid + overwrite(WIDTHS, [3], 2 ** 32 - 1),
        "widths-moved": valid + overwrite(WIDTHS, [8], 2) + overwrite(WIDTHS, [2], 0),
        "scales-int32": valid + replace_array(SCALES, I32, [22]),
        "scales-2d": valid + replace_array(SCALES, F32, [22, 1]),
        "scales-scalar": valid + replace_array(SCALES, F32, []),
        "scales-huge-unwritten": valid + replace_array(SCALES, F32, [2 ** 40]),
        "signs-wrong-length": valid + replace_array(SIGNS, U8, [50]),
        "signs-uint64": valid + replace_array(SIGNS, U64, [55]),
        "signs-2d": valid + replace_array(SIGNS, U8, [55, 1]),
        "scale-nan": valid + overwrite(SCALES, [2], 4, is_float=True),
        "scale-inf": valid + overwrite(SCALES, [21], 5, is_float=True),
        "unused-bit": valid + overwrite(SIGNS, [12], 255),
        "unused-bit-last-block": valid + overwrite(SIGNS, [36], 255),
        "delete-widths": valid + link(WIDTHS, "delete"),
        "delete-signs": valid + link(SIGNS, "delete"),
        "delete-group": valid + link(GROUP, "delete"),
        "group-at-scales": valid + link(SCALES, "group"),
        "group-at-signs": valid + link(SIGNS, "group"),
        "extra-dataset": valid + replace_array(EXTRA, F32, [3]),
        "source-attributes-group": valid + link(SOURCE_ATTRIBUTES, "group"),
        "source-attributes-dataset": valid + replace_array(SOURCE_ATTRIBUTES, U8, [1]),
        "soft-scales-to-widths": valid + link(SCALES, "soft", WIDTHS),
        "soft-dangling": valid + link(SCALES, "soft", ELSEWHERE),
        "soft-cycle": valid + link(SIGNS, "soft", GROUP),
        "hard-scales-is-widths": valid + link(SCALES, "hard", WIDTHS),
        "hard-cycle": valid + link(EXTRA, "hard", GROUP),
        "external-scales": valid + link(SCALES, "external"),
        "attribute-on-scales": valid + bytes([SCALES, 10, ATTR["width"], 0, 1, U64]) + number(7),
        "group-is-dataset": valid + replace_array(GROUP, F32, [3]),
        "root-is-broken": valid + link(GROUP, "soft", GROUP),
    }
    return seeds


# --- chunk streams (fuzz_chunk.cpp) -------------------------------------------------

def chunk_head(dims, dtype=0, storage=0):
    """A chunk stream's head: magic, version 1, storage, dtype, order, dims."""
    return b"SCUT" + bytes([1, storage, dtype, len(dims)]) + b"".join(struct.pack("<I", d) for d in dims)


def with_crc(body):
    return body + struct.pack("<I", zlib.crc32(body) & 0xffffffff)


def chunk_script_dims(dims):
    """The target's dims bytes for `dims` (each 1..64, order 1..4)."""
    return bytes([len(dims) - 1] + [d - 1 for d in dims])


def chunk_seeds():
    # Scripts that make a stream: mode (bit 0: CRC made to match after the
    # edits, bit 1: float64), dims (at most 2048 values), style (budget
    # 0.25·(1 + low three bits), plus 2 with 0x08;
    # 0x10 zfp, 0x20 explicit blocks, 0x40 noiseless), [blocks], values seed,
    # then edits (op < 0xf0: xor at a u16 offset; 0xf0-0xf7: cut; 0xf8-: lengthen).
    def made(mode, dims, style, blocks=(), seed=1, edits=b""):
        return bytes([mode]) + chunk_script_dims(dims) + bytes([style]) + bytes(b - 1 for b in blocks) + \
            bytes([seed]) + edits
    seeds = {
        "made-64x32-b16-zfp": made(0, [64, 32], 0x20 | 0x10 | 0x40 | 7, [16, 16]),
        "made-48x40-auto": made(0, [48, 40], 3),
        "made-16x12x3-f64": made(2, [16, 12, 3], 7, seed=2),
        "made-4-raw": made(0, [4], 3),
        "made-32x64-xor-width-crc": made(1, [32, 64], 0x20 | 7, [16, 16], edits=bytes([0, 28, 0, 0x40])),
        "made-32x64-xor-scale-crc": made(1, [32, 64], 0x20 | 7, [16, 16], edits=bytes([0, 40, 0, 0x01])),
        "made-32x64-cut-crc": made(1, [32, 64], 0x20 | 0x10 | 0x40 | 7, [16, 16], edits=bytes([0xf0, 100, 0])),
        "made-32x64-long": made(0, [32, 64], 7, edits=bytes([0xf8, 7, 0xaa])),
        "made-zfp-streams-crc": made(1, [16, 32, 4], 0x20 | 0x10 | 0x40 | 15, [16, 16, 4],
                                     edits=bytes([0, 60, 0, 0x80, 0, 90, 0, 0x7f])),
    }
    # Streams given as bytes (mode 0x80): raw and decomposed heads.
    values = struct.pack("<6f", *[0.5 * i for i in range(6)])
    seeds["bytes-raw-2x3"] = bytes([0x80]) + chunk_script_dims([2, 3]) + with_crc(chunk_head([2, 3]) + values)
    zero = chunk_head([8, 8], storage=1) + struct.pack("<II", 8, 8) + bytes([13, 0, 0, 0])
    seeds["bytes-zero-8x8"] = bytes([0x80]) + chunk_script_dims([8, 8]) + with_crc(zero)
    claims = chunk_head([8, 8], storage=1) + struct.pack("<II", 1, 1) + bytes([13, 32, 0, 0]) + b"\xff" * 16
    seeds["bytes-huge-widths"] = bytes([0x80]) + chunk_script_dims([8, 8]) + with_crc(claims)
    return seeds


# --- images ----------------------------------------------------------------------

def chunk(kind, data):
    body = kind + data
    return struct.pack(">I", len(data)) + body + struct.pack(">I", zlib.crc32(body) & 0xffffffff)


def png(width, height, colour, depth, interlace=0, extra=b"", level=9):
    samples = {0: 1, 2: 3, 3: 1, 4: 2, 6: 4}[colour]
    bits = samples * depth

    def rows(w, h, phase=0):
        out = b""
        for y in range(h):
            n = (w * bits + 7) // 8
            out += bytes([(y + phase) % 5]) + bytes((x * 37 + y * 11 + phase) % 256 for x in range(n))
        return out

    if interlace:
        raw = b""
        x0, y0, dx, dy = [0, 4, 0, 2, 0, 1, 0], [0, 0, 4, 0, 2, 0, 1], [8, 8, 4, 4, 2, 2, 1], [8, 8, 8, 4, 4, 2, 2]
        for p in range(7):
            cols = max(0, (width - x0[p] + dx[p] - 1) // dx[p])
            count = max(0, (height - y0[p] + dy[p] - 1) // dy[p])
            if cols and count:
                raw += rows(cols, count, p)
    else:
        raw = rows(width, height)
    header = struct.pack(">IIBBBBB", width, height, depth, colour, 0, 0, interlace)
    return b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", header) + extra + chunk(b"IDAT", zlib.compress(raw, level)) + \
        chunk(b"IEND", b"")


def jpeg(width, height, channels, quality):
    pixels = bytes((x * 9 + y * 5 + c * 60) % 256 for y in range(height) for x in range(width) for c in range(channels))
    return libjpeg_encoder.encode(width, height, channels, quality, pixels)


def image_seeds():
    palette = chunk(b"PLTE", bytes(range(48)))
    return {
        "gray1.png": png(13, 5, 0, 1),
        "gray4.png": png(9, 4, 0, 4),
        "gray8.png": png(8, 8, 0, 8),
        "gray16.png": png(5, 3, 0, 16),
        "gray-alpha8.png": png(6, 4, 4, 8),
        "rgb8.png": png(7, 5, 2, 8),
        "rgb16.png": png(4, 4, 2, 16),
        "rgba8.png": png(5, 6, 6, 8),
        "rgba16.png": png(3, 3, 6, 16),
        "palette2.png": png(10, 3, 3, 2, extra=palette),
        "palette8-trns.png": png(6, 6, 3, 8, extra=palette + chunk(b"tRNS", bytes([0, 128, 255]))),
        "interlaced-rgb8.png": png(11, 9, 2, 8, interlace=1),
        "interlaced-gray16.png": png(5, 7, 0, 16, interlace=1),
        "stored-blocks.png": png(16, 16, 2, 8, level=0),
        "rgb.jpg": jpeg(17, 11, 3, 90),
        "gray.jpg": jpeg(8, 8, 1, 50),
        "rgb-q10.jpg": jpeg(16, 16, 3, 10),
        "rgb.ppm": b"P6\n3 2\n255\n" + bytes(range(18)),
        "rgb16.ppm": b"P6 2 2 65535\n" + bytes(range(24)),
        "gray.pgm": b"P5\n# a comment\n4 2\n255\n" + bytes(range(8)),
        "gray-maxval-100.pgm": b"P5 3 1 100 " + bytes([0, 50, 100]),
        "plain.pgm": b"P2\n3 2\n1000\n0 1 2\n999 1000 7\n",
        "plain.ppm": b"P3 2 1 255 1 2 3 4 5 6\n",
    }


def main():
    for name, seeds in (("decomposition", decomposition_seeds()), ("image", image_seeds()), ("chunk", chunk_seeds())):
        folder = os.path.join(HERE, "corpus", name)
        for old in os.listdir(folder) if os.path.isdir(folder) else []:
            if old.startswith("seed-"):
                os.remove(os.path.join(folder, old))
        os.makedirs(folder, exist_ok=True)
        for seed_name, data in seeds.items():
            with open(os.path.join(folder, "seed-" + seed_name), "wb") as f:
                f.write(data)
        print(f"{name}: {len(seeds)} seeds")


if __name__ == "__main__":
    main()
