// signcut: symmetric uniform B-bit quantization with packed codes.
//
// A matrix is quantized in groups, one float32 scale per group: per column
// (the tall factor L of a low-rank factorization) or per row (the wide
// factor R). With q_max = 2^{B-1} - 1,
//
//     scale = max |x| over the group / q_max,    code = round(x / scale) in [-q_max, q_max],
//
// rounding half away from zero, and x is read back as code · scale. Zero is
// a level, so small entries are not biased, and every value is within half a
// step (scale / 2) of its reconstruction. A group of zeros has scale 0.
//
// Packing (also the file layout of method "lplr"): the codes of one group
// form a bit string, code t occupying bits [t·B, t·B + B); bit p of the
// string is bit p % 64 of word p / 64 (least significant first). A code is
// stored offset-binary, as the unsigned number code + 2^{B-1}, so the stored
// values run from 1 to 2^B - 1 (the all-zero pattern is never written). Each
// group starts at a fresh word; bits past the group's last code are zero.
#pragma once

#include "signcut/export.hpp"

#include <cstddef>
#include <cstdint>
#include <span>
#include <vector>

namespace signcut {

/// Which way the groups of a quantized matrix run.
enum class ScaleAxis {
    column,  ///< one scale per column; group g is column g
    row,     ///< one scale per row; group g is row g
};

/// Bit widths the quantizer accepts.
inline constexpr unsigned min_quantizer_bits = 2;
inline constexpr unsigned max_quantizer_bits = 16;

/// q_max = 2^{B-1} - 1, the largest code magnitude at B bits.
constexpr int max_code(unsigned bits) noexcept { return (1 << (bits - 1)) - 1; }

/// Words that hold `length` codes of `bits` bits each.
constexpr std::size_t code_words(std::size_t length, unsigned bits) noexcept
{
    return (static_cast<std::uint64_t>(length) * bits + 63) / 64;
}

/// A rows × cols matrix of B-bit codes with one float32 scale per group.
class SIGNCUT_API QuantizedMatrix {
public:
    QuantizedMatrix() = default;
    /// Adopts stored parts (a reader's constructor). Throws `Error`
    /// (errc::bad_input) if `bits` is outside 2..16, the counts disagree with
    /// the shape, a scale is negative or not finite, a stored code is the
    /// unused all-zero pattern, or a padding bit is set.
    QuantizedMatrix(std::size_t rows, std::size_t cols, unsigned bits, ScaleAxis axis, std::vector<float> scales,
                    std::vector<std::uint64_t> words);

    std::size_t rows() const noexcept { return rows_; }
    std::size_t cols() const noexcept { return cols_; }
    unsigned bits() const noexcept { return bits_; }
    ScaleAxis axis() const noexcept { return axis_; }
    /// Number of groups (columns or rows) and codes per group.
    std::size_t groups() const noexcept { return axis_ == ScaleAxis::column ? cols_ : rows_; }
    std::size_t group_length() const noexcept { return axis_ == ScaleAxis::column ? rows_ : cols_; }
    std::size_t words_per_group() const noexcept { return code_words(group_length(), bits_); }

    const std::vector<float>& scales() const noexcept { return scales_; }
    /// groups() × words_per_group() words, group after group.
    const std::vector<std::uint64_t>& words() const noexcept { return words_; }

    /// The signed code of entry (i, j).
    int code(std::size_t i, std::size_t j) const noexcept;
    /// code(i, j) · scale of its group.
    float value(std::size_t i, std::size_t j) const noexcept;
    /// The values of group g (group_length() of them), into `out`.
    void dequantize_group(std::size_t g, std::span<float> out) const;
    /// The whole matrix, row-major (rows × cols).
    std::vector<float> dequantize() const;

    /// Logical storage: B bits per code and 32 per scale (no padding).
    std::uint64_t stored_bits() const noexcept
    {
        return static_cast<std::uint64_t>(rows_) * cols_ * bits_ + 32u * static_cast<std::uint64_t>(groups());
    }

    friend bool operator==(const QuantizedMatrix&, const QuantizedMatrix&) = default;

private:
    friend QuantizedMatrix quantize(const float*, std::size_t, std::size_t, unsigned, ScaleAxis);
    friend QuantizedMatrix quantize(const double*, std::size_t, std::size_t, unsigned, ScaleAxis);
    template <class T>
    static QuantizedMatrix from_values(const T* data, std::size_t rows, std::size_t cols, unsigned bits, ScaleAxis axis);

    std::size_t rows_ = 0, cols_ = 0;
    unsigned bits_ = 8;
    ScaleAxis axis_ = ScaleAxis::column;
    std::vector<float> scales_;
    std::vector<std::uint64_t> words_;
};

/// Quantizes a row-major rows × cols matrix at `bits` (2..16) bits per
/// entry, one scale per group along `axis`. Throws `Error`
/// (errc::invalid_argument) for other bit widths and (errc::bad_input) for
/// non-finite values.
SIGNCUT_API QuantizedMatrix quantize(const float* data, std::size_t rows, std::size_t cols, unsigned bits, ScaleAxis axis);
SIGNCUT_API QuantizedMatrix quantize(const double* data, std::size_t rows, std::size_t cols, unsigned bits, ScaleAxis axis);

}  // namespace signcut
