// Images <-> tensors: PNG read and written through libpng, JPEG read and
// written through libjpeg-turbo, PPM and PGM parsed and written here.
//
// libpng and libjpeg report errors by long-jumping out of the call that
// failed. Each function below that calls setjmp holds only plain C state
// (the libraries' structs, pointers, numbers and message buffers, owned by
// its caller) and returns false when the jump lands; its C++ caller turns
// that into signcut::Error. No long jump crosses a frame with a destructor.
#include "signcut/image.hpp"

#include <sys/stat.h>

#include <csetjmp>
#include <cstdio>
#include <cstdlib>
// jpeglib.h needs FILE and size_t declared before it.
#include <jpeglib.h>
#include <jerror.h>
#include <png.h>

#include <algorithm>
#include <array>
#include <cctype>
#include <cerrno>
#include <climits>
#include <cmath>
#include <cstring>
#include <exception>
#include <memory>
#include <new>
#include <optional>
#include <vector>

#include <fmt/format.h>

#include "atomic_output.hpp"
#include "signcut/error.hpp"

namespace signcut {
namespace {

struct CloseFile {
    void operator()(std::FILE* f) const noexcept { std::fclose(f); }
};
using FilePtr = std::unique_ptr<std::FILE, CloseFile>;

FilePtr open_image(const std::string& path)
{
    struct stat st {};
    if (::stat(path.c_str(), &st) == 0 && S_ISDIR(st.st_mode))
        throw Error(errc::io, fmt::format("cannot open {}: it is a folder", path));
    // A FIFO or a device would block the open: only regular files are inputs.
    if (::stat(path.c_str(), &st) == 0 && !S_ISREG(st.st_mode))
        throw Error(errc::io, fmt::format("cannot open {}: not a regular file (a FIFO, socket or device)", path));
    FilePtr f(std::fopen(path.c_str(), "rb"));
    if (!f) {
        const int err = errno;
        throw Error(errc::io, fmt::format("cannot open {}: {}", path, std::strerror(err)));
    }
    return f;
}

enum class Kind { png, jpeg, pnm, unknown };

Kind sniff(std::FILE* f)
{
    std::array<unsigned char, 8> magic{};
    const std::size_t n = std::fread(magic.data(), 1, magic.size(), f);
    std::rewind(f);
    static constexpr std::array<unsigned char, 8> png{0x89, 'P', 'N', 'G', '\r', '\n', 0x1a, '\n'};
    if (n == 8 && magic == png) return Kind::png;
    if (n >= 3 && magic[0] == 0xff && magic[1] == 0xd8 && magic[2] == 0xff) return Kind::jpeg;
    if (n >= 2 && magic[0] == 'P' && (magic[1] == '2' || magic[1] == '3' || magic[1] == '5' || magic[1] == '6'))
        return Kind::pnm;
    return Kind::unknown;
}

/// The size of the regular file `f`, or UINT64_MAX when it has none (a pipe).
std::uint64_t file_size(std::FILE* f)
{
    struct stat st {};
    if (::fstat(::fileno(f), &st) != 0 || !S_ISREG(st.st_mode)) return UINT64_MAX;
    return static_cast<std::uint64_t>(st.st_size);
}

/// Copies one decoded row of 8-bit or big-endian 16-bit samples (`channels`
/// interleaved, as stored) to floats, keeping gray or RGB and dropping alpha.
void put_row(const unsigned char* row, std::size_t width, int channels, std::size_t bytes, float* out)
{
    const int keep = channels >= 3 ? 3 : 1;
    for (std::size_t x = 0; x < width; ++x)
        for (int c = 0; c < keep; ++c) {
            const unsigned char* s = row + (x * static_cast<unsigned>(channels) + static_cast<unsigned>(c)) * bytes;
            *out++ = static_cast<float>(bytes == 2 ? (unsigned{s[0]} << 8) | s[1] : s[0]);
        }
}

// --- PNM -------------------------------------------------------------------

/// A PNM header: the format (P2/P3 plain text, P5/P6 binary), dimensions and
/// maxval, and where the samples start.
struct PnmHeader {
    ImageInfo info;
    unsigned maxval = 0;
    bool plain = false;
};

/// Reads the next unsigned decimal token, skipping whitespace and "#"
/// comments; `after` receives the character that ended it.
bool pnm_token(std::FILE* f, std::uint64_t& value, int& after)
{
    int c = std::fgetc(f);
    for (;;) {
        if (c == '#') {
            while (c != EOF && c != '\n' && c != '\r') c = std::fgetc(f);
        } else if (c != EOF && std::isspace(c)) {
            c = std::fgetc(f);
        } else {
            break;
        }
    }
    if (c == EOF || !std::isdigit(c)) return false;
    value = 0;
    while (c != EOF && std::isdigit(c)) {
        value = value * 10 + static_cast<unsigned>(c - '0');
        if (value > UINT32_MAX) return false;
        c = std::fgetc(f);
    }
    after = c;
    return true;
}

PnmHeader parse_pnm_header(std::FILE* f, const std::string& path)
{
    PnmHeader h;
    const int p = std::fgetc(f);
    const int t = std::fgetc(f);
    if (p != 'P' || (t != '2' && t != '3' && t != '5' && t != '6'))
        throw Error(errc::bad_input, fmt::format("{} is not a PPM or PGM image", path));
    h.plain = t == '2' || t == '3';
    h.info.channels = (t == '3' || t == '6') ? 3 : 1;
    h.info.format = h.info.channels == 3 ? "ppm" : "pgm";

    std::uint64_t width = 0, height = 0, maxval = 0;
    int after = 0;
    if (!pnm_token(f, width, after) || !pnm_token(f, height, after) || !pnm_token(f, maxval, after) ||
        !std::isspace(after))
        throw Error(errc::bad_input, fmt::format("{}: malformed {} header", path, h.info.format));
    if (width == 0 || height == 0)
        throw Error(errc::bad_input, fmt::format("{}: the header gives an empty image ({}x{})", path, width, height));
    if (maxval == 0 || maxval > 65535)
        throw Error(errc::bad_input, fmt::format("{}: maxval {} is outside 1..65535", path, maxval));
    h.info.width = width;
    h.info.height = height;
    h.maxval = static_cast<unsigned>(maxval);
    h.info.bits_per_channel = maxval > 255 ? 16 : 8;
    return h;
}

/// Reads the samples that follow the header (the file is positioned there).
void read_pnm_samples(std::FILE* f, const PnmHeader& h, float* out, const std::string& path)
{
    const std::uint64_t samples = std::uint64_t{h.info.height} * h.info.width * static_cast<unsigned>(h.info.channels);
    const auto check_sample = [&](std::uint64_t v, std::uint64_t index) {
        if (v > h.maxval)
            throw Error(errc::bad_input,
                        fmt::format("{}: sample {} is {}, above the maxval {}", path, index, v, h.maxval));
    };

    if (h.plain) {
        for (std::uint64_t i = 0; i < samples; ++i) {
            std::uint64_t v = 0;
            int after = 0;
            if (!pnm_token(f, v, after))
                throw Error(errc::bad_input,
                            fmt::format("{} is truncated or malformed: {} samples expected, {} found", path, samples, i));
            if (after != EOF) std::ungetc(after, f);
            check_sample(v, i);
            out[i] = static_cast<float>(v);
        }
        return;
    }

    const std::size_t bytes_per_sample = h.info.bits_per_channel / 8;
    const long data_start = std::ftell(f);
    struct stat st {};
    if (data_start >= 0 && ::fstat(::fileno(f), &st) == 0 && S_ISREG(st.st_mode)) {
        const auto available = static_cast<std::uint64_t>(std::max<long long>(0, st.st_size - data_start));
        if (available < samples * bytes_per_sample)
            throw Error(errc::bad_input, fmt::format("{} is truncated: {} bytes of samples expected, {} found", path,
                                                     samples * bytes_per_sample, available));
    }
    const std::size_t row_samples = h.info.width * static_cast<std::size_t>(h.info.channels);
    std::vector<unsigned char> row(row_samples * bytes_per_sample);
    std::uint64_t index = 0;
    for (std::size_t y = 0; y < h.info.height; ++y) {
        if (std::fread(row.data(), 1, row.size(), f) != row.size())
            throw Error(errc::bad_input, fmt::format("{} is truncated in row {}", path, y));
        for (std::size_t i = 0; i < row_samples; ++i, ++index) {
            // 16-bit PNM samples are big-endian (most significant byte first).
            const std::uint64_t v = bytes_per_sample == 1 ? row[i] : (std::uint64_t{row[2 * i]} << 8) | row[2 * i + 1];
            check_sample(v, index);
            out[index] = static_cast<float>(v);
        }
    }
}

// --- PNG (libpng) ----------------------------------------------------------------

// libpng's own limits, besides signcut's pixel and memory caps (read_image).
constexpr png_uint_32 png_max_side = png_uint_32{1} << 24;  // pixels a side (stb_image's limit, kept)
constexpr png_uint_32 png_chunk_cache = 128;                // ancillary chunks stored (signcut stores none)
constexpr png_alloc_size_t png_chunk_bytes = 8u << 20;      // bytes of one chunk libpng may allocate
constexpr std::size_t png_message_size = 320;

/// What libpng said, for the error pointer of a read or a write.
struct PngMessages {
    char error[png_message_size];
    char warning[png_message_size];  ///< the last warning (libpng explains "Invalid IHDR data" in one)
    bool limit;                      ///< a size limit or memory, not a damaged file
};

[[noreturn]] void png_fail(png_structp png, png_const_charp message)
{
    auto* m = static_cast<PngMessages*>(png_get_error_ptr(png));
    if (m->warning[0] != '\0' && std::strcmp(message, "Invalid IHDR data") == 0) {
        std::snprintf(m->error, sizeof m->error, "%.60s: %.200s", message, m->warning);
        if (std::strstr(m->warning, "user limit") != nullptr) m->limit = true;
    } else {
        std::snprintf(m->error, sizeof m->error, "%s", message);
        if (std::strstr(message, "memory") != nullptr) m->limit = true;
    }
    png_longjmp(png, 1);
}

void png_keep_warning(png_structp png, png_const_charp message)
{
    auto* m = static_cast<PngMessages*>(png_get_error_ptr(png));
    std::snprintf(m->warning, sizeof m->warning, "%s", message);
}

/// A PNG being read: libpng's structs and what signcut learns of the file.
struct PngRead {
    PngMessages messages;
    png_structp png;
    png_infop info;
    std::FILE* file;
    std::uint64_t size;    ///< of the file (UINT64_MAX if unknown)
    std::uint64_t offset;  ///< bytes read so far
    bool seen_ihdr, seen_idat;
    bool no_idat;  ///< IEND came first: the header is whole, the pixel data missing
    png_uint_32 width, height;
    int depth, colour, interlace;
    bool transparency;  ///< a tRNS chunk: a palette image reads as RGBA
};

/// libpng's reads. Each chunk's length is checked against the file's size
/// as its header goes by, so that a length field that lies is refused with
/// the numbers rather than read (or allocated) first; and a file whose
/// first IDAT never comes is refused as such.
void png_read_bytes(png_structp png, png_bytep data, std::size_t length)
{
    auto* r = static_cast<PngRead*>(png_get_io_ptr(png));
    char why[png_message_size];
    const std::size_t got = std::fread(data, 1, length, r->file);
    r->offset += got;
    if (got != length) {
        if (std::ferror(r->file) != 0)
            std::snprintf(why, sizeof why, "read error at byte %llu", static_cast<unsigned long long>(r->offset));
        else
            std::snprintf(why, sizeof why, "the file ends at byte %llu, before its IEND chunk",
                          static_cast<unsigned long long>(r->offset));
        png_error(png, why);
    }
    if ((png_get_io_state(png) & PNG_IO_MASK_LOC) != PNG_IO_CHUNK_HDR || length != 8) return;
    const std::uint64_t claimed = (std::uint64_t{data[0]} << 24) | (std::uint64_t{data[1]} << 16) |
                                  (std::uint64_t{data[2]} << 8) | data[3];
    char name[17] = {};
    for (int i = 0, n = 0; i < 4; ++i) {
        const unsigned char c = data[4 + i];
        n += std::isalpha(c) ? std::snprintf(name + n, sizeof name - n, "%c", c)
                             : std::snprintf(name + n, sizeof name - n, "\\x%02x", c);
    }
    if (std::memcmp(data + 4, "IHDR", 4) == 0) r->seen_ihdr = true;
    if (std::memcmp(data + 4, "IDAT", 4) == 0) r->seen_idat = true;
    // The chunk's data and its 4-byte CRC must fit in what is left.
    if (r->size != UINT64_MAX && (r->size < r->offset || claimed + 4 > r->size - r->offset)) {
        std::snprintf(why, sizeof why,
                      "chunk %s at byte %llu claims %llu bytes, which runs past the end of the file at byte %llu", name,
                      static_cast<unsigned long long>(r->offset - 8), static_cast<unsigned long long>(claimed),
                      static_cast<unsigned long long>(r->size));
        png_error(png, why);
    }
    if (std::memcmp(data + 4, "IEND", 4) == 0 && r->seen_ihdr && !r->seen_idat) {
        r->no_idat = true;  // libpng has read IHDR without complaint: the header is whole
        png_error(png, "no IDAT chunk before IEND: the file holds no pixel data");
    }
}

/// Reads IHDR's fields from libpng (after png_read_info, or after IEND came
/// before any IDAT: IHDR was whole then).
void png_keep_header(PngRead* r)
{
    r->width = png_get_image_width(r->png, r->info);
    r->height = png_get_image_height(r->png, r->info);
    r->depth = png_get_bit_depth(r->png, r->info);
    r->colour = png_get_color_type(r->png, r->info);
    r->interlace = png_get_interlace_type(r->png, r->info);
    r->transparency = png_get_valid(r->png, r->info, PNG_INFO_tRNS) != 0;
}

/// Creates libpng's structs for `r` and reads the header: every chunk
/// before the first IDAT.
bool png_read_header(PngRead* r)
{
    r->png = png_create_read_struct(PNG_LIBPNG_VER_STRING, &r->messages, png_fail, png_keep_warning);
    if (r->png == nullptr) {
        std::snprintf(r->messages.error, sizeof r->messages.error, "out of memory");
        r->messages.limit = true;
        return false;
    }
    if (setjmp(png_jmpbuf(r->png)) != 0) {
        if (r->no_idat) png_keep_header(r);
        return false;
    }
    r->info = png_create_info_struct(r->png);
    if (r->info == nullptr) png_error(r->png, "out of memory");
    png_set_read_fn(r->png, r, png_read_bytes);
    png_set_user_limits(r->png, png_max_side, png_max_side);
    png_set_chunk_cache_max(r->png, png_chunk_cache);
    png_set_chunk_malloc_max(r->png, png_chunk_bytes);
    // A CRC error refuses the file, in ancillary chunks too (libpng's
    // default only warns about those); so does what libpng would merely
    // warn about (pixel data beyond the image's rows, a damaged tRNS).
    png_set_crc_action(r->png, PNG_CRC_DEFAULT, PNG_CRC_ERROR_QUIT);
    png_set_benign_errors(r->png, 0);
    // signcut reads pixels only: every ancillary chunk but tRNS is skipped
    // unparsed (its CRC still checked).
    png_set_keep_unknown_chunks(r->png, PNG_HANDLE_CHUNK_NEVER, nullptr, -1);
    png_read_info(r->png, r->info);
    png_keep_header(r);
    return true;
}

/// Decodes the pixels after png_read_header into `out` (gray or RGB floats),
/// through `rows`: one row of `row_bytes`, or every row of an interlaced
/// image (whose seven passes each fill part of every row). Reads on to IEND,
/// so that every chunk's CRC is checked.
bool png_read_pixels(PngRead* r, unsigned char* rows, std::size_t row_bytes, int channels, float* out)
{
    if (setjmp(png_jmpbuf(r->png)) != 0) return false;
    if (r->colour == PNG_COLOR_TYPE_PALETTE) png_set_palette_to_rgb(r->png);
    if (r->colour == PNG_COLOR_TYPE_GRAY && r->depth < 8) png_set_expand_gray_1_2_4_to_8(r->png);
    const int passes = png_set_interlace_handling(r->png);
    png_read_update_info(r->png, r->info);
    if (png_get_rowbytes(r->png, r->info) != row_bytes || png_get_channels(r->png, r->info) != channels)
        png_error(r->png, "the decoded rows do not have the header's layout");
    const std::size_t bytes = r->depth == 16 ? 2 : 1;
    const std::size_t width = r->width, keep = channels >= 3 ? 3 : 1;
    for (int pass = 0; pass < passes; ++pass)
        for (png_uint_32 y = 0; y < r->height; ++y) {
            unsigned char* row = passes > 1 ? rows + std::size_t{y} * row_bytes : rows;
            png_read_row(r->png, row, nullptr);
            if (passes == 1) put_row(row, width, channels, bytes, out + std::size_t{y} * width * keep);
        }
    if (passes > 1)
        for (png_uint_32 y = 0; y < r->height; ++y)
            put_row(rows + std::size_t{y} * row_bytes, width, channels, bytes, out + std::size_t{y} * width * keep);
    png_read_end(r->png, r->info);
    return true;
}

/// Frees libpng's read structs, whatever happened.
struct PngReadFree {
    PngRead* r;
    ~PngReadFree()
    {
        if (r->png != nullptr) png_destroy_read_struct(&r->png, &r->info, nullptr);
    }
};

class PngDecoder {
public:
    PngDecoder(std::FILE* f, const std::string& path) : path_(path)
    {
        r_.file = f;
        r_.size = file_size(f);
        // A header without pixel data is refused when decoding, after the
        // caller's limits have seen its size (as with any other PNG).
        if (!png_read_header(&r_) && !r_.no_idat)
            fail(r_.seen_idat ? "cannot decode the PNG image" : "cannot read the PNG header");
    }
    PngDecoder(const PngDecoder&) = delete;
    PngDecoder& operator=(const PngDecoder&) = delete;

    ImageInfo info() const
    {
        ImageInfo i;
        i.format = "png";
        i.width = r_.width;
        i.height = r_.height;
        i.channels = channels();
        i.bits_per_channel = r_.depth == 16 ? 16 : 8;
        return i;
    }

    void decode(float* out)
    {
        if (r_.no_idat) fail("cannot decode the PNG image");
        const std::size_t row_bytes = std::size_t{r_.width} * static_cast<unsigned>(channels()) * (r_.depth == 16 ? 2 : 1);
        std::vector<unsigned char> rows;
        try {
            rows.resize(r_.interlace != PNG_INTERLACE_NONE ? row_bytes * r_.height : row_bytes);
        } catch (const std::bad_alloc&) {
            throw Error(errc::limit, fmt::format("{} ({}x{}): cannot allocate memory for its rows", path_, r_.width,
                                                 r_.height));
        }
        if (!png_read_pixels(&r_, rows.data(), row_bytes, channels(), out)) fail("cannot decode the PNG image");
    }

private:
    /// Channels as decoded: a palette becomes RGB, or RGBA with a tRNS chunk;
    /// a tRNS chunk of gray or RGB is not turned into alpha.
    int channels() const
    {
        switch (r_.colour) {
        case PNG_COLOR_TYPE_GRAY_ALPHA: return 2;
        case PNG_COLOR_TYPE_RGB: return 3;
        case PNG_COLOR_TYPE_RGB_ALPHA: return 4;
        case PNG_COLOR_TYPE_PALETTE: return r_.transparency ? 4 : 3;
        default: return 1;
        }
    }

    [[noreturn]] void fail(const char* what) const
    {
        throw Error(r_.messages.limit ? errc::limit : errc::bad_input,
                    fmt::format("{}: {} ({})", path_, what, r_.messages.error));
    }

    PngRead r_{};
    PngReadFree free_{&r_};
    std::string path_;
};

// --- JPEG (libjpeg-turbo) ----------------------------------------------------------

/// Scans a progressive JPEG may hold (each rereads the whole image; real
/// files have about ten).
constexpr int jpeg_max_scans = 1000;

/// libjpeg's error manager, turned into a return value: `error_exit`
/// long-jumps back into the function that called setjmp on `jump`.
struct JpegError {
    jpeg_error_mgr manager;  // first, so libjpeg's pointer to it is a pointer to this
    std::jmp_buf jump;
    char message[JMSG_LENGTH_MAX];
    bool limit;  ///< memory or a size limit, not a damaged file
};

[[noreturn]] void jpeg_fail(j_common_ptr cinfo)
{
    auto* e = reinterpret_cast<JpegError*>(cinfo->err);
    (*cinfo->err->format_message)(cinfo, e->message);
    const int code = cinfo->err->msg_code;
    e->limit = code == JERR_OUT_OF_MEMORY || code == JERR_NO_BACKING_STORE || code == JERR_IMAGE_TOO_BIG ||
               code == JERR_WIDTH_OVERFLOW;
    if (code == JERR_NO_BACKING_STORE)  // what libjpeg says when its whole-image buffers exceed max_memory_to_use
        std::snprintf(e->message, sizeof e->message, "its coefficient buffers need more than the memory limit leaves");
    std::longjmp(e->jump, 1);
}

/// Writing: a warning (level -1) is an error; trace messages are dropped.
void jpeg_message(j_common_ptr cinfo, int level)
{
    if (level < 0) jpeg_fail(cinfo);
}

/// Reading: a warning that the data is damaged or cut short (libjpeg would
/// fill the rest with grey) is an error; one about metadata, or about bytes
/// between segments that the decoder skips, is not.
void jpeg_read_message(j_common_ptr cinfo, int level)
{
    if (level >= 0) return;
    const int code = cinfo->err->msg_code;
    if (code == JWRN_EXTRANEOUS_DATA || code == JWRN_JFIF_MAJOR || code == JWRN_ADOBE_XFORM) return;
    jpeg_fail(cinfo);
}

/// A JPEG being read: libjpeg's state, plain data.
struct JpegRead {
    jpeg_decompress_struct cinfo;
    JpegError error;
    jpeg_progress_mgr progress;
    std::FILE* file;
};

/// Refuses a progressive JPEG with too many scans (libjpeg calls this as it
/// reads them).
void jpeg_count_scans(j_common_ptr cinfo)
{
    if (cinfo->is_decompressor == 0 || reinterpret_cast<j_decompress_ptr>(cinfo)->input_scan_number <= jpeg_max_scans)
        return;
    auto* e = reinterpret_cast<JpegError*>(cinfo->err);
    std::snprintf(e->message, sizeof e->message, "more than %d scans", jpeg_max_scans);
    std::longjmp(e->jump, 1);
}

/// Sets up libjpeg for `r` and reads the header (through the frame header).
bool jpeg_read_header_of(JpegRead* r)
{
    r->cinfo.err = jpeg_std_error(&r->error.manager);
    r->error.manager.error_exit = jpeg_fail;
    r->error.manager.emit_message = jpeg_read_message;
    if (setjmp(r->error.jump) != 0) return false;
    jpeg_create_decompress(&r->cinfo);
    r->progress.progress_monitor = jpeg_count_scans;
    r->cinfo.progress = &r->progress;
    jpeg_stdio_src(&r->cinfo, r->file);
    jpeg_read_header(&r->cinfo, TRUE);
    return true;
}

/// stb_image's CMYK to RGB: x · k / 255, rounded (libjpeg hands CMYK and
/// YCCK JPEGs over as Adobe's inverted CMYK).
unsigned char blinn(unsigned x, unsigned k)
{
    const unsigned t = x * k + 128;
    return static_cast<unsigned char>((t + (t >> 8)) >> 8);
}

/// Decodes the pixels after jpeg_read_header_of into `out` (gray or RGB
/// floats) through `row` (one row of output_components samples), with at
/// most `max_memory` bytes for libjpeg's whole-image buffers; reads on to
/// the end marker.
bool jpeg_read_pixels(JpegRead* r, unsigned char* row, float* out, long max_memory)
{
    if (setjmp(r->error.jump) != 0) return false;
    j_decompress_ptr c = &r->cinfo;
    c->out_color_space = c->num_components == 1                                             ? JCS_GRAYSCALE
                         : c->jpeg_color_space == JCS_CMYK || c->jpeg_color_space == JCS_YCCK ? JCS_CMYK
                                                                                              : JCS_RGB;
    c->mem->max_memory_to_use = max_memory;
    jpeg_start_decompress(c);
    if (c->output_width != c->image_width || c->output_height != c->image_height ||
        c->output_components != c->num_components) {
        std::snprintf(r->error.message, sizeof r->error.message, "the decoder's output is not the header's layout");
        std::longjmp(r->error.jump, 1);
    }
    const std::size_t width = c->output_width;
    const int components = c->output_components;
    const std::size_t keep = components >= 3 ? 3 : 1;
    while (c->output_scanline < c->output_height) {
        float* o = out + std::size_t{c->output_scanline} * width * keep;
        JSAMPROW p = row;
        jpeg_read_scanlines(c, &p, 1);
        if (components == 4) {
            for (std::size_t x = 0; x < width; ++x, o += 3) {
                const unsigned char* s = row + 4 * x;
                for (int k = 0; k < 3; ++k) o[k] = blinn(s[k], s[3]);
            }
        } else {
            put_row(row, width, components, 1, o);
        }
    }
    jpeg_finish_decompress(c);
    return true;
}

/// Frees libjpeg's state, whatever happened (jpeg_destroy accepts a
/// struct that jpeg_create never filled, zeroed).
struct JpegReadFree {
    JpegRead* r;
    ~JpegReadFree() { jpeg_destroy_decompress(&r->cinfo); }
};

class JpegDecoder {
public:
    JpegDecoder(std::FILE* f, const std::string& path) : path_(path)
    {
        r_.file = f;
        if (!jpeg_read_header_of(&r_)) fail("cannot read the JPEG header");
        const int n = r_.cinfo.num_components;
        if (n != 1 && n != 3 && n != 4)
            throw Error(errc::bad_input, fmt::format("{}: cannot read the JPEG header ({} colour components; signcut "
                                                     "reads gray, RGB and CMYK JPEGs)",
                                                     path, n));
    }
    JpegDecoder(const JpegDecoder&) = delete;
    JpegDecoder& operator=(const JpegDecoder&) = delete;

    ImageInfo info() const
    {
        ImageInfo i;
        i.format = "jpeg";
        i.width = r_.cinfo.image_width;
        i.height = r_.cinfo.image_height;
        i.channels = r_.cinfo.num_components >= 3 ? 3 : 1;
        i.bits_per_channel = 8;
        return i;
    }

    /// `max_memory`: what libjpeg may use beyond the tensor.
    void decode(float* out, std::uint64_t max_memory)
    {
        std::vector<unsigned char> row;
        try {
            row.resize(std::size_t{r_.cinfo.image_width} * static_cast<unsigned>(r_.cinfo.num_components));
        } catch (const std::bad_alloc&) {
            throw Error(errc::limit, fmt::format("{}: cannot allocate memory for a row", path_));
        }
        const long budget = static_cast<long>(std::min<std::uint64_t>(max_memory, LONG_MAX));
        if (!jpeg_read_pixels(&r_, row.data(), out, std::max(budget, 1L))) fail("cannot decode the JPEG image");
    }

private:
    [[noreturn]] void fail(const char* what) const
    {
        throw Error(r_.error.limit ? errc::limit : errc::bad_input,
                    fmt::format("{}: {} ({})", path_, what, r_.error.message));
    }

    JpegRead r_{};
    JpegReadFree free_{&r_};
    std::string path_;
};

// --- every format ----------------------------------------------------------------

/// An image file opened for reading, its header read.
struct Source {
    Kind kind = Kind::unknown;
    ImageInfo info;
    PnmHeader pnm;
    std::optional<PngDecoder> png;
    std::optional<JpegDecoder> jpeg;

    Source(std::FILE* f, const std::string& path)
    {
        kind = sniff(f);
        switch (kind) {
        case Kind::pnm:
            pnm = parse_pnm_header(f, path);
            info = pnm.info;
            break;
        case Kind::png:
            png.emplace(f, path);
            info = png->info();
            break;
        case Kind::jpeg:
            jpeg.emplace(f, path);
            info = jpeg->info();
            break;
        case Kind::unknown:
            throw Error(errc::bad_input, fmt::format("{} is not a PNG, JPEG, PPM or PGM image", path));
        }
    }
};

int output_channels(int stored) { return stored >= 3 ? 3 : 1; }

std::uint64_t tensor_bytes(const ImageInfo& info)
{
    const unsigned __int128 t = static_cast<unsigned __int128>(info.width) * info.height *
                                static_cast<unsigned>(output_channels(info.channels)) * sizeof(float);
    return t > UINT64_MAX ? UINT64_MAX : static_cast<std::uint64_t>(t);
}

/// Bytes a decode needs at its peak: the float tensor plus, for PNG and
/// JPEG, two copies of the raw samples (what an interlaced PNG's rows or a
/// progressive JPEG's coefficients take, with room to spare), or one row for
/// the PNM reader.
std::uint64_t decode_bytes(Kind kind, const ImageInfo& info)
{
    const unsigned __int128 pixels = static_cast<unsigned __int128>(info.width) * info.height;
    const unsigned __int128 raw =
        pixels * static_cast<unsigned>(info.channels) * static_cast<unsigned>(info.bits_per_channel / 8);
    const unsigned __int128 decoder = kind == Kind::pnm ? raw / info.height : 2 * raw;
    const unsigned __int128 total = tensor_bytes(info) + decoder;
    return total > UINT64_MAX ? UINT64_MAX : static_cast<std::uint64_t>(total);
}

Shape tensor_shape(const ImageInfo& info)
{
    if (output_channels(info.channels) == 3) return {info.height, info.width, 3};
    return {info.height, info.width};
}

/// Where PNG bytes go: the atomic output, and what it threw (an exception
/// must not cross libpng's C frames).
struct PngSink {
    io::AtomicOutput* output;
    std::exception_ptr error;
};

void png_write_bytes(png_structp png, png_bytep data, std::size_t length)
{
    auto* sink = static_cast<PngSink*>(png_get_io_ptr(png));
    bool failed = false;
    try {
        sink->output->write(data, length);
    } catch (...) {
        sink->error = std::current_exception();
        failed = true;
    }
    if (failed) png_error(png, "the output refused the bytes");
}

void png_flush_nothing(png_structp) {}

/// A PNG being written: libpng's structs, plain data.
struct PngWrite {
    PngMessages messages;
    png_structp png;
    png_infop info;
};

/// Encodes 8-bit interleaved samples (1 or 3 channels) as a PNG into `sink`.
bool encode_png(PngWrite* w, PngSink* sink, const unsigned char* samples, png_uint_32 width, png_uint_32 height,
                int channels)
{
    w->png = png_create_write_struct(PNG_LIBPNG_VER_STRING, &w->messages, png_fail, png_keep_warning);
    if (w->png == nullptr) {
        std::snprintf(w->messages.error, sizeof w->messages.error, "out of memory");
        return false;
    }
    if (setjmp(png_jmpbuf(w->png)) != 0) return false;
    w->info = png_create_info_struct(w->png);
    if (w->info == nullptr) png_error(w->png, "out of memory");
    png_set_write_fn(w->png, sink, png_write_bytes, png_flush_nothing);
    png_set_user_limits(w->png, PNG_UINT_31_MAX, PNG_UINT_31_MAX);
    png_set_IHDR(w->png, w->info, width, height, 8, channels == 3 ? PNG_COLOR_TYPE_RGB : PNG_COLOR_TYPE_GRAY,
                 PNG_INTERLACE_NONE, PNG_COMPRESSION_TYPE_DEFAULT, PNG_FILTER_TYPE_DEFAULT);
    png_write_info(w->png, w->info);
    const std::size_t stride = std::size_t{width} * static_cast<unsigned>(channels);
    for (png_uint_32 y = 0; y < height; ++y) png_write_row(w->png, samples + std::size_t{y} * stride);
    png_write_end(w->png, w->info);
    return true;
}

// --- writing -------------------------------------------------------------------

/// The lower-case extension of the last component of `path` ("" if none).
std::string extension_of(std::string_view path)
{
    const std::size_t slash = path.find_last_of('/');
    const std::string_view name = slash == std::string_view::npos ? path : path.substr(slash + 1);
    const std::size_t dot = name.rfind('.');
    if (dot == std::string_view::npos) return {};
    std::string ext(name.substr(dot + 1));
    for (char& c : ext) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
    return ext;
}

/// The image formats people name outputs with that signcut does not write,
/// with their names for messages.
const char* foreign_format_name(const std::string& ext)
{
    static constexpr std::array<std::pair<const char*, const char*>, 14> names{{
        {"tif", "TIFF"}, {"tiff", "TIFF"}, {"bmp", "BMP"}, {"gif", "GIF"}, {"webp", "WebP"}, {"avif", "AVIF"},
        {"heic", "HEIC"}, {"jxl", "JPEG XL"}, {"jp2", "JPEG 2000"}, {"exr", "OpenEXR"}, {"tga", "TGA"},
        {"pbm", "PBM (1-bit)"}, {"pnm", "PNM: name it .ppm for RGB or .pgm for gray"}, {"pam", "PAM"},
    }};
    for (const auto& [e, name] : names)
        if (ext == e) return name;
    return nullptr;
}

/// Encodes 8-bit interleaved samples (1 or 3 channels) as a JPEG in memory
/// allocated with malloc (`*out`, `*out_size`; free it with std::free).
/// Returns false with libjpeg's message in `message` on failure.
bool encode_jpeg(const unsigned char* samples, unsigned width, unsigned height, int channels, unsigned char** out,
                 unsigned long* out_size, char* message)
{
    jpeg_compress_struct cinfo;
    std::memset(&cinfo, 0, sizeof cinfo);
    JpegError err;
    cinfo.err = jpeg_std_error(&err.manager);
    err.manager.error_exit = jpeg_fail;
    err.manager.emit_message = jpeg_message;
    *out = nullptr;
    *out_size = 0;
    if (setjmp(err.jump) != 0) {
        jpeg_destroy_compress(&cinfo);
        std::free(*out);
        *out = nullptr;
        std::memcpy(message, err.message, JMSG_LENGTH_MAX);
        return false;
    }
    jpeg_create_compress(&cinfo);
    jpeg_mem_dest(&cinfo, out, out_size);
    cinfo.image_width = width;
    cinfo.image_height = height;
    cinfo.input_components = channels;
    cinfo.in_color_space = channels == 3 ? JCS_RGB : JCS_GRAYSCALE;
    jpeg_set_defaults(&cinfo);
    jpeg_set_quality(&cinfo, jpeg_quality, TRUE);
    cinfo.optimize_coding = TRUE;
    for (int c = 0; c < cinfo.num_components; ++c) {
        // 4:4:4: no chroma subsampling.
        cinfo.comp_info[c].h_samp_factor = 1;
        cinfo.comp_info[c].v_samp_factor = 1;
    }
    jpeg_start_compress(&cinfo, TRUE);
    const std::size_t stride = std::size_t{width} * static_cast<unsigned>(channels);
    while (cinfo.next_scanline < cinfo.image_height) {
        JSAMPROW row = const_cast<JSAMPROW>(samples + std::size_t{cinfo.next_scanline} * stride);
        jpeg_write_scanlines(&cinfo, &row, 1);
    }
    jpeg_finish_compress(&cinfo);
    jpeg_destroy_compress(&cinfo);
    return true;
}

/// "12.5%", with as many digits as a small share needs.
std::string percent(std::uint64_t part, std::uint64_t whole)
{
    return fmt::format("{:.3g}%", 100.0 * static_cast<double>(part) / static_cast<double>(whole));
}

/// What write_image learns of the data before converting it.
struct SampleStats {
    double min = 0, max = 0;
    std::uint64_t outside = 0;  ///< samples that round to a value outside 0..range
    std::uint64_t far = 0;      ///< samples more than range/16 outside 0..range
};

/// Min, max and the samples outside 0..`range`; refuses NaN and ±Inf.
SampleStats sample_stats(const std::string& path, const float* data, std::size_t count, double range)
{
    SampleStats s;
    s.min = HUGE_VAL;
    s.max = -HUGE_VAL;
    for (std::size_t i = 0; i < count; ++i) {
        const double v = data[i];
        if (!std::isfinite(v))
            throw Error(errc::bad_input, fmt::format("cannot write {}: sample {} is {}; an image holds finite values "
                                                     "only",
                                                     path, i, std::isnan(v) ? "NaN" : v > 0 ? "inf" : "-inf"));
        s.min = std::min(s.min, v);
        s.max = std::max(s.max, v);
        // Rounding half away from zero: -0.5 becomes -1, range + 0.5 becomes range + 1.
        s.outside += v <= -0.5 || v >= range + 0.5;
        s.far += v < -range / 16 || v > range + range / 16;
    }
    return s;
}

}  // namespace

bool is_image_path(std::string_view path)
{
    const std::size_t dot = path.rfind('.');
    if (dot == std::string_view::npos) return false;
    std::string ext(path.substr(dot + 1));
    for (char& c : ext) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
    return ext == "png" || ext == "jpg" || ext == "jpeg" || ext == "ppm" || ext == "pgm";
}

bool is_foreign_image_path(std::string_view path) { return foreign_format_name(extension_of(path)) != nullptr; }

const char* image_format_name(ImageFormat format)
{
    switch (format) {
    case ImageFormat::png: return "PNG";
    case ImageFormat::jpeg: return "JPEG";
    case ImageFormat::ppm: return "PPM";
    case ImageFormat::pgm: return "PGM";
    }
    return "image";
}

ImageFormat image_output_format(std::string_view path)
{
    const std::string ext = extension_of(path);
    if (ext == "png") return ImageFormat::png;
    if (ext == "jpg" || ext == "jpeg") return ImageFormat::jpeg;
    if (ext == "ppm") return ImageFormat::ppm;
    if (ext == "pgm") return ImageFormat::pgm;
    const char* foreign = foreign_format_name(ext);
    throw Error(errc::invalid_argument,
                fmt::format("the output {} must be a .png, .jpg, .jpeg, .ppm or .pgm file{}", path,
                            foreign != nullptr ? fmt::format(" (signcut does not write {})", foreign) : std::string()));
}

ImageInfo inspect_image(const std::string& path)
{
    FilePtr f = open_image(path);
    return Source(f.get(), path).info;
}

Tensor read_image(const std::string& path, std::uint64_t max_bytes, std::vector<std::string>* warnings,
                  ImageInfo* info, std::uint64_t max_pixels)
{
    FilePtr f = open_image(path);
    Source h(f.get(), path);

    const std::uint64_t pixels = std::uint64_t{h.info.width} * h.info.height;
    if (pixels > max_pixels)
        throw Error(errc::limit, fmt::format("{} is {}x{} pixels ({}), more than the limit of {} pixels", path,
                                             h.info.width, h.info.height, pixels, max_pixels));
    const std::uint64_t needed = decode_bytes(h.kind, h.info);
    if (needed > max_bytes)
        throw Error(errc::limit,
                    fmt::format("{} ({}x{}, {} channels of {} bits): decoding needs about {} bytes, more than the memory "
                                "limit of {} bytes",
                                path, h.info.width, h.info.height, h.info.channels, h.info.bits_per_channel, needed,
                                max_bytes));

    Tensor out;
    try {
        out = Tensor::from_shape(tensor_shape(h.info));
    } catch (const std::bad_alloc&) {
        throw Error(errc::limit, fmt::format("{} ({}x{}): cannot allocate memory for its samples", path, h.info.width,
                                             h.info.height));
    }
    switch (h.kind) {
    case Kind::pnm: {
        read_pnm_samples(f.get(), h.pnm, out.data(), path);
        const unsigned full = h.info.bits_per_channel == 16 ? 65535u : 255u;
        if (h.pnm.maxval != full) {
            // Multiply before dividing, in double: a sample equal to maxval
            // becomes exactly `full` (a float factor such as 65535/1000
            // rounds up, and would put it past the scale).
            for (float& v : out) v = static_cast<float>(static_cast<double>(v) * full / h.pnm.maxval);
            if (warnings != nullptr)
                warnings->push_back(fmt::format("{}: maxval {}; samples were rescaled to 0..{}", path, h.pnm.maxval, full));
        }
        break;
    }
    case Kind::png: h.png->decode(out.data()); break;
    case Kind::jpeg: h.jpeg->decode(out.data(), max_bytes - tensor_bytes(h.info)); break;
    case Kind::unknown: break;
    }
    if ((h.info.channels == 2 || h.info.channels == 4) && warnings != nullptr)
        warnings->push_back(fmt::format("{}: the alpha channel was dropped (signcut reads {} images)", path,
                                        h.info.channels == 2 ? "gray" : "RGB"));
    if (info != nullptr) *info = h.info;
    return out;
}

namespace {

/// check_image_output for `format`, whatever `path`'s extension.
void check_shape_for(std::string_view path, ImageFormat format, std::span<const std::size_t> shape)
{
    const char* name = image_format_name(format);
    const bool gray = shape.size() == 2 || (shape.size() == 3 && shape[2] == 1);
    const bool rgb = shape.size() == 3 && shape[2] == 3;
    if (!gray && !rgb)
        throw Error(errc::invalid_argument, fmt::format("cannot write {}: {} output needs shape HxW or HxWx3, not {}",
                                                        path, name, format_shape(shape)));
    if (format == ImageFormat::ppm && gray)
        throw Error(errc::bad_input, fmt::format("cannot write {}: a PPM holds RGB (HxWx3) and the data is gray ({}); "
                                                 "name the output .pgm",
                                                 path, format_shape(shape)));
    if (format == ImageFormat::pgm && rgb)
        throw Error(errc::bad_input, fmt::format("cannot write {}: a PGM holds gray (HxW) and the data is RGB ({}); "
                                                 "name the output .ppm",
                                                 path, format_shape(shape)));
    const std::size_t channels = rgb ? 3 : 1;
    // PNG rows are counted in int here (libpng takes 2^31 - 1 pixels a side);
    // JPEG's own limit is 65500 pixels a side.
    const std::size_t max_side = format == ImageFormat::jpeg  ? std::size_t{JPEG_MAX_DIMENSION}
                                 : format == ImageFormat::png ? static_cast<std::size_t>(INT_MAX) / channels
                                                              : static_cast<std::size_t>(UINT32_MAX);
    if (shape[0] == 0 || shape[1] == 0 || shape[0] > max_side || shape[1] > max_side)
        throw Error(errc::invalid_argument,
                    fmt::format("cannot write {}: {} is not a valid {} size", path, format_shape(shape), name));
}

/// write_image in `format`, whatever `path`'s extension.
void write_as(const std::string& path, ImageFormat format, const float* data, std::span<const std::size_t> shape,
              const ImageWriteOptions& options, std::vector<std::string>* warnings)
{
    check_shape_for(path, format, shape);
    const char* name = image_format_name(format);
    if (options.source_bits != 8 && options.source_bits != 16)
        throw Error(errc::invalid_argument,
                    fmt::format("cannot write {}: source_bits is {}, expected 8 or 16", path, options.source_bits));
    const int channels = shape.size() == 3 && shape[2] == 3 ? 3 : 1;
    if (data == nullptr) throw Error(errc::invalid_argument, fmt::format("cannot write {}: no data", path));

    const std::size_t count = shape[0] * shape[1] * static_cast<std::size_t>(channels);
    const double range = options.source_bits == 16 ? 65535.0 : 255.0;
    const bool pnm = format == ImageFormat::ppm || format == ImageFormat::pgm;
    const int out_bits = pnm && options.source_bits == 16 ? 16 : 8;
    const double out_range = out_bits == 16 ? 65535.0 : 255.0;
    const SampleStats st = sample_stats(path, data, count, range);

    std::vector<std::string> notes;
    // Each sample as a value on 0..range (after --scale or clamping), then
    // on 0..out_range.
    double offset = 0, factor = out_range / range;
    if (options.scale) {
        offset = st.min;
        factor = st.max > st.min ? out_range / (st.max - st.min) : 0.0;
        notes.push_back(fmt::format("{}: scaled {:.6g}..{:.6g} to 0..{} (--scale)", path, st.min, st.max, out_range));
    } else {
        const std::string refuse_tail = fmt::format("--scale maps min..max onto 0..{}", out_range);
        if (st.outside > 0) {
            // Overshoot, not data on another scale: nothing beyond half the
            // range outside it, and at most 1 % of the samples beyond 1/16.
            const bool near = st.min >= -range / 2 && st.max <= range * 1.5 &&
                              static_cast<double>(st.far) <= 0.01 * static_cast<double>(count);
            if (options.source != ImageSource::samples && !near)
                throw Error(errc::bad_input,
                            fmt::format("cannot write {}: the data runs from {:.6g} to {:.6g}, with {} of its samples "
                                        "outside 0..{}, the range of {}-bit samples; {}",
                                        path, st.min, st.max, percent(st.outside, count), range, options.source_bits,
                                        refuse_tail));
            notes.push_back(fmt::format("{}: clamped {} sample{} ({}) to 0..{}; the data runs from {:.6g} to {:.6g}",
                                        path, st.outside, st.outside == 1 ? "" : "s", percent(st.outside, count),
                                        range, st.min, st.max));
        }
        if (options.source == ImageSource::floating && st.max > st.min && st.max - st.min < 16)
            throw Error(errc::bad_input,
                        fmt::format("cannot write {}: the float data runs only from {:.6g} to {:.6g}, less than 16 of "
                                    "the steps of {}-bit samples 0..{} (it would round to a nearly uniform image); {}",
                                    path, st.min, st.max, options.source_bits, range, refuse_tail));
        if (out_bits < options.source_bits)
            notes.push_back(fmt::format("{}: the source has 16 bits per sample and {} output is 8-bit; samples were "
                                        "scaled by 255/65535",
                                        path, name));
    }
    const auto sample = [&](std::size_t i) {
        // Clamping before rounding keeps the conversion defined; std::round
        // rounds half away from zero.
        const double v = options.scale ? (data[i] - offset) * factor : std::clamp<double>(data[i], 0.0, range) * factor;
        return std::round(std::clamp(v, 0.0, out_range));
    };

    io::AtomicOutput output(path, options.force);
    const std::size_t height = shape[0], width = shape[1];
    if (pnm) {
        const std::string header =
            fmt::format("P{}\n{} {}\n{}\n", format == ImageFormat::ppm ? 6 : 5, width, height, out_range);
        output.write(header.data(), header.size());
        const std::size_t row_samples = width * static_cast<std::size_t>(channels);
        std::vector<unsigned char> row(row_samples * static_cast<std::size_t>(out_bits / 8));
        for (std::size_t y = 0; y < height; ++y) {
            for (std::size_t i = 0; i < row_samples; ++i) {
                const auto v = static_cast<unsigned>(sample(y * row_samples + i));
                if (out_bits == 8) {
                    row[i] = static_cast<unsigned char>(v);
                } else {
                    // Netpbm: most significant byte first.
                    row[2 * i] = static_cast<unsigned char>(v >> 8);
                    row[2 * i + 1] = static_cast<unsigned char>(v & 0xff);
                }
            }
            output.write(row.data(), row.size());
        }
    } else {
        std::vector<unsigned char> bytes(count);
        for (std::size_t i = 0; i < count; ++i) bytes[i] = static_cast<unsigned char>(sample(i));
        if (format == ImageFormat::png) {
            PngSink sink{&output, nullptr};
            PngWrite png{};
            const bool ok = encode_png(&png, &sink, bytes.data(), static_cast<png_uint_32>(width),
                                       static_cast<png_uint_32>(height), channels);
            if (png.png != nullptr) png_destroy_write_struct(&png.png, &png.info);
            if (sink.error) std::rethrow_exception(sink.error);
            if (!ok)
                throw Error(errc::io, fmt::format("cannot write {}: the PNG encoder failed ({})", path, png.messages.error));
        } else {
            unsigned char* jpeg = nullptr;
            unsigned long jpeg_size = 0;
            char message[JMSG_LENGTH_MAX] = {};
            if (!encode_jpeg(bytes.data(), static_cast<unsigned>(width), static_cast<unsigned>(height), channels, &jpeg,
                             &jpeg_size, message))
                throw Error(errc::io, fmt::format("cannot write {}: the JPEG encoder failed ({})", path, message));
            const std::unique_ptr<unsigned char, decltype(&std::free)> owned(jpeg, &std::free);
            output.write(jpeg, jpeg_size);
        }
    }
    output.commit();
    if (warnings != nullptr) warnings->insert(warnings->end(), notes.begin(), notes.end());
}

}  // namespace

ImageFormat check_image_output(std::string_view path, std::span<const std::size_t> shape)
{
    const ImageFormat format = image_output_format(path);
    check_shape_for(path, format, shape);
    return format;
}

void write_image(const std::string& path, const float* data, std::span<const std::size_t> shape,
                 const ImageWriteOptions& options, std::vector<std::string>* warnings)
{
    write_as(path, image_output_format(path), data, shape, options, warnings);
}

void write_image(const std::string& path, const Tensor& image, const ImageWriteOptions& options,
                 std::vector<std::string>* warnings)
{
    const Shape shape(image.shape().begin(), image.shape().end());
    write_image(path, image.data(), shape, options, warnings);
}

void write_png(const std::string& path, const float* data, std::span<const std::size_t> shape, bool force,
               int source_bits, std::vector<std::string>* warnings)
{
    ImageWriteOptions o;
    o.source_bits = source_bits;
    o.force = force;
    write_as(path, ImageFormat::png, data, shape, o, warnings);
}

void write_png(const std::string& path, const Tensor& image, bool force, int source_bits,
               std::vector<std::string>* warnings)
{
    const Shape shape(image.shape().begin(), image.shape().end());
    write_png(path, image.data(), shape, force, source_bits, warnings);
}

}  // namespace signcut
