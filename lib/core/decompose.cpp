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
#include <cstdlib>
#if defined(__GLIBC__)
#include <malloc.h>
#endif
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
#include "byte_buffer.hpp"
#include "greedy.hpp"
#include "payload_budget.hpp"
#include "sign_stream.hpp"
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
    if (o.flush_terms && *o.flush_terms == 0) throw Error(errc::invalid_argument, "the flush block must hold at least 1 term");
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
/// terms of scales of `scale_bits`, with its widths entry (format version 2).
std::uint64_t one_block_payload_bits(std::uint64_t signs_per_term, std::uint64_t w, unsigned scale_bits)
{
    return sct_payload(1, w, w, (w * signs_per_term + 7) / 8, scale_bits).bits();
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

/// True if the block's terms, continued past the known ones with every
/// further term gaining twice the largest of the last four known gains (as
/// next_segment_may_pass_end() assumes), could reach the gain of another
/// codec's point `z` within its bits. If not, that point beats any prefix
/// the terms can have at its bits, and the block needs no more terms.
bool terms_may_reach(const BlockCurve& c, const AlternativePoint& z)
{
    const std::size_t k = c.gains.size();
    const std::size_t reach = static_cast<std::size_t>(z.bits / c.term_bits);
    double gain = 0, recent = 0;
    for (std::size_t j = 0; j < k; ++j) gain += c.gains[j];
    for (std::size_t j = k - std::min<std::size_t>(k, 4); j < k; ++j) recent = std::max(recent, c.gains[j]);
    if (k == 0) return true;
    if (reach <= k) return false;  // every prefix within its bits is known, and the allocation passed them
    return gain + double(reach - k) * 2 * recent > z.gain;
}

/// One block's state across the rounds.
struct BlockState {
    SignedCutTerms terms;
    // The drop of squared error of each term found, what the allocation
    // reads (with a team, the only part of a block all members hold).
    std::vector<double> gains;
    // With a team, another member's block's stored scales (its own blocks'
    // are those of `terms`), from which the gains a recut ranks by follow.
    std::vector<float> shared_scales;
    std::size_t ceiling = 0;    // terms asked for in the last run
    std::size_t max_terms = 0;  // the most the budget allows
    bool complete = false;      // the last run could not or need not go further
    double norm2 = 0;
    DecomposeReport report;
    // Other codecs' operating points, found on the first run: point i is
    // codec point_codec[i]'s.
    std::vector<CodecPoint> points;
    std::vector<std::size_t> point_codec;
    bool pointed = false;
};

/// Where a run's blocks come from. In memory the whole tensor is at hand.
/// From a RowSource, one block row (the rows of one block along mode 0, every
/// block that shares them) is loaded into one of two slots at a time: the
/// next while the blocks of the current one are decomposed.
class BlockData {
public:
    virtual ~BlockData() = default;
    /// True when blocks must be loaded a block row at a time.
    virtual bool streamed() const noexcept { return false; }
    /// Loads block row r into slot 0 or 1; from the run's own thread only.
    virtual void load(std::size_t /*r*/, int /*slot*/) {}
    /// Copies block b (of the block row loaded into `slot`, if streamed).
    virtual void gather(std::size_t b, int slot, float* out) const = 0;
    /// The tensor's own buffer, which a one-block run may work in.
    virtual float* adoptable() const noexcept { return nullptr; }
    /// What the slots hold, in bytes.
    virtual std::uint64_t held_bytes() const noexcept { return 0; }
    /// Frees the slots once no block will be read again.
    virtual void release() noexcept {}
};

template <class T>
class MemoryData final : public BlockData {
public:
    MemoryData(const BlockGrid& grid, const T* data, float* adopt) : grid_(grid), data_(data), adopt_(adopt) {}
    void gather(std::size_t b, int, float* out) const override { grid_.gather(b, data_, out); }
    float* adoptable() const noexcept override { return adopt_; }

private:
    const BlockGrid& grid_;
    const T* data_;
    float* adopt_;
};

class StreamedData final : public BlockData {
public:
    StreamedData(const BlockGrid& grid, RowSource& source) : grid_(grid), source_(source)
    {
        row_values_ = 1;
        for (std::size_t a = 1; a < grid.order(); ++a) row_values_ *= grid.shape()[a];
    }
    bool streamed() const noexcept override { return true; }
    std::uint64_t held_bytes() const noexcept override
    {
        return 2 * std::uint64_t(grid_.block_shape()[0]) * row_values_ * sizeof(float);
    }
    void release() noexcept override
    {
        slots_[0].reset();
        slots_[1].reset();
    }
    void load(std::size_t r, int slot) override
    {
        const std::size_t b0 = grid_.block_shape()[0], first = r * b0;
        const std::size_t count = std::min(b0, grid_.shape()[0] - first);
        if (!slots_[slot]) slots_[slot] = detail::allocate_aligned_floats(b0 * row_values_);
        float* rows = slots_[slot].get();
        source_.read_rows(first, count, rows);
        check_finite(rows, count * row_values_);
        first_row_[slot] = first;
    }
    void gather(std::size_t b, int slot, float* out) const override
    {
        grid_.gather_from_rows(b, first_row_[slot], slots_[slot].get(), out);
    }

private:
    const BlockGrid& grid_;
    RowSource& source_;
    std::uint64_t row_values_ = 1;
    detail::AlignedFloats slots_[2];
    std::size_t first_row_[2] = {0, 0};
};

/// Returns freed heap pages to the system (glibc keeps them otherwise).
void release_free_memory()
{
#if defined(__GLIBC__)
    ::malloc_trim(0);
#endif
}

/// Bytes one block's terms take in memory at width w: each mode's signs in
/// whole words, the float scale and the double cut the greedy keeps.
std::uint64_t term_bytes(const BlockGrid& grid, std::size_t b)
{
    std::uint64_t bytes = sizeof(float) + sizeof(double);
    for (std::size_t e : grid.extents(b)) bytes += words_for(e) * sizeof(std::uint64_t);
    return bytes;
}

class BlockedRun {
public:
    BlockedRun(const BlockGrid& grid, const DecomposeOptions& options)
        : grid_(grid), opt_(options), scale_bits_(options.short_scales ? short_scale_bits : float32_scale_bits)
    {
        rule_.scale_bits = scale_bits_;
        // One block is not shared (decompose() runs it on every member).
        if (grid_.count() > 1 && options.team && options.team->members() > 1) team_ = options.team;
        opt_.team = nullptr;
        // Deflated signs need each candidate's stream: one block's run keeps
        // plain signs (its width is found by an exact search on plain sizes).
        if (opt_.sign_storage && grid_.count() > 1) {
            segments_.resize(grid_.count());
            spt_.resize(grid_.count());
            for (std::size_t b = 0; b < grid_.count(); ++b) spt_[b] = grid_.signs_per_term(b);
            rule_.stored_sign_bytes = [this](std::span<const std::size_t> widths) {
                const std::vector<std::uint8_t> stream = detail::prefix_sign_stream(segments_, spt_, widths);
                return std::min(opt_.sign_storage->stored_bytes(stream), stored_dataset_bytes(stream.size(), 1));
            };
        }
    }

    SignedCutDecomposition run(BlockData& data, DecomposeReport& report);

private:
    /// True when this process decomposes block b (always, without a team).
    bool owns(std::size_t b) const
    {
        return !team_ || block_owner(grid_, team_->members(), b) == team_->member();
    }
    /// The blocks of `which` this process decomposes.
    std::vector<std::size_t> own_part(const std::vector<std::size_t>& which) const
    {
        if (!team_) return which;
        std::vector<std::size_t> mine;
        for (std::size_t b : which)
            if (owns(b)) mine.push_back(b);
        return mine;
    }
    /// With a team: sends what the allocation reads of the blocks of `which`
    /// this member decomposed, and takes the other members' (every member
    /// then holds the same gains, points and counts of every block).
    void share_round(const std::vector<std::size_t>& which, const TeamFailure& failure);
    /// With a team: shares the blocks' measured errors, and the numbers
    /// that place every block's kept terms and streams in the file
    /// (`layout`); the terms and streams stay with the member that made
    /// them.
    void share_result(const std::vector<SignedCutTerms>& parts, const std::vector<CodedBlock>& coded,
                      std::vector<ErrorAccumulator>& measured, const TeamFailure& failure, StoredLayout& layout);
    void decompose_blocks(BlockData& data, const std::vector<std::size_t>& which,
                          const detail::TermLimits* one_block_limits);
    /// Runs `job(b, slot)` for every block of `which` on the run's threads,
    /// block row by block row when the data is streamed (loading the next
    /// row while the current one's blocks run). Rethrows the first failure.
    template <class Job>
    void for_blocks(BlockData& data, const std::vector<std::size_t>& which, unsigned threads, bool cancellable,
                    Job&& job);
    void check_memory(const BlockData& data, std::size_t in_flight) const;
    /// Every block's curve: with the greedy's exact drops, or with the
    /// gains its stored scales give (`stored`, what recut() ranks by).
    std::vector<BlockCurve> curves(bool stored = false) const;
    /// The most bits another codec's point of block b may take: 4 times
    /// the block's even share of the budget, and 1 Kib. 3 times cost the
    /// MRI volume (three quarters empty) 1.7x its error at 1 bit per value
    /// in 32³ blocks; 4 and 16 give the same results on the sample data,
    /// and 16 costs 1.8x the time of the points (BENCHMARKS.md).
    std::uint64_t codec_max_bits(std::size_t b) const
    {
        const double share = double(total_bits_) * double(grid_.block_size(b)) / double(element_count(grid_.shape()));
        return static_cast<std::uint64_t>(std::min(4.0 * share + 1024.0, 1.8e19));
    }

    const BlockGrid& grid_;
    DecomposeOptions opt_;
    std::vector<BlockState> blocks_;
    std::atomic<bool> cancelled_{false};
    std::mutex progress_mutex_;
    std::size_t blocks_done_ = 0, work_items_ = 0, terms_found_ = 0;
    bool offer_codecs_ = false;   // other codecs compete with the terms
    unsigned scale_bits_;          // what each stored scale costs
    detail::PayloadRule rule_;     // how the payload is counted
    std::vector<std::vector<std::uint8_t>> segments_;  // with deflated signs: each block's found terms, packed
    std::vector<std::uint64_t> spt_;                   // signs per term of each block
    std::uint64_t spt(std::size_t b) const { return spt_.empty() ? grid_.signs_per_term(b) : spt_[b]; }
    std::uint64_t total_bits_ = 0;  // the payload budget
    std::shared_ptr<BlockTeam> team_;  // the other processes sharing the blocks, if any
};

/// Runs `f`; with a team, a failure is caught and returned, to travel to the
/// other members at the next exchange rather than leave them waiting.
template <class F>
TeamFailure attempt(bool catching, F&& f)
{
    if (!catching) {
        f();
        return {};
    }
    try {
        f();
    } catch (const Error& e) {
        return {true, e.code(), e.what()};
    } catch (const std::bad_alloc&) {
        return {true, errc::limit, "out of memory"};
    } catch (const std::exception& e) {
        return {true, errc::io, e.what()};
    }
    return {};
}

std::vector<BlockCurve> BlockedRun::curves(bool stored) const
{
    std::vector<BlockCurve> c(blocks_.size());
    for (std::size_t b = 0; b < blocks_.size(); ++b) {
        c[b].term_bits = grid_.signs_per_term(b) + scale_bits_;
        const BlockState& s = blocks_[b];
        if (stored) {
            // c²·n_b of the stored scales, computed here rather than kept:
            // 8 more bytes a term would be a fifth of a 16³ block's terms.
            const std::vector<float>& scales = s.terms.width() == s.gains.size() ? s.terms.scales() : s.shared_scales;
            c[b].gains.reserve(scales.size());
            for (float v : scales) c[b].gains.push_back(term_gain(v, grid_.block_size(b)));
        } else {
            c[b].gains = s.gains;
        }
        for (std::size_t i = 0; i < s.points.size(); ++i) {
            // Data near the float32 limit can square to infinity: such a
            // block is left to its terms (whose gains stay finite).
            const double gain = s.norm2 - s.points[i].squared_error;
            if (!std::isfinite(gain)) {
                c[b].alternatives.clear();
                break;
            }
            const auto streams = opt_.codecs[s.point_codec[i]]->stream_count(grid_.extents(b));
            c[b].alternatives.push_back(AlternativePoint{s.points[i].bits, gain, std::uint32_t(streams)});
        }
    }
    return c;
}

template <class Job>
void BlockedRun::for_blocks(BlockData& data, const std::vector<std::size_t>& which, unsigned threads, bool cancellable,
                            Job&& job)
{
    // Groups of blocks that are loaded together: everything in memory, or
    // one block row (blocks per row = G / g_0; `which` is in block order).
    std::vector<std::pair<std::size_t, std::size_t>> groups;  // [begin, end) in which
    const std::size_t per_row = grid_.count() / grid_.grid_shape()[0];
    for (std::size_t i = 0; i < which.size();) {
        std::size_t j = i + 1;
        if (data.streamed())
            while (j < which.size() && which[j] / per_row == which[i] / per_row) ++j;
        else
            j = which.size();
        groups.emplace_back(i, j);
        i = j;
    }
    std::exception_ptr failure;
    std::mutex failure_mutex;
    std::atomic<bool> stop{false};
    const auto stopped = [&] { return stop.load() || (cancellable && cancelled_.load()); };
    const auto fail = [&] {
        const std::lock_guard lock(failure_mutex);
        if (!failure) failure = std::current_exception();
        stop = true;
        cancelled_ = true;
    };
    if (data.streamed() && !groups.empty()) data.load(which[groups[0].first] / per_row, 0);
    for (std::size_t g = 0; g < groups.size() && !stopped(); ++g) {
        const int slot = int(g % 2);
        std::atomic<std::size_t> next{groups[g].first};
        const std::size_t end = groups[g].second;
        const auto work = [&] {
            try {
                for (std::size_t i; !stopped() && (i = next.fetch_add(1)) < end;) job(which[i], slot);
            } catch (...) {
                fail();
            }
        };
        const unsigned n = static_cast<unsigned>(std::min<std::size_t>(threads, end - groups[g].first));
        std::vector<std::thread> pool;
        try {
            for (unsigned t = 1; t < n; ++t) pool.emplace_back(work);
        } catch (const std::system_error&) {
            // The system has no more threads to give (a thread limit,
            // ulimit -v): those that started and this one claim the blocks,
            // each decomposed the same whoever takes it.
        }
        // The next block row is read while this one's blocks are decomposed.
        if (data.streamed() && g + 1 < groups.size()) {
            try {
                data.load(which[groups[g + 1].first] / per_row, 1 - slot);
            } catch (...) {
                fail();
            }
        }
        work();
        for (auto& th : pool) th.join();
        // Each block's buffers come and go between long-lived terms: hand the
        // freed pages back, or the heap's holes count against the memory bound.
        if (data.streamed()) release_free_memory();
    }
    if (failure) std::rethrow_exception(failure);
}

void BlockedRun::check_memory(const BlockData& data, std::size_t in_flight) const
{
    if (opt_.max_memory == 0) return;
    // Each block being decomposed holds its remainder, at most one reordered
    // copy of it and its contractions along the first and last modes (at
    // most 1/8 of it each); block 0 is never cut short, so it is the largest.
    const std::uint64_t block = grid_.block_size(0);
    const std::uint64_t blocks = std::uint64_t(in_flight) * (2 * block + block / 4) * sizeof(float);
    // Per term up to its block's ceiling: the terms themselves where this
    // process finds them; the gains the allocation reads, of every block;
    // with deflated signs, every block's packed signs (the candidate
    // streams are built from them). A member of a team also holds a round's
    // messages beside what it keeps: its own blocks' gains and signs in the
    // message it sends and again in the list every member receives, the
    // others' in that list.
    const bool deflated = static_cast<bool>(rule_.stored_sign_bytes);
    long double terms = 0;
    for (std::size_t b = 0; b < blocks_.size(); ++b) {
        const long double ceiling = static_cast<long double>(blocks_[b].ceiling);
        long double shared = sizeof(double);
        if (deflated) shared += static_cast<long double>(spt(b)) / 8;
        // Between the members of a team the blocks' stored scales travel too.
        if (team_) shared += sizeof(float);
        if (owns(b)) terms += ceiling * static_cast<long double>(term_bytes(grid_, b));
        terms += ceiling * shared * (!team_ ? 1 : owns(b) ? 3 : 2);
    }
    // The candidate sign stream the deflated accounting weighs: at most the
    // budget's worth of signs.
    if (deflated) terms += static_cast<long double>(total_bits_) / 8;
    const long double counted = static_cast<long double>(data.held_bytes()) + blocks + terms;
    // What the count misses (the heap's own overhead and holes, the codecs'
    // and the exchanges' scratch buffers, MPI's message buffers): 13-18 % of
    // it, measured as peak RSS less the process's baseline on 128 and 512
    // MiB fields in 32³ blocks, with one and two processes (BENCHMARKS.md).
    // A quarter more keeps the whole run within the limit.
    const long double margin = counted / 4;
    const long double need = counted + margin;
    if (need > static_cast<long double>(opt_.max_memory)) {
        const auto human = [](long double bytes) {
            const char* units[] = {"bytes", "KiB", "MiB", "GiB", "TiB", "PiB", "EiB"};
            std::size_t u = 0;
            while (bytes >= 1024 && u + 1 < std::size(units)) bytes /= 1024, ++u;
            return u == 0 ? fmt::format("{:.0f} bytes", double(bytes)) : fmt::format("{:.3g} {}", double(bytes), units[u]);
        };
        throw Error(errc::limit,
                    fmt::format("decomposing {} {} needs about {} ({} for the terms, {} for the blocks in flight, {} "
                                "for the slabs read, {} for the heap and scratch buffers), more than the memory "
                                "limit of {}",
                                format_shape(grid_.shape()),
                                grid_.is_whole() ? std::string("as one block")
                                                 : fmt::format("in blocks of {}", format_shape(grid_.block_shape())),
                                human(need), human(terms), human(blocks), human(data.held_bytes()),
                                human(margin), human(opt_.max_memory)));
    }
}

void BlockedRun::decompose_blocks(BlockData& data, const std::vector<std::size_t>& which,
                                  const detail::TermLimits* one_block_limits)
{
    const bool one = grid_.count() == 1;
    const unsigned threads = one ? 1u : opt_.threads;
    const std::vector<std::size_t> mine = own_part(which);
    check_memory(data, std::min<std::size_t>(threads, mine.size()));
    float* adopt = one ? data.adoptable() : nullptr;
    for_blocks(data, mine, threads, true, [&](std::size_t b, int slot) {
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
            data.gather(b, slot, working.get());
        }
        if (offer_codecs_ && !s.pointed) {
            // Every other codec's points, once: they do not depend on how
            // far the terms are run.
            const std::span<const float> values(working.get(), grid_.block_size(b));
            for (std::size_t c = 0; c < opt_.codecs.size(); ++c) {
                if (opt_.codecs[c]->stream_count(e) == 0) continue;
                for (const CodecPoint& p : opt_.codecs[c]->points(values, e, codec_max_bits(b))) {
                    s.points.push_back(p);
                    s.point_codec.push_back(c);
                }
            }
            s.pointed = true;
        }
        s.terms = detail::greedy_terms(std::move(working), adopt, e, o, limits, s.report);
        s.norm2 = s.report.norm2;
        // The greedy's own drops of squared error: exact with short scales,
        // where c²·n is off by up to 2^-4 of a term's gain.
        s.gains = s.report.term_gains;
        if (s.gains.size() != s.terms.width()) {
            s.gains.clear();
            for (float v : s.terms.scales()) s.gains.push_back(term_gain(v, grid_.block_size(b)));
        }
        if (!one) std::vector<double>().swap(s.report.term_gains);
        // The per-term trajectory is reported for one block only; across
        // thousands of blocks it would cost as much memory as a third of the terms.
        if (!one) std::vector<double>().swap(s.report.rel_error_trajectory);
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
    });
}

void BlockedRun::share_round(const std::vector<std::size_t>& which, const TeamFailure& failure)
{
    detail::ByteWriter out;
    out.put<std::uint8_t>(cancelled_.load() ? 1 : 0);
    for (std::size_t b : own_part(which)) {
        const BlockState& s = blocks_[b];
        out.put<std::uint64_t>(b);
        out.put_span(std::span<const double>(s.gains));
        out.put_span(std::span<const float>(s.terms.scales()));
        out.put(s.norm2);
        out.put<std::uint8_t>(s.complete ? 1 : 0);
        out.put<std::uint8_t>(s.pointed ? 1 : 0);
        out.put_span(std::span<const CodecPoint>(s.points));
        out.put_span(std::span<const std::size_t>(s.point_codec));
        out.put(s.report.mode_updates);
        out.put(s.report.flipped_signs);
        out.put(s.report.dense_passes);
        out.put(s.report.flushes);
        if (rule_.stored_sign_bytes) out.put_span(std::span<const std::uint8_t>(segments_[b]));
    }
    const auto all = team_->all_gather(out.bytes(), failure);
    for (std::size_t m = 0; m < all.size(); ++m) {
        if (m == team_->member()) continue;
        detail::ByteReader in(all[m]);
        if (in.get<std::uint8_t>() != 0) cancelled_ = true;
        while (!in.done()) {
            const auto b = static_cast<std::size_t>(in.get<std::uint64_t>());
            if (b >= blocks_.size()) throw Error(errc::io, "a message between the processes of a run names no block");
            BlockState& s = blocks_[b];
            s.gains = in.get_vector<double>();
            s.shared_scales = in.get_vector<float>();
            s.norm2 = in.get<double>();
            s.complete = in.get<std::uint8_t>() != 0;
            s.pointed = in.get<std::uint8_t>() != 0;
            s.points = in.get_vector<CodecPoint>();
            s.point_codec = in.get_vector<std::size_t>();
            s.report.mode_updates = in.get<std::size_t>();
            s.report.flipped_signs = in.get<std::size_t>();
            s.report.dense_passes = in.get<double>();
            s.report.flushes = in.get<std::size_t>();
            if (rule_.stored_sign_bytes) segments_[b] = in.get_vector<std::uint8_t>();
        }
    }
}

void BlockedRun::share_result(const std::vector<SignedCutTerms>& parts, const std::vector<CodedBlock>& coded,
                              std::vector<ErrorAccumulator>& measured, const TeamFailure& failure,
                              StoredLayout& layout)
{
    std::vector<std::size_t> all(blocks_.size());
    std::iota(all.begin(), all.end(), 0);
    const std::vector<std::size_t> mine = own_part(all);
    // Every member reports the same error (each block's figures, merged in
    // block order afterwards) and holds the same layout: what a member
    // needs to place its own blocks in the file and what the file's
    // datasets hold, a few numbers per block. The terms stay where they are.
    detail::ByteWriter out;
    for (std::size_t b : mine) {
        out.put<std::uint64_t>(b);
        out.put(measured[b]);
        out.put<std::uint64_t>(parts[b].width());
        out.put<std::uint32_t>(parts[b].scale_bits());
        const CodedBlock none;
        const CodedBlock& c = coded.empty() ? none : coded[b];
        out.put(c.codec);
        std::vector<std::uint64_t> sizes;
        for (const auto& stream : c.streams) sizes.push_back(stream.size());
        out.put_span(std::span<const std::uint64_t>(sizes));
    }
    const std::size_t G = blocks_.size();
    layout.grid = grid_;
    layout.widths.assign(G, 0);
    layout.codecs.assign(G, CodecId::sct);
    layout.stream_sizes.assign(G, {});
    layout.scale_bits = short_scale_bits;
    const auto everyone = team_->all_gather(out.bytes(), failure);
    for (std::size_t m = 0; m < everyone.size(); ++m) {
        detail::ByteReader in(everyone[m]);
        while (!in.done()) {
            const auto b = static_cast<std::size_t>(in.get<std::uint64_t>());
            if (b >= G) throw Error(errc::io, "a message between the processes of a run names no block");
            measured[b] = in.get<ErrorAccumulator>();
            layout.widths[b] = in.get<std::uint64_t>();
            // As SignedCutDecomposition::scale_bits(): short only when every
            // block's scales are.
            if (in.get<std::uint32_t>() != short_scale_bits) layout.scale_bits = float32_scale_bits;
            layout.codecs[b] = in.get<CodecId>();
            layout.stream_sizes[b] = in.get_vector<std::uint64_t>();
        }
    }
    // Deflated where that stores fewer bytes, as set_sign_storage decides:
    // with deflated signs every member holds every block's found signs.
    if (rule_.stored_sign_bytes) {
        std::vector<std::size_t> widths(layout.widths.begin(), layout.widths.end());
        const std::vector<std::uint8_t> stream = detail::prefix_sign_stream(segments_, spt_, widths);
        const std::uint64_t deflated = opt_.sign_storage->stored_bytes(stream);
        if (deflated > 0 && deflated < stored_dataset_bytes(stream.size(), 1)) {
            layout.deflate_level = opt_.sign_storage->deflate_level();
            layout.deflated_sign_bytes = deflated;
        }
    }
}

SignedCutDecomposition BlockedRun::run(BlockData& data, DecomposeReport& report)
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
        total_bits_ = total;
        offer_codecs_ = !one && !opt_.codecs.empty() && !opt_.refit_scales;
        if (!opt_.rel_error && total < one_term_payload_bits(grid_, scale_bits_))
            throw Error(errc::bad_input,
                        fmt::format("{} bits per value is below one term of shape {} with blocks of {}: the minimum "
                                    "is {:.6g}",
                                    bpv, format_shape(grid_.shape()), format_shape(grid_.block_shape()),
                                    double(one_term_payload_bits(grid_, scale_bits_)) / double(N)));
        if (one) {
            // Exactly: the most terms whose payload fits.
            const std::uint64_t s = grid_.signs_per_term(0);
            std::uint64_t lo = 0, hi = total / (s + scale_bits_) + 1;
            while (lo < hi) {
                const std::uint64_t mid = lo + (hi - lo + 1) / 2;
                if (one_block_payload_bits(s, mid, scale_bits_) <= total) lo = mid;
                else hi = mid - 1;
            }
            blocks_[0].ceiling = blocks_[0].max_terms = static_cast<std::size_t>(lo);
        } else {
            const std::uint64_t term_budget = detail::term_bits_ceiling(grid_, rule_, total);
            // The first pass: each block's share of an assumed budget (the
            // budget itself, or 1 bit per value for an error target).
            const double assumed = opt_.rel_error ? std::min<double>(double(term_budget), double(N))
                                                  : double(term_budget);
            for (std::size_t b = 0; b < G; ++b) {
                const std::uint64_t t = grid_.signs_per_term(b) + scale_bits_;
                // Deflated signs store fewer bytes than they hold, so a block
                // may take more terms than plain bits would allow.
                blocks_[b].max_terms = static_cast<std::size_t>(term_budget / t * (rule_.stored_sign_bytes ? 4 : 1));
                const double share = assumed * double(grid_.block_size(b)) / double(N) / double(t);
                // With other codecs a block's terms may lose to them, so the
                // first pass goes a third as far; blocks that keep their
                // terms are decomposed further by the rounds below.
                const double first = std::ceil(opt_.first_pass_share * share / (offer_codecs_ ? 3.0 : 1.0)) + 2;
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
            decompose_blocks(data, which, &limits);
        } else {
            const TeamFailure failure = attempt(team_ != nullptr, [&] {
                decompose_blocks(data, which, nullptr);
                if (rule_.stored_sign_bytes)
                    for (std::size_t b : own_part(which)) {
                        const SignedCutTerms& t = blocks_[b].terms;
                        segments_[b].assign(static_cast<std::size_t>(detail::segment_bytes(t.width(), spt_[b])), 0);
                        detail::pack_segment(t, segments_[b]);
                    }
            });
            if (team_) share_round(which, failure);
        }
        for (std::size_t b : which) report.decomposed_terms += blocks_[b].gains.size();
        norm2 = 0;
        for (const auto& s : blocks_) norm2 += s.norm2;
        if (cancelled_.load()) break;

        std::vector<BlockCurve> c = curves();
        // A width rule takes what was found; so does a refit (one block,
        // whose greedy already stopped where the rule said, and whose refit
        // scales no longer give the greedy's gains).
        if (opt_.width || blocks_[0].terms.scales_refit()) {
            allocation.widths.clear();
            for (const auto& s : blocks_) allocation.widths.push_back(s.terms.width());
            allocation.choices.assign(G, 0);
            break;
        }
        const auto allocate = [&](const std::vector<BlockCurve>& curves) {
            if (!opt_.rel_error) return detail::allocate_payload(grid_, rule_, curves, total);
            const double target = *opt_.rel_error * *opt_.rel_error * norm2;
            return detail::allocate_gain_payload(grid_, rule_, curves, norm2 - target, total);
        };
        // With a bits budget every allocation is made twice: ranked by the
        // greedy's exact drops (`c`) and by the gains the stored scales give
        // (c²·n_b, what recut() ranks by), and the one of the larger exact
        // gain is kept (on a tie the exact ranking). The allocation is
        // optimal at its hulls' breakpoints but only within a segment's gain
        // between them, and with short scales the two rankings differ by up
        // to 2^-4 of a term's gain, enough to land on different sets of terms
        // near the budget. On the cat photograph at 0.25 bits per value in
        // 64x64x3 blocks the exact ranking kept 1014 terms at a relative
        // error of 0.070704, the stored one 1015 at 0.070686 (the terms a
        // recut of any larger file kept). Keeping the better, a fresh run is
        // never worse, by its exact gains, than a recut of a larger file with
        // the same blocks and seed. The other answer (`twin`) counts for the
        // ceilings too, so that both are over the unbounded sequences.
        // With other codecs only the terms-only answer is made both ways: the
        // stored ranking of the mixed one gave blocks terms where the exact
        // one gave them zfp, and decomposing those further cost 1.6x the mode
        // updates on the MRI volume at 1 bit per value for the same error
        // (0.1 % lower error there at 0.25 bits per value is not worth it).
        struct Answer {
            Allocation best, twin;
            bool has_twin = false;
        };
        const auto answer = [&](bool with_alternatives) {
            Answer r;
            r.best = allocate(c);
            if (opt_.rel_error) return r;
            // Every answer's gain summed the same way, so that answers compare
            // without the rounding of the order their segments were taken in.
            r.best.gain = detail::allocated_gain(c, r.best);
            if (with_alternatives && offer_codecs_) return r;
            {
                std::vector<BlockCurve> stored = curves(true);  // freed before the next one is built
                if (!with_alternatives)
                    for (BlockCurve& p : stored) p.alternatives.clear();
                r.twin = allocate(stored);
            }
            r.twin.gain = detail::allocated_gain(c, r.twin);
            if (r.twin.gain > r.best.gain) std::swap(r.best, r.twin);
            r.has_twin = true;
            return r;
        };
        Answer chosen = answer(true);
        if (offer_codecs_) {
            // A file with coded blocks pays for three more datasets (a byte
            // per block, a size per stream, their checksums), which no slope
            // counts: the terms alone win when they do as well. (The curves
            // lose their alternatives for this and get them back, rather than
            // being copied: a copy is 8 bytes a term.)
            std::vector<std::vector<AlternativePoint>> alternatives(G);
            for (std::size_t b = 0; b < G; ++b) alternatives[b] = std::move(c[b].alternatives), c[b].alternatives.clear();
            Answer terms_only = answer(false);
            const std::uint64_t terms_only_bits =
                opt_.rel_error ? detail::payload_bits(grid_, rule_, c, terms_only.best) : 0;
            for (std::size_t b = 0; b < G; ++b) c[b].alternatives = std::move(alternatives[b]);
            const Allocation& mixed = chosen.best;
            const Allocation& t = terms_only.best;
            const bool better = opt_.rel_error
                                    ? (t.target_reached &&
                                       (!mixed.target_reached ||
                                        terms_only_bits <= detail::payload_bits(grid_, rule_, c, mixed)))
                                    : t.gain >= mixed.gain;
            if (better) chosen = std::move(terms_only);
        }
        allocation = chosen.best;
        which.clear();
        for (std::size_t b = 0; b < G; ++b) {
            BlockState& s = blocks_[b];
            const std::size_t margin = 1 + s.ceiling / 16;
            if (s.complete) continue;
            // The widest width an answer needs known, if one needs more.
            std::size_t needed = 0;
            bool more = false;
            for (const Allocation* a : {&chosen.best, &chosen.twin}) {
                if (a == &chosen.twin && !chosen.has_twin) continue;
                std::size_t w = a->widths[b];
                if (a->choices[b] != 0) {
                    // A block given to another codec needs more terms only if
                    // they could still beat that point within its bits.
                    const AlternativePoint& z = c[b].alternatives[a->choices[b] - 1];
                    if (!terms_may_reach(c[b], z)) continue;
                    w = static_cast<std::size_t>(z.bits / c[b].term_bits);
                }
                if (w + margin <= s.ceiling && !next_segment_may_pass_end(c[b], w)) continue;
                more = true;
                needed = std::max(needed, w);
            }
            if (!more) continue;
            s.ceiling = std::min(s.max_terms, std::max(2 * s.ceiling, needed + 2 * margin));
            which.push_back(b);
        }
        if (which.empty()) break;
    }

    std::vector<SignedCutTerms> parts;
    parts.reserve(G);
    // Blocks given to another codec: which codec, at which setting.
    std::vector<const CodecPoint*> chosen(G, nullptr);
    std::vector<std::size_t> chosen_codec(G, 0);
    for (std::size_t b = 0; b < G; ++b) {
        const bool cancelled = cancelled_.load();
        const std::size_t w = cancelled ? blocks_[b].terms.width() : allocation.widths[b];
        if (!cancelled && !allocation.choices.empty() && allocation.choices[b] > 0) {
            chosen[b] = &blocks_[b].points[allocation.choices[b] - 1];
            chosen_codec[b] = blocks_[b].point_codec[allocation.choices[b] - 1];
            ++report.coded_blocks;
        }
        // With a team, the terms of the blocks of other members stay with
        // them; a cancelled run may not have reached every block. Both come
        // back with no terms, but with their extents.
        parts.push_back(owns(b) && blocks_[b].terms.order() != 0 ? blocks_[b].terms.prefix(w)
                                                                 : SignedCutTerms(grid_.extents(b)));
        blocks_[b].terms = SignedCutTerms();  // so the kept terms and the found ones are not all held twice
    }

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
        report.term_gains = r.term_gains;
        if (opt_.rel_error) report.target_reached = r.target_reached;
        return SignedCutDecomposition(grid_, std::move(parts));
    }

    // A cancelled run returns what it found at once: the caller asked to
    // stop, so the data is not read again to measure it.
    if (report.cancelled) return SignedCutDecomposition(grid_, std::move(parts));

    // The coded blocks are encoded from their data, and the exact error of
    // what is kept is measured block by block in block order (streamed data
    // is read once more for it).
    std::vector<CodedBlock> coded(report.coded_blocks > 0 ? G : 0);
    std::vector<ErrorAccumulator> measured(G);
    std::vector<std::size_t> all(G);
    std::iota(all.begin(), all.end(), 0);
    const TeamFailure failure = attempt(team_ != nullptr, [&] {
    for_blocks(data, own_part(all), opt_.threads, false, [&](std::size_t b, int slot) {
        const SignedCutTerms& t = parts[b];
        std::vector<float> orig(t.size()), rec(t.size(), 0.0f);
        data.gather(b, slot, orig.data());
        if (chosen[b] != nullptr) {
            const BlockCodec& codec = *opt_.codecs[chosen_codec[b]];
            coded[b] = codec.encode(orig, t.shape(), chosen[b]->setting);
            codec.decode(coded[b], t.shape(), rec);
            measured[b].add(orig, rec);
            return;
        }
        t.reconstruct_into(rec, 1);
        std::uint64_t overflows = 0;
        for (float v : rec) overflows += std::isfinite(v) ? 0 : 1;
        if (overflows > 0) {
            // The float32 sums overflowed (data near the float32 limit): the
            // block is measured on its float64 reconstruction, which a
            // float64 output holds.
            std::vector<double> wide(t.size());
            t.reconstruct_float64_into(wide, 1);
            measured[b].add(orig, wide);
            measured[b].add_float32_overflows(overflows);
        } else {
            measured[b].add(orig, rec);
        }
    });
    });
    // The data is not read again: its slabs make room for the file's
    // buffers.
    data.release();
    release_free_memory();
    if (team_) {
        report.layout.emplace();
        share_result(parts, coded, measured, failure, *report.layout);
    }

    ErrorAccumulator all_blocks;
    for (const ErrorAccumulator& m : measured) all_blocks.merge(m);
    report.metrics = all_blocks.result();
    const double sse = report.metrics->error_norm * report.metrics->error_norm;
    report.rel_error = norm2 > 0 ? std::sqrt(sse / norm2) : 0.0;
    report.greedy_rel_error = report.rel_error;
    if (opt_.rel_error) report.target_reached = report.rel_error <= *opt_.rel_error || allocation.target_reached;
    SignedCutDecomposition d = coded.empty()
                                   ? SignedCutDecomposition(grid_, std::move(parts))
                                   : SignedCutDecomposition(grid_, std::move(parts), std::move(coded), opt_.codecs);
    // A member of a team holds its own blocks only: the whole stream's
    // storage is the layout's.
    if (rule_.stored_sign_bytes && !team_) d.set_sign_storage(opt_.sign_storage);
    return d;
}

/// The grid of a run; with the auto rule, also the decomposition the rule
/// already made of all of the data, if it did.
template <class T>
BlockGrid grid_of(const TensorView<T>& x, const DecomposeOptions& options, std::optional<SignedCutDecomposition>& done,
                  DecomposeReport* report)
{
    Shape b;
    if (options.blocks.kind == BlockChoice::Kind::automatic) {
        DecomposeOptions solo = options;  // the rule's trials are not shared
        solo.team = nullptr;
        detail::AutoChoice c = detail::auto_blocks(x, solo);
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
    MemoryData<T> data(grid, x.data, nullptr);
    return run.run(data, report ? *report : local);
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

double sct_bits_per_value(std::span<const std::size_t> shape, std::size_t width, unsigned scale_bits)
{
    return static_cast<double>(SignedCutTerms::bits_per_term(shape, scale_bits)) * static_cast<double>(width) /
           static_cast<double>(element_count(shape));
}

std::size_t sct_width_for_bits(std::span<const std::size_t> shape, double bits, unsigned scale_bits)
{
    if (!(bits > 0)) return 0;
    const double w = bits * static_cast<double>(element_count(shape)) /
                     static_cast<double>(SignedCutTerms::bits_per_term(shape, scale_bits));
    if (w >= 1e15) return static_cast<std::size_t>(1e15);
    auto width = static_cast<std::size_t>(std::floor(w));
    // Guard the floor against rounding so the budget is never exceeded.
    while (width > 0 && sct_bits_per_value(shape, width, scale_bits) > bits) --width;
    while (sct_bits_per_value(shape, width + 1, scale_bits) <= bits) ++width;
    return width;
}

double sct_payload_bits_per_value(std::span<const std::size_t> shape, std::size_t width, unsigned scale_bits)
{
    std::uint64_t s = 0;
    for (std::size_t d : shape) s += d;
    return static_cast<double>(one_block_payload_bits(s, width, scale_bits)) / static_cast<double>(element_count(shape));
}

namespace {

/// With a team, the report places every block in the file; a run that was
/// not shared (one block, or the auto rule's whole decomposition) is held
/// whole by every member, and its layout is its own. A cancelled run has
/// none: a shared one stopped before the members agreed on it.
SignedCutDecomposition with_layout(SignedCutDecomposition d, const DecomposeOptions& options, DecomposeReport* report)
{
    if (options.team && report != nullptr && !report->layout && !report->cancelled)
        report->layout = stored_layout(d);
    return d;
}

/// A report passed in again holds no layout of an earlier run.
DecomposeReport* fresh(DecomposeReport* report)
{
    if (report != nullptr) report->layout.reset();
    return report;
}

SignedCutDecomposition decompose_tensor(Tensor&& x, const DecomposeOptions& options, DecomposeReport* report);
SignedCutDecomposition decompose_rows(RowSource& source, const DecomposeOptions& options, DecomposeReport* report);

}  // namespace

SignedCutDecomposition decompose(const TensorView<float>& x, const DecomposeOptions& options, DecomposeReport* report)
{
    return with_layout(decompose_view(x, options, fresh(report)), options, report);
}

SignedCutDecomposition decompose(const TensorView<double>& x, const DecomposeOptions& options, DecomposeReport* report)
{
    return with_layout(decompose_view(x, options, fresh(report)), options, report);
}

SignedCutDecomposition decompose(Tensor&& x, const DecomposeOptions& options, DecomposeReport* report)
{
    return with_layout(decompose_tensor(std::move(x), options, fresh(report)), options, report);
}

SignedCutDecomposition decompose(RowSource& source, const DecomposeOptions& options, DecomposeReport* report)
{
    return with_layout(decompose_rows(source, options, fresh(report)), options, report);
}

namespace {

SignedCutDecomposition decompose_tensor(Tensor&& x, const DecomposeOptions& options, DecomposeReport* report)
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
    // One block: the tensor's own buffer becomes the working remainder.
    const bool adopt = grid.is_whole() && detail::is_aligned_64(owned.data());
    MemoryData<float> data(grid, owned.data(), adopt ? owned.data() : nullptr);
    return run.run(data, report ? *report : local);
}

SignedCutDecomposition decompose_rows(RowSource& source, const DecomposeOptions& options, DecomposeReport* report)
{
    validate_options(options);
    const Shape shape = source.shape();
    check_shape(shape);
    Shape block_shape;
    switch (options.blocks.kind) {
    case BlockChoice::Kind::whole: block_shape = shape; break;
    case BlockChoice::Kind::shape: block_shape = options.blocks.shape; break;
    case BlockChoice::Kind::automatic: {
        DecomposeOptions solo = options;  // the rule's trials are not shared
        solo.team = nullptr;
        detail::AutoChoice c = detail::auto_blocks(source, solo);
        if (c.result) {
            if (report != nullptr) *report = c.report;
            return std::move(*c.result);
        }
        block_shape = c.shape;
        break;
    }
    }
    const BlockGrid grid(shape, block_shape);
    if (options.refit_scales && !grid.is_whole())
        throw Error(errc::invalid_argument, "the least-squares refit of the scales needs one block (--block whole)");
    if (grid.is_whole()) {
        // One block is all of the data: it is read into the buffer the
        // greedy then works in.
        const std::uint64_t bytes = element_count(shape) * sizeof(float);
        if (options.max_memory != 0 && bytes > options.max_memory)
            throw Error(errc::limit,
                        fmt::format("one block of shape {} needs {} bytes in memory, more than the memory limit of {} "
                                    "bytes; cut it into blocks",
                                    format_shape(shape), bytes, options.max_memory));
        Tensor x = Tensor::from_shape(shape);
        source.read_rows(0, shape[0], x.data());
        DecomposeOptions rest = options;
        rest.blocks = BlockChoice::whole();
        rest.team = nullptr;
        rest.max_memory = options.max_memory == 0 ? 0 : options.max_memory - bytes + 1;
        DecomposeReport local;
        DecomposeReport& r = report ? *report : local;
        SignedCutDecomposition d = decompose(std::move(x), rest, &r);
        // The buffer became the remainder: the data is read again to be
        // measured against (one copy in memory again, not two).
        Tensor again = Tensor::from_shape(shape);
        source.read_rows(0, shape[0], again.data());
        r.metrics = d.error_against(std::span<const float>(again.data(), again.size()), options.threads);
        return d;
    }
    DecomposeReport local;
    BlockedRun run(grid, options);
    StreamedData data(grid, source);
    return run.run(data, report ? *report : local);
}

}  // namespace

}  // namespace signcut
