// The zfp baseline: libzfp's fixed-rate mode at the largest rate whose
// compressed stream fits a budget, and zfp at its best: the lowest error
// among its fixed-rate, fixed-precision and fixed-accuracy modes whose real
// stream, zfp's full header included, fits.
#include <zfp.h>

#include <cmath>
#include <limits>
#include <memory>

#include <fmt/format.h>

#include "signcut/baselines.hpp"
#include "signcut/error.hpp"
#include "zfp_handles.hpp"

namespace signcut {
namespace {

using detail::make_field;

/// zfp's view of a C-ordered array: at most four dimensions, x varying
/// fastest. Higher orders merge their leading modes into the slowest one.
std::vector<std::size_t> zfp_dims(const Shape& shape)
{
    std::vector<std::size_t> c_order(shape.begin(), shape.end());
    while (c_order.size() > 4) {
        c_order[1] *= c_order[0];
        c_order.erase(c_order.begin());
    }
    return std::vector<std::size_t>(c_order.rbegin(), c_order.rend());  // nx first
}

/// One zfp stream over one field, reused across parameter trials: the
/// output buffer grows to what the current mode may need, and each call of
/// `compress` starts again at the beginning of the buffer.
class ZfpCodec {
public:
    ZfpCodec(const float* data, std::vector<std::size_t> dims)
        : dims_(std::move(dims)),
          // zfp's input pointer is not const, but compression only reads it.
          field_(make_field(const_cast<float*>(data), dims_)),
          zfp_(detail::open_zfp_stream())
    {}

    zfp_stream* stream() const noexcept { return zfp_.get(); }
    unsigned dimensionality() const noexcept { return static_cast<unsigned>(dims_.size()); }

    /// Compresses with the stream's current mode, `header` first (zfp's full
    /// header: magic, field metadata, mode) if asked; returns the stream's
    /// size in bits, zfp_compress's byte count times 8. When the field's
    /// dimensions are too large for zfp's 52-bit metadata, the header is
    /// written without it and its 52 bits are padded in its place, so that
    /// the count is still that of a full header.
    std::uint64_t compress(bool header)
    {
        // zfp_stream_maximum_size includes room for a header; one more word
        // of slack costs nothing.
        const std::size_t words = (zfp_stream_maximum_size(zfp_.get(), field_.get()) + ZFP_HEADER_MAX_BITS / 8) / 8 + 2;
        if (words > buffer_.size() || !bits_) {
            bits_.reset();
            buffer_.assign(words, 0);
            bits_ = detail::open_bitstream(buffer_.data(), 8 * buffer_.size());
        }
        zfp_stream_set_bit_stream(zfp_.get(), bits_.get());
        zfp_stream_rewind(zfp_.get());
        header_bits_ = 0;
        if (header) {
            header_bits_ = zfp_write_header(zfp_.get(), field_.get(), ZFP_HEADER_FULL);
            if (header_bits_ == 0) {
                header_bits_ = zfp_write_header(zfp_.get(), field_.get(), ZFP_HEADER_MAGIC);
                stream_pad(bits_.get(), ZFP_META_BITS);
                header_bits_ += ZFP_META_BITS;
                header_bits_ += zfp_write_header(zfp_.get(), field_.get(), ZFP_HEADER_MODE);
            }
            if (header_bits_ == 0) throw Error(errc::io, "zfp could not write its header");
        }
        const std::size_t bytes = zfp_compress(zfp_.get(), field_.get());
        if (bytes == 0) throw Error(errc::io, "zfp failed to compress");
        return 8 * static_cast<std::uint64_t>(bytes);
    }

    /// Decompresses the stream `compress` last wrote into `out`.
    void decompress(float* out)
    {
        auto out_field = make_field(out, dims_);
        zfp_stream_rewind(zfp_.get());
        if (header_bits_ > 0) stream_skip(bits_.get(), static_cast<bitstream_size>(header_bits_));
        if (zfp_decompress(zfp_.get(), out_field.get()) == 0) throw Error(errc::io, "zfp failed to decompress its own stream");
    }

private:
    std::vector<std::size_t> dims_;
    detail::ZfpFieldHandle field_;
    detail::ZfpStreamHandle zfp_;
    std::vector<std::uint64_t> buffer_;  ///< word-aligned for zfp's bit stream
    detail::BitstreamHandle bits_;
    std::size_t header_bits_ = 0;
};

void check_input(const TensorView<float>& x)
{
    if (x.data == nullptr) throw Error(errc::invalid_argument, "tensor view has no data");
    if (x.shape.empty() || element_count(x.shape) == 0)
        throw Error(errc::bad_input, fmt::format("cannot compress an empty tensor of shape {}", format_shape(x.shape)));
}

}  // namespace

std::optional<Approximation> zfp_fixed_rate(const TensorView<float>& x, double budget)
{
    check_input(x);
    const std::uint64_t n = element_count(x.shape);
    const std::vector<std::size_t> dims = zfp_dims(x.shape);
    const unsigned d = static_cast<unsigned>(dims.size());
    const std::uint64_t values_per_block = std::uint64_t{1} << (2 * d);
    std::uint64_t blocks = 1;
    for (const std::size_t e : dims) blocks *= (e + 3) / 4;
    ZfpCodec codec(x.data, dims);

    // Fixed rate spends exactly `per_block` bits on every 4^d block and pads
    // the stream to whole words of zfp's bit stream (64 bits by default, 8 in
    // Debian's build). zfp needs at least 1 + 8 bits per float block.
    const double allowed = std::floor(budget * static_cast<double>(n));
    const double word = static_cast<double>(stream_word_bits);
    const std::uint64_t max_per_block = std::min<std::uint64_t>(32 * values_per_block, ZFP_MAX_BITS);
    std::uint64_t per_block = std::min<std::uint64_t>(
        max_per_block, static_cast<std::uint64_t>(std::floor(std::floor(allowed / word) * word / static_cast<double>(blocks))));
    constexpr std::uint64_t smallest = 9;
    for (; per_block >= smallest; --per_block) {
        const double rate = static_cast<double>(per_block) / static_cast<double>(values_per_block);
        zfp_stream_set_rate(codec.stream(), rate, zfp_type_float, d, 0);
        const std::uint64_t bits = codec.compress(false);
        if (static_cast<double>(bits) > budget * static_cast<double>(n)) continue;  // never expected; be exact anyway

        Approximation a;
        a.reconstruction = Tensor::from_shape(x.shape);
        codec.decompress(a.reconstruction.data());
        a.stored_bits = bits;
        a.bits_per_value = static_cast<double>(bits) / static_cast<double>(n);
        a.parameters = x.shape.size() > 4 ? fmt::format("rate={:.6g}, as {}-D", rate, d) : fmt::format("rate={:.6g}", rate);
        return a;
    }
    return std::nullopt;
}

std::optional<ZfpResult> zfp_best(const TensorView<float>& x, double budget)
{
    check_input(x);
    const std::uint64_t n = element_count(x.shape);
    float maxabs = 0;
    for (std::uint64_t i = 0; i < n; ++i) {
        if (!std::isfinite(x.data[i]))
            throw Error(errc::bad_input, fmt::format("zfp cannot compress the non-finite value {} at index {}", x.data[i], i));
        maxabs = std::max(maxabs, std::fabs(x.data[i]));
    }
    const std::vector<std::size_t> dims = zfp_dims(x.shape);
    const unsigned d = static_cast<unsigned>(dims.size());
    const std::uint64_t values_per_block = std::uint64_t{1} << (2 * d);
    std::uint64_t blocks = 1;
    for (const std::size_t e : dims) blocks *= (e + 3) / 4;
    const double allowed = std::floor(budget * static_cast<double>(n));  // bits; a stream is whole bytes
    if (!(allowed > 0)) return std::nullopt;
    ZfpCodec codec(x.data, dims);
    const auto fits = [&] { return static_cast<double>(codec.compress(true)) <= allowed; };

    // Each mode's search sets the stream's mode through `set(parameter)` and
    // finds the parameter of least error whose stream fits; the winner is
    // decompressed at the end.
    enum class Mode { rate, precision, accuracy };
    struct Candidate {
        Mode mode;
        double parameter;
    };
    std::vector<Candidate> candidates;
    const auto set = [&](Mode mode, double parameter) -> double {
        switch (mode) {
        case Mode::rate: return zfp_stream_set_rate(codec.stream(), parameter, zfp_type_float, d, 0);
        case Mode::precision: return zfp_stream_set_precision(codec.stream(), static_cast<unsigned>(parameter));
        case Mode::accuracy: return zfp_stream_set_accuracy(codec.stream(), parameter);
        }
        return parameter;
    };

    // Fixed rate: the stream's size grows with the bits per block; start
    // from what would fit if the header were as small as it can be (magic,
    // metadata, a short mode) and step down.
    {
        const std::uint64_t max_per_block = std::min<std::uint64_t>(32 * values_per_block, ZFP_MAX_BITS);
        constexpr double min_header = ZFP_MAGIC_BITS + ZFP_META_BITS + ZFP_MODE_SHORT_BITS;
        const double room = allowed - min_header;
        std::uint64_t per_block =
            room <= 0 ? 0
                      : std::min<std::uint64_t>(max_per_block, static_cast<std::uint64_t>(std::floor(room / static_cast<double>(blocks))));
        constexpr std::uint64_t smallest = 9;  // 1 + 8 bits: the least a float block takes
        for (; per_block >= smallest; --per_block) {
            const double rate = static_cast<double>(per_block) / static_cast<double>(values_per_block);
            set(Mode::rate, rate);
            if (fits()) {
                candidates.push_back({Mode::rate, rate});
                break;
            }
        }
    }

    // Fixed precision: the stream grows with the precision; the largest of
    // 1..32 that fits.
    {
        unsigned lo = 0, hi = 33;  // lo fits (0: none yet), hi does not
        while (hi - lo > 1) {
            const unsigned mid = (lo + hi) / 2;
            set(Mode::precision, mid);
            (fits() ? lo : hi) = mid;
        }
        if (lo > 0) candidates.push_back({Mode::precision, static_cast<double>(lo)});
    }

    // Fixed accuracy: the stream shrinks as the tolerance grows. zfp uses
    // the tolerance rounded down to a power of two, 2^e, so the search is a
    // bisection over the integer e, from 2^-40·max|x| to 2·max|x|, for the
    // smallest e that fits (of those evaluated: the size is monotone in e in
    // practice, not by contract).
    if (maxabs > 0) {
        int top = 0;
        std::frexp(static_cast<double>(maxabs), &top);  // maxabs < 2^top
        int lo = top - 41, hi = top + 1;                // 2^lo ≤ 2^-40·maxabs; 2^hi > 2·maxabs ≥ 2^(hi-1)
        std::optional<int> best;
        set(Mode::accuracy, std::ldexp(1.0, hi - 1));
        if (fits()) {
            best = hi - 1;
            hi = hi - 1;  // hi fits from now on; lo is below the range
            while (hi - lo > 1) {
                const int mid = lo + (hi - lo) / 2;
                set(Mode::accuracy, std::ldexp(1.0, mid));
                if (fits()) {
                    hi = mid;
                    best = std::min(*best, mid);
                } else {
                    lo = mid;
                }
            }
            candidates.push_back({Mode::accuracy, std::ldexp(1.0, *best)});
        }
    } else {
        // All zeros: any tolerance gives the exact answer in the fewest bits.
        set(Mode::accuracy, 1.0);
        if (fits()) candidates.push_back({Mode::accuracy, 1.0});
    }
    if (candidates.empty()) return std::nullopt;

    // The error of each candidate, by decompressing it (the squared error
    // alone: every candidate shares ‖x‖); ties go to the smaller stream.
    std::optional<ZfpResult> result;
    double best_error = std::numeric_limits<double>::infinity();
    Tensor scratch = Tensor::from_shape(x.shape);
    for (const Candidate& c : candidates) {
        const double parameter = set(c.mode, c.parameter);
        const std::uint64_t bits = codec.compress(true);
        codec.decompress(scratch.data());
        double error = 0;
        for (std::uint64_t i = 0; i < n; ++i) {
            const double e = static_cast<double>(x.data[i]) - scratch.data()[i];
            error += e * e;
        }
        if (result && !(error < best_error || (error == best_error && bits < result->approximation.stored_bits))) continue;
        best_error = error;
        if (!result) result.emplace();
        ZfpResult& r = *result;
        r.approximation.stored_bits = bits;
        r.approximation.bits_per_value = static_cast<double>(bits) / static_cast<double>(n);
        std::swap(r.approximation.reconstruction, scratch);
        if (scratch.dimension() != x.shape.size() || scratch.size() != n) scratch = Tensor::from_shape(x.shape);
        r.parameter = parameter;
        switch (c.mode) {
        case Mode::rate:
            r.mode = "fixed-rate";
            r.approximation.parameters = fmt::format("fixed-rate, rate={:.6g}", parameter);
            break;
        case Mode::precision:
            r.mode = "fixed-precision";
            r.approximation.parameters = fmt::format("fixed-precision, precision={}", static_cast<unsigned>(parameter));
            break;
        case Mode::accuracy:
            r.mode = "fixed-accuracy";
            r.approximation.parameters = fmt::format("fixed-accuracy, tolerance={:.6g}", parameter);
            break;
        }
        if (x.shape.size() > 4) r.approximation.parameters += fmt::format(", as {}-D", d);
    }
    return result;
}

}  // namespace signcut
