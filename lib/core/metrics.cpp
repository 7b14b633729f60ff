// Error metrics.
#include "signcut/metrics.hpp"

#include <algorithm>
#include <cmath>
#include <limits>

#include <fmt/format.h>

#include "signcut/error.hpp"

namespace signcut {

double psnr_db(double range, double rmse)
{
    if (rmse == 0) return std::numeric_limits<double>::infinity();
    if (range == 0) return -std::numeric_limits<double>::infinity();
    return 20.0 * std::log10(range / rmse);
}

void ErrorAccumulator::add(std::span<const float> original, std::span<const float> approx)
{
    add_values(original, approx);
}

void ErrorAccumulator::add(std::span<const float> original, std::span<const double> approx)
{
    add_values(original, approx);
}

template <class T>
void ErrorAccumulator::add_values(std::span<const float> original, std::span<const T> approx)
{
    if (original.size() != approx.size())
        throw Error(errc::invalid_argument,
                    fmt::format("cannot compare {} values with {}", original.size(), approx.size()));
    for (std::size_t i = 0; i < original.size(); ++i) {
        const double x = original[i];
        const double e = x - static_cast<double>(approx[i]);
        sum_sq_x_ += x * x;
        sum_sq_e_ += e * e;
        max_abs_ = std::max(max_abs_, std::abs(e));
        if (count_ == 0 && i == 0) {
            min_x_ = max_x_ = x;
        } else {
            min_x_ = std::min(min_x_, x);
            max_x_ = std::max(max_x_, x);
        }
    }
    count_ += original.size();
}

void ErrorAccumulator::merge(const ErrorAccumulator& other)
{
    if (other.count_ == 0) return;
    if (count_ == 0) {
        min_x_ = other.min_x_;
        max_x_ = other.max_x_;
    } else {
        min_x_ = std::min(min_x_, other.min_x_);
        max_x_ = std::max(max_x_, other.max_x_);
    }
    sum_sq_x_ += other.sum_sq_x_;
    sum_sq_e_ += other.sum_sq_e_;
    max_abs_ = std::max(max_abs_, other.max_abs_);
    count_ += other.count_;
    overflows_ += other.overflows_;
}

ErrorMetrics ErrorAccumulator::result() const
{
    if (count_ == 0) throw Error(errc::invalid_argument, "cannot compute error metrics of zero values");
    ErrorMetrics m;
    m.original_norm = std::sqrt(sum_sq_x_);
    m.error_norm = std::sqrt(sum_sq_e_);
    if (m.original_norm == 0)
        m.rel_fro_error = m.error_norm == 0 ? 0.0 : std::numeric_limits<double>::infinity();
    else
        m.rel_fro_error = m.error_norm / m.original_norm;
    m.rmse = std::sqrt(sum_sq_e_ / static_cast<double>(count_));
    // std::max skips a NaN difference; the sum of squares does not, so a
    // NaN anywhere shows here rather than as a max abs error of 0.
    m.max_abs_error = std::isnan(sum_sq_e_) ? sum_sq_e_ : max_abs_;
    m.float32_overflows = overflows_;
    m.range = max_x_ - min_x_;
    m.psnr_db = psnr_db(m.range, m.rmse);
    return m;
}

bool ErrorMetrics::finite() const noexcept
{
    const bool rel_ok = std::isfinite(rel_fro_error) || (rel_fro_error > 0 && original_norm == 0);
    return rel_ok && std::isfinite(rmse) && std::isfinite(max_abs_error);
}

ErrorMetrics compare(std::span<const float> original, std::span<const float> approx)
{
    ErrorAccumulator acc;
    acc.add(original, approx);
    return acc.result();
}

}  // namespace signcut
