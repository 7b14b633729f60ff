// signcut: packed {-1,+1} vectors and matrices.
//
// Bit layout (also the file layout): sign i of a vector is bit i % 64 of
// word i / 64, least significant bit first; a set bit means -1. Bits past the
// length are always zero, so whole-word XOR and popcount are exact.
#pragma once

#include "signcut/export.hpp"

#include <cstddef>
#include <cstdint>
#include <span>
#include <vector>

namespace signcut {

/// Number of 64-bit words that hold `d` packed signs.
constexpr std::size_t words_for(std::size_t d) noexcept { return (d + 63) / 64; }

/// Mask of the bits of the last word that belong to a `d`-long vector.
constexpr std::uint64_t tail_mask(std::size_t d) noexcept
{
    return d % 64 == 0 ? ~std::uint64_t{0} : (std::uint64_t{1} << (d % 64)) - 1;
}

/// A vector of signs, one bit each.
class SIGNCUT_API SignVector {
public:
    SignVector() = default;
    /// `size` signs, all +1.
    explicit SignVector(std::size_t size) : size_(size), words_(words_for(size), 0) {}
    /// Adopts packed words; throws `Error` if the count is wrong or a padding bit is set.
    SignVector(std::size_t size, std::vector<std::uint64_t> words);

    /// sign(x) = -1 exactly when x < 0; both zeros give +1 (NaN gives +1).
    static SignVector from_values(std::span<const float> values);
    static SignVector from_values(std::span<const double> values);
    /// Every value must be -1 or +1; throws `Error` otherwise.
    static SignVector from_int8(std::span<const std::int8_t> values);

    std::size_t size() const noexcept { return size_; }
    std::size_t word_count() const noexcept { return words_.size(); }
    /// `size` signs, all +1, in the storage already held when it is large
    /// enough (loops that rebuild a vector at every step allocate nothing).
    void reset(std::size_t size)
    {
        size_ = size;
        words_.assign(words_for(size), 0);
    }
    const std::uint64_t* data() const noexcept { return words_.data(); }
    std::uint64_t* data() noexcept { return words_.data(); }
    std::span<const std::uint64_t> words() const noexcept { return words_; }

    bool negative(std::size_t i) const noexcept { return (words_[i / 64] >> (i % 64)) & 1u; }
    int operator[](std::size_t i) const noexcept { return negative(i) ? -1 : 1; }
    void set(std::size_t i, bool negative) noexcept
    {
        const std::uint64_t bit = std::uint64_t{1} << (i % 64);
        words_[i / 64] = negative ? (words_[i / 64] | bit) : (words_[i / 64] & ~bit);
    }
    /// Number of -1 entries.
    std::size_t count_negative() const noexcept;

    std::vector<float> to_floats() const;
    std::vector<std::int8_t> to_int8() const;
    void to_floats(std::span<float> out) const;

    /// True when no padding bit is set (an invariant every operation keeps).
    bool padding_is_zero() const noexcept;

    friend bool operator==(const SignVector&, const SignVector&) = default;

private:
    std::size_t size_ = 0;
    std::vector<std::uint64_t> words_;
};

/// `rows` x `cols` signs stored column by column: column j is a packed sign
/// vector of `rows` signs starting at word j * column_stride(), with
/// column_stride() = words_for(rows). In a decomposition the rows index one
/// mode and the columns are the terms.
class SIGNCUT_API SignMatrix {
public:
    SignMatrix() = default;
    SignMatrix(std::size_t rows, std::size_t cols) : rows_(rows), cols_(cols), words_(words_for(rows) * cols, 0) {}
    /// Adopts packed words; throws `Error` if the count is wrong or a padding bit is set.
    SignMatrix(std::size_t rows, std::size_t cols, std::vector<std::uint64_t> words);

    std::size_t rows() const noexcept { return rows_; }
    std::size_t cols() const noexcept { return cols_; }
    std::size_t column_stride() const noexcept { return words_for(rows_); }
    const std::uint64_t* data() const noexcept { return words_.data(); }
    std::uint64_t* data() noexcept { return words_.data(); }
    std::span<const std::uint64_t> words() const noexcept { return words_; }

    const std::uint64_t* column_data(std::size_t j) const noexcept { return words_.data() + j * column_stride(); }
    SignVector column(std::size_t j) const;
    void set_column(std::size_t j, const SignVector& v);
    void push_back(const SignVector& v);
    /// Keeps the first `cols` columns.
    void truncate(std::size_t cols);
    void reserve(std::size_t cols) { words_.reserve(words_for(rows_) * cols); }

    bool negative(std::size_t i, std::size_t j) const noexcept
    {
        return (words_[j * column_stride() + i / 64] >> (i % 64)) & 1u;
    }
    int operator()(std::size_t i, std::size_t j) const noexcept { return negative(i, j) ? -1 : 1; }

    bool padding_is_zero() const noexcept;

    friend bool operator==(const SignMatrix&, const SignMatrix&) = default;

private:
    std::size_t rows_ = 0;
    std::size_t cols_ = 0;
    std::vector<std::uint64_t> words_;
};

/// Kronecker product a ⊗ b: entry i * b.size() + j is a[i] * b[j]
/// (C order, so the last factor varies fastest). Computed on bits (XOR).
SIGNCUT_API SignVector kron(const SignVector& a, const SignVector& b);

/// <a, b> = n - 2 * popcount(a XOR b). Throws `Error` on a length mismatch.
SIGNCUT_API std::int64_t dot(const SignVector& a, const SignVector& b);

/// Number of positions where a and b differ.
SIGNCUT_API std::size_t hamming(const SignVector& a, const SignVector& b);

}  // namespace signcut
