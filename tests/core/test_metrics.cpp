// Error metrics, including the defined values at the edges.
#include <boost/test/unit_test.hpp>

#include <cmath>
#include <limits>
#include <vector>

#include "signcut/error.hpp"
#include "signcut/metrics.hpp"

using namespace signcut;

BOOST_AUTO_TEST_CASE(metrics_known_values)
{
    const std::vector<float> x{0, 1, 2, 3}, y{0, 1, 2, 5};
    const auto m = compare(x, y);
    BOOST_TEST(m.error_norm == 2.0);
    BOOST_TEST(m.original_norm == std::sqrt(14.0));
    BOOST_TEST(m.rel_fro_error == 2.0 / std::sqrt(14.0));
    BOOST_TEST(m.rmse == 1.0);
    BOOST_TEST(m.max_abs_error == 2.0);
    BOOST_TEST(m.range == 3.0);
    BOOST_TEST(m.psnr_db == 20 * std::log10(3.0), boost::test_tools::tolerance(1e-12));
}

BOOST_AUTO_TEST_CASE(metrics_edges_are_defined)
{
    const std::vector<float> zero{0, 0, 0}, one{0, 1, 0};
    auto exact = compare(zero, zero);
    BOOST_TEST(exact.rel_fro_error == 0.0);
    BOOST_TEST(std::isinf(exact.psnr_db));
    BOOST_TEST(exact.psnr_db > 0);
    auto off = compare(zero, one);
    BOOST_TEST(std::isinf(off.rel_fro_error));
    BOOST_TEST(std::isinf(off.psnr_db));
    BOOST_TEST(off.psnr_db < 0);  // a constant original has range 0
    BOOST_TEST(!std::isnan(off.rmse));
    BOOST_CHECK_THROW(compare(zero, std::vector<float>{0, 0}), Error);
    BOOST_CHECK_THROW(compare(std::vector<float>{}, std::vector<float>{}), Error);
}

BOOST_AUTO_TEST_CASE(accumulator_matches_one_shot)
{
    std::vector<float> x(1000), y(1000);
    for (int i = 0; i < 1000; ++i) x[i] = std::sin(0.1f * i) * 10, y[i] = x[i] + 0.01f * float(i % 7 - 3);
    const auto whole = compare(x, y);
    ErrorAccumulator acc;
    acc.add(std::span(x).first(333), std::span(y).first(333));
    acc.add(std::span(x).subspan(333), std::span(y).subspan(333));
    const auto parts = acc.result();
    BOOST_TEST(parts.rel_fro_error == whole.rel_fro_error, boost::test_tools::tolerance(1e-12));
    BOOST_TEST(parts.max_abs_error == whole.max_abs_error);
    BOOST_TEST(parts.range == whole.range);
}
