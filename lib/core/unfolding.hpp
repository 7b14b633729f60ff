// Matrix views of an order-k tensor, for the sign GEMM.
//
// Rows take the leading modes [0, r), columns the trailing modes [r, k); the
// sign vector of a term along the rows is the Kronecker product of its
// leading modes' signs (C order), and likewise for the columns. Reversing the
// mode order gives the same construction for the axis-reversed copy.
#pragma once

#include <cstddef>
#include <span>
#include <vector>

#include "signcut/kernels.hpp"
#include "signcut/signs.hpp"

namespace signcut::detail {

/// The split r in [0, k] whose row count Π_{a<r} d_a is closest to sqrt(N)
/// (in log scale), so neither side of the GEMM is degenerate.
std::size_t balanced_split(std::span<const std::size_t> dims);

/// Product of dims[modes...].
std::size_t product(std::span<const std::size_t> dims, std::size_t begin, std::size_t end);

/// A matrix whose column t (for t in [t0, t1)) is ⊗_{a in modes} signs[a](:, t),
/// modes taken in the order given (`modes` may be descending).
SignMatrix kron_columns(const kernels::Table& k, std::span<const SignMatrix> signs, std::span<const std::size_t> modes,
                        std::size_t t0, std::size_t t1);

/// ⊗_{a in modes} v[a]: one sign vector per mode, modes in the order given;
/// the empty product is the length-1 vector (+1).
SignVector kron_all(const kernels::Table& k, std::span<const SignVector> v, std::span<const std::size_t> modes);
/// The same product written to `out`, with `spare` for the partial products;
/// both keep their storage from call to call.
void kron_all(const kernels::Table& k, std::span<const SignVector> v, std::span<const std::size_t> modes,
              SignVector& out, SignVector& spare);

/// Rows of the matrix add_terms works on: the modes before balanced_split
/// (their product), against the rest as columns.
std::size_t unfolding_rows(std::span<const std::size_t> dims);

/// add_terms for rows [row0, row1) of that matrix only (row0 a multiple of
/// 64), written to `out` as (row1 - row0) rows. The entries equal
/// add_terms' bit for bit.
void add_terms_rows(const kernels::Table& k, std::span<const std::size_t> dims, std::span<const SignMatrix> signs,
                    std::span<const float> c, std::size_t t0, std::size_t t1, std::size_t row0, std::size_t row1,
                    float* out, unsigned threads);

/// out (C order over `dims`) += Σ_{t in [t0,t1)} c[t] ⊗_a signs[a](:, t),
/// split into rows/cols by `balanced_split`, rows spread over threads.
void add_terms(const kernels::Table& k, std::span<const std::size_t> dims, std::span<const SignMatrix> signs,
               std::span<const float> c, std::size_t t0, std::size_t t1, float* out, unsigned threads);

}  // namespace signcut::detail
