#include "contraction.hpp"

#include <algorithm>

#include "parallel.hpp"

namespace signcut::detail {

void negate(const SignVector& s, SignVector& out)
{
    out.reset(s.size());
    for (std::size_t w = 0; w < s.word_count(); ++w) out.data()[w] = ~s.data()[w];
    if (s.size() % 64 != 0) out.data()[out.word_count() - 1] &= tail_mask(s.size());
}

SignVector negate(const SignVector& s)
{
    SignVector n;
    negate(s, n);
    return n;
}

void contract_block(const kernels::Table& k, const float* B, std::size_t X, std::size_t Y, std::size_t Z,
                    const SignVector& sx, const SignVector& sz, float* out, ContractionScratch& scratch,
                    unsigned threads)
{
    if (X == 0 || Y == 0 || Z == 0) return;
    if (Z == 1) {
        // The output runs along contiguous memory: a signed sum of X rows of
        // length Y. A single sign on Z folds into the row signs.
        if (sz.negative(0)) negate(sx, scratch.negated);
        const SignVector& rows = sz.negative(0) ? scratch.negated : sx;
        parallel_ranges(threads, (Y + 15) / 16, 16 * X, [&](std::size_t c0, std::size_t c1) {
            const std::size_t y0 = c0 * 16, y1 = std::min(Y, c1 * 16);
            k.dense_tmatvec(B + y0, X, y1 - y0, Y, rows.data(), out + y0);
        });
        return;
    }
    if (Z >= 16 || X == 1) {
        // Long contiguous rows: one dot product per (x, y) row, with the sign
        // of x folded into the row sign vector (sz or its negation).
        negate(sz, scratch.negated);
        const SignVector& neg = scratch.negated;
        parallel_ranges(threads, Y, X * Z, [&](std::size_t y0, std::size_t y1) {
            for (std::size_t x = 0; x < X; ++x)
                k.dense_matvec(B + (x * Y + y0) * Z, y1 - y0, Z, Z, sx.negative(x) ? neg.data() : sz.data(),
                               out + y0);
        });
        return;
    }
    // Short rows (1 < Z < 16) but many of them: sum the X slabs of Y·Z
    // contiguous values with the x signs, a chunk of y at a time, then fold z.
    constexpr std::size_t chunk_values = 1 << 14;
    const std::size_t ychunk = std::max<std::size_t>(1, chunk_values / Z);
    scratch.tmp.resize(std::min(Y, ychunk) * Z);
    for (std::size_t y0 = 0; y0 < Y; y0 += ychunk) {
        const std::size_t y1 = std::min(Y, y0 + ychunk), len = (y1 - y0) * Z;
        std::fill_n(scratch.tmp.begin(), len, 0.0f);
        float* tmp = scratch.tmp.data();
        parallel_ranges(threads, (len + 15) / 16, 16 * X, [&](std::size_t c0, std::size_t c1) {
            const std::size_t t0 = c0 * 16, t1 = std::min(len, c1 * 16);
            k.dense_tmatvec(B + y0 * Z + t0, X, t1 - t0, Y * Z, sx.data(), tmp + t0);
        });
        for (std::size_t y = y0; y < y1; ++y) {
            float acc = 0.0f;
            for (std::size_t z = 0; z < Z; ++z) {
                const float v = tmp[(y - y0) * Z + z];
                acc += sz.negative(z) ? -v : v;
            }
            out[y] += acc;
        }
    }
}

}  // namespace signcut::detail
