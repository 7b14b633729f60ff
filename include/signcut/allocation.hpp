// signcut: the rate–distortion allocation of a budget between blocks.
//
// Each block offers a greedy sequence of terms; term j of block b lowers the
// squared error by its gain g_{b,j} = c_{b,j}²·n_b (in double, from the
// stored float32 scale, so that a file alone determines it) and costs the
// block's term bits t_b. A block's width is a prefix of its sequence. The
// allocation takes the segments of each block's upper convex hull of
// cumulative (bits, gain) in decreasing order of slope (gain per bit) across
// blocks; ties go to the lower block index, then the earlier term. With a
// bit budget, a segment that does not fit is shortened to the terms that
// still fit (the hull of what is left) and the allocation goes on with the
// others, so the budget is filled as far as whole terms allow. With an error
// target, segments are taken until the gains reach it, the last one only as
// far as needed. The result is optimal at hull breakpoints, and within one
// segment's gain elsewhere.
//
// A block may also offer alternatives (other codecs' operating points,
// design §3c): then its points are the prefixes and the alternatives
// together, and moving along its hull can switch from terms to an
// alternative (or back), paying the difference in bits.
#pragma once

#include "signcut/export.hpp"

#include <cstddef>
#include <cstdint>
#include <span>
#include <vector>

namespace signcut {

/// Another way to store a block whole (another codec's operating point):
/// its bits and the drop of squared error it gives against storing nothing.
struct SIGNCUT_API AlternativePoint {
    std::uint64_t bits = 0;
    double gain = 0;
    std::uint32_t streams = 0;  ///< streams it is stored as (bits holds a 32-bit size for each)
};

/// One block's known greedy sequence, and its alternatives.
struct SIGNCUT_API BlockCurve {
    std::vector<double> gains;    ///< g_{b,j}, in greedy order (≥ 0)
    std::uint64_t term_bits = 0;  ///< t_b, the payload of one term (> 0)
    /// Other codecs' points: a block takes either a prefix of its terms or
    /// one of these. The allocation runs over the upper convex hull of all
    /// of the block's points (prefixes and alternatives) in (bits, gain).
    std::vector<AlternativePoint> alternatives;
};

struct SIGNCUT_API Allocation {
    std::vector<std::size_t> widths;   ///< w_b per block (0 where an alternative is chosen)
    std::vector<std::size_t> choices;  ///< per block: 0 for its terms, i + 1 for alternatives[i]
    std::uint64_t term_bits = 0;       ///< Σ_b of the chosen points' bits (w_b·t_b for terms)
    double gain = 0;                   ///< Σ_b of the chosen points' gains
    bool target_reached = true;        ///< false if an error target was not met within the cap
};

/// The widths of the greatest total gain whose Σ w_b·t_b fits `budget_bits`.
SIGNCUT_API Allocation allocate_bits(std::span<const BlockCurve> curves, std::uint64_t budget_bits);

/// The fewest bits whose total gain reaches `needed_gain`, within
/// `budget_bits` (then target_reached may be false).
SIGNCUT_API Allocation allocate_gain(std::span<const BlockCurve> curves, double needed_gain, std::uint64_t budget_bits);

/// The gain of a term of scale `c` in a block of `n` values: c²·n in double.
inline double term_gain(float c, std::uint64_t n)
{
    return static_cast<double>(c) * static_cast<double>(c) * static_cast<double>(n);
}

}  // namespace signcut
