// Symmetric B-bit quantization with per-group scales, packed LSB first.
#include "signcut/quantizer.hpp"

#include <algorithm>
#include <cmath>

#include <fmt/format.h>

#include "signcut/error.hpp"

namespace signcut {
namespace {

void check_bits(unsigned bits)
{
    if (bits < min_quantizer_bits || bits > max_quantizer_bits)
        throw Error(errc::invalid_argument, fmt::format("quantizer bits must be in {}..{}, got {}", min_quantizer_bits,
                                                        max_quantizer_bits, bits));
}

/// Writes the `bits`-bit field `value` at bit offset `at` of `words`. The
/// field may straddle two words; the words start out zero.
void put_field(std::uint64_t* words, std::uint64_t at, unsigned bits, std::uint64_t value) noexcept
{
    const std::uint64_t word = at / 64;
    const unsigned shift = static_cast<unsigned>(at % 64);
    words[word] |= value << shift;
    if (shift + bits > 64) words[word + 1] |= value >> (64 - shift);
}

std::uint64_t get_field(const std::uint64_t* words, std::uint64_t at, unsigned bits) noexcept
{
    const std::uint64_t word = at / 64;
    const unsigned shift = static_cast<unsigned>(at % 64);
    std::uint64_t value = words[word] >> shift;
    if (shift + bits > 64) value |= words[word + 1] << (64 - shift);
    return value & ((std::uint64_t{1} << bits) - 1);
}

}  // namespace

QuantizedMatrix::QuantizedMatrix(std::size_t rows, std::size_t cols, unsigned bits, ScaleAxis axis,
                                 std::vector<float> scales, std::vector<std::uint64_t> words)
    : rows_(rows), cols_(cols), bits_(bits), axis_(axis), scales_(std::move(scales)), words_(std::move(words))
{
    if (bits < min_quantizer_bits || bits > max_quantizer_bits)
        throw Error(errc::bad_input,
                    fmt::format("codes of {} bits are outside {}..{}", bits, min_quantizer_bits, max_quantizer_bits));
    if (scales_.size() != groups())
        throw Error(errc::bad_input, fmt::format("{} scales for {} groups", scales_.size(), groups()));
    const std::size_t stride = words_per_group();
    if (words_.size() != groups() * stride)
        throw Error(errc::bad_input, fmt::format("{} code words, expected {} groups of {}", words_.size(), groups(), stride));
    for (std::size_t g = 0; g < groups(); ++g)
        if (!std::isfinite(scales_[g]) || scales_[g] < 0)
            throw Error(errc::bad_input, fmt::format("scale {} is {}, expected a finite value >= 0", g, scales_[g]));
    const std::uint64_t used = static_cast<std::uint64_t>(group_length()) * bits_;
    for (std::size_t g = 0; g < groups(); ++g) {
        const std::uint64_t* w = words_.data() + g * stride;
        for (std::size_t t = 0; t < group_length(); ++t)
            if (get_field(w, static_cast<std::uint64_t>(t) * bits_, bits_) == 0)
                throw Error(errc::bad_input,
                            fmt::format("group {} code {} is the all-zero pattern, which no code uses", g, t));
        if (stride > 0 && used % 64 != 0 && (w[stride - 1] >> (used % 64)) != 0)
            throw Error(errc::bad_input, fmt::format("group {} has padding bits set past code {}", g, group_length()));
    }
}

int QuantizedMatrix::code(std::size_t i, std::size_t j) const noexcept
{
    const bool by_column = axis_ == ScaleAxis::column;
    const std::size_t g = by_column ? j : i;
    const std::size_t t = by_column ? i : j;
    const std::uint64_t stored = get_field(words_.data() + g * words_per_group(), static_cast<std::uint64_t>(t) * bits_, bits_);
    return static_cast<int>(static_cast<std::int64_t>(stored) - (std::int64_t{1} << (bits_ - 1)));
}

float QuantizedMatrix::value(std::size_t i, std::size_t j) const noexcept
{
    return static_cast<float>(code(i, j)) * scales_[axis_ == ScaleAxis::column ? j : i];
}

void QuantizedMatrix::dequantize_group(std::size_t g, std::span<float> out) const
{
    const std::size_t length = group_length();
    if (g >= groups() || out.size() != length)
        throw Error(errc::invalid_argument,
                    fmt::format("group {} of {} into {} values (expected {})", g, groups(), out.size(), length));
    const std::uint64_t* w = words_.data() + g * words_per_group();
    const std::int64_t offset = std::int64_t{1} << (bits_ - 1);
    const float scale = scales_[g];
    for (std::size_t t = 0; t < length; ++t) {
        const auto stored = static_cast<std::int64_t>(get_field(w, static_cast<std::uint64_t>(t) * bits_, bits_));
        out[t] = static_cast<float>(stored - offset) * scale;
    }
}

std::vector<float> QuantizedMatrix::dequantize() const
{
    std::vector<float> out(rows_ * cols_);
    std::vector<float> group(group_length());
    for (std::size_t g = 0; g < groups(); ++g) {
        dequantize_group(g, group);
        for (std::size_t t = 0; t < group.size(); ++t) {
            if (axis_ == ScaleAxis::column)
                out[t * cols_ + g] = group[t];
            else
                out[g * cols_ + t] = group[t];
        }
    }
    return out;
}

template <class T>
QuantizedMatrix QuantizedMatrix::from_values(const T* data, std::size_t rows, std::size_t cols, unsigned bits,
                                             ScaleAxis axis)
{
    check_bits(bits);
    QuantizedMatrix out;
    out.rows_ = rows;
    out.cols_ = cols;
    out.bits_ = bits;
    out.axis_ = axis;
    std::vector<float>& scales = out.scales_;
    std::vector<std::uint64_t>& words = out.words_;
    const bool by_column = axis == ScaleAxis::column;
    const std::size_t groups = by_column ? cols : rows;
    const std::size_t length = by_column ? rows : cols;
    const std::size_t stride = code_words(length, bits);
    // Entry t of group g, wherever the group runs.
    const auto at = [&](std::size_t g, std::size_t t) -> double {
        return static_cast<double>(by_column ? data[t * cols + g] : data[g * cols + t]);
    };
    const int q_max = max_code(bits);
    const std::uint64_t offset = std::uint64_t{1} << (bits - 1);
    scales.assign(groups, 0.0f);
    words.assign(groups * stride, 0);
    for (std::size_t g = 0; g < groups; ++g) {
        double peak = 0;
        for (std::size_t t = 0; t < length; ++t) {
            const double x = at(g, t);
            if (!std::isfinite(x))
                throw Error(errc::bad_input, fmt::format("cannot quantize a non-finite value ({}) at group {}, entry {}",
                                                         x, g, t));
            peak = std::max(peak, std::fabs(x));
        }
        // The codes are computed against the stored float32 scale, so that
        // code · scale is what a reader gets back.
        const float scale = static_cast<float>(peak / q_max);
        scales[g] = scale;
        std::uint64_t* group_words = words.data() + g * stride;
        for (std::size_t t = 0; t < length; ++t) {
            long code = 0;
            if (scale > 0) {
                code = std::lround(at(g, t) / static_cast<double>(scale));
                code = std::clamp<long>(code, -q_max, q_max);
            }
            put_field(group_words, static_cast<std::uint64_t>(t) * bits, bits,
                      static_cast<std::uint64_t>(code + static_cast<long>(offset)));
        }
    }
    return out;
}

QuantizedMatrix quantize(const float* data, std::size_t rows, std::size_t cols, unsigned bits, ScaleAxis axis)
{
    return QuantizedMatrix::from_values(data, rows, cols, bits, axis);
}

QuantizedMatrix quantize(const double* data, std::size_t rows, std::size_t cols, unsigned bits, ScaleAxis axis)
{
    return QuantizedMatrix::from_values(data, rows, cols, bits, axis);
}

}  // namespace signcut
