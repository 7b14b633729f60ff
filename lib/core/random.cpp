// The seeded generator behind the starting signs.
#include "signcut/random.hpp"

#include <cmath>
#include <numbers>

namespace signcut {

double SplitMix64::normal() noexcept
{
    // 1 - u keeps the logarithm's argument in (0, 1].
    const double u1 = 1.0 - uniform();
    const double u2 = uniform();
    return std::sqrt(-2.0 * std::log(u1)) * std::cos(2.0 * std::numbers::pi * u2);
}

std::uint64_t restart_seed(std::uint64_t seed, std::size_t restart)
{
    SplitMix64 key(seed ^ (static_cast<std::uint64_t>(restart) * 0x9e3779b97f4a7c15ull));
    key.next();
    return key.next();
}

SignVector starting_signs(std::uint64_t seed, std::size_t term, std::size_t mode, std::size_t d)
{
    // Three rounds of mixing give independent streams for neighbouring
    // (term, mode) pairs; the constants are arbitrary odd numbers.
    SplitMix64 key(seed);
    std::uint64_t stream = key.next() ^ (static_cast<std::uint64_t>(term) * 0xd1b54a32d192ed03ull);
    stream = SplitMix64(stream).next() ^ (static_cast<std::uint64_t>(mode) * 0xabc98388fb8fac03ull);
    SplitMix64 gen(SplitMix64(stream).next());
    SignVector v(d);
    std::uint64_t* w = v.data();
    for (std::size_t i = 0; i < v.word_count(); ++i) w[i] = gen.next();
    if (d % 64 != 0) w[v.word_count() - 1] &= tail_mask(d);
    return v;
}

}  // namespace signcut
