// Internal: the least-squares refit of a decomposition's scales.
//
// With the signs fixed, the scales c minimising ||X - Σ_j c_j T_j|| solve
// G·c = b, where T_j = ⊗_a s_j^(a) is term j, G_jk = <T_j, T_k> =
// Π_a <s_j^(a), s_k^(a)> (popcounts, no pass over the data) and b_j = <X, T_j>.
// The greedy already knows b without a pass either: term j's cut is
// <R_j, T_j> with R_j = X - Σ_{k<j} c_k T_k, so b_j = cut_j + Σ_{k<j} c_k G_kj.
#pragma once

#include <cstddef>
#include <optional>
#include <span>
#include <vector>

#include "signcut/decomposition.hpp"
#include "signcut/kernels.hpp"
#include "signcut/signs.hpp"

namespace signcut::detail {

/// G (width × width, symmetric, row-major) of the decomposition's terms.
std::vector<double> term_gram(const kernels::Table& k, const SignedCutTerms& d, unsigned threads);

/// The least-squares scales, from the Gram matrix, the greedy's cuts and its
/// scales; nullopt if G is numerically singular (repeated terms), in which
/// case the greedy's scales stand.
std::optional<std::vector<double>> least_squares_scales(const std::vector<double>& gram, std::span<const double> cuts,
                                                        std::span<const float> greedy_scales, unsigned threads);

}  // namespace signcut::detail
