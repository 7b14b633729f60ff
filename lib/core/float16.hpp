// Internal: IEEE 754 binary16 <-> binary32, bit-exact and independent of the
// FPU's rounding mode. HDF5 1.10 has no native half type, and its generic
// soft conversion is slow, so signcut converts the bits itself.
#pragma once

#include <bit>
#include <cmath>
#include <cstdint>

namespace signcut::io {

/// Every binary16 value is exactly representable in binary32; NaN payloads
/// are kept (shifted into the high mantissa bits).
inline float half_to_float(std::uint16_t h) noexcept
{
    const std::uint32_t sign = static_cast<std::uint32_t>(h & 0x8000u) << 16;
    const std::uint32_t exponent = (h >> 10) & 0x1fu;
    const std::uint32_t mantissa = h & 0x3ffu;
    if (exponent == 0x1f) return std::bit_cast<float>(sign | 0x7f800000u | (mantissa << 13));
    if (exponent != 0) return std::bit_cast<float>(sign | ((exponent + 112) << 23) | (mantissa << 13));
    // Zero or subnormal: mantissa · 2^-24, exact in binary32.
    const float magnitude = static_cast<float>(mantissa) * 0x1p-24f;
    return sign != 0 ? -magnitude : magnitude;
}

/// Round to nearest, ties to even; overflow gives ±Inf (IEEE semantics; a
/// caller that wants clamping clamps first). NaN stays NaN (quiet).
inline std::uint16_t float_to_half(float f) noexcept
{
    const std::uint32_t x = std::bit_cast<std::uint32_t>(f);
    const auto sign = static_cast<std::uint16_t>((x >> 16) & 0x8000u);
    const std::uint32_t magnitude = x & 0x7fffffffu;

    if (magnitude >= 0x7f800000u) {  // Inf or NaN
        if (magnitude == 0x7f800000u) return sign | 0x7c00u;
        return static_cast<std::uint16_t>(sign | 0x7e00u | ((magnitude >> 13) & 0x3ffu));
    }
    // 65520 = 65504 + half an ulp: from there on, ties-to-even rounds up to
    // 2^16, which binary16 cannot hold.
    if (magnitude >= 0x477ff000u) return sign | 0x7c00u;
    if (magnitude >= 0x38800000u) {  // normal in binary16 (>= 2^-14)
        std::uint32_t h = (magnitude >> 13) - (112u << 10);
        const std::uint32_t dropped = magnitude & 0x1fffu;
        if (dropped > 0x1000u || (dropped == 0x1000u && (h & 1u) != 0)) ++h;  // a carry moves into the exponent correctly
        return static_cast<std::uint16_t>(sign | h);
    }
    // Subnormal (or zero): the result is round(|f| · 2^24), a value in
    // [0, 1024]; 1024 encodes the smallest normal, as it should. Scaling by a
    // power of two is exact here, and so is the rounding below.
    const float scaled = std::bit_cast<float>(magnitude) * 0x1p24f;
    float whole = std::floor(scaled);
    const float fraction = scaled - whole;
    if (fraction > 0.5f || (fraction == 0.5f && std::fmod(whole, 2.0f) != 0.0f)) whole += 1.0f;
    return static_cast<std::uint16_t>(sign | static_cast<std::uint16_t>(whole));
}

}  // namespace signcut::io
