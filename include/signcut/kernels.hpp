// signcut: the packed-bit kernels, one implementation per ISA.
//
// Every routine of the decomposer, the reconstruction and the matrix-vector
// products reduces to these few kernels. Each exists as scalar, AVX2 and
// AVX-512 code in its own translation unit (lib/kernels/), compiled with that
// ISA's flags and -ffp-contract=off; `kernels::active()` returns the table of
// the ISA in use (see arch.hpp).
//
// Conventions for every kernel:
//  * A sign vector or sign-matrix column is packed as in signs.hpp (bit 1 = -1,
//    LSB first, padding bits zero). Sign matrices are column-major with a
//    column stride `ld` in 64-bit words (ld >= words_for(rows)).
//  * Dense float matrices are row-major with a leading dimension `lda` in
//    floats (lda >= cols).
//  * Float kernels accumulate into `out` (out += ...); the sign-only kernels
//    overwrite. Sizes may be 0, in which case nothing is read or written.
//  * For a fixed ISA the result is a deterministic function of the inputs.
#pragma once

#include "signcut/export.hpp"

#include <cstddef>
#include <cstdint>

#include "signcut/arch.hpp"

namespace signcut::kernels {

struct SIGNCUT_API Table {
    Arch arch;

    /// out[r] += sum_c s[c] * A[r*lda + c]   for r < rows, c < cols
    /// (dense matrix x sign vector: one dot product per row).
    void (*dense_matvec)(const float* A, std::size_t rows, std::size_t cols, std::size_t lda,
                         const std::uint64_t* s, float* out);

    /// out[c] += sum_r s[r] * A[r*lda + c]   for c < cols, r < rows
    /// (transposed dense matrix x sign vector: a signed sum of rows).
    void (*dense_tmatvec)(const float* A, std::size_t rows, std::size_t cols, std::size_t lda,
                          const std::uint64_t* s, float* out);

    /// out[i] += sum_j S(i,j) * x[j]   for i < rows, j < cols (sign matrix x float vector).
    void (*sign_matvec)(const std::uint64_t* S, std::size_t rows, std::size_t cols, std::size_t ld,
                        const float* x, float* out);

    /// out[j] += sum_i S(i,j) * x[i]   for j < cols (transposed sign matrix x float vector).
    void (*sign_tmatvec)(const std::uint64_t* S, std::size_t rows, std::size_t cols, std::size_t ld,
                         const float* x, float* out);

    /// out[j] = <s, S(:,j)> = rows - 2*popcount(s XOR S(:,j))   for j < cols.
    void (*sign_dots)(const std::uint64_t* s, const std::uint64_t* S, std::size_t rows, std::size_t cols,
                      std::size_t ld, std::int64_t* out);

    /// out = a ⊗ b (out has words_for(na*nb) words; entry i*nb + j = a[i]*b[j]).
    /// `out` must not alias `a` or `b`.
    void (*kron)(const std::uint64_t* a, std::size_t na, const std::uint64_t* b, std::size_t nb,
                 std::uint64_t* out);

    /// out[t] += sum_i w[i] * base[offset[i] + t]   for t < len, i < count
    /// (sparse add/subtract of listed rows; the decomposer passes w = ±1 or ±2,
    /// so every product is exact).
    void (*rows_add)(const float* base, const std::ptrdiff_t* offset, const float* w, std::size_t count,
                     std::size_t len, float* out);

    /// C[i*ldc + j] += sum_k c[k] * S(i,k) * T(j,k)   for i < m, j < n, k < w
    /// (the sign GEMM S·diag(c)·Tᵀ: block flushes and reconstruction).
    void (*sign_gemm)(const std::uint64_t* S, std::size_t m, std::size_t lds, const std::uint64_t* T,
                      std::size_t n, std::size_t ldt, const float* c, std::size_t w, float* C,
                      std::size_t ldc);

    /// Σ |x[i]| for i < n, in double, in one fixed order on every ISA (the
    /// same value everywhere): four partial sums p_k over x[4q + k] for
    /// q < n/4 in index order, then (p_0 + p_2) + (p_1 + p_3), then the last
    /// n % 4 entries one by one.
    double (*abs_sum)(const float* x, std::size_t n);

    /// The signs of n floats, packed as in signs.hpp: bit i is set (-1) iff
    /// x[i] < 0, so +0, -0 and NaN give +1. Writes words_for(n) words, the
    /// padding bits zero.
    void (*pack_signs)(const float* x, std::size_t n, std::uint64_t* out);

    /// y[j] -= (u[0]·r[0][j] + u[1]·r[1][j]) + (u[2]·r[2][j] + u[3]·r[3][j])
    /// for j < n, in double: four rank-1 updates of one row in one sweep (the
    /// trailing update of a Cholesky factorization). Elementwise, unfused and
    /// in this order, so the same value on every ISA. `y` must not alias r.
    void (*subtract_rank4)(double* y, const double* const r[4], const double u[4], std::size_t n);
};

/// The table of the ISA in use (`active_arch()`).
SIGNCUT_API const Table& active();
/// The table of a given ISA; throws `Error` if this CPU cannot run it.
SIGNCUT_API const Table& for_arch(Arch a);

}  // namespace signcut::kernels
