// signcut: an order-k tensor seen as a matrix.
//
// Low-rank methods (LPLR, truncated SVD and its quantized variants) work on
// matrices. A matricization splits the modes of a tensor into row modes and
// column modes; entry (i_0, …, i_{k-1}) goes to row (i_r0, i_r1, …) and column
// (i_c0, i_c1, …), each a C-order index over its modes in the order listed.
// The spelling is "0,1|2,3": row modes, a bar, column modes. An empty side
// stands for a single row or column ("0|" makes a vector a column).
#pragma once

#include "signcut/export.hpp"

#include <cstddef>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "signcut/tensor.hpp"

namespace signcut {

struct SIGNCUT_API Matricization {
    std::vector<std::size_t> row_modes;
    std::vector<std::size_t> col_modes;

    /// Parses "0,1|2,3" for a tensor of `order` modes. Throws `Error`
    /// (errc::invalid_argument) unless every mode 0..order-1 appears exactly
    /// once, naming what is wrong.
    static Matricization parse(std::string_view text, std::size_t order);
    /// The split into leading and trailing modes whose row count is closest
    /// to the column count (in ratio); the first such split on ties. A
    /// vector becomes one column.
    static Matricization closest_to_square(std::span<const std::size_t> shape);

    /// "0,1|2,3".
    std::string to_string() const;
    /// Throws `Error` (errc::invalid_argument) unless the modes are a
    /// permutation of 0..order-1.
    void validate(std::size_t order) const;

    std::size_t rows(std::span<const std::size_t> shape) const;
    std::size_t cols(std::span<const std::size_t> shape) const;
    /// True when the matrix is the tensor's own C-order buffer (modes in
    /// order, rows first), so no copy is needed.
    bool is_contiguous() const noexcept;

    friend bool operator==(const Matricization&, const Matricization&) = default;
};

/// The rows × cols row-major matrix of C-ordered `data` of `shape`.
SIGNCUT_API std::vector<float> matricize(const float* data, std::span<const std::size_t> shape, const Matricization& split);
/// The inverse: writes the tensor (C order) whose matricization is `matrix`.
SIGNCUT_API void unmatricize(const float* matrix, std::span<const std::size_t> shape, const Matricization& split, float* out);

}  // namespace signcut
