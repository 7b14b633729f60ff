// The sign stream of format version 2 (docs/FORMAT.md): one byte-aligned
// segment per block, converted to and from the blocks' sign matrices.
//
// Block b's segment holds, for each of its w_b terms in order, for each mode
// a in order, the term's e_{b,a} signs of that mode: S_b = w_b · Σ_a e_{b,a}
// bits, with nothing between terms or modes. Segment bit i is bit i % 8
// (least significant first) of segment byte i / 8; a set bit means −1; the
// unused bits of the last byte are 0. In memory (signs.hpp) the same signs
// are a SignMatrix per mode: column j is term j, ceil(e/64) uint64 words,
// bit i % 64 of word i / 64 is row i.
#pragma once

#include <cstddef>
#include <cstdint>
#include <span>
#include <vector>

#include "signcut/decomposition.hpp"
#include "signcut/export.hpp"
#include "signcut/signs.hpp"
#include "signcut/tensor.hpp"

namespace signcut::detail {

/// ceil(width · signs_per_term / 8): the bytes of one block's segment
/// (UINT64_MAX if that does not fit in 64 bits).
SIGNCUT_API std::uint64_t segment_bytes(std::uint64_t width, std::uint64_t signs_per_term) noexcept;

/// Writes the segment of `terms` (a block of shape = its extents) into
/// `out`, which must hold exactly segment_bytes(width, Σ_a e_a) bytes.
SIGNCUT_API void pack_segment(const SignedCutTerms& terms, std::span<std::uint8_t> out);

/// True when the bits of `segment` past its first `bits` are all 0.
SIGNCUT_API bool segment_tail_is_clear(std::span<const std::uint8_t> segment, std::uint64_t bits) noexcept;

/// The sign matrices (one per mode, extents[a] rows and `width` columns) of
/// a segment of segment_bytes(width, Σ_a extents[a]) bytes. Does not check
/// the unused bits (segment_tail_is_clear does).
SIGNCUT_API std::vector<SignMatrix> unpack_segment(std::span<const std::uint8_t> segment, const Shape& extents,
                                       std::size_t width);

/// The sign stream of the first widths[b] terms of every block of
/// `blocks` (the file's `signs` dataset): each block's segment cut from
/// `segments[b]`, the segment of all its terms, since a prefix's segment is
/// the first ceil(w·S/8) bytes of it with the bits past w·S cleared.
SIGNCUT_API std::vector<std::uint8_t> prefix_sign_stream(std::span<const std::vector<std::uint8_t>> segments,
                                             std::span<const std::uint64_t> signs_per_term,
                                             std::span<const std::size_t> widths);

}  // namespace signcut::detail

// The file readers and writers use these under their own namespace.
namespace signcut::io {
using detail::pack_segment;
using detail::segment_bytes;
using detail::segment_tail_is_clear;
using detail::unpack_segment;
}  // namespace signcut::io
