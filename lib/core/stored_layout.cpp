#include "signcut/stored_layout.hpp"

#include <algorithm>

#include "sign_stream.hpp"

namespace signcut {

std::uint64_t StoredLayout::width() const noexcept
{
    std::uint64_t w = 0;
    for (std::uint64_t b : widths) w += b;
    return w;
}

std::uint64_t StoredLayout::max_width() const noexcept
{
    std::uint64_t m = 0;
    for (std::uint64_t b : widths) m = std::max(m, b);
    return m;
}

std::size_t StoredLayout::coded_block_count() const noexcept
{
    return static_cast<std::size_t>(std::count_if(codecs.begin(), codecs.end(), [](CodecId c) { return c != CodecId::sct; }));
}

CodedStorage StoredLayout::coded_storage() const noexcept
{
    CodedStorage s;
    for (std::size_t b = 0; b < codecs.size(); ++b) {
        if (codecs[b] == CodecId::sct) continue;
        ++s.blocks;
        s.streams += stream_sizes[b].size();
        for (std::uint64_t n : stream_sizes[b]) s.stream_bytes += n;
    }
    return s;
}

std::uint64_t StoredLayout::sign_stream_bytes() const
{
    std::uint64_t bytes = 0;
    for (std::size_t b = 0; b < widths.size(); ++b) bytes += detail::segment_bytes(widths[b], grid.signs_per_term(b));
    return bytes;
}

Payload StoredLayout::payload() const
{
    std::uint64_t sign_bytes = 0;
    for (std::size_t b = 0; b < widths.size(); ++b) sign_bytes += (widths[b] * grid.signs_per_term(b) + 7) / 8;
    Payload p = blocks_payload(widths.size(), max_width(), width(), sign_bytes, coded_storage(), scale_bits);
    if (deflated_sign_bytes > 0) p.signs_bytes = deflated_sign_bytes;
    return p;
}

double StoredLayout::bits_per_value() const
{
    const std::uint64_t n = element_count(grid.shape());
    return n == 0 ? 0.0 : static_cast<double>(payload().bits()) / static_cast<double>(n);
}

double StoredLayout::counted_bits_per_value() const
{
    const std::uint64_t n = element_count(grid.shape());
    if (n == 0) return 0.0;
    double bits = 0;
    for (std::size_t b = 0; b < widths.size(); ++b) {
        bits += static_cast<double>(widths[b]) * static_cast<double>(grid.signs_per_term(b) + scale_bits);
        // As CodedBlock::bits() counts a stream: its bytes and its size.
        for (std::uint64_t s : stream_sizes[b]) bits += static_cast<double>(8 * s + 32);
    }
    return bits / static_cast<double>(n);
}

BlockPlacement StoredLayout::placement(std::size_t b) const
{
    BlockPlacement p;
    for (std::size_t i = 0; i < b && i < widths.size(); ++i) {
        p.scale += widths[i];
        p.sign_byte += detail::segment_bytes(widths[i], grid.signs_per_term(i));
        p.stream += stream_sizes[i].size();
        for (std::uint64_t n : stream_sizes[i]) p.stream_byte += n;
    }
    return p;
}

StoredLayout stored_layout(const SignedCutDecomposition& d)
{
    StoredLayout l;
    l.grid = d.grid();
    const std::size_t G = d.block_count();
    l.widths.resize(G);
    l.codecs.resize(G);
    l.stream_sizes.resize(G);
    for (std::size_t b = 0; b < G; ++b) {
        l.widths[b] = d.block(b).width();
        l.codecs[b] = d.codec(b);
        for (const auto& s : d.coded(b).streams) l.stream_sizes[b].push_back(s.size());
    }
    l.scale_bits = d.scale_bits();
    if (d.signs_deflated()) {
        l.deflate_level = d.sign_storage()->deflate_level();
        l.deflated_sign_bytes = d.payload().signs_bytes;
    }
    l.scales_refit = d.scales_refit();
    return l;
}

}  // namespace signcut
