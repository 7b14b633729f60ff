// signcut: where each block of a signed cut decomposition lies in a file.
//
// A file's datasets (docs/FORMAT.md) hold every block's data one after the
// other: the widths, then the scales, the sign segments and, in version 3,
// the codecs, the coded streams' sizes and the streams, each in block
// order. What decides every position and every dataset's size is a few
// numbers per block, not the terms themselves; this type holds them. It is
// what lets several processes write one file together, each its own blocks
// (a team's members, block_team.hpp): every member holds the whole layout,
// and the terms of its own blocks only.
#pragma once

#include "signcut/export.hpp"

#include <cstddef>
#include <cstdint>
#include <vector>

#include "signcut/block_codec.hpp"
#include "signcut/blocks.hpp"
#include "signcut/decomposition.hpp"

namespace signcut {

/// Where the data of one block starts in each dataset.
struct SIGNCUT_API BlockPlacement {
    std::uint64_t scale = 0;        ///< its first scale in `scales`
    std::uint64_t sign_byte = 0;    ///< its segment's first byte in `signs`
    std::uint64_t stream = 0;       ///< its first entry in `stream_sizes`
    std::uint64_t stream_byte = 0;  ///< its first byte in `streams`
};

struct SIGNCUT_API StoredLayout {
    BlockGrid grid;
    std::vector<std::uint64_t> widths;                     ///< w_b (0 for a coded block)
    std::vector<CodecId> codecs;                           ///< each block's codec
    std::vector<std::vector<std::uint64_t>> stream_sizes;  ///< each coded block's streams' bytes
    unsigned scale_bits = float32_scale_bits;
    int deflate_level = 0;                                 ///< the signs' deflate level; 0: plain
    std::uint64_t deflated_sign_bytes = 0;                 ///< the stored signs when deflated
    bool scales_refit = false;

    /// Σ_b w_b.
    std::uint64_t width() const noexcept;
    std::uint64_t max_width() const noexcept;
    std::size_t coded_block_count() const noexcept;
    CodedStorage coded_storage() const noexcept;
    /// 3 when any block is coded by another codec, else 2.
    int format_version() const noexcept { return coded_block_count() > 0 ? 3 : 2; }
    /// The bytes of the plain sign stream (every block's segment).
    std::uint64_t sign_stream_bytes() const;
    /// What SignedCutDecomposition::payload() gives for the same blocks.
    Payload payload() const;
    double bits_per_value() const;
    double counted_bits_per_value() const;
    /// Where block b starts; placement(count) is where the datasets end.
    BlockPlacement placement(std::size_t b) const;
};

/// The layout of a decomposition held whole.
SIGNCUT_API StoredLayout stored_layout(const SignedCutDecomposition& d);

}  // namespace signcut
