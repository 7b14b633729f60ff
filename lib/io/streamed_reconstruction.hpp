// Internal: an sct decomposition file read and rebuilt one slab at a time.
//
// A slab is one row of blocks along mode 0 (every block whose grid
// coordinate along mode 0 is the same), cut to the region, or a few
// consecutive rows joined where rows are thin. Its values are a run of the
// output in C order, since it holds whole rows of the output's mode 0 (or
// all of the output when the region drops mode 0, which then touches one
// row of blocks). Only the slab's blocks the region touches are read, when
// the slab is rebuilt, so what is held at once is one slab's terms and
// values whatever the size of the file. Blocks that a version-3 file stores
// by zfp are read as their streams and decoded with the zfp codec.
#pragma once

#include <cstddef>
#include <cstdint>
#include <functional>
#include <span>
#include <string>
#include <utility>
#include <vector>

#include "hdf5_handle.hpp"
#include "signcut/blocks.hpp"
#include "signcut/decomposition.hpp"
#include "signcut/hdf5.hpp"

namespace signcut::io {

/// One slab: where it lies, and what rebuilding it holds.
struct Slab {
    std::size_t grid_row = 0;         ///< its first row of blocks (grid coordinate along mode 0)
    std::size_t grid_rows = 1;        ///< and how many
    std::size_t first = 0, rows = 0;  ///< its rows of the output's mode 0
    std::size_t data_first = 0;       ///< its rows of the decomposition's mode 0
    std::size_t data_rows = 0;
    std::uint64_t first_value = 0;    ///< the output entry (C order) of its first value
    std::uint64_t values = 0;
    std::uint64_t scales_at = 0;      ///< where its first row's scales and sign
    std::uint64_t bytes_at = 0;       ///< segments start in the file
    std::uint64_t stream_at = 0;      ///< version 3: its first row's first entry of
    std::uint64_t stream_bytes_at = 0;  ///< stream_sizes, and where that stream starts
    std::size_t blocks = 0;           ///< its blocks the region touches
    std::uint64_t largest_block = 0;  ///< values of the largest of them
    std::uint64_t largest_coded = 0;  ///< values of the largest coded one (version 3)
    /// Every block spans the region along every mode but 0, so each is a
    /// run of the slab in its own C order: rebuilt in place, no buffer.
    bool in_place = false;
    /// The arrays it reads and keeps: scales (read, then copied into the
    /// terms), sign segments, sign matrices and the terms objects; coded
    /// blocks' streams (read, then copied into their blocks).
    std::uint64_t terms_bytes = 0;
};

/// One block of a slab, read: its index in the grid and its terms (the
/// first `width` of them when a width was given), or, for a block another
/// codec stores, its streams (`coded.codec` is then not CodecId::sct).
struct SlabBlock {
    std::size_t block = 0;
    SignedCutTerms terms;
    CodedBlock coded;
};
using SlabTerms = std::vector<SlabBlock>;

class SlabReader {
public:
    /// Plans the slabs of the sct decomposition in `root` (its file's root
    /// group, or the group that holds it), whose checked metadata is `info`;
    /// `path` names it in messages. Reads nothing more, except version 3's
    /// stream_sizes (info.coded_streams uint32 values: index_bytes() counts
    /// them), refusing sizes that do not sum to the length of `streams`.
    /// `width` > 0 keeps the first `width` terms of every block (coded
    /// blocks are kept whole).
    SlabReader(hid_t root, std::string path, const DecompositionInfo& info, const Region* region,
               std::size_t width);

    /// The output's shape: the region's (dropped modes removed) or the whole.
    const Shape& shape() const noexcept { return output_shape_; }
    const std::vector<Slab>& slabs() const noexcept { return slabs_; }

    /// What rebuilding `slab` holds at once: its terms, its values of
    /// `value_size` bytes and, unless it is rebuilt in place, one block
    /// buffer per thread that works on it.
    std::uint64_t held_bytes(const Slab& slab, std::size_t value_size, unsigned threads) const;

    /// Joins runs of consecutive slabs while the joined slab has at most
    /// `values` values and `fits` accepts it: thin rows of blocks become
    /// fewer, larger reads and writes (each HDF5 call costs microseconds,
    /// which would otherwise be paid per row).
    void join(std::uint64_t values, const std::function<bool(const Slab&)>& fits);

    /// Keeps only the slabs of grid rows [first, last) (before `join`): the
    /// share of one of several processes that write one output together.
    void keep_grid_rows(std::size_t first, std::size_t last);

    /// What the reader holds for the whole run besides the slabs: the
    /// widths and codecs of `info` and the stream sizes, from the info's
    /// counts (so that it can be checked before the reader is made).
    static std::uint64_t index_bytes(const DecompositionInfo& info);

    /// Reads the slab's blocks: non-finite scales and set padding bits are
    /// refused as read_decomposition refuses them.
    SlabTerms read(const Slab& slab) const;

    /// Writes the slab's values (slab.values of them) into `out`, each block
    /// rebuilt whole and alone as SignedCutDecomposition's reconstruction and
    /// region do, so the values are theirs bit for bit (a coded block
    /// decoded by its codec; a stream it refuses is an Error naming the file
    /// and the block). Threads take whole
    /// blocks (a slab of one block gives that block all of them); the result
    /// does not depend on their number.
    void reconstruct(const Slab& slab, const SlabTerms& terms, std::span<float> out, unsigned threads) const;
    /// The same summed in double (SignedCutTerms::reconstruct_float64_into).
    void reconstruct(const Slab& slab, const SlabTerms& terms, std::span<double> out, unsigned threads) const;

private:
    template <class T>
    void reconstruct_values(const Slab& slab, const SlabTerms& terms, T* out, unsigned threads) const;
    /// Calls f(b, coordinates, extents) for the blocks of grid row `row`, in
    /// grid order, without allocating per block.
    template <class F>
    void for_each_block_of_row(std::size_t row, F&& f) const;
    bool touched(const Shape& coordinates) const;
    /// Does the block at `origin` with `extents` span the region along every
    /// mode but 0, within the region's rows?
    bool spans(const Shape& origin, const Shape& extents) const;

    hid_t root_;
    std::string path_;
    const DecompositionInfo& info_;
    BlockGrid grid_;
    Region region_;  ///< the whole tensor when no region was given
    Shape first_, last_;  ///< the grid coordinates the region touches along each mode
    Shape output_shape_;
    std::size_t width_;
    std::uint64_t blocks_per_row_ = 0;
    std::vector<Slab> slabs_;
    h5::Dataset scales_, signs_;  ///< version 2, kept open (their chunk caches)
    h5::Dataset streams_;         ///< version 3, kept open
    std::vector<std::uint32_t> stream_sizes_;  ///< version 3: the whole of stream_sizes
    std::string streams_name_;
};

}  // namespace signcut::io
