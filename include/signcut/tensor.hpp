// signcut: tensors, shapes and zero-copy views.
//
// Tensors are C-ordered (row-major): mode a of a tensor is dimension a of an
// HDF5 dataset or of an xtensor array, and the last mode varies fastest.
#pragma once

#include "signcut/export.hpp"

#include <cstddef>
#include <cstdint>
#include <span>
#include <string>
#include <vector>

#include <xtensor/xarray.hpp>

#include "signcut/aligned_allocator.hpp"

namespace signcut {

using Shape = std::vector<std::size_t>;

/// The owning tensor type: float32, row-major, any order. Its buffer is
/// 64-byte aligned, so the decomposer can take it over as its working
/// remainder without a copy.
using Tensor = xt::xarray<float, xt::layout_type::row_major, AlignedAllocator<float>>;

/// Number of entries of `shape`. Throws `Error` (errc::limit) if the product
/// overflows 64 bits; an empty shape (order 0) has one entry.
SIGNCUT_API std::uint64_t element_count(std::span<const std::size_t> shape);

/// The one check of a tensor's shape: order 1 or more, no empty mode, and
/// an entry count within 64 bits. Throws `Error` (errc::bad_input; errc::limit
/// for the count). Every reader, the decomposer and the decompositions use it.
SIGNCUT_API void check_shape(std::span<const std::size_t> shape);

/// "512x512x3".
SIGNCUT_API std::string format_shape(std::span<const std::size_t> shape);

/// A read-only view of C-ordered data owned by someone else: no copy is made
/// until the decomposer builds its working remainder.
template <class T>
struct TensorView {
    const T* data = nullptr;
    Shape shape;

    std::uint64_t size() const { return element_count(shape); }
    std::size_t order() const { return shape.size(); }
};

}  // namespace signcut
