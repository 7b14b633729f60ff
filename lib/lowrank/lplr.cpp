// LPLR: the Gaussian sketch, power iterations and the budget search.
#include "signcut/lplr.hpp"

#include <algorithm>
#include <cmath>
#include <limits>

#include <fmt/format.h>

#include "dense_linalg.hpp"
#include "greedy.hpp"
#include "low_rank_fit.hpp"
#include "signcut/decomposition.hpp"
#include "signcut/error.hpp"
#include "signcut/random.hpp"

namespace signcut {
namespace {

/// The stream of sketch column j: splitmix64 keyed by (seed, j).
SplitMix64 sketch_column_stream(std::uint64_t seed, std::size_t column)
{
    SplitMix64 key(seed ^ 0x4c504c52u);  // "LPLR": keeps these streams apart from the decomposer's
    const std::uint64_t stream = key.next() ^ (static_cast<std::uint64_t>(column) * 0xd1b54a32d192ed03ull);
    return SplitMix64(SplitMix64(stream).next());
}

/// Orthonormal basis of the columns of row-major rows × cols `y`, returned
/// as the row-major cols × rows matrix Qᵀ.
std::vector<float> orthonormal_columns_transposed(const std::vector<float>& y, std::size_t rows, std::size_t cols)
{
    std::vector<double> column_major(rows * cols);
    for (std::size_t i = 0; i < rows; ++i)
        for (std::size_t j = 0; j < cols; ++j) column_major[j * rows + i] = y[i * cols + j];
    const detail::HouseholderQr qr = detail::householder_qr(std::move(column_major), rows, cols, false);
    const std::vector<double> qt = detail::orthonormal_factor(qr, cols);
    return std::vector<float>(qt.begin(), qt.end());
}

/// Y = A·S (n × m) for a d × m standard normal S, then `power` passes of
/// Y ← A·orth(Aᵀ·orth(Y)).
std::vector<float> sketch(const detail::FitTarget& a, std::size_t m, std::uint64_t seed, unsigned power)
{
    const std::size_t n = a.rows, d = a.cols;
    std::vector<float> s(d * m);
    for (std::size_t j = 0; j < m; ++j) {
        SplitMix64 gen = sketch_column_stream(seed, j);
        for (std::size_t i = 0; i < d; ++i) s[i * m + j] = static_cast<float>(gen.normal());
    }
    std::vector<float> y(n * m);
    detail::gemm(false, false, n, m, d, 1.0f, a.a, d, s.data(), m, 0.0f, y.data(), m);
    for (unsigned pass = 0; pass < power; ++pass) {
        const std::vector<float> qt = orthonormal_columns_transposed(y, n, m);  // m × n
        std::vector<float> z(d * m);                                              // Aᵀ·Q
        detail::gemm(true, true, d, m, n, 1.0f, a.a, d, qt.data(), n, 0.0f, z.data(), m);
        const std::vector<float> zt = orthonormal_columns_transposed(z, d, m);  // m × d
        detail::gemm(false, true, n, m, d, 1.0f, a.a, d, zt.data(), d, 0.0f, y.data(), m);
    }
    return y;
}

void check_finite(const float* x, std::uint64_t n)
{
    std::uint64_t bad = 0;
    for (std::uint64_t i = 0; i < n; ++i) bad += !std::isfinite(x[i]);
    if (bad > 0)
        throw Error(errc::bad_input, fmt::format("input contains {} non-finite values; LPLR needs finite data", bad));
}

}  // namespace

LplrDecomposition::LplrDecomposition(Shape shape, Matricization split, QuantizedMatrix left, QuantizedMatrix right)
    : shape_(std::move(shape)), split_(std::move(split)), left_(std::move(left)), right_(std::move(right))
{
    if (shape_.empty()) throw Error(errc::invalid_argument, "an LPLR decomposition needs a tensor of order >= 1");
    for (std::size_t a = 0; a < shape_.size(); ++a)
        if (shape_[a] == 0)
            throw Error(errc::invalid_argument, fmt::format("shape {} has an empty mode {}", format_shape(shape_), a));
    size_ = element_count(shape_);
    split_.validate(shape_.size());
    const std::size_t n = split_.rows(shape_), d = split_.cols(shape_);
    if (left_.axis() != ScaleAxis::column || right_.axis() != ScaleAxis::row)
        throw Error(errc::invalid_argument, "L needs one scale per column and R one per row");
    if (left_.rows() != n || right_.cols() != d || left_.cols() != right_.rows())
        throw Error(errc::invalid_argument,
                    fmt::format("factors {}x{} and {}x{} do not multiply to the {}x{} matricization {} of {}", left_.rows(),
                                left_.cols(), right_.rows(), right_.cols(), n, d, split_.to_string(), format_shape(shape_)));
}

double LplrDecomposition::bits_per_value() const noexcept
{
    return size_ ? static_cast<double>(stored_bits()) / static_cast<double>(size_) : 0.0;
}

Tensor LplrDecomposition::reconstruct(unsigned threads) const
{
    Tensor out = Tensor::from_shape(shape_);
    reconstruct_into(std::span<float>(out.data(), out.size()), threads);
    return out;
}

void LplrDecomposition::reconstruct_into(std::span<float> out, unsigned threads) const
{
    if (out.size() != size_)
        throw Error(errc::invalid_argument, fmt::format("reconstruction buffer holds {} values, expected {}", out.size(), size_));
    const detail::BlasThreads blas_threads(threads);
    const std::size_t n = rows(), d = cols(), m = rank();
    const std::vector<float> l = left_.dequantize();
    const std::vector<float> r = right_.dequantize();
    if (split_.is_contiguous()) {
        detail::gemm(false, false, n, d, m, 1.0f, l.data(), m, r.data(), d, 0.0f, out.data(), d);
        return;
    }
    std::vector<float> matrix(n * d, 0.0f);
    detail::gemm(false, false, n, d, m, 1.0f, l.data(), m, r.data(), d, 0.0f, matrix.data(), d);
    unmatricize(matrix.data(), shape_, split_, out.data());
}

double lplr_bits_per_value(std::size_t n, std::size_t d, std::size_t rank, unsigned bits_l, unsigned bits_r)
{
    const double per_rank = static_cast<double>(n) * bits_l + static_cast<double>(d) * bits_r + 64.0;
    return static_cast<double>(rank) * per_rank / (static_cast<double>(n) * static_cast<double>(d));
}

std::size_t lplr_rank_for_bits(std::size_t n, std::size_t d, unsigned bits_l, unsigned bits_r, double budget)
{
    if (!(budget > 0) || n == 0 || d == 0) return 0;
    const std::size_t cap = std::min(n, d);
    const double per_rank = static_cast<double>(n) * bits_l + static_cast<double>(d) * bits_r + 64.0;
    double estimate = std::floor(budget * static_cast<double>(n) * static_cast<double>(d) / per_rank);
    std::size_t rank = estimate >= static_cast<double>(cap) ? cap : static_cast<std::size_t>(std::max(estimate, 0.0));
    // The estimate counts codes and scales only; settle it on the payload
    // the file stores (chunk padding and checksums included), which is what
    // a budget bounds.
    while (rank > 0 && lplr_payload_bits_per_value(n, d, rank, bits_l, bits_r) > budget) --rank;
    while (rank < cap && lplr_payload_bits_per_value(n, d, rank + 1, bits_l, bits_r) <= budget) ++rank;
    return rank;
}

double lplr_payload_bits_per_value(std::size_t n, std::size_t d, std::size_t rank, unsigned bits_l, unsigned bits_r)
{
    // L: rank columns of n codes, R: rank rows of d codes, each a group of
    // whole uint64 words with one float32 scale (as the writer stores them).
    const std::uint64_t bytes = stored_dataset_bytes(std::uint64_t(rank) * code_words(n, bits_l), 8) +
                                stored_dataset_bytes(rank, 4) +
                                stored_dataset_bytes(std::uint64_t(rank) * code_words(d, bits_r), 8) +
                                stored_dataset_bytes(rank, 4);
    return 8.0 * static_cast<double>(bytes) / (static_cast<double>(n) * static_cast<double>(d));
}

LplrDecomposition lplr(const TensorView<float>& x, const LplrOptions& options, LplrReport* report)
{
    if (x.data == nullptr) throw Error(errc::invalid_argument, "tensor view has no data");
    if (x.shape.empty()) throw Error(errc::bad_input, "cannot factor an order-0 tensor (a scalar)");
    for (std::size_t a = 0; a < x.shape.size(); ++a)
        if (x.shape[a] == 0)
            throw Error(errc::bad_input, fmt::format("cannot factor shape {}: mode {} is empty", format_shape(x.shape), a));
    const Matricization split = options.matricization.value_or(Matricization::closest_to_square(x.shape));
    split.validate(x.shape.size());
    const std::size_t n = split.rows(x.shape), d = split.cols(x.shape);
    const std::vector<detail::Trial> trials = detail::requested_trials(n, d, options);
    check_finite(x.data, element_count(x.shape));
    const detail::BlasThreads blas_threads(options.threads);

    std::vector<float> copy;
    const float* a = x.data;
    if (!split.is_contiguous()) {
        copy = matricize(x.data, x.shape, split);
        a = copy.data();
    }
    // Data near the float32 limit: the sketch and the power iterations sum
    // up to max(n, d) products in float32, which overflow long before the
    // values reach FLT_MAX (3e38 gave an infinite sketch and NaN factors).
    // As in the greedy (greedy.cpp), such data is multiplied by an exact
    // power of two 2^−e first, and R's scales by 2^e at the end; the
    // factorization is homogeneous, so the codes are those of the scaled
    // data and the error is unchanged. Ordinary data is not touched.
    const std::uint64_t count = element_count(x.shape);
    float max_abs = 0;
    for (std::uint64_t i = 0; i < count; ++i) max_abs = std::max(max_abs, std::abs(a[i]));
    const int e = detail::headroom_exponent(max_abs, count);
    if (e > 0) {
        if (copy.empty()) copy.assign(a, a + count);
        const float down = std::ldexp(1.0f, -e);
        for (float& v : copy) v *= down;
        a = copy.data();
    }
    const detail::FitTarget target = detail::fit_target(a, n, d);
    LplrReport local;
    LplrReport& rep = report ? *report : local;
    rep = {};

    detail::Trial chosen = trials.front();
    if (trials.size() > 1) {
        // One sketch at the largest rank serves every candidate (prefixes).
        std::size_t top = 0;
        for (const auto& t : trials) top = std::max(top, t.rank);
        const std::vector<float> y = sketch(target, top, options.seed, options.power_iterations);
        chosen = detail::choose_trial(target, {y.data(), top, nullptr}, trials, rep);
    }
    // The chosen candidate from its own sketch: the same result as an
    // explicit run with these parameters.
    const std::vector<float> y = sketch(target, chosen.rank, options.seed, options.power_iterations);
    detail::FittedFactors f = detail::fit_trial(target, {y.data(), chosen.rank, nullptr}, chosen);
    rep.chosen = detail::describe(target, chosen, f.error2);
    if (e > 0) {
        std::vector<float> scales = f.right.scales();
        for (std::size_t g = 0; g < scales.size(); ++g) {
            const float up = std::ldexp(scales[g], e);
            if (!std::isfinite(up))
                throw Error(errc::bad_input,
                            fmt::format("the scale of row {} of R would be {:.9g}, beyond the float32 range (largest "
                                        "{:.9g}); an lplr file stores float32 scales",
                                        g, std::ldexp(double(scales[g]), e),
                                        double(std::numeric_limits<float>::max())));
            scales[g] = up;
        }
        f.right = QuantizedMatrix(f.right.rows(), f.right.cols(), f.right.bits(), f.right.axis(), std::move(scales),
                                  f.right.words());
    }
    return LplrDecomposition(x.shape, split, std::move(f.left), std::move(f.right));
}

}  // namespace signcut
