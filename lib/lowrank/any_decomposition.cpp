// Decomposition: either method behind one interface (any_decomposition.hpp).
#include "signcut/any_decomposition.hpp"

#include <algorithm>
#include <cmath>

#include <fmt/format.h>

#include "dense_linalg.hpp"
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

/// The region's values copied out of a full C-ordered tensor of `shape`
/// into `dst`.
template <class T>
void copy_region(const T* full, const Shape& shape, const Region& region, T* dst)
{
    const std::size_t k = shape.size();
    Shape idx(k);
    for (std::size_t a = 0; a < k; ++a) idx[a] = region[a].start;
    const std::size_t run = region[k - 1].stop - region[k - 1].start;
    for (;;) {
        std::uint64_t src = 0;
        for (std::size_t a = 0; a < k; ++a) src = src * shape[a] + idx[a];
        dst = std::copy(full + src, full + src + run, dst);
        std::size_t a = k - 1;
        while (a-- > 0) {
            if (++idx[a] < region[a].stop) break;
            idx[a] = region[a].start;
        }
        if (a == std::size_t(-1)) break;
    }
}

Tensor cut_region(const Tensor& full, const Region& region)
{
    const Shape shape(full.shape().begin(), full.shape().end());
    check_region(region, shape);
    Tensor out = Tensor::from_shape(region_shape(region));
    copy_region(full.data(), shape, region, out.data());
    return out;
}

/// An lplr factorization multiplied out in double: the codes times their
/// float32 scales are exact in double, then one double matrix product, then
/// the matricization undone.
std::vector<double> lplr_float64(const LplrDecomposition& d, unsigned threads)
{
    const detail::BlasThreads blas_threads(threads);
    const QuantizedMatrix& L = d.left();
    const QuantizedMatrix& R = d.right();
    const std::size_t n = d.rows(), m = d.rank(), c = d.cols();
    std::vector<double> l(n * m), r(m * c);
    for (std::size_t i = 0; i < n; ++i)
        for (std::size_t j = 0; j < m; ++j) l[i * m + j] = double(L.code(i, j)) * double(L.scales()[j]);
    for (std::size_t i = 0; i < m; ++i)
        for (std::size_t j = 0; j < c; ++j) r[i * c + j] = double(R.code(i, j)) * double(R.scales()[i]);
    std::vector<double> matrix(n * c, 0.0);
    if (m > 0) detail::gemm(false, false, n, c, m, 1.0, l.data(), m, r.data(), c, 0.0, matrix.data(), c);
    const Matricization& split = d.matricization();
    if (split.is_contiguous()) return matrix;
    // Entry (i_0, …, i_{k-1}) sits at row (i_r0, i_r1, …) and column
    // (i_c0, …), each a C-order index over its modes in the order listed.
    const Shape& shape = d.shape();
    const std::size_t k = shape.size();
    std::vector<std::uint64_t> stride(k, 0);
    std::uint64_t s = 1;
    for (std::size_t p = split.col_modes.size(); p-- > 0;) stride[split.col_modes[p]] = s, s *= shape[split.col_modes[p]];
    const std::uint64_t cols = s;
    s = 1;
    for (std::size_t p = split.row_modes.size(); p-- > 0;)
        stride[split.row_modes[p]] = s * cols, s *= shape[split.row_modes[p]];
    std::vector<double> out(d.size());
    Shape idx(k, 0);
    for (std::uint64_t t = 0; t < out.size(); ++t) {
        std::uint64_t at = 0;
        for (std::size_t a = 0; a < k; ++a) at += idx[a] * stride[a];
        out[t] = matrix[at];
        for (std::size_t a = k; a-- > 0;) {
            if (++idx[a] < shape[a]) break;
            idx[a] = 0;
        }
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

std::vector<double> Decomposition::reconstruct_float64(unsigned threads) const
{
    return std::visit(overloaded{[&](const SignedCutDecomposition& d) { return d.reconstruct_float64(threads); },
                                 [&](const LplrDecomposition& d) { return lplr_float64(d, threads); }},
                      d_);
}

std::vector<double> Decomposition::reconstruct_float64(const Region& region, unsigned threads) const
{
    return std::visit(overloaded{[&](const SignedCutDecomposition& d) { return d.reconstruct_float64(region, threads); },
                                 [&](const LplrDecomposition& d) {
                                     check_region(region, d.shape());
                                     const std::vector<double> full = lplr_float64(d, threads);
                                     std::vector<double> out(element_count(region_shape(region)));
                                     copy_region(full.data(), d.shape(), region, out.data());
                                     return out;
                                 }},
                      d_);
}

ErrorMetrics Decomposition::error_against(std::span<const float> original, unsigned threads) const
{
    return std::visit(overloaded{[&](const SignedCutDecomposition& d) { return d.error_against(original, threads); },
                                 [&](const LplrDecomposition& d) {
                                     if (original.size() != d.size())
                                         throw Error(errc::invalid_argument,
                                                     fmt::format("the original has {} floats, the decomposition {}",
                                                                 original.size(), d.size()));
                                     const Tensor r = d.reconstruct(threads);
                                     std::uint64_t bad = 0;
                                     for (const float v : r) bad += !std::isfinite(v);
                                     if (bad == 0) return compare(original, std::span<const float>(r.data(), r.size()));
                                     // The float32 product overflowed: measure the float64 one.
                                     const std::vector<double> wide = lplr_float64(d, threads);
                                     ErrorAccumulator acc;
                                     acc.add(original, std::span<const double>(wide));
                                     acc.add_float32_overflows(bad);
                                     return acc.result();
                                 }},
                      d_);
}

}  // namespace signcut
