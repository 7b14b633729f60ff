// signcut: the signed cut decomposition X ≈ Σ_j c_j · s_j^(0) ⊗ … ⊗ s_j^(k-1),
// block by block.
#pragma once

#include "signcut/export.hpp"

#include <cstddef>
#include <cstdint>
#include <initializer_list>
#include <memory>
#include <span>
#include <vector>

#include "signcut/block_codec.hpp"
#include "signcut/blocks.hpp"
#include "signcut/metrics.hpp"
#include "signcut/scale_format.hpp"
#include "signcut/sign_storage.hpp"
#include "signcut/signs.hpp"
#include "signcut/tensor.hpp"

namespace signcut {

/// The terms of one block: a width-w, order-k sum of signed cuts of a
/// tensor (or block) of shape d_0 × … × d_{k-1}: w scales and, for every
/// mode a, a d_a × w sign matrix whose column j is the sign vector of term j
/// in that mode. Terms are kept in the greedy's order, so every prefix is the
/// greedy's own decomposition at that width (unless `scales_refit()`).
class SIGNCUT_API SignedCutTerms {
public:
    SignedCutTerms() = default;
    /// An empty (width-0) decomposition of `shape`. Throws `Error` on an
    /// order-0 shape or a zero dimension.
    explicit SignedCutTerms(Shape shape);
    /// Adopts stored parts (a reader's constructor); validates that every
    /// sign matrix has d_a rows and `scales.size()` columns.
    SignedCutTerms(Shape shape, std::vector<float> scales, std::vector<SignMatrix> signs,
                           bool scales_refit = false);

    const Shape& shape() const noexcept { return shape_; }
    std::size_t order() const noexcept { return shape_.size(); }
    std::size_t width() const noexcept { return scales_.size(); }
    /// Number of entries N of the tensor.
    std::uint64_t size() const noexcept { return size_; }

    const std::vector<float>& scales() const noexcept { return scales_; }
    const SignMatrix& signs(std::size_t mode) const { return signs_.at(mode); }
    const std::vector<SignMatrix>& all_signs() const noexcept { return signs_; }
    bool scales_refit() const noexcept { return scales_refit_; }

    /// Appends one term: a scale and one sign vector per mode.
    void append(float scale, std::span<const SignVector> factors);
    /// Room for `width` terms, so that appending them does not reallocate.
    void reserve(std::size_t width);
    /// Keeps the first `w` terms (no-op if w >= width()).
    void truncate(std::size_t w);
    /// A copy holding the first `w` terms.
    SignedCutTerms prefix(std::size_t w) const;
    /// Replaces the scales (a least-squares refit); marks scales_refit().
    void set_refit_scales(std::vector<float> scales);

    /// Bits of each stored scale: short_scale_bits when every scale is a
    /// short scale (scale_format.hpp), else float32_scale_bits.
    unsigned scale_bits() const noexcept;
    /// Stored bits per tensor entry: (Σ_a d_a + scale_bits())·w / N (no
    /// padding counted).
    double bits_per_value() const noexcept;
    /// Bits of one term: Σ_a d_a + scale_bits.
    static std::uint64_t bits_per_term(std::span<const std::size_t> shape, unsigned scale_bits);

    /// The full tensor, through the sign GEMM.
    Tensor reconstruct(unsigned threads = 1) const;
    /// Writes the full tensor (C order, size() floats) into `out`.
    void reconstruct_into(std::span<float> out, unsigned threads = 1) const;
    /// The full tensor in double: every value summed term after term, in
    /// term order, in double, so values beyond float32's range or
    /// precision come out as exactly as double allows (what `decompress
    /// --dtype float64` writes). Does not depend on the thread count.
    void reconstruct_float64_into(std::span<double> out, unsigned threads = 1) const;
    /// The error of the reconstruction against `original` (C order, size()
    /// floats), without holding the reconstruction: it is rebuilt a few MiB
    /// at a time, bit for bit as reconstruct() builds it. The figures are
    /// those of compare(original, reconstruct()), up to the rounding of the
    /// double sums. Where the float32 sums overflow (scales near the
    /// float32 limit), those rows are measured on the float64
    /// reconstruction instead and counted in `float32_overflows`.
    ErrorMetrics error_against(std::span<const float> original, unsigned threads = 1) const;
    /// One entry: `element({i, j})` or a span of indices.
    float element(std::span<const std::size_t> index) const;
    float element(std::initializer_list<std::size_t> index) const
    {
        return element(std::span<const std::size_t>(index.begin(), index.size()));
    }
    /// The sub-tensor with some indices fixed: `fixed[a]` is an index into
    /// mode a, or -1 to keep mode a. The result has the kept modes in order
    /// (order 0 when every mode is fixed). Costs O(w · result size).
    Tensor slice(std::span<const std::ptrdiff_t> fixed) const;

    /// Order 2 only: y = S·diag(c)·Tᵀ·x (x has d_1 entries, y has d_0).
    void apply(std::span<const float> x, std::span<float> y) const;
    /// Order 2 only: y = T·diag(c)·Sᵀ·x (x has d_0 entries, y has d_1).
    void apply_transpose(std::span<const float> x, std::span<float> y) const;

private:
    Shape shape_;
    std::uint64_t size_ = 0;
    std::vector<float> scales_;
    std::vector<SignMatrix> signs_;
    bool scales_refit_ = false;
};


/// Payload of a decomposition: the stored bytes of its datasets (format
/// versions 2 and 3, docs/FORMAT.md), which is what `bits_per_value` counts
/// and what a budget bounds.
struct SIGNCUT_API Payload {
    std::uint64_t widths_bytes = 0;  ///< uint32 per block packed to width_bits() bits, stored
    std::uint64_t scales_bytes = 0;  ///< a float32 or short scale per term, stored
    std::uint64_t signs_bytes = 0;   ///< the blocks' byte-aligned sign segments, stored
    std::uint64_t codecs_bytes = 0;      ///< version 3: uint8 per block, stored
    std::uint64_t stream_sizes_bytes = 0;  ///< version 3: uint32 per stream of the coded blocks, stored
    std::uint64_t streams_bytes = 0;     ///< version 3: the coded blocks' streams, stored
    std::uint64_t bits() const noexcept
    {
        return 8 * (widths_bytes + scales_bytes + signs_bytes + codecs_bytes + stream_sizes_bytes + streams_bytes);
    }
};

/// What the blocks stored by other codecs add to a payload.
struct SIGNCUT_API CodedStorage {
    std::uint64_t blocks = 0;        ///< coded blocks (0: a version-2 file, no codecs dataset)
    std::uint64_t streams = 0;       ///< their streams
    std::uint64_t stream_bytes = 0;  ///< Σ of the streams' bytes
};

/// What one dataset of `elements` values of `element_size` bytes occupies in
/// a version-2 file: split into n = ceil(bytes / 1 MiB) equal chunks (the
/// last one padded to the chunk length), each followed by HDF5's 4-byte
/// fletcher32 checksum; an empty dataset occupies nothing.
SIGNCUT_API std::uint64_t stored_dataset_bytes(std::uint64_t elements, std::size_t element_size);
/// Elements per chunk of such a dataset (0 for an empty one).
SIGNCUT_API std::uint64_t dataset_chunk_elements(std::uint64_t elements, std::size_t element_size);
/// The same for a float32 dataset whose values keep `precision` bits
/// packed by HDF5's n-bit filter (short scales): chunked as 4-byte values,
/// each chunk floor(c·precision / 8) + 1 bytes and its checksum.
SIGNCUT_API std::uint64_t stored_packed_dataset_bytes(std::uint64_t elements, unsigned precision);
/// What `terms` scales of `scale_bits` bits each occupy in a file.
SIGNCUT_API std::uint64_t stored_scales_bytes(std::uint64_t terms, unsigned scale_bits);
/// The bits a `widths` entry keeps when the largest width is `max_width`:
/// its bit length, at least 1 (32 stores plain uint32).
SIGNCUT_API unsigned width_bits(std::uint64_t max_width) noexcept;
/// What `blocks` widths of at most `max_width` occupy in a file (n-bit
/// packed to width_bits(max_width), chunked as 4-byte values).
SIGNCUT_API std::uint64_t stored_widths_bytes(std::uint64_t blocks, std::uint64_t max_width);

/// The storage rule of a version-2 file, in one place: the payload of
/// `blocks` widths of at most `max_width`, `terms` scales of `scale_bits`
/// bits and `sign_bytes` bytes of byte-aligned sign segments, each dataset
/// as stored_widths_bytes(), stored_scales_bytes() or stored_dataset_bytes()
/// counts it.
SIGNCUT_API Payload sct_payload(std::uint64_t blocks, std::uint64_t max_width, std::uint64_t terms,
                                std::uint64_t sign_bytes, unsigned scale_bits);
/// The same with coded blocks (format version 3 when coded.blocks > 0: the
/// `codecs`, `stream_sizes` and `streams` datasets are added).
SIGNCUT_API Payload blocks_payload(std::uint64_t blocks, std::uint64_t max_width, std::uint64_t terms,
                                   std::uint64_t sign_bytes, const CodedStorage& coded, unsigned scale_bits);
/// The smallest payload (in bits) that holds one term over `grid`: one
/// term in the block with the shortest terms, every other block empty.
SIGNCUT_API std::uint64_t one_term_payload_bits(const BlockGrid& grid, unsigned scale_bits);

/// A signed cut decomposition of a tensor cut into blocks (blocks.hpp), each
/// block a sum of its own signed cuts:
///   X_b ≈ Σ_{j < w_b} c_{b,j} · s_{b,j}^(0) ⊗ … ⊗ s_{b,j}^(k-1).
/// The whole tensor is the one-block case. Every block's terms are a prefix
/// of its greedy sequence, so any smaller budget can be cut from it (recut).
class SIGNCUT_API SignedCutDecomposition {
public:
    SignedCutDecomposition() = default;
    /// One block: the whole tensor.
    explicit SignedCutDecomposition(SignedCutTerms whole);
    /// Adopts the blocks' terms; each must have its block's extents as shape.
    SignedCutDecomposition(BlockGrid grid, std::vector<SignedCutTerms> blocks);
    /// Adopts the blocks' terms and, for the blocks another codec stores,
    /// their streams: `coded` is empty (every block signed cuts) or has one
    /// entry per block, CodecId::sct for a block of terms; a coded block has
    /// width 0 and its codec must be among `codecs`.
    SignedCutDecomposition(BlockGrid grid, std::vector<SignedCutTerms> blocks, std::vector<CodedBlock> coded,
                           BlockCodecs codecs);

    const Shape& shape() const noexcept { return grid_.shape(); }
    std::size_t order() const noexcept { return grid_.order(); }
    /// Number of entries N.
    std::uint64_t size() const noexcept { return size_; }
    const BlockGrid& grid() const noexcept { return grid_; }
    const Shape& block_shape() const noexcept { return grid_.block_shape(); }
    std::size_t block_count() const noexcept { return blocks_.size(); }
    const SignedCutTerms& block(std::size_t b) const { return blocks_.at(b); }
    const std::vector<SignedCutTerms>& blocks() const noexcept { return blocks_; }
    /// Total number of terms, Σ_b w_b.
    std::uint64_t width() const noexcept;
    /// w_b for every block.
    std::vector<std::size_t> widths() const;
    /// True if any block's scales were refit after the greedy.
    bool scales_refit() const noexcept;

    /// The codec of block b (CodecId::sct for a block of signed cut terms).
    CodecId codec(std::size_t b) const { return coded_.empty() ? CodecId::sct : coded_.at(b).codec; }
    /// Block b's streams (empty for a block of terms).
    const CodedBlock& coded(std::size_t b) const;
    /// Number of blocks stored by another codec.
    std::size_t coded_block_count() const noexcept;
    /// The codecs the coded blocks need to be decoded.
    const BlockCodecs& codecs() const noexcept { return codecs_; }
    /// What the coded blocks add to the payload.
    CodedStorage coded_storage() const noexcept;
    /// 3 when any block is coded by another codec, else 2.
    int format_version() const noexcept { return coded_block_count() > 0 ? 3 : 2; }

    /// Bits of each stored scale: short_scale_bits when every block's scales
    /// are short scales, else float32_scale_bits (scale_format.hpp).
    unsigned scale_bits() const noexcept;
    /// Lets the signs be stored with `storage` (deflated) where that stores
    /// fewer bytes than the plain stream; null keeps them plain. Prefixes
    /// keep the storage and decide again.
    void set_sign_storage(std::shared_ptr<const SignStorage> storage);
    const std::shared_ptr<const SignStorage>& sign_storage() const noexcept { return sign_storage_; }
    /// True when a file stores the signs deflated (sign_storage() is set and
    /// deflating stores fewer bytes).
    bool signs_deflated() const noexcept { return deflated_sign_bytes_ > 0; }
    /// The sign stream of the `signs` dataset: every block's segment in
    /// block order (docs/FORMAT.md).
    std::vector<std::uint8_t> sign_stream() const;
    /// The stored datasets' bytes (format version 2, or 3 with coded blocks).
    Payload payload() const;
    /// payload().bits() / N.
    double bits_per_value() const;
    /// The logical count, Σ_b w_b·(Σ_a e_{b,a} + scale_bits()) / N: a sign
    /// 1 bit, a scale 13 or 32, a coded block its CodedBlock::bits(), nothing for padding
    /// or checksums.
    double counted_bits_per_value() const;

    /// The first `w` terms of every block (coded blocks are kept).
    SignedCutDecomposition prefix(std::size_t w) const;
    /// The first widths[b] terms of block b (0 for a coded block, which is kept).
    SignedCutDecomposition prefix(std::span<const std::size_t> widths) const;

    /// The full tensor. Each block is rebuilt in term order, so any region
    /// equals the same slice of the full reconstruction bit for bit.
    Tensor reconstruct(unsigned threads = 1) const;
    void reconstruct_into(std::span<float> out, unsigned threads = 1) const;
    /// Only the blocks a region touches (blocks.hpp); the result has the
    /// region's shape (dropped modes removed).
    Tensor reconstruct(const Region& region, unsigned threads = 1) const;
    /// The same in double (SignedCutTerms::reconstruct_float64_into), block by
    /// block; a region again equals the same slice of the whole bit for bit.
    void reconstruct_float64_into(std::span<double> out, unsigned threads = 1) const;
    std::vector<double> reconstruct_float64(unsigned threads = 1) const;
    std::vector<double> reconstruct_float64(const Region& region, unsigned threads = 1) const;
    /// Block b alone (C order of its extents), whatever its codec.
    void reconstruct_block(std::size_t b, std::span<float> out, unsigned threads = 1) const;
    /// The same in double (a coded block's float32 values, widened).
    void reconstruct_block_float64(std::size_t b, std::span<double> out, unsigned threads = 1) const;
    /// The error against `original` (C order, size() floats), block by block,
    /// without holding the reconstruction; a block whose float32 sums
    /// overflow is measured on its float64 reconstruction (ErrorMetrics::
    /// float32_overflows counts the values).
    ErrorMetrics error_against(std::span<const float> original, unsigned threads = 1) const;
    /// One entry.
    float element(std::span<const std::size_t> index) const;
    float element(std::initializer_list<std::size_t> index) const
    {
        return element(std::span<const std::size_t>(index.begin(), index.size()));
    }

    /// Order 2 only: y = X̂·x (x has d_1 entries, y has d_0), block by block.
    void apply(std::span<const float> x, std::span<float> y) const;
    /// Order 2 only: y = X̂ᵀ·x (x has d_0 entries, y has d_1).
    void apply_transpose(std::span<const float> x, std::span<float> y) const;

private:
    template <class T>
    void reconstruct_region(const Region& region, T* out, unsigned threads) const;

    const BlockCodec& codec_for(std::size_t b) const;

    BlockGrid grid_;
    std::uint64_t size_ = 0;
    std::vector<SignedCutTerms> blocks_;
    std::vector<CodedBlock> coded_;  ///< empty, or one per block
    BlockCodecs codecs_;
    std::shared_ptr<const SignStorage> sign_storage_;
    std::uint64_t deflated_sign_bytes_ = 0;  ///< the stored signs when deflated, else 0
};
}  // namespace signcut
