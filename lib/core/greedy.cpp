// The greedy signed cut decomposer: the terms of one block (or of a whole
// tensor, the one-block case), for tensors of any order.
//
// State between mode updates:
//  * the remainder R = R_mat − Σ_{block} c_j ⊗_a s_j^(a): R_mat is dense
//    (float32, materialised at the last flush) and the block's terms stay
//    implicit until `block` of them have accumulated;
//  * R_mat is kept twice: in C order, and with its axes reversed when some
//    mode's slices are short and scattered in C order (for a matrix, the
//    transpose). A flipped sign then always updates images from long
//    contiguous runs;
//  * for order 3 and more, R_mat contracted along its first mode with that
//    mode's signs, and (with the reversed copy) along its last mode. While
//    mode m's signs hold, every other mode's image follows from the
//    contraction along m at 1/d_m of a pass, whatever the other signs did:
//    this is what the first cycles of a start (every sign new) would
//    otherwise pay in dense passes and long lists of flipped slices;
//  * for each mode a, the image of R_mat contracted with every other mode's
//    signs, together with the signs it was computed with. A mode update
//    first brings the image to the current signs by adding only the slices
//    of flipped signs (or one dense pass when that is cheaper), then adds the
//    block's low-rank part, exactly, from popcounts.
#include "greedy.hpp"

#include <algorithm>
#include <cmath>
#include <memory>
#include <limits>
#include <numeric>

#include <fmt/format.h>

#include "aligned_buffer.hpp"
#include "contraction.hpp"
#include "parallel.hpp"
#include "signcut/error.hpp"
#include "signcut/kernels.hpp"
#include "signcut/random.hpp"
#include "scale_refit.hpp"
#include "signcut/scale_format.hpp"
#include "unfolding.hpp"

namespace signcut {
namespace {

using detail::TermLimits;

using detail::ContractionScratch;

/// One dense copy of the materialised remainder.
struct RemainderCopy {
    detail::AlignedFloats owned;  // absent when the C-order buffer is adopted from the caller
    float* data = nullptr;
    Shape dims;             // in this copy's mode order
    bool reversed = false;  // copy mode a' is original mode k-1-a'
    std::size_t first = 0;  // in C order: copy mode a' is original mode first + a'

    std::size_t original_mode(std::size_t copy_mode) const
    {
        return reversed ? dims.size() - 1 - copy_mode : first + copy_mode;
    }
    std::size_t copy_mode(std::size_t mode) const { return reversed ? dims.size() - 1 - mode : mode - first; }
};

/// The remainder contracted along one end mode (the first or the last) with
/// that mode's signs, and the signs it reflects.
struct ContractedRemainder {
    RemainderCopy values;       // the other modes, in the layout of `source`
    std::size_t mode = 0;       // the contracted mode
    std::size_t source = 0;     // the copy in which that mode's slices are contiguous
    SignVector signs;
    bool valid = false;
};

/// Sets `out` to the positions where `now` differs from `old`, in order.
void flipped_positions(const SignVector& old, const SignVector& now, std::vector<std::uint32_t>& out)
{
    out.clear();
    for (std::size_t w = 0; w < now.word_count(); ++w)
        for (std::uint64_t diff = old.data()[w] ^ now.data()[w]; diff != 0; diff &= diff - 1)
            out.push_back(static_cast<std::uint32_t>(w * 64 + std::countr_zero(diff)));
}

/// Σ x² in double, in 64 fixed pieces so the rounding does not depend on
/// the thread count. Within a piece, four running sums over x[4q + k]: one
/// sum is a chain of dependent adds, four fill a vector (this runs at every
/// flush of a block).
double sum_squares(const float* x, std::size_t n, unsigned threads)
{
    constexpr std::size_t pieces = 64;
    std::vector<double> partial(pieces, 0.0);
    detail::parallel_ranges(threads, pieces, n / pieces + 1, [&](std::size_t p0, std::size_t p1) {
        for (std::size_t p = p0; p < p1; ++p) {
            double acc[4] = {0, 0, 0, 0};
            std::size_t i = n * p / pieces;
            const std::size_t end = n * (p + 1) / pieces;
            for (; i + 4 <= end; i += 4)
                for (std::size_t k = 0; k < 4; ++k) acc[k] += double(x[i + k]) * double(x[i + k]);
            double s = (acc[0] + acc[2]) + (acc[1] + acc[3]);
            for (; i < end; ++i) s += double(x[i]) * double(x[i]);
            partial[p] = s;
        }
    });
    return std::accumulate(partial.begin(), partial.end(), 0.0);
}

/// Writes the axis-reversed copy of a C-ordered tensor: dst has dims
/// reversed, so dst's mode 0 is src's last. Tiled over the first and last
/// modes, which are the fastest-moving ones on either side.
void reverse_axes(const float* src, const Shape& dims, float* dst, unsigned threads)
{
    const std::size_t k = dims.size();
    const std::size_t N = detail::product(dims, 0, k);
    if (k == 1) {
        std::copy(src, src + N, dst);
        return;
    }
    const std::size_t d0 = dims[0], dl = dims[k - 1];
    const std::size_t s0 = N / d0;   // src stride of mode 0
    const std::size_t tl = N / dl;   // dst stride of the last mode
    const std::size_t mid = N / (d0 * dl);
    // Middle modes 1..k-2: src offset Σ i_a·(Π_{b>a} d_b), dst offset Σ i_a·(Π_{b<a} d_b).
    std::vector<std::size_t> idx(k, 0);
    // 16×16 tiles: 16 floats are one cache line, so a tile reads 16 whole
    // lines and writes 16 whole lines, each once. (With a power-of-two row
    // length, lines one row apart share an L1 set; a tile that revisited
    // them, as larger tiles written element by element do, would miss on
    // every access.)
    constexpr std::size_t tile = 16;
    for (std::size_t m = 0; m < mid; ++m) {
        std::size_t src_off = 0, dst_off = 0, src_stride = dl, dst_stride = d0;
        for (std::size_t a = k - 2; a >= 1; --a) {
            src_off += idx[a] * src_stride;
            src_stride *= dims[a];
            if (a == 1) break;
        }
        for (std::size_t a = 1; a + 1 < k; ++a) {
            dst_off += idx[a] * dst_stride;
            dst_stride *= dims[a];
        }
        // Threads take bands of tiles along mode 0: disjoint destinations.
        detail::parallel_ranges(threads, (d0 + tile - 1) / tile, tile * dl, [&](std::size_t b0, std::size_t b1) {
            alignas(64) float buf[tile][tile];
            for (std::size_t i0 = b0 * tile; i0 < std::min(d0, b1 * tile); i0 += tile)
                for (std::size_t il = 0; il < dl; il += tile) {
                    if (i0 + tile <= d0 && il + tile <= dl) {
                        for (std::size_t i = 0; i < tile; ++i) {
                            const float* row = src + (i0 + i) * s0 + src_off + il;
                            for (std::size_t l = 0; l < tile; ++l) buf[l][i] = row[l];
                        }
                        for (std::size_t l = 0; l < tile; ++l)
                            std::copy(buf[l], buf[l] + tile, dst + (il + l) * tl + dst_off + i0);
                        continue;
                    }
                    for (std::size_t i = i0; i < std::min(d0, i0 + tile); ++i)
                        for (std::size_t l = il; l < std::min(dl, il + tile); ++l)
                            dst[l * tl + dst_off + i] = src[i * s0 + src_off + l];
                }
        });
        // Odometer over the middle modes, last fastest.
        for (std::size_t a = k - 2; a >= 1; --a) {
            if (++idx[a] < dims[a]) break;
            idx[a] = 0;
            if (a == 1) break;
        }
    }
}

class GreedyDecomposer {
public:
    GreedyDecomposer(const Shape& shape, const DecomposeOptions& options)
        : k_(kernels::active()),
          opt_(options),
          dims_(shape),
          order_(shape.size()),
          N_(detail::product(shape, 0, shape.size())),
          flush_terms_(options.flush_terms.value_or(N_ <= (std::size_t{1} << 18) ? 16 : 64)),
          keep_last_signs_(order_ >= 3 && shape.back() >= 8)
    {
    }

    /// Takes the C-ordered working copy (already float32 and checked), or
    /// works in `external` (a buffer the caller gave up).
    SignedCutTerms run(detail::AlignedFloats working, float* external, const TermLimits& limits, DecomposeReport& report);

private:
    // ---- the remainder copies ----
    void setup_copies(detail::AlignedFloats working, float* external);
    const RemainderCopy& copy_for_flips(std::size_t mode) const;

    // ---- images ----
    double mode_update(std::size_t a, DecomposeReport& report);
    void refresh_image(std::size_t a, DecomposeReport& report);
    double contracted_cost(const ContractedRemainder& c) const;
    void refresh_contracted(ContractedRemainder& c, DecomposeReport& report);
    void image_from_contracted(const ContractedRemainder& c, std::size_t a);
    void dense_image(std::size_t a);
    void slice_update(std::size_t a, std::size_t b, const std::vector<std::uint32_t>& flips, DecomposeReport& report);
    void finish_slice_update(std::size_t a, std::size_t b, std::size_t flipped, DecomposeReport& report);
    void apply_block(std::size_t a, std::span<const SignVector> signs, float* image, float sign) const;
    /// ⊗ of sig over the copy's modes [u, v), written to `out`.
    const SignVector& kron_copy(const RemainderCopy& c, std::span<const SignVector> sig, std::size_t u, std::size_t v,
                                SignVector& out);

    // ---- terms ----
    /// Where an alternating loop stands, so that it can be stopped and resumed.
    struct Alternation {
        double best = -std::numeric_limits<double>::infinity();
        double cut = 0;  ///< the last update's cut: <R, ⊗ signs_> for the current signs
        std::size_t without_rise = 0, updates = 0, mode = 0;
        bool converged = false;
    };
    void alternate(Alternation& state, std::size_t max_updates, DecomposeReport& report);
    void flush(DecomposeReport& report);
    void refit(SignedCutTerms& result, DecomposeReport& report);

    const kernels::Table& k_;
    DecomposeOptions opt_;
    Shape dims_;
    std::size_t order_;
    std::size_t N_;
    std::size_t flush_terms_;
    bool keep_last_signs_;  // restarts keep the last mode's signs (order 3+, a mode of 8 or more)

    std::vector<RemainderCopy> copies_;      // [0] C order, [1] reversed (optional)
    // R_mat ×_0 s_0 (C order) and R_mat ×_last s_last (axes reversed like
    // copies_[1]), each where it pays.
    std::vector<ContractedRemainder> contracted_;
    std::vector<std::vector<float>> image_;  // image of R_mat for each mode
    std::vector<std::vector<SignVector>> image_signs_;  // [a][b]: signs of mode b that image a reflects
    std::vector<bool> image_valid_;
    std::vector<SignVector> signs_;  // current signs of the term being built

    std::vector<SignMatrix> block_signs_;  // unflushed terms, one matrix per mode
    std::vector<float> block_scales_;
    std::vector<double> cuts_;  // <R_j, T_j> of every term, for a refit
    std::size_t flushes_since_refresh_ = 0;

    double norm2_x_ = 0, norm2_r_ = 0;
    ContractionScratch scratch_;
    std::vector<float> update_buf_, delta_, block_sum_;
    SignVector next_signs_;
    // Kronecker products of signs, rebuilt at every image update in storage
    // kept from one update to the next.
    SignVector kron_pre_, kron_mid_, kron_post_, kron_post_neg_, kron_spare_;
    std::vector<std::size_t> kron_modes_;
    mutable std::vector<double> apply_weight_;
    mutable std::vector<std::int64_t> apply_dots_;
    mutable std::vector<float> apply_wf_;
    std::vector<std::vector<std::uint32_t>> flips_;  // per mode, for refresh_image
    std::vector<std::uint32_t> contracted_flips_;
    std::unique_ptr<detail::WorkerPool> pool_;
};

void GreedyDecomposer::setup_copies(detail::AlignedFloats working, float* external)
{
    RemainderCopy c;
    if (external != nullptr) {
        c.data = external;
    } else {
        c.owned = std::move(working);
        c.data = c.owned.get();
    }
    c.dims = dims_;
    copies_.push_back(std::move(c));
    // A second, axis-reversed copy pays off when some mode's slices come in
    // C order as short scattered runs (Π_{b>a} d_b small) but are long runs
    // in reversed order (Π_{b<a} d_b larger).
    bool want_reversed = false;
    for (std::size_t a = 0; a < order_; ++a) {
        const std::size_t before = detail::product(dims_, 0, a), after = detail::product(dims_, a + 1, order_);
        if (after < 64 && before > after) want_reversed = true;
    }
    if (order_ >= 2 && want_reversed) {
        RemainderCopy r;
        r.owned = detail::allocate_aligned_floats(N_);  // reverse_axes writes every entry
        r.data = r.owned.get();
        r.dims.assign(dims_.rbegin(), dims_.rend());
        r.reversed = true;
        reverse_axes(copies_[0].data, dims_, r.data, opt_.threads);
        copies_.push_back(std::move(r));
    }
    // A contraction along an end mode is worth its memory (at most 1/8 of the
    // block) when that mode is long enough that an image from it is a small
    // fraction of a pass, and its slices are contiguous in some copy: always
    // for the first mode, in the reversed copy for the last.
    contracted_.clear();
    if (order_ >= 3 && dims_.front() >= 8) {
        ContractedRemainder c;
        c.mode = 0;
        c.source = 0;
        c.values.dims.assign(dims_.begin() + 1, dims_.end());
        c.values.first = 1;
        c.values.owned = detail::allocate_aligned_floats(N_ / dims_.front());
        c.values.data = c.values.owned.get();
        contracted_.push_back(std::move(c));
    }
    if (order_ >= 3 && copies_.size() > 1 && dims_.back() >= 8) {
        ContractedRemainder c;
        c.mode = order_ - 1;
        c.source = 1;
        c.values.dims.assign(dims_.rbegin() + 1, dims_.rend());
        c.values.reversed = true;
        c.values.owned = detail::allocate_aligned_floats(N_ / dims_.back());
        c.values.data = c.values.owned.get();
        contracted_.push_back(std::move(c));
    }
}

const RemainderCopy& GreedyDecomposer::copy_for_flips(std::size_t mode) const
{
    if (copies_.size() == 1) return copies_[0];
    const std::size_t before = detail::product(dims_, 0, mode), after = detail::product(dims_, mode + 1, order_);
    return before > after ? copies_[1] : copies_[0];
}

const SignVector& GreedyDecomposer::kron_copy(const RemainderCopy& c, std::span<const SignVector> sig, std::size_t u,
                                               std::size_t v, SignVector& out)
{
    kron_modes_.clear();
    for (std::size_t m = u; m < v; ++m) kron_modes_.push_back(c.original_mode(m));
    detail::kron_all(k_, sig, kron_modes_, out, kron_spare_);
    return out;
}

void GreedyDecomposer::dense_image(std::size_t a)
{
    // The copy in which the values after mode a form the longer contiguous
    // runs: an RGB axis, last in C order, becomes first in the reversed copy,
    // and 3 rows of H·W values stream far better than H·W rows of 3.
    const RemainderCopy& c = copies_.size() > 1 && detail::product(dims_, 0, a) > detail::product(dims_, a + 1, order_)
                                 ? copies_[1]
                                 : copies_[0];
    const std::size_t ap = c.copy_mode(a);
    auto& img = image_[a];
    std::fill(img.begin(), img.end(), 0.0f);
    const SignVector& sx = kron_copy(c, image_signs_[a], 0, ap, kron_pre_);
    const SignVector& sz = kron_copy(c, image_signs_[a], ap + 1, order_, kron_post_);
    detail::contract_block(k_, c.data, sx.size(), dims_[a], sz.size(), sx, sz, img.data(), scratch_, opt_.threads);
}

// image[a] += 2·Σ_{j in flips} s_b[j] · (slice j of mode b contracted with the
// signs image a reflects for the other modes); afterwards image a reflects s_b.
void GreedyDecomposer::slice_update(std::size_t a, std::size_t b, const std::vector<std::uint32_t>& flips,
                                    DecomposeReport& report)
{
    const RemainderCopy& c = copy_for_flips(b);
    const std::size_t ap = c.copy_mode(a), bp = c.copy_mode(b);
    const Shape& D = c.dims;
    auto& sig = image_signs_[a];
    const SignVector& snew = signs_[b];
    const std::size_t Y = D[ap];
    delta_.assign(Y, 0.0f);

    if (ap > bp) {
        const std::size_t P = detail::product(D, 0, bp), Db = D[bp], M = detail::product(D, bp + 1, ap),
                          Z = detail::product(D, ap + 1, order_), block_len = M * Y * Z;
        const SignVector& pre = kron_copy(c, sig, 0, bp, kron_pre_);
        const SignVector& mid = kron_copy(c, sig, bp + 1, ap, kron_mid_);
        const SignVector& post = kron_copy(c, sig, ap + 1, order_, kron_post_);
        // Each (p, j) selects one contiguous M × Y × Z block, and the
        // contraction is linear: sum the signed blocks first (one batched
        // pass over the flipped data), then contract that sum once.
        auto& off = scratch_.offsets;
        auto& w = scratch_.weights;
        // P·|F| entries, written in place: with many prefixes (a flip in the
        // middle mode of a block) building this list costs as much as the sum.
        const std::size_t F = flips.size();
        off.resize(P * F);
        w.resize(P * F);
        for (std::size_t i = 0; i < F; ++i) {
            off[i] = static_cast<std::ptrdiff_t>(flips[i] * block_len);
            w[i] = snew.negative(flips[i]) ? -1.0f : 1.0f;
        }
        const auto stride = static_cast<std::ptrdiff_t>(Db * block_len);
        for (std::size_t p = 1; p < P; ++p) {
            const std::ptrdiff_t shift = static_cast<std::ptrdiff_t>(p) * stride;
            const float flip = pre.negative(p) ? -1.0f : 1.0f;
            for (std::size_t i = 0; i < F; ++i) {
                off[p * F + i] = off[i] + shift;
                w[p * F + i] = flip * w[i];
            }
        }
        if (pre.negative(0))
            for (std::size_t i = 0; i < F; ++i) w[i] = -w[i];
        const bool direct = M == 1 && Z == 1 && !mid.negative(0) && !post.negative(0);
        // The block sum is a temporary of block_len floats; where that would
        // be a sizable fraction of the tensor (a flip in a tiny mode), the
        // blocks are contracted one by one instead, keeping memory near two copies.
        if (!direct && block_len > std::max<std::size_t>(std::size_t{1} << 16, N_ / 16)) {
            for (std::size_t i = 0; i < off.size(); ++i)
                detail::contract_block(k_, c.data + off[i], M, Y, Z, w[i] < 0 ? detail::negate(mid) : mid, post,
                                       delta_.data(), scratch_, opt_.threads);
            finish_slice_update(a, b, flips.size(), report);
            return;
        }
        float* sum = delta_.data();
        if (!direct) {
            block_sum_.assign(block_len, 0.0f);
            sum = block_sum_.data();
        }
        detail::parallel_ranges(opt_.threads, (block_len + 15) / 16, 16 * off.size(), [&](std::size_t c0, std::size_t c1) {
            const std::size_t t0 = c0 * 16, t1 = std::min(block_len, c1 * 16);
            k_.rows_add(c.data + t0, off.data(), w.data(), off.size(), t1 - t0, sum + t0);
        });
        if (!direct)
            detail::contract_block(k_, block_sum_.data(), M, Y, Z, mid, post, delta_.data(), scratch_, opt_.threads);
    } else {
        const std::size_t X = detail::product(D, 0, ap), M = detail::product(D, ap + 1, bp), Db = D[bp],
                          Z = detail::product(D, bp + 1, order_);
        const SignVector& pre = kron_copy(c, sig, 0, ap, kron_pre_);
        const SignVector& mid = kron_copy(c, sig, ap + 1, bp, kron_mid_);
        const SignVector& post = kron_copy(c, sig, bp + 1, order_, kron_post_);
        detail::negate(post, kron_post_neg_);
        const SignVector& post_neg = kron_post_neg_;
        auto& tmp = scratch_.tmp;
        if (X * Y * M <= 64) {
            // Few output rows, many flips: for each (x, y, m), sum its |F|
            // flipped rows of Z values in one batched pass, then take a single
            // dot product with the post signs.
            auto& off = scratch_.offsets;
            auto& w = scratch_.weights;
            off.clear();
            w.clear();
            for (std::uint32_t j : flips) {
                off.push_back(static_cast<std::ptrdiff_t>(j * Z));
                w.push_back(snew.negative(j) ? -1.0f : 1.0f);
            }
            for (std::size_t x = 0; x < X; ++x)
                for (std::size_t y = 0; y < Y; ++y)
                    for (std::size_t m = 0; m < M; ++m) {
                        tmp.assign(Z, 0.0f);
                        const float* base = c.data + ((x * Y + y) * M + m) * Db * Z;
                        detail::parallel_ranges(opt_.threads, (Z + 15) / 16, 16 * off.size(),
                                                [&](std::size_t c0, std::size_t c1) {
                                                    const std::size_t t0 = c0 * 16, t1 = std::min(Z, c1 * 16);
                                                    k_.rows_add(base + t0, off.data(), w.data(), off.size(), t1 - t0,
                                                                tmp.data() + t0);
                                                });
                        const bool neg = pre.negative(x) != mid.negative(m);
                        float dot = 0.0f;
                        k_.dense_matvec(tmp.data(), 1, Z, Z, (neg ? post_neg : post).data(), &dot);
                        delta_[y] += dot;
                    }
            finish_slice_update(a, b, flips.size(), report);
            return;
        }
        // Many output rows: rows (y, m) of Z contiguous values, Db·Z apart, one
        // dot product each with the post signs; then the mid signs fold m away.
        for (std::size_t x = 0; x < X; ++x)
            for (std::uint32_t j : flips) {
                // With M == 1 the lone mid sign (a mode of size 1) folds in too.
                const bool neg = (pre.negative(x) != snew.negative(j)) != (M == 1 && mid.negative(0));
                const float* A = c.data + (x * Y * M * Db + j) * Z;
                const SignVector& s = neg ? post_neg : post;
                if (M == 1) {
                    k_.dense_matvec(A, Y, Z, Db * Z, s.data(), delta_.data());
                } else {
                    tmp.assign(Y * M, 0.0f);
                    k_.dense_matvec(A, Y * M, Z, Db * Z, s.data(), tmp.data());
                    for (std::size_t y = 0; y < Y; ++y) {
                        float acc = 0.0f;
                        for (std::size_t m = 0; m < M; ++m) acc += mid.negative(m) ? -tmp[y * M + m] : tmp[y * M + m];
                        delta_[y] += acc;
                    }
                }
            }
    }
    finish_slice_update(a, b, flips.size(), report);
}

void GreedyDecomposer::finish_slice_update(std::size_t a, std::size_t b, std::size_t flipped, DecomposeReport& report)
{
    // Each flip moved a sign by ±2 (the factor left out of the sums above).
    auto& img = image_[a];
    for (std::size_t y = 0; y < img.size(); ++y) img[y] += 2.0f * delta_[y];
    image_signs_[a][b] = signs_[b];
    report.dense_passes += static_cast<double>(flipped) / static_cast<double>(dims_[b]);
}

double GreedyDecomposer::contracted_cost(const ContractedRemainder& c) const
{
    if (!c.valid) return 1.0;
    const double cost = double(hamming(c.signs, signs_[c.mode])) / double(dims_[c.mode]);
    return std::min(cost, 1.0);
}

void GreedyDecomposer::refresh_contracted(ContractedRemainder& c, DecomposeReport& report)
{
    const std::size_t m = c.mode, len = N_ / dims_[m];
    const RemainderCopy& r = copies_[c.source];  // its mode 0 is mode m, so slice f is [f·len, (f+1)·len)
    float* t = c.values.data;
    const SignVector& s = signs_[m];
    if (contracted_cost(c) >= 1.0) {
        std::fill_n(t, len, 0.0f);
        const SignVector one(1);
        detail::contract_block(k_, r.data, dims_[m], len, 1, s, one, t, scratch_, opt_.threads);
        report.dense_passes += 1;
    } else {
        // A flip moves that slice's share by 2·s_new (slices are contiguous here).
        auto& off = scratch_.offsets;
        auto& w = scratch_.weights;
        off.clear();
        w.clear();
        flipped_positions(c.signs, s, contracted_flips_);
        for (const std::size_t f : contracted_flips_) {
            off.push_back(static_cast<std::ptrdiff_t>(f * len));
            w.push_back(s.negative(f) ? -2.0f : 2.0f);
        }
        detail::parallel_ranges(opt_.threads, (len + 15) / 16, 16 * off.size(), [&](std::size_t c0, std::size_t c1) {
            const std::size_t t0 = c0 * 16, t1 = std::min(len, c1 * 16);
            k_.rows_add(r.data + t0, off.data(), w.data(), off.size(), t1 - t0, t + t0);
        });
        report.dense_passes += double(off.size()) / double(dims_[m]);
    }
    c.signs = s;
    c.valid = true;
}

void GreedyDecomposer::image_from_contracted(const ContractedRemainder& cr, std::size_t a)
{
    const RemainderCopy& c = cr.values;
    const std::size_t ap = c.copy_mode(a), modes = c.dims.size();
    auto& img = image_[a];
    std::fill(img.begin(), img.end(), 0.0f);
    const SignVector& sx = kron_copy(c, signs_, 0, ap, kron_pre_);
    const SignVector& sz = kron_copy(c, signs_, ap + 1, modes, kron_post_);
    detail::contract_block(k_, c.data, sx.size(), dims_[a], sz.size(), sx, sz, img.data(), scratch_, opt_.threads);
    for (std::size_t b = 0; b < order_; ++b) image_signs_[a][b] = signs_[b];
    image_valid_[a] = true;
}

void GreedyDecomposer::refresh_image(std::size_t a, DecomposeReport& report)
{
    // Flipped positions per mode, and what updating by their slices would
    // cost in passes (an invalid image needs a dense pass: 1).
    auto& flips = flips_;
    double slices = 1.0;
    if (image_valid_[a]) {
        slices = 0;
        for (std::size_t b = 0; b < order_; ++b) {
            if (b == a) continue;
            flipped_positions(image_signs_[a][b], signs_[b], flips[b]);
            slices += static_cast<double>(flips[b].size()) / static_cast<double>(dims_[b]);
        }
    }
    // Through a contraction along another mode when bringing it up to date
    // costs no more than the cheaper of a dense pass and the slices (the
    // cheaper contraction when both qualify).
    ContractedRemainder* via = nullptr;
    double via_cost = 0;
    for (ContractedRemainder& c : contracted_) {
        if (c.mode == a) continue;
        const double cost = contracted_cost(c);
        if (via == nullptr || cost < via_cost) via = &c, via_cost = cost;
    }
    if (via != nullptr && via_cost <= std::min(slices, 1.0)) {
        refresh_contracted(*via, report);
        image_from_contracted(*via, a);
        report.dense_passes += 1.0 / double(dims_[via->mode]);
        return;
    }
    if (slices >= 1.0) {
        for (std::size_t b = 0; b < order_; ++b) image_signs_[a][b] = signs_[b];
        dense_image(a);
        image_valid_[a] = true;
        report.dense_passes += 1;
        return;
    }
    for (std::size_t b = 0; b < order_; ++b)
        if (b != a && !flips[b].empty()) slice_update(a, b, flips[b], report);
}

// image += sign · Σ_j c_j · Π_{b≠a} <S_j^(b), signs[b]> · S_j^(a), over the block.
void GreedyDecomposer::apply_block(std::size_t a, std::span<const SignVector> signs, float* image, float sign) const
{
    const std::size_t nb = block_scales_.size();
    if (nb == 0) return;
    // Scratch kept across calls: this runs at every mode update.
    auto& weight = apply_weight_;
    auto& dots = apply_dots_;
    auto& wf = apply_wf_;
    weight.assign(block_scales_.begin(), block_scales_.end());
    dots.resize(nb);
    for (std::size_t b = 0; b < order_; ++b) {
        if (b == a) continue;
        const SignMatrix& S = block_signs_[b];
        k_.sign_dots(signs[b].data(), S.data(), S.rows(), nb, S.column_stride(), dots.data());
        for (std::size_t j = 0; j < nb; ++j) weight[j] *= static_cast<double>(dots[j]);
    }
    wf.resize(nb);
    for (std::size_t j = 0; j < nb; ++j) wf[j] = static_cast<float>(sign * weight[j]);
    const SignMatrix& Sa = block_signs_[a];
    // Threads take whole 64-row groups: each starts on a word of every column.
    detail::parallel_ranges(opt_.threads, Sa.column_stride(), 64 * nb, [&](std::size_t g0, std::size_t g1) {
        const std::size_t r0 = g0 * 64, r1 = std::min(Sa.rows(), g1 * 64);
        k_.sign_matvec(Sa.data() + g0, r1 - r0, nb, Sa.column_stride(), wf.data(), image + r0);
    });
}

double GreedyDecomposer::mode_update(std::size_t a, DecomposeReport& report)
{
    refresh_image(a, report);
    update_buf_ = image_[a];
    apply_block(a, signs_, update_buf_.data(), -1.0f);
    // New signs: -1 exactly where the image is negative (zero gives +1),
    // packed into the spare vector, which then trades places with the old.
    SignVector& next = next_signs_;
    if (next.size() != update_buf_.size()) next = SignVector(update_buf_.size());
    k_.pack_signs(update_buf_.data(), update_buf_.size(), next.data());
    report.flipped_signs += hamming(next, signs_[a]);
    std::swap(signs_[a], next);
    ++report.mode_updates;
    // Σ|x| in double, in an order fixed by the kernel table (the same value on
    // every ISA).
    return k_.abs_sum(update_buf_.data(), update_buf_.size());
}

void GreedyDecomposer::flush(DecomposeReport& report)
{
    const std::size_t nb = block_scales_.size();
    if (nb == 0) return;
    std::vector<float> negc(nb);
    for (std::size_t j = 0; j < nb; ++j) negc[j] = -block_scales_[j];
    for (const RemainderCopy& c : copies_) {
        if (c.reversed) {
            std::vector<SignMatrix> rev(block_signs_.rbegin(), block_signs_.rend());
            detail::add_terms(k_, c.dims, rev, negc, 0, nb, c.data, opt_.threads);
        } else {
            detail::add_terms(k_, c.dims, block_signs_, negc, 0, nb, c.data, opt_.threads);
        }
        report.dense_passes += 1;
    }
    // The bookkept ||R||² drifts by float rounding; the materialised
    // remainder resets it.
    norm2_r_ = sum_squares(copies_[0].data, N_, opt_.threads);
    report.dense_passes += 1;
    ++report.flushes;
    // Images of R_mat move by the flushed terms, exactly as the block
    // correction said; every few flushes they are recomputed densely so
    // float drift cannot build up.
    if (++flushes_since_refresh_ >= 8) {
        flushes_since_refresh_ = 0;
        std::fill(image_valid_.begin(), image_valid_.end(), false);
    } else {
        for (std::size_t a = 0; a < order_; ++a)
            if (image_valid_[a]) apply_block(a, image_signs_[a], image_[a].data(), -1.0f);
    }
    for (SignMatrix& m : block_signs_) m.truncate(0);  // keeps the capacity
    block_scales_.clear();
    for (ContractedRemainder& c : contracted_) c.valid = false;  // R_mat moved
}

// Alternating mode updates from the current signs until the cut stops
// rising (k updates in a row without a strict rise), the cap, or
// `max_updates` in all (then `state` can resume where it stopped).
void GreedyDecomposer::alternate(Alternation& state, std::size_t max_updates, DecomposeReport& report)
{
    while (!state.converged && state.updates < max_updates) {
        state.cut = mode_update(state.mode, report);
        state.mode = (state.mode + 1) % order_;
        ++state.updates;
        if (state.cut > state.best) {
            state.best = state.cut;
            state.without_rise = 0;
        } else {
            ++state.without_rise;
        }
        state.converged = state.without_rise >= order_ || state.updates >= opt_.max_mode_updates;
    }
}

// Replaces the greedy's scales by the least-squares ones, and brings the
// (materialised) remainder and its norm to them, so the reported error is
// recomputed rather than predicted. Kept only if that error is lower.
void GreedyDecomposer::refit(SignedCutTerms& result, DecomposeReport& report)
{
    const std::vector<double> gram = detail::term_gram(k_, result, opt_.threads);
    const auto solved = detail::least_squares_scales(gram, cuts_, result.scales(), opt_.threads);
    if (!solved) return;
    const std::size_t w = result.width();
    std::vector<float> scales(w), change(w);
    for (std::size_t j = 0; j < w; ++j) {
        scales[j] = opt_.short_scales ? round_to_short_scale((*solved)[j]) : static_cast<float>((*solved)[j]);
        change[j] = result.scales()[j] - scales[j];  // R' = X - Σ c'_j T_j = R + Σ (c_j - c'_j) T_j
    }
    const double greedy_norm2 = norm2_r_;
    float* r = copies_[0].data;
    detail::add_terms(k_, dims_, result.all_signs(), change, 0, w, r, opt_.threads);
    norm2_r_ = sum_squares(r, N_, opt_.threads);
    report.dense_passes += 2;
    if (!(norm2_r_ < greedy_norm2)) {
        // Rounding can only make this happen when the greedy's scales were
        // already optimal; the remainder is not used any more.
        norm2_r_ = greedy_norm2;
        return;
    }
    result.set_refit_scales(std::move(scales));
    report.scales_refit = true;
}

/// The share of the run done: terms over the ceiling, or with an error
/// target the error's progress on a log scale (errors fall roughly
/// geometrically with the width, so this is closer to the time than the
/// share of the gains).
double progress_fraction(std::size_t terms, double gained, const TermLimits& limits, double norm2)
{
    double f = limits.max_terms > 0 ? double(terms) / double(limits.max_terms) : 1.0;
    if (limits.stop_gain_fraction && norm2 > 0) {
        const double target = std::max(1e-300, 1.0 - *limits.stop_gain_fraction);
        const double now = std::max(target, 1.0 - gained / norm2);
        f = target < 1.0 ? std::log(now) / std::log(target) : 1.0;
    }
    return std::clamp(f, 0.0, 1.0);
}

SignedCutTerms GreedyDecomposer::run(detail::AlignedFloats working, float* external, const TermLimits& limits,
                                    DecomposeReport& report)
{
    report = DecomposeReport{};
    SignedCutTerms result(dims_);

    if (opt_.threads > 1) pool_ = std::make_unique<detail::WorkerPool>(opt_.threads);
    const detail::WorkerPool::Scope pool_scope(pool_.get());
    setup_copies(std::move(working), external);
    norm2_x_ = norm2_r_ = sum_squares(copies_[0].data, N_, opt_.threads);
    report.dense_passes += 1;

    image_.assign(order_, {});
    image_signs_.assign(order_, std::vector<SignVector>(order_));
    image_valid_.assign(order_, false);
    flips_.assign(order_, {});
    signs_.resize(order_);
    block_signs_.clear();
    for (std::size_t a = 0; a < order_; ++a) {
        image_[a].assign(dims_[a], 0.0f);
        block_signs_.emplace_back(dims_[a], 0);
        block_signs_[a].reserve(flush_terms_);
    }
    // Known widths get their bits at once: growing by doubling would hold
    // the old and the new bits together at each step.
    // (A budget far beyond what the data can use is not reserved: the
    // sequence usually ends long before, at the rounding floor.)
    if (!limits.stop_gain_fraction) result.reserve(std::min<std::size_t>(limits.max_terms, 1 << 14));

    const auto rel = [&] { return norm2_x_ > 0 ? std::sqrt(std::max(0.0, norm2_r_) / norm2_x_) : 0.0; };
    // Σ c_j²·N, the gains the allocation ranks terms by (allocation.hpp).
    double gained = 0;
    const auto done = [&] {
        // Below float32's resolution of the data (a relative error of 2^-24)
        // further terms only fit rounding noise, and each one costs the most
        // mode updates: the sequence ends there.
        if (norm2_x_ == 0 || norm2_r_ <= norm2_x_ * 0x1p-48) return true;
        return limits.stop_gain_fraction && gained >= *limits.stop_gain_fraction * norm2_x_;
    };

    const std::size_t restarts = opt_.restarts.value_or(order_ >= 3 ? 2 : 0);
    for (std::size_t term = 0; term < limits.max_terms && !done(); ++term) {
        const bool warm = opt_.start == StartSigns::previous || (opt_.start == StartSigns::automatic && order_ == 2);
        // Start 0 is the usual one; each restart draws random signs from its
        // own stream and runs the same loop. The largest final cut wins (the
        // earliest on a tie), so restarts = 0 is exactly the plain loop.
        // With screening, every start runs only its first cycles and the one
        // ahead then runs on alone.
        const std::size_t screen = restarts > 0 && opt_.screen_cycles > 0 ? opt_.screen_cycles * order_
                                                                           : std::numeric_limits<std::size_t>::max();
        Alternation best;
        best.cut = -std::numeric_limits<double>::infinity();
        std::vector<SignVector> best_signs;
        // The leader's images too (a few floats per mode), so that it resumes
        // without recomputing them from the data.
        std::vector<std::vector<float>> best_image;
        std::vector<std::vector<SignVector>> best_image_signs;
        std::vector<bool> best_image_valid;
        std::size_t leader = 0;
        for (std::size_t start = 0; start <= restarts; ++start) {
            if (start > 0) {
                // A long last mode keeps the signs the previous start ended
                // with: the starts still differ in every mode between the
                // first and the last (the first is rewritten by the first
                // update), the error is the same or lower, and the
                // contraction along that mode stays current (BENCHMARKS.md,
                // "Speed and scale"). A short one (a colour axis) has too few
                // sign patterns to keep: it is drawn again.
                for (std::size_t a = 0; a < order_; ++a)
                    if (!(a + 1 == order_ && keep_last_signs_))
                        signs_[a] = starting_signs(restart_seed(opt_.seed, start), term, a, dims_[a]);
            } else if (term == 0 || !warm) {
                for (std::size_t a = 0; a < order_; ++a) signs_[a] = starting_signs(opt_.seed, term, a, dims_[a]);
            }
            Alternation run;
            alternate(run, screen, report);
            if (run.cut > best.cut) {
                best = run;
                leader = start;
                if (restarts > 0 && start < restarts) {
                    best_signs = signs_;
                    if (!run.converged) {
                        best_image = image_;
                        best_image_signs = image_signs_;
                        best_image_valid = image_valid_;
                    }
                }
            }
        }
        if (leader < restarts) {
            signs_ = std::move(best_signs);
            if (!best.converged) {
                image_ = std::move(best_image);
                image_signs_ = std::move(best_image_signs);
                image_valid_ = std::move(best_image_valid);
            }
        }
        alternate(best, std::numeric_limits<std::size_t>::max(), report);
        const double cut = best.cut;
        // The stored scale: cut/N rounded to a float32, or to a short scale
        // (scale_format.hpp), which the remainder then loses exactly.
        const double best_scale = cut / static_cast<double>(N_);
        const float c = opt_.short_scales ? round_to_short_scale(best_scale) : static_cast<float>(best_scale);
        if (c == 0.0f) break;  // the term would change nothing, and so would every later one
        // ||R - c·S||² = ||R||² - 2c<R,S> + c²N, with the c that is stored.
        const double drop = 2.0 * double(c) * cut - double(c) * double(c) * double(N_);
        norm2_r_ -= drop;
        gained += drop;
        report.term_gains.push_back(drop);
        result.append(c, signs_);
        cuts_.push_back(cut);
        for (std::size_t a = 0; a < order_; ++a) block_signs_[a].push_back(signs_[a]);
        block_scales_.push_back(c);
        if (block_scales_.size() >= flush_terms_) flush(report);
        report.rel_error_trajectory.push_back(rel());
        if (opt_.progress && !opt_.progress(Progress{result.width(), rel(), result.bits_per_value(),
                                                     progress_fraction(result.width(), gained, limits, norm2_x_)})) {
            report.cancelled = true;
            break;
        }
    }
    // Materialise the last block so the reported error is recomputed, not bookkept.
    if (!block_scales_.empty()) {
        copies_.resize(1);
        flush(report);
    }
    report.greedy_rel_error = rel();
    report.target_reached = !limits.stop_gain_fraction || gained >= *limits.stop_gain_fraction * norm2_x_ ||
                            norm2_r_ <= 0;
    if (opt_.refit_scales && result.width() >= 2) refit(result, report);
    report.rel_error = rel();
    report.norm2 = norm2_x_;
    return result;
}

}  // namespace

int detail::headroom_exponent(float max_abs, std::uint64_t n)
{
    if (!(max_abs > 0) || !std::isfinite(max_abs)) return 0;
    int log2_n = 0;  // ⌈log2 n⌉
    while (log2_n < 64 && (std::uint64_t{1} << log2_n) < n) ++log2_n;
    int e = 0;
    std::frexp(max_abs, &e);  // max_abs < 2^e
    return std::max(0, e - (100 - log2_n));
}

// Data near the float32 limit. The greedy works in float32: an image sums up
// to n/d_a remainder values, a flush adds up to 64 terms, and the remainder
// of a block whose largest value is M can reach ‖X‖ ≤ √n·M, so sums reach
// about 2^7·n^1.5·M, which overflows long before M reaches FLT_MAX (a 40×50
// block of values up to 3e38 gave infinite images, an infinite cut and an
// infinite scale). So a block whose largest magnitude M passes
// 2^(100 − ⌈log2 n⌉) (2^80, about 1.2e24, for n = 2^20) is multiplied by 2^−e first,
// which brings it below that bound, and its scales are multiplied by 2^e
// after the greedy.
//
// Why a power of two and not double: multiplying by 2^−e is exact, and every
// step of the greedy is homogeneous (sums and differences, products with ±1,
// c = cut/N, the norms and cuts compared only with each other or as ratios in
// the stopping rules), so the run on the scaled block takes exactly the same
// decisions and its scales times 2^e are exactly those of a run in exact
// range: the same signs, the same allocation, the same errors, for any
// thread count. Only values that the scaling pushes below float32's normal
// range lose bits: those more than 2^(226 − ⌈log2 n⌉) times smaller than the
// block's largest (2^186 for blocks of up to 2^40 values). Working in double
// instead would double the memory and halve the speed of every run for the
// sake of a few. Blocks within the bound (all ordinary data) are not
// touched: their results are bit for bit those of a run without this step.
SignedCutTerms detail::greedy_terms(detail::AlignedFloats working, float* external, const Shape& shape,
                                    const DecomposeOptions& options, const TermLimits& limits, DecomposeReport& report)
{
    float* data = external != nullptr ? external : working.get();
    const std::uint64_t n = detail::product(shape, 0, shape.size());
    constexpr std::size_t piece = std::size_t{1} << 16;
    const std::size_t pieces = (n + piece - 1) / piece;
    std::vector<float> piece_max(pieces, 0.0f);
    detail::parallel_ranges(options.threads, pieces, piece, [&](std::size_t p0, std::size_t p1) {
        for (std::size_t p = p0; p < p1; ++p) {
            float m = 0;
            for (std::size_t i = p * piece; i < std::min<std::uint64_t>(n, (p + 1) * piece); ++i)
                m = std::max(m, std::abs(data[i]));
            piece_max[p] = m;
        }
    });
    const float max_abs = piece_max.empty() ? 0.0f : *std::max_element(piece_max.begin(), piece_max.end());
    const int e = headroom_exponent(max_abs, n);
    if (e > 0) {
        const float down = std::ldexp(1.0f, -e);
        detail::parallel_ranges(options.threads, pieces, piece, [&](std::size_t p0, std::size_t p1) {
            for (std::size_t i = p0 * piece; i < std::min<std::uint64_t>(n, p1 * piece); ++i) data[i] *= down;
        });
    }

    GreedyDecomposer g(shape, options);
    SignedCutTerms terms = g.run(std::move(working), external, limits, report);
    if (e == 0) {
        for (std::size_t j = 0; j < terms.width(); ++j)
            if (!std::isfinite(terms.scales()[j]))
                throw Error(errc::bad_input,
                            fmt::format("the scale of term {} is {}: the data's sums overflow float32", j,
                                        terms.scales()[j]));
        return terms;
    }
    std::vector<float> scales(terms.scales());
    for (std::size_t j = 0; j < scales.size(); ++j) {
        const float c = std::ldexp(scales[j], e);
        if (!std::isfinite(c))
            throw Error(errc::bad_input,
                        fmt::format("the scale of term {} would be {:.9g}, beyond the float32 range (largest {:.9g}); "
                                    "a decomposition file stores float32 scales",
                                    j, std::ldexp(double(scales[j]), e), double(std::numeric_limits<float>::max())));
        scales[j] = c;
    }
    report.norm2 = std::ldexp(report.norm2, 2 * e);
    for (double& g : report.term_gains) g = std::ldexp(g, 2 * e);
    return SignedCutTerms(shape, std::move(scales), std::vector<SignMatrix>(terms.all_signs()), terms.scales_refit());
}

}  // namespace signcut
