// Per-value baselines: bf16, f16 and int8 rounding, and the LPLR paper's
// per-tensor min–max quantizer (nq).
#include <algorithm>
#include <bit>
#include <cmath>
#include <limits>

#include <fmt/format.h>

#include "float16.hpp"
#include "signcut/baselines.hpp"
#include "signcut/error.hpp"

namespace signcut {
namespace {

/// A tensor of x's shape, after checking the view.
Tensor like(const TensorView<float>& x)
{
    if (x.data == nullptr) throw Error(errc::invalid_argument, "tensor view has no data");
    if (x.shape.empty() || element_count(x.shape) == 0)
        throw Error(errc::bad_input, fmt::format("cannot compress an empty tensor of shape {}", format_shape(x.shape)));
    return Tensor::from_shape(x.shape);
}

Approximation finish(Tensor y, std::uint64_t bits, std::string parameters)
{
    Approximation a;
    a.bits_per_value = static_cast<double>(bits) / static_cast<double>(y.size());
    a.stored_bits = bits;
    a.reconstruction = std::move(y);
    a.parameters = std::move(parameters);
    return a;
}

/// bfloat16 is the top half of a float32: round the dropped 16 bits to
/// nearest, ties to even.
float bfloat16_round(float v)
{
    constexpr float largest = 0x1.fep127f;  // the largest finite bfloat16
    v = std::clamp(v, -largest, largest);
    std::uint32_t u = std::bit_cast<std::uint32_t>(v);
    u += 0x7fffu + ((u >> 16) & 1u);
    return std::bit_cast<float>(u & 0xffff0000u);
}

}  // namespace

Approximation round_to_bfloat16(const TensorView<float>& x)
{
    Tensor y = like(x);
    for (std::size_t i = 0; i < y.size(); ++i) y.data()[i] = bfloat16_round(x.data[i]);
    return finish(std::move(y), 16 * static_cast<std::uint64_t>(y.size()), "bfloat16");
}

Approximation round_to_float16(const TensorView<float>& x)
{
    Tensor y = like(x);
    for (std::size_t i = 0; i < y.size(); ++i)
        y.data()[i] = io::half_to_float(io::float_to_half(std::clamp(x.data[i], -65504.0f, 65504.0f)));
    return finish(std::move(y), 16 * static_cast<std::uint64_t>(y.size()), "float16");
}

Approximation quantize_int8(const TensorView<float>& x)
{
    Tensor y = like(x);
    const std::size_t n = y.size();
    double peak = 0;
    for (std::size_t i = 0; i < n; ++i) peak = std::max(peak, std::fabs(static_cast<double>(x.data[i])));
    const float scale = static_cast<float>(peak / 127.0);  // stored as float32
    for (std::size_t i = 0; i < n; ++i) {
        long code = 0;
        if (scale > 0) code = std::clamp<long>(std::lround(x.data[i] / static_cast<double>(scale)), -127, 127);
        y.data()[i] = static_cast<float>(code) * scale;
    }
    return finish(std::move(y), 8 * static_cast<std::uint64_t>(n) + 32, fmt::format("scale={:.6g}", scale));
}

Approximation min_max_quantize(const TensorView<float>& x, unsigned bits)
{
    if (bits < 1 || bits > 16) throw Error(errc::invalid_argument, fmt::format("nq bits must be in 1..16, got {}", bits));
    Tensor y = like(x);
    const std::size_t n = y.size();
    const auto [lo_it, hi_it] = std::minmax_element(x.data, x.data + n);
    const double lo = *lo_it, hi = *hi_it;
    // The reference maps [lo, hi] onto [-1, 1] and rounds to the 2^B levels
    // -1 + j·Δ, Δ = 2 / (2^B - 1), ties to the upper level; the level j is
    // then lo + j·(hi - lo)/(2^B - 1) on the original scale.
    const double levels = std::ldexp(1.0, static_cast<int>(bits)) - 1.0;
    const double step = 2.0 / levels;
    for (std::size_t i = 0; i < n; ++i) {
        if (hi == lo) {
            y.data()[i] = static_cast<float>(lo);
            continue;
        }
        const double u = 2.0 * (x.data[i] - lo) / (hi - lo) - 1.0;
        const double j = std::clamp(std::floor((u + 1.0) / step + 0.5), 0.0, levels);
        y.data()[i] = static_cast<float>(lo + j * (hi - lo) / levels);
    }
    return finish(std::move(y), static_cast<std::uint64_t>(n) * bits + 64, fmt::format("B={}", bits));
}

unsigned min_max_bits_for_budget(std::uint64_t values, double budget)
{
    if (values == 0 || !(budget > 0)) return 0;
    unsigned bits = 0;
    while (bits < 16 && static_cast<double>(values * (bits + 1) + 64) / static_cast<double>(values) <= budget) ++bits;
    return bits;
}

}  // namespace signcut
