// Internal: quantized two-factor fits L·R ≈ A on a given column basis, the
// step LPLR, LSVD and DSVD share. They differ only in the basis Y whose
// leading columns are quantized into L (a sketch A·S, or U·Σ) and in R (the
// least-squares fit to the quantized L, or the quantized Vᵀ for DSVD).
#pragma once

#include <cstddef>
#include <span>
#include <vector>

#include "signcut/lplr.hpp"
#include "signcut/quantizer.hpp"

namespace signcut::detail {

/// The matrix being approximated: row-major rows × cols.
struct FitTarget {
    const float* a = nullptr;
    std::size_t rows = 0, cols = 0;
    double norm2 = 0;  ///< ‖A‖²_F
};
FitTarget fit_target(const float* a, std::size_t rows, std::size_t cols);

/// The columns L is quantized from: Y, row-major rows × cols; a trial of
/// rank m uses its first m columns. `given_right`, if set, is a row-major
/// cols × target.cols matrix whose first m rows are quantized into R instead
/// of the least-squares fit (DSVD).
struct FitBasis {
    const float* y = nullptr;
    std::size_t cols = 0;
    const float* given_right = nullptr;
};

struct Trial {
    std::size_t rank = 0;
    unsigned bits_l = 0, bits_r = 0;
};

/// ‖A − L·R‖²_F of every trial, in the order given. Trials with the same
/// bits_l share one quantized L, one QR and one product Qᵀ·A.
std::vector<double> trial_errors(const FitTarget& target, const FitBasis& basis, std::span<const Trial> trials);

/// The factors of one trial and ‖A − L·R‖²_F.
struct FittedFactors {
    QuantizedMatrix left, right;
    double error2 = 0;
};
FittedFactors fit_trial(const FitTarget& target, const FitBasis& basis, const Trial& trial);

/// Every (bits_l, bits_r) in [min_bits, max_bits]² at the largest rank that
/// fits `budget` (at most `max_rank`), skipping those where no rank fits.
std::vector<Trial> budget_trials(std::size_t rows, std::size_t cols, double budget, unsigned min_bits,
                                 unsigned max_bits, std::size_t max_rank);

/// The trials `options` asks for: its explicit rank and bit widths, or the
/// budget grid. Throws `Error`: errc::invalid_argument for contradictory
/// options, errc::bad_input for a budget below rank 1 (naming the minimum).
std::vector<Trial> requested_trials(std::size_t rows, std::size_t cols, const LplrOptions& options);

/// The trial with the smallest error (the first on ties); a single trial is
/// returned without evaluation. Every evaluated trial goes to
/// `report.candidates`.
Trial choose_trial(const FitTarget& target, const FitBasis& basis, std::span<const Trial> trials, LplrReport& report);

/// A trial and its squared error as a report line.
LplrCandidate describe(const FitTarget& target, const Trial& trial, double error2);

/// Throws Error(errc::invalid_argument) for a rank of 0 or above
/// min(rows, cols), or bit widths outside 2..16.
void check_trial(const Trial& trial, std::size_t rows, std::size_t cols);

}  // namespace signcut::detail
