// Short scales (scale_format.hpp).
#include "signcut/scale_format.hpp"

#include <bit>
#include <cmath>
#include <limits>

namespace signcut {

namespace {

constexpr unsigned dropped_bits = 23 - short_scale_mantissa_bits;  // 19
constexpr std::uint32_t dropped_mask = (std::uint32_t{1} << dropped_bits) - 1;

}  // namespace

float round_to_short_scale(double c) noexcept
{
    if (std::isnan(c)) return std::numeric_limits<float>::quiet_NaN();
    const double a = std::abs(c);
    if (a < double(std::numeric_limits<float>::min())) return 0.0f;
    // In double, so that the one rounding is this one: a = m·2^e, m in
    // [0.5, 1), rounded to 1 + 4 significant bits.
    int e = 0;
    const double m = std::frexp(a, &e);
    const double scaled = std::round(std::ldexp(m, 1 + short_scale_mantissa_bits));  // 16..32
    const double r = std::ldexp(scaled, e - 1 - int(short_scale_mantissa_bits));
    const float f = r > double(std::numeric_limits<float>::max()) ? std::numeric_limits<float>::infinity()
                                                                   : static_cast<float>(r);
    return c < 0 ? -f : f;
}

bool is_short_scale(float c) noexcept
{
    if (c == 0.0f) return true;
    if (!std::isfinite(c) || !std::isnormal(c)) return false;
    return (std::bit_cast<std::uint32_t>(c) & dropped_mask) == 0;
}

unsigned scale_bits_of(std::span<const float> scales) noexcept
{
    for (const float c : scales)
        if (!is_short_scale(c)) return float32_scale_bits;
    return short_scale_bits;
}

}  // namespace signcut
