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

namespace signcut {
namespace {

struct StreamCloser {
    void operator()(zfp_stream* s) const noexcept { zfp_stream_close(s); }
};
struct BitstreamCloser {
    void operator()(bitstream* s) const noexcept { stream_close(s); }
};
struct FieldCloser {
    void operator()(zfp_field* f) const noexcept { zfp_field_free(f); }
};

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

std::unique_ptr<zfp_field, FieldCloser> make_field(float* data, const std::vector<std::size_t>& dims)
{
    zfp_field* f = nullptr;
    switch (dims.size()) {
    case 1: f = zfp_field_1d(data, zfp_type_float, dims[0]); break;
    case 2: f = zfp_field_2d(data, zfp_type_float, dims[0], dims[1]); break;
    case 3: f = zfp_field_3d(data, zfp_type_float, dims[0], dims[1], dims[2]); break;
    default: f = zfp_field_4d(data, zfp_type_float, dims[0], dims[1], dims[2], dims[3]); break;
    }
    if (f == nullptr) throw Error(errc::io, "zfp could not describe the array");
    return std::unique_ptr<zfp_field, FieldCloser>(f);
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
          zfp_(zfp_stream_open(nullptr))
    {
        if (!zfp_) throw Error(errc::io, "zfp could not open a stream");
    }

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
        const std::size_t capacity = zfp_stream_maximum_size(zfp_.get(), field_.get()) + ZFP_HEADER_MAX_BITS / 8 + 8;
        if (capacity > 8 * buffer_.size() || !bits_) {
            bits_.reset();
            buffer_.assign(std::max<std::size_t>(capacity / 8 + 1, 8 * buffer_.size() / 8), 0);
            bits_.reset(stream_open(buffer_.data(), 8 * buffer_.size()));
            if (!bits_) throw Error(errc::io, "zfp could not open a bit stream");
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
        if (header_bits_ > 0) stream_skip(bits_.get(), static_cast<bitstream_count>(header_bits_));
        if (zfp_decompress(zfp_.get(), out_field.get()) == 0) throw Error(errc::io, "zfp failed to decompress its own stream");
    }

private:
    std::vector<std::size_t> dims_;
    std::unique_ptr<zfp_field, FieldCloser> field_;
    std::unique_ptr<zfp_stream, StreamCloser> zfp_;
    std::vector<std::uint64_t> buffer_;  ///< word-aligned for zfp's bit stream
    std::unique_ptr<bitstream, BitstreamCloser> bits_;
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
    if (x.data == nullptr) throw Error(errc::invalid_argument, "tensor view has no data");
    const std::uint64_t n = element_count(x.shape);
    if (x.shape.empty() || n == 0)
        throw Error(errc::bad_input, fmt::format("cannot compress an empty tensor of shape {}", format_shape(x.shape)));
    const std::vector<std::size_t> dims = zfp_dims(x.shape);
    const unsigned d = static_cast<unsigned>(dims.size());
    const std::uint64_t values_per_block = std::uint64_t{1} << (2 * d);
    std::uint64_t blocks = 1;
    for (const std::size_t e : dims) blocks *= (e + 3) / 4;

    // zfp's input pointer is not const, but compression only reads it.
    auto field = make_field(const_cast<float*>(x.data), dims);
    std::unique_ptr<zfp_stream, StreamCloser> zfp(zfp_stream_open(nullptr));
    if (!zfp) throw Error(errc::io, "zfp could not open a stream");

    // Fixed rate spends exactly `per_block` bits on every 4^d block and pads
    // the stream to 64-bit words. zfp needs at least 1 + 8 bits per float block.
    const double allowed = std::floor(budget * static_cast<double>(n));
    const std::uint64_t max_per_block = std::min<std::uint64_t>(32 * values_per_block, ZFP_MAX_BITS);
    std::uint64_t per_block = std::min<std::uint64_t>(
        max_per_block, static_cast<std::uint64_t>(std::floor(std::floor(allowed / 64) * 64 / static_cast<double>(blocks))));
    constexpr std::uint64_t smallest = 9;
    for (; per_block >= smallest; --per_block) {
        const double rate = static_cast<double>(per_block) / static_cast<double>(values_per_block);
        zfp_stream_set_rate(zfp.get(), rate, zfp_type_float, d, 0);
        const std::size_t capacity = zfp_stream_maximum_size(zfp.get(), field.get());
        std::vector<unsigned char> buffer(capacity);
        std::unique_ptr<bitstream, BitstreamCloser> stream(stream_open(buffer.data(), buffer.size()));
        zfp_stream_set_bit_stream(zfp.get(), stream.get());
        zfp_stream_rewind(zfp.get());
        const std::size_t bytes = zfp_compress(zfp.get(), field.get());
        if (bytes == 0) throw Error(errc::io, fmt::format("zfp failed to compress at rate {}", rate));
        const std::uint64_t bits = 8 * static_cast<std::uint64_t>(bytes);
        if (static_cast<double>(bits) > budget * static_cast<double>(n)) continue;  // never expected; be exact anyway

        Approximation a;
        a.reconstruction = Tensor::from_shape(x.shape);
        auto out_field = make_field(a.reconstruction.data(), dims);
        zfp_stream_rewind(zfp.get());
        if (zfp_decompress(zfp.get(), out_field.get()) == 0)
            throw Error(errc::io, fmt::format("zfp failed to decompress its own stream at rate {}", rate));
        a.stored_bits = bits;
        a.bits_per_value = static_cast<double>(bits) / static_cast<double>(n);
        a.parameters = x.shape.size() > 4 ? fmt::format("rate={:.6g}, as {}-D", rate, d) : fmt::format("rate={:.6g}", rate);
        return a;
    }
    return std::nullopt;
}

}  // namespace signcut
