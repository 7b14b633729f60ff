// Quantized two-factor fits on a column basis, and their exact errors
// without a reconstruction.
//
// With L = Q·R_qr (thin Householder QR) and C = Qᵀ·A, any right factor R
// gives A − L·R = (A − Q·C) + Q·(C − R_qr·R), two orthogonal parts, so
//
//     ‖A − L·R‖² = ‖A‖² − ‖C‖² + ‖C − R_qr·R‖²,
//
// which costs O(m²·d) per candidate once C is known. C's rows for a rank m
// are the first m rows of C at any larger rank (Q's leading columns depend
// only on L's leading columns), so one product Qᵀ·A serves a row of the grid.
#include "low_rank_fit.hpp"

#include <algorithm>
#include <cmath>
#include <limits>
#include <map>

#include <fmt/format.h>

#include "dense_linalg.hpp"
#include "signcut/error.hpp"

namespace signcut::detail {
namespace {

/// A column counts as dependent on the ones before it when QR leaves less
/// than this fraction of its norm; LAPACK's rounding is ~1e-16.
constexpr double dependent_column = 1e-10;

/// L̂ (the dequantized left factor) as a column-major double matrix.
std::vector<double> column_major(const QuantizedMatrix& left)
{
    std::vector<double> out(left.rows() * left.cols());
    std::vector<float> column(left.rows());
    for (std::size_t j = 0; j < left.cols(); ++j) {
        left.dequantize_group(j, column);
        std::copy(column.begin(), column.end(), out.begin() + static_cast<std::ptrdiff_t>(j * left.rows()));
    }
    return out;
}

std::vector<double> dequantized_rows(const QuantizedMatrix& right)
{
    const std::vector<float> values = right.dequantize();
    return std::vector<double>(values.begin(), values.end());
}

/// C = Qᵀ·A for the first `columns` columns of Q, row-major columns × d.
std::vector<float> project(const FitTarget& target, const HouseholderQr& qr, std::size_t columns)
{
    const std::vector<double> qt = orthonormal_factor(qr, columns);  // row-major columns × n
    const std::vector<float> qt32(qt.begin(), qt.end());
    std::vector<float> c(columns * target.cols);
    gemm(false, false, columns, target.cols, target.rows, 1.0f, qt32.data(), target.rows, target.a, target.cols, 0.0f,
         c.data(), target.cols);
    return c;
}

/// The first index j < m whose column is dependent on the ones before it,
/// or m when there is none.
std::size_t first_dependent(const HouseholderQr& qr, const std::vector<double>& lhat, std::size_t m)
{
    for (std::size_t j = 0; j < m; ++j) {
        double norm2 = 0;
        for (std::size_t i = 0; i < qr.rows; ++i) norm2 += lhat[j * qr.rows + i] * lhat[j * qr.rows + i];
        if (!(std::fabs(qr.r(j, j)) > dependent_column * std::sqrt(norm2))) return j;
    }
    return m;
}

double squared_difference(const float* c, const double* t, std::size_t count)
{
    double s = 0;
    for (std::size_t i = 0; i < count; ++i) {
        const double e = static_cast<double>(c[i]) - t[i];
        s += e * e;
    }
    return s;
}

double squared_norm(const float* c, std::size_t count)
{
    double s = 0;
    for (std::size_t i = 0; i < count; ++i) s += static_cast<double>(c[i]) * c[i];
    return s;
}

QuantizedMatrix given_right_factor(const FitBasis& basis, std::size_t rank, std::size_t cols, unsigned bits)
{
    return quantize(basis.given_right, rank, cols, bits, ScaleAxis::row);
}

/// One trial through a column-pivoted QR, for a quantized L whose leading
/// columns are (nearly) dependent: the dependent columns get zero rows in
/// the least-squares W, which is the basic solution LAPACK's xGELSY gives.
FittedFactors fit_pivoted(const FitTarget& target, const FitBasis& basis, const Trial& trial, QuantizedMatrix left)
{
    const std::size_t n = target.rows, d = target.cols, m = trial.rank;
    const HouseholderQr qr = householder_qr(column_major(left), n, m, true);
    std::size_t r = 0;
    const double lead = m ? std::fabs(qr.r(0, 0)) : 0.0;
    while (r < m && lead > 0 && std::fabs(qr.r(r, r)) > dependent_column * lead) ++r;
    const std::vector<float> c = project(target, qr, r);

    QuantizedMatrix right;
    if (basis.given_right != nullptr) {
        right = given_right_factor(basis, m, d, trial.bits_r);
    } else {
        std::vector<double> z(c.begin(), c.end());
        solve_upper(qr, r, z.data(), d);
        std::vector<double> w(m * d, 0.0);
        for (std::size_t i = 0; i < r; ++i)
            std::copy(z.begin() + static_cast<std::ptrdiff_t>(i * d), z.begin() + static_cast<std::ptrdiff_t>((i + 1) * d),
                      w.begin() + static_cast<std::ptrdiff_t>(qr.permutation[i] * d));
        right = quantize(w.data(), m, d, trial.bits_r, ScaleAxis::row);
    }
    // T = R_qr[:r, :m] · Pᵀ·R̂: row j of Pᵀ·R̂ is row permutation[j] of R̂.
    const std::vector<double> rhat = dequantized_rows(right);
    std::vector<double> permuted(m * d);
    for (std::size_t j = 0; j < m; ++j)
        std::copy(rhat.begin() + static_cast<std::ptrdiff_t>(qr.permutation[j] * d),
                  rhat.begin() + static_cast<std::ptrdiff_t>((qr.permutation[j] + 1) * d),
                  permuted.begin() + static_cast<std::ptrdiff_t>(j * d));
    std::vector<double> upper(r * m, 0.0);
    for (std::size_t i = 0; i < r; ++i)
        for (std::size_t j = i; j < m; ++j) upper[i * m + j] = qr.r(i, j);
    std::vector<double> t(r * d, 0.0);
    gemm(false, false, r, d, m, 1.0, upper.data(), m, permuted.data(), d, 0.0, t.data(), d);

    FittedFactors out;
    out.error2 = std::max(0.0, target.norm2 - squared_norm(c.data(), c.size())) +
                 squared_difference(c.data(), t.data(), t.size());
    out.left = std::move(left);
    out.right = std::move(right);
    return out;
}

/// Trials sharing bits_l: one quantized L at the largest rank, one QR, one
/// C. `keep`, if given, receives the factors of the (single) trial.
void run_group(const FitTarget& target, const FitBasis& basis, unsigned bits_l, std::span<const Trial> trials,
               std::span<const std::size_t> positions, std::vector<double>& errors, FittedFactors* keep)
{
    const std::size_t n = target.rows, d = target.cols;
    std::size_t top = 0;
    for (const std::size_t p : positions) top = std::max(top, trials[p].rank);
    // Quantizing column by column makes the codes of a prefix the prefix of
    // the codes, so the largest rank's L serves every trial of the group.
    std::vector<float> prefix(n * top);
    for (std::size_t i = 0; i < n; ++i)
        std::copy(basis.y + i * basis.cols, basis.y + i * basis.cols + top, prefix.begin() + static_cast<std::ptrdiff_t>(i * top));
    QuantizedMatrix left = quantize(prefix.data(), n, top, bits_l, ScaleAxis::column);
    const std::vector<double> lhat = column_major(left);
    const HouseholderQr qr = householder_qr(lhat, n, top, false);
    const std::size_t independent = first_dependent(qr, lhat, top);
    const std::vector<float> c = project(target, qr, independent);

    // ‖C‖² over the first m rows, for every m.
    std::vector<double> head(independent + 1, 0.0);
    for (std::size_t i = 0; i < independent; ++i) head[i + 1] = head[i] + squared_norm(c.data() + i * d, d);

    for (const std::size_t p : positions) {
        const Trial& trial = trials[p];
        const std::size_t m = trial.rank;
        if (m > independent) {
            // Rare (tiny or degenerate inputs): L has dependent columns.
            std::vector<float> own(n * m);
            for (std::size_t i = 0; i < n; ++i)
                std::copy(basis.y + i * basis.cols, basis.y + i * basis.cols + m, own.begin() + static_cast<std::ptrdiff_t>(i * m));
            FittedFactors f = fit_pivoted(target, basis, trial, quantize(own.data(), n, m, bits_l, ScaleAxis::column));
            errors[p] = f.error2;
            if (keep) *keep = std::move(f);
            continue;
        }
        QuantizedMatrix right;
        if (basis.given_right != nullptr) {
            right = given_right_factor(basis, m, d, trial.bits_r);
        } else {
            std::vector<double> w(c.begin(), c.begin() + static_cast<std::ptrdiff_t>(m * d));
            solve_upper(qr, m, w.data(), d);
            right = quantize(w.data(), m, d, trial.bits_r, ScaleAxis::row);
        }
        std::vector<double> t = dequantized_rows(right);
        multiply_upper(qr, m, t.data(), d);
        errors[p] = std::max(0.0, target.norm2 - head[m]) + squared_difference(c.data(), t.data(), m * d);
        if (keep) {
            keep->error2 = errors[p];
            keep->right = std::move(right);
            if (m == top) {
                keep->left = left;
            } else {
                std::vector<float> own(n * m);
                for (std::size_t i = 0; i < n; ++i)
                    std::copy(prefix.begin() + static_cast<std::ptrdiff_t>(i * top),
                              prefix.begin() + static_cast<std::ptrdiff_t>(i * top + m), own.begin() + static_cast<std::ptrdiff_t>(i * m));
                keep->left = quantize(own.data(), n, m, bits_l, ScaleAxis::column);
            }
        }
    }
}

}  // namespace

FitTarget fit_target(const float* a, std::size_t rows, std::size_t cols)
{
    FitTarget t;
    t.a = a;
    t.rows = rows;
    t.cols = cols;
    t.norm2 = squared_norm(a, rows * cols);
    return t;
}

void check_trial(const Trial& trial, std::size_t rows, std::size_t cols)
{
    const std::size_t max_rank = std::min(rows, cols);
    if (trial.rank == 0 || trial.rank > max_rank)
        throw Error(errc::invalid_argument,
                    fmt::format("rank {} is outside 1..{} for a {}x{} matricization", trial.rank, max_rank, rows, cols));
    for (const unsigned b : {trial.bits_l, trial.bits_r})
        if (b < min_quantizer_bits || b > max_quantizer_bits)
            throw Error(errc::invalid_argument, fmt::format("bits per code must be in {}..{}, got {}", min_quantizer_bits,
                                                            max_quantizer_bits, b));
}

std::vector<double> trial_errors(const FitTarget& target, const FitBasis& basis, std::span<const Trial> trials)
{
    std::vector<double> errors(trials.size(), std::numeric_limits<double>::infinity());
    std::map<unsigned, std::vector<std::size_t>> groups;
    for (std::size_t p = 0; p < trials.size(); ++p) {
        check_trial(trials[p], target.rows, target.cols);
        if (trials[p].rank > basis.cols)
            throw Error(errc::invalid_argument,
                        fmt::format("rank {} exceeds the {} columns of the basis", trials[p].rank, basis.cols));
        groups[trials[p].bits_l].push_back(p);
    }
    for (const auto& [bits_l, positions] : groups) run_group(target, basis, bits_l, trials, positions, errors, nullptr);
    return errors;
}

FittedFactors fit_trial(const FitTarget& target, const FitBasis& basis, const Trial& trial)
{
    check_trial(trial, target.rows, target.cols);
    if (trial.rank > basis.cols)
        throw Error(errc::invalid_argument, fmt::format("rank {} exceeds the {} columns of the basis", trial.rank, basis.cols));
    std::vector<double> errors(1);
    const std::size_t position = 0;
    FittedFactors out;
    run_group(target, basis, trial.bits_l, std::span<const Trial>(&trial, 1), std::span<const std::size_t>(&position, 1),
              errors, &out);
    return out;
}

std::vector<Trial> budget_trials(std::size_t rows, std::size_t cols, double budget, unsigned min_bits,
                                 unsigned max_bits, std::size_t max_rank)
{
    std::vector<Trial> trials;
    for (unsigned bl = min_bits; bl <= max_bits; ++bl)
        for (unsigned br = min_bits; br <= max_bits; ++br) {
            const std::size_t rank = std::min(lplr_rank_for_bits(rows, cols, bl, br, budget), max_rank);
            if (rank > 0) trials.push_back({rank, bl, br});
        }
    return trials;
}

std::vector<Trial> requested_trials(std::size_t rows, std::size_t cols, const LplrOptions& options)
{
    const bool explicit_rank = options.rank || options.bits_l || options.bits_r;
    if (explicit_rank && !(options.rank && options.bits_l && options.bits_r))
        throw Error(errc::invalid_argument, "an explicit factorization needs all three of rank, bits_l and bits_r");
    if (explicit_rank && options.bits_per_value)
        throw Error(errc::invalid_argument, "give either a bit budget or a rank with bits_l and bits_r, not both");
    if (explicit_rank) {
        const Trial trial{*options.rank, *options.bits_l, *options.bits_r};
        check_trial(trial, rows, cols);
        return {trial};
    }
    if (options.min_search_bits < min_quantizer_bits || options.max_search_bits > max_quantizer_bits ||
        options.min_search_bits > options.max_search_bits)
        throw Error(errc::invalid_argument, fmt::format("the search grid {}..{} must lie within {}..{}",
                                                        options.min_search_bits, options.max_search_bits,
                                                        min_quantizer_bits, max_quantizer_bits));
    const double budget = options.bits_per_value.value_or(1.0);
    if (!(budget > 0)) throw Error(errc::invalid_argument, fmt::format("bits per value must be positive, got {}", budget));
    const std::vector<Trial> trials = budget_trials(rows, cols, budget, options.min_search_bits, options.max_search_bits,
                                                    std::min(rows, cols));
    if (trials.empty())
        throw Error(errc::bad_input,
                    fmt::format("{} bits per value is below one rank of a {}x{} matricization at {}-bit codes: the "
                                "minimum is {:.6g}",
                                budget, rows, cols, options.min_search_bits,
                                lplr_payload_bits_per_value(rows, cols, 1, options.min_search_bits,
                                                            options.min_search_bits)));
    return trials;
}

Trial choose_trial(const FitTarget& target, const FitBasis& basis, std::span<const Trial> trials, LplrReport& report)
{
    if (trials.size() == 1) return trials.front();
    const std::vector<double> errors = trial_errors(target, basis, trials);
    std::size_t best = 0;
    for (std::size_t p = 0; p < trials.size(); ++p) {
        report.candidates.push_back(describe(target, trials[p], errors[p]));
        if (errors[p] < errors[best]) best = p;
    }
    return trials[best];
}

LplrCandidate describe(const FitTarget& target, const Trial& trial, double error2)
{
    const double norm = std::sqrt(target.norm2);
    return {trial.rank, trial.bits_l, trial.bits_r,
            lplr_bits_per_value(target.rows, target.cols, trial.rank, trial.bits_l, trial.bits_r),
            norm > 0 ? std::sqrt(error2) / norm : 0.0};
}

}  // namespace signcut::detail
