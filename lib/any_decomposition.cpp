// Decomposition: either method behind one interface (any_decomposition.hpp).
#include "signcut/any_decomposition.hpp"

#include <algorithm>

#include <fmt/format.h>

#include "signcut/error.hpp"

namespace signcut {
namespace {

template <class... F>
struct overloaded : F... {
    using F::operator()...;
};
template <class... F>
overloaded(F...) -> overloaded<F...>;

/// One factor's stored bytes: its code words ([groups][words per group],
/// uint64) and its scales (float32 per group), as the writer chunks them.
std::uint64_t stored_factor_bytes(const QuantizedMatrix& q)
{
    return stored_dataset_bytes(std::uint64_t(q.groups()) * q.words_per_group(), 8) +
           stored_dataset_bytes(q.groups(), 4);
}

/// The region's values copied out of a full C-ordered tensor.
Tensor cut_region(const Tensor& full, const Region& region)
{
    const Shape shape(full.shape().begin(), full.shape().end());
    check_region(region, shape);
    Tensor out = Tensor::from_shape(region_shape(region));
    const std::size_t k = shape.size();
    Shape idx(k);
    for (std::size_t a = 0; a < k; ++a) idx[a] = region[a].start;
    float* dst = out.data();
    const std::size_t run = region[k - 1].stop - region[k - 1].start;
    for (;;) {
        std::uint64_t src = 0;
        for (std::size_t a = 0; a < k; ++a) src = src * shape[a] + idx[a];
        dst = std::copy(full.data() + src, full.data() + src + run, dst);
        std::size_t a = k - 1;
        while (a-- > 0) {
            if (++idx[a] < region[a].stop) break;
            idx[a] = region[a].start;
        }
        if (a == std::size_t(-1)) break;
    }
    return out;
}

}  // namespace

const Shape& Decomposition::shape() const
{
    return std::visit([](const auto& d) -> const Shape& { return d.shape(); }, d_);
}

std::uint64_t Decomposition::size() const
{
    return std::visit([](const auto& d) { return d.size(); }, d_);
}

std::uint64_t Decomposition::width() const
{
    return std::visit(overloaded{[](const SignedCutDecomposition& d) { return d.width(); },
                                 [](const LplrDecomposition& d) { return std::uint64_t(d.rank()); }},
                      d_);
}

double Decomposition::bits_per_value() const
{
    return std::visit(overloaded{[](const SignedCutDecomposition& d) { return d.bits_per_value(); },
                                 [](const LplrDecomposition& d) {
                                     const double bytes = double(stored_factor_bytes(d.left()) +
                                                                 stored_factor_bytes(d.right()));
                                     return 8.0 * bytes / double(d.size());
                                 }},
                      d_);
}

double Decomposition::counted_bits_per_value() const
{
    return std::visit(overloaded{[](const SignedCutDecomposition& d) { return d.counted_bits_per_value(); },
                                 [](const LplrDecomposition& d) { return d.bits_per_value(); }},
                      d_);
}

Tensor Decomposition::reconstruct(unsigned threads) const
{
    return std::visit([&](const auto& d) { return d.reconstruct(threads); }, d_);
}

Tensor Decomposition::reconstruct(const Region& region, unsigned threads) const
{
    return std::visit(overloaded{[&](const SignedCutDecomposition& d) { return d.reconstruct(region, threads); },
                                 [&](const LplrDecomposition& d) { return cut_region(d.reconstruct(threads), region); }},
                      d_);
}

ErrorMetrics Decomposition::error_against(std::span<const float> original, unsigned threads) const
{
    return std::visit(overloaded{[&](const SignedCutDecomposition& d) { return d.error_against(original, threads); },
                                 [&](const LplrDecomposition& d) {
                                     const Tensor r = d.reconstruct(threads);
                                     return compare(original, std::span<const float>(r.data(), r.size()));
                                 }},
                      d_);
}

}  // namespace signcut
