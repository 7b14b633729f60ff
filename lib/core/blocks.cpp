// The block grid and regions (blocks.hpp).
#include "signcut/blocks.hpp"

#include <algorithm>
#include <charconv>
#include <string>

#include <fmt/format.h>

#include "signcut/error.hpp"

namespace signcut {

BlockGrid::BlockGrid(Shape shape, Shape block_shape) : shape_(std::move(shape)), block_shape_(std::move(block_shape))
{
    check_shape(shape_);
    if (block_shape_.size() != shape_.size())
        throw Error(errc::invalid_argument,
                    fmt::format("block shape {} has {} modes, the tensor {} has {}", format_shape(block_shape_),
                                block_shape_.size(), format_shape(shape_), shape_.size()));
    count_ = 1;
    grid_.resize(shape_.size());
    for (std::size_t a = 0; a < shape_.size(); ++a) {
        if (block_shape_[a] == 0 || block_shape_[a] > shape_[a])
            throw Error(errc::invalid_argument,
                        fmt::format("block shape {}: the extent {} of mode {} must be 1..{} (the tensor is {})",
                                    format_shape(block_shape_), block_shape_[a], a, shape_[a], format_shape(shape_)));
        grid_[a] = (shape_[a] + block_shape_[a] - 1) / block_shape_[a];
        count_ *= grid_[a];
    }
}

Shape BlockGrid::coordinates(std::size_t b) const
{
    Shape c(order());
    for (std::size_t a = order(); a-- > 0;) {
        c[a] = b % grid_[a];
        b /= grid_[a];
    }
    return c;
}

Shape BlockGrid::origin(std::size_t b) const
{
    Shape o = coordinates(b);
    for (std::size_t a = 0; a < order(); ++a) o[a] *= block_shape_[a];
    return o;
}

Shape BlockGrid::extents(std::size_t b) const
{
    const Shape o = origin(b);
    Shape e(order());
    for (std::size_t a = 0; a < order(); ++a) e[a] = std::min(block_shape_[a], shape_[a] - o[a]);
    return e;
}

std::uint64_t BlockGrid::block_size(std::size_t b) const { return element_count(extents(b)); }

std::uint64_t BlockGrid::signs_per_term(std::size_t b) const
{
    std::uint64_t s = 0;
    for (std::size_t e : extents(b)) s += e;
    return s;
}

namespace {

/// Calls f(tensor_offset, block_offset, run) for every contiguous run (along
/// the last mode) of block b.
template <class F>
void for_each_run(const BlockGrid& g, std::size_t b, F&& f)
{
    const Shape o = g.origin(b), e = g.extents(b);
    const Shape& d = g.shape();
    const std::size_t k = d.size();
    const std::size_t run = e[k - 1];
    std::uint64_t rows = 1;
    for (std::size_t a = 0; a + 1 < k; ++a) rows *= e[a];
    Shape idx(k, 0);
    for (std::uint64_t r = 0; r < rows; ++r) {
        std::uint64_t off = 0;
        for (std::size_t a = 0; a < k; ++a) off = off * d[a] + o[a] + idx[a];
        f(off, r * run, run);
        for (std::size_t a = k - 1; a-- > 0;) {
            if (++idx[a] < e[a]) break;
            idx[a] = 0;
        }
    }
}

}  // namespace

template <class T>
void BlockGrid::gather(std::size_t b, const T* tensor, float* out) const
{
    for_each_run(*this, b, [&](std::uint64_t src, std::uint64_t dst, std::size_t n) {
        for (std::size_t i = 0; i < n; ++i) out[dst + i] = static_cast<float>(tensor[src + i]);
    });
}
template void BlockGrid::gather<float>(std::size_t, const float*, float*) const;
template void BlockGrid::gather<double>(std::size_t, const double*, float*) const;

template <class T>
void BlockGrid::gather_from_rows(std::size_t b, std::size_t first_row, const T* rows, float* out) const
{
    std::uint64_t row_values = 1;
    for (std::size_t a = 1; a < shape_.size(); ++a) row_values *= shape_[a];
    const std::uint64_t skipped = std::uint64_t(first_row) * row_values;
    for_each_run(*this, b, [&](std::uint64_t src, std::uint64_t dst, std::size_t n) {
        for (std::size_t i = 0; i < n; ++i) out[dst + i] = static_cast<float>(rows[src - skipped + i]);
    });
}
template void BlockGrid::gather_from_rows<float>(std::size_t, std::size_t, const float*, float*) const;

void BlockGrid::scatter(std::size_t b, const float* block, float* tensor) const
{
    for_each_run(*this, b, [&](std::uint64_t dst, std::uint64_t src, std::size_t n) {
        std::copy(block + src, block + src + n, tensor + dst);
    });
}

std::uint64_t block_seed(std::uint64_t seed, std::size_t block)
{
    return seed + static_cast<std::uint64_t>(block) * 0x9e3779b97f4a7c15ull;
}

namespace {

std::vector<std::string_view> split(std::string_view text, char sep)
{
    std::vector<std::string_view> parts;
    std::size_t start = 0;
    for (;;) {
        const std::size_t p = text.find(sep, start);
        parts.push_back(text.substr(start, p == std::string_view::npos ? std::string_view::npos : p - start));
        if (p == std::string_view::npos) return parts;
        start = p + 1;
    }
}

bool parse_integer(std::string_view s, long long& v)
{
    if (s.empty()) return false;
    const char* end = s.data() + s.size();
    const auto [p, ec] = std::from_chars(s.data(), end, v);
    return ec == std::errc() && p == end;
}

}  // namespace

Shape parse_block_shape(std::string_view text, const Shape& shape)
{
    Shape b;
    for (std::string_view part : split(text, 'x')) {
        long long v = 0;
        if (!parse_integer(part, v) || v < 0)
            throw Error(errc::invalid_argument,
                        fmt::format("block shape '{}': '{}' is not a whole number (expected e.g. 64x64x3)", text, part));
        b.push_back(static_cast<std::size_t>(v));
    }
    (void)BlockGrid(shape, b);  // the checks, with their messages
    return b;
}

Region full_region(const Shape& shape)
{
    Region r;
    for (std::size_t d : shape) r.push_back(RegionRange{0, d, true});
    return r;
}

Region parse_region(std::string_view text, const Shape& shape)
{
    const auto entries = split(text, ',');
    if (entries.size() != shape.size())
        throw Error(errc::invalid_argument,
                    fmt::format("region '{}' has {} entries; the tensor {} has {} modes (one 'start:stop' or index "
                                "per mode)",
                                text, entries.size(), format_shape(shape), shape.size()));
    Region r;
    for (std::size_t a = 0; a < shape.size(); ++a) {
        const std::string_view e = entries[a];
        const long long d = static_cast<long long>(shape[a]);
        const auto bad = [&](const std::string& why) {
            return Error(errc::invalid_argument, fmt::format("region '{}': entry {} ('{}') {}", text, a, e, why));
        };
        const std::size_t colon = e.find(':');
        if (colon == std::string_view::npos) {
            long long i = 0;
            if (!parse_integer(e, i)) throw bad("is neither an index nor start:stop");
            if (i < 0) i += d;
            if (i < 0 || i >= d) throw bad(fmt::format("is out of range for mode {} of size {}", a, d));
            r.push_back(RegionRange{std::size_t(i), std::size_t(i) + 1, false});
            continue;
        }
        const std::string_view lo = e.substr(0, colon), hi = e.substr(colon + 1);
        if (hi.find(':') != std::string_view::npos) throw bad("has a step; steps are not supported");
        long long start = 0, stop = d;
        if (!lo.empty() && !parse_integer(lo, start)) throw bad("has a start that is not a whole number");
        if (!hi.empty() && !parse_integer(hi, stop)) throw bad("has a stop that is not a whole number");
        if (start < 0) start += d;
        if (stop < 0) stop += d;
        if (start < 0 || start > d || stop < 0 || stop > d)
            throw bad(fmt::format("is out of range for mode {} of size {}", a, d));
        if (start >= stop) throw bad("selects nothing");
        r.push_back(RegionRange{std::size_t(start), std::size_t(stop), true});
    }
    return r;
}

void check_region(const Region& region, const Shape& shape)
{
    if (region.size() != shape.size())
        throw Error(errc::invalid_argument, fmt::format("a region of a tensor {} needs {} ranges, got {}",
                                                        format_shape(shape), shape.size(), region.size()));
    for (std::size_t a = 0; a < shape.size(); ++a) {
        const RegionRange& r = region[a];
        if (!(r.start < r.stop && r.stop <= shape[a]) || (!r.keep && r.stop != r.start + 1))
            throw Error(errc::invalid_argument, fmt::format("region range {}:{} of mode {} does not fit size {}",
                                                            r.start, r.stop, a, shape[a]));
    }
}

Shape region_shape(const Region& region)
{
    Shape s;
    for (const RegionRange& r : region)
        if (r.keep) s.push_back(r.stop - r.start);
    return s;
}

std::string format_region(const Region& region, const Shape& shape)
{
    std::string out;
    for (std::size_t a = 0; a < region.size(); ++a) {
        if (a > 0) out += ',';
        const RegionRange& r = region[a];
        if (!r.keep) out += std::to_string(r.start);
        else if (r.start == 0 && a < shape.size() && r.stop == shape[a]) out += ':';
        else out += fmt::format("{}:{}", r.start, r.stop);
    }
    return out;
}

}  // namespace signcut
