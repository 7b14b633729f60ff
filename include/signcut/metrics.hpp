// signcut: how far a reconstruction is from its original.
#pragma once

#include "signcut/export.hpp"

#include <cstddef>
#include <cstdint>
#include <span>

namespace signcut {

/// Error figures of an approximation Y of an original X (N entries), all in
/// double. Definitions (also used by the CLI):
///  * rel_fro_error = ||X - Y||_F / ||X||_F; 0 when both are zero, +inf when
///    only X is zero;
///  * rmse = sqrt(sum (X - Y)^2 / N);
///  * max_abs_error = max |X - Y|;
///  * psnr_db = 20 log10(range / rmse) with range = max X - min X (the
///    convention of SZ and SDRBench, not ZFP's range/(2 rmse)); +inf when
///    rmse = 0, -inf when range = 0 < rmse.
/// A NaN in the approximation makes every figure but the range NaN (never
/// a max abs error of 0); an infinite one makes the errors infinite.
struct SIGNCUT_API ErrorMetrics {
    double rel_fro_error = 0;
    double rmse = 0;
    double max_abs_error = 0;
    double psnr_db = 0;
    double range = 0;           ///< max X - min X
    double original_norm = 0;   ///< ||X||_F
    double error_norm = 0;      ///< ||X - Y||_F
    /// Values whose float32 reconstruction is not finite (it overflows
    /// float32 although the terms are finite): a decomposition measures
    /// the blocks, or rows, that hold them on its float64 reconstruction
    /// (what `decompress --dtype float64` writes), and a float32 output of
    /// it would be refused. 0 for ordinary data.
    std::uint64_t float32_overflows = 0;

    /// True if the error figures are numbers (rel_fro_error, rmse and
    /// max_abs_error finite, or rel_fro_error +inf for a zero original).
    bool finite() const noexcept;
};

/// Compares `approx` to `original`; throws `Error` if the lengths differ or
/// are zero. Non-finite inputs give the IEEE results of the formulas above.
SIGNCUT_API ErrorMetrics compare(std::span<const float> original, std::span<const float> approx);

/// Incremental form, for data that arrives in pieces (streamed files): add
/// matching chunks, then `result()`.
class SIGNCUT_API ErrorAccumulator {
public:
    void add(std::span<const float> original, std::span<const float> approx);
    /// The same against an approximation in double (a float64 reconstruction).
    void add(std::span<const float> original, std::span<const double> approx);
    /// Counts values whose float32 reconstruction overflowed (ErrorMetrics).
    void add_float32_overflows(std::uint64_t n) noexcept { overflows_ += n; }
    /// Adds another accumulator's values (as if they had been added here).
    void merge(const ErrorAccumulator& other);
    ErrorMetrics result() const;

private:
    double sum_sq_x_ = 0, sum_sq_e_ = 0, max_abs_ = 0;
    double min_x_ = 0, max_x_ = 0;
    std::size_t count_ = 0;
    std::uint64_t overflows_ = 0;

    template <class T>
    void add_values(std::span<const float> original, std::span<const T> approx);
};

/// PSNR from its parts with the conventions above.
SIGNCUT_API double psnr_db(double range, double rmse);

}  // namespace signcut
