// The rate–distortion allocation (allocation.hpp; design §3b).
//
// Every block's cumulative curve has equally spaced points (m·t_b, G_m), so
// its upper convex hull is found with slopes in units of gain per term; a
// segment i → j has slope (G_j − G_i) / ((j − i)·t_b). A priority queue holds
// each block's next hull segment. The order is total (slope, then block, then
// term), so the result does not depend on the queue's implementation.
#include "signcut/allocation.hpp"

#include <algorithm>
#include <cmath>
#include <queue>

#include <fmt/format.h>

#include "signcut/error.hpp"

namespace signcut {
namespace {

struct Segment {
    double slope = 0;  // gain per bit
    std::size_t block = 0, from = 0, to = 0;
};

/// The queue's order: the highest slope first; ties to the lower block, then
/// the earlier term.
struct Later {
    bool operator()(const Segment& a, const Segment& b) const
    {
        if (a.slope != b.slope) return a.slope < b.slope;
        if (a.block != b.block) return a.block > b.block;
        return a.from > b.from;
    }
};

/// One block's state: its cumulative gains and the hull vertices still ahead.
class BlockHull {
public:
    BlockHull(const BlockCurve& curve, std::size_t block) : curve_(curve), block_(block)
    {
        cumulative_.assign(curve.gains.size() + 1, 0.0);
        for (std::size_t j = 0; j < curve.gains.size(); ++j) cumulative_[j + 1] = cumulative_[j] + curve.gains[j];
    }

    /// Recomputes the hull from vertex `from` over the terms up to `limit`.
    void rebuild(std::size_t from, std::size_t limit)
    {
        limit = std::min(limit, curve_.gains.size());
        vertices_.clear();
        next_ = 0;
        if (limit <= from) return;
        // Andrew's monotone chain, upper side, on points (m, G_m), m = from..limit.
        std::vector<std::size_t>& h = vertices_;
        for (std::size_t m = from; m <= limit; ++m) {
            while (h.size() >= 2) {
                const std::size_t a = h[h.size() - 2], b = h.back();
                // b lies on or below the line a → m: drop it (collinear points
                // are dropped too, so a segment runs as far as its slope holds).
                const double cross = (cumulative_[b] - cumulative_[a]) * double(m - a) -
                                     (cumulative_[m] - cumulative_[a]) * double(b - a);
                if (cross <= 0) h.pop_back();
                else break;
            }
            h.push_back(m);
        }
    }

    /// The next segment with a positive slope, if any.
    bool next(Segment& s) const
    {
        if (next_ + 1 >= vertices_.size()) return false;
        const std::size_t i = vertices_[next_], j = vertices_[next_ + 1];
        const double gain = cumulative_[j] - cumulative_[i];
        if (!(gain > 0)) return false;
        s = Segment{gain / (double(j - i) * double(curve_.term_bits)), block_, i, j};
        return true;
    }
    void advance() { ++next_; }
    double gain(std::size_t i, std::size_t j) const { return cumulative_[j] - cumulative_[i]; }
    std::uint64_t term_bits() const { return curve_.term_bits; }

private:
    const BlockCurve& curve_;
    std::size_t block_;
    std::vector<double> cumulative_;
    std::vector<std::size_t> vertices_;
    std::size_t next_ = 0;
};

void check_curves(std::span<const BlockCurve> curves)
{
    for (std::size_t b = 0; b < curves.size(); ++b) {
        if (curves[b].term_bits == 0)
            throw Error(errc::invalid_argument, fmt::format("allocation: block {} has terms of 0 bits", b));
        for (std::size_t j = 0; j < curves[b].gains.size(); ++j)
            if (!(curves[b].gains[j] >= 0) || !std::isfinite(curves[b].gains[j]))
                throw Error(errc::invalid_argument,
                            fmt::format("allocation: gain {} of block {} is {}", j, b, curves[b].gains[j]));
    }
}

/// The shared loop. With `needed_gain` set, stops once the gains reach it.
Allocation allocate(std::span<const BlockCurve> curves, std::uint64_t budget_bits, const double* needed_gain)
{
    check_curves(curves);
    Allocation result;
    result.widths.assign(curves.size(), 0);
    std::vector<BlockHull> hulls;
    hulls.reserve(curves.size());
    std::priority_queue<Segment, std::vector<Segment>, Later> queue;
    std::uint64_t remaining = budget_bits;
    const auto fitting = [&](std::size_t b, std::size_t from) {
        return from + static_cast<std::size_t>(std::min<std::uint64_t>(remaining / hulls[b].term_bits(), SIZE_MAX - from));
    };
    for (std::size_t b = 0; b < curves.size(); ++b) {
        hulls.emplace_back(curves[b], b);
        hulls[b].rebuild(0, fitting(b, 0));
        Segment s;
        if (hulls[b].next(s)) queue.push(s);
    }
    if (needed_gain != nullptr && *needed_gain <= 0) return result;

    while (!queue.empty()) {
        const Segment s = queue.top();
        queue.pop();
        BlockHull& h = hulls[s.block];
        const std::uint64_t cost = std::uint64_t(s.to - s.from) * h.term_bits();
        if (cost > remaining) {
            // Too long for what is left: the hull of the terms that still fit.
            h.rebuild(s.from, fitting(s.block, s.from));
            Segment shorter;
            if (h.next(shorter)) queue.push(shorter);
            continue;
        }
        std::size_t to = s.to;
        if (needed_gain != nullptr && result.gain + h.gain(s.from, s.to) >= *needed_gain) {
            // The last segment, only as far as the target needs.
            to = s.from + 1;
            while (to < s.to && result.gain + h.gain(s.from, to) < *needed_gain) ++to;
        }
        result.widths[s.block] = to;
        result.gain += h.gain(s.from, to);
        const std::uint64_t spent = std::uint64_t(to - s.from) * h.term_bits();
        remaining -= spent;
        result.term_bits += spent;
        if (needed_gain != nullptr && result.gain >= *needed_gain) return result;
        h.advance();
        Segment following;
        if (h.next(following)) queue.push(following);
    }
    if (needed_gain != nullptr) result.target_reached = result.gain >= *needed_gain;
    return result;
}

}  // namespace

Allocation allocate_bits(std::span<const BlockCurve> curves, std::uint64_t budget_bits)
{
    return allocate(curves, budget_bits, nullptr);
}

Allocation allocate_gain(std::span<const BlockCurve> curves, double needed_gain, std::uint64_t budget_bits)
{
    if (!std::isfinite(needed_gain))
        throw Error(errc::invalid_argument, fmt::format("allocation: the gain to reach is {}", needed_gain));
    return allocate(curves, budget_bits, &needed_gain);
}

}  // namespace signcut
