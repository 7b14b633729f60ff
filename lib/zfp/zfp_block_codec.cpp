// The zfp block codec (zfp_block_codec.hpp): a block's planes as libzfp
// float32 streams with zfp's full header, and the operating points the
// allocation weighs against the block's signed cuts.
#include "signcut/zfp_block_codec.hpp"

#include <zfp.h>

#include <algorithm>
#include <array>
#include <bit>
#include <cmath>
#include <cstring>
#include <optional>
#include <string>
#include <vector>

#include <fmt/format.h>

#include "signcut/error.hpp"
#include "zfp_handles.hpp"

namespace signcut {
namespace {

// A setting is a zfp mode and its parameter, so that encode() gives exactly
// the streams points() measured:
//   bits 24..31  the mode: 0 fixed precision, 1 fixed accuracy
//   bits  0..23  its parameter:
//                precision: the precision p, 1..32 (zfp_stream_set_precision(p))
//                accuracy:  e + 2048 for the tolerance 2^e, e in -1074..843
//                           (zfp_stream_set_accuracy(ldexp(1.0, e))); zfp
//                           itself keeps tolerances as powers of two, and
//                           843 is the largest its 12-bit mode header holds.
// Every other value is invalid.
constexpr unsigned mode_shift = 24;
constexpr std::uint32_t parameter_mask = (std::uint32_t{1} << mode_shift) - 1;
constexpr std::uint32_t mode_precision = 0;
constexpr std::uint32_t mode_accuracy = 1;
constexpr unsigned max_precision = 32;  // float32: zfp codes at most 32 bit planes
constexpr int accuracy_offset = 2048;
constexpr int min_accuracy_exponent = ZFP_MIN_EXP;  // -1074
constexpr int max_accuracy_exponent = 843;

constexpr std::uint32_t precision_setting(unsigned p) { return (mode_precision << mode_shift) | p; }
constexpr std::uint32_t accuracy_setting(int e)
{
    return (mode_accuracy << mode_shift) | static_cast<std::uint32_t>(e + accuracy_offset);
}

/// Sets `zfp`'s mode to `setting`'s; an invalid setting is an
/// Error(invalid_argument).
void apply_setting(zfp_stream* zfp, std::uint32_t setting)
{
    const std::uint32_t mode = setting >> mode_shift;
    const std::uint32_t parameter = setting & parameter_mask;
    if (mode == mode_precision && parameter >= 1 && parameter <= max_precision) {
        zfp_stream_set_precision(zfp, parameter);
        return;
    }
    const int e = static_cast<int>(parameter) - accuracy_offset;
    if (mode == mode_accuracy && e >= min_accuracy_exponent && e <= max_accuracy_exponent) {
        zfp_stream_set_accuracy(zfp, std::ldexp(1.0, e));
        return;
    }
    throw Error(errc::invalid_argument, fmt::format("{:#010x} is not a zfp codec setting", setting));
}

/// How a block maps onto zfp fields. Modes shorter than 4 are planes, in C
/// order of their indices; the others (C order) form each plane's field,
/// the last one zfp's x axis. The field reads the block in place through
/// strides, which gives the same stream as the plane gathered contiguously.
struct Layout {
    unsigned dims = 0;                      ///< zfp's dimensionality; 0: the codec cannot store the block
    std::array<std::size_t, 4> n{};        ///< nx, ny, nz, nw (the first `dims`)
    std::array<std::ptrdiff_t, 4> stride{};  ///< their strides in the block, in values
    std::size_t planes = 0;                 ///< streams per block
    std::vector<std::size_t> plane_offsets; ///< each plane's first value in the block, in plane order
    std::uint64_t size = 0;                 ///< values in the block

    std::span<const std::size_t> sizes() const { return {n.data(), dims}; }
    std::span<const std::ptrdiff_t> strides() const { return {stride.data(), dims}; }
};

/// The largest extent zfp's 52-bit field metadata records (and reads back)
/// for `dims` dimensions.
constexpr std::uint64_t max_header_extent(unsigned dims)
{
    switch (dims) {
    case 1: return std::uint64_t{1} << 32;  // zfp writes 48 bits but reads back 32
    case 2: return std::uint64_t{1} << 24;
    case 3: return std::uint64_t{1} << 16;
    default: return std::uint64_t{1} << 12;
    }
}

Layout block_layout(const Shape& extents, bool with_offsets)
{
    Layout l;
    std::vector<std::size_t> kept, plane_modes;
    l.size = 1;
    for (std::size_t a = 0; a < extents.size(); ++a) {
        if (extents[a] == 0) return Layout{};
        (extents[a] >= 4 ? kept : plane_modes).push_back(a);
        l.size *= extents[a];
    }
    if (kept.empty() || kept.size() > 4) return Layout{};
    const auto dims = static_cast<unsigned>(kept.size());
    for (const std::size_t a : kept)
        if (extents[a] > max_header_extent(dims)) return Layout{};

    std::vector<std::size_t> c_stride(extents.size(), 1);
    for (std::size_t a = extents.size(); a-- > 1;) c_stride[a - 1] = c_stride[a] * extents[a];
    l.dims = dims;
    for (unsigned j = 0; j < dims; ++j) {
        const std::size_t a = kept[dims - 1 - j];
        l.n[j] = extents[a];
        l.stride[j] = static_cast<std::ptrdiff_t>(c_stride[a]);
    }
    l.planes = 1;
    for (const std::size_t a : plane_modes) l.planes *= extents[a];
    if (with_offsets) {
        l.plane_offsets.reserve(l.planes);
        std::vector<std::size_t> index(plane_modes.size(), 0);
        for (std::size_t p = 0; p < l.planes; ++p) {
            std::size_t offset = 0;
            for (std::size_t k = 0; k < plane_modes.size(); ++k) offset += index[k] * c_stride[plane_modes[k]];
            l.plane_offsets.push_back(offset);
            for (std::size_t k = plane_modes.size(); k-- > 0;) {  // C order: the last plane mode fastest
                if (++index[k] < extents[plane_modes[k]]) break;
                index[k] = 0;
            }
        }
    }
    return l;
}

std::string describe_field(unsigned dims, const std::array<std::size_t, 4>& n)
{
    static constexpr const char* names[] = {"nx", "ny", "nz", "nw"};
    std::string s = fmt::format("{}-D", dims);
    for (unsigned j = 0; j < dims && j < 4; ++j) s += fmt::format(" {}={}", names[j], n[j]);
    return s;
}

/// One zfp stream and a buffer large enough for any setting on one plane of
/// a layout: compresses a plane of the block in place and decompresses what
/// it last wrote. Local to one call, so the codec itself holds no state.
class PlaneCoder {
public:
    explicit PlaneCoder(const Layout& layout)
        : zfp_(detail::open_zfp_stream()), field_(detail::make_field(nullptr, layout.sizes(), layout.strides()))
    {
        // Fixed precision 32 is zfp's worst case for float32, that of every
        // setting; the bound includes room for the header.
        zfp_stream_set_precision(zfp_.get(), max_precision);
        const std::size_t bytes = zfp_stream_maximum_size(zfp_.get(), field_.get());
        buffer_.assign(bytes / 8 + 2, 0);
        bits_ = detail::open_bitstream(buffer_.data(), 8 * buffer_.size());
        zfp_stream_set_bit_stream(zfp_.get(), bits_.get());
    }

    void set(std::uint32_t setting) { apply_setting(zfp_.get(), setting); }

    /// Compresses the plane whose first value is `plane` (strided in the
    /// block); returns the stream's bytes, zfp's full header included.
    std::size_t compress(const float* plane)
    {
        // zfp's input pointer is not const, but compression only reads it.
        zfp_field_set_pointer(field_.get(), const_cast<float*>(plane));
        zfp_stream_rewind(zfp_.get());
        header_bits_ = zfp_write_header(zfp_.get(), field_.get(), ZFP_HEADER_FULL);
        if (header_bits_ == 0) throw Error(errc::io, "zfp could not write its header");
        bytes_ = zfp_compress(zfp_.get(), field_.get());
        if (bytes_ == 0) throw Error(errc::io, "zfp failed to compress");
        return bytes_;
    }

    /// The stream `compress` last wrote.
    std::span<const std::uint8_t> stream() const
    {
        return {reinterpret_cast<const std::uint8_t*>(buffer_.data()), bytes_};
    }

    /// Decompresses the stream `compress` last wrote into the plane whose
    /// first value is `plane`.
    void decompress(float* plane)
    {
        zfp_field_set_pointer(field_.get(), plane);
        zfp_stream_rewind(zfp_.get());
        stream_skip(bits_.get(), static_cast<bitstream_size>(header_bits_));
        if (zfp_decompress(zfp_.get(), field_.get()) == 0) throw Error(errc::io, "zfp failed to decompress its own stream");
    }

private:
    detail::ZfpStreamHandle zfp_;
    detail::ZfpFieldHandle field_;
    std::vector<std::uint64_t> buffer_;  ///< word-aligned for zfp's bit stream
    detail::BitstreamHandle bits_;
    std::size_t header_bits_ = 0;
    std::size_t bytes_ = 0;
};

/// Σ (x − y)² in double, one term at a time in C order of the block: the
/// error a caller recomputes from decode() bit for bit. (Not inlined: inside
/// points() the compiler kept the sum in memory, at twice the cost.)
[[gnu::noinline]] double squared_error(std::span<const float> x, const float* y) noexcept
{
    double sum = 0;
    for (std::size_t i = 0; i < x.size(); ++i) {
        const double e = static_cast<double>(x[i]) - static_cast<double>(y[i]);
        sum += e * e;
    }
    return sum;
}

/// What points() needs to know of the values before any pass.
struct Scan {
    bool finite = true;
    bool constant = true;  ///< every value has the same bits
    float max_abs = 0;
};

/// One pass over the values, integer reductions the compiler vectorizes:
/// the largest magnitude as bits (sign cleared, which orders finite floats,
/// then infinities, then NaNs) and whether all bits equal the first value's.
[[gnu::noinline]] Scan scan_values(std::span<const float> x) noexcept
{
    Scan s;
    if (x.empty()) return s;
    const std::uint32_t first = std::bit_cast<std::uint32_t>(x[0]);
    std::uint32_t top = 0, differ = 0;
    for (const float v : x) {
        const std::uint32_t b = std::bit_cast<std::uint32_t>(v);
        top = std::max(top, b & 0x7fffffffu);
        differ |= b ^ first;
    }
    s.finite = top < 0x7f800000u;
    s.constant = differ == 0;
    s.max_abs = std::bit_cast<float>(top);
    return s;
}

void check_values(std::span<const float> values, const Layout& layout, const Shape& extents)
{
    if (layout.dims == 0)
        throw Error(errc::invalid_argument, fmt::format("the zfp codec cannot store a block of extents {}", format_shape(extents)));
    if (values.size() != layout.size)
        throw Error(errc::invalid_argument, fmt::format("{} values for a block of extents {} ({} values)", values.size(),
                                                        format_shape(extents), layout.size));
}

class ZfpBlockCodec final : public BlockCodec {
public:
    CodecId id() const noexcept override { return CodecId::zfp; }
    std::string_view name() const noexcept override { return "zfp"; }

    std::size_t stream_count(const Shape& extents) const override
    {
        const Layout l = block_layout(extents, false);
        return l.dims == 0 ? 0 : l.planes;
    }

    std::vector<CodecPoint> points(std::span<const float> values, const Shape& extents,
                                   std::uint64_t max_bits) const override;

    CodedBlock encode(std::span<const float> values, const Shape& extents, std::uint32_t setting) const override
    {
        const Layout l = block_layout(extents, true);
        check_values(values, l, extents);
        for (std::size_t i = 0; i < values.size(); ++i)
            if (!std::isfinite(values[i]))
                throw Error(errc::bad_input, fmt::format("zfp cannot store the non-finite value {} at index {}", values[i], i));
        PlaneCoder coder(l);
        coder.set(setting);
        CodedBlock block;
        block.codec = CodecId::zfp;
        block.streams.reserve(l.planes);
        for (const std::size_t offset : l.plane_offsets) {
            coder.compress(values.data() + offset);
            const auto s = coder.stream();
            block.streams.emplace_back(s.begin(), s.end());
        }
        return block;
    }

    void decode(const CodedBlock& block, const Shape& extents, std::span<float> out) const override;
};

std::vector<CodecPoint> ZfpBlockCodec::points(std::span<const float> values, const Shape& extents,
                                              std::uint64_t max_bits) const
{
    const Layout l = block_layout(extents, true);
    if (l.dims == 0) return {};
    check_values(values, l, extents);
    const Scan scan = scan_values(values);
    if (!scan.finite) return {};
    const float maxabs = scan.max_abs;

    PlaneCoder coder(l);
    std::vector<float> decoded(values.size());
    // The point of one setting, or nothing once its streams pass max_bits
    // (the rest of the block is then not compressed).
    const auto measure = [&](std::uint32_t setting) -> std::optional<CodecPoint> {
        coder.set(setting);
        CodecPoint p;
        p.setting = setting;
        for (const std::size_t offset : l.plane_offsets) {
            p.bits += 8 * static_cast<std::uint64_t>(coder.compress(values.data() + offset)) + 32;
            if (p.bits > max_bits) return std::nullopt;
            coder.decompress(decoded.data() + offset);
        }
        p.squared_error = squared_error(values, decoded.data());
        return p;
    };

    std::vector<CodecPoint> all;
    if (maxabs == 0) {
        // Zeros: every setting gives them exactly, in one bit per zfp block.
        if (auto p = measure(precision_setting(1))) all.push_back(*p);
        return all;
    }

    // The first ladder: fixed accuracy, tolerance 2^e, at most 8 passes.
    // zfp codes a zfp block whose values are below 2^emax with
    // emax − e + 2(d+1) bit planes (at most 32), so at e = top + 2d − 1 the
    // largest zfp blocks get 3; with 1 or 2 the error stays near the block's
    // energy (measured). The first 5 points are 1 apart in e, a plane more
    // per zfp block each (the low rates, where blocks compete with signed
    // cuts), the rest 2 apart (high rates: about a bit per value and a
    // factor 4 in error per plane). It stops at max_bits or an exact
    // reconstruction.
    constexpr int fine_points = 5, coarse_points = 3;
    int top = 0;
    std::frexp(static_cast<double>(maxabs), &top);  // maxabs < 2^top
    const int d = static_cast<int>(l.dims);
    int e = std::min(top + 2 * d - 1, max_accuracy_exponent);
    bool inexact = false;  // the last e measured has an error above 0
    int inexact_e = 0;     // that e
    for (int pass = 0; pass < fine_points + coarse_points && e >= min_accuracy_exponent; ++pass) {
        const auto p = measure(accuracy_setting(e));
        inexact = false;
        if (!p) break;
        all.push_back(*p);
        if (p->squared_error == 0) break;
        inexact = true;
        inexact_e = e;
        e -= pass + 1 < fine_points ? 1 : 2;
    }
    // Fixed precision, a second ladder: p = 6, 8, … bit planes per zfp block,
    // relative to that zfp block's own largest value. On data with flat
    // regions beside detail (an MRI volume) it beats one absolute
    // tolerance for the whole block at high rates: 0.00090 against 0.00127
    // at 2 bits per value in 32³ blocks (zfp at its best on the whole
    // volume: 0.00099). Steps of 2 lose under 0.5 % against steps of 1
    // (measured on a field, the MRI volume, the camera image, the
    // topography and a photograph) at half the cost, and below 6 its
    // points never beat the accuracy ladder's there. It stops at max_bits
    // or an exact reconstruction.
    for (unsigned prec = 6; prec <= 32; prec += 2) {
        const auto p = measure(precision_setting(prec));
        if (!p) break;
        all.push_back(*p);
        if (p->squared_error == 0) break;
    }
    // A constant block is one coefficient per zfp block, a few bits per
    // plane: its exact point is cheap, and a bisection finds the largest
    // tolerance that gives it. All 32 planes (e ≤ top + 2d + 2 − 32) are
    // exact for a constant: the block-floating-point integers hold its 24
    // significant bits and the transform of a constant is exact.
    if (scan.constant && inexact) {
        int lo = inexact_e;  // error > 0
        int hi = std::min(lo - 1, top + 2 * d + 2 - 32);
        const auto exact = measure(accuracy_setting(hi));
        if (exact) {
            all.push_back(*exact);
            while (exact->squared_error == 0 && lo - hi > 1) {  // error(hi) == 0
                const int mid = hi + (lo - hi) / 2;
                const auto p = measure(accuracy_setting(mid));
                if (!p) break;  // not expected: mid costs at most what hi does
                all.push_back(*p);
                (p->squared_error == 0 ? hi : lo) = mid;
            }
        }
    }

    // The points no other point beats (fewer or equal bits and lower or
    // equal error), in increasing bits: the ladder's, except in a tie.
    std::sort(all.begin(), all.end(), [](const CodecPoint& a, const CodecPoint& b) {
        if (a.bits != b.bits) return a.bits < b.bits;
        if (a.squared_error != b.squared_error) return a.squared_error < b.squared_error;
        return a.setting < b.setting;
    });
    std::vector<CodecPoint> kept;
    for (const CodecPoint& p : all)
        if (kept.empty() || p.squared_error < kept.back().squared_error) kept.push_back(p);
    return kept;
}

void ZfpBlockCodec::decode(const CodedBlock& block, const Shape& extents, std::span<float> out) const
{
    const Layout l = block_layout(extents, true);
    if (block.codec != CodecId::zfp)
        throw Error(errc::bad_input, fmt::format("a block of codec {} given to the zfp codec", static_cast<unsigned>(block.codec)));
    if (l.dims == 0)
        throw Error(errc::bad_input, fmt::format("the zfp codec cannot store a block of extents {}", format_shape(extents)));
    if (block.streams.size() != l.planes)
        throw Error(errc::bad_input, fmt::format("{} zfp streams for a block of extents {}, which has {}", block.streams.size(),
                                                 format_shape(extents), l.planes));
    if (out.size() != l.size)
        throw Error(errc::bad_input, fmt::format("room for {} values to decode a block of extents {} ({} values)", out.size(),
                                                 format_shape(extents), l.size));

    auto zfp = detail::open_zfp_stream();
    auto header_field = detail::alloc_zfp_field();
    std::vector<std::uint64_t> buffer;
    // Copies the first `copy` bytes of stream i into `buffer`, zero-padded
    // to at least `room` bytes and whole words, and reads its header into
    // `zfp` and `header_field`.
    const auto load = [&](std::size_t i, std::size_t copy, std::size_t room) -> detail::BitstreamHandle {
        const auto& s = block.streams[i];
        copy = std::min(copy, s.size());
        buffer.assign((std::max(room, copy) + 7) / 8 + 1, 0);
        if (copy > 0) std::memcpy(buffer.data(), s.data(), copy);
        auto bits = detail::open_bitstream(buffer.data(), 8 * buffer.size());
        zfp_stream_set_bit_stream(zfp.get(), bits.get());
        zfp_stream_rewind(zfp.get());
        if (zfp_read_header(zfp.get(), header_field.get(), ZFP_HEADER_FULL) == 0)
            throw Error(errc::bad_input, fmt::format("zfp stream {} of {} has no valid zfp header ({} bytes)", i, l.planes, s.size()));
        return bits;
    };

    // Every header first: nothing is decoded unless all describe the block.
    std::vector<std::size_t> padded(l.planes);
    for (std::size_t i = 0; i < l.planes; ++i) {
        constexpr std::size_t header_bytes = (ZFP_HEADER_MAX_BITS + 7) / 8;
        auto bits = load(i, header_bytes, header_bytes);
        const zfp_type type = zfp_field_type(header_field.get());
        if (type != zfp_type_float)
            throw Error(errc::bad_input, fmt::format("zfp stream {} holds zfp type {}, not float32", i, static_cast<int>(type)));
        std::size_t size[4] = {0, 0, 0, 0};
        const unsigned dims = zfp_field_dimensionality(header_field.get());
        zfp_field_size(header_field.get(), size);
        std::array<std::size_t, 4> n{};
        bool same = dims == l.dims;
        for (unsigned j = 0; j < 4 && j < dims; ++j) {
            n[j] = size[j];
            same = same && n[j] == l.n[j];
        }
        if (!same)
            throw Error(errc::bad_input, fmt::format("zfp stream {} describes a {} field, a plane of a block of extents {} is {}", i,
                                                     describe_field(dims, n), format_shape(extents), describe_field(l.dims, l.n)));
        const zfp_mode mode = zfp_stream_compression_mode(zfp.get());
        // Expert mode may ask for more bits per zfp block than any mode
        // zfp names; the padding below would then be out of proportion.
        if (mode != zfp_mode_fixed_precision && mode != zfp_mode_fixed_accuracy && mode != zfp_mode_fixed_rate &&
            mode != zfp_mode_reversible)
            throw Error(errc::bad_input, fmt::format("zfp stream {} has an expert-mode header, which the codec does not read", i));
        // zfp_stream_maximum_size bounds what decoding may read, header
        // included; the zero padding keeps a short stream from reading past
        // the copy.
        padded[i] = zfp_stream_maximum_size(zfp.get(), header_field.get());
    }

    auto field = detail::make_field(nullptr, l.sizes(), l.strides());
    for (std::size_t i = 0; i < l.planes; ++i) {
        auto bits = load(i, block.streams[i].size(), padded[i]);
        zfp_field_set_pointer(field.get(), out.data() + l.plane_offsets[i]);
        const std::size_t read = zfp_decompress(zfp.get(), field.get());
        if (read == 0) throw Error(errc::bad_input, fmt::format("zfp could not decode stream {} of {}", i, l.planes));
        if (read > block.streams[i].size())
            throw Error(errc::bad_input, fmt::format("zfp stream {} of {} is truncated: {} bytes, its decoding reads {}", i, l.planes,
                                                    block.streams[i].size(), read));
    }
}

}  // namespace

std::shared_ptr<const BlockCodec> zfp_block_codec()
{
    static const std::shared_ptr<const BlockCodec> codec = std::make_shared<const ZfpBlockCodec>();
    return codec;
}

}  // namespace signcut
