// The decomposer against the dense reference loop, and its known values.
#include <boost/test/unit_test.hpp>

#include <cmath>
#include <numeric>

#include <sys/wait.h>
#include <unistd.h>

#include <xtensor/xbuilder.hpp>

#include "dense_reference.hpp"
#include "signcut/decompose.hpp"
#include "signcut/error.hpp"
#include "signcut/image.hpp"
#include "signcut/metrics.hpp"
#include "signcut/random.hpp"
#include "test_support.hpp"

using namespace signcut;
using namespace signcut::testing;

namespace {

/// The exact-loop tests run on the whole tensor (one block): they check the
/// greedy itself. Blocked runs have their own tests (test_blocks.cpp).
template <class X>
SignedCutTerms decompose_whole(X&& x, DecomposeOptions o = {}, DecomposeReport* report = nullptr)
{
    o.blocks = BlockChoice::whole();
    return decompose(std::forward<X>(x), o, report).block(0);
}

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

std::vector<std::vector<int>> term_signs(const SignedCutTerms& d, std::size_t j)
{
    std::vector<std::vector<int>> s(d.order());
    for (std::size_t a = 0; a < d.order(); ++a) s[a] = to_ints(d.signs(a).column(j));
    return s;
}

/// X − Σ_{i<j} c_i ⊗ s_i in double: the library's own remainder before term j.
std::vector<double> remainder_before(const std::vector<float>& x, const SignedCutTerms& d, std::size_t j)
{
    std::vector<double> R(x.begin(), x.end());
    for (std::size_t i = 0; i < j; ++i) add_term(R, d.shape(), -double(d.scales()[i]), term_signs(d, i));
    return R;
}

double rel_error_of(const std::vector<float>& x, const SignedCutTerms& d)
{
    const Tensor r = d.reconstruct();
    return compare(x, std::span<const float>(r.data(), r.size())).rel_fro_error;
}

// Shapes of orders 1–5 with dims of 1, odd dims and dims past 64.
const std::vector<Shape> small_shapes = {
    {7}, {130}, {5, 9}, {70, 3}, {1, 33}, {3, 4, 5}, {2, 1, 65}, {5, 7, 9}, {6, 5, 4, 3}, {3, 4, 2, 10},
    {2, 3, 2, 3, 2}, {3, 1, 4, 2, 5}};

}  // namespace

BOOST_AUTO_TEST_CASE(first_term_is_bit_exact_on_small_integers)
{
    SplitMix64 g(11);
    for (const bool short_scales : {false, true})
    for (const Shape& shape : small_shapes) {
        BOOST_TEST_CONTEXT("shape " << format_shape(shape) << (short_scales ? ", short scales" : ", float32 scales"))
        {
            const auto x = small_integers(g, count(shape));
            DecomposeOptions o;
            o.start = StartSigns::random;  // the reference loop
            o.restarts = 0;
            o.width = 1;
            o.seed = 5;
            o.short_scales = short_scales;
            const auto d = decompose_whole(TensorView<float>{x.data(), shape}, o);
            const auto ref = dense_greedy(x, shape, 1, 5, nullptr, 200, short_scales);
            BOOST_REQUIRE_EQUAL(d.width(), 1u);
            BOOST_TEST(d.scales()[0] == ref[0].scale);
            for (std::size_t a = 0; a < shape.size(); ++a)
                BOOST_TEST(to_ints(d.signs(a).column(0)) == ref[0].signs[a], boost::test_tools::per_element());
        }
    }
}

BOOST_AUTO_TEST_CASE(scales_are_least_squares_optimal_and_signs_a_fixed_point)
{
    // Float32 scales are the optimum rounded once; short ones within 2^-5 of
    // it (relative), and short.
    SplitMix64 g(12);
    for (const bool short_scales : {false, true})
    for (const Shape& shape : small_shapes)
    for (StartSigns start : {StartSigns::random, StartSigns::previous}) {
        BOOST_TEST_CONTEXT("shape " << format_shape(shape) << (start == StartSigns::random ? ", random" : ", warm")
                                    << " starts" << (short_scales ? ", short scales" : ""))
        {
            const auto x = random_normal(g, count(shape));
            DecomposeOptions o;
            o.short_scales = short_scales;
            o.start = start;
            o.restarts = 0;  // the plain loop
            o.width = 16;
            o.flush_terms = 5;  // exercise flushes inside the run
            const auto d = decompose_whole(TensorView<float>{x.data(), shape}, o);
            for (std::size_t j = 0; j < d.width(); ++j) {
                const auto R = remainder_before(x, d, j);
                const auto s = term_signs(d, j);
                // Least-squares scale for fixed signs: <R, ⊗s> / N.
                const auto img0 = dense_contraction(R, shape, s, 0);
                double cut = 0;
                for (std::size_t i = 0; i < img0.size(); ++i) cut += s[0][i] * img0[i];
                const double c_opt = cut / double(count(shape));
                const double tol = short_scales ? 0x1p-5 * 1.0001 * std::abs(c_opt) : 1e-5 * std::abs(c_opt) + 1e-7;
                BOOST_TEST(std::abs(d.scales()[j] - c_opt) <= tol,
                           "term " << j << ": scale " << d.scales()[j] << " vs optimum " << c_opt);
                if (short_scales) BOOST_TEST(is_short_scale(d.scales()[j]), "term " << j << ": " << d.scales()[j]);
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
    // With float32 and with short scales: the bookkept error is the
    // recomputed one, and the terms' gains add up to what the error lost.
    SplitMix64 g(13);
    for (const bool short_scales : {false, true})
    for (const Shape& shape : small_shapes) {
        BOOST_TEST_CONTEXT("shape " << format_shape(shape) << (short_scales ? ", short scales" : ", float32 scales"))
        {
            const auto x = random_normal(g, count(shape));
            DecomposeOptions o;
            o.short_scales = short_scales;
            o.start = StartSigns::random;
            o.restarts = 0;
            o.width = 16;
            o.flush_terms = 4;
            o.seed = 99;
            DecomposeReport rep;
            const auto d = decompose_whole(TensorView<float>{x.data(), shape}, o, &rep);
            std::vector<double> ref_err;
            dense_greedy(x, shape, 16, 99, &ref_err, 200, short_scales);
            BOOST_REQUIRE_EQUAL(rep.rel_error_trajectory.size(), d.width());
            BOOST_REQUIRE_EQUAL(rep.term_gains.size(), d.width());
            double gained = 0;
            for (std::size_t j = 0; j < std::min<std::size_t>(16, d.width()); ++j) {
                const double e = rep.rel_error_trajectory[j];
                BOOST_TEST(std::abs(e - ref_err[j]) <= 1e-3 * ref_err[j] + 1e-7,
                           "term " << j << ": " << e << " vs dense " << ref_err[j]);
                // Bookkept equals recomputed.
                const double exact = rel_error_of(x, d.prefix(j + 1));
                BOOST_TEST(std::abs(e - exact) <= 1e-5 * exact + 1e-6, "term " << j << ": bookkept " << e
                                                                                   << " recomputed " << exact);
                if (j > 0) BOOST_TEST(e <= rep.rel_error_trajectory[j - 1] * (1 + 1e-9), "error rose at term " << j);
                gained += rep.term_gains[j];
                const double lost = rep.norm2 * (1 - exact * exact);
                BOOST_TEST(std::abs(gained - lost) <= 1e-5 * rep.norm2, "term " << j << ": gains " << gained
                                                                                 << " against " << lost);
                if (short_scales) BOOST_TEST(is_short_scale(d.scales()[j]));
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
        const auto d = decompose_whole(TensorView<float>{x.data(), shape}, o);
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
    const auto d = decompose_whole(TensorView<float>{x.data(), shape}, o);
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
    const auto d = decompose_whole(TensorView<float>{x.data(), shape}, o, &rep);
    const double err = rel_error_of(x, d);
    BOOST_TEST_MESSAGE("512x512 N(0,1) width 512: rel error " << err << ", dense passes/term "
                                                              << rep.dense_passes / 512.0 << ", mode updates/term "
                                                              << double(rep.mode_updates) / 512.0);
    BOOST_TEST(std::abs(err - 0.39) <= 0.01);
    BOOST_TEST(rep.dense_passes / 512.0 <= 2.5);
}

BOOST_AUTO_TEST_CASE(cat_photograph_at_one_bit_per_value)
{
    // An 8-bit RGB PNG, read from the source root (the test's workdir).
    const Tensor cat = read_image("data/skimage_chelsea.png", UINT64_MAX);
    BOOST_REQUIRE_EQUAL(cat.dimension(), 3u);
    const std::vector<float> x(cat.begin(), cat.end());
    const Shape shape{cat.shape()[0], cat.shape()[1], 3};
    DecomposeOptions o;
    o.bits_per_value = 1.0;
    DecomposeReport rep;
    const auto d = decompose_whole(TensorView<float>{x.data(), shape}, o, &rep);
    const double err = rel_error_of(x, d);
    BOOST_TEST_MESSAGE("cat " << format_shape(shape) << " at " << d.bits_per_value() << " bits/value, width "
                              << d.width() << ": rel error " << err << ", passes/term "
                              << rep.dense_passes / double(d.width()));
    BOOST_TEST(d.bits_per_value() <= 1.0);
    BOOST_TEST(err < 0.05);
}

BOOST_AUTO_TEST_CASE(same_input_seed_isa_and_threads_give_identical_bits)
{
    SplitMix64 g(17);
    // A short last mode, and a long one (images of the other modes then come
    // from the remainder contracted along it).
    for (const Shape& shape : {Shape{96, 130, 3}, Shape{24, 20, 33}})
    for (Arch arch : {Arch::scalar, Arch::avx2, Arch::avx512}) {
        const auto x = random_normal(g, count(shape));
        if (!arch_supported(arch)) {
            BOOST_TEST_MESSAGE("skipping " << arch_name(arch) << ": not supported by this CPU");
            continue;
        }
        ArchGuard guard(arch);
        DecomposeOptions o;
        o.width = 40;
        o.flush_terms = 16;
        o.seed = 1234;
        const auto a = decompose_whole(TensorView<float>{x.data(), shape}, o);
        const auto b = decompose_whole(TensorView<float>{x.data(), shape}, o);
        o.threads = 2;
        const auto c = decompose_whole(TensorView<float>{x.data(), shape}, o);
        BOOST_TEST_CONTEXT("shape " << format_shape(shape) << ", isa " << arch_name(arch))
        {
            BOOST_TEST(a.scales() == b.scales(), boost::test_tools::per_element());
            BOOST_TEST(a.scales() == c.scales(), boost::test_tools::per_element());
            for (std::size_t m = 0; m < shape.size(); ++m) {
                BOOST_TEST((a.signs(m) == b.signs(m)));
                BOOST_TEST((a.signs(m) == c.signs(m)));
            }
            o.seed = 1235;
            const auto other = decompose_whole(TensorView<float>{x.data(), shape}, o);
            BOOST_TEST(!(other.signs(0) == a.signs(0)));
        }
    }
}

BOOST_AUTO_TEST_CASE(every_isa_reaches_the_same_quality)
{
    SplitMix64 g(18);
    const Shape shape{200, 150};
    const auto x = random_normal(g, count(shape));
    std::vector<double> errors;
    for (Arch arch : {Arch::scalar, Arch::avx2, Arch::avx512}) {
        if (!arch_supported(arch)) continue;
        ArchGuard guard(arch);
        DecomposeOptions o;
        o.width = 100;
        const auto d = decompose_whole(TensorView<float>{x.data(), shape}, o);
        errors.push_back(rel_error_of(x, d));
    }
    for (double e : errors) BOOST_TEST(std::abs(e - errors[0]) <= 0.01 * errors[0]);
}

BOOST_AUTO_TEST_CASE(restarts_keep_the_largest_cut_of_their_starts)
{
    // A restart r runs the plain loop from starting_signs(restart_seed(seed,
    // r), ...). For the first term, that is exactly a one-term run seeded
    // with restart_seed(seed, r); the restarted term must be the best of them.
    // With a long last mode, restarts keep that mode's signs from the start
    // before, so only start 0 is such a run, and the restarted term is at
    // least as good.
    const std::vector<Shape> shapes = {{40, 70}, {9, 10, 3}, {65, 3}, {9, 10, 11}};
    SplitMix64 g(88);
    for (const Shape& shape : shapes) {
        BOOST_TEST_CONTEXT("shape " << format_shape(shape))
        {
            const std::vector<float> x = random_normal(g, count(shape));
            const TensorView<float> view{x.data(), shape};
            DecomposeOptions o;
            o.width = 1;
            o.seed = 3;
            const bool keeps_last = shape.size() >= 3 && shape.back() >= 8;
            double best = 0;
            for (std::size_t r = 0; r <= (keeps_last ? 0 : 4); ++r) {
                DecomposeOptions one = o;
                one.restarts = 0;
                one.seed = r == 0 ? o.seed : restart_seed(o.seed, r);
                best = std::max(best, double(std::abs(decompose_whole(view, one).scales()[0])));
            }
            o.restarts = 4;
            DecomposeReport report;
            const auto d = decompose_whole(view, o, &report);
            if (keeps_last)
                BOOST_TEST(std::abs(double(d.scales()[0])) >= best * (1 - 1e-6));
            else
                BOOST_TEST(std::abs(double(d.scales()[0]) - best) <= 1e-5 * best);
            // Five starts' worth of updates, at least two per start.
            BOOST_TEST(report.mode_updates >= 5 * 2);
            // Wider runs: every term still comes from the plain loop, so the
            // error never exceeds a width-w run's by much and usually drops.
            DecomposeOptions wide;
            wide.width = 8;
            wide.seed = 3;
            wide.restarts = 0;
            const double plain = [&] { DecomposeReport r; decompose_whole(view, wide, &r); return r.rel_error; }();
            wide.restarts = 4;
            DecomposeReport restarted;
            const auto dr = decompose_whole(view, wide, &restarted);
            BOOST_TEST(restarted.rel_error <= plain * 1.02);
            // Deterministic for any thread count.
            wide.threads = 2;
            BOOST_TEST(decompose_whole(view, wide).scales() == dr.scales());
        }
    }
    DecomposeOptions bad;
    bad.restarts = 1001;
    const std::vector<float> x(4, 1.0f);
    BOOST_CHECK_THROW(decompose_whole(TensorView<float>{x.data(), Shape{2, 2}}, bad), Error);
}

BOOST_AUTO_TEST_CASE(screened_restarts_follow_the_leader_after_their_first_cycles)
{
    SplitMix64 g(91);
    for (const Shape& shape : {Shape{9, 10, 11}, Shape{24, 20, 3}, Shape{6, 5, 7, 4}}) {
        BOOST_TEST_CONTEXT("shape " << format_shape(shape))
        {
            const std::vector<float> x = random_normal(g, count(shape));
            const TensorView<float> view{x.data(), shape};
            DecomposeOptions o;
            o.width = 1;
            o.seed = 5;
            o.restarts = 3;
            // One term: the screened run is the leader's plain loop resumed,
            // so its cut is at least the leader's screened one and at most
            // the best start's final one.
            DecomposeReport exact_report, screened_report;
            const double exact = std::abs(double(decompose_whole(view, o, &exact_report).scales()[0]));
            o.screen_cycles = 1;
            const double screened = std::abs(double(decompose_whole(view, o, &screened_report).scales()[0]));
            BOOST_TEST(screened <= exact * (1 + 1e-6));
            BOOST_TEST(screened_report.mode_updates <= exact_report.mode_updates);
            // Screening longer than any start can run is the exact loop, bit for bit.
            o.width = 6;
            o.screen_cycles = 0;
            const auto reference = decompose_whole(view, o);
            o.screen_cycles = 1000;
            BOOST_TEST(decompose_whole(view, o).scales() == reference.scales());
            // Deterministic for any thread count, and near the exact loop.
            o.screen_cycles = 1;
            DecomposeReport r1;
            const auto one_thread = decompose_whole(view, o, &r1);
            o.threads = 2;
            BOOST_TEST(decompose_whole(view, o).scales() == one_thread.scales());
            DecomposeOptions plain = o;
            plain.restarts = 0;
            DecomposeReport rp;
            decompose_whole(view, plain, &rp);
            BOOST_TEST(r1.rel_error <= rp.rel_error * 1.05);
        }
    }
}

BOOST_AUTO_TEST_CASE(refit_scales_are_the_dense_least_squares_solution)
{
    // The refit must equal the least-squares scales for the greedy's signs,
    // solved here from the dense N × w design matrix (normal equations,
    // Gaussian elimination with partial pivoting, all in double).
    const std::vector<Shape> shapes = {{20, 30}, {64, 65}, {5, 6, 7}, {3, 4, 5, 6}, {130}};
    SplitMix64 g(77);
    for (const Shape& shape : shapes) {
        BOOST_TEST_CONTEXT("shape " << format_shape(shape))
        {
            const std::size_t n = count(shape);
            const std::vector<float> x = random_normal(g, n);
            DecomposeOptions o;
            o.width = shape.size() == 1 ? 1 : 12;
            o.seed = 5;
            o.flush_terms = 5;  // several flushes before the refit
            o.short_scales = false;  // the least-squares solution itself (short scales round it)
            DecomposeReport greedy_report, refit_report;
            const auto greedy = decompose_whole(TensorView<float>{x.data(), shape}, o, &greedy_report);
            o.refit_scales = true;
            const auto refit = decompose_whole(TensorView<float>{x.data(), shape}, o, &refit_report);
            // The signs are the greedy's; only the scales change.
            BOOST_TEST(refit.all_signs() == greedy.all_signs());
            BOOST_TEST(refit_report.greedy_rel_error == greedy_report.rel_error);
            const std::size_t w = refit.width();
            if (w < 2) {
                // One term: the greedy's scale is already least squares.
                BOOST_TEST(!refit.scales_refit());
                BOOST_TEST(refit.scales() == greedy.scales());
                continue;
            }
            BOOST_TEST(refit.scales_refit());
            BOOST_TEST(refit_report.scales_refit);
            // Dense design matrix A (n × w), then AᵀA c = Aᵀx.
            std::vector<double> a(n * w, 1.0);
            for (std::size_t j = 0; j < w; ++j) {
                std::vector<double> term(n, 0.0);
                std::vector<std::vector<int>> f;
                for (std::size_t m = 0; m < shape.size(); ++m) f.push_back(to_ints(refit.signs(m).column(j)));
                add_term(term, shape, 1.0, f);
                for (std::size_t i = 0; i < n; ++i) a[i * w + j] = term[i];
            }
            std::vector<double> m(w * (w + 1), 0.0);  // [AᵀA | Aᵀx]
            for (std::size_t i = 0; i < n; ++i)
                for (std::size_t j = 0; j < w; ++j) {
                    for (std::size_t k = 0; k < w; ++k) m[j * (w + 1) + k] += a[i * w + j] * a[i * w + k];
                    m[j * (w + 1) + w] += a[i * w + j] * x[i];
                }
            for (std::size_t col = 0; col < w; ++col) {
                std::size_t piv = col;
                for (std::size_t r = col + 1; r < w; ++r)
                    if (std::abs(m[r * (w + 1) + col]) > std::abs(m[piv * (w + 1) + col])) piv = r;
                for (std::size_t k = 0; k <= w; ++k) std::swap(m[col * (w + 1) + k], m[piv * (w + 1) + k]);
                for (std::size_t r = 0; r < w; ++r) {
                    if (r == col) continue;
                    const double f = m[r * (w + 1) + col] / m[col * (w + 1) + col];
                    for (std::size_t k = col; k <= w; ++k) m[r * (w + 1) + k] -= f * m[col * (w + 1) + k];
                }
            }
            double cmax = 0;
            for (std::size_t j = 0; j < w; ++j) cmax = std::max(cmax, std::abs(m[j * (w + 1) + w] / m[j * (w + 1) + j]));
            for (std::size_t j = 0; j < w; ++j) {
                const double want = m[j * (w + 1) + w] / m[j * (w + 1) + j];
                BOOST_TEST(std::abs(refit.scales()[j] - want) <= 1e-4 * cmax, "scale " << j << ": " << refit.scales()[j]
                                                                                     << " vs " << want);
            }
            // The reported error is the refit's, recomputed, and lower.
            const Tensor y = refit.reconstruct();
            const double err = compare(x, std::span<const float>(y.data(), y.size())).rel_fro_error;
            BOOST_TEST(std::abs(refit_report.rel_error - err) <= 1e-5);
            BOOST_TEST(refit_report.rel_error < greedy_report.rel_error);
            // Deterministic for any thread count.
            o.threads = 2;
            const auto two = decompose_whole(TensorView<float>{x.data(), shape}, o);
            BOOST_TEST(two.scales() == refit.scales());
        }
    }
}

BOOST_AUTO_TEST_CASE(stopping_rules)
{
    SplitMix64 g(19);
    const Shape shape{64, 48, 5};
    const auto x = random_normal(g, count(shape));
    const TensorView<float> v{x.data(), shape};
    {
        DecomposeOptions o;  // default: 1 bit per value
        const auto d = decompose_whole(v, o);
        // The budget bounds the payload: the widest that fits.
        BOOST_TEST(sct_payload_bits_per_value(shape, d.width()) <= 1.0);
        BOOST_TEST(sct_payload_bits_per_value(shape, d.width() + 1) > 1.0);
    }
    {
        DecomposeOptions o;
        o.bits_per_value = 0.37;
        const auto d = decompose_whole(v, o);
        BOOST_TEST(sct_payload_bits_per_value(shape, d.width()) <= 0.37);
        BOOST_TEST(sct_payload_bits_per_value(shape, d.width() + 1) > 0.37);
    }
    {
        DecomposeOptions o;
        o.rel_error = 0.8;
        DecomposeReport rep;
        const auto d = decompose_whole(v, o, &rep);
        BOOST_TEST(rep.target_reached);
        BOOST_TEST(rel_error_of(x, d) <= 0.8 + 1e-6);
        BOOST_TEST(rel_error_of(x, d.prefix(d.width() - 1)) > 0.8);
    }
    {
        DecomposeOptions o;
        o.rel_error = 1e-9;
        o.max_bits_per_value = 0.5;  // give up early
        DecomposeReport rep;
        const auto d = decompose_whole(v, o, &rep);
        BOOST_TEST(!rep.target_reached);
        BOOST_TEST(sct_payload_bits_per_value(shape, d.width()) <= 0.5);
    }
    {
        DecomposeOptions o;
        o.width = 30;
        std::size_t calls = 0;
        o.progress = [&](const Progress& p) {
            ++calls;
            BOOST_TEST(p.terms == calls);
            return p.terms < 7;
        };
        DecomposeReport rep;
        const auto d = decompose_whole(v, o, &rep);
        BOOST_TEST(d.width() == 7u);
        BOOST_TEST(rep.cancelled);
    }
    {
        // A blocked run cancelled after its first block: the blocks it never
        // reached come back empty, with their extents.
        for (const unsigned threads : {1u, 2u}) {
            DecomposeOptions o;
            o.bits_per_value = 2.0;
            o.blocks = BlockChoice::of(Shape(shape.size(), 4));
            o.threads = threads;
            o.progress = [](const Progress&) { return false; };
            DecomposeReport rep;
            const auto d = decompose(v, o, &rep);
            BOOST_TEST(rep.cancelled);
            BOOST_TEST(d.shape() == shape);
            BOOST_TEST(d.block_count() == BlockGrid(shape, Shape(shape.size(), 4)).count());
            for (std::size_t b = 0; b < d.block_count(); ++b)
                BOOST_TEST(d.block(b).shape() == d.grid().extents(b));
            BOOST_TEST(d.reconstruct().size() == element_count(shape));
        }
    }
    {
        DecomposeOptions o;
        o.width = 5;
        o.max_mode_updates = 2;
        o.restarts = 0;
        DecomposeReport rep;
        decompose_whole(v, o, &rep);
        BOOST_TEST(rep.mode_updates == 10u);
        // The default for this order-3 tensor: three starts per term, each capped.
        o.restarts.reset();
        decompose_whole(v, o, &rep);
        BOOST_TEST(rep.mode_updates == 30u);
    }
}

BOOST_AUTO_TEST_CASE(all_zero_tensor_gives_width_zero)
{
    std::vector<float> z(120, 0.0f);
    DecomposeReport rep;
    DecomposeOptions o;
    o.bits_per_value = 2.0;  // a tiny tensor: its payload's fixed costs need more than 1 bit per value
    const auto d = decompose_whole(TensorView<float>{z.data(), Shape{4, 5, 6}}, o, &rep);
    BOOST_TEST(d.width() == 0u);
    BOOST_TEST(rep.rel_error == 0.0);
}

BOOST_AUTO_TEST_CASE(bad_input_and_options_are_refused_with_errors)
{
    std::vector<float> x(24, 1.0f);
    const TensorView<float> v{x.data(), Shape{2, 3, 4}};
    auto expect = [](auto&& fn, errc code, const std::string& fragment) {
        try {
            fn();
            BOOST_ERROR("no error for case expecting '" << fragment << "'");
        } catch (const Error& e) {
            BOOST_TEST((e.code() == code), e.what());
            BOOST_TEST(std::string(e.what()).find(fragment) != std::string::npos, e.what());
        }
    };
    DecomposeOptions two;
    two.width = 3;
    two.rel_error = 0.1;
    expect([&] { decompose_whole(v, two); }, errc::invalid_argument, "one stopping rule");
    DecomposeOptions zero;
    zero.width = 0;
    expect([&] { decompose_whole(v, zero); }, errc::invalid_argument, "width must be at least 1");
    DecomposeOptions tiny;
    tiny.bits_per_value = 0.01;
    expect([&] { decompose_whole(v, tiny); }, errc::bad_input, "minimum is");
    expect([&] { decompose_whole(TensorView<float>{x.data(), Shape{}}); }, errc::bad_input, "order-0");
    expect([&] { decompose_whole(TensorView<float>{x.data(), Shape{2, 0, 4}}); }, errc::bad_input, "zero dimension: mode 1 is empty");
    std::vector<float> bad = x;
    bad[3] = std::nanf("");
    bad[5] = INFINITY;
    bad[6] = -INFINITY;
    expect([&] { decompose_whole(TensorView<float>{bad.data(), Shape{2, 3, 4}}); }, errc::bad_input, "1 NaN and 2 infinite");
}

BOOST_AUTO_TEST_CASE(xtensor_double_and_integer_inputs)
{
    xt::xarray<int> ints = xt::arange<int>(0, 60);
    ints.reshape({3, 4, 5});
    DecomposeOptions o;
    o.width = 4;
    const auto from_int = decompose_whole(ints, o);
    std::vector<float> f(60);
    std::vector<double> dbl(60);
    for (int i = 0; i < 60; ++i) f[i] = float(i), dbl[i] = double(i);
    const auto from_float = decompose_whole(TensorView<float>{f.data(), Shape{3, 4, 5}}, o);
    const auto from_double = decompose_whole(TensorView<double>{dbl.data(), Shape{3, 4, 5}}, o);
    Tensor owned = Tensor::from_shape({3, 4, 5});
    std::copy(f.begin(), f.end(), owned.begin());
    const auto from_owned = decompose_whole(std::move(owned), o);
    BOOST_TEST(from_int.scales() == from_float.scales(), boost::test_tools::per_element());
    BOOST_TEST(from_double.scales() == from_float.scales(), boost::test_tools::per_element());
    BOOST_TEST(from_owned.scales() == from_float.scales(), boost::test_tools::per_element());
    // A column-major xtensor is evaluated in C order first.
    xt::xarray<float, xt::layout_type::column_major> cm = xt::cast<float>(ints);
    const auto from_cm = decompose_whole(cm, o);
    BOOST_TEST(from_cm.scales() == from_float.scales(), boost::test_tools::per_element());
}

namespace {

std::size_t peak_rss_bytes()
{
    std::FILE* f = std::fopen("/proc/self/status", "r");
    char line[256];
    std::size_t kb = 0;
    while (f && std::fgets(line, sizeof line, f))
        if (std::sscanf(line, "VmHWM: %zu kB", &kb) == 1) break;
    if (f) std::fclose(f);
    return kb * 1024;
}

void reset_peak_rss()
{
    std::FILE* f = std::fopen("/proc/self/clear_refs", "w");
    if (f) {
        std::fputs("5", f);
        std::fclose(f);
    }
}

}  // namespace

#if defined(__SANITIZE_ADDRESS__)
constexpr bool address_sanitizer = true;  // its shadow memory and quarantine inflate every RSS figure
#else
constexpr bool address_sanitizer = false;
#endif

BOOST_AUTO_TEST_CASE(working_memory_is_at_most_two_copies,
                     *boost::unit_test::precondition([](boost::unit_test::test_unit_id) {
                         boost::test_tools::assertion_result r(!address_sanitizer);
                         r.message() << "RSS is not meaningful under AddressSanitizer";
                         return r;
                     }))
{
    // Measured in a child process so the test's own allocations do not count.
    const Shape shape{2048, 1536};
    const std::size_t bytes = count(shape) * sizeof(float);
    for (bool consume : {false, true}) {
        int pipefd[2];
        BOOST_REQUIRE(pipe(pipefd) == 0);
        const pid_t pid = fork();
        if (pid == 0) {
            SplitMix64 g(20);
            Tensor x = Tensor::from_shape(shape);
            for (auto& v : x) v = static_cast<float>(g.normal());
            reset_peak_rss();
            const std::size_t before = peak_rss_bytes();
            DecomposeOptions o;
            o.width = 24;
            if (consume)
                decompose_whole(std::move(x), o);
            else
                decompose_whole(TensorView<float>{x.data(), shape}, o);
            const std::size_t grew = peak_rss_bytes() - before;
            (void)!write(pipefd[1], &grew, sizeof grew);
            _exit(0);
        }
        close(pipefd[1]);
        std::size_t grew = 0;
        BOOST_REQUIRE(read(pipefd[0], &grew, sizeof grew) == sizeof grew);
        close(pipefd[0]);
        int status = 0;
        waitpid(pid, &status, 0);
        const double copies = double(grew) / double(bytes);
        BOOST_TEST_MESSAGE((consume ? "consuming" : "viewing") << " decompose grew the peak RSS by " << copies
                                                               << " copies of the input");
        // Allowed: the remainder (unless consumed) and its transposed copy, plus
        // small vectors; 0.1 copy of slack covers images, signs and the heap.
        BOOST_TEST(copies <= (consume ? 1.1 : 2.1));
    }
}
