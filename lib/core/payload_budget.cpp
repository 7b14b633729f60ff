// Budgets on the payload (payload_budget.hpp).
#include "payload_budget.hpp"

#include <algorithm>
#include <cmath>
#include <limits>

#include "signcut/decomposition.hpp"

namespace signcut::detail {

std::uint64_t budget_bits(double bits_per_value, std::uint64_t n)
{
    const double b = std::floor(bits_per_value * static_cast<double>(n));
    return b >= 1.8e19 ? std::numeric_limits<std::uint64_t>::max() / 2 : static_cast<std::uint64_t>(b);
}

namespace {

/// The payload of `widths` by `rule`, and how many plain sign bytes each
/// stored one stands for (1 for plain signs).
struct Measured {
    std::uint64_t bits = 0;
    double sign_expansion = 1.0;
};

Measured measure(const BlockGrid& grid, const PayloadRule& rule, std::span<const std::size_t> widths,
                 const CodedStorage& coded)
{
    std::uint64_t terms = 0, sign_bytes = 0, max_width = 0;
    for (std::size_t b = 0; b < widths.size(); ++b) {
        terms += widths[b];
        sign_bytes += (widths[b] * grid.signs_per_term(b) + 7) / 8;
        max_width = std::max<std::uint64_t>(max_width, widths[b]);
    }
    Payload p = blocks_payload(grid.count(), max_width, terms, sign_bytes, coded, rule.scale_bits);
    Measured m;
    if (rule.stored_sign_bytes && sign_bytes > 0) {
        const std::uint64_t plain = p.signs_bytes;
        p.signs_bytes = rule.stored_sign_bytes(widths);
        if (p.signs_bytes > 0) m.sign_expansion = std::max(1.0, double(plain) / double(p.signs_bytes));
    }
    m.bits = p.bits();
    return m;
}

}  // namespace

std::uint64_t payload_bits(const BlockGrid& grid, const PayloadRule& rule, std::span<const std::size_t> widths)
{
    return measure(grid, rule, widths, {}).bits;
}

CodedStorage chosen_storage(std::span<const BlockCurve> curves, const Allocation& a, const CodedStorage& kept)
{
    CodedStorage s = kept;
    for (std::size_t b = 0; b < a.choices.size(); ++b) {
        if (a.choices[b] == 0) continue;
        const AlternativePoint& p = curves[b].alternatives[a.choices[b] - 1];
        ++s.blocks;
        s.streams += p.streams;
        s.stream_bytes += (p.bits - 32 * std::uint64_t(p.streams)) / 8;
    }
    return s;
}

double allocated_gain(std::span<const BlockCurve> curves, const Allocation& a)
{
    double gain = 0;
    for (std::size_t b = 0; b < curves.size(); ++b) {
        if (!a.choices.empty() && a.choices[b] != 0) {
            gain += curves[b].alternatives[a.choices[b] - 1].gain;
            continue;
        }
        for (std::size_t j = 0; j < a.widths[b]; ++j) gain += curves[b].gains[j];
    }
    return gain;
}

std::uint64_t payload_bits(const BlockGrid& grid, const PayloadRule& rule, std::span<const BlockCurve> curves,
                           const Allocation& a, const CodedStorage& kept)
{
    return measure(grid, rule, a.widths, chosen_storage(curves, a, kept)).bits;
}

std::uint64_t term_bits_ceiling(const BlockGrid& grid, const PayloadRule& rule, std::uint64_t total,
                                const CodedStorage& kept)
{
    // The widths at their narrowest, the checksums of the scales and signs;
    // with short scales also the n-bit filter's byte.
    const std::uint64_t fixed =
        blocks_payload(grid.count(), 0, 0, 0, kept, rule.scale_bits).bits() + 2 * 32 + (rule.scale_bits < 32 ? 8 : 0);
    return total > fixed ? total - fixed : 0;
}

namespace {

/// Runs `alloc(term_budget)` and moves the term budget by what the exact
/// payload misses or exceeds, keeping the best allocation that fits. With
/// deflated signs a stored byte left over buys about as many plain sign
/// bytes as the last measure's expansion says, so the step is scaled by it. The
/// payload exceeds the term bits by the widths, checksums, chunk padding and
/// at most 7 bits per sign segment, all small and nearly constant, so a few
/// steps settle it. An allocation over the total is followed by a budget
/// below the bits it used, not below the budget it had: when it left some of
/// its budget unused, lowering only the budget can give the same allocation
/// again, step after step, and end with none that fits.
template <class F>
Allocation fit_payload(const BlockGrid& grid, const PayloadRule& rule, std::span<const BlockCurve> curves,
                       std::uint64_t total, const CodedStorage& kept, F&& alloc)
{
    std::uint64_t term_budget = term_bits_ceiling(grid, rule, total, kept);
    Allocation best;
    best.widths.assign(grid.count(), 0);
    best.choices.assign(grid.count(), 0);
    std::uint64_t cheapest = std::numeric_limits<std::uint64_t>::max();
    for (std::size_t b = 0; b < grid.count(); ++b) cheapest = std::min(cheapest, grid.signs_per_term(b) + rule.scale_bits);
    for (int step = 0; step < 12; ++step) {
        const Allocation a = alloc(term_budget);
        const Measured m = measure(grid, rule, a.widths, chosen_storage(curves, a, kept));
        const std::uint64_t p = m.bits;
        if (p <= total) {
            if (a.gain > best.gain || (a.gain == best.gain && a.term_bits < best.term_bits)) best = a;
            // Less room left than the cheapest term: nothing more can come.
            // With deflated signs each step deflates the whole stream, and
            // what a term stores is only known afterwards: a quarter of a
            // percent of the budget is close enough.
            if (total - p < cheapest || (rule.stored_sign_bytes && total - p < total / 400)) break;
            const auto grow = static_cast<std::uint64_t>(double(total - p) * m.sign_expansion);
            // The found terms are all taken: more budget changes nothing.
            if (term_budget > a.term_bits + grow && a.term_bits > 0 && step > 0) break;
            term_budget = std::max(term_budget, a.term_bits) + grow;
        } else {
            const auto shrink = static_cast<std::uint64_t>(double(p - total) * m.sign_expansion);
            term_budget = a.term_bits - std::min(a.term_bits, shrink);
        }
    }
    return best;
}

}  // namespace

Allocation allocate_payload(const BlockGrid& grid, const PayloadRule& rule, std::span<const BlockCurve> curves,
                            std::uint64_t total, const CodedStorage& kept)
{
    return fit_payload(grid, rule, curves, total, kept, [&](std::uint64_t t) { return allocate_bits(curves, t); });
}

Allocation allocate_gain_payload(const BlockGrid& grid, const PayloadRule& rule, std::span<const BlockCurve> curves,
                                 double needed_gain, std::uint64_t total, const CodedStorage& kept)
{
    Allocation a = allocate_gain(curves, needed_gain, term_bits_ceiling(grid, rule, total, kept));
    if (payload_bits(grid, rule, curves, a, kept) <= total) return a;
    // The target needs more than the cap allows: the best within the cap.
    a = allocate_payload(grid, rule, curves, total, kept);
    a.target_reached = a.gain >= needed_gain;
    return a;
}

}  // namespace signcut::detail
