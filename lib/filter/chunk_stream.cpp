// One chunk as a self-describing byte stream (docs/FORMAT.md, "Chunk
// streams").
#include "signcut/chunk_stream.hpp"

#include <zlib.h>

#include <algorithm>
#include <bit>
#include <cmath>
#include <cstdint>
#include <cstring>
#include <limits>
#include <optional>
#include <type_traits>

#include <fmt/format.h>

#include "sign_stream.hpp"
#include "signcut/decompose.hpp"
#include "signcut/decomposition.hpp"
#include "signcut/error.hpp"
#include "signcut/scale_format.hpp"
#include "signcut/zfp_block_codec.hpp"

namespace signcut {
namespace {

static_assert(std::endian::native == std::endian::little, "chunk streams are written in the machine's byte order");

constexpr std::uint8_t storage_raw = 0;
constexpr std::uint8_t storage_decomposed = 1;
constexpr std::uint8_t flag_codec_record = 1;
constexpr std::size_t max_order = 32;
/// Chunks of fewer values are stored raw: no term fits a useful budget.
constexpr std::uint64_t min_decomposed_values = 20;
constexpr std::size_t crc_bytes = 4;

/// magic, version, storage, dtype, order
constexpr std::size_t fixed_head_bytes = 8;
/// scale bits, width bits, flags, reserved
constexpr std::size_t decomposed_head_bytes = 4;

std::size_t head_bytes(std::size_t order, bool decomposed)
{
    return fixed_head_bytes + 4 * order + (decomposed ? 4 * order + decomposed_head_bytes : 0);
}

// --- writing ----------------------------------------------------------------

class Writer {
public:
    void byte(std::uint8_t v) { out_.push_back(v); }
    void u32(std::uint32_t v)
    {
        for (int i = 0; i < 4; ++i) out_.push_back(static_cast<std::uint8_t>(v >> (8 * i)));
    }
    void bytes(std::span<const std::uint8_t> b) { out_.insert(out_.end(), b.begin(), b.end()); }
    /// `count` values of `bits` bits each, least significant bit first,
    /// the last byte padded with zeros.
    template <class Get>
    void packed(std::size_t count, unsigned bits, Get get)
    {
        std::uint64_t acc = 0;
        unsigned held = 0;
        for (std::size_t i = 0; i < count; ++i) {
            acc |= std::uint64_t{get(i)} << held;
            held += bits;
            while (held >= 8) {
                out_.push_back(static_cast<std::uint8_t>(acc));
                acc >>= 8;
                held -= 8;
            }
        }
        if (held > 0) out_.push_back(static_cast<std::uint8_t>(acc));
    }
    std::vector<std::uint8_t>& out() { return out_; }

private:
    std::vector<std::uint8_t> out_;
};

std::uint64_t packed_bytes(std::uint64_t count, unsigned bits) { return (count * bits + 7) / 8; }

/// A short scale's 13 bits: the float32's sign, exponent and top 4
/// mantissa bits (its low 19 bits are zero).
std::uint32_t short_scale_code(float c) { return std::bit_cast<std::uint32_t>(c) >> 19; }
float short_scale_value(std::uint32_t code) { return std::bit_cast<float>(code << 19); }

unsigned bits_for(std::uint64_t v)
{
    unsigned b = 0;
    while (v >> b) ++b;
    return b;
}

std::vector<std::uint8_t> raw_stream(std::span<const std::byte> values, ChunkDtype dtype, const Shape& dims)
{
    Writer w;
    w.bytes(chunk_stream_magic);
    w.byte(chunk_stream_version);
    w.byte(storage_raw);
    w.byte(static_cast<std::uint8_t>(dtype));
    w.byte(static_cast<std::uint8_t>(dims.size()));
    for (const std::size_t d : dims) w.u32(static_cast<std::uint32_t>(d));
    w.bytes({reinterpret_cast<const std::uint8_t*>(values.data()), values.size()});
    w.u32(crc32_of(w.out()));
    return std::move(w.out());
}

std::vector<std::uint8_t> decomposed_stream(const SignedCutDecomposition& d, ChunkDtype dtype)
{
    const BlockGrid& grid = d.grid();
    const std::size_t G = grid.count();
    const std::vector<std::size_t> widths = d.widths();
    const std::size_t largest = widths.empty() ? 0 : *std::max_element(widths.begin(), widths.end());
    const unsigned width_bits = bits_for(largest);
    const unsigned scale_bits = d.scale_bits();
    const bool codec_record = d.coded_block_count() > 0;

    Writer w;
    w.bytes(chunk_stream_magic);
    w.byte(chunk_stream_version);
    w.byte(storage_decomposed);
    w.byte(static_cast<std::uint8_t>(dtype));
    w.byte(static_cast<std::uint8_t>(d.order()));
    for (const std::size_t v : d.shape()) w.u32(static_cast<std::uint32_t>(v));
    for (const std::size_t v : d.block_shape()) w.u32(static_cast<std::uint32_t>(v));
    w.byte(static_cast<std::uint8_t>(scale_bits));
    w.byte(static_cast<std::uint8_t>(width_bits));
    w.byte(codec_record ? flag_codec_record : 0);
    w.byte(0);
    w.packed(G, width_bits, [&](std::size_t b) { return widths[b]; });
    if (codec_record) {
        w.packed(G, 1, [&](std::size_t b) { return d.codec(b) == CodecId::sct ? 0u : 1u; });
        for (std::size_t b = 0; b < G; ++b)
            for (const auto& s : d.coded(b).streams) w.u32(static_cast<std::uint32_t>(s.size()));
    }
    // Scales: every block's, in block order, each block's in greedy order.
    std::vector<float> scales;
    scales.reserve(static_cast<std::size_t>(d.width()));
    for (const SignedCutTerms& t : d.blocks()) scales.insert(scales.end(), t.scales().begin(), t.scales().end());
    if (scale_bits == short_scale_bits)
        w.packed(scales.size(), short_scale_bits, [&](std::size_t i) { return short_scale_code(scales[i]); });
    else
        w.packed(scales.size(), 32, [&](std::size_t i) { return std::bit_cast<std::uint32_t>(scales[i]); });
    const std::vector<std::uint8_t> signs = d.sign_stream();
    w.bytes(signs);
    for (std::size_t b = 0; b < G; ++b)
        for (const auto& s : d.coded(b).streams) w.bytes(s);
    w.u32(crc32_of(w.out()));
    return std::move(w.out());
}

/// Value i of a chunk's bytes as a double. The bytes come from HDF5's buffer
/// with no alignment promise, hence the copy.
double chunk_value(std::span<const std::byte> values, ChunkDtype dtype, std::size_t i)
{
    if (dtype == ChunkDtype::float64) {
        double v;
        std::memcpy(&v, values.data() + 8 * i, 8);
        return v;
    }
    float f;
    std::memcpy(&f, values.data() + 4 * i, 4);
    return f;
}

double squared_norm(std::span<const std::byte> values, ChunkDtype dtype, bool* finite)
{
    double sum = 0;
    *finite = true;
    const std::size_t n = values.size() / chunk_value_bytes(dtype);
    for (std::size_t i = 0; i < n; ++i) {
        const double v = chunk_value(values, dtype, i);
        // float64 values beyond float32's range cannot be decomposed (the
        // working precision is float32): raw.
        if (!std::isfinite(v) || std::fabs(v) > std::numeric_limits<float>::max()) *finite = false;
        sum += v * v;
    }
    return sum;
}

SignedCutDecomposition decompose_chunk(std::span<const std::byte> values, ChunkDtype dtype, const Shape& dims,
                                       const DecomposeOptions& options)
{
    if (dtype == ChunkDtype::float64) {
        std::vector<double> x(values.size() / 8);
        std::memcpy(x.data(), values.data(), values.size());
        return decompose(TensorView<double>{x.data(), dims}, options);
    }
    std::vector<float> x(values.size() / 4);
    std::memcpy(x.data(), values.data(), values.size());
    return decompose(TensorView<float>{x.data(), dims}, options);
}

/// ||X - Y|| / ||X|| of `d` against the chunk's values, in double.
double rel_error_of(const SignedCutDecomposition& d, std::span<const std::byte> values, ChunkDtype dtype,
                    double norm2)
{
    const std::vector<double> y = d.reconstruct_float64(1);
    double e2 = 0;
    for (std::size_t i = 0; i < y.size(); ++i) {
        const double v = chunk_value(values, dtype, i);
        e2 += (v - y[i]) * (v - y[i]);
    }
    return norm2 > 0 ? std::sqrt(e2 / norm2) : 0.0;
}

// --- reading ----------------------------------------------------------------

[[noreturn]] void damaged(const std::string& what)
{
    throw Error(errc::bad_input, "signcut chunk stream: " + what);
}

class Reader {
public:
    explicit Reader(std::span<const std::uint8_t> in) : in_(in) {}
    std::size_t left() const { return in_.size() - at_; }
    std::size_t position() const { return at_; }
    void need(std::uint64_t n, const char* what) const
    {
        if (n > left()) damaged(fmt::format("{} needs {} bytes at offset {}, but {} remain", what, n, at_, left()));
    }
    std::uint8_t byte(const char* what)
    {
        need(1, what);
        return in_[at_++];
    }
    std::uint32_t u32(const char* what)
    {
        need(4, what);
        std::uint32_t v = 0;
        for (int i = 0; i < 4; ++i) v |= std::uint32_t{in_[at_ + i]} << (8 * i);
        at_ += 4;
        return v;
    }
    std::span<const std::uint8_t> take(std::uint64_t n, const char* what)
    {
        need(n, what);
        const auto s = in_.subspan(at_, static_cast<std::size_t>(n));
        at_ += static_cast<std::size_t>(n);
        return s;
    }

private:
    std::span<const std::uint8_t> in_;
    std::size_t at_ = 0;
};

/// The i-th of `count` values of `bits` bits in `packed` (LSB first).
std::uint32_t unpack(std::span<const std::uint8_t> packed, std::uint64_t i, unsigned bits)
{
    std::uint64_t v = 0;
    const std::uint64_t first = i * bits;
    for (unsigned k = 0; k < bits; ++k) {
        const std::uint64_t bit = first + k;
        v |= std::uint64_t{(packed[static_cast<std::size_t>(bit / 8)] >> (bit % 8)) & 1u} << k;
    }
    return static_cast<std::uint32_t>(v);
}

/// True when the bits of `packed` past its first `used` are zero.
bool padding_clear(std::span<const std::uint8_t> packed, std::uint64_t used)
{
    if (used % 8 == 0) return true;
    return (packed.back() >> (used % 8)) == 0;
}

}  // namespace

std::uint32_t crc32_of(std::span<const std::uint8_t> bytes) noexcept
{
    uLong crc = ::crc32(0L, Z_NULL, 0);
    std::size_t at = 0;
    while (at < bytes.size()) {  // zlib takes lengths as uInt
        const std::size_t n = std::min<std::size_t>(bytes.size() - at, 1u << 30);
        crc = ::crc32(crc, bytes.data() + at, static_cast<uInt>(n));
        at += n;
    }
    return static_cast<std::uint32_t>(crc);
}

std::vector<std::uint8_t> encode_chunk(std::span<const std::byte> values, ChunkDtype dtype, const Shape& chunk_dims,
                                       const ChunkEncoding& encoding)
{
    check_shape(chunk_dims);
    if (chunk_dims.size() > max_order)
        throw Error(errc::invalid_argument, fmt::format("a chunk of order {}: at most {}", chunk_dims.size(), max_order));
    for (const std::size_t d : chunk_dims)
        if (d > std::numeric_limits<std::uint32_t>::max())
            throw Error(errc::invalid_argument, fmt::format("chunk dimension {} is beyond 2^32 - 1", d));
    const std::uint64_t N = element_count(chunk_dims);
    if (values.size() != N * chunk_value_bytes(dtype))
        throw Error(errc::invalid_argument,
                    fmt::format("a chunk of {} holds {} bytes of values, not {}", format_shape(chunk_dims),
                                N * chunk_value_bytes(dtype), values.size()));
    if (!(encoding.rule.value > 0 && std::isfinite(encoding.rule.value)))
        throw Error(errc::invalid_argument,
                    fmt::format("the chunk rule's value must be positive and finite, got {}", encoding.rule.value));
    if (!encoding.block_shape.empty()) (void)BlockGrid(chunk_dims, encoding.block_shape);  // throws naming the mode

    const std::uint64_t raw_bytes = head_bytes(chunk_dims.size(), false) + values.size() + crc_bytes;
    bool finite = true;
    const double norm2 = squared_norm(values, dtype, &finite);
    if (N < min_decomposed_values || !finite) return raw_stream(values, dtype, chunk_dims);

    DecomposeOptions options;
    options.blocks = encoding.block_shape.empty() ? BlockChoice::automatic() : BlockChoice::of(encoding.block_shape);
    options.seed = encoding.seed;
    options.threads = 1;  // inside somebody else's process: no thread outlives the call
    if (encoding.zfp) options.codecs = {zfp_block_codec()};
    const double raw_bits_per_value = 8.0 * static_cast<double>(raw_bytes) / static_cast<double>(N);
    // What the stream adds to the payload the decomposer counts (its own
    // head and CRC, less the chunk checksums of HDF5's three datasets that
    // the decomposer counts and the stream does not pay): taken off the
    // budget first; whatever is still over it is cut by recut below.
    const std::uint64_t overhead_bytes = head_bytes(chunk_dims.size(), true) + crc_bytes - 3 * 4;
    std::optional<double> budget_bits;  // the stream's bytes · 8 at most
    switch (encoding.rule.kind) {
    case ChunkRule::Kind::bits_per_value:
        budget_bits = encoding.rule.value * static_cast<double>(N);
        options.bits_per_value =
            (*budget_bits - 8.0 * static_cast<double>(overhead_bytes)) / static_cast<double>(N);
        if (!(*options.bits_per_value > 0)) return raw_stream(values, dtype, chunk_dims);
        break;
    case ChunkRule::Kind::rel_error:
        options.rel_error = encoding.rule.value;
        options.max_bits_per_value = raw_bits_per_value;
        break;
    case ChunkRule::Kind::rmse:
        options.rel_error = norm2 > 0 ? encoding.rule.value * std::sqrt(static_cast<double>(N) / norm2) : 1.0;
        options.max_bits_per_value = raw_bits_per_value;
        break;
    }
    // A chunk of zeros: one block without terms, a head and nothing else.
    if (norm2 == 0) return decomposed_stream(SignedCutDecomposition(SignedCutTerms(chunk_dims)), dtype);

    SignedCutDecomposition d;
    try {
        d = decompose_chunk(values, dtype, chunk_dims, options);
    } catch (const Error& e) {
        // The budget is below one term of the chunk's blocks: a chunk this
        // small is stored as it is.
        if (e.code() == errc::bad_input) return raw_stream(values, dtype, chunk_dims);
        throw;
    }
    std::vector<std::uint8_t> stream = decomposed_stream(d, dtype);
    // The decomposer counts HDF5's storage, not this stream's: cut terms
    // until the stream fits the budget.
    for (int round = 0; budget_bits && 8.0 * static_cast<double>(stream.size()) > *budget_bits && round < 8; ++round) {
        const double excess = 8.0 * static_cast<double>(stream.size()) - *budget_bits;
        const double target = d.bits_per_value() - (excess + 8.0) / static_cast<double>(N);
        if (!(target > 0)) return raw_stream(values, dtype, chunk_dims);
        try {
            // zfp blocks keep their error, which recut takes from the
            // decomposition's measured one.
            const std::optional<double> before =
                d.coded_block_count() > 0 ? std::optional<double>(rel_error_of(d, values, dtype, norm2)) : std::nullopt;
            d = recut(d, norm2, target, std::nullopt, nullptr, before);
        } catch (const Error&) {
            return raw_stream(values, dtype, chunk_dims);
        }
        stream = decomposed_stream(d, dtype);
    }
    if (stream.size() >= raw_bytes) return raw_stream(values, dtype, chunk_dims);
    return stream;
}

void decode_chunk(std::span<const std::uint8_t> stream, ChunkDtype dtype, const Shape& chunk_dims,
                  std::span<std::byte> out)
{
    const std::uint64_t N = element_count(chunk_dims);
    if (out.size() != N * chunk_value_bytes(dtype))
        throw Error(errc::invalid_argument, fmt::format("decode_chunk: {} output bytes for a chunk of {} values",
                                                        out.size(), N));
    if (stream.size() < fixed_head_bytes + crc_bytes) damaged(fmt::format("{} bytes is too short", stream.size()));
    if (!std::equal(std::begin(chunk_stream_magic), std::end(chunk_stream_magic), stream.begin()))
        damaged("not a signcut chunk (no SCUT magic)");
    // The CRC first: nothing of a damaged stream is interpreted.
    const auto body = stream.first(stream.size() - crc_bytes);
    std::uint32_t stored_crc = 0;
    for (int i = 0; i < 4; ++i) stored_crc |= std::uint32_t{stream[body.size() + i]} << (8 * i);
    if (crc32_of(body) != stored_crc)
        damaged(fmt::format("CRC-32 mismatch ({:08x} stored, {:08x} computed): the chunk is damaged", stored_crc,
                            crc32_of(body)));

    Reader r(body);
    r.take(4, "the magic");
    if (const std::uint8_t v = r.byte("the stream version"); v != chunk_stream_version)
        damaged(fmt::format("stream version {}; this library reads version {}", v, chunk_stream_version));
    const std::uint8_t storage = r.byte("the storage");
    if (storage != storage_raw && storage != storage_decomposed) damaged(fmt::format("unknown storage {}", storage));
    const std::uint8_t stored_dtype = r.byte("the dtype");
    if (stored_dtype != static_cast<std::uint8_t>(dtype))
        damaged(fmt::format("the chunk holds {}, the dataset {}", stored_dtype == 0 ? "float32" : stored_dtype == 1 ? "float64" : "an unknown type",
                            dtype == ChunkDtype::float32 ? "float32" : "float64"));
    const std::size_t order = r.byte("the order");
    if (order != chunk_dims.size())
        damaged(fmt::format("a chunk of order {}, the dataset's chunks have order {}", order, chunk_dims.size()));
    Shape dims(order);
    for (std::size_t a = 0; a < order; ++a) dims[a] = r.u32("the chunk dims");
    if (dims != chunk_dims)
        damaged(fmt::format("a chunk of {}, the dataset's chunks are {}", format_shape(dims), format_shape(chunk_dims)));
    if (storage == storage_raw) {
        const auto values = r.take(N * chunk_value_bytes(dtype), "the raw values");
        if (r.left() != 0) damaged(fmt::format("{} bytes after the raw values", r.left()));
        std::memcpy(out.data(), values.data(), values.size());
        return;
    }

    Shape block(order);
    for (std::size_t a = 0; a < order; ++a) {
        block[a] = r.u32("the block shape");
        if (block[a] < 1 || block[a] > dims[a])
            damaged(fmt::format("block extent {} along mode {} of a chunk of {}", block[a], a, format_shape(dims)));
    }
    const BlockGrid grid(dims, block);
    const std::size_t G = grid.count();
    const unsigned scale_bits = r.byte("the scale bits");
    if (scale_bits != short_scale_bits && scale_bits != float32_scale_bits)
        damaged(fmt::format("{} bits per scale; 13 or 32 expected", scale_bits));
    const unsigned width_bits = r.byte("the width bits");
    if (width_bits > 32) damaged(fmt::format("{} bits per width; at most 32", width_bits));
    const std::uint8_t flags = r.byte("the flags");
    if ((flags & ~flag_codec_record) != 0) damaged(fmt::format("unknown flags {:#x}", flags));
    if (r.byte("the reserved byte") != 0) damaged("the reserved byte is not 0");

    // Widths: each bounded by what the block's values could ever need, so
    // the sums below cannot overflow and nothing is allocated for them.
    const auto packed_widths = r.take(packed_bytes(G, width_bits), "the widths");
    if (!padding_clear(packed_widths, std::uint64_t{G} * width_bits)) damaged("padding bits set after the widths");
    std::vector<std::size_t> widths(G);
    std::uint64_t terms = 0, sign_bytes = 0;
    for (std::size_t b = 0; b < G; ++b) {
        widths[b] = width_bits == 0 ? 0 : unpack(packed_widths, b, width_bits);
        const std::uint64_t per_term = grid.signs_per_term(b);
        // A term costs at least per_term sign bits: no valid stream holds
        // more terms than its bytes can pay for.
        if (widths[b] > 8 * body.size() / per_term)
            damaged(fmt::format("block {} claims {} terms, more than the stream's {} bytes can hold", b, widths[b],
                                body.size()));
        terms += widths[b];
        sign_bytes += detail::segment_bytes(widths[b], per_term);
    }
    std::vector<CodedBlock> coded;
    std::vector<std::uint32_t> stream_sizes;  // in block order, then stream order
    std::uint64_t stream_bytes = 0;
    if (flags & flag_codec_record) {
        const auto record = r.take(packed_bytes(G, 1), "the codec record");
        if (!padding_clear(record, G)) damaged("padding bits set after the codec record");
        const auto zfp = zfp_block_codec();
        coded.resize(G);
        for (std::size_t b = 0; b < G; ++b) {
            if (unpack(record, b, 1) == 0) continue;
            if (widths[b] != 0) damaged(fmt::format("block {} is stored by zfp but has {} terms", b, widths[b]));
            const std::size_t streams = zfp->stream_count(grid.extents(b));
            if (streams == 0)
                damaged(fmt::format("block {} of extents {} cannot be stored by zfp", b,
                                    format_shape(grid.extents(b))));
            coded[b].codec = CodecId::zfp;
            coded[b].streams.resize(streams);
            for (std::size_t s = 0; s < streams; ++s) {
                const std::uint32_t size = r.u32("the zfp stream sizes");
                if (size > body.size())
                    damaged(fmt::format("a zfp stream of {} bytes in a stream of {}", size, body.size()));
                stream_bytes += size;
                stream_sizes.push_back(size);
            }
        }
    }
    const std::uint64_t scale_bytes = packed_bytes(terms, scale_bits);
    if (scale_bytes + sign_bytes + stream_bytes != r.left())
        damaged(fmt::format("{} terms, {} sign bytes and {} bytes of zfp streams need {} bytes, the stream has {}",
                            terms, sign_bytes, stream_bytes, scale_bytes + sign_bytes + stream_bytes, r.left()));
    const auto packed_scales = r.take(scale_bytes, "the scales");
    if (!padding_clear(packed_scales, terms * scale_bits)) damaged("padding bits set after the scales");
    const auto signs = r.take(sign_bytes, "the signs");

    std::vector<SignedCutTerms> blocks;
    blocks.reserve(G);
    std::uint64_t scale_at = 0, sign_at = 0;
    for (std::size_t b = 0; b < G; ++b) {
        const Shape extents = grid.extents(b);
        std::vector<float> scales(widths[b]);
        for (std::size_t j = 0; j < widths[b]; ++j, ++scale_at) {
            const std::uint32_t code = unpack(packed_scales, scale_at, scale_bits);
            scales[j] = scale_bits == short_scale_bits ? short_scale_value(code) : std::bit_cast<float>(code);
            if (!std::isfinite(scales[j])) damaged(fmt::format("block {} has a non-finite scale", b));
        }
        const std::uint64_t n = detail::segment_bytes(widths[b], grid.signs_per_term(b));
        const auto segment = signs.subspan(static_cast<std::size_t>(sign_at), static_cast<std::size_t>(n));
        if (!detail::segment_tail_is_clear(segment, widths[b] * grid.signs_per_term(b)))
            damaged(fmt::format("unused bits set in the last byte of block {}'s segment", b));
        sign_at += n;
        blocks.emplace_back(extents, std::move(scales), detail::unpack_segment(segment, extents, widths[b]));
    }
    std::size_t next = 0;
    for (auto& c : coded)
        for (auto& s : c.streams) {
            const auto bytes = r.take(stream_sizes[next++], "the zfp streams");
            s.assign(bytes.begin(), bytes.end());
        }
    const SignedCutDecomposition d =
        coded.empty() ? SignedCutDecomposition(grid, std::move(blocks))
                      : SignedCutDecomposition(grid, std::move(blocks), std::move(coded), {zfp_block_codec()});
    // Rebuilt in the value type: in place when `out` is aligned for it (the
    // filter's buffers come from malloc), else through a copy. In place
    // spares a chunk-sized allocation, its zeroing and a copy, which cost
    // more than the reconstruction itself on large chunks.
    const auto rebuild = [&]<class T>(T*) {
        if (reinterpret_cast<std::uintptr_t>(out.data()) % alignof(T) == 0) {
            const std::span<T> y(reinterpret_cast<T*>(out.data()), static_cast<std::size_t>(N));
            if constexpr (std::is_same_v<T, double>) d.reconstruct_float64_into(y, 1);
            else d.reconstruct_into(y, 1);
            return;
        }
        std::vector<T> y(static_cast<std::size_t>(N));
        if constexpr (std::is_same_v<T, double>) d.reconstruct_float64_into(y, 1);
        else d.reconstruct_into(y, 1);
        std::memcpy(out.data(), y.data(), out.size());
    };
    if (dtype == ChunkDtype::float64) rebuild(static_cast<double*>(nullptr));
    else rebuild(static_cast<float*>(nullptr));
}

}  // namespace signcut
