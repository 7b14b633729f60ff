// Internal: solving a symmetric positive definite system, for the refit of
// the scales. The core links no BLAS or LAPACK, so the factorization is
// here: a blocked right-looking Cholesky whose trailing updates are split
// over threads by rows. Every element is updated by one thread, by the same
// terms in the same order, so the result does not depend on the thread count.
#pragma once

#include <cstddef>
#include <vector>

namespace signcut::detail {

/// Solves A·x = b for the symmetric n × n row-major matrix `a` (its upper
/// triangle is read), overwriting `b` with x. Returns false, leaving `b`
/// unspecified, when A is not numerically positive definite.
bool cholesky_solve(std::vector<double> a, std::size_t n, double* b, unsigned threads);

}  // namespace signcut::detail
