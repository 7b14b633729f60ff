// signcut: codecs other than signed cuts that a block may be stored with.
//
// The allocation (allocation.hpp) compares, block by block, the signed cuts'
// prefixes with each other codec's operating points along one slope: drop of
// squared error per stored bit. The core knows a codec only through this
// interface; the zfp codec lives in libsigncut (zfp_block_codec.hpp), the
// only library that links libzfp.
//
// A codec may store a block as several streams (zfp codes a mode shorter
// than 4, an RGB axis, as separate planes); each stream is self-contained.
#pragma once

#include "signcut/export.hpp"

#include <cstddef>
#include <cstdint>
#include <memory>
#include <span>
#include <string_view>
#include <vector>

#include "signcut/tensor.hpp"

namespace signcut {

/// Codec ids as a file records them (format version 3, `codecs`).
enum class CodecId : std::uint8_t {
    sct = 0,  ///< the block's signed cut terms
    zfp = 1,  ///< zfp streams, one per plane
};

/// One way a codec can store a block.
struct SIGNCUT_API CodecPoint {
    std::uint64_t bits = 0;      ///< what it adds to the payload: 8 × the streams' bytes, plus 32 per stream
    double squared_error = 0;    ///< Σ (x − x̂)² over the block, in double
    std::uint32_t setting = 0;   ///< the codec's own parameter, to encode this point again
};

/// A block stored by a codec other than signed cuts: its streams.
struct SIGNCUT_API CodedBlock {
    CodecId codec = CodecId::sct;
    std::vector<std::vector<std::uint8_t>> streams;
    /// The stored bits as CodecPoint::bits counts them.
    std::uint64_t bits() const noexcept
    {
        std::uint64_t b = 0;
        for (const auto& s : streams) b += 8 * s.size() + 32;
        return b;
    }
};

class SIGNCUT_API BlockCodec {
public:
    virtual ~BlockCodec() = default;

    virtual CodecId id() const noexcept = 0;
    /// "zfp", as `--codecs` names it.
    virtual std::string_view name() const noexcept = 0;

    /// The number of streams a block of these extents is stored as; 0 when
    /// the codec cannot store such a block.
    virtual std::size_t stream_count(const Shape& extents) const = 0;

    /// Operating points for a block's values (C order of `extents`), in
    /// increasing bits, none above `max_bits`. Deterministic: the same
    /// values give the same points on every machine and thread count.
    virtual std::vector<CodecPoint> points(std::span<const float> values, const Shape& extents,
                                           std::uint64_t max_bits) const = 0;

    /// The streams of point `setting` (as points() gave it).
    virtual CodedBlock encode(std::span<const float> values, const Shape& extents, std::uint32_t setting) const = 0;

    /// Decodes a block into `out` (C order of `extents`). A stream that does
    /// not describe a block of these extents is an Error(errc::bad_input)
    /// naming what differs, found before anything is decoded.
    virtual void decode(const CodedBlock& block, const Shape& extents, std::span<float> out) const = 0;
};

/// The codecs a run may choose from besides signed cuts.
using BlockCodecs = std::vector<std::shared_ptr<const BlockCodec>>;

}  // namespace signcut
