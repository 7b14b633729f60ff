// The rate–distortion allocation (allocation.hpp; design §3b).
//
// Every block offers points (bits, gain): the prefixes of its terms, equally
// spaced (m·t_b, G_m), and the alternatives other codecs give. Sorted by
// bits (at equal bits only the largest gain is kept, a prefix before an
// alternative on a tie), their upper convex hull is a chain of segments of
// falling slope (gain per bit). A priority queue holds each block's next
// hull segment. The order is total (slope, then block, then point), so the
// result does not depend on the queue's implementation. Without
// alternatives the points and the hull are those of the terms alone, so the
// result is the terms-only allocation exactly.
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
    std::size_t block = 0, from = 0, to = 0;  // indices into the block's points
};

/// The queue's order: the highest slope first; ties to the lower block, then
/// the earlier point.
struct Later {
    bool operator()(const Segment& a, const Segment& b) const
    {
        if (a.slope != b.slope) return a.slope < b.slope;
        if (a.block != b.block) return a.block > b.block;
        return a.from > b.from;
    }
};

/// One of a block's points.
struct Point {
    std::uint64_t bits = 0;
    double gain = 0;
    std::size_t width = 0;   // terms, for a prefix
    std::size_t choice = 0;  // 0 for a prefix, i + 1 for alternatives[i]
};

/// One block's state: its points in increasing bits and the hull vertices
/// still ahead.
class BlockHull {
public:
    BlockHull(const BlockCurve& curve, std::size_t block) : block_(block)
    {
        // Prefixes, already in increasing bits.
        std::vector<Point> prefixes(curve.gains.size() + 1);
        for (std::size_t j = 0; j < curve.gains.size(); ++j) {
            prefixes[j + 1].bits = std::uint64_t(j + 1) * curve.term_bits;
            prefixes[j + 1].gain = prefixes[j].gain + curve.gains[j];
            prefixes[j + 1].width = j + 1;
        }
        if (curve.alternatives.empty()) {
            points_ = std::move(prefixes);
            return;
        }
        std::vector<Point> alternatives(curve.alternatives.size());
        for (std::size_t i = 0; i < alternatives.size(); ++i)
            alternatives[i] = Point{curve.alternatives[i].bits, curve.alternatives[i].gain, 0, i + 1};
        std::stable_sort(alternatives.begin(), alternatives.end(),
                         [](const Point& a, const Point& b) { return a.bits < b.bits; });
        std::vector<Point> all;
        all.reserve(prefixes.size() + alternatives.size());
        std::merge(prefixes.begin(), prefixes.end(), alternatives.begin(), alternatives.end(), std::back_inserter(all),
                   [](const Point& a, const Point& b) { return a.bits < b.bits; });
        // At equal bits, the largest gain (the first of those on a tie).
        for (const Point& p : all) {
            if (!points_.empty() && points_.back().bits == p.bits) {
                if (p.gain > points_.back().gain) points_.back() = p;
                continue;
            }
            points_.push_back(p);
        }
    }

    /// Recomputes the hull from point `from` over the points of at most
    /// `max_bits`.
    void rebuild(std::size_t from, std::uint64_t max_bits)
    {
        std::size_t limit = from;
        while (limit + 1 < points_.size() && points_[limit + 1].bits <= max_bits) ++limit;
        vertices_.clear();
        next_ = 0;
        if (limit <= from) return;
        // Andrew's monotone chain, upper side, on the points from..limit.
        std::vector<std::size_t>& h = vertices_;
        for (std::size_t m = from; m <= limit; ++m) {
            while (h.size() >= 2) {
                const Point &a = points_[h[h.size() - 2]], &b = points_[h.back()], &c = points_[m];
                // b lies on or below the line a → c: drop it (collinear points
                // are dropped too, so a segment runs as far as its slope holds).
                const double cross = (b.gain - a.gain) * double(c.bits - a.bits) -
                                     (c.gain - a.gain) * double(b.bits - a.bits);
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
        const double gain = points_[j].gain - points_[i].gain;
        if (!(gain > 0)) return false;
        s = Segment{gain / double(points_[j].bits - points_[i].bits), block_, i, j};
        return true;
    }
    void advance() { ++next_; }
    const Point& point(std::size_t i) const { return points_[i]; }
    /// The first point after i, up to j, whose gain over i brings `have`
    /// to `needed`.
    std::size_t first_reaching(std::size_t i, std::size_t j, double have, double needed) const
    {
        for (std::size_t k = i + 1; k < j; ++k)
            if (have + (points_[k].gain - points_[i].gain) >= needed) return k;
        return j;
    }

private:
    std::size_t block_;
    std::vector<Point> points_;
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
        for (std::size_t i = 0; i < curves[b].alternatives.size(); ++i)
            if (!std::isfinite(curves[b].alternatives[i].gain))
                throw Error(errc::invalid_argument, fmt::format("allocation: alternative {} of block {} has gain {}", i,
                                                                b, curves[b].alternatives[i].gain));
    }
}

/// The shared loop. With `needed_gain` set, stops once the gains reach it.
Allocation allocate(std::span<const BlockCurve> curves, std::uint64_t budget_bits, const double* needed_gain)
{
    check_curves(curves);
    Allocation result;
    result.widths.assign(curves.size(), 0);
    result.choices.assign(curves.size(), 0);
    std::vector<BlockHull> hulls;
    hulls.reserve(curves.size());
    std::priority_queue<Segment, std::vector<Segment>, Later> queue;
    std::uint64_t remaining = budget_bits;
    const auto reach = [&](std::size_t b, std::size_t from) {
        const std::uint64_t at = hulls[b].point(from).bits;
        return at + std::min(remaining, UINT64_MAX - at);
    };
    for (std::size_t b = 0; b < curves.size(); ++b) {
        hulls.emplace_back(curves[b], b);
        hulls[b].rebuild(0, reach(b, 0));
        Segment s;
        if (hulls[b].next(s)) queue.push(s);
    }
    if (needed_gain != nullptr && *needed_gain <= 0) return result;

    while (!queue.empty()) {
        const Segment s = queue.top();
        queue.pop();
        BlockHull& h = hulls[s.block];
        const Point& from = h.point(s.from);
        const std::uint64_t cost = h.point(s.to).bits - from.bits;
        if (cost > remaining) {
            // Too long for what is left: the hull of the points that still fit.
            h.rebuild(s.from, reach(s.block, s.from));
            Segment shorter;
            if (h.next(shorter)) queue.push(shorter);
            continue;
        }
        std::size_t to = s.to;
        if (needed_gain != nullptr && result.gain + (h.point(s.to).gain - from.gain) >= *needed_gain)
            // The last segment, only as far as the target needs.
            to = h.first_reaching(s.from, s.to, result.gain, *needed_gain);
        const Point& p = h.point(to);
        result.widths[s.block] = p.width;
        result.choices[s.block] = p.choice;
        result.gain += p.gain - from.gain;
        const std::uint64_t spent = p.bits - from.bits;
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
