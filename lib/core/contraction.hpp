// Contracting a C-ordered tensor with sign vectors on all modes but one.
//
// Every mode update of the decomposer, whatever the order k, is built from
// one primitive: a contiguous block seen as X × Y × Z, contracted with signs
// on X and Z, leaving a vector over Y. The whole tensor is the block
// (Π_{b<a} d_b) × d_a × (Π_{b>a} d_b) with Kronecker signs on either side;
// the slice of a flipped index is a set of such blocks. Each shape of block
// is mapped to the kernel that streams it best.
#pragma once

#include <cstddef>
#include <cstdint>
#include <vector>

#include "signcut/kernels.hpp"
#include "signcut/signs.hpp"

namespace signcut::detail {

/// Reusable buffers, so mode updates allocate nothing in steady state.
struct ContractionScratch {
    std::vector<float> tmp;
    std::vector<std::ptrdiff_t> offsets;
    std::vector<float> weights;
    SignVector negated;
};

/// out[y] += Σ_{x<X, z<Z} sx[x]·sz[z]·B[(x·Y + y)·Z + z]   for y < Y.
/// `sx` has X signs, `sz` has Z signs. Rows of the block are split over
/// `threads` by output range (results do not depend on the thread count).
void contract_block(const kernels::Table& k, const float* B, std::size_t X, std::size_t Y, std::size_t Z,
                    const SignVector& sx, const SignVector& sz, float* out, ContractionScratch& scratch,
                    unsigned threads);

/// `s` with every sign flipped (padding kept zero).
SignVector negate(const SignVector& s);
/// The same, written to `out` in the storage it holds.
void negate(const SignVector& s, SignVector& out);

}  // namespace signcut::detail
