// signcut: the reference methods a signed cut decomposition or an LPLR
// factorization is compared with, each with its storage counted by the same
// rule: every stored code counts its bits, every scale, offset or float
// factor entry 32, nothing else (no padding, no container overhead), over
// the number of values N. zfp is the exception that proves the rule: its
// count is the real size of its compressed stream.
//
//  * nq    the LPLR paper's naive quantizer, per tensor: [min, max] mapped
//          affinely onto 2^B evenly spaced levels, round to nearest (ties
//          up), min and max stored as float32: B·N + 64 bits. Zero is
//          generally not a level; this is the reference code's behaviour.
//  * svd   truncated SVD of a matricization, U·Σ and V as float32:
//          32·k·(n + d) bits.
//  * dsvd  "direct SVD quantization" (the paper's Algorithm 2):
//          L = Q_B1(U_k·Σ_k), R = Q_B2(V_kᵀ).
//  * lsvd  "LPLR-SVD" (Algorithm 3): L = Q_B1(U_k·Σ_k), R = Q_B2(L⁺·A), the
//          least-squares fit to the quantized L. dsvd and lsvd use signcut's
//          quantizer (per-column scales for L, per-row for R), like LPLR, so
//          that only the choice of basis differs.
//  * bf16, f16  rounding to nearest even; finite values beyond the format's
//          largest are clamped to it. 16 bits per value.
//  * int8  symmetric per-tensor abs-max: scale = max|x| / 127, codes
//          round(x / scale) in -127..127; 8·N + 32 bits.
//  * zfp   libzfp in fixed-rate mode at the largest rate whose compressed
//          stream fits the budget. zfp compresses arrays of 1 to 4
//          dimensions; a tensor of higher order is reshaped by merging its
//          leading modes into the first dimension.
//  * zfp at its best  the lowest error among zfp's fixed-rate,
//          fixed-precision and fixed-accuracy modes, each at its parameter
//          whose stream fits the budget, zfp's full header (magic, field
//          metadata, mode: 96 to 148 bits) included, as a zfp user stores it.
#pragma once

#include "signcut/export.hpp"

#include <algorithm>
#include <cstddef>
#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "signcut/lplr.hpp"
#include "signcut/matricization.hpp"
#include "signcut/tensor.hpp"

namespace signcut {

/// What a method gives back, and what it stored.
struct SIGNCUT_API Approximation {
    Tensor reconstruction;          ///< in the original shape
    std::uint64_t stored_bits = 0;  ///< by the counting rule above
    double bits_per_value = 0;
    std::string parameters;         ///< what was chosen, for people: "B=2", "k=12", "rate=0.875"
};

// --- per-value rounding -----------------------------------------------------

SIGNCUT_API Approximation round_to_bfloat16(const TensorView<float>& x);
SIGNCUT_API Approximation round_to_float16(const TensorView<float>& x);
SIGNCUT_API Approximation quantize_int8(const TensorView<float>& x);

// --- nq ---------------------------------------------------------------------

/// The min–max quantizer at `bits` (1..16) bits per value.
SIGNCUT_API Approximation min_max_quantize(const TensorView<float>& x, unsigned bits);
/// The largest bit width (at most 16) whose B·N + 64 bits fit `budget` bits
/// per value; 0 if even one bit does not fit.
SIGNCUT_API unsigned min_max_bits_for_budget(std::uint64_t values, double budget);

// --- the SVD family -----------------------------------------------------------

/// The thin SVD of a matricization, computed once and shared by svd, dsvd
/// and lsvd. Keeps the matricized data, U·Σ and Vᵀ (float32).
class SIGNCUT_API MatrixSvd {
public:
    /// Default split: Matricization::closest_to_square. Throws `Error` for
    /// non-finite data or an empty shape.
    explicit MatrixSvd(const TensorView<float>& x, std::optional<Matricization> split = {});

    const Shape& shape() const noexcept { return shape_; }
    const Matricization& matricization() const noexcept { return split_; }
    std::size_t rows() const noexcept { return rows_; }
    std::size_t cols() const noexcept { return cols_; }
    /// min(rows, cols): how many singular triplets are kept.
    std::size_t max_rank() const noexcept { return std::min(rows_, cols_); }
    const std::vector<float>& singular_values() const noexcept { return s_; }

    /// The rank-k truncation, factors stored as float32.
    Approximation truncated(std::size_t rank) const;
    /// The largest k whose 32·k·(n + d) bits fit `budget` bits per value.
    std::size_t truncated_rank_for_bits(double budget) const;

    /// DSVD and LSVD. `options` selects a budget search over the bit grid or
    /// an explicit rank, bits_l, bits_r, as for `lplr` (its seed, power
    /// iterations and matricization do not apply: the SVD fixed them).
    LplrDecomposition direct_quantized(const LplrOptions& options, LplrReport* report = nullptr) const;
    LplrDecomposition least_squares_quantized(const LplrOptions& options, LplrReport* report = nullptr) const;

private:
    LplrDecomposition quantized(const LplrOptions& options, bool direct, LplrReport* report) const;

    Shape shape_;
    Matricization split_;
    std::size_t rows_ = 0, cols_ = 0;
    std::vector<float> matrix_;  ///< the matricized data, rows × cols
    std::vector<float> us_;      ///< U·Σ, rows × max_rank
    std::vector<float> s_;
    std::vector<float> vt_;      ///< Vᵀ, max_rank × cols
};

// --- zfp --------------------------------------------------------------------

/// zfp fixed-rate at the largest rate whose stream fits `budget` bits per
/// value; nothing if even zfp's smallest rate does not fit.
SIGNCUT_API std::optional<Approximation> zfp_fixed_rate(const TensorView<float>& x, double budget);

/// What `zfp_best` chose: the approximation (its `parameters` say the mode
/// and its parameter for people), the mode by name, "fixed-rate",
/// "fixed-precision" or "fixed-accuracy", and the mode's parameter as zfp
/// applied it: the rate in bits per value, the precision in bit planes
/// (1..32), or the absolute tolerance (a power of two: zfp rounds it down).
struct SIGNCUT_API ZfpResult {
    Approximation approximation;
    std::string mode;
    double parameter = 0;
};

/// zfp at its best: for a budget in bits per value, the lowest relative
/// error among zfp's fixed-rate, fixed-precision and fixed-accuracy modes
/// whose real compressed stream (zfp_compress's byte count, zfp's full
/// header included) fits the budget; nothing if no mode fits. Each mode's
/// parameter is searched for the largest stream that fits: fixed rate over
/// its bits per block, fixed precision over 1..32, fixed accuracy over the
/// tolerances 2^e from about 2^-40·max|x| to 2·max|x|. Higher orders are
/// reshaped as for `zfp_fixed_rate`. Throws `Error` (errc::bad_input) for an
/// empty tensor or a non-finite value.
SIGNCUT_API std::optional<ZfpResult> zfp_best(const TensorView<float>& x, double budget);

}  // namespace signcut
