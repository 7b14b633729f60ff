#include "sign_stream.hpp"

#include <algorithm>

#include <fmt/format.h>

#include "signcut/error.hpp"

namespace signcut::detail {
namespace {

/// ORs the low `n` bits of `value` (n <= 64; higher bits must be 0) into the
/// bit string `out` from bit `pos` on, a byte at a time (LSB first).
void put_bits(std::uint8_t* out, std::uint64_t pos, std::uint64_t value, unsigned n) noexcept
{
    while (n > 0) {
        const unsigned offset = static_cast<unsigned>(pos % 8);
        const unsigned take = std::min(n, 8u - offset);
        const std::uint64_t mask = (std::uint64_t{1} << take) - 1;
        out[pos / 8] = static_cast<std::uint8_t>(out[pos / 8] | ((value & mask) << offset));
        value = take == 64 ? 0 : value >> take;
        n -= take;
        pos += take;
    }
}

/// Bits [pos, pos + n) of the bit string `in` (n <= 64), bit pos lowest.
std::uint64_t get_bits(const std::uint8_t* in, std::uint64_t pos, unsigned n) noexcept
{
    std::uint64_t value = 0;
    unsigned done = 0;
    while (done < n) {
        const unsigned offset = static_cast<unsigned>(pos % 8);
        const unsigned take = std::min(n - done, 8u - offset);
        const std::uint64_t bits = (static_cast<std::uint64_t>(in[pos / 8]) >> offset) & ((1u << take) - 1);
        value |= bits << done;
        done += take;
        pos += take;
    }
    return value;
}

}  // namespace

std::uint64_t segment_bytes(std::uint64_t width, std::uint64_t signs_per_term) noexcept
{
    const unsigned __int128 bits = static_cast<unsigned __int128>(width) * signs_per_term;
    const unsigned __int128 bytes = (bits + 7) / 8;
    return bytes > UINT64_MAX ? UINT64_MAX : static_cast<std::uint64_t>(bytes);
}

void pack_segment(const SignedCutTerms& terms, std::span<std::uint8_t> out)
{
    const Shape& extents = terms.shape();
    std::uint64_t per_term = 0;
    for (const std::size_t e : extents) per_term += e;
    if (out.size() != segment_bytes(terms.width(), per_term))
        throw Error(errc::invalid_argument, fmt::format("a sign segment of {} terms of {} signs needs {} bytes, not {}",
                                                        terms.width(), per_term,
                                                        segment_bytes(terms.width(), per_term), out.size()));
    std::fill(out.begin(), out.end(), std::uint8_t{0});
    std::uint64_t pos = 0;
    for (std::size_t j = 0; j < terms.width(); ++j) {
        for (std::size_t a = 0; a < extents.size(); ++a) {
            const std::uint64_t* column = terms.signs(a).column_data(j);
            const std::size_t e = extents[a];
            for (std::size_t i = 0; i * 64 < e; ++i) {
                const unsigned n = static_cast<unsigned>(std::min<std::size_t>(64, e - i * 64));
                // Padding bits are zero in a SignMatrix; the mask keeps a
                // damaged one from spilling into the next mode.
                put_bits(out.data(), pos, column[i] & tail_mask(n), n);
                pos += n;
            }
        }
    }
}

bool segment_tail_is_clear(std::span<const std::uint8_t> segment, std::uint64_t bits) noexcept
{
    if (segment.empty() || bits % 8 == 0) return true;
    return (segment.back() >> (bits % 8)) == 0;
}

std::vector<SignMatrix> unpack_segment(std::span<const std::uint8_t> segment, const Shape& extents, std::size_t width)
{
    std::uint64_t per_term = 0;
    for (const std::size_t e : extents) per_term += e;
    if (segment.size() != segment_bytes(width, per_term))
        throw Error(errc::invalid_argument, fmt::format("a sign segment of {} terms of {} signs has {} bytes, not {}",
                                                        width, per_term, segment_bytes(width, per_term),
                                                        segment.size()));
    std::vector<SignMatrix> signs;
    signs.reserve(extents.size());
    for (const std::size_t e : extents) signs.emplace_back(e, width);
    std::uint64_t pos = 0;
    for (std::size_t j = 0; j < width; ++j) {
        for (std::size_t a = 0; a < extents.size(); ++a) {
            std::uint64_t* column = signs[a].data() + j * signs[a].column_stride();
            const std::size_t e = extents[a];
            for (std::size_t i = 0; i * 64 < e; ++i) {
                const unsigned n = static_cast<unsigned>(std::min<std::size_t>(64, e - i * 64));
                column[i] = get_bits(segment.data(), pos, n);
                pos += n;
            }
        }
    }
    return signs;
}

std::vector<std::uint8_t> prefix_sign_stream(std::span<const std::vector<std::uint8_t>> segments,
                                             std::span<const std::uint64_t> signs_per_term,
                                             std::span<const std::size_t> widths)
{
    std::uint64_t total = 0;
    for (std::size_t b = 0; b < widths.size(); ++b) total += segment_bytes(widths[b], signs_per_term[b]);
    std::vector<std::uint8_t> stream(static_cast<std::size_t>(total));
    std::uint64_t at = 0;
    for (std::size_t b = 0; b < widths.size(); ++b) {
        const std::uint64_t bits = widths[b] * signs_per_term[b];
        const std::uint64_t bytes = segment_bytes(widths[b], signs_per_term[b]);
        if (bytes > segments[b].size())
            throw Error(errc::invalid_argument, fmt::format("block {}: a prefix of {} terms needs {} sign bytes, the "
                                                            "segment has {}",
                                                            b, widths[b], bytes, segments[b].size()));
        std::copy_n(segments[b].begin(), bytes, stream.begin() + static_cast<std::ptrdiff_t>(at));
        if (bits % 8 != 0) stream[at + bytes - 1] &= static_cast<std::uint8_t>((1u << (bits % 8)) - 1);
        at += bytes;
    }
    return stream;
}

}  // namespace signcut::detail
