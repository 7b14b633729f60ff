// signcut: the signed cut decomposition X ≈ Σ_j c_j · s_j^(0) ⊗ … ⊗ s_j^(k-1).
#pragma once

#include <cstddef>
#include <cstdint>
#include <span>
#include <vector>

#include "signcut/metrics.hpp"
#include "signcut/signs.hpp"
#include "signcut/tensor.hpp"

namespace signcut {

/// A width-w, order-k decomposition of a tensor of shape d_0 × … × d_{k-1}:
/// w scales and, for every mode a, a d_a × w sign matrix whose column j is
/// the sign vector of term j in that mode. Terms are kept in the greedy's
/// order, so every prefix is the greedy's own decomposition at that width
/// (unless `scales_refit()`).
class SignedCutDecomposition {
public:
    SignedCutDecomposition() = default;
    /// An empty (width-0) decomposition of `shape`. Throws `Error` on an
    /// order-0 shape or a zero dimension.
    explicit SignedCutDecomposition(Shape shape);
    /// Adopts stored parts (a reader's constructor); validates that every
    /// sign matrix has d_a rows and `scales.size()` columns.
    SignedCutDecomposition(Shape shape, std::vector<float> scales, std::vector<SignMatrix> signs,
                           bool scales_refit = false);

    const Shape& shape() const noexcept { return shape_; }
    std::size_t order() const noexcept { return shape_.size(); }
    std::size_t width() const noexcept { return scales_.size(); }
    /// Number of entries N of the tensor.
    std::uint64_t size() const noexcept { return size_; }

    const std::vector<float>& scales() const noexcept { return scales_; }
    const SignMatrix& signs(std::size_t mode) const { return signs_.at(mode); }
    const std::vector<SignMatrix>& all_signs() const noexcept { return signs_; }
    bool scales_refit() const noexcept { return scales_refit_; }

    /// Appends one term: a scale and one sign vector per mode.
    void append(float scale, std::span<const SignVector> factors);
    /// Room for `width` terms, so that appending them does not reallocate.
    void reserve(std::size_t width);
    /// Keeps the first `w` terms (no-op if w >= width()).
    void truncate(std::size_t w);
    /// A copy holding the first `w` terms.
    SignedCutDecomposition prefix(std::size_t w) const;
    /// Replaces the scales (a least-squares refit); marks scales_refit().
    void set_refit_scales(std::vector<float> scales);

    /// Stored bits per tensor entry: (Σ_a d_a + 32)·w / N (no padding counted).
    double bits_per_value() const noexcept;
    /// Bits of one term: Σ_a d_a + 32.
    static std::uint64_t bits_per_term(std::span<const std::size_t> shape);

    /// The full tensor, through the sign GEMM.
    Tensor reconstruct(unsigned threads = 1) const;
    /// Writes the full tensor (C order, size() floats) into `out`.
    void reconstruct_into(std::span<float> out, unsigned threads = 1) const;
    /// The error of the reconstruction against `original` (C order, size()
    /// floats), without holding the reconstruction: it is rebuilt a few MiB
    /// at a time, bit for bit as reconstruct() builds it. The figures are
    /// those of compare(original, reconstruct()), up to the rounding of the
    /// double sums.
    ErrorMetrics error_against(std::span<const float> original, unsigned threads = 1) const;
    /// One entry.
    float element(std::span<const std::size_t> index) const;
    /// The sub-tensor with some indices fixed: `fixed[a]` is an index into
    /// mode a, or -1 to keep mode a. The result has the kept modes in order
    /// (order 0 when every mode is fixed). Costs O(w · result size).
    Tensor slice(std::span<const std::ptrdiff_t> fixed) const;

    /// Order 2 only: y = S·diag(c)·Tᵀ·x (x has d_1 entries, y has d_0).
    void apply(std::span<const float> x, std::span<float> y) const;
    /// Order 2 only: y = T·diag(c)·Sᵀ·x (x has d_0 entries, y has d_1).
    void apply_transpose(std::span<const float> x, std::span<float> y) const;

private:
    Shape shape_;
    std::uint64_t size_ = 0;
    std::vector<float> scales_;
    std::vector<SignMatrix> signs_;
    bool scales_refit_ = false;
};

}  // namespace signcut
