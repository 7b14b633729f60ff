// signcut: the project's own seeded generator.
//
// std::*_distribution output differs between standard libraries, so the
// starting signs come from splitmix64, which is specified bit for bit. The
// signs of term j, mode a depend only on (seed, j, a): any implementation can
// reproduce them, whatever the thread count.
#pragma once

#include "signcut/export.hpp"

#include <cstddef>
#include <cstdint>

#include "signcut/signs.hpp"

namespace signcut {

/// splitmix64 (Steele, Lea, Flood 2014): a 64-bit counter-based mixer.
class SIGNCUT_API SplitMix64 {
public:
    explicit SplitMix64(std::uint64_t seed) noexcept : state_(seed) {}
    std::uint64_t next() noexcept
    {
        std::uint64_t z = (state_ += 0x9e3779b97f4a7c15ull);
        z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ull;
        z = (z ^ (z >> 27)) * 0x94d049bb133111ebull;
        return z ^ (z >> 31);
    }
    /// Uniform in [0, 1) with 53 random bits.
    double uniform() noexcept { return static_cast<double>(next() >> 11) * 0x1.0p-53; }
    /// Standard normal (Box-Muller on two uniforms; deterministic across platforms
    /// up to libm's log/cos/sqrt).
    double normal() noexcept;

private:
    std::uint64_t state_;
};

/// Uniformly random starting signs for term `term`, mode `mode`, of length `d`:
/// one splitmix64 word per 64 signs from a stream keyed by (seed, term, mode),
/// padding bits cleared.
SIGNCUT_API SignVector starting_signs(std::uint64_t seed, std::size_t term, std::size_t mode, std::size_t d);

/// The seed of restart r ≥ 1 of a decomposition seeded with `seed`: another
/// splitmix64 stream, so restarts never repeat the first start's signs.
SIGNCUT_API std::uint64_t restart_seed(std::uint64_t seed, std::size_t restart);

}  // namespace signcut
