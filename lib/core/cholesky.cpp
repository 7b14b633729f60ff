#include "cholesky.hpp"

#include <algorithm>
#include <array>
#include <cmath>

#include "parallel.hpp"
#include "signcut/kernels.hpp"

namespace signcut::detail {

namespace {

// Rows of the panel factored together; the trailing update reads these rows
// once per row it updates, so they should stay in cache (64 rows of a
// 4096-wide matrix are 2 MiB).
constexpr std::size_t panel_rows = 64;

/// a[i][j..n) -= u · a[k][j..n): one row of a rank-1 update, elementwise,
/// so the compiler vectorizes it without reassociating anything.
inline void subtract_scaled_row(double* row_i, const double* row_k, double u, std::size_t from, std::size_t n)
{
    for (std::size_t j = from; j < n; ++j) row_i[j] -= u * row_k[j];
}

/// The four row pointers advanced to column `from`.
inline std::array<const double*, 4> shifted(const double* const r[4], std::size_t from)
{
    return {r[0] + from, r[1] + from, r[2] + from, r[3] + from};
}

}  // namespace

bool cholesky_solve(std::vector<double> a, std::size_t n, double* b, unsigned threads)
{
    if (n == 0) return true;
    const kernels::Table& kt = kernels::active();
    // A = Uᵀ·U with U upper triangular, built in place in a's upper triangle:
    // row k of U is contiguous, which keeps every inner loop unit-stride.
    for (std::size_t kb = 0; kb < n; kb += panel_rows) {
        const std::size_t ke = std::min(kb + panel_rows, n);
        for (std::size_t k = kb; k < ke; ++k) {
            double* row_k = a.data() + k * n;
            const double d = row_k[k];
            if (!(d > 0.0) || !std::isfinite(d)) return false;
            const double u_kk = std::sqrt(d);
            row_k[k] = u_kk;
            for (std::size_t j = k + 1; j < n; ++j) row_k[j] /= u_kk;
            for (std::size_t i = k + 1; i < ke; ++i) subtract_scaled_row(a.data() + i * n, row_k, row_k[i], i, n);
        }
        if (ke == n) break;
        // Rows past the panel get the panel's ke - kb updates, four rows of U
        // per sweep of row i (subtract_rank4), in k order.
        parallel_ranges(threads, n - ke, (n - ke) * (ke - kb) / 2 + 1, [&](std::size_t r0, std::size_t r1) {
            for (std::size_t i = ke + r0; i < ke + r1; ++i) {
                double* row_i = a.data() + i * n;
                std::size_t k = kb;
                for (; k + 4 <= ke; k += 4) {
                    const double* r[4] = {a.data() + k * n, a.data() + (k + 1) * n, a.data() + (k + 2) * n,
                                          a.data() + (k + 3) * n};
                    const double u[4] = {r[0][i], r[1][i], r[2][i], r[3][i]};
                    kt.subtract_rank4(row_i + i, shifted(r, i).data(), u, n - i);
                }
                for (; k < ke; ++k) {
                    const double* row_k = a.data() + k * n;
                    subtract_scaled_row(row_i, row_k, row_k[i], i, n);
                }
            }
        });
    }
    // Uᵀ·y = b, then U·x = y.
    for (std::size_t k = 0; k < n; ++k) {
        const double* row_k = a.data() + k * n;
        b[k] /= row_k[k];
        const double y = b[k];
        for (std::size_t j = k + 1; j < n; ++j) b[j] -= row_k[j] * y;
    }
    for (std::size_t i = n; i-- > 0;) {
        const double* row_i = a.data() + i * n;
        double s = b[i];
        for (std::size_t j = i + 1; j < n; ++j) s -= row_i[j] * b[j];
        b[i] = s / row_i[i];
    }
    return true;
}

}  // namespace signcut::detail
