// SignedCutTerms: evaluation against dense sums of its terms.
#include <boost/test/unit_test.hpp>

#include <cmath>

#include "dense_reference.hpp"
#include "signcut/decomposition.hpp"
#include "signcut/error.hpp"
#include "signcut/metrics.hpp"
#include "test_support.hpp"

using namespace signcut;
using namespace signcut::testing;

namespace {

SignedCutTerms random_decomposition(SplitMix64& g, const Shape& shape, std::size_t width)
{
    SignedCutTerms d(shape);
    for (std::size_t j = 0; j < width; ++j) {
        std::vector<SignVector> f;
        for (std::size_t n : shape) f.push_back(random_signs(g, n));
        d.append(static_cast<float>(g.normal()), f);
    }
    return d;
}

std::vector<double> dense_of(const SignedCutTerms& d)
{
    std::vector<double> out(d.size(), 0.0);
    for (std::size_t j = 0; j < d.width(); ++j) {
        std::vector<std::vector<int>> s;
        for (std::size_t a = 0; a < d.order(); ++a) s.push_back(to_ints(d.signs(a).column(j)));
        add_term(out, d.shape(), d.scales()[j], s);
    }
    return out;
}

double abs_scale_sum(const SignedCutTerms& d)
{
    double s = 0;
    for (float c : d.scales()) s += std::abs(c);
    return s;
}

}  // namespace

BOOST_AUTO_TEST_CASE(reconstruct_element_and_slice_agree_with_dense_sum)
{
    SplitMix64 g(21);
    const std::vector<Shape> shapes = {{1}, {65}, {3, 130}, {64, 1}, {5, 3, 7}, {2, 3, 1, 4}, {2, 2, 2, 2, 2, 2, 2, 3}};
    for (const Shape& shape : shapes) {
        BOOST_TEST_CONTEXT("shape " << format_shape(shape))
        {
            const auto d = random_decomposition(g, shape, 37);
            const auto dense = dense_of(d);
            const double tol = sum_tolerance(d.width(), abs_scale_sum(d));
            const Tensor r = d.reconstruct(2);
            BOOST_REQUIRE_EQUAL(r.size(), dense.size());
            for (std::size_t i = 0; i < dense.size(); ++i) BOOST_TEST(std::abs(r.data()[i] - dense[i]) <= tol);
            // Every element by index.
            Odometer it(shape);
            std::size_t flat = 0;
            do {
                BOOST_TEST(std::abs(d.element(it.idx) - dense[flat]) <= 1e-5 * abs_scale_sum(d));
                ++flat;
            } while (it.next());
            // Slices: fix mode 0 to its last index and keep the rest, and fix
            // every other mode.
            std::vector<std::ptrdiff_t> fixed(shape.size(), -1);
            fixed[0] = static_cast<std::ptrdiff_t>(shape[0] - 1);
            const Tensor s0 = d.slice(fixed);
            const std::size_t inner = dense.size() / shape[0];
            BOOST_REQUIRE_EQUAL(s0.size(), inner);
            for (std::size_t i = 0; i < inner; ++i)
                BOOST_TEST(std::abs(s0.data()[i] - dense[(shape[0] - 1) * inner + i]) <= tol);
            std::vector<std::ptrdiff_t> all(shape.size());
            for (std::size_t a = 0; a < shape.size(); ++a) all[a] = static_cast<std::ptrdiff_t>(shape[a] / 2);
            const Tensor point = d.slice(all);
            std::vector<std::size_t> idx(all.begin(), all.end());
            BOOST_TEST(point.dimension() == 0u);
            BOOST_TEST(std::abs(point() - d.element(idx)) <= tol + 1e-6);
        }
    }
}

BOOST_AUTO_TEST_CASE(error_against_equals_compare_with_the_full_reconstruction)
{
    // Shapes rebuilt in one block and in several (a 4 MiB block holds 64
    // rows of 16411 floats), with short last row groups, orders 1 to 4.
    SplitMix64 g(31);
    const std::vector<Shape> shapes = {{1}, {77}, {3, 130}, {150, 16411}, {130, 16411}, {129, 9, 1900}, {2, 3, 1, 4}, {70, 1, 1}};
    for (const Shape& shape : shapes) {
        BOOST_TEST_CONTEXT("shape " << format_shape(shape))
        {
            const auto d = random_decomposition(g, shape, 9);
            std::vector<float> x(d.size());
            for (float& v : x) v = static_cast<float>(g.normal());
            for (unsigned threads : {1u, 2u}) {
                const Tensor r = d.reconstruct(threads);
                const ErrorMetrics want = compare(x, std::span<const float>(r.data(), r.size()));
                const ErrorMetrics got = d.error_against(x, threads);
                // The blocks rebuild the same floats and the sums run over
                // them in the same order: every figure has the same bits.
                BOOST_TEST(got.max_abs_error == want.max_abs_error);
                BOOST_TEST(got.range == want.range);
                BOOST_TEST(got.error_norm == want.error_norm);
                BOOST_TEST(got.rel_fro_error == want.rel_fro_error);
            }
            BOOST_CHECK_THROW(d.error_against(std::span<const float>(x.data(), x.size() - 1)), Error);
        }
    }
}

BOOST_AUTO_TEST_CASE(slice_keeps_middle_mode)
{
    SplitMix64 g(22);
    const Shape shape{4, 9, 3};
    const auto d = random_decomposition(g, shape, 12);
    const auto dense = dense_of(d);
    const Tensor s = d.slice(std::vector<std::ptrdiff_t>{2, -1, 1});
    BOOST_REQUIRE_EQUAL(s.size(), 9u);
    for (std::size_t j = 0; j < 9; ++j)
        BOOST_TEST(std::abs(s.data()[j] - dense[(2 * 9 + j) * 3 + 1]) <= sum_tolerance(12, abs_scale_sum(d)));
    BOOST_CHECK_THROW(d.slice(std::vector<std::ptrdiff_t>{4, -1, 0}), Error);
    BOOST_CHECK_THROW(d.slice(std::vector<std::ptrdiff_t>{-2, -1, 0}), Error);
    BOOST_CHECK_THROW(d.element(std::vector<std::size_t>{0, 9, 0}), Error);
}

BOOST_AUTO_TEST_CASE(matrix_products_through_the_kernels)
{
    SplitMix64 g(23);
    for (auto [m, n, w] : {std::tuple{1, 1, 1}, {7, 65, 30}, {130, 64, 129}, {200, 3, 5}}) {
        const auto d = random_decomposition(g, Shape{std::size_t(m), std::size_t(n)}, std::size_t(w));
        const auto dense = dense_of(d);
        const auto x = random_normal(g, n), xt = random_normal(g, m);
        std::vector<float> y(m), yt(n);
        d.apply(x, y);
        d.apply_transpose(xt, yt);
        for (int i = 0; i < m; ++i) {
            double ref = 0, abs = 0;
            for (int j = 0; j < n; ++j) ref += dense[i * n + j] * x[j], abs += std::abs(dense[i * n + j] * x[j]);
            BOOST_TEST(std::abs(y[i] - ref) <= 1e-5 * (abs + abs_scale_sum(d)) + 1e-6, "row " << i);
        }
        for (int j = 0; j < n; ++j) {
            double ref = 0, abs = 0;
            for (int i = 0; i < m; ++i) ref += dense[i * n + j] * xt[i], abs += std::abs(dense[i * n + j] * xt[i]);
            BOOST_TEST(std::abs(yt[j] - ref) <= 1e-5 * (abs + abs_scale_sum(d)) + 1e-6, "column " << j);
        }
    }
    const auto cube = random_decomposition(g, Shape{2, 2, 2}, 1);
    std::vector<float> x(2), y(2);
    BOOST_CHECK_THROW(cube.apply(x, y), Error);
}

BOOST_AUTO_TEST_CASE(prefix_truncate_and_bits)
{
    SplitMix64 g(24);
    const Shape shape{10, 20, 3};
    auto d = random_decomposition(g, shape, 8);
    BOOST_TEST(d.bits_per_value() == (10.0 + 20 + 3 + 32) * 8 / 600.0);
    const auto p = d.prefix(3);
    BOOST_TEST(p.width() == 3u);
    for (std::size_t a = 0; a < 3; ++a) {
        BOOST_TEST(p.signs(a).cols() == 3u);
        BOOST_TEST(p.signs(a).padding_is_zero());
        for (std::size_t j = 0; j < 3; ++j) BOOST_TEST((p.signs(a).column(j) == d.signs(a).column(j)));
    }
    d.truncate(3);
    BOOST_TEST(d.scales() == p.scales(), boost::test_tools::per_element());
    d.truncate(0);
    BOOST_TEST(d.width() == 0u);
    const Tensor zero = d.reconstruct();
    for (float v : zero) BOOST_TEST(v == 0.0f);
}

BOOST_AUTO_TEST_CASE(constructor_rejects_inconsistent_parts)
{
    BOOST_CHECK_THROW(SignedCutTerms(Shape{}), Error);
    BOOST_CHECK_THROW(SignedCutTerms(Shape{3, 0}), Error);
    std::vector<SignMatrix> signs{SignMatrix(4, 2), SignMatrix(5, 1)};
    BOOST_CHECK_THROW(SignedCutTerms(Shape{4, 5}, std::vector<float>{1, 2}, signs), Error);
    SignedCutTerms d(Shape{4, 5});
    std::vector<SignVector> wrong{SignVector(4), SignVector(6)};
    BOOST_CHECK_THROW(d.append(1.0f, wrong), Error);
}
