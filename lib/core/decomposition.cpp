// Signed cut decompositions: one block's terms (SignedCutTerms) and the
// blocked decomposition (SignedCutDecomposition): storage, evaluation and
// matrix products.
#include "signcut/decomposition.hpp"

#include <algorithm>
#include <array>
#include <bit>
#include <cmath>
#include <numeric>
#include <type_traits>

#include <fmt/format.h>

#include "parallel.hpp"
#include "sign_stream.hpp"
#include "signcut/error.hpp"
#include "signcut/kernels.hpp"
#include "unfolding.hpp"

namespace signcut {
namespace {

/// ±1.0 for each of the 8 sign bits of a byte (a set bit means −1), to
/// expand packed signs into doubles.
const std::array<std::array<double, 8>, 256>& sign_bytes()
{
    static const auto table = [] {
        std::array<std::array<double, 8>, 256> t{};
        for (unsigned b = 0; b < 256; ++b)
            for (unsigned r = 0; r < 8; ++r) t[b][r] = ((b >> r) & 1u) ? -1.0 : 1.0;
        return t;
    }();
    return table;
}

/// out += Σ_j c_j ⊗_a s_j^(a) in double, for rows [row0, row1) of the
/// unfolding add_terms works on (rows: the modes before balanced_split),
/// written as (row1 − row0) rows of n values. Every value is summed term
/// after term, in term order, with no float32 rounding and no float32
/// overflow; rows go to threads in tiles, each value summed by one thread,
/// so the values depend neither on the thread count nor on the rows asked
/// for (a region, a block, or the error's slabs give the same bits).
void add_terms_rows_float64(const Shape& shape, std::span<const SignMatrix> signs, std::span<const float> c,
                            std::size_t row0, std::size_t row1, double* out, unsigned threads)
{
    if (c.empty() || row1 <= row0) return;
    const kernels::Table& k = kernels::active();
    const std::size_t r = detail::balanced_split(shape);
    std::vector<std::size_t> row_modes(r), col_modes(shape.size() - r);
    std::iota(row_modes.begin(), row_modes.end(), std::size_t{0});
    std::iota(col_modes.begin(), col_modes.end(), r);
    const std::size_t n = detail::product(shape, r, shape.size());
    constexpr std::size_t row_tile = 16, col_tile = 512, term_block = 256;
    const std::size_t tiles = (row1 - row0 + row_tile - 1) / row_tile;
    const auto& bytes = sign_bytes();
    for (std::size_t b0 = 0; b0 < c.size(); b0 += term_block) {
        const std::size_t b1 = std::min(c.size(), b0 + term_block);
        const SignMatrix S = detail::kron_columns(k, signs, row_modes, b0, b1);
        const SignMatrix T = detail::kron_columns(k, signs, col_modes, b0, b1);
        detail::parallel_ranges(threads, tiles, row_tile * n * (b1 - b0), [&](std::size_t g0, std::size_t g1) {
            alignas(64) double t_signs[col_tile];
            for (std::size_t g = g0; g < g1; ++g) {
                const std::size_t i0 = row0 + g * row_tile, i1 = std::min(row1, i0 + row_tile);
                for (std::size_t j0 = 0; j0 < n; j0 += col_tile) {
                    const std::size_t j1 = std::min(n, j0 + col_tile);
                    for (std::size_t t = 0; t < b1 - b0; ++t) {
                        // col_tile is a multiple of 64, so j0 starts a word
                        // and every j below starts a byte of it.
                        const std::uint64_t* tw = T.column_data(t);
                        for (std::size_t j = j0; j < j1; j += 8) {
                            const auto& e = bytes[(tw[j / 64] >> (j % 64)) & 0xffu];
                            std::copy(e.begin(), e.end(), t_signs + (j - j0));
                        }
                        const std::uint64_t* sw = S.column_data(t);
                        const double ct = c[b0 + t];
                        for (std::size_t i = i0; i < i1; ++i) {
                            const double v = ((sw[i / 64] >> (i % 64)) & 1u) ? -ct : ct;
                            double* row = out + (i - row0) * n;
                            for (std::size_t j = j0; j < j1; ++j) row[j] += v * t_signs[j - j0];
                        }
                    }
                }
            }
        });
    }
}

/// The number of values of `x` that are not finite.
template <class T>
std::uint64_t count_non_finite(std::span<const T> x)
{
    std::uint64_t bad = 0;
    for (const T v : x) bad += !std::isfinite(v);
    return bad;
}

template <class D>
void require_order2(const D& d, const char* what)
{
    if (d.order() != 2)
        throw Error(errc::invalid_argument, fmt::format("{} needs an order-2 decomposition; this one has order {}",
                                                        what, d.order()));
}

}  // namespace

SignedCutTerms::SignedCutTerms(Shape shape) : shape_(std::move(shape))
{
    check_shape(shape_);
    size_ = element_count(shape_);
    for (std::size_t d : shape_) signs_.emplace_back(d, 0);
}

SignedCutTerms::SignedCutTerms(Shape shape, std::vector<float> scales, std::vector<SignMatrix> signs,
                                               bool scales_refit)
    : shape_(std::move(shape)), scales_(std::move(scales)), signs_(std::move(signs)), scales_refit_(scales_refit)
{
    check_shape(shape_);
    size_ = element_count(shape_);
    if (signs_.size() != shape_.size())
        throw Error(errc::bad_input, fmt::format("a decomposition of order {} needs {} sign matrices, got {}",
                                                 shape_.size(), shape_.size(), signs_.size()));
    for (std::size_t a = 0; a < shape_.size(); ++a) {
        if (signs_[a].rows() != shape_[a] || signs_[a].cols() != scales_.size())
            throw Error(errc::bad_input,
                        fmt::format("signs of mode {} are {}x{}, expected {}x{} (dimension x width)", a,
                                    signs_[a].rows(), signs_[a].cols(), shape_[a], scales_.size()));
        if (!signs_[a].padding_is_zero())
            throw Error(errc::bad_input, fmt::format("signs of mode {} have padding bits set", a));
    }
}

void SignedCutTerms::append(float scale, std::span<const SignVector> factors)
{
    if (factors.size() != order())
        throw Error(errc::invalid_argument,
                    fmt::format("a term of an order-{} decomposition needs {} sign vectors, got {}", order(), order(),
                                factors.size()));
    for (std::size_t a = 0; a < order(); ++a)
        if (factors[a].size() != shape_[a])
            throw Error(errc::invalid_argument, fmt::format("sign vector of mode {} has {} entries, the mode {}", a,
                                                            factors[a].size(), shape_[a]));
    for (std::size_t a = 0; a < order(); ++a) signs_[a].push_back(factors[a]);
    scales_.push_back(scale);
}

void SignedCutTerms::reserve(std::size_t w)
{
    for (SignMatrix& m : signs_) m.reserve(w);
    scales_.reserve(w);
}

void SignedCutTerms::truncate(std::size_t w)
{
    if (w >= width()) return;
    scales_.resize(w);
    for (auto& s : signs_) s.truncate(w);
}

SignedCutTerms SignedCutTerms::prefix(std::size_t w) const
{
    SignedCutTerms d = *this;
    d.truncate(w);
    return d;
}

void SignedCutTerms::set_refit_scales(std::vector<float> scales)
{
    if (scales.size() != width())
        throw Error(errc::invalid_argument,
                    fmt::format("{} refit scales for a width-{} decomposition", scales.size(), width()));
    scales_ = std::move(scales);
    scales_refit_ = true;
}

unsigned SignedCutTerms::scale_bits() const noexcept
{
    return scale_bits_of(scales_);
}

std::uint64_t SignedCutTerms::bits_per_term(std::span<const std::size_t> shape, unsigned scale_bits)
{
    std::uint64_t bits = scale_bits;
    for (std::size_t d : shape) bits += d;
    return bits;
}

double SignedCutTerms::bits_per_value() const noexcept
{
    if (size_ == 0) return 0;
    return static_cast<double>(bits_per_term(shape_, scale_bits())) * static_cast<double>(width()) /
           static_cast<double>(size_);
}

void SignedCutTerms::reconstruct_into(std::span<float> out, unsigned threads) const
{
    if (out.size() != size_)
        throw Error(errc::invalid_argument,
                    fmt::format("reconstruction needs {} floats, the output has {}", size_, out.size()));
    std::fill(out.begin(), out.end(), 0.0f);
    detail::add_terms(kernels::active(), shape_, signs_, scales_, 0, width(), out.data(), threads);
}

void SignedCutTerms::reconstruct_float64_into(std::span<double> out, unsigned threads) const
{
    if (out.size() != size_)
        throw Error(errc::invalid_argument,
                    fmt::format("reconstruction needs {} doubles, the output has {}", size_, out.size()));
    std::fill(out.begin(), out.end(), 0.0);
    add_terms_rows_float64(shape_, signs_, scales_, 0, detail::unfolding_rows(shape_), out.data(), threads);
}

ErrorMetrics SignedCutTerms::error_against(std::span<const float> original, unsigned threads) const
{
    if (original.size() != size_)
        throw Error(errc::invalid_argument,
                    fmt::format("the original has {} floats, the decomposition {}", original.size(), size_));
    // Rows of the matrix the reconstruction is computed on, a few MiB at a
    // time, in whole 64-row groups; a short last group joins the block
    // before it so that each block computes its rows exactly as the full
    // reconstruction does.
    const std::size_t m = detail::unfolding_rows(shape_), n = size_ / m;
    constexpr std::size_t block_floats = std::size_t{1} << 20;
    const std::size_t rows = std::max<std::size_t>(64, block_floats / n / 64 * 64);
    std::vector<float> block;
    std::vector<double> wide;
    ErrorAccumulator acc;
    for (std::size_t r0 = 0; r0 < m;) {
        const std::size_t r1 = m - r0 < rows + 64 ? m : r0 + rows;
        block.assign((r1 - r0) * n, 0.0f);
        detail::add_terms_rows(kernels::active(), shape_, signs_, scales_, 0, width(), r0, r1, block.data(), threads);
        const auto x = original.subspan(r0 * n, (r1 - r0) * n);
        if (const std::uint64_t bad = count_non_finite<float>(block); bad > 0) {
            // The float32 sums overflowed (finite scales near the float32
            // limit): these rows are measured on the float64 reconstruction.
            wide.assign(block.size(), 0.0);
            add_terms_rows_float64(shape_, signs_, scales_, r0, r1, wide.data(), threads);
            acc.add(x, wide);
            acc.add_float32_overflows(bad);
        } else {
            acc.add(x, block);
        }
        r0 = r1;
    }
    return acc.result();
}

Tensor SignedCutTerms::reconstruct(unsigned threads) const
{
    Tensor t = Tensor::from_shape(shape_);
    reconstruct_into(std::span<float>(t.data(), t.size()), threads);
    return t;
}

float SignedCutTerms::element(std::span<const std::size_t> index) const
{
    if (index.size() != order())
        throw Error(errc::invalid_argument,
                    fmt::format("an index into an order-{} tensor needs {} entries, got {}", order(), order(),
                                index.size()));
    for (std::size_t a = 0; a < order(); ++a)
        if (index[a] >= shape_[a])
            throw Error(errc::invalid_argument,
                        fmt::format("index {} is out of range for mode {} of size {}", index[a], a, shape_[a]));
    double acc = 0;
    for (std::size_t j = 0; j < width(); ++j) {
        bool negative = false;
        for (std::size_t a = 0; a < order(); ++a) negative ^= signs_[a].negative(index[a], j);
        acc += negative ? -static_cast<double>(scales_[j]) : static_cast<double>(scales_[j]);
    }
    return static_cast<float>(acc);
}

Tensor SignedCutTerms::slice(std::span<const std::ptrdiff_t> fixed) const
{
    if (fixed.size() != order())
        throw Error(errc::invalid_argument,
                    fmt::format("a slice of an order-{} tensor needs {} entries (-1 keeps a mode), got {}", order(),
                                order(), fixed.size()));
    Shape kept;
    std::vector<SignMatrix> kept_signs;
    std::vector<float> c = scales_;
    for (std::size_t a = 0; a < order(); ++a) {
        if (fixed[a] < 0) {
            if (fixed[a] != -1)
                throw Error(errc::invalid_argument, fmt::format("slice entry {} for mode {}: use -1 to keep a mode",
                                                                fixed[a], a));
            kept.push_back(shape_[a]);
            kept_signs.push_back(signs_[a]);
            continue;
        }
        const auto i = static_cast<std::size_t>(fixed[a]);
        if (i >= shape_[a])
            throw Error(errc::invalid_argument,
                        fmt::format("index {} is out of range for mode {} of size {}", i, a, shape_[a]));
        // A fixed index turns that mode's sign into a ±1 factor of each scale.
        for (std::size_t j = 0; j < width(); ++j)
            if (signs_[a].negative(i, j)) c[j] = -c[j];
    }
    if (kept.empty()) {
        double acc = 0;
        for (float v : c) acc += v;
        Tensor t = Tensor::from_shape(Shape{});
        t() = static_cast<float>(acc);
        return t;
    }
    Tensor t = Tensor::from_shape(kept);
    std::fill(t.begin(), t.end(), 0.0f);
    detail::add_terms(kernels::active(), kept, kept_signs, c, 0, width(), t.data(), 1);
    return t;
}

void SignedCutTerms::apply(std::span<const float> x, std::span<float> y) const
{
    require_order2(*this, "apply");
    if (x.size() != shape_[1] || y.size() != shape_[0])
        throw Error(errc::invalid_argument, fmt::format("apply: x has {} entries (needs {}), y {} (needs {})",
                                                        x.size(), shape_[1], y.size(), shape_[0]));
    const auto& k = kernels::active();
    std::vector<float> z(width(), 0.0f);
    k.sign_tmatvec(signs_[1].data(), shape_[1], width(), signs_[1].column_stride(), x.data(), z.data());
    for (std::size_t j = 0; j < width(); ++j) z[j] *= scales_[j];
    std::fill(y.begin(), y.end(), 0.0f);
    k.sign_matvec(signs_[0].data(), shape_[0], width(), signs_[0].column_stride(), z.data(), y.data());
}

void SignedCutTerms::apply_transpose(std::span<const float> x, std::span<float> y) const
{
    require_order2(*this, "apply_transpose");
    if (x.size() != shape_[0] || y.size() != shape_[1])
        throw Error(errc::invalid_argument, fmt::format("apply_transpose: x has {} entries (needs {}), y {} (needs {})",
                                                        x.size(), shape_[0], y.size(), shape_[1]));
    const auto& k = kernels::active();
    std::vector<float> z(width(), 0.0f);
    k.sign_tmatvec(signs_[0].data(), shape_[0], width(), signs_[0].column_stride(), x.data(), z.data());
    for (std::size_t j = 0; j < width(); ++j) z[j] *= scales_[j];
    std::fill(y.begin(), y.end(), 0.0f);
    k.sign_matvec(signs_[1].data(), shape_[1], width(), signs_[1].column_stride(), z.data(), y.data());
}


// ---------------------------------------------------------------------------
// Payload (format version 2)
// ---------------------------------------------------------------------------

namespace {
constexpr std::uint64_t chunk_target_bytes = std::uint64_t{1} << 20;
constexpr std::uint64_t checksum_bytes = 4;  // HDF5's fletcher32, per chunk
}  // namespace

std::uint64_t dataset_chunk_elements(std::uint64_t elements, std::size_t element_size)
{
    if (elements == 0) return 0;
    const std::uint64_t bytes = elements * element_size;
    const std::uint64_t chunks = (bytes + chunk_target_bytes - 1) / chunk_target_bytes;
    return (elements + chunks - 1) / chunks;
}

std::uint64_t stored_dataset_bytes(std::uint64_t elements, std::size_t element_size)
{
    if (elements == 0) return 0;
    const std::uint64_t per_chunk = dataset_chunk_elements(elements, element_size);
    const std::uint64_t chunks = (elements + per_chunk - 1) / per_chunk;
    return chunks * (per_chunk * element_size + checksum_bytes);
}

std::uint64_t stored_packed_dataset_bytes(std::uint64_t elements, unsigned precision)
{
    if (elements == 0) return 0;
    // The n-bit filter packs a chunk's values' bits one after another and
    // ends with one byte more than the bits fill (floor, not ceil: measured
    // against H5Dget_storage_size on HDF5 1.10, and tested).
    const std::uint64_t per_chunk = dataset_chunk_elements(elements, 4);
    const std::uint64_t chunks = (elements + per_chunk - 1) / per_chunk;
    return chunks * (per_chunk * precision / 8 + 1 + checksum_bytes);
}

std::uint64_t stored_scales_bytes(std::uint64_t terms, unsigned scale_bits)
{
    return scale_bits == float32_scale_bits ? stored_dataset_bytes(terms, 4)
                                            : stored_packed_dataset_bytes(terms, scale_bits);
}

// ---------------------------------------------------------------------------
// SignedCutDecomposition
// ---------------------------------------------------------------------------

SignedCutDecomposition::SignedCutDecomposition(SignedCutTerms whole)
    : grid_(BlockGrid::whole(whole.shape())), size_(whole.size())
{
    blocks_.push_back(std::move(whole));
}

SignedCutDecomposition::SignedCutDecomposition(BlockGrid grid, std::vector<SignedCutTerms> blocks,
                                               std::vector<CodedBlock> coded, BlockCodecs codecs)
    : SignedCutDecomposition(std::move(grid), std::move(blocks))
{
    if (coded.empty()) return;
    if (coded.size() != blocks_.size())
        throw Error(errc::bad_input,
                    fmt::format("a grid of {} blocks got the codecs of {}", grid_.count(), coded.size()));
    coded_ = std::move(coded);
    codecs_ = std::move(codecs);
    for (std::size_t b = 0; b < coded_.size(); ++b) {
        if (coded_[b].codec == CodecId::sct) {
            if (!coded_[b].streams.empty())
                throw Error(errc::bad_input, fmt::format("block {} holds signed cuts and streams", b));
            continue;
        }
        if (blocks_[b].width() != 0)
            throw Error(errc::bad_input,
                        fmt::format("block {} is coded by codec {} and has {} signed cut terms", b,
                                    int(coded_[b].codec), blocks_[b].width()));
        const BlockCodec& c = codec_for(b);
        if (c.stream_count(grid_.extents(b)) != coded_[b].streams.size())
            throw Error(errc::bad_input, fmt::format("block {} ({}) has {} {} streams, its extents {} need {}", b,
                                                     c.name(), coded_[b].streams.size(), c.name(),
                                                     format_shape(grid_.extents(b)),
                                                     c.stream_count(grid_.extents(b))));
    }
}

const BlockCodec& SignedCutDecomposition::codec_for(std::size_t b) const
{
    const CodecId id = codec(b);
    for (const auto& c : codecs_)
        if (c && c->id() == id) return *c;
    throw Error(errc::bad_input, fmt::format("block {} needs codec {}, which this build does not have", b, int(id)));
}

const CodedBlock& SignedCutDecomposition::coded(std::size_t b) const
{
    static const CodedBlock none;
    if (b >= blocks_.size())
        throw Error(errc::invalid_argument, fmt::format("block {} of {}", b, blocks_.size()));
    return coded_.empty() ? none : coded_[b];
}

std::size_t SignedCutDecomposition::coded_block_count() const noexcept
{
    return static_cast<std::size_t>(std::count_if(coded_.begin(), coded_.end(),
                                                  [](const CodedBlock& c) { return c.codec != CodecId::sct; }));
}

CodedStorage SignedCutDecomposition::coded_storage() const noexcept
{
    CodedStorage s;
    for (const CodedBlock& c : coded_) {
        if (c.codec == CodecId::sct) continue;
        ++s.blocks;
        s.streams += c.streams.size();
        for (const auto& stream : c.streams) s.stream_bytes += stream.size();
    }
    return s;
}

SignedCutDecomposition::SignedCutDecomposition(BlockGrid grid, std::vector<SignedCutTerms> blocks)
    : grid_(std::move(grid)), size_(element_count(grid_.shape())), blocks_(std::move(blocks))
{
    if (blocks_.size() != grid_.count())
        throw Error(errc::bad_input, fmt::format("a grid of {} blocks got the terms of {}", grid_.count(), blocks_.size()));
    for (std::size_t b = 0; b < blocks_.size(); ++b)
        if (blocks_[b].shape() != grid_.extents(b))
            throw Error(errc::bad_input, fmt::format("block {} has terms of shape {}, its extents are {}", b,
                                                     format_shape(blocks_[b].shape()),
                                                     format_shape(grid_.extents(b))));
}

std::uint64_t SignedCutDecomposition::width() const noexcept
{
    std::uint64_t w = 0;
    for (const auto& b : blocks_) w += b.width();
    return w;
}

std::vector<std::size_t> SignedCutDecomposition::widths() const
{
    std::vector<std::size_t> w;
    w.reserve(blocks_.size());
    for (const auto& b : blocks_) w.push_back(b.width());
    return w;
}

bool SignedCutDecomposition::scales_refit() const noexcept
{
    return std::any_of(blocks_.begin(), blocks_.end(), [](const SignedCutTerms& b) { return b.scales_refit(); });
}

unsigned width_bits(std::uint64_t max_width) noexcept
{
    return std::max(1, static_cast<int>(std::bit_width(max_width)));
}

std::uint64_t stored_widths_bytes(std::uint64_t blocks, std::uint64_t max_width)
{
    const unsigned bits = width_bits(max_width);
    return bits >= 32 ? stored_dataset_bytes(blocks, 4) : stored_packed_dataset_bytes(blocks, bits);
}

Payload sct_payload(std::uint64_t blocks, std::uint64_t max_width, std::uint64_t terms, std::uint64_t sign_bytes,
                    unsigned scale_bits)
{
    Payload p;
    p.widths_bytes = stored_widths_bytes(blocks, max_width);
    p.scales_bytes = stored_scales_bytes(terms, scale_bits);
    p.signs_bytes = stored_dataset_bytes(sign_bytes, 1);
    return p;
}

Payload blocks_payload(std::uint64_t blocks, std::uint64_t max_width, std::uint64_t terms, std::uint64_t sign_bytes,
                       const CodedStorage& coded, unsigned scale_bits)
{
    Payload p = sct_payload(blocks, max_width, terms, sign_bytes, scale_bits);
    if (coded.blocks > 0) {
        p.codecs_bytes = stored_dataset_bytes(blocks, 1);
        p.stream_sizes_bytes = stored_dataset_bytes(coded.streams, 4);
        p.streams_bytes = stored_dataset_bytes(coded.stream_bytes, 1);
    }
    return p;
}

std::uint64_t one_term_payload_bits(const BlockGrid& grid, unsigned scale_bits)
{
    std::uint64_t shortest = grid.signs_per_term(0);
    for (std::size_t b = 1; b < grid.count(); ++b) shortest = std::min(shortest, grid.signs_per_term(b));
    return sct_payload(grid.count(), 1, 1, (shortest + 7) / 8, scale_bits).bits();
}

unsigned SignedCutDecomposition::scale_bits() const noexcept
{
    for (const SignedCutTerms& b : blocks_)
        if (b.scale_bits() != short_scale_bits) return float32_scale_bits;
    return short_scale_bits;
}

std::vector<std::uint8_t> SignedCutDecomposition::sign_stream() const
{
    std::uint64_t bytes = 0;
    for (std::size_t b = 0; b < blocks_.size(); ++b)
        bytes += detail::segment_bytes(blocks_[b].width(), grid_.signs_per_term(b));
    std::vector<std::uint8_t> stream(static_cast<std::size_t>(bytes));
    std::uint64_t at = 0;
    for (std::size_t b = 0; b < blocks_.size(); ++b) {
        const std::uint64_t n = detail::segment_bytes(blocks_[b].width(), grid_.signs_per_term(b));
        detail::pack_segment(blocks_[b], std::span<std::uint8_t>(stream.data() + at, static_cast<std::size_t>(n)));
        at += n;
    }
    return stream;
}

void SignedCutDecomposition::set_sign_storage(std::shared_ptr<const SignStorage> storage)
{
    sign_storage_ = std::move(storage);
    deflated_sign_bytes_ = 0;
    if (!sign_storage_) return;
    const std::vector<std::uint8_t> stream = sign_stream();
    const std::uint64_t deflated = sign_storage_->stored_bytes(stream);
    if (deflated > 0 && deflated < stored_dataset_bytes(stream.size(), 1)) deflated_sign_bytes_ = deflated;
}

Payload SignedCutDecomposition::payload() const
{
    std::uint64_t sign_bytes = 0;
    for (std::size_t b = 0; b < blocks_.size(); ++b)
        sign_bytes += (blocks_[b].width() * grid_.signs_per_term(b) + 7) / 8;
    std::uint64_t max_width = 0;
    for (const SignedCutTerms& b : blocks_) max_width = std::max<std::uint64_t>(max_width, b.width());
    Payload p = blocks_payload(blocks_.size(), max_width, width(), sign_bytes, coded_storage(), scale_bits());
    if (signs_deflated()) p.signs_bytes = deflated_sign_bytes_;
    return p;
}

double SignedCutDecomposition::bits_per_value() const
{
    return size_ == 0 ? 0.0 : static_cast<double>(payload().bits()) / static_cast<double>(size_);
}

double SignedCutDecomposition::counted_bits_per_value() const
{
    if (size_ == 0) return 0.0;
    const unsigned scale = scale_bits();
    double bits = 0;
    for (std::size_t b = 0; b < blocks_.size(); ++b)
        bits += static_cast<double>(blocks_[b].width()) * static_cast<double>(grid_.signs_per_term(b) + scale) +
                static_cast<double>(coded(b).bits());
    return bits / static_cast<double>(size_);
}

SignedCutDecomposition SignedCutDecomposition::prefix(std::size_t w) const
{
    std::vector<std::size_t> widths(blocks_.size(), w);
    return prefix(widths);
}

SignedCutDecomposition SignedCutDecomposition::prefix(std::span<const std::size_t> widths) const
{
    if (widths.size() != blocks_.size())
        throw Error(errc::invalid_argument,
                    fmt::format("{} widths for a decomposition of {} blocks", widths.size(), blocks_.size()));
    std::vector<SignedCutTerms> blocks;
    blocks.reserve(blocks_.size());
    for (std::size_t b = 0; b < blocks_.size(); ++b) blocks.push_back(blocks_[b].prefix(widths[b]));
    SignedCutDecomposition p(grid_, std::move(blocks), coded_, codecs_);
    p.set_sign_storage(sign_storage_);
    return p;
}

void SignedCutDecomposition::reconstruct_block(std::size_t b, std::span<float> out, unsigned threads) const
{
    if (codec(b) != CodecId::sct) {
        codec_for(b).decode(coded_[b], grid_.extents(b), out);
        return;
    }
    blocks_.at(b).reconstruct_into(out, threads);
}

void SignedCutDecomposition::reconstruct_block_float64(std::size_t b, std::span<double> out, unsigned threads) const
{
    if (codec(b) != CodecId::sct) {
        std::vector<float> values(out.size());
        codec_for(b).decode(coded_[b], grid_.extents(b), values);
        std::copy(values.begin(), values.end(), out.begin());
        return;
    }
    blocks_.at(b).reconstruct_float64_into(out, threads);
}

void SignedCutDecomposition::reconstruct_into(std::span<float> out, unsigned threads) const
{
    if (out.size() != size_)
        throw Error(errc::invalid_argument,
                    fmt::format("reconstruction needs {} floats, the output has {}", size_, out.size()));
    if (blocks_.size() == 1) {
        reconstruct_block(0, out, threads);
        return;
    }
    // Threads take whole blocks; each block is rebuilt alone, as a region does.
    detail::parallel_ranges(threads, blocks_.size(), 1, [&](std::size_t b0, std::size_t b1) {
        std::vector<float> buf;
        for (std::size_t b = b0; b < b1; ++b) {
            buf.assign(blocks_[b].size(), 0.0f);
            reconstruct_block(b, buf, 1);
            grid_.scatter(b, buf.data(), out.data());
        }
    });
}

void SignedCutDecomposition::reconstruct_float64_into(std::span<double> out, unsigned threads) const
{
    if (out.size() != size_)
        throw Error(errc::invalid_argument,
                    fmt::format("reconstruction needs {} doubles, the output has {}", size_, out.size()));
    if (blocks_.size() == 1) {
        reconstruct_block_float64(0, out, threads);
        return;
    }
    reconstruct_region(full_region(shape()), out.data(), threads);
}

std::vector<double> SignedCutDecomposition::reconstruct_float64(unsigned threads) const
{
    std::vector<double> out(size_);
    reconstruct_float64_into(out, threads);
    return out;
}

std::vector<double> SignedCutDecomposition::reconstruct_float64(const Region& region, unsigned threads) const
{
    check_region(region, shape());
    std::vector<double> out(element_count(region_shape(region)));
    reconstruct_region(region, out.data(), threads);
    return out;
}

Tensor SignedCutDecomposition::reconstruct(unsigned threads) const
{
    Tensor t = Tensor::from_shape(shape());
    reconstruct_into(std::span<float>(t.data(), t.size()), threads);
    return t;
}

Tensor SignedCutDecomposition::reconstruct(const Region& region, unsigned threads) const
{
    check_region(region, shape());
    Tensor t = Tensor::from_shape(region_shape(region));
    reconstruct_region(region, t.data(), threads);
    return t;
}

// Float32 reconstructions sum through the sign GEMM (add_terms), float64
// ones term after term in double (add_terms_rows_float64); either way a
// block is rebuilt whole and alone, so a region equals the same slice of
// the full reconstruction bit for bit, in either type.
template <class T>
void SignedCutDecomposition::reconstruct_region(const Region& region, T* out, unsigned threads) const
{
    const std::size_t k = order();
    // The region's full extents per mode (dropped modes count 1) and its
    // strides in the result.
    Shape len(k), stride(k);
    for (std::size_t a = 0; a < k; ++a) len[a] = region[a].stop - region[a].start;
    std::uint64_t s = 1;
    for (std::size_t a = k; a-- > 0;) {
        stride[a] = s;
        s *= len[a];
    }
    // The blocks the region touches, along each mode.
    Shape first(k), last(k);
    for (std::size_t a = 0; a < k; ++a) {
        first[a] = region[a].start / block_shape()[a];
        last[a] = (region[a].stop - 1) / block_shape()[a];
    }
    std::vector<std::size_t> touched;
    Shape c = first;
    for (;;) {
        std::size_t b = 0;
        for (std::size_t a = 0; a < k; ++a) b = b * grid_.grid_shape()[a] + c[a];
        touched.push_back(b);
        std::size_t a = k;
        while (a-- > 0) {
            if (++c[a] <= last[a]) break;
            c[a] = first[a];
        }
        if (a == std::size_t(-1)) break;
    }
    detail::parallel_ranges(threads, touched.size(), 1, [&](std::size_t i0, std::size_t i1) {
        std::vector<T> buf;
        for (std::size_t i = i0; i < i1; ++i) {
            const std::size_t b = touched[i];
            const Shape o = grid_.origin(b), e = grid_.extents(b);
            buf.assign(blocks_[b].size(), T(0));
            if constexpr (std::is_same_v<T, double>)
                reconstruct_block_float64(b, buf, touched.size() == 1 ? threads : 1);
            else
                reconstruct_block(b, buf, touched.size() == 1 ? threads : 1);
            // Copy the block ∩ region, row by row along the last mode.
            Shape lo(k), hi(k);
            for (std::size_t a = 0; a < k; ++a) {
                lo[a] = std::max(o[a], region[a].start);
                hi[a] = std::min(o[a] + e[a], region[a].stop);
            }
            Shape idx = lo;
            for (;;) {
                std::uint64_t src = 0, dst = 0;
                for (std::size_t a = 0; a < k; ++a) {
                    src = src * e[a] + (idx[a] - o[a]);
                    dst += (idx[a] - region[a].start) * stride[a];
                }
                const std::size_t run = hi[k - 1] - lo[k - 1];
                std::copy(buf.data() + src, buf.data() + src + run, out + dst);
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

ErrorMetrics SignedCutDecomposition::error_against(std::span<const float> original, unsigned threads) const
{
    if (original.size() != size_)
        throw Error(errc::invalid_argument,
                    fmt::format("the original has {} floats, the decomposition {}", original.size(), size_));
    if (blocks_.size() == 1 && codec(0) == CodecId::sct) return blocks_[0].error_against(original, threads);
    // Block by block, in block order, so the sums do not depend on threads.
    std::vector<ErrorAccumulator> acc(blocks_.size());
    detail::parallel_ranges(threads, blocks_.size(), 1, [&](std::size_t b0, std::size_t b1) {
        std::vector<float> orig, rec;
        for (std::size_t b = b0; b < b1; ++b) {
            orig.resize(blocks_[b].size());
            rec.assign(blocks_[b].size(), 0.0f);
            grid_.gather(b, original.data(), orig.data());
            reconstruct_block(b, rec, 1);
            if (const std::uint64_t bad = count_non_finite<float>(rec); bad > 0) {
                // The float32 sums overflowed: this block is measured on its
                // float64 reconstruction.
                std::vector<double> wide(rec.size());
                reconstruct_block_float64(b, wide, 1);
                acc[b].add(orig, wide);
                acc[b].add_float32_overflows(bad);
            } else {
                acc[b].add(orig, rec);
            }
        }
    });
    ErrorAccumulator total;
    for (const auto& a : acc) total.merge(a);
    return total.result();
}

float SignedCutDecomposition::element(std::span<const std::size_t> index) const
{
    if (index.size() != order())
        throw Error(errc::invalid_argument,
                    fmt::format("an index into an order-{} tensor needs {} entries, got {}", order(), order(),
                                index.size()));
    std::size_t b = 0;
    Shape local(order());
    for (std::size_t a = 0; a < order(); ++a) {
        if (index[a] >= shape()[a])
            throw Error(errc::invalid_argument,
                        fmt::format("index {} is out of range for mode {} of size {}", index[a], a, shape()[a]));
        b = b * grid_.grid_shape()[a] + index[a] / block_shape()[a];
        local[a] = index[a] % block_shape()[a];
    }
    if (codec(b) != CodecId::sct) {
        std::vector<float> values(blocks_[b].size());
        reconstruct_block(b, values);
        const Shape e = grid_.extents(b);
        std::uint64_t at = 0;
        for (std::size_t a = 0; a < order(); ++a) at = at * e[a] + local[a];
        return values[at];
    }
    return blocks_[b].element(local);
}

void SignedCutDecomposition::apply(std::span<const float> x, std::span<float> y) const
{
    require_order2(*this, "apply");
    if (x.size() != shape()[1] || y.size() != shape()[0])
        throw Error(errc::invalid_argument, fmt::format("apply: x has {} entries (needs {}), y {} (needs {})",
                                                        x.size(), shape()[1], y.size(), shape()[0]));
    std::fill(y.begin(), y.end(), 0.0f);
    std::vector<float> part, dense;
    for (std::size_t b = 0; b < blocks_.size(); ++b) {
        const Shape o = grid_.origin(b), e = grid_.extents(b);
        part.assign(e[0], 0.0f);
        if (codec(b) != CodecId::sct) {
            dense.resize(e[0] * e[1]);
            reconstruct_block(b, dense);
            for (std::size_t i = 0; i < e[0]; ++i)
                for (std::size_t j = 0; j < e[1]; ++j) part[i] += dense[i * e[1] + j] * x[o[1] + j];
        } else {
            blocks_[b].apply(x.subspan(o[1], e[1]), part);
        }
        for (std::size_t i = 0; i < e[0]; ++i) y[o[0] + i] += part[i];
    }
}

void SignedCutDecomposition::apply_transpose(std::span<const float> x, std::span<float> y) const
{
    require_order2(*this, "apply_transpose");
    if (x.size() != shape()[0] || y.size() != shape()[1])
        throw Error(errc::invalid_argument, fmt::format("apply_transpose: x has {} entries (needs {}), y {} (needs {})",
                                                        x.size(), shape()[0], y.size(), shape()[1]));
    std::fill(y.begin(), y.end(), 0.0f);
    std::vector<float> part, dense;
    for (std::size_t b = 0; b < blocks_.size(); ++b) {
        const Shape o = grid_.origin(b), e = grid_.extents(b);
        part.assign(e[1], 0.0f);
        if (codec(b) != CodecId::sct) {
            dense.resize(e[0] * e[1]);
            reconstruct_block(b, dense);
            for (std::size_t i = 0; i < e[0]; ++i)
                for (std::size_t j = 0; j < e[1]; ++j) part[j] += dense[i * e[1] + j] * x[o[0] + i];
        } else {
            blocks_[b].apply_transpose(x.subspan(o[0], e[0]), part);
        }
        for (std::size_t i = 0; i < e[1]; ++i) y[o[1] + i] += part[i];
    }
}

}  // namespace signcut
