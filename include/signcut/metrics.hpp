// signcut: how far a reconstruction is from its original.
#pragma once

#include <cstddef>
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
struct ErrorMetrics {
    double rel_fro_error = 0;
    double rmse = 0;
    double max_abs_error = 0;
    double psnr_db = 0;
    double range = 0;           ///< max X - min X
    double original_norm = 0;   ///< ||X||_F
    double error_norm = 0;      ///< ||X - Y||_F
};

/// Compares `approx` to `original`; throws `Error` if the lengths differ or
/// are zero. Non-finite inputs give the IEEE results of the formulas above.
ErrorMetrics compare(std::span<const float> original, std::span<const float> approx);

/// Incremental form, for data that arrives in pieces (streamed files): add
/// matching chunks, then `result()`.
class ErrorAccumulator {
public:
    void add(std::span<const float> original, std::span<const float> approx);
    /// Adds another accumulator's values (as if they had been added here).
    void merge(const ErrorAccumulator& other);
    ErrorMetrics result() const;

private:
    double sum_sq_x_ = 0, sum_sq_e_ = 0, max_abs_ = 0;
    double min_x_ = 0, max_x_ = 0;
    std::size_t count_ = 0;
};

/// PSNR from its parts with the conventions above.
double psnr_db(double range, double rmse);

}  // namespace signcut
