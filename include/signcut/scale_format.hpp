// How a decomposition file stores the scales c_j (docs/FORMAT.md, "Scales").
//
// A scale costs as much as 32 signs when it is a float32, which is a third of
// a term's bits in a 32×32 block. The greedy instead stores each scale
// rounded to a short float: the float32 sign and exponent and the top 4 bits
// of its mantissa, 13 bits in all, which HDF5's built-in n-bit filter packs
// (so h5py or any HDF5 reader still reads the values, converted). A relative
// rounding of at most 2^-5 keeps at least 99.9 % of a term's gain, and the
// greedy subtracts exactly the stored value, so the errors it reports stay
// exact.
#pragma once

#include "signcut/export.hpp"

#include <cstdint>
#include <span>

namespace signcut {

/// Bits of a float32 scale.
inline constexpr unsigned float32_scale_bits = 32;
/// Bits of a short scale: sign, the 8 exponent bits, 4 mantissa bits.
inline constexpr unsigned short_scale_bits = 13;
/// Mantissa bits a short scale keeps.
inline constexpr unsigned short_scale_mantissa_bits = 4;

/// The short scale nearest to `c` (ties away from zero): a float32 whose low
/// 19 mantissa bits are zero. 0 when |c| is below float32's normal range,
/// ±infinity beyond its largest short value, NaN for NaN.
SIGNCUT_API float round_to_short_scale(double c) noexcept;

/// True when `c` is a short scale exactly: zero, or a normal finite float32
/// whose low 19 mantissa bits are zero.
SIGNCUT_API bool is_short_scale(float c) noexcept;

/// short_scale_bits when every value of `scales` is a short scale, else
/// float32_scale_bits (an empty list is short).
SIGNCUT_API unsigned scale_bits_of(std::span<const float> scales) noexcept;

}  // namespace signcut
