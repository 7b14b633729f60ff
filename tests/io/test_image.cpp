// Images: PNG (8 and 16 bit), JPEG, PPM and PGM in; PNG, JPEG, PPM and PGM out, with their sample-range rules.
#include <boost/test/unit_test.hpp>

#include <csetjmp>
#include <cstdio>
// jpeglib.h needs FILE and size_t declared before it.
#include <jpeglib.h>
#include <png.h>

#include <cmath>
#include <cstring>
#include <limits>

#include "io_test_support.hpp"
#include "signcut/hdf5.hpp"
#include "signcut/image.hpp"

using namespace signcut;
using namespace signcut::testing;

namespace {

// --- a minimal PNG encoder (stored deflate blocks), for 16-bit images and
// for headers that promise more than the file holds ---------------------------

std::uint32_t crc32(const unsigned char* p, std::size_t n, std::uint32_t crc = 0)
{
    crc = ~crc;
    for (std::size_t i = 0; i < n; ++i) {
        crc ^= p[i];
        for (int k = 0; k < 8; ++k) crc = (crc >> 1) ^ (0xedb88320u & (0u - (crc & 1u)));
    }
    return ~crc;
}

void put_be32(std::vector<unsigned char>& out, std::uint32_t v)
{
    for (int s = 24; s >= 0; s -= 8) out.push_back(static_cast<unsigned char>(v >> s));
}

void put_chunk(std::vector<unsigned char>& out, const char* type, const std::vector<unsigned char>& data)
{
    put_be32(out, static_cast<std::uint32_t>(data.size()));
    std::vector<unsigned char> body(type, type + 4);
    body.insert(body.end(), data.begin(), data.end());
    out.insert(out.end(), body.begin(), body.end());
    put_be32(out, crc32(body.data(), body.size()));
}

std::vector<unsigned char> png_signature() { return {0x89, 'P', 'N', 'G', '\r', '\n', 0x1a, '\n'}; }

std::vector<unsigned char> ihdr(std::uint32_t width, std::uint32_t height, int depth, int channels)
{
    static const int colour_type[5] = {0, 0, 4, 2, 6};  // gray, gray+alpha, RGB, RGBA
    std::vector<unsigned char> d;
    put_be32(d, width);
    put_be32(d, height);
    d.push_back(static_cast<unsigned char>(depth));
    d.push_back(static_cast<unsigned char>(colour_type[channels]));
    d.push_back(0);  // deflate
    d.push_back(0);  // adaptive filtering
    d.push_back(0);  // no interlace
    return d;
}

/// A 16-bit PNG of `samples` (row-major, interleaved channels).
std::vector<unsigned char> png16(std::uint32_t width, std::uint32_t height, int channels,
                                 const std::vector<std::uint16_t>& samples)
{
    std::vector<unsigned char> raw;
    for (std::uint32_t y = 0; y < height; ++y) {
        raw.push_back(0);  // filter type "none"
        for (std::uint32_t x = 0; x < width * static_cast<std::uint32_t>(channels); ++x) {
            const std::uint16_t s = samples[y * width * static_cast<std::uint32_t>(channels) + x];
            raw.push_back(static_cast<unsigned char>(s >> 8));  // big-endian samples
            raw.push_back(static_cast<unsigned char>(s & 0xff));
        }
    }
    std::vector<unsigned char> z{0x78, 0x01};
    for (std::size_t pos = 0; pos < raw.size() || pos == 0;) {
        const std::size_t n = std::min<std::size_t>(65535, raw.size() - pos);
        const bool last = pos + n == raw.size();
        z.push_back(last ? 1 : 0);
        z.push_back(static_cast<unsigned char>(n & 0xff));
        z.push_back(static_cast<unsigned char>(n >> 8));
        z.push_back(static_cast<unsigned char>(~n & 0xff));
        z.push_back(static_cast<unsigned char>((~n >> 8) & 0xff));
        z.insert(z.end(), raw.begin() + static_cast<std::ptrdiff_t>(pos), raw.begin() + static_cast<std::ptrdiff_t>(pos + n));
        pos += n;
        if (last) break;
    }
    std::uint32_t a = 1, b = 0;
    for (const unsigned char c : raw) {
        a = (a + c) % 65521;
        b = (b + a) % 65521;
    }
    put_be32(z, (b << 16) | a);

    std::vector<unsigned char> png = png_signature();
    put_chunk(png, "IHDR", ihdr(width, height, 16, channels));
    put_chunk(png, "IDAT", z);
    put_chunk(png, "IEND", {});
    return png;
}

/// A PNG with a valid header and no pixel data at all.
std::vector<unsigned char> png_header_only(std::uint32_t width, std::uint32_t height)
{
    std::vector<unsigned char> png = png_signature();
    put_chunk(png, "IHDR", ihdr(width, height, 8, 1));
    put_chunk(png, "IEND", {});
    return png;
}

void write_vector(const std::string& path, const std::vector<unsigned char>& bytes)
{
    write_bytes(path, bytes.data(), bytes.size());
}

std::vector<float> values_of(const Tensor& t) { return {t.begin(), t.end()}; }

// --- inputs written by libpng and libjpeg themselves -------------------------------

/// A PNG's layout for libpng_write: rows are packed as PNG stores them
/// (bits of 1-, 2- and 4-bit samples from the high end; 16-bit samples
/// big-endian).
struct PngLayout {
    png_uint_32 width = 0, height = 0;
    int depth = 8;
    int colour = PNG_COLOR_TYPE_GRAY;
    int interlace = PNG_INTERLACE_NONE;
    const png_color* palette = nullptr;
    int palette_size = 0;
    const png_byte* trans = nullptr;  ///< palette alpha
    int trans_size = 0;
    const png_color_16* trans_colour = nullptr;  ///< the transparent gray or RGB value
};

/// Writes `rows` as a PNG with libpng's own writer. Only plain data lives in
/// this frame (the error handler long-jumps back into it).
bool libpng_write(const char* path, const PngLayout* l, const png_byte* const* rows)
{
    std::FILE* f = std::fopen(path, "wb");
    if (f == nullptr) return false;
    png_structp png = png_create_write_struct(PNG_LIBPNG_VER_STRING, nullptr, nullptr, nullptr);
    png_infop info = png != nullptr ? png_create_info_struct(png) : nullptr;
    if (info == nullptr || setjmp(png_jmpbuf(png)) != 0) {
        png_destroy_write_struct(&png, &info);
        std::fclose(f);
        return false;
    }
    png_init_io(png, f);
    png_set_IHDR(png, info, l->width, l->height, l->depth, l->colour, l->interlace, PNG_COMPRESSION_TYPE_DEFAULT,
                 PNG_FILTER_TYPE_DEFAULT);
    if (l->palette != nullptr) png_set_PLTE(png, info, l->palette, l->palette_size);
    if (l->trans != nullptr || l->trans_colour != nullptr)
        png_set_tRNS(png, info, l->trans, l->trans_size, l->trans_colour);
    png_write_info(png, info);
    png_write_image(png, const_cast<png_bytepp>(rows));  // interlaces by itself (Adam7) when asked to
    png_write_end(png, nullptr);
    png_destroy_write_struct(&png, &info);
    return std::fclose(f) == 0;
}

/// A PNG of `bytes` (H rows of `bytes.size() / H` packed bytes).
void write_png_rows(const std::string& path, const PngLayout& l, const std::vector<unsigned char>& bytes)
{
    const std::size_t stride = bytes.size() / l.height;
    std::vector<const png_byte*> rows;
    for (png_uint_32 y = 0; y < l.height; ++y) rows.push_back(bytes.data() + y * stride);
    BOOST_TEST_REQUIRE(libpng_write(path.c_str(), &l, rows.data()), "libpng could not write " << path);
}

/// 16-bit samples as PNG stores them, big-endian.
std::vector<unsigned char> big_endian(const std::vector<std::uint16_t>& samples)
{
    std::vector<unsigned char> out;
    for (const std::uint16_t v : samples) {
        out.push_back(static_cast<unsigned char>(v >> 8));
        out.push_back(static_cast<unsigned char>(v & 0xff));
    }
    return out;
}

struct JpegWriteError {
    jpeg_error_mgr manager;  // first: libjpeg's pointer to it is a pointer to this
    std::jmp_buf jump;
};

void jpeg_write_failed(j_common_ptr cinfo) { std::longjmp(reinterpret_cast<JpegWriteError*>(cinfo->err)->jump, 1); }

/// Writes 8-bit RGB, gray or CMYK (4 channels, Adobe's inverted form)
/// samples as a JPEG with libjpeg's defaults (4:2:0 chroma subsampling for
/// RGB) at `quality`, into memory from malloc.
bool libjpeg_write(const unsigned char* samples, int width, int height, int channels, int quality,
                   unsigned char** out, unsigned long* size)
{
    jpeg_compress_struct cinfo;
    JpegWriteError err;
    cinfo.err = jpeg_std_error(&err.manager);
    err.manager.error_exit = jpeg_write_failed;
    if (setjmp(err.jump) != 0) {
        jpeg_destroy_compress(&cinfo);
        return false;
    }
    jpeg_create_compress(&cinfo);
    jpeg_mem_dest(&cinfo, out, size);
    cinfo.image_width = static_cast<JDIMENSION>(width);
    cinfo.image_height = static_cast<JDIMENSION>(height);
    cinfo.input_components = channels;
    cinfo.in_color_space = channels == 4 ? JCS_CMYK : channels == 3 ? JCS_RGB : JCS_GRAYSCALE;
    jpeg_set_defaults(&cinfo);
    jpeg_set_quality(&cinfo, quality, TRUE);
    jpeg_start_compress(&cinfo, TRUE);
    while (cinfo.next_scanline < cinfo.image_height) {
        JSAMPROW row = const_cast<JSAMPROW>(samples + std::size_t{cinfo.next_scanline} * std::size_t(width * channels));
        jpeg_write_scanlines(&cinfo, &row, 1);
    }
    jpeg_finish_compress(&cinfo);
    jpeg_destroy_compress(&cinfo);
    return true;
}

/// The bytes of a JPEG of `samples` written by libjpeg.
std::vector<unsigned char> jpeg_bytes(const std::vector<unsigned char>& samples, int width, int height, int channels,
                                      int quality)
{
    unsigned char* data = nullptr;
    unsigned long size = 0;
    const bool ok = libjpeg_write(samples.data(), width, height, channels, quality, &data, &size);
    std::vector<unsigned char> out(data, data + (ok ? size : 0));
    std::free(data);
    BOOST_TEST_REQUIRE(ok, "libjpeg could not write the test's JPEG");
    return out;
}
Shape shape_of(const Tensor& t) { return {t.shape().begin(), t.shape().end()}; }

}  // namespace

BOOST_AUTO_TEST_SUITE(image)

BOOST_AUTO_TEST_CASE(png_rgb_and_gray)
{
    ScratchDir dir;
    std::vector<unsigned char> rgb(5 * 7 * 3), gray(4 * 6);
    for (std::size_t i = 0; i < rgb.size(); ++i) rgb[i] = static_cast<unsigned char>((i * 37 + 11) % 256);
    for (std::size_t i = 0; i < gray.size(); ++i) gray[i] = static_cast<unsigned char>(255 - i * 10);
    const std::string prgb = dir.file("rgb.png"), pgray = dir.file("gray.png");
    PngLayout l;
    l.width = 7;
    l.height = 5;
    l.colour = PNG_COLOR_TYPE_RGB;
    write_png_rows(prgb, l, rgb);
    l.width = 6;
    l.height = 4;
    l.colour = PNG_COLOR_TYPE_GRAY;
    write_png_rows(pgray, l, gray);

    std::vector<std::string> warnings;
    ImageInfo info;
    const Tensor t = read_image(prgb, UINT64_MAX, &warnings, &info);
    BOOST_TEST(shape_of(t) == Shape({5, 7, 3}), boost::test_tools::per_element());
    BOOST_TEST(values_of(t) == std::vector<float>(rgb.begin(), rgb.end()), boost::test_tools::per_element());
    BOOST_TEST(warnings.empty());
    BOOST_TEST(info.format == "png");
    BOOST_TEST((info.height == 5 && info.width == 7 && info.channels == 3 && info.bits_per_channel == 8));

    const Tensor g = read_image(pgray, UINT64_MAX, &warnings);
    BOOST_TEST(shape_of(g) == Shape({4, 6}), boost::test_tools::per_element());
    BOOST_TEST(values_of(g) == std::vector<float>(gray.begin(), gray.end()), boost::test_tools::per_element());
    BOOST_TEST(warnings.empty());

    const ImageInfo gi = inspect_image(pgray);
    BOOST_TEST((gi.format == "png" && gi.height == 4 && gi.width == 6 && gi.channels == 1 && gi.bits_per_channel == 8));
}

BOOST_AUTO_TEST_CASE(alpha_is_dropped_with_a_warning)
{
    ScratchDir dir;
    std::vector<unsigned char> rgba(3 * 4 * 4), ga(3 * 4 * 2);
    for (std::size_t i = 0; i < rgba.size(); ++i) rgba[i] = static_cast<unsigned char>(i * 5);
    for (std::size_t i = 0; i < ga.size(); ++i) ga[i] = static_cast<unsigned char>(200 - i * 3);
    const std::string prgba = dir.file("rgba.png"), pga = dir.file("ga.png");
    PngLayout l;
    l.width = 4;
    l.height = 3;
    l.colour = PNG_COLOR_TYPE_RGB_ALPHA;
    write_png_rows(prgba, l, rgba);
    l.colour = PNG_COLOR_TYPE_GRAY_ALPHA;
    write_png_rows(pga, l, ga);

    std::vector<std::string> warnings;
    ImageInfo info;
    const Tensor t = read_image(prgba, UINT64_MAX, &warnings, &info);
    BOOST_TEST(info.channels == 4);
    BOOST_TEST(shape_of(t) == Shape({3, 4, 3}), boost::test_tools::per_element());
    for (std::size_t p = 0; p < 12; ++p)
        for (std::size_t c = 0; c < 3; ++c) BOOST_TEST(t.data()[p * 3 + c] == static_cast<float>(rgba[p * 4 + c]));
    BOOST_TEST_REQUIRE(warnings.size() == 1u);
    BOOST_TEST(warnings[0].find("alpha") != std::string::npos);
    BOOST_TEST(warnings[0].find(prgba) != std::string::npos);

    warnings.clear();
    const Tensor g = read_image(pga, UINT64_MAX, &warnings);
    BOOST_TEST(shape_of(g) == Shape({3, 4}), boost::test_tools::per_element());
    for (std::size_t p = 0; p < 12; ++p) BOOST_TEST(g.data()[p] == static_cast<float>(ga[p * 2]));
    BOOST_TEST_REQUIRE(warnings.size() == 1u);
    BOOST_TEST(warnings[0].find("alpha") != std::string::npos);
}

BOOST_AUTO_TEST_CASE(png_16_bit_reads_full_range)
{
    ScratchDir dir;
    std::vector<std::uint16_t> rgb(3 * 4 * 3);
    for (std::size_t i = 0; i < rgb.size(); ++i) rgb[i] = static_cast<std::uint16_t>(i * 1871 + 258);
    rgb[0] = 0;
    rgb[1] = 65535;
    rgb[2] = 256;  // would read as 1 if the byte order were swapped
    const std::string prgb = dir.file("rgb16.png");
    write_vector(prgb, png16(4, 3, 3, rgb));
    ImageInfo info;
    const Tensor t = read_image(prgb, UINT64_MAX, nullptr, &info);
    BOOST_TEST(info.bits_per_channel == 16);
    BOOST_TEST(shape_of(t) == Shape({3, 4, 3}), boost::test_tools::per_element());
    BOOST_TEST(values_of(t) == std::vector<float>(rgb.begin(), rgb.end()), boost::test_tools::per_element());

    // Gray with alpha, 16 bit.
    std::vector<std::uint16_t> ga{1000, 65535, 40000, 0, 65535, 7, 12345, 100};
    const std::string pga = dir.file("ga16.png");
    write_vector(pga, png16(2, 2, 2, ga));
    std::vector<std::string> warnings;
    const Tensor g = read_image(pga, UINT64_MAX, &warnings);
    BOOST_TEST(values_of(g) == std::vector<float>({1000, 40000, 65535, 12345}), boost::test_tools::per_element());
    BOOST_TEST(warnings.size() == 1u);
    BOOST_TEST(inspect_image(pga).bits_per_channel == 16);
}

namespace {

/// The offset of the first chunk of `type` in `png` (its length field).
std::size_t chunk_at(const std::vector<unsigned char>& png, const char* type)
{
    for (std::size_t pos = 8; pos + 12 <= png.size();) {
        const std::size_t length = (std::size_t{png[pos]} << 24) | (std::size_t{png[pos + 1]} << 16) |
                                   (std::size_t{png[pos + 2]} << 8) | png[pos + 3];
        if (std::memcmp(&png[pos + 4], type, 4) == 0) return pos;
        pos += 12 + length;
    }
    BOOST_FAIL("no " << type << " chunk");
    return 0;
}

}  // namespace

BOOST_AUTO_TEST_CASE(png_16_bit_written_by_libpng)
{
    ScratchDir dir;
    // RGB, 16 bits: 256 would read as 1 with the bytes swapped, 1 as 256.
    const std::vector<std::uint16_t> rgb{0, 65535, 256, 1, 4660, 65280, 32768, 255, 12345, 40000, 7, 65534};
    PngLayout l;
    l.width = 2;
    l.height = 2;
    l.depth = 16;
    l.colour = PNG_COLOR_TYPE_RGB;
    const std::string path = dir.file("rgb16.png");
    write_png_rows(path, l, big_endian(rgb));
    std::vector<std::string> warnings;
    ImageInfo info;
    const Tensor t = read_image(path, UINT64_MAX, &warnings, &info);
    BOOST_TEST((info.format == "png" && info.channels == 3 && info.bits_per_channel == 16));
    BOOST_TEST(shape_of(t) == Shape({2, 2, 3}), boost::test_tools::per_element());
    BOOST_TEST(values_of(t) == std::vector<float>(rgb.begin(), rgb.end()), boost::test_tools::per_element());
    BOOST_TEST(warnings.empty());

    // Gray, 16 bits, with a transparent value (tRNS): still gray, no alpha.
    const std::vector<std::uint16_t> gray{0, 1, 258, 65535, 30000, 513};
    png_color_16 transparent{};
    transparent.gray = 258;
    l.width = 3;
    l.colour = PNG_COLOR_TYPE_GRAY;
    l.trans_colour = &transparent;
    const std::string gpath = dir.file("gray16.png");
    write_png_rows(gpath, l, big_endian(gray));
    const Tensor g = read_image(gpath, UINT64_MAX, &warnings, &info);
    BOOST_TEST((info.channels == 1 && info.bits_per_channel == 16));
    BOOST_TEST(values_of(g) == std::vector<float>(gray.begin(), gray.end()), boost::test_tools::per_element());
    BOOST_TEST(warnings.empty());
}

BOOST_AUTO_TEST_CASE(png_palette_images_read_as_rgb)
{
    ScratchDir dir;
    const png_color palette[4] = {{10, 20, 30}, {255, 0, 128}, {0, 255, 1}, {77, 88, 99}};
    const auto expected = [&](const std::vector<int>& indices) {
        std::vector<float> v;
        for (const int i : indices) v.insert(v.end(), {float(palette[i].red), float(palette[i].green), float(palette[i].blue)});
        return v;
    };
    // 8-bit indices, 3 x 2.
    PngLayout l;
    l.width = 3;
    l.height = 2;
    l.colour = PNG_COLOR_TYPE_PALETTE;
    l.palette = palette;
    l.palette_size = 4;
    const std::string p8 = dir.file("palette8.png");
    write_png_rows(p8, l, {3, 0, 1, 2, 2, 0});
    std::vector<std::string> warnings;
    ImageInfo info;
    const Tensor t = read_image(p8, UINT64_MAX, &warnings, &info);
    BOOST_TEST((info.format == "png" && info.channels == 3 && info.bits_per_channel == 8));
    BOOST_TEST(shape_of(t) == Shape({2, 3, 3}), boost::test_tools::per_element());
    BOOST_TEST(values_of(t) == expected({3, 0, 1, 2, 2, 0}), boost::test_tools::per_element());
    BOOST_TEST(warnings.empty());

    // 2-bit indices, 5 wide: four to a byte, high bits first, the last byte padded.
    l.width = 5;
    l.height = 1;
    l.depth = 2;
    const std::string p2 = dir.file("palette2.png");
    write_png_rows(p2, l, {0b11'00'01'10, 0b01'000000});  // 3 0 1 2 | 1
    BOOST_TEST(values_of(read_image(p2, UINT64_MAX, &warnings)) == expected({3, 0, 1, 2, 1}),
               boost::test_tools::per_element());
    BOOST_TEST(warnings.empty());

    // With palette alpha (tRNS): RGBA as stored, read as RGB with the alpha warning.
    const png_byte alpha[2] = {0, 128};
    l.width = 3;
    l.height = 2;
    l.depth = 8;
    l.trans = alpha;
    l.trans_size = 2;
    const std::string pa = dir.file("palette-alpha.png");
    write_png_rows(pa, l, {3, 0, 1, 2, 2, 0});
    const Tensor a = read_image(pa, UINT64_MAX, &warnings, &info);
    BOOST_TEST(info.channels == 4);
    BOOST_TEST(values_of(a) == expected({3, 0, 1, 2, 2, 0}), boost::test_tools::per_element());
    BOOST_TEST_REQUIRE(warnings.size() == 1u);
    BOOST_TEST(warnings[0].find("alpha") != std::string::npos);
    BOOST_TEST(inspect_image(pa).channels == 4);
}

BOOST_AUTO_TEST_CASE(png_interlaced_and_low_bit_depths)
{
    ScratchDir dir;
    // Adam7, 8-bit RGB, a size that leaves every pass a partial last block.
    const std::size_t w = 13, h = 11;
    std::vector<unsigned char> rgb(w * h * 3);
    for (std::size_t i = 0; i < rgb.size(); ++i) rgb[i] = static_cast<unsigned char>((i * 53 + 7) % 256);
    PngLayout l;
    l.width = w;
    l.height = h;
    l.colour = PNG_COLOR_TYPE_RGB;
    l.interlace = PNG_INTERLACE_ADAM7;
    const std::string prgb = dir.file("interlaced.png");
    write_png_rows(prgb, l, rgb);
    BOOST_TEST_REQUIRE(read_bytes(prgb)[28] == 1);  // IHDR's interlace method: Adam7
    ImageInfo info;
    const Tensor t = read_image(prgb, UINT64_MAX, nullptr, &info);
    BOOST_TEST(shape_of(t) == Shape({h, w, 3}), boost::test_tools::per_element());
    BOOST_TEST(values_of(t) == std::vector<float>(rgb.begin(), rgb.end()), boost::test_tools::per_element());

    // Adam7, 16-bit gray.
    std::vector<std::uint16_t> gray(9 * 7);
    for (std::size_t i = 0; i < gray.size(); ++i) gray[i] = static_cast<std::uint16_t>(i * 1031 + 1);
    l.width = 9;
    l.height = 7;
    l.depth = 16;
    l.colour = PNG_COLOR_TYPE_GRAY;
    const std::string p16 = dir.file("interlaced16.png");
    write_png_rows(p16, l, big_endian(gray));
    const Tensor g = read_image(p16, UINT64_MAX, nullptr, &info);
    BOOST_TEST(info.bits_per_channel == 16);
    BOOST_TEST(values_of(g) == std::vector<float>(gray.begin(), gray.end()), boost::test_tools::per_element());

    // 1-bit and 4-bit gray (interlaced and not) read on 0..255.
    l.width = 10;
    l.height = 2;
    l.depth = 1;
    const std::string p1 = dir.file("bits1.png");
    write_png_rows(p1, l, {0b10110000, 0b01000000, 0b00000000, 0b11000000});
    BOOST_TEST(values_of(read_image(p1, UINT64_MAX, nullptr, &info)) ==
                   std::vector<float>({255, 0, 255, 255, 0, 0, 0, 0, 0, 255, 0, 0, 0, 0, 0, 0, 0, 0, 255, 255}),
               boost::test_tools::per_element());
    BOOST_TEST((info.channels == 1 && info.bits_per_channel == 8));
    l.width = 3;
    l.height = 1;
    l.depth = 4;
    l.interlace = PNG_INTERLACE_NONE;
    const std::string p4 = dir.file("bits4.png");
    write_png_rows(p4, l, {0x0f, 0x70});
    BOOST_TEST(values_of(read_image(p4, UINT64_MAX)) == std::vector<float>({0, 255, 119}), boost::test_tools::per_element());
}

BOOST_AUTO_TEST_CASE(png_with_a_bad_crc_is_refused)
{
    ScratchDir dir;
    Tensor rgb = Tensor::from_shape({6, 5, 3});
    for (std::size_t i = 0; i < rgb.size(); ++i) rgb.data()[i] = static_cast<float>((i * 29) % 256);
    const std::string good = dir.file("good.png");
    write_png(good, rgb, false);
    const std::vector<unsigned char> png = read_bytes(good);
    BOOST_TEST_REQUIRE(values_of(read_image(good, UINT64_MAX)) == values_of(rgb), boost::test_tools::per_element());

    // One bit of the stored CRC of IDAT, then of IEND (read after the pixels).
    const std::size_t idat = chunk_at(png, "IDAT");
    const std::size_t idat_length = (std::size_t{png[idat + 2]} << 8) | png[idat + 3];
    for (const auto& [at, chunk] : {std::pair{idat + 8 + idat_length, "IDAT"}, std::pair{png.size() - 1, "IEND"}}) {
        std::vector<unsigned char> bad = png;
        bad[at] ^= 0x04;
        const std::string path = dir.file(std::string("bad-crc-") + chunk + ".png");
        write_vector(path, bad);
        check_error([&] { read_image(path, UINT64_MAX); }, errc::bad_input, {path, chunk, "CRC error"});
    }

    // IHDR's CRC: refused from the header, by inspect_image too.
    std::vector<unsigned char> bad_header = png;
    bad_header[8 + 8 + 13] ^= 0x80;
    const std::string header = dir.file("bad-ihdr.png");
    write_vector(header, bad_header);
    check_error([&] { inspect_image(header); }, errc::bad_input, {header, "IHDR", "CRC error"});

    // An ancillary chunk's CRC (libpng's default would only warn).
    std::vector<unsigned char> text;
    put_chunk(text, "tEXt", {'a', 0, 'b'});
    text.back() ^= 0x01;
    std::vector<unsigned char> with_text = png;
    with_text.insert(with_text.begin() + static_cast<std::ptrdiff_t>(idat), text.begin(), text.end());
    const std::string ancillary = dir.file("bad-text.png");
    write_vector(ancillary, with_text);
    check_error([&] { read_image(ancillary, UINT64_MAX); }, errc::bad_input, {ancillary, "tEXt", "CRC error"});
    // The same chunk with its CRC intact is skipped.
    text.back() ^= 0x01;
    with_text = png;
    with_text.insert(with_text.begin() + static_cast<std::ptrdiff_t>(idat), text.begin(), text.end());
    write_vector(ancillary, with_text);
    BOOST_TEST(values_of(read_image(ancillary, UINT64_MAX)) == values_of(rgb), boost::test_tools::per_element());
}

BOOST_AUTO_TEST_CASE(truncated_jpeg_is_refused)
{
    ScratchDir dir;
    const int w = 64, h = 48;
    std::vector<unsigned char> rgb(static_cast<std::size_t>(w * h * 3));
    for (std::size_t i = 0; i < rgb.size(); ++i) rgb[i] = static_cast<unsigned char>((i * 7919) % 251);
    const std::vector<unsigned char> jpeg = jpeg_bytes(rgb, w, h, 3, 90);
    const std::string whole = dir.file("whole.jpg");
    write_vector(whole, jpeg);
    BOOST_TEST(shape_of(read_image(whole, UINT64_MAX)) == Shape({48, 64, 3}), boost::test_tools::per_element());

    // Cut inside the entropy-coded data: libjpeg would fill the rest with
    // grey after its "Premature end of JPEG file" warning.
    const std::string cut = dir.file("cut.jpg");
    write_vector(cut, std::vector<unsigned char>(jpeg.begin(), jpeg.begin() + static_cast<std::ptrdiff_t>(jpeg.size() * 3 / 4)));
    BOOST_TEST(inspect_image(cut).width == 64u);  // the header is whole
    check_error([&] { read_image(cut, UINT64_MAX); }, errc::bad_input,
                {cut, "cannot decode the JPEG image", "Premature end of JPEG file"});
    // Without its end marker only.
    const std::string no_eoi = dir.file("no-eoi.jpg");
    write_vector(no_eoi, std::vector<unsigned char>(jpeg.begin(), jpeg.end() - 2));
    check_error([&] { read_image(no_eoi, UINT64_MAX); }, errc::bad_input, {no_eoi, "Premature end of JPEG file"});
    // Cut inside the header.
    const std::string head = dir.file("head.jpg");
    write_vector(head, std::vector<unsigned char>(jpeg.begin(), jpeg.begin() + 100));
    check_error([&] { inspect_image(head); }, errc::bad_input, {head, "cannot read the JPEG header"});
}

BOOST_AUTO_TEST_CASE(jpeg_without_huffman_tables_uses_the_standard_ones)
{
    // Motion-JPEG frames leave out their Huffman tables: libjpeg-turbo then
    // decodes with the standard ones (JPEG Annex K), which libjpeg's writer
    // uses by default; the image reads as it does with them.
    ScratchDir dir;
    std::vector<unsigned char> gray(24 * 16);
    for (std::size_t i = 0; i < gray.size(); ++i) gray[i] = static_cast<unsigned char>((i * 13) % 256);
    const std::vector<unsigned char> jpeg = jpeg_bytes(gray, 24, 16, 1, 85);
    std::vector<unsigned char> stripped(jpeg.begin(), jpeg.begin() + 2);
    std::size_t pos = 2, tables = 0;
    for (;;) {  // the segments up to the scan; DHT (ff c4) left out
        BOOST_TEST_REQUIRE(pos + 4 <= jpeg.size());
        const std::size_t length = (std::size_t{jpeg[pos + 2]} << 8) | jpeg[pos + 3];
        const bool scan = jpeg[pos + 1] == 0xda;
        if (jpeg[pos + 1] == 0xc4)
            ++tables;
        else
            stripped.insert(stripped.end(), jpeg.begin() + static_cast<std::ptrdiff_t>(pos),
                            scan ? jpeg.end() : jpeg.begin() + static_cast<std::ptrdiff_t>(pos + 2 + length));
        if (scan) break;
        pos += 2 + length;
    }
    BOOST_TEST_REQUIRE(tables > 0u);
    write_vector(dir.file("with.jpg"), jpeg);
    write_vector(dir.file("without.jpg"), stripped);
    BOOST_TEST(values_of(read_image(dir.file("without.jpg"), UINT64_MAX)) ==
                   values_of(read_image(dir.file("with.jpg"), UINT64_MAX)),
               boost::test_tools::per_element());
}

BOOST_AUTO_TEST_CASE(jpeg_rgb)
{
    ScratchDir dir;
    // Smooth content, so that a quality-100 JPEG is close to it.
    const int w = 32, h = 16;
    std::vector<unsigned char> rgb(static_cast<std::size_t>(w * h * 3));
    for (int y = 0; y < h; ++y)
        for (int x = 0; x < w; ++x) {
            unsigned char* p = &rgb[static_cast<std::size_t>((y * w + x) * 3)];
            p[0] = static_cast<unsigned char>(60 + 4 * x);
            p[1] = static_cast<unsigned char>(200 - 5 * y);
            p[2] = 90;
        }
    const std::string path = dir.file("photo.jpg");
    write_vector(path, jpeg_bytes(rgb, w, h, 3, 100));  // libjpeg's defaults: 4:2:0, upsampled when read
    ImageInfo info;
    const Tensor t = read_image(path, UINT64_MAX, nullptr, &info);
    BOOST_TEST(info.format == "jpeg");
    BOOST_TEST(shape_of(t) == Shape({16, 32, 3}), boost::test_tools::per_element());
    double sum_abs = 0, max_abs = 0;
    for (std::size_t i = 0; i < rgb.size(); ++i) {
        const double e = std::fabs(t.data()[i] - static_cast<float>(rgb[i]));
        sum_abs += e;
        max_abs = std::max(max_abs, e);
    }
    BOOST_TEST(sum_abs / static_cast<double>(rgb.size()) < 2.0);
    BOOST_TEST(max_abs <= 12.0);
}

BOOST_AUTO_TEST_CASE(jpeg_cmyk_reads_as_rgb)
{
    // Inverted CMYK (Adobe's form, what libjpeg writes and reads): RGB is
    // each of C, M, Y times K / 255, as stb_image read it.
    ScratchDir dir;
    const int w = 16, h = 8;
    std::vector<unsigned char> cmyk(static_cast<std::size_t>(w * h * 4));
    for (std::size_t p = 0; p < cmyk.size() / 4; ++p) {
        const bool left = p % w < 8;
        const unsigned char px[4] = {200, 100, 40, static_cast<unsigned char>(left ? 255 : 128)};
        std::copy(px, px + 4, cmyk.begin() + static_cast<std::ptrdiff_t>(4 * p));
    }
    const std::string path = dir.file("cmyk.jpg");
    write_vector(path, jpeg_bytes(cmyk, w, h, 4, 100));
    ImageInfo info;
    const Tensor t = read_image(path, UINT64_MAX, nullptr, &info);
    BOOST_TEST((info.format == "jpeg" && info.channels == 3));
    BOOST_TEST_REQUIRE(shape_of(t) == Shape({8, 16, 3}), boost::test_tools::per_element());
    const float left[3] = {200, 100, 40}, right[3] = {100, 50, 20};
    for (std::size_t p = 0; p < std::size_t(w * h); ++p)
        for (std::size_t c = 0; c < 3; ++c)
            BOOST_TEST(std::abs(t.data()[3 * p + c] - (p % w < 8 ? left : right)[c]) <= 3.0f, "pixel " << p << " " << c);
}

BOOST_AUTO_TEST_CASE(ppm_and_pgm_binary_and_plain)
{
    ScratchDir dir;
    // P6: 3 x 2 RGB, with a comment in the header.
    std::string p6 = "P6\n# made by hand\n3 2\n255\n";
    const std::vector<unsigned char> rgb{255, 0, 0, 0, 255, 0, 0, 0, 255, 10, 20, 30, 40, 50, 60, 70, 80, 90};
    p6.append(rgb.begin(), rgb.end());
    write_text(dir.file("a.ppm"), p6);
    ImageInfo info;
    const Tensor t = read_image(dir.file("a.ppm"), UINT64_MAX, nullptr, &info);
    BOOST_TEST(info.format == "ppm");
    BOOST_TEST(shape_of(t) == Shape({2, 3, 3}), boost::test_tools::per_element());
    BOOST_TEST(values_of(t) == std::vector<float>(rgb.begin(), rgb.end()), boost::test_tools::per_element());

    // P5 8-bit, where the single whitespace after maxval is followed by a
    // sample that looks like whitespace (10 = '\n').
    std::string p5 = "P5 2 2 255\n";
    p5 += std::string{'\n', '\x00', '\xff', '\x20'};
    write_text(dir.file("b.pgm"), p5);
    const Tensor g = read_image(dir.file("b.pgm"), UINT64_MAX, nullptr, &info);
    BOOST_TEST(info.format == "pgm");
    BOOST_TEST(shape_of(g) == Shape({2, 2}), boost::test_tools::per_element());
    BOOST_TEST(values_of(g) == std::vector<float>({10, 0, 255, 32}), boost::test_tools::per_element());

    // P5 16-bit: samples are big-endian.
    std::string p5w = "P5\n3 1\n65535\n";
    p5w += std::string{'\x01', '\x02', '\xff', '\xff', '\x00', '\x07'};
    write_text(dir.file("c.pgm"), p5w);
    const Tensor w = read_image(dir.file("c.pgm"), UINT64_MAX, nullptr, &info);
    BOOST_TEST(info.bits_per_channel == 16);
    BOOST_TEST(values_of(w) == std::vector<float>({258, 65535, 7}), boost::test_tools::per_element());

    // Plain formats.
    write_text(dir.file("d.pgm"), "P2\n# plain\n3 2\n255\n0 1 2\n# a comment between rows\n253 254 255\n");
    BOOST_TEST(values_of(read_image(dir.file("d.pgm"), UINT64_MAX)) == std::vector<float>({0, 1, 2, 253, 254, 255}),
               boost::test_tools::per_element());
    write_text(dir.file("e.ppm"), "P3 1 2 255  1 2 3   4 5 6");
    const Tensor e = read_image(dir.file("e.ppm"), UINT64_MAX);
    BOOST_TEST(shape_of(e) == Shape({2, 1, 3}), boost::test_tools::per_element());
    BOOST_TEST(values_of(e) == std::vector<float>({1, 2, 3, 4, 5, 6}), boost::test_tools::per_element());

    // maxval 15: rescaled to 0..255, with a warning.
    std::string p5m = "P5 3 1 15\n";
    p5m += std::string{'\x00', '\x01', '\x0f'};
    write_text(dir.file("f.pgm"), p5m);
    std::vector<std::string> warnings;
    BOOST_TEST(values_of(read_image(dir.file("f.pgm"), UINT64_MAX, &warnings)) == std::vector<float>({0, 17, 255}),
               boost::test_tools::per_element());
    BOOST_TEST_REQUIRE(warnings.size() == 1u);
    BOOST_TEST(warnings[0].find("maxval 15") != std::string::npos);
}

BOOST_AUTO_TEST_CASE(pnm_refusals)
{
    ScratchDir dir;
    std::string truncated = "P5 4 4 255\n";
    truncated += std::string(10, '\x05');
    write_text(dir.file("t.pgm"), truncated);
    check_error([&] { read_image(dir.file("t.pgm"), UINT64_MAX); }, errc::bad_input,
                {dir.file("t.pgm"), "truncated", "16 bytes", "10 found"});
    std::string truncated16 = "P6 1 1 65535\n";
    truncated16 += std::string(5, '\x05');
    write_text(dir.file("t16.ppm"), truncated16);
    check_error([&] { read_image(dir.file("t16.ppm"), UINT64_MAX); }, errc::bad_input, {"truncated", "6 bytes"});
    write_text(dir.file("p.pgm"), "P2 2 1 100 5 101");
    check_error([&] { read_image(dir.file("p.pgm"), UINT64_MAX); }, errc::bad_input, {"101", "maxval 100"});
    write_text(dir.file("q.pgm"), "P2 2 2 100 5 6 7");
    check_error([&] { read_image(dir.file("q.pgm"), UINT64_MAX); }, errc::bad_input, {"4 samples expected, 3 found"});
    write_text(dir.file("m.ppm"), "P6 2 x 255\n");
    check_error([&] { read_image(dir.file("m.ppm"), UINT64_MAX); }, errc::bad_input, {"malformed ppm header"});
    write_text(dir.file("big.pgm"), "P5 2 2 70000\n");
    check_error([&] { read_image(dir.file("big.pgm"), UINT64_MAX); }, errc::bad_input, {"maxval 70000"});
    write_text(dir.file("zero.pgm"), "P5 0 2 255\n");
    check_error([&] { read_image(dir.file("zero.pgm"), UINT64_MAX); }, errc::bad_input, {"empty image"});
}

BOOST_AUTO_TEST_CASE(oversized_images_are_refused_from_the_header)
{
    ScratchDir dir;
    // Headers only: decoding would fail for lack of data, so errc::limit
    // and its message show that the refusal came first.
    const std::string wide = dir.file("wide.png");
    write_vector(wide, png_header_only(20000, 20000));
    check_error([&] { read_image(wide, UINT64_MAX); }, errc::limit,
                {wide, "20000x20000", "400000000", std::to_string(default_max_image_pixels) + " pixels"});
    const ImageInfo info = inspect_image(wide);
    BOOST_TEST((info.width == 20000 && info.height == 20000));

    const std::string medium = dir.file("medium.png");
    write_vector(medium, png_header_only(10000, 10000));
    // 10^8 gray pixels: 4·10^8 bytes of floats plus the decoder's 2·10^8.
    check_error([&] { read_image(medium, 1000000); }, errc::limit, {medium, "600000000 bytes", "1000000 bytes"});
    check_error([&] { read_image(medium, UINT64_MAX, nullptr, nullptr, 9999 * 10000); }, errc::limit,
                {"100000000", "99990000 pixels"});

    const std::string pnm = dir.file("huge.ppm");
    write_text(pnm, "P6 30000 30000 255\n");
    check_error([&] { read_image(pnm, UINT64_MAX); }, errc::limit, {pnm, "900000000"});
}

BOOST_AUTO_TEST_CASE(foreign_damaged_and_missing_files)
{
    ScratchDir dir;
    const std::string text = dir.file("notes.png");
    write_text(text, "GIF89a, or anything else");
    check_error([&] { read_image(text, UINT64_MAX); }, errc::bad_input, {text, "not a PNG, JPEG, PPM or PGM image"});
    check_error([&] { inspect_image(text); }, errc::bad_input, {text});

    // A PNG cut in the middle of its pixel data.
    std::vector<std::uint16_t> samples(64 * 64, 4242);
    std::vector<unsigned char> png = png16(64, 64, 1, samples);
    png.resize(png.size() / 2);
    const std::string cut = dir.file("cut.png");
    write_vector(cut, png);
    check_error([&] { read_image(cut, UINT64_MAX); }, errc::bad_input,
                {cut, "cannot decode the PNG image", "chunk IDAT at byte 33 claims", "runs past the end of the file"});

    const std::string missing = dir.file("missing.png");
    check_error([&] { read_image(missing, UINT64_MAX); }, errc::io, {missing, "No such file"});
}

BOOST_AUTO_TEST_CASE(png_write_rounds_and_clamps)
{
    ScratchDir dir;
    // Image samples (the default source): -3.2 and 300 are overshoot,
    // clamped with a warning that counts them; 254.5 and 255.4 round to 255
    // and -0.4 to 0 without one.
    const std::vector<float> v{-3.2f, 0.49f, 0.5f, 1.5f, 254.5f, 255.4f, 300.0f, 127.5f, -0.4f, 255.0f};
    const std::string gray = dir.file("gray.png");
    std::vector<std::string> warnings;
    write_png(gray, v.data(), Shape{2, 5}, false, 8, &warnings);
    BOOST_TEST_REQUIRE(warnings.size() == 1u);
    BOOST_TEST(warnings[0].find("clamped 2 samples (20%) to 0..255; the data runs from -3.2 to 300") !=
                   std::string::npos,
               warnings[0]);
    warnings.clear();
    ImageInfo info;
    const Tensor g = read_image(gray, UINT64_MAX, nullptr, &info);
    BOOST_TEST((info.channels == 1 && info.bits_per_channel == 8 && info.format == "png"));
    BOOST_TEST(shape_of(g) == Shape({2, 5}), boost::test_tools::per_element());
    BOOST_TEST(values_of(g) == std::vector<float>({0, 0, 1, 2, 255, 255, 255, 128, 0, 255}), boost::test_tools::per_element());

    // RGB from a tensor, and H x W x 1 as gray.
    Tensor rgb = Tensor::from_shape({2, 2, 3});
    for (std::size_t i = 0; i < rgb.size(); ++i) rgb.data()[i] = static_cast<float>(i) * 20.3f;
    write_png(dir.file("rgb.png"), rgb, false);
    const Tensor back = read_image(dir.file("rgb.png"), UINT64_MAX, nullptr, &info);
    BOOST_TEST(info.channels == 3);
    for (std::size_t i = 0; i < rgb.size(); ++i) BOOST_TEST(back.data()[i] == std::round(rgb.data()[i]));
    write_png(dir.file("one.png"), v.data(), Shape{5, 2, 1}, false);
    BOOST_TEST(shape_of(read_image(dir.file("one.png"), UINT64_MAX)) == Shape({5, 2}), boost::test_tools::per_element());

    // A 16-bit source is scaled to 8 bits, with a warning (and 70000, past
    // 65535, is clamped with another).
    const std::vector<float> wide{0, 257, 32768, 65535, 70000, 600};
    write_png(dir.file("wide.png"), wide.data(), Shape{1, 6}, false, 16, &warnings);
    BOOST_TEST(values_of(read_image(dir.file("wide.png"), UINT64_MAX)) == std::vector<float>({0, 1, 128, 255, 255, 2}),
               boost::test_tools::per_element());
    BOOST_TEST_REQUIRE(warnings.size() == 2u);
    BOOST_TEST(warnings[0].find("clamped 1 sample (") != std::string::npos, warnings[0]);
    BOOST_TEST(warnings[1].find("16 bits") != std::string::npos, warnings[1]);
}

BOOST_AUTO_TEST_CASE(png_write_refusals)
{
    ScratchDir dir;
    const std::vector<float> v(12, 1.0f);
    const std::string path = dir.file("out.png");
    check_error([&] { write_png(path, v.data(), Shape{2, 2, 3, 1}, false); }, errc::invalid_argument, {"2x2x3x1"});
    check_error([&] { write_png(path, v.data(), Shape{3, 2, 2}, false); }, errc::invalid_argument, {"HxW or HxWx3"});
    check_error([&] { write_png(path, v.data(), Shape{0, 4}, false); }, errc::invalid_argument, {"not a valid PNG size"});
    check_error([&] { write_png(path, v.data(), Shape{3, 4}, false, 12); }, errc::invalid_argument, {"source_bits is 12"});
    std::vector<float> nan = v;
    nan[7] = std::nanf("");
    check_error([&] { write_png(path, nan.data(), Shape{3, 4}, false); }, errc::bad_input, {"sample 7 is NaN"});
    std::vector<float> inf = v;
    inf[2] = -std::numeric_limits<float>::infinity();
    check_error([&] { write_png(path, inf.data(), Shape{3, 4}, false); }, errc::bad_input, {"sample 2 is -inf"});
    BOOST_TEST(dir.entries().empty());
}

namespace {

/// A float source whose samples are a ramp from `lo` to `hi` (H x W).
std::vector<float> ramp(float lo, float hi, std::size_t n)
{
    std::vector<float> v(n);
    for (std::size_t i = 0; i < n; ++i) v[i] = lo + (hi - lo) * static_cast<float>(i) / static_cast<float>(n - 1);
    return v;
}

ImageWriteOptions source(ImageSource kind, int bits = 8, bool scale = false)
{
    ImageWriteOptions o;
    o.source = kind;
    o.source_bits = bits;
    o.scale = scale;
    return o;
}

}  // namespace

BOOST_AUTO_TEST_CASE(each_format_by_its_extension)
{
    ScratchDir dir;
    Tensor rgb = Tensor::from_shape({5, 7, 3});
    for (std::size_t i = 0; i < rgb.size(); ++i) rgb.data()[i] = static_cast<float>((i * 37) % 256);
    Tensor gray = Tensor::from_shape({4, 6});
    for (std::size_t i = 0; i < gray.size(); ++i) gray.data()[i] = static_cast<float>((i * 11) % 256);

    // PPM and PGM: binary, maxval 255, exact.
    std::vector<std::string> warnings;
    write_image(dir.file("rgb.ppm"), rgb, {}, &warnings);
    write_image(dir.file("gray.PGM"), gray, {}, &warnings);
    BOOST_TEST(warnings.empty());
    const std::vector<unsigned char> ppm = read_bytes(dir.file("rgb.ppm"));
    const std::string ppm_header = "P6\n7 5\n255\n";
    BOOST_TEST_REQUIRE(ppm.size() == ppm_header.size() + rgb.size());
    BOOST_TEST(std::string(ppm.begin(), ppm.begin() + static_cast<long>(ppm_header.size())) == ppm_header);
    for (std::size_t i = 0; i < rgb.size(); ++i) BOOST_TEST(ppm[ppm_header.size() + i] == rgb.data()[i]);
    ImageInfo info;
    BOOST_TEST(values_of(read_image(dir.file("gray.PGM"), UINT64_MAX, nullptr, &info)) == values_of(gray),
               boost::test_tools::per_element());
    BOOST_TEST((info.format == "pgm" && info.channels == 1 && info.bits_per_channel == 8));

    // A 16-bit source keeps 16 bits in PPM and PGM: maxval 65535, big-endian.
    const std::vector<float> wide{0, 1, 258, 65535, 40000, 12345};
    write_image(dir.file("wide.pgm"), wide.data(), Shape{2, 3}, source(ImageSource::samples, 16), &warnings);
    BOOST_TEST(warnings.empty());
    const std::vector<unsigned char> pgm = read_bytes(dir.file("wide.pgm"));
    const std::string pgm_header = "P5\n3 2\n65535\n";
    BOOST_TEST_REQUIRE(pgm.size() == pgm_header.size() + 12);
    BOOST_TEST(pgm[pgm_header.size() + 4] == 0x01);  // 258, most significant byte first
    BOOST_TEST(pgm[pgm_header.size() + 5] == 0x02);
    BOOST_TEST(values_of(read_image(dir.file("wide.pgm"), UINT64_MAX, nullptr, &info)) == wide,
               boost::test_tools::per_element());
    BOOST_TEST(info.bits_per_channel == 16);

    // JPEG: gray and RGB, quality 95, close to the samples; 8-bit, so a
    // 16-bit source is scaled with the PNG's warning.
    for (const char* name : {"rgb.jpg", "rgb.JPEG"}) {
        write_image(dir.file(name), rgb, {}, &warnings);
        const std::vector<unsigned char> j = read_bytes(dir.file(name));
        BOOST_TEST_REQUIRE(j.size() > 3u);
        BOOST_TEST((j[0] == 0xff && j[1] == 0xd8 && j[2] == 0xff));
        const Tensor back = read_image(dir.file(name), UINT64_MAX, nullptr, &info);
        BOOST_TEST((info.format == "jpeg" && info.channels == 3));
        BOOST_TEST(shape_of(back) == Shape({5, 7, 3}), boost::test_tools::per_element());
    }
    Tensor smooth = Tensor::from_shape({16, 16});
    for (std::size_t y = 0; y < 16; ++y)
        for (std::size_t x = 0; x < 16; ++x) smooth.data()[y * 16 + x] = static_cast<float>(8 * x + 4 * y);
    write_image(dir.file("smooth.jpg"), smooth, {}, &warnings);
    BOOST_TEST(warnings.empty());
    const Tensor back = read_image(dir.file("smooth.jpg"), UINT64_MAX, nullptr, &info);
    BOOST_TEST((info.format == "jpeg" && info.channels == 1));
    double worst = 0;
    for (std::size_t i = 0; i < smooth.size(); ++i)
        worst = std::max(worst, std::abs(double(back.data()[i]) - smooth.data()[i]));
    BOOST_TEST(worst <= 4.0);
    write_image(dir.file("wide.jpg"), wide.data(), Shape{2, 3}, source(ImageSource::samples, 16), &warnings);
    BOOST_TEST_REQUIRE(warnings.size() == 1u);
    BOOST_TEST(warnings[0].find("JPEG output is 8-bit") != std::string::npos, warnings[0]);
}

BOOST_AUTO_TEST_CASE(output_names_and_format_refusals)
{
    for (const char* yes : {"a.tif", "b.TIFF", "c.bmp", "d.gif", "e.webp", "f.pnm", "dir.v2/g.jxl"})
        BOOST_TEST(is_foreign_image_path(yes), yes);
    for (const char* no : {"a.h5", "a.png", "a.jpg", "tif", "x.tif/y.h5", "noext"}) BOOST_TEST(!is_foreign_image_path(no), no);
    BOOST_TEST((image_output_format("a.PNG") == ImageFormat::png && image_output_format("b.jpeg") == ImageFormat::jpeg &&
                image_output_format("c.Jpg") == ImageFormat::jpeg && image_output_format("d.ppm") == ImageFormat::ppm &&
                image_output_format("e.pgm") == ImageFormat::pgm));

    ScratchDir dir;
    const std::vector<float> v(24, 100.0f);
    check_error([&] { write_image(dir.file("x.tif"), v.data(), Shape{2, 4, 3}, {}); }, errc::invalid_argument,
                {"must be a .png, .jpg, .jpeg, .ppm or .pgm file", "does not write TIFF"});
    check_error([&] { write_image(dir.file("x.dat"), v.data(), Shape{2, 4, 3}, {}); }, errc::invalid_argument,
                {"x.dat must be a .png"});
    check_error([&] { write_image(dir.file("x.ppm"), v.data(), Shape{4, 6}, {}); }, errc::bad_input,
                {"PPM holds RGB", "gray (4x6)", "name the output .pgm"});
    check_error([&] { write_image(dir.file("x.ppm"), v.data(), Shape{4, 2, 1}, {}); }, errc::bad_input,
                {"name the output .pgm"});
    check_error([&] { write_image(dir.file("x.pgm"), v.data(), Shape{2, 4, 3}, {}); }, errc::bad_input,
                {"PGM holds gray", "RGB (2x4x3)", "name the output .ppm"});
    check_error([&] { write_image(dir.file("x.jpg"), v.data(), Shape{1, 70000}, {}); }, errc::invalid_argument,
                {"not a valid JPEG size"});
    check_error([&] { (void)check_image_output(dir.file("x.pgm"), Shape{2, 4, 3}); }, errc::bad_input,
                {"name the output .ppm"});
    BOOST_TEST((check_image_output(dir.file("x.pgm"), Shape{2, 4, 1}) == ImageFormat::pgm));
    BOOST_TEST(dir.entries().empty());
}

BOOST_AUTO_TEST_CASE(sample_range_refused_clamped_or_scaled)
{
    ScratchDir dir;
    std::vector<std::string> warnings;
    const std::string out = dir.file("out.png");

    // A topography in metres: refused, naming min, max and the range, and
    // pointing at --scale; nothing written.
    const std::vector<float> topo = ramp(-10000, 8000, 64);
    for (const ImageSource kind : {ImageSource::floating, ImageSource::integer})
        check_error([&] { write_image(out, topo.data(), Shape{8, 8}, source(kind), &warnings); }, errc::bad_input,
                    {"runs from -10000 to 8000", "outside 0..255", "--scale maps min..max onto 0..255"});
    // Float data on a unit scale would round to a black image.
    const std::vector<float> unit = ramp(0, 1, 64);
    check_error([&] { write_image(out, unit.data(), Shape{8, 8}, source(ImageSource::floating), &warnings); },
                errc::bad_input, {"runs only from 0 to 1", "--scale"});
    // °C: within half the range, but 40 % of the samples far below 0.
    const std::vector<float> celsius = ramp(-40, 45, 100);
    check_error([&] { write_image(out, celsius.data(), Shape{10, 10}, source(ImageSource::floating), &warnings); },
                errc::bad_input, {"runs from -40 to 45"});
    BOOST_TEST(warnings.empty());
    BOOST_TEST(dir.entries().empty());

    // --scale maps min..max onto 0..255 (0..65535 for a 16-bit PGM).
    write_image(out, topo.data(), Shape{8, 8}, source(ImageSource::floating, 8, true), &warnings);
    BOOST_TEST_REQUIRE(warnings.size() == 1u);
    BOOST_TEST(warnings[0].find("scaled -10000..8000 to 0..255 (--scale)") != std::string::npos, warnings[0]);
    const std::vector<float> scaled = values_of(read_image(out, UINT64_MAX));
    BOOST_TEST(*std::min_element(scaled.begin(), scaled.end()) == 0.0f);
    BOOST_TEST(*std::max_element(scaled.begin(), scaled.end()) == 255.0f);
    BOOST_TEST(scaled[32] == std::round((topo[32] + 10000) * 255 / 18000));
    warnings.clear();
    write_image(dir.file("unit16.pgm"), unit.data(), Shape{8, 8}, source(ImageSource::samples, 16, true), &warnings);
    const std::vector<float> s16 = values_of(read_image(dir.file("unit16.pgm"), UINT64_MAX));
    BOOST_TEST((s16.front() == 0.0f && s16.back() == 65535.0f));
    BOOST_TEST_REQUIRE(warnings.size() == 1u);
    BOOST_TEST(warnings[0].find("to 0..65535") != std::string::npos, warnings[0]);
    warnings.clear();

    // A float reconstruction of an image overshoots a little: clamped, counted.
    std::vector<float> photo = ramp(0, 255, 400);
    photo[0] = -30.0f;
    photo[1] = -3.0f;
    photo[399] = 290.0f;
    write_image(dir.file("photo.pgm"), photo.data(), Shape{20, 20}, source(ImageSource::floating), &warnings);
    BOOST_TEST_REQUIRE(warnings.size() == 1u);
    BOOST_TEST(warnings[0].find("clamped 3 samples (0.75%) to 0..255; the data runs from -30 to 290") !=
                   std::string::npos,
               warnings[0]);
    const std::vector<float> p = values_of(read_image(dir.file("photo.pgm"), UINT64_MAX));
    BOOST_TEST((p[0] == 0.0f && p[1] == 0.0f && p[399] == 255.0f && p[200] == std::round(photo[200])));
    warnings.clear();

    // Past half the range outside, or with more than 1 % of the samples far
    // outside, a float source is refused; an image's own samples are clamped
    // whatever the overshoot (the original lay in the range).
    photo[399] = 400.0f;
    check_error([&] { write_image(dir.file("far.png"), photo.data(), Shape{20, 20}, source(ImageSource::floating)); },
                errc::bad_input, {"runs from -30 to 400"});
    photo[399] = 290.0f;
    for (std::size_t i = 0; i < 5; ++i) photo[i] = -20.0f;  // 5 of 400 beyond 16 below 0: 1.25 %
    check_error([&] { write_image(dir.file("many.png"), photo.data(), Shape{20, 20}, source(ImageSource::integer)); },
                errc::bad_input, {"runs from -20 to 290"});
    photo[399] = 400.0f;
    write_image(dir.file("image.png"), photo.data(), Shape{20, 20}, source(ImageSource::samples), &warnings);
    BOOST_TEST_REQUIRE(warnings.size() == 1u);
    BOOST_TEST(warnings[0].find("clamped 6 samples (1.5%)") != std::string::npos, warnings[0]);

    // Constant float data is not unit-scale data: written as it is.
    const std::vector<float> flat(16, 0.0f);
    warnings.clear();
    write_image(dir.file("flat.pgm"), flat.data(), Shape{4, 4}, source(ImageSource::floating), &warnings);
    BOOST_TEST(warnings.empty());
}

BOOST_AUTO_TEST_CASE(image_paths_by_extension)
{
    for (const char* yes : {"a.png", "b.PNG", "dir.v2/c.jpg", "d.jpeg", "e.JPEG", "f.ppm", "g.pgm"})
        BOOST_TEST(is_image_path(yes), yes);
    for (const char* no : {"a.h5", "png", "a.png.h5", "a.hdf5:/png", "x.gif", "noext"}) BOOST_TEST(!is_image_path(no), no);
}

BOOST_AUTO_TEST_SUITE_END()
