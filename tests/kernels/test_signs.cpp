// SignVector / SignMatrix helpers against naive per-entry definitions.
#include "test_support.hpp"

#include <cmath>
#include <cstdint>
#include <limits>
#include <vector>

#include "signcut/error.hpp"

namespace {

using namespace signcut;
using signcut::testing::random_signs;

std::vector<int> naive(const SignVector& v)
{
    std::vector<int> out(v.size());
    for (std::size_t i = 0; i < v.size(); ++i) out[i] = (v.data()[i / 64] >> (i % 64)) & 1u ? -1 : 1;
    return out;
}

template <class F>
bool throws_with(F&& f, errc code)
{
    try {
        f();
    } catch (const Error& e) {
        return e.code() == code;
    }
    return false;
}

}  // namespace

BOOST_AUTO_TEST_SUITE(signs)

BOOST_AUTO_TEST_CASE(from_values_takes_only_negative_numbers_as_minus_one)
{
    const float nan = std::numeric_limits<float>::quiet_NaN(), inf = std::numeric_limits<float>::infinity();
    const std::vector<float> f{-0.0f, 0.0f, -1e-40f, 1e-40f, -2.5f, 3.0f, nan, -nan, -inf, inf};
    const std::vector<int> want{1, 1, -1, 1, -1, 1, 1, 1, -1, 1};
    const SignVector v = SignVector::from_values(f);
    BOOST_TEST(v.size() == f.size());
    BOOST_TEST(naive(v) == want, boost::test_tools::per_element());
    BOOST_TEST(v.padding_is_zero());

    const std::vector<double> d{-0.0, 0.0, -1e-300, 1e-300, -2.5, 3.0, double(nan), -double(nan), -double(inf),
                                double(inf)};
    BOOST_TEST(naive(SignVector::from_values(d)) == want, boost::test_tools::per_element());
    BOOST_TEST(SignVector::from_values(std::vector<float>{}).size() == 0u);
}

BOOST_AUTO_TEST_CASE(from_int8_accepts_only_plus_and_minus_one)
{
    const std::vector<std::int8_t> ok{1, -1, -1, 1, 1};
    BOOST_TEST(naive(SignVector::from_int8(ok)) == std::vector<int>(ok.begin(), ok.end()), boost::test_tools::per_element());
    for (std::int8_t bad : {std::int8_t{0}, std::int8_t{2}, std::int8_t{-2}, std::int8_t{127}, std::int8_t{-128}}) {
        const std::vector<std::int8_t> v{1, -1, bad, 1};
        BOOST_TEST(throws_with([&] { (void)SignVector::from_int8(v); }, errc::invalid_argument), "value " << int(bad));
    }
}

BOOST_AUTO_TEST_CASE(round_trips_through_floats_and_int8)
{
    SplitMix64 g(11);
    for (std::size_t d : {0u, 1u, 63u, 64u, 65u, 200u, 1000u}) {
        const SignVector v = random_signs(g, d);
        const std::vector<float> f = v.to_floats();
        const std::vector<std::int8_t> b = v.to_int8();
        BOOST_REQUIRE(f.size() == d);
        BOOST_REQUIRE(b.size() == d);
        for (std::size_t i = 0; i < d; ++i) {
            BOOST_TEST(f[i] == float(v[i]));
            BOOST_TEST(int(b[i]) == v[i]);
        }
        BOOST_TEST((SignVector::from_values(f) == v));
        BOOST_TEST((SignVector::from_int8(b) == v));
        std::vector<float> wrong(d + 1);
        BOOST_TEST(throws_with([&] { v.to_floats(wrong); }, errc::invalid_argument));
    }
}

BOOST_AUTO_TEST_CASE(adopting_words_checks_count_and_padding)
{
    BOOST_TEST(SignVector(70, std::vector<std::uint64_t>{~0ull, 0x3full}).count_negative() == 70u);
    BOOST_TEST(throws_with([] { (void)SignVector(70, std::vector<std::uint64_t>{0, 0x40}); }, errc::bad_input));
    BOOST_TEST(throws_with([] { (void)SignVector(70, std::vector<std::uint64_t>{0}); }, errc::bad_input));
    BOOST_TEST(throws_with([] { (void)SignVector(64, std::vector<std::uint64_t>{0, 0}); }, errc::bad_input));
    BOOST_TEST(SignVector(0, std::vector<std::uint64_t>{}).size() == 0u);

    BOOST_TEST(throws_with([] { (void)SignMatrix(3, 2, std::vector<std::uint64_t>{0x7, 0x8}); }, errc::bad_input));
    BOOST_TEST(throws_with([] { (void)SignMatrix(3, 2, std::vector<std::uint64_t>{0x7}); }, errc::bad_input));
    BOOST_TEST(SignMatrix(3, 2, std::vector<std::uint64_t>{0x7, 0x5}).padding_is_zero());
}

BOOST_AUTO_TEST_CASE(set_and_count)
{
    SignVector v(130);
    BOOST_TEST(v.count_negative() == 0u);
    v.set(0, true);
    v.set(64, true);
    v.set(129, true);
    v.set(64, false);
    v.set(129, true);
    BOOST_TEST(v.count_negative() == 2u);
    BOOST_TEST(v[0] == -1);
    BOOST_TEST(v[64] == 1);
    BOOST_TEST(v[129] == -1);
    BOOST_TEST(v.padding_is_zero());
}

BOOST_AUTO_TEST_CASE(reset_gives_all_plus_one_at_any_size)
{
    // Growing, shrinking past a word boundary and growing again: every size
    // reads all +1 with clean padding, whatever the storage held before.
    SplitMix64 g(7);
    SignVector v = random_signs(g, 200);
    for (std::size_t n : {std::size_t{65}, std::size_t{3}, std::size_t{0}, std::size_t{129}, std::size_t{64}}) {
        v.reset(n);
        BOOST_TEST(v.size() == n);
        BOOST_TEST(v.word_count() == (n + 63) / 64);
        BOOST_TEST(v.count_negative() == 0u);
        BOOST_TEST(v.padding_is_zero());
        BOOST_TEST((v == SignVector(n)));
        if (n > 0) v.set(n - 1, true);
    }
}

BOOST_AUTO_TEST_CASE(kron_matches_the_definition)
{
    SplitMix64 g(12);
    for (std::size_t na : {0u, 1u, 2u, 5u, 63u, 64u, 65u, 130u})
        for (std::size_t nb : {0u, 1u, 3u, 31u, 64u, 100u, 129u, 600u}) {
            const SignVector a = random_signs(g, na), b = random_signs(g, nb);
            const SignVector k = kron(a, b);
            BOOST_REQUIRE(k.size() == na * nb);
            BOOST_TEST(k.padding_is_zero());
            bool ok = true;
            for (std::size_t i = 0; i < na; ++i)
                for (std::size_t j = 0; j < nb; ++j) ok = ok && k[i * nb + j] == a[i] * b[j];
            BOOST_TEST(ok, "kron " << na << " x " << nb);
        }
}

BOOST_AUTO_TEST_CASE(dot_and_hamming_match_the_definition)
{
    SplitMix64 g(13);
    for (std::size_t d : {0u, 1u, 7u, 64u, 65u, 1000u}) {
        const SignVector a = random_signs(g, d), b = random_signs(g, d);
        std::int64_t want = 0;
        std::size_t diff = 0;
        for (std::size_t i = 0; i < d; ++i) {
            want += a[i] * b[i];
            diff += a[i] != b[i];
        }
        BOOST_TEST(dot(a, b) == want);
        BOOST_TEST(hamming(a, b) == diff);
        BOOST_TEST(dot(a, a) == std::int64_t(d));
    }
    BOOST_TEST(throws_with([] { (void)dot(SignVector(3), SignVector(4)); }, errc::invalid_argument));
    BOOST_TEST(throws_with([] { (void)hamming(SignVector(3), SignVector(4)); }, errc::invalid_argument));
}

BOOST_AUTO_TEST_CASE(sign_matrix_columns)
{
    SplitMix64 g(14);
    const std::size_t rows = 70;
    SignMatrix m(rows, 3);
    BOOST_TEST(m.column_stride() == 2u);
    std::vector<SignVector> cols;
    for (std::size_t j = 0; j < 3; ++j) {
        cols.push_back(random_signs(g, rows));
        m.set_column(j, cols.back());
    }
    cols.push_back(random_signs(g, rows));
    m.push_back(cols.back());
    BOOST_TEST(m.cols() == 4u);
    for (std::size_t j = 0; j < 4; ++j) {
        BOOST_TEST((m.column(j) == cols[j]));
        bool ok = true;
        for (std::size_t i = 0; i < rows; ++i) ok = ok && m(i, j) == cols[j][i] && m.negative(i, j) == cols[j].negative(i);
        BOOST_TEST(ok, "column " << j);
    }
    BOOST_TEST(m.padding_is_zero());
    BOOST_TEST(throws_with([&] { m.set_column(0, SignVector(rows + 1)); }, errc::invalid_argument));
    BOOST_TEST(throws_with([&] { m.push_back(SignVector(rows - 1)); }, errc::invalid_argument));
    m.truncate(2);
    BOOST_TEST(m.cols() == 2u);
    BOOST_TEST(m.words().size() == 4u);
    BOOST_TEST((m.column(1) == cols[1]));
    m.truncate(5);  // never grows
    BOOST_TEST(m.cols() == 2u);
}

BOOST_AUTO_TEST_SUITE_END()
