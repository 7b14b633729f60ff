// LPLR: exact recovery of low-rank data, the least-squares step against an
// independent solver, the budget search against every grid point run on its
// own, the figures on the sample images, and the contract of the options.
#include <boost/test/unit_test.hpp>

#include <algorithm>
#include <cmath>

#include "lplr_test_support.hpp"
#include "signcut/any_decomposition.hpp"
#include "signcut/baselines.hpp"
#include "signcut/lplr.hpp"
#include "signcut/metrics.hpp"

using namespace signcut;
using namespace signcut::testing;

namespace {

LplrOptions explicit_options(std::size_t rank, unsigned bl, unsigned br)
{
    LplrOptions o;
    o.rank = rank;
    o.bits_l = bl;
    o.bits_r = br;
    return o;
}

LplrOptions budget_options(double bits)
{
    LplrOptions o;
    o.bits_per_value = bits;
    return o;
}

/// Runs every (B1, B2) of the 2..8 grid on its own at the largest rank that
/// fits, and returns the smallest error.
double grid_best(const Tensor& x, double budget, const Matricization& split)
{
    const Shape shape(x.shape().begin(), x.shape().end());
    const std::size_t n = split.rows(shape), d = split.cols(shape);
    double best = INFINITY;
    for (unsigned bl = 2; bl <= 8; ++bl)
        for (unsigned br = 2; br <= 8; ++br) {
            const std::size_t rank = lplr_rank_for_bits(n, d, bl, br, budget);
            if (rank == 0) continue;
            LplrOptions o = explicit_options(rank, bl, br);
            o.matricization = split;
            const LplrDecomposition f = lplr(view_of(x), o);
            best = std::min(best, relative_error(x, f.reconstruct()));
        }
    return best;
}

}  // namespace

BOOST_AUTO_TEST_SUITE(lplr_factorization)

BOOST_AUTO_TEST_CASE(exact_low_rank_matrix_is_recovered_at_8_bits)
{
    // 8-bit abs-max codes of Gaussian-like factors leave about 0.7 % per
    // factor; the sketch must add next to nothing to that. (Without a power
    // iteration a rank-r sketch of rank-r data is ill-conditioned and
    // quantizing it costs a few percent: the reason one is the default.)
    for (const double decay : {1.0, 0.5}) {
        const Tensor x = low_rank_matrix(200, 150, 6, 11, decay);
        for (const std::size_t rank : {6u, 9u}) {
            const LplrDecomposition f = lplr(view_of(x), explicit_options(rank, 8, 8));
            BOOST_TEST(f.rank() == rank);
            BOOST_TEST(relative_error(x, f.reconstruct()) < 0.01, "decay " << decay << " rank " << rank);
        }
    }
}

BOOST_AUTO_TEST_CASE(exact_low_rank_tensor_is_recovered_through_its_matricization)
{
    // A 30 × (20·12) matrix of rank 4, seen as a 30 × 20 × 12 tensor, then
    // transposed so that the low-rank split is "2|0,1" rather than a
    // contiguous one.
    const Tensor m = low_rank_matrix(30, 240, 4, 12);
    Tensor t = Tensor::from_shape({20, 12, 30});
    for (std::size_t i = 0; i < 30; ++i)
        for (std::size_t a = 0; a < 20; ++a)
            for (std::size_t b = 0; b < 12; ++b) t(a, b, i) = m(i, a * 12 + b);
    LplrOptions o = explicit_options(4, 8, 8);
    o.matricization = Matricization::parse("2|0,1", 3);
    const LplrDecomposition f = lplr(view_of(t), o);
    BOOST_TEST(f.rows() == 30u);
    BOOST_TEST(f.cols() == 240u);
    BOOST_TEST(relative_error(t, f.reconstruct()) < 0.01);
}

extern "C" void openblas_set_num_threads(int);
extern "C" int openblas_get_num_threads();

// The host program's BLAS thread count survives calls that set their own.
BOOST_AUTO_TEST_CASE(openblas_thread_count_is_restored)
{
    openblas_set_num_threads(2);
    const int before = openblas_get_num_threads();
    const Tensor x = low_rank_matrix(40, 30, 4, 5);
    LplrOptions o = explicit_options(4, 8, 8);
    o.threads = 1;
    const LplrDecomposition f = lplr(view_of(x), o);
    BOOST_TEST(openblas_get_num_threads() == before);
    std::vector<float> out(f.size());
    f.reconstruct_into(out, 1);
    BOOST_TEST(openblas_get_num_threads() == before);
}

BOOST_AUTO_TEST_CASE(dependent_columns_are_handled)
{
    // Rank 1 data at rank 5: every sketch column quantizes to the same codes
    // up to sign, so the least squares must drop the dependent ones.
    const Tensor x = low_rank_matrix(40, 30, 1, 13);
    const LplrDecomposition f = lplr(view_of(x), explicit_options(5, 8, 8));
    BOOST_TEST(relative_error(x, f.reconstruct()) < 0.01);
    // An all-zero tensor gives an all-zero reconstruction.
    const Tensor zero = xt::zeros<float>(std::vector<std::size_t>{6, 7});
    const LplrDecomposition z = lplr(view_of(zero), budget_options(8));
    for (const float v : z.reconstruct()) BOOST_TEST_REQUIRE(v == 0.0f);
}

BOOST_AUTO_TEST_CASE(right_factor_is_the_quantized_least_squares_fit)
{
    // An independent solve of the normal equations LᵀL·W = LᵀA in long
    // double, then the quantizer's rule by hand, against the stored R.
    const Tensor x = low_rank_matrix(60, 25, 8, 14);
    const std::size_t n = 60, d = 25, m = 5;
    const LplrDecomposition f = lplr(view_of(x), explicit_options(m, 6, 7));
    std::vector<long double> g(m * m, 0), b(m * d, 0);
    for (std::size_t i = 0; i < n; ++i)
        for (std::size_t p = 0; p < m; ++p) {
            const long double lp = f.left().value(i, p);
            for (std::size_t q = 0; q < m; ++q) g[p * m + q] += lp * f.left().value(i, q);
            for (std::size_t j = 0; j < d; ++j) b[p * d + j] += lp * x(i, j);
        }
    // Gaussian elimination with partial pivoting on [G | B].
    for (std::size_t c = 0; c < m; ++c) {
        std::size_t pivot = c;
        for (std::size_t r = c + 1; r < m; ++r)
            if (std::fabs(g[r * m + c]) > std::fabs(g[pivot * m + c])) pivot = r;
        for (std::size_t k = 0; k < m; ++k) std::swap(g[c * m + k], g[pivot * m + k]);
        for (std::size_t k = 0; k < d; ++k) std::swap(b[c * d + k], b[pivot * d + k]);
        for (std::size_t r = 0; r < m; ++r) {
            if (r == c) continue;
            const long double factor = g[r * m + c] / g[c * m + c];
            for (std::size_t k = 0; k < m; ++k) g[r * m + k] -= factor * g[c * m + k];
            for (std::size_t k = 0; k < d; ++k) b[r * d + k] -= factor * b[c * d + k];
        }
    }
    std::size_t mismatches = 0;
    const int q_max = (1 << 6) - 1;
    for (std::size_t p = 0; p < m; ++p) {
        long double peak = 0;
        for (std::size_t j = 0; j < d; ++j) peak = std::max(peak, std::fabs(b[p * d + j] / g[p * m + p]));
        const float scale = static_cast<float>(peak / q_max);
        BOOST_TEST(std::fabs(f.right().scales()[p] - scale) <= 1e-4 * scale);
        for (std::size_t j = 0; j < d; ++j) {
            const long code = std::lround(static_cast<double>(b[p * d + j] / g[p * m + p] / scale));
            mismatches += code != f.right().code(p, j);
        }
    }
    // A code may differ where the fit lands within rounding of a half step.
    BOOST_TEST(mismatches <= 2u);
}

BOOST_AUTO_TEST_CASE(storage_is_counted_by_the_rule)
{
    const Tensor x = low_rank_matrix(70, 90, 10, 15);
    for (const double budget : {0.5, 1.0, 3.0}) {
        LplrReport report;
        const LplrDecomposition f = lplr(view_of(x), budget_options(budget), &report);
        const double n = 70, d = 90, m = double(f.rank());
        BOOST_TEST(f.stored_bits() == static_cast<std::uint64_t>(m * (n * f.bits_l() + d * f.bits_r() + 64)));
        BOOST_TEST(f.bits_per_value() == m * (n * f.bits_l() + d * f.bits_r() + 64) / (n * d));
        // The budget bounds the payload the file stores; the largest rank
        // that fits: one more would not.
        BOOST_TEST(f.bits_per_value() <= lplr_payload_bits_per_value(70, 90, f.rank(), f.bits_l(), f.bits_r()));
        BOOST_TEST(lplr_payload_bits_per_value(70, 90, f.rank(), f.bits_l(), f.bits_r()) <= budget);
        if (f.rank() < 70) BOOST_TEST(lplr_payload_bits_per_value(70, 90, f.rank() + 1, f.bits_l(), f.bits_r()) > budget);
        BOOST_TEST(report.candidates.size() >= 1u);
        for (const auto& c : report.candidates) BOOST_TEST(c.bits_per_value <= budget);
    }
}

BOOST_AUTO_TEST_CASE(search_errors_are_the_real_errors)
{
    // The search scores candidates without reconstructing them; each score
    // must be the error an explicit run with those parameters has.
    const Tensor x = sample_image("skimage_camera.png");
    LplrReport report;
    (void)lplr(view_of(x), budget_options(1.0), &report);
    BOOST_TEST_REQUIRE(report.candidates.size() == 49u);
    for (const std::size_t p : {0u, 8u, 24u, 40u, 48u}) {
        const LplrCandidate& c = report.candidates[p];
        const LplrDecomposition f = lplr(view_of(x), explicit_options(c.rank, c.bits_l, c.bits_r));
        const double real = relative_error(x, f.reconstruct());
        BOOST_TEST(std::fabs(c.rel_error - real) <= 0.01 * real, "candidate " << p << ": " << c.rel_error << " vs " << real);
    }
    const LplrDecomposition chosen =
        lplr(view_of(x), explicit_options(report.chosen.rank, report.chosen.bits_l, report.chosen.bits_r));
    BOOST_TEST(std::fabs(report.chosen.rel_error - relative_error(x, chosen.reconstruct())) <= 1e-4 * report.chosen.rel_error);
}

BOOST_AUTO_TEST_CASE(camera_at_one_bit_beats_one_bit_nq)
{
    const Tensor x = sample_image("skimage_camera.png");
    const LplrDecomposition f = lplr(view_of(x), budget_options(1.0));
    const double lplr_error = relative_error(x, f.reconstruct());
    const Approximation nq = min_max_quantize(view_of(x), 1);
    const double nq_error = relative_error(x, nq.reconstruction);
    BOOST_TEST_MESSAGE("camera, 1 bit/value: LPLR " << lplr_error << " (rank " << f.rank() << ", " << f.bits_l() << "/"
                                                     << f.bits_r() << " bits), nq " << nq_error << ", ratio "
                                                     << lplr_error / nq_error);
    BOOST_TEST(f.bits_per_value() <= 1.0);
    BOOST_TEST(lplr_error <= 0.35 * nq_error);
}

BOOST_AUTO_TEST_CASE(auto_choice_is_within_five_percent_of_the_grid_best)
{
    for (const char* name : {"skimage_camera.png", "skimage_chelsea.png"}) {
        const Tensor x = sample_image(name);
        const Shape shape(x.shape().begin(), x.shape().end());
        const LplrDecomposition f = lplr(view_of(x), budget_options(1.0));
        const double chosen = relative_error(x, f.reconstruct());
        const double best = grid_best(x, 1.0, f.matricization());
        BOOST_TEST_MESSAGE(name << " (split " << f.matricization().to_string() << "): chosen " << chosen << " at rank "
                                << f.rank() << ", " << f.bits_l() << "/" << f.bits_r() << " bits; grid best " << best);
        BOOST_TEST(chosen <= 1.05 * best, name);
    }
}

BOOST_AUTO_TEST_CASE(power_iterations_help_on_the_camera_image)
{
    const Tensor x = sample_image("skimage_camera.png");
    LplrOptions plain = explicit_options(46, 5, 6);
    plain.power_iterations = 0;
    LplrOptions power = plain;
    power.power_iterations = 1;
    const double e0 = relative_error(x, lplr(view_of(x), plain).reconstruct());
    const double e1 = relative_error(x, lplr(view_of(x), power).reconstruct());
    BOOST_TEST_MESSAGE("camera rank 46, 5/6 bits: " << e0 << " without, " << e1 << " with one power iteration");
    BOOST_TEST(e1 < e0);
}

BOOST_AUTO_TEST_CASE(results_depend_on_the_seed_only)
{
    const Tensor x = low_rank_matrix(50, 40, 12, 16);
    LplrOptions a = explicit_options(6, 4, 6);
    a.seed = 5;
    const LplrDecomposition f1 = lplr(view_of(x), a), f2 = lplr(view_of(x), a);
    BOOST_TEST((f1.left() == f2.left()));
    BOOST_TEST((f1.right() == f2.right()));
    a.seed = 6;
    const LplrDecomposition f3 = lplr(view_of(x), a);
    BOOST_TEST(!(f1.left() == f3.left()));
}

BOOST_AUTO_TEST_CASE(options_are_checked)
{
    const Tensor x = low_rank_matrix(20, 30, 3, 17);
    const auto v = view_of(x);
    expect_error([&] { lplr(v, explicit_options(0, 8, 8)); }, errc::invalid_argument, "rank 0");
    expect_error([&] { lplr(v, explicit_options(21, 8, 8)); }, errc::invalid_argument, "1..20");
    expect_error([&] { lplr(v, explicit_options(3, 1, 8)); }, errc::invalid_argument, "2..16");
    expect_error([&] { lplr(v, explicit_options(3, 8, 17)); }, errc::invalid_argument, "2..16");
    LplrOptions partial;
    partial.rank = 3;
    expect_error([&] { lplr(v, partial); }, errc::invalid_argument, "all three");
    LplrOptions both = explicit_options(3, 8, 8);
    both.bits_per_value = 1;
    expect_error([&] { lplr(v, both); }, errc::invalid_argument, "either");
    // One rank at 2/2 bits stores one code word and one scale per factor,
    // each dataset with its 4-byte checksum: 2·(12 + 8) bytes = 320 bits over 600 values.
    expect_error([&] { lplr(v, budget_options(0.2)); }, errc::bad_input, "minimum is 0.533333");
    BOOST_TEST(lplr(v, budget_options(0.5334)).rank() == 1u);
    Tensor bad = x;
    bad(3, 4) = NAN;
    expect_error([&] { lplr(view_of(bad), budget_options(1)); }, errc::bad_input, "1 non-finite");
    LplrOptions split = budget_options(1);
    split.matricization = Matricization::parse("0|1", 2);
    BOOST_TEST(lplr(v, split).matricization().to_string() == "0|1");
}

BOOST_AUTO_TEST_SUITE_END()
