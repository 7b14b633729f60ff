#include "unfolding.hpp"

#include <cmath>
#include <numeric>

#include "parallel.hpp"

namespace signcut::detail {

std::size_t product(std::span<const std::size_t> dims, std::size_t begin, std::size_t end)
{
    std::size_t p = 1;
    for (std::size_t a = begin; a < end; ++a) p *= dims[a];
    return p;
}

std::size_t balanced_split(std::span<const std::size_t> dims)
{
    double total = 0;
    for (std::size_t d : dims) total += std::log(static_cast<double>(d));
    std::size_t best = 0;
    double best_gap = INFINITY, rows = 0;
    for (std::size_t r = 0; r <= dims.size(); ++r) {
        const double gap = std::abs(rows - total / 2);
        if (gap < best_gap) best_gap = gap, best = r;
        if (r < dims.size()) rows += std::log(static_cast<double>(dims[r]));
    }
    return best;
}

void kron_all(const kernels::Table& k, std::span<const SignVector> v, std::span<const std::size_t> modes,
              SignVector& out, SignVector& spare)
{
    if (modes.empty()) {
        out.reset(1);
        return;
    }
    // The partial products alternate between the two buffers so that the
    // last one lands in `out`.
    SignVector* dst = modes.size() % 2 == 1 ? &out : &spare;
    SignVector* src = dst == &out ? &spare : &out;
    const SignVector& first = v[modes[0]];
    dst->reset(first.size());
    std::copy_n(first.data(), first.word_count(), dst->data());
    for (std::size_t i = 1; i < modes.size(); ++i) {
        std::swap(dst, src);
        const SignVector& b = v[modes[i]];
        dst->reset(src->size() * b.size());
        k.kron(src->data(), src->size(), b.data(), b.size(), dst->data());
    }
}

SignVector kron_all(const kernels::Table& k, std::span<const SignVector> v, std::span<const std::size_t> modes)
{
    SignVector out, spare;
    kron_all(k, v, modes, out, spare);
    return out;
}

SignMatrix kron_columns(const kernels::Table& k, std::span<const SignMatrix> signs, std::span<const std::size_t> modes,
                        std::size_t t0, std::size_t t1)
{
    std::size_t rows = 1;
    for (std::size_t a : modes) rows *= signs[a].rows();
    SignMatrix out(rows, t1 - t0);
    std::vector<SignVector> cols(signs.size());
    for (std::size_t t = t0; t < t1; ++t) {
        for (std::size_t a : modes) cols[a] = signs[a].column(t);
        out.set_column(t - t0, kron_all(k, cols, modes));
    }
    return out;
}

std::size_t unfolding_rows(std::span<const std::size_t> dims)
{
    return product(dims, 0, balanced_split(dims));
}

void add_terms_rows(const kernels::Table& k, std::span<const std::size_t> dims, std::span<const SignMatrix> signs,
                    std::span<const float> c, std::size_t t0, std::size_t t1, std::size_t row0, std::size_t row1,
                    float* out, unsigned threads)
{
    if (t1 <= t0 || row1 <= row0) return;
    const std::size_t r = balanced_split(dims);
    std::vector<std::size_t> row_modes(r), col_modes(dims.size() - r);
    std::iota(row_modes.begin(), row_modes.end(), std::size_t{0});
    std::iota(col_modes.begin(), col_modes.end(), r);
    const std::size_t n = product(dims, r, dims.size());
    const std::size_t rows = row1 - row0;
    // Pieces are whole 64-row groups, and the last one also takes the short
    // tail. So every sign_gemm call has 64 rows or more, or all of them; the
    // kernel picks its method (tables, or term by term) by the row count, and
    // the rounding is then the same however the rows are split.
    const std::size_t groups = std::max<std::size_t>(1, rows / 64);
    // Terms go through in blocks so the Kronecker matrices stay small.
    constexpr std::size_t term_block = 256;
    for (std::size_t b0 = t0; b0 < t1; b0 += term_block) {
        const std::size_t b1 = std::min(t1, b0 + term_block);
        const SignMatrix S = kron_columns(k, signs, row_modes, b0, b1);
        const SignMatrix T = kron_columns(k, signs, col_modes, b0, b1);
        parallel_ranges(threads, groups, 64 * n * (b1 - b0) / 16, [&](std::size_t g0, std::size_t g1) {
            const std::size_t i0 = row0 + g0 * 64, i1 = g1 == groups ? row1 : row0 + g1 * 64;
            k.sign_gemm(S.data() + i0 / 64, i1 - i0, S.column_stride(), T.data(), n, T.column_stride(), c.data() + b0,
                        b1 - b0, out + (i0 - row0) * n, n);
        });
    }
}

void add_terms(const kernels::Table& k, std::span<const std::size_t> dims, std::span<const SignMatrix> signs,
               std::span<const float> c, std::size_t t0, std::size_t t1, float* out, unsigned threads)
{
    add_terms_rows(k, dims, signs, c, t0, t1, 0, unfolding_rows(dims), out, threads);
}

}  // namespace signcut::detail
