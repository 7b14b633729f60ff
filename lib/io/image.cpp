// Images <-> tensors: PNG and JPEG read through stb_image, PNM parsed here;
// PNG written through stb_image_write, JPEG through libjpeg-turbo, PNM here.
#include "signcut/image.hpp"

#include <sys/stat.h>

#include <stb/stb_image.h>
#include <stb/stb_image_write.h>

#include <csetjmp>
#include <cstdlib>
// jpeglib.h needs FILE and size_t declared before it.
#include <jpeglib.h>

#include <algorithm>
#include <array>
#include <cctype>
#include <cerrno>
#include <climits>
#include <cmath>
#include <cstdio>
#include <cstring>
#include <exception>
#include <memory>
#include <new>
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
    FilePtr f(std::fopen(path.c_str(), "rb"));
    if (!f) {
        const int err = errno;
        throw Error(errc::io, fmt::format("cannot open {}: {}", path, std::strerror(err)));
    }
    return f;
}

std::string stb_reason()
{
    const char* reason = stbi_failure_reason();
    return reason != nullptr ? reason : "unknown reason";
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

// --- PNG structure -----------------------------------------------------------

// stb_image trusts a PNG's own numbers: it sizes its IDAT buffer from the
// chunk lengths as claimed (a 41-byte file can make it allocate 2 GiB), and
// it grows its inflate buffer for as long as the deflate stream produces
// output (16 KiB of IDAT can inflate to 16 MiB for a single pixel). The
// checks below bound both by the size of the file and the size of the image
// before stb decodes anything.

constexpr std::uint32_t png_max_chunk_length = 0x7fffffffu;  // the PNG specification's limit

// Header bytes handed to stbi_info: up to the frame header (JPEG) or the
// first IDAT (PNG). Real files keep them well below this.
constexpr std::uint64_t max_header_bytes = std::uint64_t{16} << 20;

std::uint32_t be32(const unsigned char* p)
{
    return (std::uint32_t{p[0]} << 24) | (std::uint32_t{p[1]} << 16) | (std::uint32_t{p[2]} << 8) | p[3];
}

std::string chunk_name(const unsigned char* type)
{
    std::string name;
    for (int i = 0; i < 4; ++i)
        name += std::isalpha(type[i]) ? std::string(1, static_cast<char>(type[i])) : fmt::format("\\x{:02x}", type[i]);
    return name;
}

/// What signcut reads of a PNG itself: IHDR's fields and where the chunks
/// are. The walk refuses a chunk that runs past the end of the file and a
/// file that ends before IEND (stb fails on both, but only after allocating
/// what the lengths claim).
struct PngLayout {
    bool header_ok = false;  ///< IHDR is well formed (the fields below are set)
    std::uint32_t width = 0, height = 0;
    int depth = 0, colour = 0, interlace = 0;
    int samples = 0;  ///< per pixel, as stored: 1 gray or palette index, 2 gray+alpha, 3 RGB, 4 RGBA

    struct Span {
        std::uint64_t offset, length;
    };
    std::vector<Span> idat;
    std::uint64_t idat_bytes = 0;
    bool raw_deflate = false;      ///< Apple's CgBI variant: deflate without the zlib header
    std::uint64_t header_end = 0;  ///< the bytes stbi_info reads: through the first IDAT's chunk header
};

/// Parses IHDR's 13 bytes; false if stb would refuse them.
bool parse_ihdr(const unsigned char* b, PngLayout& p)
{
    p.width = be32(&b[0]);
    p.height = be32(&b[4]);
    p.depth = b[8];
    p.colour = b[9];
    p.interlace = b[12];
    if (b[10] != 0 || b[11] != 0) return false;  // deflate and adaptive filtering are the only methods
    switch (p.colour) {
    case 0: p.samples = 1; break;
    case 2: p.samples = 3; break;
    case 3: p.samples = 1; break;
    case 4: p.samples = 2; break;
    case 6: p.samples = 4; break;
    default: return false;
    }
    // The combinations stb accepts (it is laxer than the PNG specification,
    // which allows fewer depths for RGB and alpha).
    const bool depth_ok = (p.depth == 1 || p.depth == 2 || p.depth == 4 || p.depth == 8 || p.depth == 16) &&
                          !(p.colour == 3 && p.depth == 16);
    return depth_ok && p.width > 0 && p.height > 0 && p.width <= png_max_chunk_length &&
           p.height <= png_max_chunk_length && p.interlace <= 1;
}

PngLayout walk_png(std::FILE* f, const std::string& path)
{
    PngLayout p;
    struct stat st {};
    if (::fstat(::fileno(f), &st) != 0) throw Error(errc::io, fmt::format("cannot read {}", path));
    if (!S_ISREG(st.st_mode)) throw Error(errc::io, fmt::format("cannot read {}: not a regular file", path));
    const auto size = static_cast<std::uint64_t>(st.st_size);
    const auto refuse = [&](const std::string& why) {
        throw Error(errc::bad_input, fmt::format("{}: cannot decode the PNG image ({})", path, why));
    };
    bool first = true;
    for (std::uint64_t pos = 8;;) {
        if (size - pos < 12) refuse(fmt::format("the file ends at byte {}, before its IEND chunk", size));
        std::array<unsigned char, 21> head{};  // length, type and, for IHDR, its fields
        const std::size_t got = std::fseek(f, static_cast<long>(pos), SEEK_SET) == 0
                                    ? std::fread(head.data(), 1, head.size(), f)
                                    : 0;
        if (got < 8) throw Error(errc::io, fmt::format("cannot read {}", path));
        const std::uint32_t length = be32(head.data());
        if (length > png_max_chunk_length || length > size - pos - 12)
            refuse(fmt::format("chunk {} at byte {} claims {} bytes, which runs past the end of the file at byte {}",
                               chunk_name(&head[4]), pos, length, size));
        const auto is = [&](const char* type) { return std::memcmp(&head[4], type, 4) == 0; };
        if (is("CgBI")) {
            p.raw_deflate = true;  // stb allows it before IHDR
        } else if (first) {
            if (!is("IHDR") || length != 13 || got < 21 || !parse_ihdr(&head[8], p))
                throw Error(errc::bad_input, fmt::format("{}: cannot read the PNG header (malformed IHDR chunk)", path));
            p.header_ok = true;
            first = false;
        } else if (is("IDAT")) {
            if (p.idat.empty()) p.header_end = pos + 8;
            p.idat.push_back({pos + 8, length});
            p.idat_bytes += length;
        } else if (is("IEND")) {
            if (p.idat.empty()) p.header_end = pos + 12;
            break;
        }
        pos += 12 + std::uint64_t{length};
    }
    std::rewind(f);
    return p;
}

/// Bytes of filtered rows the IDAT stream of `p` inflates to: each row is
/// one filter byte plus its packed samples, per Adam7 pass when interlaced.
std::uint64_t png_row_bytes(const PngLayout& p)
{
    const std::uint64_t bits = static_cast<std::uint64_t>(p.depth) * static_cast<unsigned>(p.samples);
    const auto rows = [&](std::uint64_t cols, std::uint64_t count) { return count * ((cols * bits + 7) / 8 + 1); };
    if (p.interlace == 0) return rows(p.width, p.height);
    static constexpr int x0[7] = {0, 4, 0, 2, 0, 1, 0}, y0[7] = {0, 0, 4, 0, 2, 0, 1};
    static constexpr int dx[7] = {8, 8, 4, 4, 2, 2, 1}, dy[7] = {8, 8, 8, 4, 4, 2, 2};
    std::uint64_t total = 0;
    for (int i = 0; i < 7; ++i) {
        const std::uint64_t cols = p.width > std::uint32_t(x0[i]) ? (p.width - x0[i] + dx[i] - 1) / dx[i] : 0;
        const std::uint64_t count = p.height > std::uint32_t(y0[i]) ? (p.height - y0[i] + dy[i] - 1) / dy[i] : 0;
        if (cols > 0 && count > 0) total += rows(cols, count);
    }
    return total;
}

/// stb_image's own size limits on a PNG header (STBI_MAX_DIMENSIONS and
/// 2^30 bytes of 8-bit samples, palette images counted as RGBA).
bool beyond_stb_limits(const PngLayout& p)
{
    constexpr std::uint32_t max_dimension = std::uint32_t{1} << 24;
    const std::uint64_t samples = p.colour == 3 ? 4 : static_cast<unsigned>(p.samples);
    return p.width > max_dimension || p.height > max_dimension ||
           (std::uint64_t{1} << 30) / p.width / samples < p.height;
}

/// Refuses, before decoding, IDAT data beyond what the image can need and an
/// IDAT stream that inflates to more than the image's rows. Memory: the IDAT
/// bytes and one buffer of the inflated size, both bounded by the image.
void check_png_pixel_data(std::FILE* f, const std::string& path, const PngLayout& p)
{
    if (p.idat_bytes == 0) return;  // stb reports the missing IDAT itself
    const auto refuse = [&](errc code, const std::string& why) {
        throw Error(code, fmt::format("{}: cannot decode the PNG image ({})", path, why));
    };
    // Stored (uncompressed) deflate blocks cost 5 bytes per 65535, plus the
    // zlib header and checksum: a quarter more plus 1 KiB is generous.
    const std::uint64_t rows = png_row_bytes(p);
    if (p.idat_bytes > rows + rows / 4 + 1024)
        refuse(errc::bad_input, fmt::format("its IDAT chunks hold {} bytes, more than a {}x{} image can need: {} bytes "
                                            "of rows",
                                            p.idat_bytes, p.width, p.height, rows));
    // stb passes these sizes as int.
    if (rows >= INT_MAX || p.idat_bytes >= INT_MAX)
        refuse(errc::limit, fmt::format("{}x{}, {} bytes of rows, is beyond the decoder's size limit", p.width,
                                        p.height, rows));

    std::vector<char> stream(p.idat_bytes);
    std::size_t filled = 0;
    for (const PngLayout::Span& s : p.idat) {
        if (std::fseek(f, static_cast<long>(s.offset), SEEK_SET) != 0 ||
            std::fread(stream.data() + filled, 1, s.length, f) != s.length)
            throw Error(errc::io, fmt::format("cannot read {}", path));
        filled += s.length;
    }
    std::rewind(f);
    // One byte more than the rows: stb's own inflate (the same code the
    // decoder runs) fails with "output buffer limit" once it would exceed it.
    std::vector<char> inflated(rows + 1);
    const int n = p.raw_deflate ? stbi_zlib_decode_noheader_buffer(inflated.data(), static_cast<int>(inflated.size()),
                                                                    stream.data(), static_cast<int>(stream.size()))
                                : stbi_zlib_decode_buffer(inflated.data(), static_cast<int>(inflated.size()),
                                                          stream.data(), static_cast<int>(stream.size()));
    if ((n < 0 && stb_reason() == "output buffer limit") || (n >= 0 && static_cast<std::uint64_t>(n) > rows))
        refuse(errc::bad_input, fmt::format("its pixel data inflates to more than the {} bytes of rows of a {}x{} "
                                            "image",
                                            rows, p.width, p.height));
    // Any other failure of the stream is left to the decoder, which reports it.
}

// --- JPEG structure ----------------------------------------------------------

/// Walks the marker segments of a JPEG and refuses, before stb reads it, a
/// Huffman table (DHT) that declares more than 256 codes: stb_image copies
/// the declared count of code sizes and symbols into 257- and 256-entry
/// arrays without checking it, writing past them into the decoder's state.
/// It also refuses a scan that uses a Huffman table no DHT defined, which
/// stb decodes with uninitialised memory.
/// Entropy-coded data after each scan header is skipped to the next marker,
/// so the tables of every scan (progressive JPEGs have several) are seen.
/// Whatever else is wrong is left to stb, which reports it. Returns the
/// offset just past the first frame header (SOF0, SOF1 or SOF2, the ones
/// stb decodes), or 0 if there is none.
std::uint64_t walk_jpeg(std::FILE* f, const std::string& path)
{
    // Read through stdio's buffer: the walk needs no memory of its own, whatever the file's size.
    std::rewind(f);
    std::uint64_t offset = 0, frame_end = 0;
    const auto next = [&]() {
        const int c = std::getc(f);
        offset += c != EOF;
        return c;
    };
    next();
    next();  // SOI, which sniff() has seen
    int c = next();
    int pending = EOF;  // a marker the entropy-coded data ended with
    bool huffman_defined[2][4] = {};  // [DC, AC][table id], as DHT segments define them
    bool progressive = false;
    for (;;) {
        int marker = pending;
        pending = EOF;
        if (marker == EOF) {
            // stb skips bytes that are not markers, one at a time; so does the walk.
            while (c != EOF && c != 0xff) c = next();
            if (c == EOF) break;
            marker = next();
            while (marker == 0xff) marker = next();  // fill bytes
        }
        if (marker == EOF || marker == 0xd9) break;  // EOI
        if (marker == 0x01 || (marker >= 0xd0 && marker <= 0xd7)) {  // no length
            c = next();
            continue;
        }
        const int high = next(), low = high == EOF ? EOF : next();
        if (low == EOF || ((high << 8) | low) < 2) break;
        const std::uint64_t remaining = static_cast<std::uint64_t>((high << 8) | low) - 2;
        const std::uint64_t segment_end = offset + remaining;
        if (marker == 0xc4) {
            // The way stb reads it: tables follow each other while the
            // segment's count is positive, even when a table's 17 header
            // bytes run past it; a count that does not end at 0 fails.
            std::int64_t left = static_cast<std::int64_t>(remaining);
            while (left > 0) {
                const std::uint64_t table = offset;
                const int kind = next();  // table class (0 DC, 1 AC) and id
                if (kind >= 0 && (kind >> 4) <= 1 && (kind & 15) <= 3) huffman_defined[kind >> 4][kind & 15] = true;
                std::uint64_t codes = 0;
                for (int i = 0; i < 16; ++i) codes += static_cast<unsigned>(std::max(next(), 0));
                if (codes > 256)
                    throw Error(errc::bad_input, fmt::format("{}: cannot decode the JPEG image (the Huffman table at "
                                                             "byte {} declares {} codes, more than 256)",
                                                             path, table, codes));
                for (std::uint64_t i = 0; i < codes; ++i) next();
                left -= 17 + static_cast<std::int64_t>(codes);
            }
            if (left != 0) break;  // stb refuses the segment
        }
        if (marker == 0xda && remaining >= 1) {
            // A scan may name a Huffman table that no DHT segment defined;
            // stb then decodes with the uninitialised table (an assertion
            // in stbi__jpeg_huff_decode, or garbage). Which tables a scan
            // uses is stb's rule: a baseline scan both of each component's;
            // a progressive DC scan only the DC table, and only on its
            // first pass (Ah = 0); a progressive AC scan only the AC table.
            const int count = next();
            if (count > 0 && remaining >= 1 + 2 * static_cast<std::uint64_t>(count) + 3) {
                int selectors[4] = {0, 0, 0, 0};
                for (int i = 0; i < count; ++i) {
                    next();  // component id
                    const int t = next();
                    if (i < 4) selectors[i] = t;
                }
                const int ss = next();
                next();  // Se
                const int approx = next();
                const bool dc = !progressive || (ss == 0 && (approx >> 4) == 0);
                const bool ac = !progressive || ss > 0;
                for (int i = 0; i < std::min(count, 4); ++i) {
                    const int td = selectors[i] >> 4, ta = selectors[i] & 15;
                    if (td > 3 || ta > 3) continue;  // stb refuses the scan itself
                    const char* missing = dc && !huffman_defined[0][td] ? "DC" : ac && !huffman_defined[1][ta] ? "AC" : nullptr;
                    if (missing)
                        throw Error(errc::bad_input,
                                    fmt::format("{}: cannot decode the JPEG image (the scan at byte {} uses {} Huffman "
                                                "table {}, which no earlier segment defines)",
                                                path, segment_end - remaining - 4, missing,
                                                missing[0] == 'D' ? td : ta));
                }
            }
        }
        if (marker == 0xc2) progressive = true;
        if ((marker == 0xc0 || marker == 0xc1 || marker == 0xc2) && frame_end == 0) frame_end = segment_end;
        if (std::fseek(f, static_cast<long>(segment_end), SEEK_SET) != 0) break;
        offset = segment_end;
        c = next();
        if (marker == 0xda) {
            // Entropy-coded data, read the way stb's bit reader reads it:
            // 0xff, any number of 0xff fill bytes, then 0x00 (a stuffed 0xff)
            // or a restart marker inside the data; anything else ends it.
            for (;;) {
                while (c != EOF && c != 0xff) c = next();
                if (c == EOF) break;
                int after = next();
                while (after == 0xff) after = next();
                if (after == EOF) {
                    c = EOF;
                    break;
                }
                if (after != 0x00 && !(after >= 0xd0 && after <= 0xd7)) {
                    pending = after;
                    break;
                }
                c = next();
            }
        }
    }
    std::rewind(f);
    return frame_end;
}

// --- headers of every format -------------------------------------------------

struct Header {
    Kind kind = Kind::unknown;
    ImageInfo info;
    PnmHeader pnm;
    PngLayout png;
    std::string undecodable;  ///< why stb cannot decode an image whose header is valid (too large)
};

/// stbi_info on the first `bytes` bytes of the file, from memory. Not
/// stbi_info_from_file: that one tries every format in turn and, once a
/// format has read past stb's 128-byte buffer, "rewinds" to the wrong place,
/// so the next format parses the middle of the file (a JPEG whose header
/// fails can then be read as a PPM).
bool stb_header_info(std::FILE* f, std::uint64_t bytes, int& x, int& y, int& comp, const std::string& path,
                     const char* format)
{
    std::vector<unsigned char> head(bytes);
    const bool complete = std::fread(head.data(), 1, head.size(), f) == head.size();
    std::rewind(f);
    if (!complete)
        throw Error(errc::bad_input, fmt::format("{}: cannot read the {} header (the file ends inside it)", path, format));
    return stbi_info_from_memory(head.data(), static_cast<int>(head.size()), &x, &y, &comp) != 0;
}

Header read_header(std::FILE* f, const std::string& path)
{
    Header h;
    h.kind = sniff(f);
    if (h.kind == Kind::unknown)
        throw Error(errc::bad_input, fmt::format("{} is not a PNG, JPEG, PPM or PGM image", path));
    if (h.kind == Kind::pnm) {
        h.pnm = parse_pnm_header(f, path);
        h.info = h.pnm.info;
        return h;
    }
    const char* format = h.kind == Kind::png ? "PNG" : "JPEG";
    std::uint64_t header_bytes = 0;
    if (h.kind == Kind::jpeg) {
        header_bytes = walk_jpeg(f, path);
        if (header_bytes == 0)
            throw Error(errc::bad_input, fmt::format("{}: cannot read the JPEG header (no baseline or progressive "
                                                     "frame header)",
                                                     path));
    } else {
        h.png = walk_png(f, path);
        header_bytes = h.png.header_end;
    }
    if (header_bytes > max_header_bytes)
        throw Error(errc::bad_input, fmt::format("{}: cannot read the {} header (it ends at byte {}, past the first {} "
                                                 "bytes)",
                                                 path, format, header_bytes, max_header_bytes));
    int x = 0, y = 0, comp = 0;
    if (!stb_header_info(f, header_bytes, x, y, comp, path, format)) {
        // A well-formed IHDR that stb refuses is one beyond its size
        // limits: keep the dimensions, so that the caller's own limits can
        // name them, and refuse decoding later.
        if (h.kind == Kind::png && beyond_stb_limits(h.png)) {
            h.info.format = "png";
            h.info.width = h.png.width;
            h.info.height = h.png.height;
            h.info.channels = h.png.colour == 3 ? 3 : h.png.samples;
            h.info.bits_per_channel = h.png.depth == 16 ? 16 : 8;
            h.undecodable = fmt::format("{}: cannot decode the PNG image ({}x{} is beyond the decoder's size limit)",
                                        path, h.png.width, h.png.height);
            return h;
        }
        const std::string reason = stb_reason();
        throw Error(reason == "too large" ? errc::limit : errc::bad_input,
                    fmt::format("{}: cannot read the {} header ({})", path, format, reason));
    }
    h.info.format = h.kind == Kind::png ? "png" : "jpeg";
    h.info.width = static_cast<std::size_t>(x);
    h.info.height = static_cast<std::size_t>(y);
    h.info.channels = comp;
    h.info.bits_per_channel = h.kind == Kind::png && h.png.depth == 16 ? 16 : 8;
    return h;
}

int output_channels(int stored) { return stored >= 3 ? 3 : 1; }

/// Bytes a decode needs at its peak: the float tensor plus, for stb, about
/// two copies of the raw samples (PNG inflates into one buffer and unfilters
/// into another), or one row for the PNM reader.
std::uint64_t decode_bytes(const Header& h)
{
    const unsigned __int128 pixels = static_cast<unsigned __int128>(h.info.width) * h.info.height;
    const unsigned __int128 tensor = pixels * static_cast<unsigned>(output_channels(h.info.channels)) * sizeof(float);
    const unsigned __int128 raw =
        pixels * static_cast<unsigned>(h.info.channels) * static_cast<unsigned>(h.info.bits_per_channel / 8);
    const unsigned __int128 decoder = h.kind == Kind::pnm ? raw / h.info.height : 2 * raw;
    const unsigned __int128 total = tensor + decoder;
    return total > UINT64_MAX ? UINT64_MAX : static_cast<std::uint64_t>(total);
}

Shape tensor_shape(const ImageInfo& info)
{
    if (output_channels(info.channels) == 3) return {info.height, info.width, 3};
    return {info.height, info.width};
}

/// Copies stb's interleaved samples, keeping gray or RGB and dropping alpha.
template <class Sample>
void copy_samples(const Sample* in, int in_channels, Tensor& out)
{
    const int keep = output_channels(in_channels);
    const std::size_t pixels = out.size() / static_cast<std::size_t>(keep);
    float* o = out.data();
    for (std::size_t p = 0; p < pixels; ++p)
        for (int c = 0; c < keep; ++c) *o++ = static_cast<float>(in[p * static_cast<std::size_t>(in_channels) + c]);
}

struct StbFree {
    void operator()(void* p) const noexcept { stbi_image_free(p); }
};

struct PngSink {
    io::AtomicOutput* output;
    std::exception_ptr error;
};

void png_sink(void* context, void* data, int size)
{
    auto* sink = static_cast<PngSink*>(context);
    if (sink->error) return;
    // stb calls back from C: an exception must not cross it.
    try {
        sink->output->write(data, static_cast<std::size_t>(size));
    } catch (...) {
        sink->error = std::current_exception();
    }
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

/// libjpeg's error manager, turned into a return value: `error_exit`
/// long-jumps back into encode_jpeg (never across a C++ frame: nothing with
/// a destructor lives between its setjmp and libjpeg's calls), and warnings
/// are errors too.
struct JpegError {
    jpeg_error_mgr manager;  // first, so libjpeg's pointer to it is a pointer to this
    std::jmp_buf jump;
    char message[JMSG_LENGTH_MAX];
};

void jpeg_fail(j_common_ptr cinfo)
{
    auto* e = reinterpret_cast<JpegError*>(cinfo->err);
    (*cinfo->err->format_message)(cinfo, e->message);
    std::longjmp(e->jump, 1);
}

void jpeg_message(j_common_ptr cinfo, int level)
{
    if (level < 0) jpeg_fail(cinfo);  // a warning (level -1) is an error; trace messages are dropped
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
    return read_header(f.get(), path).info;
}

Tensor read_image(const std::string& path, std::uint64_t max_bytes, std::vector<std::string>* warnings,
                  ImageInfo* info, std::uint64_t max_pixels)
{
    FilePtr f = open_image(path);
    const Header h = read_header(f.get(), path);

    const std::uint64_t pixels = std::uint64_t{h.info.width} * h.info.height;
    if (pixels > max_pixels)
        throw Error(errc::limit, fmt::format("{} is {}x{} pixels ({}), more than the limit of {} pixels", path,
                                             h.info.width, h.info.height, pixels, max_pixels));
    const std::uint64_t needed = decode_bytes(h);
    if (needed > max_bytes)
        throw Error(errc::limit,
                    fmt::format("{} ({}x{}, {} channels of {} bits): decoding needs about {} bytes, more than the memory "
                                "limit of {} bytes",
                                path, h.info.width, h.info.height, h.info.channels, h.info.bits_per_channel, needed,
                                max_bytes));

    if (!h.undecodable.empty()) throw Error(errc::limit, h.undecodable);
    if (h.kind == Kind::png) check_png_pixel_data(f.get(), path, h.png);

    Tensor out;
    try {
        out = Tensor::from_shape(tensor_shape(h.info));
    } catch (const std::bad_alloc&) {
        throw Error(errc::limit, fmt::format("{} ({}x{}): cannot allocate memory for its samples", path, h.info.width,
                                             h.info.height));
    }
    if (h.kind == Kind::pnm) {
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
    } else {
        int x = 0, y = 0, comp = 0;
        std::unique_ptr<void, StbFree> pixels_buffer;
        if (h.info.bits_per_channel == 16)
            pixels_buffer.reset(stbi_load_from_file_16(f.get(), &x, &y, &comp, 0));
        else
            pixels_buffer.reset(stbi_load_from_file(f.get(), &x, &y, &comp, 0));
        if (!pixels_buffer)
            throw Error(stb_reason() == "outofmem" ? errc::limit : errc::bad_input,
                        fmt::format("{}: cannot decode the {} image ({})", path, h.info.format == "png" ? "PNG" : "JPEG",
                                    stb_reason()));
        if (static_cast<std::size_t>(x) != h.info.width || static_cast<std::size_t>(y) != h.info.height ||
            output_channels(comp) != output_channels(h.info.channels))
            throw Error(errc::bad_input, fmt::format("{} changed while it was being read", path));
        if (h.info.bits_per_channel == 16)
            copy_samples(static_cast<const std::uint16_t*>(pixels_buffer.get()), comp, out);
        else
            copy_samples(static_cast<const unsigned char*>(pixels_buffer.get()), comp, out);
        if ((comp == 2 || comp == 4) && warnings != nullptr)
            warnings->push_back(fmt::format("{}: the alpha channel was dropped (signcut reads {} images)", path,
                                            comp == 2 ? "gray" : "RGB"));
    }
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
    // stb_image_write takes int sizes; JPEG's own limit is 65500 pixels a side.
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
            const int w = static_cast<int>(width);
            const int ok = stbi_write_png_to_func(png_sink, &sink, w, static_cast<int>(height), channels, bytes.data(),
                                                  w * channels);
            if (sink.error) std::rethrow_exception(sink.error);
            if (ok == 0) throw Error(errc::io, fmt::format("cannot write {}: the PNG encoder failed", path));
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
