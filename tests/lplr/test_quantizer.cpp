// The symmetric quantizer: half-step accuracy, zero as a level, the packed
// layout against a bit-by-bit packer, and what the reader's constructor
// refuses.
#include <boost/test/unit_test.hpp>

#include <cmath>
#include <functional>
#include <vector>

#include "signcut/error.hpp"
#include "signcut/quantizer.hpp"
#include "test_support.hpp"

using namespace signcut;

namespace {

/// Normal values with some exact zeros and a few large outliers.
std::vector<double> test_values(std::size_t n, std::uint64_t seed)
{
    SplitMix64 g(seed);
    std::vector<double> v(n);
    for (std::size_t i = 0; i < n; ++i) {
        v[i] = g.normal();
        if (i % 7 == 3) v[i] = 0.0;
        if (i % 53 == 11) v[i] *= 40.0;
    }
    return v;
}

/// The words an independent packer produces: one bit at a time, code t of
/// a group at bits t·B .. t·B + B - 1, stored as code + 2^(B-1).
std::vector<std::uint64_t> packed_bit_by_bit(const QuantizedMatrix& q)
{
    const unsigned b = q.bits();
    const std::size_t stride = (q.group_length() * b + 63) / 64;
    std::vector<std::uint64_t> words(q.groups() * stride, 0);
    for (std::size_t g = 0; g < q.groups(); ++g)
        for (std::size_t t = 0; t < q.group_length(); ++t) {
            const std::size_t i = q.axis() == ScaleAxis::column ? t : g;
            const std::size_t j = q.axis() == ScaleAxis::column ? g : t;
            const std::uint64_t stored = static_cast<std::uint64_t>(q.code(i, j) + (1 << (b - 1)));
            for (unsigned k = 0; k < b; ++k) {
                const std::uint64_t bit = t * b + k;
                if ((stored >> k) & 1u) words[g * stride + bit / 64] |= std::uint64_t{1} << (bit % 64);
            }
        }
    return words;
}

void expect_error(const std::function<void()>& f, errc code)
{
    try {
        f();
        BOOST_ERROR("no error was thrown");
    } catch (const Error& e) {
        BOOST_TEST(static_cast<int>(e.code()) == static_cast<int>(code), e.what());
    }
}

}  // namespace

BOOST_AUTO_TEST_SUITE(quantizer)

BOOST_AUTO_TEST_CASE(round_trip_is_within_half_a_step)
{
    const std::size_t rows = 37, cols = 23;
    const std::vector<double> x = test_values(rows * cols, 1);
    for (const unsigned bits : {2u, 3u, 4u, 5u, 7u, 8u, 11u, 16u})
        for (const ScaleAxis axis : {ScaleAxis::column, ScaleAxis::row}) {
            BOOST_TEST_CONTEXT("bits " << bits << (axis == ScaleAxis::column ? " per column" : " per row"))
            {
                const QuantizedMatrix q = quantize(x.data(), rows, cols, bits, axis);
                const int q_max = (1 << (bits - 1)) - 1;
                BOOST_TEST(q.scales().size() == (axis == ScaleAxis::column ? cols : rows));
                for (std::size_t g = 0; g < q.groups(); ++g) {
                    // The scale is the group's abs-max over q_max, as float32.
                    double peak = 0;
                    for (std::size_t t = 0; t < q.group_length(); ++t)
                        peak = std::max(peak, std::fabs(axis == ScaleAxis::column ? x[t * cols + g] : x[g * cols + t]));
                    BOOST_TEST(q.scales()[g] == static_cast<float>(peak / q_max));
                }
                for (std::size_t i = 0; i < rows; ++i)
                    for (std::size_t j = 0; j < cols; ++j) {
                        const float scale = q.scales()[axis == ScaleAxis::column ? j : i];
                        const int code = q.code(i, j);
                        BOOST_TEST_REQUIRE(std::abs(code) <= q_max);
                        const double back = static_cast<double>(code) * scale;
                        BOOST_TEST_REQUIRE(std::fabs(x[i * cols + j] - back) <= 0.5 * scale * (1 + 1e-9));
                        BOOST_TEST_REQUIRE(q.value(i, j) == static_cast<float>(code) * scale);
                        if (x[i * cols + j] == 0.0) BOOST_TEST_REQUIRE(code == 0);
                    }
                const std::vector<float> dense = q.dequantize();
                for (std::size_t i = 0; i < rows; ++i)
                    for (std::size_t j = 0; j < cols; ++j) BOOST_TEST_REQUIRE(dense[i * cols + j] == q.value(i, j));
            }
        }
}

BOOST_AUTO_TEST_CASE(known_codes_and_words)
{
    // One column (3, -1.5, 0.75, 0) at 3 bits: scale 1, codes 3, -2 (half
    // away from zero), 1, 0; stored 7, 2, 5, 4 at bits 0, 3, 6, 9.
    const float x[] = {3.0f, -1.5f, 0.75f, 0.0f};
    const QuantizedMatrix q = quantize(x, 4, 1, 3, ScaleAxis::column);
    BOOST_TEST(q.scales()[0] == 1.0f);
    BOOST_TEST(q.code(0, 0) == 3);
    BOOST_TEST(q.code(1, 0) == -2);
    BOOST_TEST(q.code(2, 0) == 1);
    BOOST_TEST(q.code(3, 0) == 0);
    BOOST_TEST_REQUIRE(q.words().size() == 1u);
    BOOST_TEST(q.words()[0] == (7u | 2u << 3 | 5u << 6 | 4u << 9));
    BOOST_TEST(q.stored_bits() == 4u * 3u + 32u);
}

BOOST_AUTO_TEST_CASE(packing_matches_a_bit_by_bit_packer)
{
    // Lengths and widths chosen so that codes straddle word boundaries.
    for (const unsigned bits : {2u, 3u, 5u, 7u, 13u, 16u})
        for (const std::size_t length : {1u, 21u, 64u, 65u, 130u}) {
            const std::vector<double> x = test_values(length * 3, bits * 1000 + length);
            const QuantizedMatrix rows = quantize(x.data(), 3, length, bits, ScaleAxis::row);
            const QuantizedMatrix cols = quantize(x.data(), length, 3, bits, ScaleAxis::column);
            BOOST_TEST(rows.words() == packed_bit_by_bit(rows), "bits " << bits << " length " << length);
            BOOST_TEST(cols.words() == packed_bit_by_bit(cols), "bits " << bits << " length " << length);
            BOOST_TEST(rows.words_per_group() == (length * bits + 63) / 64);
            BOOST_TEST(rows.stored_bits() == 3u * length * bits + 32u * 3u);
            BOOST_TEST(cols.stored_bits() == 3u * length * bits + 32u * 3u);
        }
}

BOOST_AUTO_TEST_CASE(zero_groups_have_zero_scale)
{
    const std::vector<float> x(12, 0.0f);
    const QuantizedMatrix q = quantize(x.data(), 3, 4, 4, ScaleAxis::row);
    for (const float s : q.scales()) BOOST_TEST(s == 0.0f);
    for (const float v : q.dequantize()) BOOST_TEST(v == 0.0f);
}

BOOST_AUTO_TEST_CASE(reader_constructor_accepts_written_parts_and_refuses_damage)
{
    const std::vector<double> x = test_values(5 * 9, 3);
    const QuantizedMatrix q = quantize(x.data(), 5, 9, 5, ScaleAxis::row);
    const QuantizedMatrix same(5, 9, 5, ScaleAxis::row, q.scales(), q.words());
    BOOST_TEST((same == q));

    std::vector<std::uint64_t> words = q.words();
    words[0] &= ~std::uint64_t{0x1f};  // code 0 of row 0 becomes the unused pattern 00000
    expect_error([&] { QuantizedMatrix(5, 9, 5, ScaleAxis::row, q.scales(), words); }, errc::bad_input);
    words = q.words();
    words[0] |= std::uint64_t{1} << 45;  // 9 codes of 5 bits use bits 0..44
    expect_error([&] { QuantizedMatrix(5, 9, 5, ScaleAxis::row, q.scales(), words); }, errc::bad_input);
    std::vector<float> scales = q.scales();
    scales[2] = -1.0f;
    expect_error([&] { QuantizedMatrix(5, 9, 5, ScaleAxis::row, scales, q.words()); }, errc::bad_input);
    scales[2] = NAN;
    expect_error([&] { QuantizedMatrix(5, 9, 5, ScaleAxis::row, scales, q.words()); }, errc::bad_input);
    expect_error([&] { QuantizedMatrix(5, 9, 5, ScaleAxis::column, q.scales(), q.words()); }, errc::bad_input);
    expect_error([&] { QuantizedMatrix(5, 9, 17, ScaleAxis::row, q.scales(), q.words()); }, errc::bad_input);
}

BOOST_AUTO_TEST_CASE(refuses_bad_arguments)
{
    const float x[] = {1.0f, 2.0f, NAN, 4.0f};
    expect_error([&] { quantize(x, 2, 2, 1, ScaleAxis::row); }, errc::invalid_argument);
    expect_error([&] { quantize(x, 2, 2, 17, ScaleAxis::row); }, errc::invalid_argument);
    expect_error([&] { quantize(x, 2, 2, 8, ScaleAxis::row); }, errc::bad_input);
}

BOOST_AUTO_TEST_SUITE_END()
