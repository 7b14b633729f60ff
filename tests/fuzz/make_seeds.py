#!/usr/bin/python3
"""Writes the seed corpora of the fuzz targets (committed; run again only to
change them):

    /usr/bin/python3 tests/fuzz/make_seeds.py

corpus/decomposition/seed-*: scripts for fuzz_decomposition.cpp. A script
is 8 bytes seeding the arrays' contents, then the base file (order - 1,
each dimension - 1, width), then edits: a target byte (an index into the
target's object table), an edit byte, and the edit's own bytes. The numbers
an edit reads use the target's compact encoding (see Script::number).

corpus/image/seed-*: small PNG (every colour type and depth, interlaced,
palette with transparency, 16-bit), JPEG (stb's writer, colour and gray) and
PPM/PGM (binary and plain, 8 and 16 bit) files.
"""
import ctypes
import ctypes.util
import os
import struct
import zlib

HERE = os.path.dirname(os.path.abspath(__file__))

# --- decomposition scripts -------------------------------------------------------

# Indices into the target's tables.
ROOT, GROUP, SCALES, SIGNS, MODE0, MODE1, MODE2, MODE3, MODE4, EXTRA, ELSEWHERE = range(11)
ATTR = {n: i for i, n in enumerate(["signcut_format", "format_version", "method", "shape", "original_dtype", "width",
                                    "scales_refit", "source", "seed", "signcut_version", "rel_fro_error", "created",
                                    "unrelated"])}
EDGES = [0, 1, 63, 64, 65, 127, 128, 255, 2 ** 31 - 1, 2 ** 31, 2 ** 32, 2 ** 61 + 1, 2 ** 62, 2 ** 63, 2 ** 64 - 2,
         2 ** 64 - 1]
U8, I8, U16, I16, U32, I32, U64, I64, U64BE, F32, F64BE, I128, COMPOUND, BITFIELD = range(14)
STRINGS = ["signcut-decomposition", "sct", "lplr", "float32", "uint8", "float16", "", "signcut-decomposition ", "SCT",
           "2024-01-01T00:00:00Z", "complex64", "int128"]


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


def base(dims, width, seed=1):
    return struct.pack("<Q", seed) + bytes([len(dims) - 1] + [d - 1 for d in dims] + [width])


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


def claim(dims, width):
    out = bytes([0, 3, len(dims) - 1])
    for d in dims:
        out += number(d)
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
    valid = base([20, 30], 6)
    seeds = {
        "valid-20x30-w6": valid,
        "valid-64-w3": base([64], 3, seed=2),
        "valid-65x1x7-w10": base([65, 1, 7], 10, seed=3),
        "valid-2x2x2x2-w32": base([2, 2, 2, 2], 32, seed=4),
        "valid-width-0": base([9, 9], 0),
        "width-2pow63": valid + set_number_attribute(1, "width", U64, [2 ** 63]),
        "width-signed-negative": valid + set_number_attribute(1, "width", I64, [2 ** 64 - 1]),
        "width-float": valid + set_number_attribute(1, "width", F32, [6]),
        "width-128-bit": valid + set_number_attribute(1, "width", I128, [6]),
        "width-null": valid + set_number_attribute(1, "width", U64, [], layout="null"),
        "shape-2d": valid + set_number_attribute(1, "shape", U64, [20, 30], layout=(1, 2)),
        "shape-compound": valid + set_number_attribute(1, "shape", COMPOUND, [20, 30], layout="1d"),
        "shape-big-endian": valid + set_number_attribute(1, "shape", U64BE, [20, 30], layout="1d"),
        "shape-zero": valid + set_number_attribute(1, "shape", U32, [20, 0], layout="1d"),
        "version-2": valid + set_number_attribute(0, "format_version", I32, [2]),
        "version-bitfield": valid + set_number_attribute(0, "format_version", BITFIELD, [1]),
        "refit-2": valid + set_number_attribute(1, "scales_refit", U8, [2]),
        "method-lplr": valid + set_string_attribute(1, "method", 2),
        "format-fixed-string": valid + set_string_attribute(0, "signcut_format", 7, variable=False),
        "dtype-unknown": valid + set_string_attribute(1, "original_dtype", 10),
        "no-format-version": valid + delete_attribute(0, "format_version"),
        "no-created": valid + delete_attribute(1, "created"),
        "claim-2pow31-squared": valid + claim([2 ** 31, 2 ** 31], 4),
        "claim-width-2pow40": valid + claim([20, 30], 2 ** 40),
        "claim-2pow62-x-4": valid + claim([2 ** 62, 4], 2),
        "claim-order-4-edges": valid + claim([65, 2 ** 32, 63, 2 ** 31], 2 ** 31),
        "scales-int32": valid + replace_array(SCALES, I32, [6]),
        "scales-2d": valid + replace_array(SCALES, F32, [6, 1]),
        "scales-scalar": valid + replace_array(SCALES, F32, []),
        "scales-huge-unwritten": valid + replace_array(SCALES, F32, [2 ** 40]),
        "signs-wrong-words": valid + replace_array(MODE1, U64, [6, 5]),
        "signs-int64": valid + replace_array(MODE0, I64, [6, 1]),
        "signs-extra-mode": valid + replace_array(MODE2, U64, [6, 1], True, 7),
        "signs-3d": valid + replace_array(MODE0, U64, [6, 1, 1]),
        "scale-nan": valid + overwrite(SCALES, [2], 4, is_float=True),
        "scale-inf": valid + overwrite(SCALES, [5], 5, is_float=True),
        "padding-bit": valid + overwrite(MODE0, [3, 0], 2 ** 40),
        "padding-all": valid + overwrite(MODE1, [0, 0], 2 ** 64 - 1),
        "delete-mode-1": valid + link(MODE1, "delete"),
        "delete-signs": valid + link(SIGNS, "delete"),
        "delete-group": valid + link(GROUP, "delete"),
        "group-at-scales": valid + link(SCALES, "group"),
        "group-at-mode-0": valid + link(MODE0, "group"),
        "soft-mode-1-to-mode-0": base([20, 20], 6) + link(MODE1, "soft", MODE0),
        "soft-dangling": valid + link(SCALES, "soft", ELSEWHERE),
        "soft-cycle": valid + link(SIGNS, "soft", GROUP),
        "hard-mode-1-is-mode-0": base([20, 20], 6) + link(MODE1, "hard", MODE0),
        "hard-cycle": valid + link(EXTRA, "hard", GROUP),
        "external-scales": valid + link(SCALES, "external"),
        "attribute-on-scales": valid + bytes([SCALES, 10, ATTR["width"], 0, 1, U64]) + number(7),
        "group-is-dataset": valid + replace_array(GROUP, F32, [3]),
        "root-is-broken": valid + link(GROUP, "soft", GROUP),
    }
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
    lib = ctypes.CDLL(ctypes.util.find_library("stb") or "libstb.so.0")
    out = []
    callback_type = ctypes.CFUNCTYPE(None, ctypes.c_void_p, ctypes.c_void_p, ctypes.c_int)
    callback = callback_type(lambda _ctx, data, size: out.append(ctypes.string_at(data, size)))
    pixels = bytes((x * 9 + y * 5 + c * 60) % 256 for y in range(height) for x in range(width) for c in range(channels))
    assert lib.stbi_write_jpg_to_func(callback, None, width, height, channels, pixels, quality)
    return b"".join(out)


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
    for name, seeds in (("decomposition", decomposition_seeds()), ("image", image_seeds())):
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
