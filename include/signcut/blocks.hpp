// signcut: the block grid that cuts a tensor into blocks, and regions.
//
// A block shape b_0 × … × b_{k-1} (1 ≤ b_a ≤ d_a) tiles a tensor of shape
// d_0 × … × d_{k-1}; the grid has ceil(d_a / b_a) blocks along mode a, and
// blocks are numbered in C order of the grid. Edge blocks are cut short:
// block b's extent e_{b,a} along mode a is b_a, or what is left of d_a.
// The whole tensor is the grid of one block (block shape = shape).
#pragma once

#include "signcut/export.hpp"

#include <cstddef>
#include <cstdint>
#include <span>
#include <string_view>
#include <vector>

#include "signcut/tensor.hpp"

namespace signcut {

class SIGNCUT_API BlockGrid {
public:
    BlockGrid() = default;
    /// Throws Error(errc::invalid_argument) naming the mode when the orders
    /// differ or a block extent is 0 or beyond its dimension.
    BlockGrid(Shape shape, Shape block_shape);
    /// The grid of one block.
    static BlockGrid whole(const Shape& shape) { return BlockGrid(shape, shape); }

    const Shape& shape() const noexcept { return shape_; }
    const Shape& block_shape() const noexcept { return block_shape_; }
    /// Blocks along each mode, ceil(d_a / b_a).
    const Shape& grid_shape() const noexcept { return grid_; }
    std::size_t order() const noexcept { return shape_.size(); }
    /// G, the number of blocks.
    std::size_t count() const noexcept { return count_; }
    bool is_whole() const noexcept { return count_ == 1; }

    /// The grid coordinates of block b.
    Shape coordinates(std::size_t b) const;
    /// The first index of block b along each mode.
    Shape origin(std::size_t b) const;
    /// Block b's own extents e_{b,a}.
    Shape extents(std::size_t b) const;
    /// Number of entries n_b of block b.
    std::uint64_t block_size(std::size_t b) const;
    /// Σ_a e_{b,a}: the signs of one term of block b.
    std::uint64_t signs_per_term(std::size_t b) const;

    /// Copies block b of C-ordered `tensor` (shape()) into `out` (C order of
    /// the block's extents, block_size(b) values).
    template <class T>
    void gather(std::size_t b, const T* tensor, float* out) const;
    /// The same from `rows`, which holds only rows first_row, first_row + 1,
    /// … of mode 0 (every other mode whole, C order), as a slab read from a
    /// file does; block b must lie within the rows held.
    template <class T>
    void gather_from_rows(std::size_t b, std::size_t first_row, const T* rows, float* out) const;
    /// Adds nothing, copies: writes block b's values (C order of its extents)
    /// into their place in a C-ordered tensor of shape().
    void scatter(std::size_t b, const float* block, float* tensor) const;

private:
    Shape shape_, block_shape_, grid_;
    std::size_t count_ = 0;
};

/// The seed block b is decomposed from: seed + b·φ (φ = 0x9e3779b97f4a7c15,
/// the golden-ratio step of splitmix64), so block 0, and a whole tensor,
/// start from the seed itself.
SIGNCUT_API std::uint64_t block_seed(std::uint64_t seed, std::size_t block);

/// Parses a block shape "64x64x3" for a tensor of `shape` (checked as the
/// BlockGrid constructor checks it).
SIGNCUT_API Shape parse_block_shape(std::string_view text, const Shape& shape);

// ---------------------------------------------------------------------------
// Regions
// ---------------------------------------------------------------------------

/// One mode of a region: the indices [start, stop), or one index that drops
/// the mode from the result (numpy's `x[3]` against `x[3:4]`).
struct SIGNCUT_API RegionRange {
    std::size_t start = 0, stop = 0;
    bool keep = true;  ///< false: a single index, the mode is dropped
};

/// One range per mode.
using Region = std::vector<RegionRange>;

/// The region covering all of `shape`.
SIGNCUT_API Region full_region(const Shape& shape);
/// Parses numpy-style "0:10,:,5,-3:" for a tensor of `shape`: one entry per
/// mode, each `start:stop` (either may be empty; negative values count from
/// the end) or an index (negative from the end), which drops that mode.
/// Steps are not supported. Throws Error(errc::invalid_argument) naming the
/// entry for anything malformed, out of range or empty.
SIGNCUT_API Region parse_region(std::string_view text, const Shape& shape);
/// Checks a region against `shape` (order, start < stop ≤ d_a, and
/// stop = start + 1 for dropped modes).
SIGNCUT_API void check_region(const Region& region, const Shape& shape);
/// The shape of the region's result: the kept modes' lengths (an empty
/// shape, order 0, when every mode is an index).
SIGNCUT_API Shape region_shape(const Region& region);
/// "0:10,:,5" for messages.
SIGNCUT_API std::string format_region(const Region& region, const Shape& shape);

}  // namespace signcut
