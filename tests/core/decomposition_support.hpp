// What the suites that decompose blocked tensors share: test data whose
// blocks differ in how much they need, and a bit-for-bit comparison of two
// decompositions.
#pragma once

#include <boost/test/unit_test.hpp>

#include <cmath>
#include <cstddef>
#include <functional>
#include <numeric>
#include <vector>

#include "dense_reference.hpp"
#include "signcut/decomposition.hpp"
#include "signcut/random.hpp"
#include "signcut/tensor.hpp"

namespace signcut::testing {

inline std::size_t count(const Shape& s)
{
    return std::accumulate(s.begin(), s.end(), std::size_t{1}, std::multiplies<>());
}

/// A smooth field with texture: Σ_a sin(frequency · i_a · (a + mode_step))
/// plus uniform noise of amplitude noise(i_0), so that rows of blocks differ
/// in how much they need.
template <class Noise>
std::vector<float> textured_field(SplitMix64& g, const Shape& shape, double frequency, std::size_t mode_step,
                                  Noise&& noise)
{
    std::vector<float> v(count(shape));
    Odometer it(shape);
    std::size_t flat = 0;
    do {
        double s = 0;
        for (std::size_t a = 0; a < shape.size(); ++a) s += std::sin(frequency * double(it.idx[a] * (a + mode_step)));
        v[flat++] = static_cast<float>(s + noise(it.idx[0]) * (g.uniform() - 0.5));
    } while (it.next());
    return v;
}

/// The same blocks, widths, scales and signs.
inline void expect_same(const SignedCutDecomposition& a, const SignedCutDecomposition& b)
{
    BOOST_TEST_REQUIRE(a.block_count() == b.block_count());
    BOOST_TEST(a.block_shape() == b.block_shape(), boost::test_tools::per_element());
    for (std::size_t k = 0; k < a.block_count(); ++k) {
        BOOST_TEST_CONTEXT("block " << k)
        {
            BOOST_TEST_REQUIRE(a.block(k).width() == b.block(k).width());
            BOOST_TEST(a.block(k).scales() == b.block(k).scales(), boost::test_tools::per_element());
            for (std::size_t m = 0; m < a.order(); ++m) BOOST_TEST((a.block(k).signs(m) == b.block(k).signs(m)));
        }
    }
}

}  // namespace signcut::testing
