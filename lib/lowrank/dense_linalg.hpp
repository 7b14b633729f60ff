// Internal: the dense BLAS/LAPACK operations behind the low-rank methods,
// through xtensor-blas's bindings. One translation unit includes those
// (heavy) headers; everything else sees plain pointers.
//
// Matrices are row-major unless a name says otherwise; LAPACK's
// factorizations keep their column-major results, as LAPACK returns them.
#pragma once

#include <cstddef>
#include <vector>

namespace signcut::detail {

/// C (m × n) = alpha · op(A) · op(B) + beta · C, all row-major; op(A) is
/// m × k, op(B) is k × n; `lda`, `ldb`, `ldc` are row strides.
void gemm(bool transpose_a, bool transpose_b, std::size_t m, std::size_t n, std::size_t k, float alpha, const float* a,
          std::size_t lda, const float* b, std::size_t ldb, float beta, float* c, std::size_t ldc);
void gemm(bool transpose_a, bool transpose_b, std::size_t m, std::size_t n, std::size_t k, double alpha,
          const double* a, std::size_t lda, const double* b, std::size_t ldb, double beta, double* c, std::size_t ldc);

/// Householder QR of a column-major rows × cols matrix (rows >= cols), as
/// LAPACK's geqrf leaves it: R in the upper triangle, the reflectors below.
/// With `pivoted`, columns are chosen by largest remaining norm (geqp3) and
/// `permutation[j]` is the original index of column j of the factored
/// matrix; otherwise the permutation is the identity.
struct HouseholderQr {
    std::size_t rows = 0, cols = 0;
    std::vector<double> factors;  ///< column-major rows × cols
    std::vector<double> tau;
    std::vector<std::size_t> permutation;

    double r(std::size_t i, std::size_t j) const { return factors[j * rows + i]; }
};
HouseholderQr householder_qr(std::vector<double> column_major, std::size_t rows, std::size_t cols, bool pivoted);

/// The first `columns` columns of Q, as the row-major columns × rows matrix
/// Qᵀ (which is Q in column-major order).
std::vector<double> orthonormal_factor(const HouseholderQr& qr, std::size_t columns);

/// Solves R·X = B in place, where R is the leading m × m block of the
/// upper triangle of `qr` and B is row-major m × n.
void solve_upper(const HouseholderQr& qr, std::size_t m, double* b, std::size_t n);
/// B ← R·B in place, R and B as for `solve_upper`.
void multiply_upper(const HouseholderQr& qr, std::size_t m, double* b, std::size_t n);

/// A thin singular value decomposition A = U·diag(s)·Vᵀ of a row-major
/// rows × cols float matrix, rank = min(rows, cols) components in
/// decreasing order: `u` is rows × rank, `vt` rank × cols, both row-major.
struct ThinSvd {
    std::size_t rows = 0, cols = 0, rank = 0;
    std::vector<float> u, s, vt;
};
ThinSvd thin_svd(std::vector<float> a, std::size_t rows, std::size_t cols);

/// Caps the threads the BLAS library starts (OpenBLAS; a no-op elsewhere)
/// for its lifetime, then gives the library back the count it had: the
/// host program's own BLAS setting outlives a call into signcut.
class BlasThreads {
public:
    explicit BlasThreads(unsigned threads);
    ~BlasThreads();
    BlasThreads(const BlasThreads&) = delete;
    BlasThreads& operator=(const BlasThreads&) = delete;

private:
    int previous_ = 0;  ///< 0: nothing to restore
};

}  // namespace signcut::detail
