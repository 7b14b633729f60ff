// Data near the float32 limit: the greedy's power-of-two scaling of a block,
// float64 reconstructions, and errors that overflow float32.
#include <boost/test/unit_test.hpp>

#include <cmath>
#include <limits>
#include <string>

#include "signcut/any_decomposition.hpp"
#include "signcut/decompose.hpp"
#include "signcut/error.hpp"
#include "signcut/lplr.hpp"
#include "signcut/metrics.hpp"
#include "signcut/random.hpp"
#include "test_support.hpp"

using namespace signcut;
using namespace signcut::testing;

namespace {

constexpr float flt_max = std::numeric_limits<float>::max();

/// A smooth field plus noise (so the auto rule and blocks have structure),
/// scaled so that its largest magnitude is `top`.
std::vector<float> field(SplitMix64& g, const Shape& shape, double top)
{
    const std::size_t n = element_count(shape);
    std::vector<double> v(n);
    double m = 0;
    for (std::size_t i = 0; i < n; ++i) {
        const double a = double(i / shape.back()), b = double(i % shape.back());
        v[i] = std::sin(a / 7.0) * std::cos(b / 5.0) + 0.2 * g.normal();
        m = std::max(m, std::abs(v[i]));
    }
    std::vector<float> x(n);
    for (std::size_t i = 0; i < n; ++i) x[i] = static_cast<float>(v[i] / m * top);
    return x;
}

void check_same_signs(const SignedCutDecomposition& a, const SignedCutDecomposition& b)
{
    BOOST_REQUIRE_EQUAL(a.block_count(), b.block_count());
    for (std::size_t k = 0; k < a.block_count(); ++k) {
        BOOST_REQUIRE_EQUAL(a.block(k).width(), b.block(k).width());
        for (std::size_t m = 0; m < a.order(); ++m)
            BOOST_CHECK(a.block(k).signs(m) == b.block(k).signs(m));
    }
}

/// The error of `d` against `x`, from an independent double reconstruction.
double rel_error_double(const std::vector<float>& x, const SignedCutDecomposition& d)
{
    const std::vector<double> y = d.reconstruct_float64();
    double e2 = 0, x2 = 0;
    for (std::size_t i = 0; i < x.size(); ++i) {
        const double e = double(x[i]) - y[i];
        e2 += e * e;
        x2 += double(x[i]) * double(x[i]);
    }
    return std::sqrt(e2 / x2);
}

/// A one-block decomposition whose float32 sums overflow: two terms of
/// 3e38 with the same signs on the first half of the rows.
SignedCutDecomposition overflowing_terms(std::size_t rows, std::size_t cols)
{
    SignVector s(rows), t(cols), u(rows);
    for (std::size_t i = rows / 2; i < rows; ++i) s.set(i, true);  // -1 on the second half
    for (std::size_t i = 0; i < rows; i += 2) u.set(i, true);
    SignedCutTerms terms(Shape{rows, cols});
    const SignVector first[] = {s, t}, second[] = {s, t}, third[] = {u, t};
    terms.append(3e38f, first);
    terms.append(3e38f, second);
    terms.append(-1e38f, third);
    return SignedCutDecomposition(std::move(terms));
}

}  // namespace

BOOST_AUTO_TEST_SUITE(overflow)

BOOST_AUTO_TEST_CASE(a_block_scaled_by_a_power_of_two_gives_the_same_signs_and_exactly_scaled_scales)
{
    // The greedy on X·2^100 runs on a scaled copy and scales its results
    // back: the same signs, every scale exactly 2^100 times X's, the same
    // error, and ‖X‖² times 2^200. X's largest value is ~1.5, so X itself is
    // not scaled.
    SplitMix64 g(11);
    for (const Shape& shape : {Shape{40, 50}, Shape{24, 20, 3}}) {
        const std::vector<float> x = field(g, shape, 1.5);
        std::vector<float> y(x.size());
        for (std::size_t i = 0; i < x.size(); ++i) y[i] = std::ldexp(x[i], 100);
        for (const bool blocks : {false, true}) {
            DecomposeOptions o;
            o.bits_per_value = 1.5;
            o.threads = 2;
            o.blocks = blocks ? BlockChoice::of(shape.size() == 2 ? Shape{16, 16} : Shape{8, 8, 3}) : BlockChoice::whole();
            DecomposeReport rx, ry;
            const SignedCutDecomposition dx = decompose(TensorView<float>{x.data(), shape}, o, &rx);
            const SignedCutDecomposition dy = decompose(TensorView<float>{y.data(), shape}, o, &ry);
            check_same_signs(dx, dy);
            for (std::size_t b = 0; b < dx.block_count(); ++b)
                for (std::size_t j = 0; j < dx.block(b).width(); ++j)
                    BOOST_CHECK_EQUAL(dy.block(b).scales()[j], std::ldexp(dx.block(b).scales()[j], 100));
            BOOST_CHECK_EQUAL(rx.rel_error, ry.rel_error);
            BOOST_CHECK_EQUAL(std::ldexp(rx.norm2, 200), ry.norm2);
        }
    }
}

BOOST_AUTO_TEST_CASE(refit_and_restarts_commute_with_the_scaling)
{
    SplitMix64 g(12);
    const Shape shape{30, 20, 4};
    const std::vector<float> x = field(g, shape, 1.0);
    std::vector<float> y(x.size());
    for (std::size_t i = 0; i < x.size(); ++i) y[i] = std::ldexp(x[i], 120);
    DecomposeOptions o;
    o.width = 12;
    o.blocks = BlockChoice::whole();
    o.refit_scales = true;
    o.restarts = 2;
    DecomposeReport rx, ry;
    const SignedCutDecomposition dx = decompose(TensorView<float>{x.data(), shape}, o, &rx);
    const SignedCutDecomposition dy = decompose(TensorView<float>{y.data(), shape}, o, &ry);
    check_same_signs(dx, dy);
    BOOST_CHECK_EQUAL(rx.scales_refit, ry.scales_refit);
    for (std::size_t j = 0; j < dx.width(); ++j)
        BOOST_CHECK_EQUAL(dy.block(0).scales()[j], std::ldexp(dx.block(0).scales()[j], 120));
    BOOST_CHECK_EQUAL(rx.rel_error, ry.rel_error);
}

BOOST_AUTO_TEST_CASE(data_near_the_float32_limit_gives_finite_scales_and_the_right_error)
{
    SplitMix64 g(13);
    const Shape shape{40, 50};
    for (const double top : {2e38, 3e38, double(flt_max)}) {
        const std::vector<float> x = field(g, shape, top);
        for (const bool whole : {true, false}) {
            DecomposeOptions o;
            o.bits_per_value = 1;
            o.blocks = whole ? BlockChoice::whole() : BlockChoice::of(Shape{20, 25});
            DecomposeReport r;
            const SignedCutDecomposition d = decompose(TensorView<float>{x.data(), shape}, o, &r);
            BOOST_REQUIRE_GT(d.width(), 0u);
            for (const auto& b : d.blocks())
                for (const float c : b.scales()) BOOST_CHECK(std::isfinite(c));
            const double exact = rel_error_double(x, d);
            BOOST_CHECK(std::isfinite(exact) && exact < 1.0);
            const ErrorMetrics m = d.error_against(x);
            BOOST_CHECK(m.finite());
            BOOST_CHECK_CLOSE(m.rel_fro_error, exact, 1e-4);
            BOOST_CHECK_CLOSE(r.rel_error, exact, 1e-3);
            BOOST_CHECK(std::isfinite(r.norm2) && r.norm2 > 0);
        }
    }
}

BOOST_AUTO_TEST_CASE(a_few_huge_values_among_ordinary_ones)
{
    SplitMix64 g(14);
    const Shape shape{40, 50};
    std::vector<float> x = random_normal(g, 2000);
    x[3 * 50 + 4] = 2e38f;
    x[10 * 50 + 20] = -2e38f;
    x[30 * 50 + 40] = 3e38f;
    DecomposeOptions o;
    o.width = 20;
    o.blocks = BlockChoice::whole();
    const SignedCutDecomposition d = decompose(TensorView<float>{x.data(), shape}, o);
    for (const float c : d.block(0).scales()) BOOST_CHECK(std::isfinite(c));
    const ErrorMetrics m = d.error_against(x);
    BOOST_CHECK(m.finite());
    BOOST_CHECK_CLOSE(m.rel_fro_error, rel_error_double(x, d), 1e-4);
    BOOST_CHECK_GT(m.max_abs_error, 0.0);
}

BOOST_AUTO_TEST_CASE(scaled_blocks_keep_thread_count_determinism)
{
    SplitMix64 g(15);
    const Shape shape{64, 48};
    const std::vector<float> x = field(g, shape, 3e38);
    DecomposeOptions o;
    o.bits_per_value = 1.5;
    o.threads = 1;
    const SignedCutDecomposition one = decompose(TensorView<float>{x.data(), shape}, o);
    o.threads = 3;
    const SignedCutDecomposition three = decompose(TensorView<float>{x.data(), shape}, o);
    check_same_signs(one, three);
    for (std::size_t b = 0; b < one.block_count(); ++b)
        BOOST_CHECK(one.block(b).scales() == three.block(b).scales());
}

BOOST_AUTO_TEST_CASE(float64_views_beyond_the_float32_range_are_refused)
{
    std::vector<double> x(60, 1.0);
    x[17] = 1e39;
    DecomposeOptions o;
    o.width = 2;
    try {
        (void)decompose(TensorView<double>{x.data(), Shape{6, 10}}, o);
        BOOST_FAIL("no error");
    } catch (const Error& e) {
        BOOST_CHECK(e.code() == errc::bad_input);
        BOOST_CHECK(std::string(e.what()).find("beyond the float32 range") != std::string::npos);
        BOOST_CHECK(std::string(e.what()).find("entry 17") != std::string::npos);
    }
    // Near the limit, but within it: decomposed, with finite scales.
    x[17] = 3.4e38;
    const SignedCutDecomposition d = decompose(TensorView<double>{x.data(), Shape{6, 10}}, o);
    for (const float c : d.block(0).scales()) BOOST_CHECK(std::isfinite(c));
}

BOOST_AUTO_TEST_CASE(float64_reconstruction_sums_in_double)
{
    const SignedCutDecomposition d = overflowing_terms(8, 6);
    const Tensor f = d.reconstruct();
    const std::vector<double> w = d.reconstruct_float64(2);
    std::size_t infinite = 0;
    for (std::size_t i = 0; i < 8; ++i)
        for (std::size_t j = 0; j < 6; ++j) {
            // Rows 0..3 are +3e38 +3e38 ∓1e38, rows 4..7 their negatives.
            const double want = (i < 4 ? 6e38 : -6e38) + (i % 2 == 0 ? 1e38 : -1e38);
            const double got = w[i * 6 + j];
            BOOST_CHECK_EQUAL(got, (double(3e38f) + double(3e38f)) * (i < 4 ? 1 : -1) +
                                       (i % 2 == 0 ? 1 : -1) * double(1e38f));
            BOOST_CHECK_CLOSE(got, want, 1e-5);
            infinite += !std::isfinite(f.data()[i * 6 + j]);
        }
    BOOST_CHECK_EQUAL(infinite, 48u);  // float32: every value overflows
    // A region equals the same slice of the whole, bit for bit.
    const Region region = parse_region("2:7,1:4", d.shape());
    const std::vector<double> part = d.reconstruct_float64(region);
    for (std::size_t i = 2; i < 7; ++i)
        for (std::size_t j = 1; j < 4; ++j) BOOST_CHECK_EQUAL(part[(i - 2) * 3 + (j - 1)], w[i * 6 + j]);
}

BOOST_AUTO_TEST_CASE(float64_reconstruction_of_blocks_and_regions)
{
    SplitMix64 g(16);
    const Shape shape{40, 36, 3};
    const std::vector<float> x = field(g, shape, 3.3e38);
    DecomposeOptions o;
    o.bits_per_value = 2;
    o.blocks = BlockChoice::of(Shape{16, 16, 3});
    const SignedCutDecomposition d = decompose(TensorView<float>{x.data(), shape}, o);
    const std::vector<double> one = d.reconstruct_float64(1), three = d.reconstruct_float64(3);
    BOOST_CHECK(one == three);
    const Tensor f = d.reconstruct();
    for (std::size_t i = 0; i < one.size(); ++i) {
        BOOST_REQUIRE(std::isfinite(one[i]));
        // float32 sums of terms up to ~3e38 round at ~1e-7 of that size.
        if (std::isfinite(f.data()[i])) BOOST_CHECK_SMALL(one[i] - double(f.data()[i]), 1e-5 * 3.3e38);
    }
    for (const char* text : {"5:30,:,1", "0:40,17:36,0:2", "39,:,:"}) {
        const Region region = parse_region(text, shape);
        const std::vector<double> part = d.reconstruct_float64(region, 2);
        // The slice of the whole, read through the region's own indices.
        std::vector<double> want;
        for (std::size_t i = region[0].start; i < region[0].stop; ++i)
            for (std::size_t j = region[1].start; j < region[1].stop; ++j)
                for (std::size_t k = region[2].start; k < region[2].stop; ++k) want.push_back(one[(i * 36 + j) * 3 + k]);
        BOOST_CHECK(part == want);
    }
    // The any-method interface gives the same values.
    const Decomposition any(d);
    BOOST_CHECK(any.reconstruct_float64(2) == one);
}

BOOST_AUTO_TEST_CASE(error_against_measures_overflowing_values_in_double)
{
    const SignedCutDecomposition d = overflowing_terms(8, 6);
    std::vector<float> x(48, 3e38f);
    const ErrorMetrics m = d.error_against(x, 2);
    BOOST_CHECK(m.finite());
    BOOST_CHECK_EQUAL(m.float32_overflows, 48u);
    const std::vector<double> y = d.reconstruct_float64();
    double e2 = 0, mx = 0;
    for (std::size_t i = 0; i < 48; ++i) {
        const double e = double(x[i]) - y[i];
        e2 += e * e;
        mx = std::max(mx, std::abs(e));
    }
    BOOST_CHECK_CLOSE(m.max_abs_error, mx, 1e-12);
    BOOST_CHECK_CLOSE(m.rmse, std::sqrt(e2 / 48), 1e-12);
    // The same through the any-method interface, and for a blocked layout.
    BOOST_CHECK_EQUAL(Decomposition(d).error_against(x).float32_overflows, 48u);
    // Ordinary decompositions count none.
    SplitMix64 g(17);
    const std::vector<float> z = random_normal(g, 600);
    DecomposeOptions o;
    o.width = 4;
    o.blocks = BlockChoice::of(Shape{10, 10});
    const SignedCutDecomposition dz = decompose(TensorView<float>{z.data(), Shape{20, 30}}, o);
    BOOST_CHECK_EQUAL(dz.error_against(z).float32_overflows, 0u);
}

BOOST_AUTO_TEST_CASE(metrics_never_hide_a_nan_or_an_infinity)
{
    const std::vector<float> x{1, 2, 3, 4};
    const float nan = std::numeric_limits<float>::quiet_NaN(), inf = std::numeric_limits<float>::infinity();
    const ErrorMetrics a = compare(x, std::vector<float>{1, nan, 3, 4});
    BOOST_CHECK(std::isnan(a.max_abs_error));  // not 0
    BOOST_CHECK(std::isnan(a.rel_fro_error));
    BOOST_CHECK(!a.finite());
    const ErrorMetrics b = compare(x, std::vector<float>{1, 2, inf, 4});
    BOOST_CHECK(std::isinf(b.max_abs_error) && std::isinf(b.rel_fro_error));
    BOOST_CHECK(!b.finite());
    // A zero original with a nonzero approximation: +inf by definition.
    const ErrorMetrics c = compare(std::vector<float>{0, 0}, std::vector<float>{1, 0});
    BOOST_CHECK(std::isinf(c.rel_fro_error));
    BOOST_CHECK(c.finite());
    BOOST_CHECK(compare(x, x).finite());
    // Double approximations: huge values are fine.
    ErrorAccumulator acc;
    acc.add(std::vector<float>{3e38f, -3e38f}, std::vector<double>{6e38, -6e38});
    const ErrorMetrics d = acc.result();
    BOOST_CHECK(d.finite());
    BOOST_CHECK_CLOSE(d.rel_fro_error, std::abs(6e38 - double(3e38f)) / double(3e38f), 1e-9);
}

BOOST_AUTO_TEST_CASE(lplr_near_the_float32_limit)
{
    SplitMix64 g(18);
    const Shape shape{40, 50};
    const std::vector<float> x = field(g, shape, 1.25);
    std::vector<float> y(x.size()), z(x.size());
    for (std::size_t i = 0; i < x.size(); ++i) y[i] = std::ldexp(x[i], 100), z[i] = static_cast<float>(x[i] * 2.4e38);
    LplrOptions o;
    o.rank = 6;
    o.bits_l = 6;
    o.bits_r = 6;
    o.threads = 1;
    const LplrDecomposition dx = lplr(TensorView<float>{x.data(), shape}, o);
    const LplrDecomposition dy = lplr(TensorView<float>{y.data(), shape}, o);
    // The same codes, and a product exactly 2^100 times X's: Y is
    // factored as Y·2^−e, and R's scales are multiplied by 2^e.
    BOOST_CHECK(dx.left().words() == dy.left().words());
    BOOST_CHECK(dx.right().words() == dy.right().words());
    const std::vector<double> px = Decomposition(dx).reconstruct_float64(), py = Decomposition(dy).reconstruct_float64();
    for (std::size_t i = 0; i < px.size(); ++i) BOOST_CHECK_EQUAL(py[i], std::ldexp(px[i], 100));
    // Values up to 3e38: finite factors and an error like X's.
    LplrOptions b;
    b.bits_per_value = 4;
    b.threads = 1;
    const Decomposition dz(lplr(TensorView<float>{z.data(), shape}, b));
    const Decomposition dxb(lplr(TensorView<float>{x.data(), shape}, b));
    for (const float s : dz.lplr()->right().scales()) BOOST_CHECK(std::isfinite(s));
    const ErrorMetrics mz = dz.error_against(z), mx = dxb.error_against(x);
    BOOST_CHECK(mz.finite());
    BOOST_CHECK_CLOSE(mz.rel_fro_error, mx.rel_fro_error, 5.0);
    const std::vector<double> w = dz.reconstruct_float64();
    for (const double v : w) BOOST_CHECK(std::isfinite(v));
}

BOOST_AUTO_TEST_SUITE_END()
