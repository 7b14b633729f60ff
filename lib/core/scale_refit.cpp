// The least-squares refit of the scales (see scale_refit.hpp).
#include "scale_refit.hpp"

#include <cmath>

#include "cholesky.hpp"
#include "parallel.hpp"

namespace signcut::detail {

std::vector<double> term_gram(const kernels::Table& k, const SignedCutTerms& d, unsigned threads)
{
    const std::vector<SignMatrix>& signs = d.all_signs();
    const std::size_t w = d.width();
    std::vector<double> g(w * w, 1.0);
    // Row j of G from one sign_dots per mode: column j against all columns.
    // Rows are independent, so any split gives the same bits.
    std::size_t words = 0;
    for (const SignMatrix& s : signs) words += s.column_stride();
    parallel_ranges(threads, w, w * words, [&](std::size_t j0, std::size_t j1) {
        std::vector<std::int64_t> dots(w);
        for (std::size_t j = j0; j < j1; ++j)
            for (const SignMatrix& s : signs) {
                k.sign_dots(s.column_data(j), s.data(), s.rows(), w, s.column_stride(), dots.data());
                for (std::size_t i = 0; i < w; ++i) g[j * w + i] *= static_cast<double>(dots[i]);
            }
    });
    return g;
}

std::optional<std::vector<double>> least_squares_scales(const std::vector<double>& gram, std::span<const double> cuts,
                                                        std::span<const float> greedy_scales, unsigned threads)
{
    const std::size_t w = cuts.size();
    if (w == 0) return std::vector<double>{};
    // b_j = <X, T_j> = cut_j + Σ_{k<j} c_k G_kj.
    std::vector<double> b(w);
    for (std::size_t j = 0; j < w; ++j) {
        double acc = cuts[j];
        for (std::size_t k = 0; k < j; ++k) acc += static_cast<double>(greedy_scales[k]) * gram[k * w + j];
        b[j] = acc;
    }
    // G's diagonal is N; dividing by it keeps the factorization's numbers
    // near 1 (the solution is unchanged).
    const double n = gram[0];
    std::vector<double> a(gram.size());
    for (std::size_t i = 0; i < gram.size(); ++i) a[i] = gram[i] / n;
    for (double& v : b) v /= n;
    if (!cholesky_solve(std::move(a), w, b.data(), threads)) return std::nullopt;
    for (double v : b)
        if (!std::isfinite(v)) return std::nullopt;
    return b;
}

}  // namespace signcut::detail
