// Fuzz target: the chunk stream decoder of the HDF5 filter
// (signcut/chunk_stream.hpp), which runs inside any program that reads a
// signcut-filtered dataset.
//
// The input is a small script. Its first byte chooses the mode:
//  * bit 7 set: the rest is a stream as it is, decoded as a chunk of the
//    dims and dtype the next bytes give (libFuzzer's own byte soup);
//  * otherwise a valid stream is made first: a chunk of the dims, dtype,
//    block shape, budget and values the script describes (smooth with
//    noise, or noiseless so that zfp takes blocks), encoded with
//    encode_chunk; then edits xor bytes at chosen offsets, optionally cut
//    or lengthen the stream, and with bit 0 the CRC is computed again, so
//    that the decoder's checks behind the CRC are reached too.
// The stream is decoded into a buffer of exactly the chunk's size.
//
// What must hold, or the target aborts:
//  * only signcut::Error leaves the decoder (a crash, a sanitizer report
//    or an allocation above -malloc_limit_mb is a bug);
//  * an unedited stream decodes, twice to the same bits;
//  * a stream decoded against other dims than its own is refused.
#include <cmath>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <span>
#include <utility>
#include <vector>

#include "signcut/chunk_stream.hpp"
#include "signcut/error.hpp"

namespace {

class Script {
public:
    Script(const std::uint8_t* data, std::size_t size) : p_(data), end_(data + size) {}
    bool done() const { return p_ >= end_; }
    std::uint8_t byte() { return p_ < end_ ? *p_++ : 0; }
    std::uint16_t u16()
    {
        const std::uint16_t low = byte();
        return static_cast<std::uint16_t>(low | (byte() << 8));
    }
    std::vector<std::uint8_t> rest() { return {std::exchange(p_, end_), end_}; }

private:
    const std::uint8_t* p_;
    const std::uint8_t* end_;
};

[[noreturn]] void violated(const char* what)
{
    std::fprintf(stderr, "contract violated: %s\n", what);
    std::abort();
}

/// Dims of order 1-4 from the script, at most 2048 values (each chunk is
/// decomposed under the sanitizers: larger ones would slow the search).
signcut::Shape dims_from(Script& s)
{
    const std::size_t order = 1 + s.byte() % 4;
    signcut::Shape dims;
    std::size_t n = 1;
    for (std::size_t a = 0; a < order; ++a) {
        std::size_t d = 1 + s.byte() % 64;
        while (d > 1 && n * d > 2048) d /= 2;
        dims.push_back(d);
        n *= d;
    }
    return dims;
}

/// Decodes; true when accepted. Only signcut::Error may leave.
bool decode(const std::vector<std::uint8_t>& stream, signcut::ChunkDtype dtype, const signcut::Shape& dims,
            std::vector<std::byte>& out)
{
    out.assign(signcut::element_count(dims) * signcut::chunk_value_bytes(dtype), std::byte{0});
    try {
        signcut::decode_chunk(stream, dtype, dims, out);
        return true;
    } catch (const signcut::Error&) {
        return false;
    }
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size)
{
    Script s(data, size);
    const std::uint8_t mode = s.byte();
    const auto dtype = (mode & 0x02) ? signcut::ChunkDtype::float64 : signcut::ChunkDtype::float32;
    const signcut::Shape dims = dims_from(s);
    std::vector<std::byte> out;

    if (mode & 0x80) {
        (void)decode(s.rest(), dtype, dims, out);
        return 0;
    }

    // A valid stream of a chunk the script describes.
    signcut::ChunkEncoding e;
    const std::uint8_t style = s.byte();
    e.rule = {signcut::ChunkRule::Kind::bits_per_value, 0.25 * (1 + (style & 0x07)) + 2.0 * ((style & 0x08) != 0)};
    e.zfp = (style & 0x10) != 0;
    if (style & 0x20)
        for (const std::size_t d : dims) e.block_shape.push_back(1 + s.byte() % d);
    const bool smooth = (style & 0x40) != 0;
    std::uint64_t state = 0x9e3779b97f4a7c15ull * (1 + s.byte());
    const std::size_t n = signcut::element_count(dims);
    std::vector<double> x(n);
    for (std::size_t i = 0; i < n; ++i) {
        state = state * 6364136223846793005ull + 1442695040888963407ull;
        const double noise = static_cast<double>(state >> 11) / 9007199254740992.0 - 0.5;
        x[i] = std::sin(0.07 * static_cast<double>(i)) + (smooth ? 0.0 : noise);
    }
    std::vector<std::byte> values(n * signcut::chunk_value_bytes(dtype));
    if (dtype == signcut::ChunkDtype::float64) {
        std::memcpy(values.data(), x.data(), values.size());
    } else {
        for (std::size_t i = 0; i < n; ++i) {
            const float f = static_cast<float>(x[i]);
            std::memcpy(values.data() + 4 * i, &f, 4);
        }
    }
    std::vector<std::uint8_t> stream;
    try {
        stream = signcut::encode_chunk(values, dtype, dims, e);
    } catch (const signcut::Error&) {
        violated("encode_chunk refused a valid chunk");
    }

    // An unedited stream decodes, to the same bits twice, and only against
    // its own dims.
    std::vector<std::byte> first, second;
    if (!decode(stream, dtype, dims, first) || !decode(stream, dtype, dims, second))
        violated("an unedited stream was refused");
    if (first != second) violated("two decodes of one stream differ");
    signcut::Shape other = dims;
    other.back() += 1;
    if (decode(stream, dtype, other, out)) violated("a stream decoded as a chunk of other dims");

    // Edits: xor bytes, cut or lengthen, and perhaps a CRC made to match.
    bool edited = false;
    for (int k = 0; k < 32 && !s.done(); ++k) {
        const std::uint8_t op = s.byte();
        if (op < 0xf0) {
            const std::uint16_t offset = s.u16();
            const std::uint8_t v = s.byte();
            if (stream.empty()) continue;
            stream[offset % stream.size()] ^= v;
            edited |= v != 0;
        } else if (op < 0xf8) {
            stream.resize(s.u16() % (stream.size() + 1));
            edited = true;
        } else {
            stream.resize(stream.size() + 1 + s.byte() % 16, std::uint8_t{s.byte()});
            edited = true;
        }
    }
    if ((mode & 0x01) && stream.size() >= 4) {
        const std::uint32_t crc = signcut::crc32_of(std::span(stream).first(stream.size() - 4));
        for (int i = 0; i < 4; ++i) stream[stream.size() - 4 + i] = static_cast<std::uint8_t>(crc >> (8 * i));
    }
    const bool accepted = decode(stream, dtype, dims, out);
    if (!edited && !accepted && (mode & 0x01) == 0) violated("an unedited stream was refused after the edits");
    return 0;
}
