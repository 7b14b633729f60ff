// An sct decomposition file read and rebuilt one slab (row of blocks along
// mode 0) at a time.
#include "streamed_reconstruction.hpp"

#include <algorithm>
#include <exception>
#include <system_error>
#include <thread>
#include <type_traits>

#include <fmt/format.h>

#include "decomposition_file.hpp"
#include "decomposition_reader.hpp"
#include "decomposition_methods.hpp"
#include "sign_stream.hpp"
#include "signcut/error.hpp"

namespace signcut::io {
namespace {

using u128 = unsigned __int128;

/// What one read block costs beyond its arrays: its terms object and, per
/// mode, its extent and sign matrix (read_decomposition counts the same).
std::uint64_t block_overhead(std::size_t order)
{
    return sizeof(SignedCutTerms) + sizeof(SlabBlock) + order * (sizeof(std::size_t) + sizeof(SignMatrix));
}

/// Σ of `count` stream sizes from `first`.
std::uint64_t streams_bytes(const std::vector<std::uint32_t>& sizes, std::uint64_t first, std::uint64_t count)
{
    std::uint64_t bytes = 0;
    for (std::uint64_t i = 0; i < count; ++i) bytes += sizes[static_cast<std::size_t>(first + i)];
    return bytes;
}

/// Calls fn(begin, end) on min(threads, n) contiguous pieces of [0, n), each
/// on its own thread (the caller takes the first), and rethrows the first
/// failure. Each item is computed by one thread whatever their number, so
/// results do not depend on it. Threads are started per call: a slab holds
/// enough work that starting them costs nothing measurable.
template <class Fn>
void on_threads(std::size_t n, unsigned threads, Fn&& fn)
{
    const std::size_t t = std::min<std::size_t>(std::max(1u, threads), n);
    if (t <= 1) {
        fn(std::size_t{0}, n);
        return;
    }
    std::vector<std::exception_ptr> errors(t);
    auto piece = [&](std::size_t i) {
        try {
            fn(n * i / t, n * (i + 1) / t);
        } catch (...) {
            errors[i] = std::current_exception();
        }
    };
    std::vector<std::thread> extra;
    extra.reserve(t - 1);
    std::size_t started = 1;
    try {
        for (; started < t; ++started) extra.emplace_back(piece, started);
    } catch (const std::system_error&) {
        // No more threads to be had: this one takes the pieces left over
        // (the same pieces, so the same results).
    }
    piece(0);
    for (std::size_t i = started; i < t; ++i) piece(i);
    for (std::thread& th : extra) th.join();
    for (const std::exception_ptr& e : errors)
        if (e) std::rethrow_exception(e);
}

}  // namespace

SlabReader::SlabReader(hid_t root, std::string path, const DecompositionInfo& info, const Region* region,
                       std::size_t width)
    : root_(root),
      path_(std::move(path)),
      info_(info),
      grid_(info.shape, info.block_shape),
      region_(region != nullptr ? *region : full_region(info.shape)),
      width_(width)
{
    const std::size_t k = info.shape.size();
    check_region(region_, info.shape);
    // Kept open for the reader's lifetime: HDF5's chunk cache lives with the
    // open dataset, so a chunk that two slabs share is read and checksummed
    // once, not once per slab.
    if (info.format_version >= 2 && info.width > 0) {
        scales_ = open_array(root, path_, item_path(root, "scales"));
        signs_ = open_array(root, path_, item_path(root, "signs"));
    }
    const bool coded_file = !info.codecs.empty();  // version 3
    if (coded_file) {
        streams_name_ = item_path(root, "streams");
        if (info.stream_bytes > 0) streams_ = open_array(root, path_, streams_name_);
        stream_sizes_ = read_stream_sizes(root, H5I_INVALID_HID, path_, info.coded_streams, info.stream_bytes);
    }
    output_shape_ = region != nullptr ? region_shape(region_) : info.shape;
    if (output_shape_.empty())
        throw Error(errc::invalid_argument,
                    fmt::format("{}: the region {} selects a single value; keep at least one mode as a range", path_,
                                format_region(region_, info.shape)));
    first_.resize(k);
    last_.resize(k);
    for (std::size_t a = 0; a < k; ++a) {
        first_[a] = region_[a].start / info.block_shape[a];
        last_[a] = (region_[a].stop - 1) / info.block_shape[a];
    }
    const Shape& grid = grid_.grid_shape();
    blocks_per_row_ = grid_.count() / grid[0];
    std::uint64_t row_values = 1;  // the region's values in one row of mode 0
    for (std::size_t a = 1; a < k; ++a) row_values *= region_[a].stop - region_[a].start;

    // One pass over the grid: where each row's blocks start in the file, and
    // what the touched ones hold once read.
    std::uint64_t scales_at = 0, bytes_at = 0, stream_at = 0, stream_bytes_at = 0;
    for (std::size_t g = 0; g < grid[0]; ++g) {
        Slab s;
        s.grid_row = g;
        s.scales_at = scales_at;
        s.bytes_at = bytes_at;
        s.stream_at = stream_at;
        s.stream_bytes_at = stream_bytes_at;
        const bool in_region = g >= first_[0] && g <= last_[0];
        SaturatingCount held;
        bool in_place = true;
        Shape origin(k);
        for_each_block_of_row(g, [&](std::uint64_t b, const Shape& coords, const Shape& extents) {
            const std::uint64_t w = info.widths[b];
            std::uint64_t per_term = 0, words = 0;
            for (const std::size_t e : extents) {
                per_term += e;
                words += words_for(e);
            }
            const std::uint64_t bytes = segment_bytes(w, per_term);
            const CodecId codec = coded_file ? info.codecs[b] : CodecId::sct;
            // Checked by the info: a known codec that can store the block.
            const std::uint64_t n = codec == CodecId::sct ? 0 : stored_codec(codec)->stream_count(extents);
            const std::uint64_t coded_bytes = streams_bytes(stream_sizes_, stream_at, n);
            stream_at += n;
            stream_bytes_at += coded_bytes;
            if (in_region && touched(coords)) {
                ++s.blocks;
                s.largest_block = std::max(s.largest_block, element_count(extents));
                if (codec != CodecId::sct) {
                    s.largest_coded = std::max(s.largest_coded, element_count(extents));
                    // The streams, read, then copied into the block.
                    held += SaturatingCount::product(coded_bytes, 2);
                    held += SaturatingCount::product(n, sizeof(std::vector<std::uint8_t>));
                    held += sizeof(CodedToRead);
                }
                // Scales read, then copied into the terms; the segment; the
                // sign matrices; a version-1 block is read whole and copied.
                held += SaturatingCount::product(w, 2 * sizeof(float));
                held += info.format_version == 1 ? u128{0} : u128{bytes};
                const std::size_t copies = info.format_version == 1 ? 2 : 1;
                held += SaturatingCount::product(SaturatingCount::product(w, words), copies * sizeof(std::uint64_t));
                held += block_overhead(k);
                for (std::size_t a = 0; a < k; ++a) origin[a] = coords[a] * info.block_shape[a];
                in_place = in_place && spans(origin, extents);
            }
            scales_at += w;     // Σ widths = width, checked by the info
            bytes_at += bytes;  // Σ = the length of `signs`, checked too
        });
        if (!in_region) continue;
        const std::size_t row0 = g * info.block_shape[0];
        const std::size_t r0 = std::max(row0, region_[0].start);
        const std::size_t r1 = std::min(row0 + info.block_shape[0], region_[0].stop);
        s.data_first = r0;
        s.data_rows = r1 - r0;
        s.first = region_[0].keep ? r0 - region_[0].start : 0;
        s.rows = region_[0].keep ? r1 - r0 : output_shape_[0];
        s.values = (r1 - r0) * row_values;
        s.first_value = (r0 - region_[0].start) * row_values;
        s.in_place = in_place;
        held += block_overhead(k);
        s.terms_bytes = held.clamped();
        slabs_.push_back(s);
    }
}

void SlabReader::join(std::uint64_t values, const std::function<bool(const Slab&)>& fits)
{
    std::vector<Slab> joined;
    for (const Slab& s : slabs_) {
        if (!joined.empty()) {
            Slab j = joined.back();
            // Consecutive rows of a region that keeps mode 0 (one that drops
            // it touches one row).
            j.grid_rows += s.grid_rows;
            j.rows += s.rows;
            j.data_rows += s.data_rows;
            j.values += s.values;
            j.blocks += s.blocks;
            j.largest_block = std::max(j.largest_block, s.largest_block);
            j.largest_coded = std::max(j.largest_coded, s.largest_coded);
            j.in_place = j.in_place && s.in_place;
            j.terms_bytes = (SaturatingCount(j.terms_bytes) += s.terms_bytes).clamped();
            if (j.values <= values && fits(j)) {
                joined.back() = j;
                continue;
            }
        }
        joined.push_back(s);
    }
    slabs_ = std::move(joined);
}

void SlabReader::keep_grid_rows(std::size_t first, std::size_t last)
{
    std::erase_if(slabs_, [&](const Slab& s) { return s.grid_row < first || s.grid_row + s.grid_rows > last; });
}

template <class F>
void SlabReader::for_each_block_of_row(std::size_t row, F&& f) const
{
    const std::size_t k = info_.shape.size();
    const Shape& grid = grid_.grid_shape();
    const Shape& bs = info_.block_shape;
    Shape coords(k, 0), extents(k);
    coords[0] = row;
    for (std::size_t a = 0; a < k; ++a)
        extents[a] = std::min(bs[a], info_.shape[a] - coords[a] * bs[a]);
    for (std::uint64_t i = 0; i < blocks_per_row_; ++i) {
        f(row * blocks_per_row_ + i, coords, extents);
        // The odometer over modes 1..k-1, in C order of the grid.
        for (std::size_t a = k; a-- > 1;) {
            if (++coords[a] < grid[a]) {
                extents[a] = std::min(bs[a], info_.shape[a] - coords[a] * bs[a]);
                break;
            }
            coords[a] = 0;
            extents[a] = std::min(bs[a], info_.shape[a]);
        }
    }
}

bool SlabReader::spans(const Shape& origin, const Shape& extents) const
{
    if (origin[0] < region_[0].start || origin[0] + extents[0] > region_[0].stop) return false;
    for (std::size_t a = 1; a < origin.size(); ++a)
        if (origin[a] != region_[a].start || extents[a] != region_[a].stop - region_[a].start) return false;
    return true;
}

bool SlabReader::touched(const Shape& coordinates) const
{
    for (std::size_t a = 0; a < coordinates.size(); ++a)
        if (coordinates[a] < first_[a] || coordinates[a] > last_[a]) return false;
    return true;
}

std::uint64_t SlabReader::held_bytes(const Slab& slab, std::size_t value_size, unsigned threads) const
{
    SaturatingCount held(slab.terms_bytes);
    held += SaturatingCount::product(slab.values, value_size);
    const std::uint64_t buffers = std::min<std::uint64_t>(std::max(1u, threads), slab.blocks);
    if (!slab.in_place)
        held += SaturatingCount::product(SaturatingCount::product(buffers, slab.largest_block), value_size);
    // A coded block decodes to float32, widened afterwards for a float64
    // output.
    if (value_size != sizeof(float))
        held += SaturatingCount::product(SaturatingCount::product(buffers, slab.largest_coded), sizeof(float));
    return held.clamped();
}

std::uint64_t SlabReader::index_bytes(const DecompositionInfo& info)
{
    SaturatingCount bytes(SaturatingCount::product(info.widths.size(), sizeof(std::uint32_t) + sizeof(std::uint64_t)));
    bytes += SaturatingCount::product(info.codecs.size(), sizeof(CodecId));
    bytes += SaturatingCount::product(info.coded_streams, sizeof(std::uint32_t));
    return bytes.clamped();
}

SlabTerms SlabReader::read(const Slab& slab) const
{
    SlabTerms out;
    if (info_.format_version == 1) {
        // One block, stored as the sign matrices themselves: the reader of
        // version 1 reads it; the memory it holds was counted by the caller
        // (held_bytes), so no limit is applied twice.
        const SignedCutDecomposition whole = read_sct_arrays(root_, path_, info_, UINT64_MAX, nullptr);
        out.push_back({0, width_ > 0 ? whole.block(0).prefix(width_) : whole.block(0), CodedBlock{}});
        return out;
    }
    const bool coded_file = !info_.codecs.empty();
    std::vector<BlockToRead> to_read;
    std::vector<CodedToRead> coded_to_read;
    to_read.reserve(slab.blocks);
    std::uint64_t scales_at = slab.scales_at, bytes_at = slab.bytes_at;
    std::uint64_t stream_at = slab.stream_at, stream_bytes_at = slab.stream_bytes_at;
    // The rows are consecutive, and so are their blocks in the file.
    for (std::size_t row = slab.grid_row; row < slab.grid_row + slab.grid_rows; ++row)
        for_each_block_of_row(row, [&](std::uint64_t b, const Shape& coords, const Shape& extents) {
            const std::uint64_t w = info_.widths[b];
            std::uint64_t per_term = 0;
            for (const std::size_t e : extents) per_term += e;
            const std::uint64_t bytes = segment_bytes(w, per_term);
            const CodecId codec = coded_file ? info_.codecs[b] : CodecId::sct;
            if (codec == CodecId::sct) {
                if (touched(coords)) to_read.push_back({b, w, scales_at, bytes_at, bytes});
            } else {
                const std::uint64_t n = stored_codec(codec)->stream_count(extents);
                const std::uint64_t coded_bytes = streams_bytes(stream_sizes_, stream_at, n);
                if (touched(coords)) coded_to_read.push_back({b, codec, stream_at, n, stream_bytes_at, coded_bytes});
                stream_at += n;
                stream_bytes_at += coded_bytes;
            }
            scales_at += w;
            bytes_at += bytes;
        });
    out.reserve(to_read.size() + coded_to_read.size());
    read_block_terms(root_, scales_.get(), signs_.get(), path_, grid_, info_.scales_refit, to_read,
                     [&](const BlockToRead& r, SignedCutTerms t) {
                         if (width_ > 0) t.truncate(width_);  // --width: the prefix of every block
                         out.push_back({static_cast<std::size_t>(r.block), std::move(t), CodedBlock{}});
                     });
    if (coded_to_read.empty()) return out;
    read_coded_blocks(root_, streams_.get(), path_, stream_sizes_, coded_to_read,
                      [&](const CodedToRead& r, CodedBlock c) {
                          const auto b = static_cast<std::size_t>(r.block);
                          out.push_back({b, SignedCutTerms(grid_.extents(b)), std::move(c)});
                      });
    // Back in grid order, as the blocks lie in the slab.
    std::sort(out.begin(), out.end(), [](const SlabBlock& x, const SlabBlock& y) { return x.block < y.block; });
    return out;
}

void SlabReader::reconstruct(const Slab& slab, const SlabTerms& terms, std::span<float> out, unsigned threads) const
{
    if (out.size() < slab.values) throw Error(errc::invalid_argument, "a slab buffer too small for its slab");
    reconstruct_values(slab, terms, out.data(), threads);
}

void SlabReader::reconstruct(const Slab& slab, const SlabTerms& terms, std::span<double> out, unsigned threads) const
{
    if (out.size() < slab.values) throw Error(errc::invalid_argument, "a slab buffer too small for its slab");
    reconstruct_values(slab, terms, out.data(), threads);
}

template <class T>
void SlabReader::reconstruct_values(const Slab& slab, const SlabTerms& terms, T* out, unsigned threads) const
{
    // A coded block is decoded by its codec (to float32, widened for a
    // float64 output, as SignedCutDecomposition::reconstruct_block_float64
    // does); a block of terms is summed.
    const auto rebuild = [&](const SlabBlock& sb, std::span<T> values, unsigned th, std::vector<float>& scratch) {
        if (sb.coded.codec != CodecId::sct) {
            const Shape e = grid_.extents(sb.block);
            if constexpr (std::is_same_v<T, double>) {
                scratch.resize(values.size());
                decode_coded_block(path_, streams_name_, sb.block, sb.coded, e, scratch);
                std::copy(scratch.begin(), scratch.end(), values.begin());
            } else {
                decode_coded_block(path_, streams_name_, sb.block, sb.coded, e, values);
            }
            return;
        }
        if constexpr (std::is_same_v<T, double>)
            sb.terms.reconstruct_float64_into(values, th);
        else
            sb.terms.reconstruct_into(values, th);
    };
    const std::size_t k = info_.shape.size();
    // The region's strides in the output (dropped modes count 1), as
    // SignedCutDecomposition's region copies them.
    Shape stride(k);
    std::uint64_t s = 1;
    for (std::size_t a = k; a-- > 0;) {
        stride[a] = s;
        s *= region_[a].stop - region_[a].start;
    }
    // A slab of one block gives it every thread; otherwise threads take
    // whole blocks, one thread each.
    const unsigned per_block = terms.size() == 1 ? threads : 1;
    on_threads(terms.size(), threads, [&](std::size_t i0, std::size_t i1) {
        std::vector<T> buf;
        std::vector<float> scratch;
        for (std::size_t i = i0; i < i1; ++i) {
            const std::size_t b = terms[i].block;
            const auto size = static_cast<std::size_t>(grid_.block_size(b));
            const Shape o = grid_.origin(b), e = grid_.extents(b);
            if (spans(o, e)) {
                // The block is a run of the slab in its own C order.
                const std::uint64_t at = (o[0] - region_[0].start) * stride[0] - slab.first_value;
                rebuild(terms[i], std::span<T>(out + at, size), per_block, scratch);
                continue;
            }
            buf.resize(size);
            rebuild(terms[i], buf, per_block, scratch);
            // Copy the block ∩ region, row by row along the last mode.
            Shape lo(k), hi(k);
            for (std::size_t a = 0; a < k; ++a) {
                lo[a] = std::max(o[a], region_[a].start);
                hi[a] = std::min(o[a] + e[a], region_[a].stop);
            }
            Shape idx = lo;
            const std::size_t run = hi[k - 1] - lo[k - 1];
            for (;;) {
                std::uint64_t src = 0, dst = 0;
                for (std::size_t a = 0; a < k; ++a) {
                    src = src * e[a] + (idx[a] - o[a]);
                    dst += (idx[a] - region_[a].start) * stride[a];
                }
                std::copy(buf.data() + src, buf.data() + src + run, out + (dst - slab.first_value));
                std::size_t a = k - 1;
                while (a-- > 0) {
                    if (++idx[a] < hi[a]) break;
                    idx[a] = lo[a];
                }
                if (a == std::size_t(-1)) break;
            }
        }
    });
}

}  // namespace signcut::io
