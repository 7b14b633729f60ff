// Dense BLAS/LAPACK calls through xtensor-blas's cxxblas and cxxlapack.
#include "dense_linalg.hpp"

#include <algorithm>
#include <thread>
#include <climits>
#include <cmath>

#include <fmt/format.h>
#include <xtensor-blas/xblas.hpp>
#include <xtensor-blas/xlapack.hpp>

#include "signcut/error.hpp"

// OpenBLAS's own control; weak, so that another BLAS links too.
extern "C" void openblas_set_num_threads(int) __attribute__((weak));
extern "C" int openblas_get_num_threads() __attribute__((weak));

namespace signcut::detail {
namespace {

using index_t = xt::blas_index_t;

index_t idx(std::size_t n)
{
    if (n > static_cast<std::size_t>(INT_MAX))
        throw Error(errc::limit, fmt::format("a matrix dimension of {} exceeds what the BLAS interface takes ({})", n,
                                             INT_MAX));
    return static_cast<index_t>(n);
}

cxxblas::Transpose op(bool transpose) { return transpose ? cxxblas::Trans : cxxblas::NoTrans; }

void lapack_check(index_t info, const char* routine)
{
    if (info < 0)
        throw Error(errc::invalid_argument, fmt::format("LAPACK {} rejected argument {}", routine, -info));
    if (info > 0) throw Error(errc::bad_input, fmt::format("LAPACK {} did not converge (info {})", routine, info));
}

}  // namespace

void gemm(bool transpose_a, bool transpose_b, std::size_t m, std::size_t n, std::size_t k, float alpha, const float* a,
          std::size_t lda, const float* b, std::size_t ldb, float beta, float* c, std::size_t ldc)
{
    if (m == 0 || n == 0) return;
    cxxblas::gemm<index_t>(cxxblas::RowMajor, op(transpose_a), op(transpose_b), idx(m), idx(n), idx(k), alpha, a,
                           idx(std::max<std::size_t>(lda, 1)), b, idx(std::max<std::size_t>(ldb, 1)), beta, c,
                           idx(std::max<std::size_t>(ldc, 1)));
}

void gemm(bool transpose_a, bool transpose_b, std::size_t m, std::size_t n, std::size_t k, double alpha,
          const double* a, std::size_t lda, const double* b, std::size_t ldb, double beta, double* c, std::size_t ldc)
{
    if (m == 0 || n == 0) return;
    cxxblas::gemm<index_t>(cxxblas::RowMajor, op(transpose_a), op(transpose_b), idx(m), idx(n), idx(k), alpha, a,
                           idx(std::max<std::size_t>(lda, 1)), b, idx(std::max<std::size_t>(ldb, 1)), beta, c,
                           idx(std::max<std::size_t>(ldc, 1)));
}

HouseholderQr householder_qr(std::vector<double> column_major, std::size_t rows, std::size_t cols, bool pivoted)
{
    if (cols > rows) throw Error(errc::invalid_argument, fmt::format("QR of a {}x{} matrix: more columns than rows", rows, cols));
    HouseholderQr qr;
    qr.rows = rows;
    qr.cols = cols;
    qr.factors = std::move(column_major);
    qr.tau.assign(cols, 0.0);
    qr.permutation.resize(cols);
    for (std::size_t j = 0; j < cols; ++j) qr.permutation[j] = j;
    if (cols == 0) return qr;
    const index_t m = idx(rows), n = idx(cols);
    double query = 0;
    if (pivoted) {
        std::vector<index_t> jpvt(cols, 0);  // 0: every column is free to move
        lapack_check(cxxlapack::geqp3<index_t>(m, n, qr.factors.data(), m, jpvt.data(), qr.tau.data(), &query, -1), "dgeqp3");
        std::vector<double> work(static_cast<std::size_t>(query) + 1);
        lapack_check(cxxlapack::geqp3<index_t>(m, n, qr.factors.data(), m, jpvt.data(), qr.tau.data(), work.data(),
                                               idx(work.size())),
                     "dgeqp3");
        for (std::size_t j = 0; j < cols; ++j) qr.permutation[j] = static_cast<std::size_t>(jpvt[j] - 1);
    } else {
        lapack_check(cxxlapack::geqrf<index_t>(m, n, qr.factors.data(), m, qr.tau.data(), &query, -1), "dgeqrf");
        std::vector<double> work(static_cast<std::size_t>(query) + 1);
        lapack_check(cxxlapack::geqrf<index_t>(m, n, qr.factors.data(), m, qr.tau.data(), work.data(), idx(work.size())),
                     "dgeqrf");
    }
    return qr;
}

std::vector<double> orthonormal_factor(const HouseholderQr& qr, std::size_t columns)
{
    columns = std::min(columns, qr.cols);
    std::vector<double> q(qr.factors.begin(), qr.factors.begin() + static_cast<std::ptrdiff_t>(qr.rows * columns));
    if (columns == 0) return q;
    const index_t m = idx(qr.rows), n = idx(columns);
    double query = 0;
    lapack_check(cxxlapack::orgqr<index_t>(m, n, n, q.data(), m, qr.tau.data(), &query, -1), "dorgqr");
    std::vector<double> work(static_cast<std::size_t>(query) + 1);
    lapack_check(cxxlapack::orgqr<index_t>(m, n, n, q.data(), m, qr.tau.data(), work.data(), idx(work.size())), "dorgqr");
    return q;
}

// The factors are column-major with leading dimension `rows`; read as
// row-major they are Rᵀ, a lower triangle, hence Lower + Trans below.
void solve_upper(const HouseholderQr& qr, std::size_t m, double* b, std::size_t n)
{
    if (m == 0 || n == 0) return;
    cxxblas::trsm<index_t>(cxxblas::RowMajor, cxxblas::Left, cxxblas::Lower, cxxblas::Trans, cxxblas::NonUnit, idx(m),
                           idx(n), 1.0, qr.factors.data(), idx(qr.rows), b, idx(n));
}

void multiply_upper(const HouseholderQr& qr, std::size_t m, double* b, std::size_t n)
{
    if (m == 0 || n == 0) return;
    cxxblas::trmm<index_t>(cxxblas::RowMajor, cxxblas::Left, cxxblas::Lower, cxxblas::Trans, cxxblas::NonUnit, idx(m),
                           idx(n), 1.0, qr.factors.data(), idx(qr.rows), b, idx(n));
}

ThinSvd thin_svd(std::vector<float> a, std::size_t rows, std::size_t cols)
{
    // LAPACK reads the row-major rows × cols buffer as the column-major
    // cols × rows matrix Aᵀ = V·S·Uᵀ: its left factor (column-major
    // cols × rank) is Vᵀ row-major, its right factor (rank × rows,
    // column-major) is U row-major.
    ThinSvd svd;
    svd.rows = rows;
    svd.cols = cols;
    svd.rank = std::min(rows, cols);
    svd.s.assign(svd.rank, 0.0f);
    svd.u.assign(rows * svd.rank, 0.0f);
    svd.vt.assign(svd.rank * cols, 0.0f);
    if (svd.rank == 0) return svd;
    const index_t m = idx(cols), n = idx(rows), k = idx(svd.rank);
    std::vector<index_t> iwork(8 * svd.rank);
    float query = 0;
    lapack_check(cxxlapack::gesdd<index_t>('S', m, n, a.data(), m, svd.s.data(), svd.vt.data(), m, svd.u.data(), k,
                                           &query, -1, iwork.data()),
                 "sgesdd");
    std::vector<float> work(static_cast<std::size_t>(query) + 1);
    lapack_check(cxxlapack::gesdd<index_t>('S', m, n, a.data(), m, svd.s.data(), svd.vt.data(), m, svd.u.data(), k,
                                           work.data(), idx(work.size()), iwork.data()),
                 "sgesdd");
    return svd;
}

BlasThreads::BlasThreads(unsigned threads)
{
    if (threads == 0 || openblas_set_num_threads == nullptr || openblas_get_num_threads == nullptr) return;
    previous_ = openblas_get_num_threads();
    // OpenBLAS gains nothing from more threads than cores, and when it cannot
    // start the ones it was told to (ulimit -v) it waits for them forever.
    const unsigned cores = std::max(1u, std::thread::hardware_concurrency());
    openblas_set_num_threads(static_cast<int>(std::min(threads, cores)));
}

BlasThreads::~BlasThreads()
{
    if (previous_ > 0) openblas_set_num_threads(previous_);
}

}  // namespace signcut::detail
