// Blocks: the grid, regions, the allocation against brute force, ceilings
// that would bite if a block's sequence depended on them, determinism over
// threads, and region reconstruction bit for bit.
#include <boost/test/unit_test.hpp>

#include <algorithm>
#include <cmath>
#include <cstring>
#include <functional>
#include <numeric>

#include "decomposition_support.hpp"
#include "dense_reference.hpp"
#include "signcut/allocation.hpp"
#include "signcut/blocks.hpp"
#include "signcut/decompose.hpp"
#include "signcut/error.hpp"
#include "signcut/image.hpp"
#include "signcut/metrics.hpp"
#include "signcut/random.hpp"
#include "test_support.hpp"

using namespace signcut;
using namespace signcut::testing;

namespace {

/// A smooth field with texture: the first half of the rows is noisier, so
/// blocks differ in how much they need.
std::vector<float> field(SplitMix64& g, const Shape& shape)
{
    return textured_field(g, shape, 0.3, 1, [&](std::size_t row) { return row < shape[0] / 2 ? 0.8 : 0.05; });
}

std::vector<float> gather(const BlockGrid& g, std::size_t b, const std::vector<float>& x)
{
    std::vector<float> out(g.block_size(b));
    g.gather(b, x.data(), out.data());
    return out;
}

// ---- brute force over widths ------------------------------------------------

struct Best {
    double gain = -1;
    std::uint64_t bits = 0;
};

/// Calls f(widths) for every combination of widths 0..|gains_b|.
void for_each_widths(const std::vector<BlockCurve>& c, const std::function<void(const std::vector<std::size_t>&)>& f)
{
    std::vector<std::size_t> w(c.size(), 0);
    for (;;) {
        f(w);
        std::size_t b = 0;
        while (b < c.size() && ++w[b] > c[b].gains.size()) w[b++] = 0;
        if (b == c.size()) return;
    }
}

double gain_of(const std::vector<BlockCurve>& c, const std::vector<std::size_t>& w)
{
    double g = 0;
    for (std::size_t b = 0; b < c.size(); ++b)
        for (std::size_t j = 0; j < w[b]; ++j) g += c[b].gains[j];
    return g;
}

std::uint64_t bits_of(const std::vector<BlockCurve>& c, const std::vector<std::size_t>& w)
{
    std::uint64_t s = 0;
    for (std::size_t b = 0; b < c.size(); ++b) s += w[b] * c[b].term_bits;
    return s;
}

/// Random gains that mostly fall but not always (so hulls matter).
std::vector<BlockCurve> random_curves(SplitMix64& g, std::size_t blocks)
{
    std::vector<BlockCurve> c(blocks);
    for (auto& b : c) {
        const std::size_t n = 2 + g.next() % 5;
        double level = 1 + 10 * g.uniform();
        for (std::size_t j = 0; j < n; ++j) {
            level *= 0.4 + 0.5 * g.uniform();
            b.gains.push_back(g.uniform() < 0.25 ? level * (1.5 + 3 * g.uniform()) : level);
        }
        b.term_bits = 3 + g.next() % 6;
    }
    return c;
}

/// The budgets at every hull breakpoint: prefixes of all hull segments
/// taken in decreasing order of slope.
std::vector<std::uint64_t> breakpoint_budgets(const std::vector<BlockCurve>& c)
{
    struct Seg {
        double slope;
        std::uint64_t bits;
    };
    std::vector<Seg> segs;
    for (const auto& b : c) {
        std::vector<double> G(b.gains.size() + 1, 0.0);
        for (std::size_t j = 0; j < b.gains.size(); ++j) G[j + 1] = G[j] + b.gains[j];
        std::size_t i = 0;
        while (i < b.gains.size()) {
            std::size_t best = i + 1;
            double slope = G[i + 1] - G[i];
            for (std::size_t m = i + 1; m <= b.gains.size(); ++m) {
                const double s = (G[m] - G[i]) / double(m - i);
                if (s >= slope) slope = s, best = m;
            }
            segs.push_back({slope / double(b.term_bits), (best - i) * b.term_bits});
            i = best;
        }
    }
    std::stable_sort(segs.begin(), segs.end(), [](const Seg& a, const Seg& b) { return a.slope > b.slope; });
    std::vector<std::uint64_t> budgets{0};
    for (const auto& s : segs) budgets.push_back(budgets.back() + s.bits);
    return budgets;
}

}  // namespace

BOOST_AUTO_TEST_SUITE(blocks)

// ---------------------------------------------------------------------------
// The grid and regions
// ---------------------------------------------------------------------------

BOOST_AUTO_TEST_CASE(grid_tiles_the_tensor_with_short_edge_blocks)
{
    const BlockGrid g(Shape{10, 7, 3}, Shape{4, 7, 2});
    BOOST_TEST(g.count() == 3u * 1u * 2u);
    BOOST_TEST(g.grid_shape() == (Shape{3, 1, 2}), boost::test_tools::per_element());
    BOOST_TEST(g.origin(5) == (Shape{8, 0, 2}), boost::test_tools::per_element());
    BOOST_TEST(g.extents(5) == (Shape{2, 7, 1}), boost::test_tools::per_element());
    BOOST_TEST(g.signs_per_term(5) == 10u);
    // Gather and scatter cover every entry exactly once.
    std::vector<float> x(210), y(210, -1.0f);
    std::iota(x.begin(), x.end(), 0.0f);
    std::size_t total = 0;
    for (std::size_t b = 0; b < g.count(); ++b) {
        const auto part = gather(g, b, x);
        total += part.size();
        g.scatter(b, part.data(), y.data());
    }
    BOOST_TEST(total == 210u);
    BOOST_TEST(x == y, boost::test_tools::per_element());
    BOOST_TEST(BlockGrid::whole(Shape{5, 6}).count() == 1u);
    BOOST_TEST(block_seed(42, 0) == 42u);
    BOOST_TEST(block_seed(42, 1) != block_seed(43, 0));
}

BOOST_AUTO_TEST_CASE(bad_block_shapes_are_refused_by_name)
{
    const Shape shape{10, 7, 3};
    const auto expect = [&](const std::string& text, const std::string& fragment) {
        try {
            (void)parse_block_shape(text, shape);
            BOOST_ERROR("no error for block shape " << text);
        } catch (const Error& e) {
            BOOST_TEST(std::string(e.what()).find(fragment) != std::string::npos, e.what());
        }
    };
    expect("4x0x3", "mode 1 must be 1..7");
    expect("4x7", "has 2 modes");
    expect("4x8x3", "mode 1 must be 1..7");
    expect("4xax3", "not a whole number");
    BOOST_TEST(parse_block_shape("4x7x1", shape) == (Shape{4, 7, 1}), boost::test_tools::per_element());
    BOOST_CHECK_THROW(BlockChoice::parse("64x"), Error);
    BOOST_TEST((BlockChoice::parse("whole").kind == BlockChoice::Kind::whole));
    std::vector<float> x(210, 1.0f);
    DecomposeOptions o;
    o.blocks = BlockChoice::of({4, 8, 3});
    BOOST_CHECK_THROW(decompose(TensorView<float>{x.data(), shape}, o), Error);
    o.blocks = BlockChoice::of({4, 7, 3});
    o.refit_scales = true;
    BOOST_CHECK_THROW(decompose(TensorView<float>{x.data(), shape}, o), Error);
}

BOOST_AUTO_TEST_CASE(regions_parse_like_numpy)
{
    const Shape shape{10, 7, 3};
    const Region r = parse_region("2:5,:,-1", shape);
    BOOST_TEST(r[0].start == 2u);
    BOOST_TEST(r[0].stop == 5u);
    BOOST_TEST(r[1].stop == 7u);
    BOOST_TEST(r[2].start == 2u);
    BOOST_TEST(!r[2].keep);
    BOOST_TEST(region_shape(r) == (Shape{3, 7}), boost::test_tools::per_element());
    BOOST_TEST(format_region(r, shape) == "2:5,:,2");
    BOOST_TEST(parse_region("-3:,1:-1,0", shape)[0].start == 7u);
    for (const char* bad : {"0:11,:,:", "5:5,:,:", ":,:", "a,:,:", "0:2:1,:,:", "10,:,:", ":,:,-4"})
        BOOST_CHECK_THROW(parse_region(bad, shape), Error);
}

// ---------------------------------------------------------------------------
// The allocation
// ---------------------------------------------------------------------------

BOOST_AUTO_TEST_CASE(allocation_is_optimal_at_hull_breakpoints)
{
    SplitMix64 g(5);
    for (int trial = 0; trial < 200; ++trial) {
        const auto c = random_curves(g, 2 + trial % 2);
        for (std::uint64_t budget : breakpoint_budgets(c)) {
            const Allocation a = allocate_bits(c, budget);
            Best best;
            for_each_widths(c, [&](const std::vector<std::size_t>& w) {
                if (bits_of(c, w) <= budget) best.gain = std::max(best.gain, gain_of(c, w));
            });
            BOOST_TEST_CONTEXT("trial " << trial << " budget " << budget)
            {
                BOOST_TEST(a.term_bits <= budget);
                BOOST_TEST(a.term_bits == bits_of(c, a.widths));
                BOOST_TEST(a.gain == gain_of(c, a.widths), boost::test_tools::tolerance(1e-12));
                BOOST_TEST(a.gain >= best.gain * (1 - 1e-12));
            }
        }
    }
}

BOOST_AUTO_TEST_CASE(allocation_minimises_sse_plus_lambda_bits)
{
    // For any λ, the brute-force minimum of SSE + λ·bits is a point the
    // allocation reaches: at that point's bits, the allocation's gain is at
    // least that point's gain.
    SplitMix64 g(6);
    for (int trial = 0; trial < 200; ++trial) {
        const auto c = random_curves(g, 2 + trial % 2);
        double total = 0;
        for (const auto& b : c) total += std::accumulate(b.gains.begin(), b.gains.end(), 0.0);
        for (int s = 0; s < 12; ++s) {
            const double lambda = std::exp(-6 + 8 * g.uniform());
            double best_cost = INFINITY;
            std::vector<std::size_t> best_w;
            for_each_widths(c, [&](const std::vector<std::size_t>& w) {
                const double cost = (total - gain_of(c, w)) + lambda * double(bits_of(c, w));
                if (cost < best_cost) best_cost = cost, best_w = w;
            });
            const Allocation a = allocate_bits(c, bits_of(c, best_w));
            BOOST_TEST(a.gain >= gain_of(c, best_w) * (1 - 1e-12), "trial " << trial << " lambda " << lambda);
        }
    }
}

BOOST_AUTO_TEST_CASE(allocation_between_breakpoints_and_for_a_gain)
{
    SplitMix64 g(7);
    for (int trial = 0; trial < 150; ++trial) {
        const auto c = random_curves(g, 3);
        std::uint64_t all = 0;
        double most_per_term = 0;
        for (const auto& b : c) {
            all += b.gains.size() * b.term_bits;
            for (double x : b.gains) most_per_term = std::max(most_per_term, x);
        }
        for (std::uint64_t budget = 0; budget <= all; budget += 1 + all / 23) {
            const Allocation a = allocate_bits(c, budget);
            double best = 0, largest_segment = 0;
            for_each_widths(c, [&](const std::vector<std::size_t>& w) {
                if (bits_of(c, w) <= budget) best = std::max(best, gain_of(c, w));
            });
            for (const auto& b : c) largest_segment += std::accumulate(b.gains.begin(), b.gains.end(), 0.0);
            BOOST_TEST(a.term_bits <= budget);
            // Within one segment's gain of the optimum (a block's whole
            // sequence bounds any of its segments).
            double max_block = 0;
            for (const auto& b : c) max_block = std::max(max_block, std::accumulate(b.gains.begin(), b.gains.end(), 0.0));
            BOOST_TEST(a.gain >= best - max_block - 1e-9);
            // Nothing more fits: every block's next term is too dear, or
            // adds nothing.
            const std::uint64_t left = budget - a.term_bits;
            for (std::size_t b = 0; b < c.size(); ++b)
                if (a.widths[b] < c[b].gains.size()) BOOST_TEST((c[b].term_bits > left || c[b].gains[a.widths[b]] == 0));
        }
        // For a gain: reached with no more bits than the cheapest way to reach
        // it by brute force plus one block's whole sequence.
        double total = 0;
        for (const auto& b : c) total += std::accumulate(b.gains.begin(), b.gains.end(), 0.0);
        const double need = total * g.uniform();
        const Allocation a = allocate_gain(c, need, all);
        BOOST_TEST(a.target_reached);
        BOOST_TEST(a.gain >= need);
        std::uint64_t cheapest = all;
        for_each_widths(c, [&](const std::vector<std::size_t>& w) {
            if (gain_of(c, w) >= need) cheapest = std::min(cheapest, bits_of(c, w));
        });
        std::uint64_t slack = 0;
        for (const auto& b : c) slack = std::max<std::uint64_t>(slack, b.gains.size() * b.term_bits);
        BOOST_TEST(a.term_bits <= cheapest + slack);
        const Allocation capped = allocate_gain(c, total * 2, all);
        BOOST_TEST(!capped.target_reached);
    }
}

BOOST_AUTO_TEST_CASE(allocation_breaks_ties_by_block_then_term)
{
    std::vector<BlockCurve> c(3);
    for (auto& b : c) b = BlockCurve{{4.0, 4.0, 1.0}, 2};
    const Allocation a = allocate_bits(c, 6);  // three of the six equal terms
    BOOST_TEST(a.widths == (std::vector<std::size_t>{2, 1, 0}), boost::test_tools::per_element());
    const Allocation b = allocate_bits(c, 6);
    BOOST_TEST(a.widths == b.widths, boost::test_tools::per_element());
}

// ---------------------------------------------------------------------------
// Blocked decompositions
// ---------------------------------------------------------------------------

BOOST_AUTO_TEST_CASE(each_block_is_the_one_greedy_on_its_own_data)
{
    SplitMix64 g(8);
    const Shape shape{13, 9, 3};
    const auto x = field(g, shape);
    DecomposeOptions o;
    o.width = 4;
    o.seed = 77;
    o.blocks = BlockChoice::of({5, 4, 3});
    o.restarts = 0;
    const auto d = decompose(TensorView<float>{x.data(), shape}, o);
    BOOST_TEST(d.block_count() == 3u * 3u);
    for (std::size_t b = 0; b < d.block_count(); ++b) {
        BOOST_TEST_CONTEXT("block " << b)
        {
            const auto part = gather(d.grid(), b, x);
            DecomposeOptions one = o;
            one.blocks = BlockChoice::whole();
            one.seed = block_seed(o.seed, b);
            const auto alone = decompose(TensorView<float>{part.data(), d.grid().extents(b)}, one);
            BOOST_TEST(alone.block(0).scales() == d.block(b).scales(), boost::test_tools::per_element());
            // And the dense reference loop agrees on the first term's signs.
            const auto ref = dense_greedy(part, d.grid().extents(b), 1, one.seed);
            for (std::size_t a = 0; a < shape.size(); ++a)
                BOOST_TEST(to_ints(d.block(b).signs(a).column(0)) == ref[0].signs[a], boost::test_tools::per_element());
        }
    }
    // The whole tensor is the one-block case of the same path.
    o.blocks = BlockChoice::whole();
    const auto whole = decompose(TensorView<float>{x.data(), shape}, o);
    o.blocks = BlockChoice::of(shape);
    expect_same(whole, decompose(TensorView<float>{x.data(), shape}, o));
}

BOOST_AUTO_TEST_CASE(a_block_sequence_does_not_depend_on_how_far_it_is_run)
{
    SplitMix64 g(9);
    const Shape shape{12, 10, 6};
    const auto x = field(g, shape);
    DecomposeOptions o;
    o.blocks = BlockChoice::whole();
    o.flush_terms = 3;  // flushes fall inside both runs
    o.width = 7;
    const auto shortw = decompose(TensorView<float>{x.data(), shape}, o);
    o.width = 20;
    const auto longw = decompose(TensorView<float>{x.data(), shape}, o);
    expect_same(shortw, longw.prefix(7));
}

BOOST_AUTO_TEST_CASE(ceilings_that_would_bite_give_the_unbounded_allocation)
{
    SplitMix64 g(10);
    const Shape shape{24, 20, 3};
    const auto x = field(g, shape);
    for (const bool by_error : {false, true}) {
        BOOST_TEST_CONTEXT((by_error ? "rel error" : "bits per value"))
        {
            DecomposeOptions o;
            o.blocks = BlockChoice::of({8, 8, 3});
            o.flush_terms = 4;
            if (by_error) o.rel_error = 0.12;
            else o.bits_per_value = 1.3;
            // Every block decomposed as far as the budget could ever reach:
            // the allocation over the unbounded sequences.
            o.first_pass_share = 1e9;
            DecomposeReport unbounded_report;
            const auto unbounded = decompose(TensorView<float>{x.data(), shape}, o, &unbounded_report);
            BOOST_TEST(unbounded_report.rounds == 1u);
            for (const double share : {0.0, 0.3, 1.5}) {
                o.first_pass_share = share;
                DecomposeReport r;
                const auto d = decompose(TensorView<float>{x.data(), shape}, o, &r);
                BOOST_TEST_CONTEXT("share " << share)
                {
                    if (share == 0.0) BOOST_TEST(r.rounds > 1u);  // the ceilings did bite
                    expect_same(d, unbounded);
                    BOOST_TEST(r.rel_error == unbounded_report.rel_error);
                }
            }
        }
    }
}

BOOST_AUTO_TEST_CASE(ceilings_on_a_photograph_give_the_unbounded_allocation)
{
    // Real gains are not monotone: a block's term can gain more than the one
    // before it, which is where a ceiling too close to the allocated width
    // would change the answer (it did on this image before the phantom-term
    // rule of decompose.cpp).
    // An 8-bit gray PNG, read from the source root (the test's workdir).
    const Tensor camera = read_image("data/skimage_camera.png", UINT64_MAX);
    BOOST_REQUIRE_EQUAL(camera.dimension(), 2u);
    const std::vector<float> x(camera.begin(), camera.end());
    const Shape shape{camera.shape()[0], camera.shape()[1]};
    for (const double bits : {0.25, 0.5, 1.0}) {
        DecomposeOptions o;
        o.bits_per_value = bits;
        o.blocks = BlockChoice::of({32, 32});
        o.threads = 2;
        const auto bounded = decompose(TensorView<float>{x.data(), shape}, o);
        o.first_pass_share = 1e9;
        BOOST_TEST_CONTEXT("bits " << bits) expect_same(bounded, decompose(TensorView<float>{x.data(), shape}, o));
    }
}

BOOST_AUTO_TEST_CASE(budgets_bound_the_payload_and_blocks_share_it)
{
    SplitMix64 g(11);
    const Shape shape{40, 33, 3};
    const auto x = field(g, shape);
    for (const double bits : {0.25, 0.5, 1.0, 2.0}) {
        DecomposeOptions o;
        o.bits_per_value = bits;
        o.blocks = BlockChoice::of({16, 16, 3});
        DecomposeReport r;
        const auto d = decompose(TensorView<float>{x.data(), shape}, o, &r);
        BOOST_TEST(d.bits_per_value() <= bits);
        // Filled but for less than one term and the fixed costs (the widths,
        // a checksum per dataset, a byte's padding per block).
        const double N = double(count(shape));
        const double fixed = 8.0 * double(stored_dataset_bytes(d.block_count(), 4)) + 64 + 8.0 * double(d.block_count());
        BOOST_TEST(d.bits_per_value() * N + 16 * 16 + 3 + 32 + 64 + fixed > bits * N);
        // The reported error is the exact one.
        const Tensor rec = d.reconstruct();
        BOOST_TEST(compare(x, std::span<const float>(rec.data(), rec.size())).rel_fro_error ==
                   r.rel_error, boost::test_tools::tolerance(1e-9));
        // The textured half gets more terms than the quiet half.
        std::size_t top = 0, bottom = 0;
        for (std::size_t b = 0; b < d.block_count(); ++b)
            (d.grid().origin(b)[0] < 20 ? top : bottom) += d.block(b).width();
        BOOST_TEST(top > bottom);
    }
}

BOOST_AUTO_TEST_CASE(results_are_identical_for_any_thread_count)
{
    SplitMix64 g(12);
    const Shape shape{30, 26, 3};
    const auto x = field(g, shape);
    DecomposeOptions o;
    o.bits_per_value = 1.0;
    o.blocks = BlockChoice::of({8, 8, 3});
    o.first_pass_share = 0.5;
    o.threads = 1;
    const auto one = decompose(TensorView<float>{x.data(), shape}, o);
    for (unsigned t : {2u, 3u, 7u}) {
        o.threads = t;
        expect_same(one, decompose(TensorView<float>{x.data(), shape}, o));
    }
}

BOOST_AUTO_TEST_CASE(regions_equal_the_slice_of_the_full_reconstruction)
{
    SplitMix64 g(13);
    const Shape shape{19, 14, 5};
    const auto x = field(g, shape);
    DecomposeOptions o;
    o.bits_per_value = 2.0;
    o.blocks = BlockChoice::of({6, 5, 5});
    const auto d = decompose(TensorView<float>{x.data(), shape}, o);
    const Tensor full = d.reconstruct(2);
    for (int trial = 0; trial < 60; ++trial) {
        Region r;
        for (std::size_t a = 0; a < shape.size(); ++a) {
            const std::size_t s = g.next() % shape[a];
            if (g.next() % 4 == 0) r.push_back({s, s + 1, false});
            else r.push_back({s, s + 1 + g.next() % (shape[a] - s), true});
        }
        if (trial == 0) r = full_region(shape);
        const Tensor part = d.reconstruct(r, 1 + trial % 2);
        BOOST_TEST_REQUIRE(part.size() == count(region_shape(r)));
        std::size_t i = 0;
        bool equal = true;
        for (std::size_t a0 = r[0].start; a0 < r[0].stop; ++a0)
            for (std::size_t a1 = r[1].start; a1 < r[1].stop; ++a1)
                for (std::size_t a2 = r[2].start; a2 < r[2].stop; ++a2) {
                    const float v = full.data()[(a0 * shape[1] + a1) * shape[2] + a2];
                    equal = equal && std::memcmp(&v, part.data() + i, sizeof v) == 0;
                    if (trial < 5) BOOST_TEST(d.element({a0, a1, a2}) == v, boost::test_tools::tolerance(1e-5f));
                    ++i;
                }
        BOOST_TEST(equal, "region " << format_region(r, shape));
    }
    // The error block by block equals the comparison with the full tensor.
    const ErrorMetrics m = d.error_against(x, 2);
    const ErrorMetrics ref = compare(x, std::span<const float>(full.data(), full.size()));
    BOOST_TEST(m.rel_fro_error == ref.rel_fro_error, boost::test_tools::tolerance(1e-12));
    BOOST_TEST(m.max_abs_error == ref.max_abs_error);
}

BOOST_AUTO_TEST_CASE(apply_of_a_blocked_matrix_is_its_product)
{
    SplitMix64 g(14);
    const Shape shape{37, 29};
    const auto x = field(g, shape);
    DecomposeOptions o;
    o.bits_per_value = 3.0;
    o.blocks = BlockChoice::of({16, 8});
    const auto d = decompose(TensorView<float>{x.data(), shape}, o);
    const Tensor full = d.reconstruct();
    const auto v = random_normal(g, 29), u = random_normal(g, 37);
    std::vector<float> y(37), z(29);
    d.apply(v, y);
    d.apply_transpose(u, z);
    for (std::size_t i = 0; i < 37; ++i) {
        double s = 0;
        for (std::size_t j = 0; j < 29; ++j) s += double(full.data()[i * 29 + j]) * v[j];
        BOOST_TEST(y[i] == s, boost::test_tools::tolerance(1e-3));
    }
    for (std::size_t j = 0; j < 29; ++j) {
        double s = 0;
        for (std::size_t i = 0; i < 37; ++i) s += double(full.data()[i * 29 + j]) * u[i];
        BOOST_TEST(z[j] == s, boost::test_tools::tolerance(1e-3));
    }
}

BOOST_AUTO_TEST_CASE(payload_counts_chunks_checksums_and_segments)
{
    BOOST_TEST(stored_dataset_bytes(0, 4) == 0u);
    BOOST_TEST(stored_dataset_bytes(10, 4) == 44u);
    // 1.5 MiB: two equal chunks, each with its checksum.
    BOOST_TEST(stored_dataset_bytes(3u << 19, 1) == (3u << 19) + 8u);
    BOOST_TEST(dataset_chunk_elements(3u << 19, 1) == 3u << 18);
    SplitMix64 g(15);
    const Shape shape{10, 7, 3};
    const auto x = field(g, shape);
    DecomposeOptions o;
    o.width = 3;
    o.blocks = BlockChoice::of({4, 7, 2});
    const auto d = decompose(TensorView<float>{x.data(), shape}, o);
    std::uint64_t sign_bytes = 0;
    for (std::size_t b = 0; b < d.block_count(); ++b) sign_bytes += (3 * d.grid().signs_per_term(b) + 7) / 8;
    const Payload p = d.payload();
    BOOST_TEST(p.signs_bytes == sign_bytes + 4);
    // Short scales: 13 bits each, packed, one byte more, the checksum.
    BOOST_TEST(d.scale_bits() == short_scale_bits);
    BOOST_TEST(p.scales_bytes == 13 * d.width() / 8 + 1 + 4);
    BOOST_TEST(stored_scales_bytes(d.width(), float32_scale_bits) == 4 * d.width() + 4);
    // Chunks of 2^18 four-byte values, each packed on its own.
    BOOST_TEST(stored_packed_dataset_bytes(3u << 18, 13) == 3 * ((13u << 18) / 8 + 1 + 4));
    // Widths of 3 need 2 bits each: packed, one byte more, the checksum.
    BOOST_TEST(width_bits(3) == 2u);
    BOOST_TEST(width_bits(0) == 1u);
    BOOST_TEST(width_bits(UINT32_MAX) == 32u);
    BOOST_TEST(p.widths_bytes == 2 * d.block_count() / 8 + 1 + 4);
    BOOST_TEST(stored_widths_bytes(d.block_count(), std::uint64_t{1} << 31) == 4 * d.block_count() + 4);
    BOOST_TEST(d.counted_bits_per_value() < d.bits_per_value());
}

BOOST_AUTO_TEST_SUITE_END()

BOOST_AUTO_TEST_CASE(the_auto_rule_trials_report_as_trials_and_can_be_cancelled)
{
    SplitMix64 g(41);
    const Shape shape{128, 96};
    const auto x = field(g, shape);
    const TensorView<float> v{x.data(), shape};
    DecomposeOptions o;
    o.bits_per_value = 1.0;
    std::size_t trials = 0, run = 0;
    o.progress = [&](const Progress& p) {
        ++(p.trial ? trials : run);
        return true;
    };
    DecomposeReport report;
    const auto d = decompose(v, o, &report);
    BOOST_TEST_REQUIRE(trials > 0u);  // the field is smooth enough for the rule to try tiles
    BOOST_TEST(!report.cancelled);
    // A stop asked for during the trials: there are no terms of the run
    // yet, so the run throws.
    o.progress = [](const Progress& p) { return !p.trial; };
    try {
        decompose(v, o);
        BOOST_FAIL("expected errc::cancelled");
    } catch (const Error& e) {
        BOOST_TEST(int(e.code()) == int(errc::cancelled));
    }
    // The same options without a callback give the same result as with one
    // that never stops.
    o.progress = nullptr;
    BOOST_TEST(decompose(v, o).sign_stream() == d.sign_stream());
}
