// Packed sign vectors and matrices.
#include "signcut/signs.hpp"

#include <bit>

#include <fmt/format.h>

#include "signcut/error.hpp"
#include "signcut/kernels.hpp"

namespace signcut {
namespace {

bool tail_clear(const std::uint64_t* words, std::size_t d) noexcept
{
    if (d % 64 == 0 || d == 0) return true;
    return (words[words_for(d) - 1] & ~tail_mask(d)) == 0;
}

template <class T>
SignVector signs_of(std::span<const T> values)
{
    SignVector v(values.size());
    std::uint64_t* w = v.data();
    for (std::size_t i = 0; i < values.size(); ++i)
        if (values[i] < T(0)) w[i / 64] |= std::uint64_t{1} << (i % 64);
    return v;
}

}  // namespace

SignVector::SignVector(std::size_t size, std::vector<std::uint64_t> words) : size_(size), words_(std::move(words))
{
    if (words_.size() != words_for(size_))
        throw Error(errc::bad_input, fmt::format("a sign vector of {} entries needs {} words, got {}", size_,
                                                 words_for(size_), words_.size()));
    if (!tail_clear(words_.data(), size_))
        throw Error(errc::bad_input, fmt::format("a sign vector of {} entries has padding bits set", size_));
}

SignVector SignVector::from_values(std::span<const float> values)
{
    // x < 0 is false for both zeros and for NaN, as the sign convention wants.
    SignVector v(values.size());
    kernels::active().pack_signs(values.data(), values.size(), v.data());
    return v;
}
SignVector SignVector::from_values(std::span<const double> values) { return signs_of(values); }

SignVector SignVector::from_int8(std::span<const std::int8_t> values)
{
    SignVector v(values.size());
    for (std::size_t i = 0; i < values.size(); ++i) {
        if (values[i] != 1 && values[i] != -1)
            throw Error(errc::invalid_argument,
                        fmt::format("sign entry {} is {}; only -1 and +1 are signs", i, int(values[i])));
        v.set(i, values[i] < 0);
    }
    return v;
}

std::size_t SignVector::count_negative() const noexcept
{
    std::size_t n = 0;
    for (std::uint64_t w : words_) n += static_cast<std::size_t>(std::popcount(w));
    return n;
}

std::vector<float> SignVector::to_floats() const
{
    std::vector<float> out(size_);
    to_floats(out);
    return out;
}

void SignVector::to_floats(std::span<float> out) const
{
    if (out.size() != size_)
        throw Error(errc::invalid_argument,
                    fmt::format("to_floats: output has {} entries, the vector {}", out.size(), size_));
    for (std::size_t i = 0; i < size_; ++i) out[i] = negative(i) ? -1.0f : 1.0f;
}

std::vector<std::int8_t> SignVector::to_int8() const
{
    std::vector<std::int8_t> out(size_);
    for (std::size_t i = 0; i < size_; ++i) out[i] = negative(i) ? std::int8_t{-1} : std::int8_t{1};
    return out;
}

bool SignVector::padding_is_zero() const noexcept { return tail_clear(words_.data(), size_); }

SignMatrix::SignMatrix(std::size_t rows, std::size_t cols, std::vector<std::uint64_t> words)
    : rows_(rows), cols_(cols), words_(std::move(words))
{
    if (words_.size() != words_for(rows_) * cols_)
        throw Error(errc::bad_input, fmt::format("a {}x{} sign matrix needs {} words, got {}", rows_, cols_,
                                                 words_for(rows_) * cols_, words_.size()));
    if (!padding_is_zero())
        throw Error(errc::bad_input, fmt::format("a {}x{} sign matrix has padding bits set", rows_, cols_));
}

SignVector SignMatrix::column(std::size_t j) const
{
    const std::uint64_t* p = column_data(j);
    return SignVector(rows_, std::vector<std::uint64_t>(p, p + column_stride()));
}

void SignMatrix::set_column(std::size_t j, const SignVector& v)
{
    if (v.size() != rows_)
        throw Error(errc::invalid_argument,
                    fmt::format("set_column: vector has {} signs, the matrix {} rows", v.size(), rows_));
    std::copy(v.words().begin(), v.words().end(), words_.begin() + static_cast<std::ptrdiff_t>(j * column_stride()));
}

void SignMatrix::push_back(const SignVector& v)
{
    if (v.size() != rows_)
        throw Error(errc::invalid_argument,
                    fmt::format("push_back: vector has {} signs, the matrix {} rows", v.size(), rows_));
    words_.insert(words_.end(), v.words().begin(), v.words().end());
    ++cols_;
}

void SignMatrix::truncate(std::size_t cols)
{
    if (cols >= cols_) return;
    cols_ = cols;
    words_.resize(cols * column_stride());
}

bool SignMatrix::padding_is_zero() const noexcept
{
    for (std::size_t j = 0; j < cols_; ++j)
        if (!tail_clear(column_data(j), rows_)) return false;
    return true;
}

SignVector kron(const SignVector& a, const SignVector& b)
{
    SignVector out(a.size() * b.size());
    kernels::active().kron(a.data(), a.size(), b.data(), b.size(), out.data());
    return out;
}

std::size_t hamming(const SignVector& a, const SignVector& b)
{
    if (a.size() != b.size())
        throw Error(errc::invalid_argument, fmt::format("sign vectors of lengths {} and {} differ", a.size(), b.size()));
    std::size_t n = 0;
    for (std::size_t w = 0; w < a.word_count(); ++w) n += static_cast<std::size_t>(std::popcount(a.data()[w] ^ b.data()[w]));
    return n;
}

std::int64_t dot(const SignVector& a, const SignVector& b)
{
    return static_cast<std::int64_t>(a.size()) - 2 * static_cast<std::int64_t>(hamming(a, b));
}

}  // namespace signcut
