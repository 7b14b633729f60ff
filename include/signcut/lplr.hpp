// signcut: LPLR, randomized low-rank and low-precision factorization
// (Saha, Srivastava, Pilanci, NeurIPS 2023).
//
// The tensor is matricized (see matricization.hpp) into an n × d matrix A,
// which is approximated by L·R with L (n × m) and R (m × d) stored as B1-
// and B2-bit codes (quantizer.hpp: one scale per column of L and per row of
// R):
//
//  1. sketch:  Y = A·S with S a d × m Gaussian matrix drawn from splitmix64
//     (column j from its own stream keyed by (seed, j), so a smaller sketch
//     is a prefix of a larger one);
//  2. optional power iterations Y ← A·orth(Aᵀ·orth(Y)), re-orthonormalized by
//     Householder QR between passes (without it the columns collapse onto the
//     top singular vector and quantization erases the rest);
//  3. L = Q_B1(Y);
//  4. W = argmin ‖L·W − A‖_F by Householder QR of L (in double; a column
//     pivoted QR drops exactly dependent columns), never a pseudo-inverse;
//  5. R = Q_B2(W).
//
// The paper's sketch entries have variance 1/m; with per-column scales that
// factor cancels, so S is standard normal here. Storage is counted like
// every method's: B1 bits per code of L, B2 per code of R, 32 per scale,
//
//     bits_per_value = m·(n·B1 + d·B2 + 64) / N.
//
// Given a budget in bits per value, every (B1, B2) in the grid (2..8 by
// default) is tried at the largest rank m that fits, on the data itself: for
// one B1 the codes of L at the largest rank serve every smaller rank (per-
// column scales make L's columns independent), so a whole row of the grid
// costs one QR of L and one product Qᵀ·A, and the error of each candidate
// follows from ‖A − Q·T‖² = ‖A‖² − ‖QᵀA‖² + ‖QᵀA − T‖² (T = R_qr·R) without a
// reconstruction. The best candidate is then computed afresh, exactly as an
// explicit --rank/--bits-l/--bits-r run would.
#pragma once

#include "signcut/export.hpp"

#include <cstddef>
#include <cstdint>
#include <optional>
#include <span>
#include <vector>

#include "signcut/matricization.hpp"
#include "signcut/quantizer.hpp"
#include "signcut/tensor.hpp"

namespace signcut {

/// A tensor approximated as the product of two quantized factors of a
/// matricization: L (n × m, one scale per column) times R (m × d, one scale
/// per row). LPLR, DSVD and LSVD all produce this; it is what a file of
/// method "lplr" stores.
class SIGNCUT_API LplrDecomposition {
public:
    LplrDecomposition() = default;
    /// Validates that the factors fit `shape` under `split`: L has n rows and
    /// per-column scales, R has d columns and per-row scales, and L's column
    /// count equals R's row count.
    LplrDecomposition(Shape shape, Matricization split, QuantizedMatrix left, QuantizedMatrix right);

    const Shape& shape() const noexcept { return shape_; }
    const Matricization& matricization() const noexcept { return split_; }
    std::uint64_t size() const noexcept { return size_; }
    std::size_t rows() const noexcept { return left_.rows(); }
    std::size_t cols() const noexcept { return right_.cols(); }
    std::size_t rank() const noexcept { return left_.cols(); }
    unsigned bits_l() const noexcept { return left_.bits(); }
    unsigned bits_r() const noexcept { return right_.bits(); }
    const QuantizedMatrix& left() const noexcept { return left_; }
    const QuantizedMatrix& right() const noexcept { return right_; }

    /// Logical storage: codes and scales of both factors (no padding).
    std::uint64_t stored_bits() const noexcept { return left_.stored_bits() + right_.stored_bits(); }
    double bits_per_value() const noexcept;

    /// The whole tensor, in its original mode order, through one matrix
    /// product on `threads` BLAS threads (0: the BLAS library's setting).
    Tensor reconstruct(unsigned threads = 0) const;
    void reconstruct_into(std::span<float> out, unsigned threads = 0) const;

private:
    Shape shape_;
    std::uint64_t size_ = 0;
    Matricization split_;
    QuantizedMatrix left_, right_;
};

/// Bits per value of a rank-m factorization of an n × d matrix.
SIGNCUT_API double lplr_bits_per_value(std::size_t n, std::size_t d, std::size_t rank, unsigned bits_l, unsigned bits_r);
/// The payload bits per value of a rank-m factorization as a version-2 file
/// stores it (whole code words per group, chunk padding and checksums).
SIGNCUT_API double lplr_payload_bits_per_value(std::size_t n, std::size_t d, std::size_t rank, unsigned bits_l, unsigned bits_r);
/// The largest rank (at most min(n, d)) whose payload bits per value do not
/// exceed `budget`; 0 if not even rank 1 fits.
SIGNCUT_API std::size_t lplr_rank_for_bits(std::size_t n, std::size_t d, unsigned bits_l, unsigned bits_r, double budget);

struct SIGNCUT_API LplrOptions {
    /// Either a budget (then rank and bit widths are chosen) ...
    std::optional<double> bits_per_value;
    /// ... or all three of rank, bits_l and bits_r.
    std::optional<std::size_t> rank;
    std::optional<unsigned> bits_l, bits_r;

    /// Default: Matricization::closest_to_square.
    std::optional<Matricization> matricization;
    /// Power iterations on the sketch (each costs two products with A).
    /// One is the default: at equal bits it lowers the error by about a
    /// third on the sample data (BENCHMARKS.md).
    unsigned power_iterations = 1;
    /// The grid of bit widths searched under a budget.
    unsigned min_search_bits = 2, max_search_bits = 8;
    std::uint64_t seed = 0;
    /// BLAS threads (0: leave the BLAS library's own setting). OpenBLAS
    /// splits some sums by thread, so results are bit-identical for the
    /// same seed and thread count, not across thread counts.
    unsigned threads = 0;
};

/// One (rank, bits_l, bits_r) and how it did.
struct SIGNCUT_API LplrCandidate {
    std::size_t rank = 0;
    unsigned bits_l = 0, bits_r = 0;
    double bits_per_value = 0;
    double rel_error = 0;  ///< relative Frobenius error of the factorization
};

struct SIGNCUT_API LplrReport {
    /// Every candidate of the budget search (empty for an explicit rank).
    std::vector<LplrCandidate> candidates;
    /// What was used; its error is that of the returned factorization.
    LplrCandidate chosen;
};

/// LPLR of C-ordered float32 data. Throws `Error`: errc::invalid_argument
/// for contradictory or out-of-range options (a rank above min(n, d), bits
/// outside 2..16), errc::bad_input for non-finite data or a budget below
/// rank 1 at the smallest bit widths (naming the minimum).
SIGNCUT_API LplrDecomposition lplr(const TensorView<float>& x, const LplrOptions& options = {}, LplrReport* report = nullptr);

}  // namespace signcut
