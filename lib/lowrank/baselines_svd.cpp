// The SVD family of baselines: truncated SVD, DSVD and LSVD, all from one
// thin SVD of the matricized tensor.
#include <algorithm>
#include <cmath>

#include <fmt/format.h>

#include "dense_linalg.hpp"
#include "low_rank_fit.hpp"
#include "signcut/baselines.hpp"
#include "signcut/error.hpp"

namespace signcut {

MatrixSvd::MatrixSvd(const TensorView<float>& x, std::optional<Matricization> split)
{
    if (x.data == nullptr) throw Error(errc::invalid_argument, "tensor view has no data");
    if (x.shape.empty() || element_count(x.shape) == 0)
        throw Error(errc::bad_input, fmt::format("cannot factor an empty tensor of shape {}", format_shape(x.shape)));
    shape_ = x.shape;
    split_ = split.value_or(Matricization::closest_to_square(shape_));
    split_.validate(shape_.size());
    rows_ = split_.rows(shape_);
    cols_ = split_.cols(shape_);
    matrix_ = matricize(x.data, shape_, split_);
    const auto bad = std::count_if(matrix_.begin(), matrix_.end(), [](float v) { return !std::isfinite(v); });
    if (bad > 0) throw Error(errc::bad_input, fmt::format("input contains {} non-finite values; the SVD needs finite data", bad));
    detail::ThinSvd svd = detail::thin_svd(matrix_, rows_, cols_);
    const std::size_t k = svd.rank;
    us_ = std::move(svd.u);
    for (std::size_t i = 0; i < rows_; ++i)
        for (std::size_t j = 0; j < k; ++j) us_[i * k + j] *= svd.s[j];
    s_ = std::move(svd.s);
    vt_ = std::move(svd.vt);
}

Approximation MatrixSvd::truncated(std::size_t rank) const
{
    if (rank > max_rank())
        throw Error(errc::invalid_argument, fmt::format("rank {} exceeds min({}, {})", rank, rows_, cols_));
    const std::size_t k = max_rank();
    std::vector<float> matrix(rows_ * cols_, 0.0f);
    detail::gemm(false, false, rows_, cols_, rank, 1.0f, us_.data(), k, vt_.data(), cols_, 0.0f, matrix.data(), cols_);
    Approximation a;
    a.reconstruction = Tensor::from_shape(shape_);
    unmatricize(matrix.data(), shape_, split_, a.reconstruction.data());
    a.stored_bits = 32 * static_cast<std::uint64_t>(rank) * (rows_ + cols_);
    a.bits_per_value = static_cast<double>(a.stored_bits) / static_cast<double>(rows_ * cols_);
    a.parameters = fmt::format("k={}", rank);
    return a;
}

std::size_t MatrixSvd::truncated_rank_for_bits(double budget) const
{
    if (!(budget > 0)) return 0;
    const double values = static_cast<double>(rows_) * static_cast<double>(cols_);
    const double per_rank = 32.0 * static_cast<double>(rows_ + cols_);
    std::size_t k = static_cast<std::size_t>(std::min(std::floor(budget * values / per_rank), double(max_rank())));
    while (k > 0 && static_cast<double>(k) * per_rank > budget * values) --k;
    while (k < max_rank() && static_cast<double>(k + 1) * per_rank <= budget * values) ++k;
    return k;
}

LplrDecomposition MatrixSvd::direct_quantized(const LplrOptions& options, LplrReport* report) const
{
    return quantized(options, true, report);
}

LplrDecomposition MatrixSvd::least_squares_quantized(const LplrOptions& options, LplrReport* report) const
{
    return quantized(options, false, report);
}

LplrDecomposition MatrixSvd::quantized(const LplrOptions& options, bool direct, LplrReport* report) const
{
    const std::vector<detail::Trial> trials = detail::requested_trials(rows_, cols_, options);
    const detail::BlasThreads blas_threads(options.threads);
    const detail::FitTarget target = detail::fit_target(matrix_.data(), rows_, cols_);
    // U·Σ is the basis of L; DSVD quantizes Vᵀ for R instead of fitting it.
    const detail::FitBasis basis{us_.data(), max_rank(), direct ? vt_.data() : nullptr};
    LplrReport local;
    LplrReport& rep = report ? *report : local;
    rep = {};
    const detail::Trial chosen = detail::choose_trial(target, basis, trials, rep);
    detail::FittedFactors f = detail::fit_trial(target, basis, chosen);
    rep.chosen = detail::describe(target, chosen, f.error2);
    return LplrDecomposition(shape_, split_, std::move(f.left), std::move(f.right));
}

}  // namespace signcut
