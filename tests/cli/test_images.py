#!/usr/bin/python3
"""End-to-end tests of the `signcut` binary. Image outputs: the format the extension names, sample ranges refused or scaled.

Outputs are read back without signcut where the standard library allows it
(PNM by hand, PNG through zlib), and JPEG by its markers and through signcut's
own reader (`eval`). Inputs are small synthetic images and HDF5 fields.

usage: test_images.py SIGNCUT_BINARY SOURCE_ROOT REPORT_XML
"""
import functools
import os
import struct
import sys
import zlib

import h5py
import numpy as np

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), os.pardir))
from signcut_testing import CliCase, digest, run_signcut, run_signcut_json, run_suite  # noqa: E402,F401

SIGNCUT, ROOT, REPORT = sys.argv[1], sys.argv[2], sys.argv[3]
run = functools.partial(run_signcut, SIGNCUT)
run_json = functools.partial(run_signcut_json, SIGNCUT)


# --- readers that do not go through signcut ------------------------------------

def read_pnm(path):
    """A binary PPM (P6) or PGM (P5): H x W x 3 or H x W, uint8 or uint16 (big-endian samples)."""
    with open(path, "rb") as f:
        data = f.read()
    fields, pos = [], 0
    while len(fields) < 4:
        while data[pos:pos + 1].isspace():
            pos += 1
        start = pos
        while not data[pos:pos + 1].isspace():
            pos += 1
        fields.append(data[start:pos])
    pos += 1  # the one whitespace byte after maxval
    magic, width, height, maxval = fields[0], int(fields[1]), int(fields[2]), int(fields[3])
    assert magic in (b"P5", b"P6"), magic
    channels = 3 if magic == b"P6" else 1
    dtype = ">u2" if maxval > 255 else "u1"
    samples = np.frombuffer(data[pos:], dtype=dtype)
    assert samples.size == width * height * channels, (samples.size, width, height, channels)
    shape = (height, width, 3) if channels == 3 else (height, width)
    return samples.reshape(shape), maxval


def read_png(path):
    """An 8-bit gray or RGB PNG, non-interlaced, decoded with zlib: H x W (x 3) uint8."""
    with open(path, "rb") as f:
        data = f.read()
    assert data[:8] == b"\x89PNG\r\n\x1a\n", data[:8]
    pos, idat, header = 8, b"", None
    while pos < len(data):
        length, kind = struct.unpack(">I4s", data[pos:pos + 8])
        body = data[pos + 8:pos + 8 + length]
        if kind == b"IHDR":
            header = struct.unpack(">IIBBBBB", body)
        elif kind == b"IDAT":
            idat += body
        pos += 12 + length
    width, height, depth, colour, _, _, interlace = header
    assert depth == 8 and colour in (0, 2) and interlace == 0, header
    bpp = 3 if colour == 2 else 1
    raw = zlib.decompress(idat)
    stride = width * bpp
    out = np.zeros((height, stride), np.uint8)
    prev = np.zeros(stride, np.int32)
    for y in range(height):
        kind = raw[y * (stride + 1)]
        line = np.frombuffer(raw, np.uint8, stride, y * (stride + 1) + 1).astype(np.int32)
        cur = np.zeros(stride, np.int32)
        for i in range(stride):
            a = cur[i - bpp] if i >= bpp else 0
            b = prev[i]
            c = prev[i - bpp] if i >= bpp else 0
            if kind == 0:
                pred = 0
            elif kind == 1:
                pred = a
            elif kind == 2:
                pred = b
            elif kind == 3:
                pred = (a + b) // 2
            else:
                p = a + b - c
                pa, pb, pc = abs(p - a), abs(p - b), abs(p - c)
                pred = a if pa <= pb and pa <= pc else (b if pb <= pc else c)
            cur[i] = (line[i] + pred) & 0xff
        out[y] = cur
        prev = cur
    return out.reshape((height, width, 3) if bpp == 3 else (height, width))


def jpeg_frame(path):
    """(height, width, [(h, v) sampling of each component], first luminance quantiser) of a baseline JPEG."""
    with open(path, "rb") as f:
        data = f.read()
    assert data[:3] == b"\xff\xd8\xff", data[:3]
    pos, quant = 2, None
    while pos < len(data):
        assert data[pos] == 0xFF, pos
        marker = data[pos + 1]
        length = struct.unpack(">H", data[pos + 2:pos + 4])[0]
        body = data[pos + 4:pos + 2 + length]
        if marker == 0xDB and quant is None:
            quant = body[1]  # table 0, 8-bit, first entry (zig-zag order: DC)
        if marker == 0xC0:  # baseline
            height, width, n = struct.unpack(">HHB", body[1:6])
            sampling = [(body[6 + 3 * i + 1] >> 4, body[6 + 3 * i + 1] & 15) for i in range(n)]
            return height, width, sampling, quant
        assert marker != 0xC2, "progressive, expected baseline"
        pos += 2 + length
    raise AssertionError("no baseline frame header")


def round_clip(x, hi=255):
    """What a writer stores: rounded half away from zero, then clamped."""
    r = np.sign(x) * np.floor(np.abs(x.astype(np.float64)) + 0.5)
    return np.clip(r, 0, hi)


def write_pnm(path, img):
    img = np.asarray(img, np.uint8)
    magic = b"P6" if img.ndim == 3 else b"P5"
    with open(path, "wb") as f:
        f.write(magic + b"\n%d %d\n255\n" % (img.shape[1], img.shape[0]) + img.tobytes())
    return path


def synthetic_rgb():
    """24 x 32 RGB: a saturated checkerboard (whose reconstruction overshoots 0..255) and two ramps."""
    y, x = np.mgrid[0:24, 0:32]
    r = np.where((x // 8 + y // 8) % 2 == 0, 255, 0)
    g = np.clip(x * 8, 0, 255)
    b = np.clip(255 - y * 10, 0, 255)
    return np.stack([r, g, b], -1).astype(np.uint8)


def smooth_gray():
    y, x = np.mgrid[0:24, 0:32]
    return (128 + 60 * np.sin(x / 5.0) * np.cos(y / 4.0)).astype(np.uint8)


class CliImages(CliCase):
    binary = SIGNCUT

    def setUp(self):
        super().setUp()
        self.rgb = write_pnm(self.path("in.ppm"), synthetic_rgb())
        self.gray = write_pnm(self.path("in.pgm"), smooth_gray())

    def reconstruction(self, decomposition):
        """The float32 reconstruction `decompress --dtype float32` writes."""
        out = self.path("recon.h5")
        run("decompress", decomposition, "-o", out, "--dtype", "float32", "--force", "-q")
        with h5py.File(out, "r") as f:
            return f["data"][()]

    def field(self, name, data):
        """An HDF5 field `data` and its decomposition (2 bits per value); returns the decomposition's path."""
        src = self.h5(name + ".h5", data)
        dec = self.path(name + ".sct.h5")
        run("compress", src, "-o", dec, "-b", "2", "-q")
        return dec

    # --- each format by its extension ----------------------------------------------

    def test_image_writes_png_ppm_and_pgm_exactly(self):
        for src, ext in ((self.rgb, "png"), (self.rgb, "ppm"), (self.gray, "png"), (self.gray, "pgm"),
                         (self.rgb, "PPM")):
            with self.subTest(src=src, ext=ext):
                out, saved = self.path("out." + ext), self.path("out.sct.h5")
                j = run_json("image", src, "-o", out, "-b", "1", "--save", saved, "--force")
                x = self.reconstruction(saved)
                stored = read_png(out) if ext == "png" else read_pnm(out)[0]
                self.assertEqual(stored.shape, x.shape)
                np.testing.assert_array_equal(stored, round_clip(x))
                if ext != "png":
                    self.assertEqual(read_pnm(out)[1], 255)
                # png_psnr_db is what the file holds against the original.
                original = synthetic_rgb() if src == self.rgb else smooth_gray()
                mse = np.mean((stored.astype(np.float64) - original) ** 2)
                peak = float(original.max()) - float(original.min())  # PSNR over the original's range
                self.assertAlmostEqual(j["png_psnr_db"], 20 * np.log10(peak / np.sqrt(mse)), places=3)

    def test_image_writes_jpeg(self):
        for src, ext, components in ((self.rgb, "jpg", 3), (self.gray, "jpeg", 1), (self.rgb, "JPG", 3)):
            with self.subTest(ext=ext):
                out, saved = self.path("out." + ext), self.path("out.sct.h5")
                p = run("image", src, "-o", out, "-b", "2", "--save", saved, "--force")
                self.assertIn("JPEG output PSNR", p.stderr)
                height, width, sampling, quant = jpeg_frame(out)
                self.assertEqual((height, width, len(sampling)), (24, 32, components))
                self.assertEqual(set(sampling), {(1, 1)})  # 4:4:4, no chroma subsampling
                self.assertEqual(quant, 2)  # quality 95: the standard DC quantiser 16 scaled by 10 %
                # signcut reads it back as an image of the same shape, close
                # to the reconstruction it holds.
                j = run_json("eval", out, saved)
                self.assertLess(j["rel_fro_error"], 0.03)

    def test_decompress_writes_each_format(self):
        dec = self.path("rgb.sct.h5")
        run("compress", self.rgb, "-o", dec, "-b", "1", "-q")
        x = round_clip(self.reconstruction(dec))
        for ext in ("png", "ppm", "jpg"):
            with self.subTest(ext=ext):
                out = self.path("d." + ext)
                run("decompress", dec, "-o", out)
                if ext == "png":
                    np.testing.assert_array_equal(read_png(out), x)
                elif ext == "ppm":
                    np.testing.assert_array_equal(read_pnm(out)[0], x)
                else:
                    self.assertEqual(jpeg_frame(out)[:2], (24, 32))

    def test_sixteen_bit_sources(self):
        # A uint16 field: PGM keeps 16 bits (maxval 65535, big-endian); PNG
        # and JPEG are 8-bit and say so.
        y, x = np.mgrid[0:24, 0:32]
        dec = self.field("u16", (30000 + 20000 * np.sin(x / 5.0) * np.cos(y / 4.0)).astype("<u2"))
        recon = self.reconstruction(dec)
        out = self.path("d.pgm")
        p = run("decompress", dec, "-o", out)
        self.assertNotIn("8-bit", p.stderr)
        stored, maxval = read_pnm(out)
        self.assertEqual((maxval, stored.dtype.str), (65535, ">u2"))
        np.testing.assert_array_equal(stored, round_clip(recon, 65535))
        for ext, name in (("png", "PNG"), ("jpg", "JPEG")):
            p = run("decompress", dec, "-o", self.path("d." + ext))
            self.assertIn(f"{name} output is 8-bit; samples were scaled by 255/65535", p.stderr)
        np.testing.assert_array_equal(read_png(self.path("d.png")), round_clip(recon * (255 / 65535)))

    # --- refusals of the output's name ----------------------------------------------

    def test_unknown_and_foreign_extensions_are_refused(self):
        dec = self.path("rgb.sct.h5")
        run("compress", self.rgb, "-o", dec, "-q")
        for ext, fragment in (("bmp", "does not write BMP"), ("tif", "does not write TIFF"),
                              ("TIFF", "does not write TIFF"), ("webp", "does not write WebP"),
                              ("gif", "does not write GIF"), ("pnm", ".ppm for RGB or .pgm for gray")):
            out = self.path("out." + ext)
            with self.subTest(ext=ext):
                self.refuse(["image", self.rgb, "-o", out], 2, fragment, [self.rgb], out)
                self.refuse(["decompress", dec, "-o", out], 2, fragment, [dec], out)
        # Not an image name at all: image refuses it; decompress writes HDF5 there.
        out = self.path("out.h5")
        self.refuse(["image", self.rgb, "-o", out], 2, "must be a .png, .jpg, .jpeg, .ppm or .pgm file",
                    [self.rgb], out)
        self.refuse(["image", self.rgb, "-o", self.path("noext")], 2, "must be a .png", [self.rgb],
                    self.path("noext"))

    def test_gray_to_ppm_and_rgb_to_pgm_are_refused(self):
        ppm, pgm = self.path("out.ppm"), self.path("out.pgm")
        self.refuse(["image", self.gray, "-o", ppm], 1, "name the output .pgm", [self.gray], ppm)
        self.refuse(["image", self.rgb, "-o", pgm], 1, "name the output .ppm", [self.rgb], pgm)
        dec = self.path("rgb.sct.h5")
        run("compress", self.rgb, "-o", dec, "-q")
        self.refuse(["decompress", dec, "-o", pgm], 1, "PGM holds gray (HxW) and the data is RGB (24x32x3)",
                    [dec], pgm)

    # --- the sample range -----------------------------------------------------------

    def test_topography_is_refused_without_scale(self):
        y, x = np.mgrid[0:24, 0:32]
        dec = self.field("topo", (-10000 + 18000 * (x + 32 * y) / (24 * 32 - 1)).astype("<f4"))
        for ext in ("png", "jpg", "pgm"):
            out = self.path("topo." + ext)
            with self.subTest(ext=ext):
                self.refuse(["decompress", dec, "-o", out], 1, "--scale maps min..max onto 0..255", [dec], out)
                self.refuse(["decompress", dec, "-o", out], 1, "outside 0..255", [dec], out)

    def test_unit_range_float_is_refused_without_scale(self):
        y, x = np.mgrid[0:24, 0:32]
        dec = self.field("unit", (0.5 + 0.4 * np.sin(x / 5.0) * np.cos(y / 4.0)).astype("<f4"))
        out = self.path("unit.png")
        self.refuse(["decompress", dec, "-o", out], 1, "the float data runs only from", [dec], out)

    def test_decompress_scale_maps_min_max_onto_the_sample_range(self):
        y, x = np.mgrid[0:24, 0:32]
        dec = self.field("topo", (-10000 + 18000 * (x + 32 * y) / (24 * 32 - 1)).astype("<f4"))
        recon = self.reconstruction(dec).astype(np.float64)
        out = self.path("topo.png")
        p = run("decompress", dec, "-o", out, "--scale")
        self.assertIn(f"scaled {recon.min():.6g}..{recon.max():.6g} to 0..255 (--scale)", p.stderr)
        stored = read_png(out)
        self.assertEqual((stored.min(), stored.max()), (0, 255))
        expected = round_clip((recon - recon.min()) * 255 / (recon.max() - recon.min()))
        self.assertLessEqual(np.abs(stored - expected).max(), 1)  # float32 vs float64 arithmetic at .5

    def test_image_scale_maps_min_max_onto_the_sample_range(self):
        out, saved = self.path("out.png"), self.path("out.sct.h5")
        p = run("image", self.rgb, "-o", out, "-b", "1", "--scale", "--save", saved)
        recon = self.reconstruction(saved).astype(np.float64)
        self.assertIn(f"scaled {recon.min():.6g}..{recon.max():.6g} to 0..255 (--scale)", p.stderr)
        self.assertNotIn("clamped", p.stderr)
        stored = read_png(out)
        self.assertEqual((stored.min(), stored.max()), (0, 255))

    def test_overshoot_of_an_image_is_clamped_with_a_warning(self):
        # The checkerboard's saturated edges ring: the reconstruction leaves
        # 0..255, and the writer clamps those samples, saying how many.
        out, saved = self.path("out.png"), self.path("out.sct.h5")
        p = run("image", self.rgb, "-o", out, "-b", "1", "--save", saved)
        recon = self.reconstruction(saved).astype(np.float64)
        outside = int(np.sum((recon <= -0.5) | (recon >= 255.5)))
        self.assertGreater(outside, 0)
        self.assertIn(f"signcut: warning: {out}: clamped {outside} samples", p.stderr)
        self.assertIn(f"the data runs from {recon.min():.6g} to {recon.max():.6g}", p.stderr)
        np.testing.assert_array_equal(read_png(out), round_clip(recon))

    def test_float_field_near_the_range_is_clamped_with_a_warning(self):
        # An image stored as float32: its overshoot is clamped too.
        dec = self.field("photo", synthetic_rgb().astype("<f4"))
        recon = self.reconstruction(dec).astype(np.float64)
        out = self.path("photo.ppm")
        p = run("decompress", dec, "-o", out)
        if ((recon <= -0.5) | (recon >= 255.5)).any():
            self.assertIn("clamped", p.stderr)
        np.testing.assert_array_equal(read_pnm(out)[0], round_clip(recon))

    def test_in_range_output_has_no_warning(self):
        p = run("image", self.gray, "-o", self.path("out.pgm"), "-b", "2")
        self.assertNotIn("warning", p.stderr)


if __name__ == "__main__":
    run_suite(CliImages, "cli-images", REPORT)
