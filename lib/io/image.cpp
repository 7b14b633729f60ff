// Images <-> tensors: PNG and JPEG through stb_image, PNM parsed here.
#include "signcut/image.hpp"

#include <sys/stat.h>

#include <stb/stb_image.h>
#include <stb/stb_image_write.h>

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

// --- headers of every format -------------------------------------------------

struct Header {
    Kind kind = Kind::unknown;
    ImageInfo info;
    PnmHeader pnm;
};

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
    int x = 0, y = 0, comp = 0;
    // stbi_*_from_file leave the file position where they found it.
    if (stbi_info_from_file(f, &x, &y, &comp) == 0) {
        const std::string reason = stb_reason();
        throw Error(reason == "too large" ? errc::limit : errc::bad_input,
                    fmt::format("{}: cannot read the {} header ({})", path, h.kind == Kind::png ? "PNG" : "JPEG", reason));
    }
    h.info.format = h.kind == Kind::png ? "png" : "jpeg";
    h.info.width = static_cast<std::size_t>(x);
    h.info.height = static_cast<std::size_t>(y);
    h.info.channels = comp;
    h.info.bits_per_channel = h.kind == Kind::png && stbi_is_16_bit_from_file(f) != 0 ? 16 : 8;
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

}  // namespace

bool is_image_path(std::string_view path)
{
    const std::size_t dot = path.rfind('.');
    if (dot == std::string_view::npos) return false;
    std::string ext(path.substr(dot + 1));
    for (char& c : ext) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
    return ext == "png" || ext == "jpg" || ext == "jpeg" || ext == "ppm" || ext == "pgm";
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
            const float factor = static_cast<float>(full) / static_cast<float>(h.pnm.maxval);
            for (float& v : out) v *= factor;
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

void write_png(const std::string& path, const float* data, std::span<const std::size_t> shape, bool force,
               int source_bits, std::vector<std::string>* warnings)
{
    const bool gray = shape.size() == 2 || (shape.size() == 3 && shape[2] == 1);
    const bool rgb = shape.size() == 3 && shape[2] == 3;
    if (!gray && !rgb)
        throw Error(errc::invalid_argument,
                    fmt::format("cannot write {}: PNG output needs shape HxW or HxWx3, not {}", path, format_shape(shape)));
    if (source_bits != 8 && source_bits != 16)
        throw Error(errc::invalid_argument, fmt::format("cannot write {}: source_bits is {}, expected 8 or 16", path, source_bits));
    const int channels = rgb ? 3 : 1;
    if (shape[0] == 0 || shape[1] == 0 || shape[0] > INT_MAX ||
        shape[1] > static_cast<std::size_t>(INT_MAX / channels))
        throw Error(errc::invalid_argument, fmt::format("cannot write {}: {} is not a valid PNG size", path,
                                                        format_shape(shape)));
    if (data == nullptr) throw Error(errc::invalid_argument, fmt::format("cannot write {}: no data", path));

    const std::size_t count = shape[0] * shape[1] * static_cast<std::size_t>(channels);
    const float scale = source_bits == 16 ? 255.0f / 65535.0f : 1.0f;
    std::vector<unsigned char> bytes(count);
    for (std::size_t i = 0; i < count; ++i) {
        const float v = data[i] * scale;
        if (std::isnan(v))
            throw Error(errc::invalid_argument, fmt::format("cannot write {}: sample {} is NaN", path, i));
        // std::round rounds half away from zero; clamping first keeps the
        // conversion defined for any float.
        bytes[i] = static_cast<unsigned char>(std::round(std::clamp(v, 0.0f, 255.0f)));
    }

    io::AtomicOutput output(path, force);
    PngSink sink{&output, nullptr};
    const int width = static_cast<int>(shape[1]);
    const int ok = stbi_write_png_to_func(png_sink, &sink, width, static_cast<int>(shape[0]), channels, bytes.data(),
                                          width * channels);
    if (sink.error) std::rethrow_exception(sink.error);
    if (ok == 0) throw Error(errc::io, fmt::format("cannot write {}: the PNG encoder failed", path));
    output.commit();
    if (source_bits == 16 && warnings != nullptr)
        warnings->push_back(
            fmt::format("{}: the source has 16 bits per sample and PNG output is 8-bit; samples were scaled by 255/65535", path));
}

void write_png(const std::string& path, const Tensor& image, bool force, int source_bits,
               std::vector<std::string>* warnings)
{
    const Shape shape(image.shape().begin(), image.shape().end());
    write_png(path, image.data(), shape, force, source_bits, warnings);
}

}  // namespace signcut
