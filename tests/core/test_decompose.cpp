// The decomposer against the dense reference loop, and its known values.
#include <boost/test/unit_test.hpp>

#include <stb/stb_image.h>

#include <cmath>
#include <numeric>

#include "dense_reference.hpp"
#include "signcut/decompose.hpp"
#include "signcut/error.hpp"
#include "signcut/metrics.hpp"
#include "test_support.hpp"

using namespace signcut;
using namespace signcut::testing;

namespace {

/// Restores the ISA in use when a test that forces one ends.
struct ArchGuard {
    Arch saved = active_arch();
    explicit ArchGuard(Arch a) { set_active_arch(a); }
    ~ArchGuard() { set_active_arch(saved); }
};

std::size_t count(const Shape& s) { return std::accumulate(s.begin(), s.end(), std::size_t{1}, std::multiplies<>()); }

std::vector<float> small_integers(SplitMix64& g, std::size_t n)
{
    std::vector<float> v(n);
    for (auto& x : v) x = static_cast<float>(static_cast<int>(g.next() % 7) - 3);
    return v;
}

std::vector<std::vector<int>> term_signs(const SignedCutDecomposition& d, std::size_t j)
{
    std::vector<std::vector<int>> s(d.order());
    for (std::size_t a = 0; a < d.order(); ++a) s[a] = to_ints(d.signs(a).column(j));
    return s;
}

/// X − Σ_{i<j} c_i ⊗ s_i in double: the library's own remainder before term j.
std::vector<double> remainder_before(const std::vector<float>& x, const SignedCutDecomposition& d, std::size_t j)
{
    std::vector<double> R(x.begin(), x.end());
    for (std::size_t i = 0; i < j; ++i) add_term(R, d.shape(), -double(d.scales()[i]), term_signs(d, i));
    return R;
}

double rel_error_of(const std::vector<float>& x, const SignedCutDecomposition& d)
{
    const Tensor r = d.reconstruct();
    return compare(x, std::span<const float>(r.data(), r.size())).rel_fro_error;
}

// Shapes of orders 1–5 with dims of 1, odd dims and dims past 64.
const std::vector<Shape> small_shapes = {
    {7}, {130}, {5, 9}, {70, 3}, {1, 33}, {3, 4, 5}, {2, 1, 65}, {6, 5, 4, 3}, {2, 3, 2, 3, 2}, {3, 1, 4, 2, 5}};

}  // namespace

BOOST_AUTO_TEST_CASE(first_term_is_bit_exact_on_small_integers)
{
    SplitMix64 g(11);
    for (const Shape& shape : small_shapes) {
        BOOST_TEST_CONTEXT("shape " << format_shape(shape))
        {
            const auto x = small_integers(g, count(shape));
            DecomposeOptions o;
            o.width = 1;
            o.seed = 5;
            const auto d = decompose(TensorView<float>{x.data(), shape}, o);
            const auto ref = dense_greedy(x, shape, 1, 5);
            BOOST_REQUIRE_EQUAL(d.width(), 1u);
            BOOST_TEST(d.scales()[0] == ref[0].scale);
            for (std::size_t a = 0; a < shape.size(); ++a)
                BOOST_TEST(to_ints(d.signs(a).column(0)) == ref[0].signs[a], boost::test_tools::per_element());
        }
    }
}

BOOST_AUTO_TEST_CASE(scales_are_least_squares_optimal_and_signs_a_fixed_point)
{
    SplitMix64 g(12);
    for (const Shape& shape : small_shapes) {
        BOOST_TEST_CONTEXT("shape " << format_shape(shape))
        {
            const auto x = random_normal(g, count(shape));
            DecomposeOptions o;
            o.width = 16;
            o.block = 5;  // exercise flushes inside the run
            const auto d = decompose(TensorView<float>{x.data(), shape}, o);
            for (std::size_t j = 0; j < d.width(); ++j) {
                const auto R = remainder_before(x, d, j);
                const auto s = term_signs(d, j);
                // Least-squares scale for fixed signs: <R, ⊗s> / N.
                const auto img0 = dense_contraction(R, shape, s, 0);
                double cut = 0;
                for (std::size_t i = 0; i < img0.size(); ++i) cut += s[0][i] * img0[i];
                const double c_opt = cut / double(count(shape));
                BOOST_TEST(std::abs(d.scales()[j] - c_opt) <= 1e-5 * std::abs(c_opt) + 1e-7,
                           "term " << j << ": scale " << d.scales()[j] << " vs optimum " << c_opt);
                for (std::size_t a = 0; a < shape.size(); ++a) {
                    const auto img = dense_contraction(R, shape, s, a);
                    double mean = 0;
                    for (double v : img) mean += std::abs(v) / double(img.size());
                    for (std::size_t i = 0; i < img.size(); ++i)
                        if (std::abs(img[i]) > 1e-4 * mean)
                            BOOST_TEST((img[i] < 0 ? -1 : 1) == s[a][i],
                                       "term " << j << " mode " << a << " index " << i << " not a fixed point");
                }
            }
        }
    }
}

BOOST_AUTO_TEST_CASE(error_trajectory_matches_dense_reference)
{
    SplitMix64 g(13);
    for (const Shape& shape : small_shapes) {
        BOOST_TEST_CONTEXT("shape " << format_shape(shape))
        {
            const auto x = random_normal(g, count(shape));
            DecomposeOptions o;
            o.width = 16;
            o.block = 4;
            o.seed = 99;
            DecomposeReport rep;
            const auto d = decompose(TensorView<float>{x.data(), shape}, o, &rep);
            std::vector<double> ref_err;
            dense_greedy(x, shape, 16, 99, &ref_err);
            BOOST_REQUIRE_EQUAL(rep.rel_error_trajectory.size(), d.width());
            for (std::size_t j = 0; j < std::min<std::size_t>(16, d.width()); ++j) {
                const double e = rep.rel_error_trajectory[j];
                BOOST_TEST(std::abs(e - ref_err[j]) <= 1e-3 * ref_err[j] + 1e-7,
                           "term " << j << ": " << e << " vs dense " << ref_err[j]);
                // Bookkept equals recomputed.
                const double exact = rel_error_of(x, d.prefix(j + 1));
                BOOST_TEST(std::abs(e - exact) <= 1e-5 * exact + 1e-6, "term " << j << ": bookkept " << e
                                                                                   << " recomputed " << exact);
                if (j > 0) BOOST_TEST(e <= rep.rel_error_trajectory[j - 1] * (1 + 1e-9), "error rose at term " << j);
            }
        }
    }
}

BOOST_AUTO_TEST_CASE(reconstruction_is_the_dense_sum_of_terms)
{
    SplitMix64 g(14);
    for (const Shape& shape : small_shapes) {
        const auto x = random_normal(g, count(shape));
        DecomposeOptions o;
        o.width = 9;
        const auto d = decompose(TensorView<float>{x.data(), shape}, o);
        std::vector<double> dense(count(shape), 0.0);
        double abs_sum = 0;
        for (std::size_t j = 0; j < d.width(); ++j) {
            add_term(dense, shape, d.scales()[j], term_signs(d, j));
            abs_sum += std::abs(d.scales()[j]);
        }
        const Tensor r = d.reconstruct();
        for (std::size_t i = 0; i < dense.size(); ++i)
            BOOST_TEST(std::abs(r.data()[i] - dense[i]) <= sum_tolerance(d.width(), abs_sum) + 1e-30,
                       format_shape(shape) << " entry " << i);
    }
}

BOOST_AUTO_TEST_CASE(rank_one_sign_tensor_is_recovered_in_one_term)
{
    SplitMix64 g(15);
    const Shape shape{37, 70, 5};
    const auto s = random_signs(g, 37), t = random_signs(g, 70), u = random_signs(g, 5);
    std::vector<float> x(count(shape));
    for (std::size_t i = 0; i < 37; ++i)
        for (std::size_t j = 0; j < 70; ++j)
            for (std::size_t l = 0; l < 5; ++l) x[(i * 70 + j) * 5 + l] = 2.75f * float(s[i] * t[j] * u[l]);
    DecomposeOptions o;
    o.width = 1;
    const auto d = decompose(TensorView<float>{x.data(), shape}, o);
    BOOST_TEST(std::abs(d.scales()[0]) == 2.75f);
    BOOST_TEST(rel_error_of(x, d) <= 1e-7);
}

BOOST_AUTO_TEST_CASE(gaussian_512_error_and_cost)
{
    SplitMix64 g(16);
    const Shape shape{512, 512};
    const auto x = random_normal(g, count(shape));
    DecomposeOptions o;
    o.width = 512;
    DecomposeReport rep;
    const auto d = decompose(TensorView<float>{x.data(), shape}, o, &rep);
    const double err = rel_error_of(x, d);
    BOOST_TEST_MESSAGE("512x512 N(0,1) width 512: rel error " << err << ", dense passes/term "
                                                              << rep.dense_passes / 512.0 << ", mode updates/term "
                                                              << double(rep.mode_updates) / 512.0);
    BOOST_TEST(std::abs(err - 0.39) <= 0.01);
    BOOST_TEST(rep.dense_passes / 512.0 <= 2.5);
}

BOOST_AUTO_TEST_CASE(cat_photograph_at_one_bit_per_value)
{
    int w = 0, h = 0, c = 0;
    unsigned char* px = stbi_load("data/skimage_chelsea.png", &w, &h, &c, 3);
    BOOST_REQUIRE_MESSAGE(px != nullptr, "data/skimage_chelsea.png must be readable from the source root");
    std::vector<float> x(std::size_t(w) * h * 3);
    for (std::size_t i = 0; i < x.size(); ++i) x[i] = px[i];
    stbi_image_free(px);
    const Shape shape{std::size_t(h), std::size_t(w), 3};
    DecomposeOptions o;
    o.bits_per_value = 1.0;
    DecomposeReport rep;
    const auto d = decompose(TensorView<float>{x.data(), shape}, o, &rep);
    const double err = rel_error_of(x, d);
    BOOST_TEST_MESSAGE("cat " << format_shape(shape) << " at " << d.bits_per_value() << " bits/value, width "
                              << d.width() << ": rel error " << err << ", passes/term "
                              << rep.dense_passes / double(d.width()));
    BOOST_TEST(d.bits_per_value() <= 1.0);
    BOOST_TEST(err < 0.05);
}
