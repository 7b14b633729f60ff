// The payload budget: allocations whose exact payload fits the total.
#include <boost/test/unit_test.hpp>

#include "payload_budget.hpp"
#include "signcut/blocks.hpp"
#include "signcut/decomposition.hpp"
#include "test_support.hpp"

using namespace signcut;

namespace {

/// Gains falling geometrically, so the allocation's hull has a vertex at
/// every term and any budget can be met to within one term.
BlockCurve falling_curve(const BlockGrid& grid, unsigned scale_bits, std::size_t b, std::size_t terms, double first,
                         double ratio)
{
    BlockCurve c;
    c.term_bits = grid.signs_per_term(b) + scale_bits;
    double g = first;
    for (std::size_t j = 0; j < terms; ++j, g *= ratio) c.gains.push_back(g);
    return c;
}

}  // namespace

BOOST_AUTO_TEST_CASE(allocation_fills_the_payload_without_passing_it)
{
    // Every total from a few terms' worth to all the terms, over grids whose
    // blocks differ in size (edge blocks) and curves that fall at different
    // rates: the payload never passes the total, and what is left is less
    // than the cheapest term plus the sign segments' byte padding. With
    // float32 and with short scales.
    SplitMix64 g(31);
    for (const unsigned scale_bits : {float32_scale_bits, short_scale_bits})
    for (const Shape& shape : {Shape{427, 640, 3}, Shape{100, 70}, Shape{33, 20, 17}}) {
        const Shape block = shape.size() == 3 ? Shape{64, 64, 3} : Shape{32, 32};
        const BlockGrid grid(shape, shape.size() == 3 && shape[2] == 17 ? Shape{16, 16, 8} : block);
        std::vector<BlockCurve> curves;
        for (std::size_t b = 0; b < grid.count(); ++b)
            curves.push_back(falling_curve(grid, scale_bits, b, 200, 1.0 + g.uniform(), 0.9 + 0.09 * g.uniform()));
        std::size_t all_terms = 0;
        for (const auto& c : curves) all_terms += c.gains.size();
        std::vector<std::size_t> all(grid.count(), 200);
        const detail::PayloadRule rule{scale_bits, {}};
        const std::uint64_t full = detail::payload_bits(grid, rule, all);
        for (int step = 1; step <= 60; ++step) {
            const std::uint64_t total = full * step / 60 + std::uint64_t(g.uniform() * 977);
            BOOST_TEST_CONTEXT("shape " << format_shape(shape) << ", scales of " << scale_bits << " bits, total "
                                        << total)
            {
                const Allocation a = detail::allocate_payload(grid, rule, curves, total);
                const std::uint64_t p = detail::payload_bits(grid, rule, a.widths);
                BOOST_TEST(p <= total);
                std::size_t kept = 0;
                for (std::size_t w : a.widths) kept += w;
                if (kept < all_terms) {
                    std::uint64_t cheapest = UINT64_MAX;
                    for (std::size_t b = 0; b < grid.count(); ++b)
                        cheapest = std::min<std::uint64_t>(cheapest, grid.signs_per_term(b) + scale_bits);
                    // Slack: one term, the byte padding of every segment and
                    // the widths' share of the checksummed datasets.
                    BOOST_TEST(total - p < cheapest + 8 * grid.count() + 256,
                               "left " << total - p << " of " << total << " bits unused");
                }
            }
        }
    }
}

BOOST_AUTO_TEST_CASE(compressed_signs_fill_the_payload_without_passing_it)
{
    // Signs stored in fewer bytes than they hold (as deflate stores them):
    // here a stand-in that keeps 55-95 % of a stream, less for the early,
    // smooth terms, exactly as the rule reports. The allocation counts the
    // stored bytes, so it takes more terms than plain bytes would allow,
    // never passes the total and leaves at most 2 % of it.
    SplitMix64 g(32);
    for (const Shape& shape : {Shape{427, 640, 3}, Shape{300, 220}}) {
        const BlockGrid grid(shape, shape.size() == 3 ? Shape{64, 64, 3} : Shape{32, 32});
        std::vector<BlockCurve> curves;
        for (std::size_t b = 0; b < grid.count(); ++b)
            curves.push_back(falling_curve(grid, short_scale_bits, b, 300, 1.0 + g.uniform(), 0.93 + 0.06 * g.uniform()));
        detail::PayloadRule plain{short_scale_bits, {}};
        detail::PayloadRule packed = plain;
        packed.stored_sign_bytes = [&](std::span<const std::size_t> widths) {
            std::uint64_t bytes = 0, kept = 0;
            for (std::size_t b = 0; b < widths.size(); ++b) {
                const std::uint64_t s = (widths[b] * grid.signs_per_term(b) + 7) / 8;
                bytes += s;
                // Early terms pack to 55 %, late ones to 95 %.
                kept += s * std::min<std::uint64_t>(95, 55 + widths[b] / 4) / 100;
            }
            return bytes == 0 ? 0 : kept + 4;
        };
        std::vector<std::size_t> all(grid.count(), 300);
        const std::uint64_t full = detail::payload_bits(grid, packed, all);
        for (int step = 1; step <= 20; ++step) {
            const std::uint64_t total = full * step / 25;
            BOOST_TEST_CONTEXT("shape " << format_shape(shape) << ", total " << total)
            {
                const Allocation a = detail::allocate_payload(grid, packed, curves, total);
                const std::uint64_t p = detail::payload_bits(grid, packed, a.widths);
                BOOST_TEST(p <= total);
                BOOST_TEST(p >= total * 98 / 100, "filled " << p << " of " << total);
                const Allocation b = detail::allocate_payload(grid, plain, curves, total);
                std::size_t with = 0, without = 0;
                for (std::size_t w : a.widths) with += w;
                for (std::size_t w : b.widths) without += w;
                BOOST_TEST(with > without);
            }
        }
    }
}
