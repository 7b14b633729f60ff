// decompose(): the tensor cut into blocks, each block's greedy sequence from
// the one greedy decomposer (greedy.hpp), and the budget shared between the
// blocks by the allocation (allocation.hpp). The whole tensor is the grid of
// one block and goes through the same steps.
//
// How far each block is decomposed: the allocation must give the answer it
// would give over the blocks' unbounded greedy sequences. A block's sequence
// does not depend on how far it is run, so each block is first decomposed to
// a ceiling near its share of the budget; a block whose allocated width comes
// within a margin of its ceiling is decomposed again from its data, further
// (the same seed gives the same first terms), until no block is near its
// ceiling or every such block is exhausted or at the most the budget allows.
// A one-block run knows its ceiling exactly and runs once.
#include "signcut/decompose.hpp"

#include <algorithm>
#include <atomic>
#include <cmath>
#include <limits>
#include <mutex>
#include <numeric>
#include <thread>
#include <type_traits>

#include <fmt/format.h>

#include "aligned_buffer.hpp"
#include "auto_blocks.hpp"
#include "greedy.hpp"
#include "payload_budget.hpp"
#include "signcut/allocation.hpp"
#include "signcut/error.hpp"

namespace signcut {
namespace {

void validate_options(const DecomposeOptions& o)
{
    const int rules = int(o.width.has_value()) + int(o.bits_per_value.has_value()) + int(o.rel_error.has_value());
    if (rules > 1)
        throw Error(errc::invalid_argument,
                    "choose one stopping rule: width, bits per value or relative error (got more than one)");
    if (o.width && *o.width == 0) throw Error(errc::invalid_argument, "width must be at least 1");
    if (o.bits_per_value && !(*o.bits_per_value > 0 && std::isfinite(*o.bits_per_value)))
        throw Error(errc::invalid_argument, fmt::format("bits per value must be positive, got {}", *o.bits_per_value));
    if (o.rel_error && !(*o.rel_error >= 0 && std::isfinite(*o.rel_error)))
        throw Error(errc::invalid_argument,
                    fmt::format("relative error target must be finite and >= 0, got {}", *o.rel_error));
    if (!(o.max_bits_per_value > 0 && std::isfinite(o.max_bits_per_value)))
        throw Error(errc::invalid_argument,
                    fmt::format("the most bits per value must be positive, got {}", o.max_bits_per_value));
    if (o.max_mode_updates == 0) throw Error(errc::invalid_argument, "the cap on mode updates per term must be >= 1");
    if (o.flush_terms == 0) throw Error(errc::invalid_argument, "the flush block must hold at least 1 term");
    if (o.threads == 0) throw Error(errc::invalid_argument, "threads must be at least 1");
    if (o.restarts && *o.restarts > 1000)
        throw Error(errc::invalid_argument, fmt::format("at most 1000 restarts per term, got {}", *o.restarts));
    if (!(o.first_pass_share >= 0 && std::isfinite(o.first_pass_share)))
        throw Error(errc::invalid_argument,
                    fmt::format("the first pass share must be finite and >= 0, got {}", o.first_pass_share));
}

template <class T>
void check_finite(const T* x, std::size_t n)
{
    std::size_t nan = 0, inf = 0;
    for (std::size_t i = 0; i < n; ++i) {
        if (std::isnan(x[i])) ++nan;
        else if (std::isinf(x[i])) ++inf;
    }
    if (nan + inf > 0)
        throw Error(errc::bad_input, fmt::format("input contains {} NaN and {} infinite values; signcut needs finite data",
                                                 nan, inf));
    if constexpr (std::is_same_v<T, double>) {
        // float64 data is rounded to float32 as blocks are copied: a finite
        // value beyond float32's range would become ±Inf there.
        std::size_t beyond = 0, first = 0;
        for (std::size_t i = n; i-- > 0;)
            if (std::isinf(static_cast<float>(x[i]))) ++beyond, first = i;
        if (beyond > 0)
            throw Error(errc::bad_input,
                        fmt::format("input holds {} values beyond the float32 range (the first is {:.9g} at entry {}; "
                                    "the largest float32 is {:.9g}); signcut works in float32",
                                    beyond, x[first], first, double(std::numeric_limits<float>::max())));
    }
}

/// Stored bits of one block of `signs_per_term` signs per term holding `w`
/// terms, with its widths entry (format version 2).
std::uint64_t one_block_payload_bits(std::uint64_t signs_per_term, std::uint64_t w)
{
    return sct_payload(1, w, (w * signs_per_term + 7) / 8).bits();
}

/// True if the steepest segment of the block's curve from width `w` could
/// run past its last known term: with a phantom next term twice as large as
/// the largest of the last four known gains (greedy gains fall, but not
/// always: a later term can gain more than the one before it), the steepest
/// segment from `w` would reach it. Then the block must be decomposed
/// further before the allocation is final.
bool next_segment_may_pass_end(const BlockCurve& c, std::size_t w)
{
    const std::size_t k = c.gains.size();
    if (w >= k) return true;
    double recent = 0;
    for (std::size_t j = k - std::min<std::size_t>(k, 4); j < k; ++j) recent = std::max(recent, c.gains[j]);
    double gain = 0, best = -1;
    std::size_t end = w;
    for (std::size_t m = w + 1; m <= k + 1; ++m) {
        gain += m <= k ? c.gains[m - 1] : 2 * recent;
        const double slope = gain / double(m - w);
        if (slope >= best) best = slope, end = m;
    }
    return end > k;
}

/// One block's state across the rounds.
struct BlockState {
    SignedCutTerms terms;
    std::size_t ceiling = 0;    // terms asked for in the last run
    std::size_t max_terms = 0;  // the most the budget allows
    bool complete = false;      // the last run could not or need not go further
    double norm2 = 0;
    DecomposeReport report;
};

class BlockedRun {
public:
    BlockedRun(const BlockGrid& grid, const DecomposeOptions& options) : grid_(grid), opt_(options) {}

    template <class T>
    SignedCutDecomposition run(const T* data, float* adopt, DecomposeReport& report);

private:
    template <class T>
    void decompose_blocks(const T* data, float* adopt, const std::vector<std::size_t>& which,
                          const detail::TermLimits* one_block_limits);
    std::vector<BlockCurve> curves() const;

    const BlockGrid& grid_;
    DecomposeOptions opt_;
    std::vector<BlockState> blocks_;
    std::atomic<bool> cancelled_{false};
    std::mutex progress_mutex_;
    std::size_t blocks_done_ = 0, work_items_ = 0, terms_found_ = 0;
};

std::vector<BlockCurve> BlockedRun::curves() const
{
    std::vector<BlockCurve> c(blocks_.size());
    for (std::size_t b = 0; b < blocks_.size(); ++b) {
        const std::uint64_t n = grid_.block_size(b);
        c[b].term_bits = grid_.signs_per_term(b) + 32;
        c[b].gains.reserve(blocks_[b].terms.width());
        for (float s : blocks_[b].terms.scales()) c[b].gains.push_back(term_gain(s, n));
    }
    return c;
}

template <class T>
void BlockedRun::decompose_blocks(const T* data, float* adopt, const std::vector<std::size_t>& which,
                                  const detail::TermLimits* one_block_limits)
{
    const bool one = grid_.count() == 1;
    std::atomic<std::size_t> next{0};
    std::exception_ptr failure;
    std::mutex failure_mutex;
    const auto work = [&] {
        try {
            for (;;) {
                if (cancelled_.load()) return;
                const std::size_t i = next.fetch_add(1);
                if (i >= which.size()) return;
                const std::size_t b = which[i];
                BlockState& s = blocks_[b];
                DecomposeOptions o = opt_;
                o.seed = block_seed(opt_.seed, b);
                o.threads = one ? opt_.threads : 1;
                if (!one) o.progress = nullptr;
                detail::TermLimits limits{s.ceiling, {}};
                if (one_block_limits != nullptr) limits = *one_block_limits;
                const Shape e = grid_.extents(b);
                detail::AlignedFloats working;
                if (adopt == nullptr) {
                    working = detail::allocate_aligned_floats(grid_.block_size(b));
                    grid_.gather(b, data, working.get());
                }
                s.terms = detail::greedy_terms(std::move(working), adopt, e, o, limits, s.report);
                s.norm2 = s.report.norm2;
                s.complete = s.terms.width() < limits.max_terms || limits.max_terms >= s.max_terms ||
                             one_block_limits != nullptr;
                if (s.report.cancelled) cancelled_ = true;
                if (!one && opt_.progress) {
                    const std::lock_guard lock(progress_mutex_);
                    ++blocks_done_;
                    terms_found_ += s.terms.width();
                    Progress p;
                    p.blocks = grid_.count();
                    p.terms = terms_found_;
                    p.fraction = double(blocks_done_) / double(std::max(work_items_, blocks_done_));
                    if (!cancelled_.load() && !opt_.progress(p)) cancelled_ = true;
                }
            }
        } catch (...) {
            const std::lock_guard lock(failure_mutex);
            if (!failure) failure = std::current_exception();
            cancelled_ = true;
        }
    };
    const unsigned threads = one ? 1u : static_cast<unsigned>(std::min<std::size_t>(opt_.threads, which.size()));
    if (threads <= 1) {
        work();
    } else {
        std::vector<std::thread> pool;
        pool.reserve(threads - 1);
        try {
            for (unsigned t = 1; t < threads; ++t) pool.emplace_back(work);
        } catch (const std::system_error& e) {
            cancelled_ = true;
            for (auto& th : pool) th.join();
            throw Error(errc::limit, fmt::format("cannot start {} threads: {}", threads, e.what()));
        }
        work();
        for (auto& th : pool) th.join();
    }
    if (failure) std::rethrow_exception(failure);
}

template <class T>
SignedCutDecomposition BlockedRun::run(const T* data, float* adopt, DecomposeReport& report)
{
    report = DecomposeReport{};
    const std::size_t G = grid_.count();
    const std::uint64_t N = element_count(grid_.shape());
    const bool one = G == 1;
    blocks_.assign(G, BlockState{});
    report.blocks = G;
    report.block_shape = grid_.block_shape();

    // The budget, and each block's ceiling.
    std::uint64_t total = 0;
    if (opt_.width) {
        for (auto& s : blocks_) s.ceiling = s.max_terms = *opt_.width;
    } else {
        const double bpv = opt_.rel_error ? opt_.max_bits_per_value : opt_.bits_per_value.value_or(1.0);
        total = detail::budget_bits(bpv, N);
        if (!opt_.rel_error && total < one_term_payload_bits(grid_))
            throw Error(errc::bad_input,
                        fmt::format("{} bits per value is below one term of shape {} with blocks of {}: the minimum "
                                    "is {:.6g}",
                                    bpv, format_shape(grid_.shape()), format_shape(grid_.block_shape()),
                                    double(one_term_payload_bits(grid_)) / double(N)));
        if (one) {
            // Exactly: the most terms whose payload fits.
            const std::uint64_t s = grid_.signs_per_term(0);
            std::uint64_t lo = 0, hi = total / (s + 32) + 1;
            while (lo < hi) {
                const std::uint64_t mid = lo + (hi - lo + 1) / 2;
                if (one_block_payload_bits(s, mid) <= total) lo = mid;
                else hi = mid - 1;
            }
            blocks_[0].ceiling = blocks_[0].max_terms = static_cast<std::size_t>(lo);
        } else {
            const std::uint64_t term_budget = detail::term_bits_ceiling(grid_, total);
            // The first pass: each block's share of an assumed budget (the
            // budget itself, or 1 bit per value for an error target).
            const double assumed = opt_.rel_error ? std::min<double>(double(term_budget), double(N))
                                                  : double(term_budget);
            for (std::size_t b = 0; b < G; ++b) {
                const std::uint64_t t = grid_.signs_per_term(b) + 32;
                blocks_[b].max_terms = static_cast<std::size_t>(term_budget / t);
                const double share = assumed * double(grid_.block_size(b)) / double(N) / double(t);
                const double first = std::ceil(opt_.first_pass_share * share) + 2;
                blocks_[b].ceiling = static_cast<std::size_t>(std::min<double>(first, double(blocks_[b].max_terms)));
            }
        }
    }

    // Rounds: decompose what needs it, allocate, and see who wants more.
    std::vector<std::size_t> which(G);
    std::iota(which.begin(), which.end(), 0);
    Allocation allocation;
    double norm2 = 0;
    for (;;) {
        ++report.rounds;
        work_items_ += which.size();
        if (one) {
            // One block knows its ceiling exactly. With an error target the
            // greedy stops where the allocation over its sequence would: at
            // the first width whose gains reach (1 − E²)·‖X‖² (it computes
            // ‖X‖² first thing).
            detail::TermLimits limits{blocks_[0].ceiling, {}};
            if (opt_.rel_error) limits.stop_gain_fraction = 1.0 - *opt_.rel_error * *opt_.rel_error;
            decompose_blocks(data, adopt, which, &limits);
        } else {
            decompose_blocks(data, adopt, which, nullptr);
        }
        for (std::size_t b : which) report.decomposed_terms += blocks_[b].terms.width();
        norm2 = 0;
        for (const auto& s : blocks_) norm2 += s.norm2;
        if (cancelled_.load()) break;

        const std::vector<BlockCurve> c = curves();
        // A width rule takes what was found; so does a refit (one block,
        // whose greedy already stopped where the rule said, and whose refit
        // scales no longer give the greedy's gains).
        if (opt_.width || blocks_[0].terms.scales_refit()) {
            allocation.widths.clear();
            for (const auto& s : blocks_) allocation.widths.push_back(s.terms.width());
            break;
        }
        if (opt_.rel_error) {
            const double target = *opt_.rel_error * *opt_.rel_error * norm2;
            allocation = detail::allocate_gain_payload(grid_, c, norm2 - target, total);
        } else {
            allocation = detail::allocate_payload(grid_, c, total);
        }
        which.clear();
        for (std::size_t b = 0; b < G; ++b) {
            BlockState& s = blocks_[b];
            const std::size_t margin = 1 + s.ceiling / 16;
            if (s.complete) continue;
            if (allocation.widths[b] + margin <= s.ceiling && !next_segment_may_pass_end(c[b], allocation.widths[b]))
                continue;
            s.ceiling = std::min(s.max_terms, std::max(2 * s.ceiling, allocation.widths[b] + 2 * margin));
            which.push_back(b);
        }
        if (which.empty()) break;
    }

    std::vector<SignedCutTerms> parts;
    parts.reserve(G);
    for (std::size_t b = 0; b < G; ++b) {
        const std::size_t w = cancelled_.load() ? blocks_[b].terms.width() : allocation.widths[b];
        parts.push_back(blocks_[b].terms.prefix(w));
    }
    SignedCutDecomposition result(grid_, std::move(parts));

    // The report: the greedy's figures summed in block order.
    report.norm2 = norm2;
    for (const auto& s : blocks_) {
        report.mode_updates += s.report.mode_updates;
        report.flipped_signs += s.report.flipped_signs;
        report.dense_passes += s.report.dense_passes;
        report.flushes += s.report.flushes;
    }
    report.cancelled = cancelled_.load();
    report.target_reached = !opt_.rel_error || allocation.target_reached;
    if (one) {
        const DecomposeReport& r = blocks_[0].report;
        report.rel_error = r.rel_error;
        report.greedy_rel_error = r.greedy_rel_error;
        report.scales_refit = r.scales_refit;
        report.rel_error_trajectory = r.rel_error_trajectory;
        if (opt_.rel_error) report.target_reached = r.target_reached;
    } else {
        // The exact error of what is kept, block by block in block order.
        std::vector<double> sse(G, 0.0);
        std::atomic<std::size_t> next{0};
        const auto work = [&] {
            std::vector<float> orig, rec;
            for (std::size_t b; (b = next.fetch_add(1)) < G;) {
                const SignedCutTerms& t = result.block(b);
                orig.resize(t.size());
                rec.assign(t.size(), 0.0f);
                grid_.gather(b, data, orig.data());
                t.reconstruct_into(rec, 1);
                double acc = 0;
                bool finite = true;
                for (std::size_t i = 0; i < orig.size(); ++i) {
                    const double e = double(orig[i]) - double(rec[i]);
                    acc += e * e;
                    finite = finite && std::isfinite(rec[i]);
                }
                if (!finite) {
                    // The float32 sums overflowed (data near the float32
                    // limit): the block's error is that of its float64
                    // reconstruction, which a float64 output holds.
                    std::vector<double> wide(t.size());
                    t.reconstruct_float64_into(wide, 1);
                    acc = 0;
                    for (std::size_t i = 0; i < orig.size(); ++i) {
                        const double e = double(orig[i]) - wide[i];
                        acc += e * e;
                    }
                }
                sse[b] = acc;
            }
        };
        const unsigned threads = static_cast<unsigned>(std::min<std::size_t>(opt_.threads, G));
        std::vector<std::thread> pool;
        for (unsigned t = 1; t < threads; ++t) pool.emplace_back(work);
        work();
        for (auto& th : pool) th.join();
        const double total = std::accumulate(sse.begin(), sse.end(), 0.0);
        report.rel_error = norm2 > 0 ? std::sqrt(total / norm2) : 0.0;
        report.greedy_rel_error = report.rel_error;
        if (opt_.rel_error) report.target_reached = report.rel_error <= *opt_.rel_error || allocation.target_reached;
    }
    return result;
}

/// The grid of a run; with the auto rule, also the decomposition the rule
/// already made of all of the data, if it did.
template <class T>
BlockGrid grid_of(const TensorView<T>& x, const DecomposeOptions& options, std::optional<SignedCutDecomposition>& done,
                  DecomposeReport* report)
{
    Shape b;
    if (options.blocks.kind == BlockChoice::Kind::automatic) {
        detail::AutoChoice c = detail::auto_blocks(x, options);
        b = c.shape;
        if (c.result) {
            done = std::move(c.result);
            if (report != nullptr) *report = c.report;
        }
    } else {
        b = resolve_block_shape(options.blocks, x, options);
    }
    BlockGrid grid(x.shape, b);
    if (options.refit_scales && !grid.is_whole())
        throw Error(errc::invalid_argument, "the least-squares refit of the scales needs one block (--block whole)");
    return grid;
}

template <class T>
SignedCutDecomposition decompose_view(const TensorView<T>& x, const DecomposeOptions& options, DecomposeReport* report)
{
    validate_options(options);
    check_shape(x.shape);
    if (x.data == nullptr) throw Error(errc::invalid_argument, "tensor view has no data");
    check_finite(x.data, x.size());
    std::optional<SignedCutDecomposition> done;
    const BlockGrid grid = grid_of(x, options, done, report);
    if (done) return std::move(*done);
    DecomposeReport local;
    BlockedRun run(grid, options);
    return run.run(x.data, nullptr, report ? *report : local);
}

}  // namespace

BlockChoice BlockChoice::parse(std::string_view text)
{
    if (text == "auto") return automatic();
    if (text == "whole") return whole();
    Shape s;
    std::size_t start = 0;
    for (;;) {
        const std::size_t p = text.find('x', start);
        const std::string_view part = text.substr(start, p == std::string_view::npos ? std::string_view::npos : p - start);
        std::size_t v = 0;
        bool ok = !part.empty() && part.size() <= 18;
        for (char ch : part) ok = ok && ch >= '0' && ch <= '9';
        if (ok)
            for (char ch : part) v = v * 10 + std::size_t(ch - '0');
        if (!ok)
            throw Error(errc::invalid_argument,
                        fmt::format("block '{}': expected auto, whole or extents such as 64x64x3", text));
        s.push_back(v);
        if (p == std::string_view::npos) break;
        start = p + 1;
    }
    return of(std::move(s));
}

void check_block_choice(const BlockChoice& choice, const Shape& shape)
{
    if (choice.kind == BlockChoice::Kind::shape) (void)BlockGrid(shape, choice.shape);
}

template <class T>
Shape resolve_any(const BlockChoice& choice, const TensorView<T>& x, const DecomposeOptions& options)
{
    switch (choice.kind) {
    case BlockChoice::Kind::whole: return x.shape;
    case BlockChoice::Kind::shape: (void)BlockGrid(x.shape, choice.shape); return choice.shape;
    case BlockChoice::Kind::automatic: break;
    }
    return auto_block_shape(x, options);
}

Shape resolve_block_shape(const BlockChoice& choice, const TensorView<float>& x, const DecomposeOptions& options)
{
    return resolve_any(choice, x, options);
}

Shape resolve_block_shape(const BlockChoice& choice, const TensorView<double>& x, const DecomposeOptions& options)
{
    return resolve_any(choice, x, options);
}

double sct_bits_per_value(std::span<const std::size_t> shape, std::size_t width)
{
    return static_cast<double>(SignedCutTerms::bits_per_term(shape)) * static_cast<double>(width) /
           static_cast<double>(element_count(shape));
}

std::size_t sct_width_for_bits(std::span<const std::size_t> shape, double bits)
{
    if (!(bits > 0)) return 0;
    const double w = bits * static_cast<double>(element_count(shape)) /
                     static_cast<double>(SignedCutTerms::bits_per_term(shape));
    if (w >= 1e15) return static_cast<std::size_t>(1e15);
    auto width = static_cast<std::size_t>(std::floor(w));
    // Guard the floor against rounding so the budget is never exceeded.
    while (width > 0 && sct_bits_per_value(shape, width) > bits) --width;
    while (sct_bits_per_value(shape, width + 1) <= bits) ++width;
    return width;
}

double sct_payload_bits_per_value(std::span<const std::size_t> shape, std::size_t width)
{
    std::uint64_t s = 0;
    for (std::size_t d : shape) s += d;
    return static_cast<double>(one_block_payload_bits(s, width)) / static_cast<double>(element_count(shape));
}

SignedCutDecomposition decompose(const TensorView<float>& x, const DecomposeOptions& options, DecomposeReport* report)
{
    return decompose_view(x, options, report);
}

SignedCutDecomposition decompose(const TensorView<double>& x, const DecomposeOptions& options, DecomposeReport* report)
{
    return decompose_view(x, options, report);
}

SignedCutDecomposition decompose(Tensor&& x, const DecomposeOptions& options, DecomposeReport* report)
{
    validate_options(options);
    Shape shape(x.shape().begin(), x.shape().end());
    check_shape(shape);
    check_finite(x.data(), x.size());
    std::optional<SignedCutDecomposition> done;
    const BlockGrid grid = grid_of(TensorView<float>{x.data(), shape}, options, done, report);
    if (done) return std::move(*done);
    DecomposeReport local;
    BlockedRun run(grid, options);
    Tensor owned = std::move(x);
    if (!grid.is_whole() || !detail::is_aligned_64(owned.data()))
        return run.run(owned.data(), nullptr, report ? *report : local);
    // One block: the tensor's own buffer becomes the working remainder.
    return run.run(owned.data(), owned.data(), report ? *report : local);
}

}  // namespace signcut
