// The one greedy decomposer (§3 of the design): the terms of one block.
// decompose() (decompose.cpp) cuts a tensor into blocks and calls this for
// each; a whole tensor is the one-block case.
#pragma once

#include <cstddef>
#include <cstdint>
#include <optional>

#include "aligned_buffer.hpp"
#include "signcut/export.hpp"
#include "signcut/decompose.hpp"
#include "signcut/decomposition.hpp"

namespace signcut::detail {

/// How far one block's greedy sequence is run. Neither limit changes the
/// terms found: the sequence run to K terms is a prefix of the sequence run
/// to any K' > K (the flush schedule and every other choice depend on the
/// term index only), which is what lets the allocation decompose a block
/// again, further, and get the same first terms.
struct TermLimits {
    std::size_t max_terms = 0;
    /// Stop once Σ_j c_j²·n (the allocation's gains) reaches this fraction
    /// of ‖X‖².
    std::optional<double> stop_gain_fraction;
};

/// Decomposes C-ordered float32 data of `shape` (already checked finite):
/// `working` is the owned working copy, or `external` a buffer given up by
/// the caller (then `working` is empty). The options' stopping rules and
/// block choice are ignored here; seed, restarts, cap, flush, start, refit,
/// threads and progress apply.
/// Blocks whose largest magnitude passes 2^(100 − ⌈log2 n⌉) are multiplied
/// by 2^−e (e from headroom_exponent) before the greedy and their scales by
/// 2^e after it, exactly (greedy.cpp says why); a scale beyond float32's
/// range is refused (errc::bad_input).
SignedCutTerms greedy_terms(AlignedFloats working, float* external, const Shape& shape,
                            const DecomposeOptions& options, const TermLimits& limits, DecomposeReport& report);

/// The e ≥ 0 such that max_abs·2^−e ≤ 2^(100 − ⌈log2 n⌉): 0 for any block
/// whose float32 sums cannot come near overflow.
// Exported for LPLR in libsigncut, which scales its factors the same way.
SIGNCUT_API int headroom_exponent(float max_abs, std::uint64_t n);

}  // namespace signcut::detail
