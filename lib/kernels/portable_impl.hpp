// Portable implementations of every kernel, written against plain C++.
//
// Each ISA's translation unit includes this file once, with SIGNCUT_KERNEL_NS
// naming its own namespace, so that the compiler builds these loops with that
// TU's flags and no symbol is shared between ISAs (a shared inline function
// compiled with -mavx512f could otherwise be picked by the linker for a
// scalar caller). The scalar table uses them all; the SIMD tables replace the
// hot ones with intrinsics and keep the rest.
#ifndef SIGNCUT_KERNEL_NS
#error "define SIGNCUT_KERNEL_NS before including portable_impl.hpp"
#endif

#include <algorithm>
#include <bit>
#include <cmath>
#include <cstddef>
#include <cstdint>

#include "signcut/signs.hpp"

namespace signcut::kernels::SIGNCUT_KERNEL_NS::portable {

inline bool bit(const std::uint64_t* s, std::size_t i) { return (s[i / 64] >> (i % 64)) & 1u; }
inline float signed_value(bool negative, float v) { return negative ? -v : v; }

inline void dense_matvec(const float* A, std::size_t rows, std::size_t cols, std::size_t lda,
                         const std::uint64_t* s, float* out)
{
    for (std::size_t r = 0; r < rows; ++r) {
        const float* a = A + r * lda;
        float acc = 0.0f;
        for (std::size_t c = 0; c < cols; ++c) acc += signed_value(bit(s, c), a[c]);
        out[r] += acc;
    }
}

inline void dense_tmatvec(const float* A, std::size_t rows, std::size_t cols, std::size_t lda,
                          const std::uint64_t* s, float* out)
{
    // Chunks of the output stay in L1 while every row streams past once.
    constexpr std::size_t chunk = 1024;
    for (std::size_t c0 = 0; c0 < cols; c0 += chunk) {
        const std::size_t c1 = std::min(cols, c0 + chunk);
        for (std::size_t r = 0; r < rows; ++r) {
            const float* a = A + r * lda;
            if (bit(s, r))
                for (std::size_t c = c0; c < c1; ++c) out[c] -= a[c];
            else
                for (std::size_t c = c0; c < c1; ++c) out[c] += a[c];
        }
    }
}

inline void sign_matvec(const std::uint64_t* S, std::size_t rows, std::size_t cols, std::size_t ld,
                        const float* x, float* out)
{
    for (std::size_t j = 0; j < cols; ++j) {
        const std::uint64_t* col = S + j * ld;
        const float xj = x[j];
        for (std::size_t i = 0; i < rows; ++i) out[i] += signed_value(bit(col, i), xj);
    }
}

inline void sign_tmatvec(const std::uint64_t* S, std::size_t rows, std::size_t cols, std::size_t ld,
                         const float* x, float* out)
{
    for (std::size_t j = 0; j < cols; ++j) {
        const std::uint64_t* col = S + j * ld;
        float acc = 0.0f;
        for (std::size_t i = 0; i < rows; ++i) acc += signed_value(bit(col, i), x[i]);
        out[j] += acc;
    }
}

inline void sign_dots(const std::uint64_t* s, const std::uint64_t* S, std::size_t rows, std::size_t cols,
                      std::size_t ld, std::int64_t* out)
{
    const std::size_t nw = words_for(rows);
    for (std::size_t j = 0; j < cols; ++j) {
        const std::uint64_t* col = S + j * ld;
        std::int64_t diff = 0;
        for (std::size_t w = 0; w < nw; ++w) diff += std::popcount(s[w] ^ col[w]);
        out[j] = static_cast<std::int64_t>(rows) - 2 * diff;
    }
}

// ORs the low `nbits` bits of `bits` into out at bit position `pos`.
inline void put_bits(std::uint64_t* out, std::size_t pos, std::uint64_t bits, std::size_t nbits)
{
    const std::size_t w = pos / 64, o = pos % 64;
    out[w] |= bits << o;
    if (o != 0 && o + nbits > 64) out[w + 1] |= bits >> (64 - o);
}

inline void kron(const std::uint64_t* a, std::size_t na, const std::uint64_t* b, std::size_t nb, std::uint64_t* out)
{
    const std::size_t nout = words_for(na * nb);
    std::fill(out, out + nout, std::uint64_t{0});
    if (nb == 0) return;
    const std::size_t nbw = words_for(nb);
    const std::uint64_t last = tail_mask(nb);
    for (std::size_t i = 0; i < na; ++i) {
        const std::uint64_t flip = bit(a, i) ? ~std::uint64_t{0} : 0;
        const std::size_t pos = i * nb;
        if (pos % 64 == 0) {
            // Aligned: whole words, the last one masked.
            for (std::size_t w = 0; w + 1 < nbw; ++w) out[pos / 64 + w] = b[w] ^ flip;
            out[pos / 64 + nbw - 1] |= (b[nbw - 1] ^ flip) & last;
        } else {
            for (std::size_t w = 0; w < nbw; ++w) {
                const std::size_t nbits = (w + 1 == nbw) ? nb - 64 * w : 64;
                std::uint64_t v = b[w] ^ flip;
                if (nbits < 64) v &= (std::uint64_t{1} << nbits) - 1;
                put_bits(out, pos + 64 * w, v, nbits);
            }
        }
    }
}

inline void rows_add(const float* base, const std::ptrdiff_t* offset, const float* w, std::size_t count,
                     std::size_t len, float* out)
{
    constexpr std::size_t chunk = 1024;
    for (std::size_t t0 = 0; t0 < len; t0 += chunk) {
        const std::size_t t1 = std::min(len, t0 + chunk);
        for (std::size_t i = 0; i < count; ++i) {
            const float* row = base + offset[i];
            const float wi = w[i];
            for (std::size_t t = t0; t < t1; ++t) out[t] += wi * row[t];
        }
    }
}

inline void sign_gemm(const std::uint64_t* S, std::size_t m, std::size_t lds, const std::uint64_t* T, std::size_t n,
                      std::size_t ldt, const float* c, std::size_t w, float* C, std::size_t ldc)
{
    // One term at a time: row i receives ±c_k times the sign row of T.
    for (std::size_t k = 0; k < w; ++k) {
        const std::uint64_t* sk = S + k * lds;
        const std::uint64_t* tk = T + k * ldt;
        for (std::size_t i = 0; i < m; ++i) {
            const float v = signed_value(bit(sk, i), c[k]);
            float* row = C + i * ldc;
            for (std::size_t j = 0; j < n; ++j) row[j] += signed_value(bit(tk, j), v);
        }
    }
}

inline double abs_sum(const float* x, std::size_t n)
{
    // The table's fixed order: four partial sums over x[4q + k], then
    // (p0 + p2) + (p1 + p3), then the tail one by one.
    double p[4] = {0.0, 0.0, 0.0, 0.0};
    std::size_t i = 0;
    for (; i + 4 <= n; i += 4)
        for (std::size_t k = 0; k < 4; ++k) p[k] += static_cast<double>(std::abs(x[i + k]));
    double s = (p[0] + p[2]) + (p[1] + p[3]);
    for (; i < n; ++i) s += static_cast<double>(std::abs(x[i]));
    return s;
}

inline void subtract_rank4(double* y, const double* const r[4], const double u[4], std::size_t n)
{
    for (std::size_t j = 0; j < n; ++j) y[j] -= (u[0] * r[0][j] + u[1] * r[1][j]) + (u[2] * r[2][j] + u[3] * r[3][j]);
}

inline void pack_signs(const float* x, std::size_t n, std::uint64_t* out)
{
    const std::size_t nw = words_for(n);
    for (std::size_t w = 0; w < nw; ++w) {
        const std::size_t i0 = 64 * w, m = std::min<std::size_t>(64, n - i0);
        std::uint64_t bits = 0;
        for (std::size_t t = 0; t < m; ++t) bits |= static_cast<std::uint64_t>(x[i0 + t] < 0.0f) << t;
        out[w] = bits;
    }
}

}  // namespace signcut::kernels::SIGNCUT_KERNEL_NS::portable
