// The zfp baseline: libzfp's fixed-rate mode at the largest rate whose
// compressed stream fits a budget.
#include <zfp.h>

#include <cmath>
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
