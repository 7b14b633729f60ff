"""A JPEG encoder for the test-data generators (tests/corpus/make_corpus.py,
tests/fuzz/make_seeds.py): libjpeg's own, through a small C program
compiled once per run with $CC (default cc) against libjpeg62-turbo-dev."""

import atexit
import os
import shutil
import subprocess
import tempfile

# A baseline JPEG written by libjpeg (libjpeg62-turbo-dev): jpeg_set_defaults
# and jpeg_set_quality, standard Huffman tables. Interleaved 8-bit samples on
# stdin, the file on stdout.
CJPEG_SOURCE = r"""
#include <stdio.h>
#include <stdlib.h>
#include <jpeglib.h>

int main(int argc, char** argv)
{
    if (argc != 5) return 2;
    const int width = atoi(argv[1]), height = atoi(argv[2]), channels = atoi(argv[3]), quality = atoi(argv[4]);
    const size_t stride = (size_t)width * channels;
    unsigned char* pixels = malloc(stride * height);
    if (pixels == NULL || fread(pixels, 1, stride * height, stdin) != stride * height) return 3;
    struct jpeg_compress_struct c;
    struct jpeg_error_mgr e;
    c.err = jpeg_std_error(&e); /* errors print and exit */
    jpeg_create_compress(&c);
    jpeg_stdio_dest(&c, stdout);
    c.image_width = width;
    c.image_height = height;
    c.input_components = channels;
    c.in_color_space = channels == 3 ? JCS_RGB : JCS_GRAYSCALE;
    jpeg_set_defaults(&c);
    jpeg_set_quality(&c, quality, TRUE);
    jpeg_start_compress(&c, TRUE);
    while (c.next_scanline < c.image_height) {
        JSAMPROW row = pixels + c.next_scanline * stride;
        jpeg_write_scanlines(&c, &row, 1);
    }
    jpeg_finish_compress(&c);
    jpeg_destroy_compress(&c);
    return fflush(stdout) != 0;
}
"""

_cjpeg = []


def encode(width, height, channels, quality, pixels):
    """`pixels` (interleaved 8-bit samples) as a JPEG, by libjpeg's encoder."""
    if not _cjpeg:
        folder = tempfile.mkdtemp(prefix="signcut-cjpeg-")
        atexit.register(shutil.rmtree, folder, ignore_errors=True)
        source, program = os.path.join(folder, "cjpeg.c"), os.path.join(folder, "cjpeg")
        with open(source, "w") as f:
            f.write(CJPEG_SOURCE)
        subprocess.run([os.environ.get("CC", "cc"), "-O1", "-o", program, source, "-ljpeg"], check=True)
        _cjpeg.append(program)
    run = subprocess.run([_cjpeg[0], str(width), str(height), str(channels), str(quality)], input=pixels,
                         stdout=subprocess.PIPE, check=True)
    assert run.stdout[:3] == b"\xff\xd8\xff", "libjpeg wrote no JPEG"
    return run.stdout
