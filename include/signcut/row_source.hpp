// signcut: a tensor read in slabs of rows, for data larger than memory.
#pragma once

#include "signcut/export.hpp"

#include <cstddef>

#include "signcut/tensor.hpp"

namespace signcut {

/// A tensor that decompose() reads a slab at a time: rows along mode 0, every
/// other mode whole. decompose() holds only the slabs in flight (two), the
/// blocks being decomposed and the terms, and reads a slab again when a block
/// in it needs more terms than its first pass gave (the same seed gives the
/// same first terms) and once more for the exact error of what is kept.
///
/// Calls come only from the thread that called decompose(), never from its
/// worker threads and never two at once, so a source may use a library that
/// is not thread-safe (HDF5 usually is not).
class SIGNCUT_API RowSource {
public:
    virtual ~RowSource() = default;
    /// The tensor's shape (order ≥ 1, no zero extent).
    virtual Shape shape() const = 0;
    /// Writes rows [first, first + count) of mode 0, C-ordered float32:
    /// count · Π_{a>0} d_a values. Throws signcut::Error on failure; data that
    /// is not finite is refused by decompose() itself.
    virtual void read_rows(std::size_t first, std::size_t count, float* out) = 0;
};

}  // namespace signcut
