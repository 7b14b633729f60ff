// signcut: the greedy signed cut decomposer.
//
// One term: starting from seeded random signs, alternately set each mode's
// signs to the sign of the remainder contracted with every other mode's
// signs, until the cut <R, ⊗ s> stops rising; then c = cut / N, rounded to
// float32, and the remainder loses exactly c·⊗s. Terms are added until the
// stopping rule holds. Matrices are the order-2 case of the same loop.
//
// The tensor is first cut into blocks (blocks.hpp), each decomposed on its
// own by that loop from its own seed; a budget is then shared between the
// blocks by the rate–distortion allocation (allocation.hpp). The whole
// tensor is the one-block case.
#pragma once

#include "signcut/export.hpp"

#include <cstddef>
#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <string_view>
#include <type_traits>

#include <xtensor/xarray.hpp>
#include <xtensor/xexpression.hpp>
#include <xtensor/xmath.hpp>

#include "signcut/block_codec.hpp"
#include "signcut/block_team.hpp"
#include "signcut/decomposition.hpp"
#include "signcut/scale_format.hpp"
#include "signcut/sign_storage.hpp"
#include "signcut/stored_layout.hpp"
#include "signcut/metrics.hpp"
#include "signcut/row_source.hpp"
#include "signcut/tensor.hpp"

namespace signcut {

/// Passed to the progress callback after every term.
struct SIGNCUT_API Progress {
    std::size_t terms = 0;        ///< terms found so far
    double rel_error = 1.0;       ///< current relative Frobenius error (bookkept; 1 until known)
    double bits_per_value = 0.0;  ///< counted storage so far
    double fraction = 0.0;        ///< share of the work done, 0..1 (blocks done, or the
                                  ///< width or error reached so far by a one-block run)
    std::size_t blocks = 1;       ///< blocks in the grid (1: terms and error are per term)
    /// True while the auto block rule tries block shapes: the figures are
    /// a trial's, not the run's, so a display may skip them; returning
    /// false still stops the run.
    bool trial = false;
};

/// How a tensor is cut into blocks.
struct SIGNCUT_API BlockChoice {
    enum class Kind {
        automatic,  ///< the measured rule of auto_block_shape()
        whole,      ///< one block: the whole tensor
        shape,      ///< the block shape in `shape`
    };
    Kind kind = Kind::automatic;
    Shape shape;

    static BlockChoice automatic() { return {}; }
    static BlockChoice whole() { return {Kind::whole, {}}; }
    static BlockChoice of(Shape s) { return {Kind::shape, std::move(s)}; }
    /// "auto", "whole" or "64x64x3" (checked against `tensor` when resolved).
    static BlockChoice parse(std::string_view text);
};

/// Where a term's alternation starts.
enum class StartSigns {
    /// Uniformly random signs from (seed, term, mode): the reference loop.
    random,
    /// The previous term's final signs (the first term starts random). Their
    /// images are already known, so the first mode update costs no pass.
    previous,
    /// `previous` for matrices, `random` for other orders. Measured on the
    /// bundled data at 0.5–2 bits per value (BENCHMARKS.md): for matrices,
    /// warm starts reach the same error (within 0.7 %) with 15–25 % fewer
    /// passes; for orders 3 and 4 their error ranges from 0.69x to 1.51x of
    /// random starts, since small modes (an RGB axis) stay locked in the
    /// previous term's pattern.
    automatic,
};

struct SIGNCUT_API DecomposeOptions {
    // At most one stopping rule may be set; none means bits_per_value = 1.
    std::optional<std::size_t> width;      ///< terms in every block (no allocation)
    std::optional<double> bits_per_value;  ///< the lowest error whose payload fits (allocation)
    std::optional<double> rel_error;       ///< the fewest bits with ||R||/||X|| <= rel_error (allocation)

    /// How the tensor is cut into blocks (default: the measured auto rule).
    BlockChoice blocks;

    /// Codecs a block may be stored with instead of its signed cuts, chosen
    /// block by block by the allocation along the same slopes (design §3c;
    /// zfp_block_codec() in libsigncut). Empty: signed cuts only. Used with
    /// a budget (bits per value or an error target) over more than one
    /// block; a width rule and a whole-tensor block take signed cuts.
    BlockCodecs codecs;

    /// With `rel_error`: give up (target_reached = false) before the storage
    /// would pass this many bits per value (the original dtype's width).
    double max_bits_per_value = 32.0;

    std::uint64_t seed = 0;               ///< starting signs (see random.hpp)
    unsigned threads = 1;                 ///< results are identical for any count
    std::size_t max_mode_updates = 200;   ///< cap on mode updates per term
    /// Terms kept implicit between flushes of the remainder. Default: 16 for
    /// up to 2^18 values (a block: the per-update corrections of implicit
    /// terms then cost more than the flushes), 64 above (BENCHMARKS.md).
    std::optional<std::size_t> flush_terms;
    StartSigns start = StartSigns::automatic;
    /// After the greedy, refit all scales by least squares for the signs it
    /// found (the Gram matrix comes from popcounts, the right-hand side from
    /// the greedy's cuts: no extra pass over the data beyond one update of
    /// the remainder). The result is marked scales_refit(); the stopping
    /// rules still apply to the greedy, and the reported error is the
    /// refit's. Off by default: see BENCHMARKS.md for its gain and cost.
    /// One block only (the allocation ranks the greedy's own scales).
    bool refit_scales = false;
    /// Store every scale as a short scale (13 bits, scale_format.hpp)
    /// instead of a float32: the greedy rounds each scale before it
    /// subtracts the term, so errors stay exact, and a term costs 19 bits
    /// less. Off, files keep float32 scales as before.
    bool short_scales = true;
    /// Where set (deflated_signs() of libsigncut), the signs of a run of
    /// several blocks are stored deflated when that stores fewer bytes, and
    /// the allocation counts each candidate's exact deflated size, so the
    /// bytes deflate saves buy terms. Unset (the default) or one block:
    /// plain sign bytes.
    std::shared_ptr<const SignStorage> sign_storage;
    /// Extra random starts per term: each runs the whole alternating loop,
    /// and the largest cut is kept; about (1 + restarts)× the time. 0 is the
    /// plain loop. For order 3 and more with a last mode of 8 or more, a
    /// restart keeps the last mode's signs the previous start ended with and
    /// draws the others (docs/ALGORITHM.md). Unset, it is 2 for tensors of order 3 and more, where it
    /// lowers the error at equal bits by 2-29 % on the sample data of
    /// BENCHMARKS.md, and 0 for vectors and matrices, where it gains 0.5-2 %
    /// on most.
    std::optional<std::size_t> restarts;
    /// With restarts, every start may first run only this many cycles of mode
    /// updates (a cycle updates each mode once), the start with the largest
    /// cut then (the earliest on a tie) running on alone to convergence. 0
    /// (the default) runs every start to convergence, the exact loop: on a
    /// 64 MiB field with 32³ blocks at 1 bit per value, 1 and 3 cycles save
    /// 22 % and 4 % of the time for 6.4 % and 1.8 % more error, where
    /// `restarts = 1` saves 22 % for 2.2 % (BENCHMARKS.md).
    std::size_t screen_cycles = 0;

    /// With several blocks and a budget, each block is first decomposed to
    /// this multiple of its even share of the budget's terms (plus two);
    /// blocks the allocation wants more of are decomposed again, further.
    /// Changes only the time, never the result (the tests set it tiny so
    /// that the re-decomposition always happens).
    double first_pass_share = 1.5;

    /// Bytes decompose() may hold at once beyond the caller's own input: the
    /// slabs of a RowSource, the blocks being decomposed, the terms found
    /// (the first pass's and those a re-decomposition grows to), what the
    /// allocation and a team's exchanges hold of every block, and a quarter
    /// more for the heap and scratch buffers (docs/ALGORITHM.md). 0: no bound.
    /// A run that would need more is refused (errc::limit, naming both
    /// figures) before it allocates, or before the round that would exceed it.
    std::uint64_t max_memory = 0;

    /// Called after every term of a one-block run and after every block of
    /// a blocked one; return false to cancel (the terms found so far are
    /// returned, and the report says cancelled). Also called during the
    /// auto rule's trials (Progress::trial), where there is nothing to
    /// return yet: a false there throws Error(errc::cancelled).
    std::function<bool(const Progress&)> progress;

    /// Decompose together with the other members of a team (block_team.hpp,
    /// e.g. MPI ranks): this member decomposes and reads only the blocks
    /// block_owner() gives it, and the members exchange what the allocation
    /// needs. Every member must call decompose() with the same options and
    /// data source. The result is the same as without a team, bit for bit,
    /// but each member keeps the terms and coded streams of its own blocks
    /// only (the others' blocks come back empty, with their extents, so
    /// the returned decomposition's payload, format version and sign
    /// storage describe this member's part alone); the report is whole on
    /// every member, and its `layout` describes the whole file and places
    /// every block in it, so that the members write it together. A run of
    /// one block (and the auto rule's trials) is not shared: every member
    /// runs it and holds it whole. Null: one process.
    std::shared_ptr<BlockTeam> team;
};

/// What a run did, for users and for the cost tests.
struct SIGNCUT_API DecomposeReport {
    std::size_t mode_updates = 0;    ///< over all terms
    std::size_t flipped_signs = 0;   ///< signs changed by mode updates (the starts excluded)
    double dense_passes = 0;         ///< full contractions/flushes count 1, a flipped slice of mode b 1/d_b
    std::size_t flushes = 0;
    double rel_error = 0;            ///< final relative error (exact recomputation where available)
    double greedy_rel_error = 0;     ///< the same before a refit of the scales (equal without one)
    bool scales_refit = false;       ///< the refit was asked for, solvable, and kept
    bool target_reached = true;      ///< false if a rel_error target was given up
    bool cancelled = false;
    std::vector<double> rel_error_trajectory;  ///< bookkept error after each term (one block only)
    /// The drop of squared error each term gave, 2c·<R,S> − c²·N with its
    /// stored scale c, in greedy order (one block only; before a refit).
    std::vector<double> term_gains;
    std::size_t blocks = 0;            ///< blocks in the grid
    std::size_t decomposed_terms = 0;  ///< terms the greedy found, re-decompositions included
    std::size_t rounds = 0;            ///< decomposition rounds (1 + re-decompositions for the allocation)
    std::size_t coded_blocks = 0;      ///< blocks the allocation gave to another codec (DecomposeOptions::codecs)
    double norm2 = 0;                  ///< ||X||², in double
    Shape block_shape;                 ///< the block shape used (auto resolved)
    /// The result measured against the data, where decompose() measured it:
    /// runs of several blocks (the same figures as error_against(), block by
    /// block in block order) and every run from a RowSource, whose data the
    /// caller may not be able to hold.
    std::optional<ErrorMetrics> metrics;
    /// With a team (DecomposeOptions::team): where every block lies in the
    /// file, which each member writes its own blocks into (stored_layout.hpp).
    /// It is stored_layout() of the decomposition one process gives. Not set
    /// for a cancelled run.
    std::optional<StoredLayout> layout;
};

/// Decomposes C-ordered float32 data. Each block is copied once into its
/// working remainder; the data is never modified. Throws `Error` on an empty
/// tensor, a zero dimension, non-finite values, a bad block shape or
/// contradictory options.
SIGNCUT_API SignedCutDecomposition decompose(const TensorView<float>& x, const DecomposeOptions& options = {},
                                 DecomposeReport* report = nullptr);
/// float64 data is rounded to float32 (the working precision) as it is copied.
SIGNCUT_API SignedCutDecomposition decompose(const TensorView<double>& x, const DecomposeOptions& options = {},
                                 DecomposeReport* report = nullptr);
/// Takes ownership of the buffer; with one block it becomes the working
/// remainder, which saves one copy of the input (the tensor is left empty).
SIGNCUT_API SignedCutDecomposition decompose(Tensor&& x, const DecomposeOptions& options = {},
                                 DecomposeReport* report = nullptr);

/// Reads the tensor from `source` a slab at a time (row_source.hpp): the
/// same result, bit for bit, as decompose() of the same data in memory with
/// the same options. With one block (whole, or auto choosing it) the whole
/// tensor is read into memory.
SIGNCUT_API SignedCutDecomposition decompose(RowSource& source, const DecomposeOptions& options = {},
                                 DecomposeReport* report = nullptr);

/// Any xtensor expression: float32 row-major arrays are viewed in place,
/// anything else (other layouts, integer or float64 types, lazy expressions)
/// is evaluated into a float32 tensor first.
template <class E>
SignedCutDecomposition decompose(const xt::xexpression<E>& expr, const DecomposeOptions& options = {},
                                 DecomposeReport* report = nullptr)
{
    const auto& e = expr.derived_cast();
    using value_type = std::decay_t<typename E::value_type>;
    if constexpr (std::is_same_v<E, Tensor>) {
        return decompose(TensorView<float>{e.data(), Shape(e.shape().begin(), e.shape().end())}, options, report);
    } else {
        (void)sizeof(value_type);
        Tensor copy = xt::cast<float>(e);
        return decompose(std::move(copy), options, report);
    }
}

/// What recut() did.
struct SIGNCUT_API RecutReport {
    /// sqrt((norm2 − Σ kept gains) / norm2), the gains c²·n_b of the kept
    /// terms: the error a greedy with exact arithmetic would have; an
    /// estimate up to the float32 rounding of the stored scales and of the
    /// remainder (0 when norm2 is 0).
    double rel_fro_error_estimate = 0;
    /// False if a rel_error target needs more than the decomposition holds
    /// (then every stored term is kept).
    bool target_reached = true;
};

/// A smaller budget cut from a decomposition without its original
/// (`signcut recut`, design §3b): the allocation of allocation.hpp over the
/// stored terms of every block (each block's terms are a prefix of its
/// greedy sequence, their gains c²·n_b follow from the stored scales), with
/// the payload bound decompose() uses, so the result is what decompose()
/// with this block shape and seed gives at that budget over the same
/// per-block sequences. `norm2` is ||X||² of the original (the file's
/// @norm2). Exactly one of `bits_per_value` (a payload bound, bits per
/// value) and `rel_error` (the fewest bits whose estimated error is at most
/// it) is given.
///
/// Throws Error(errc::invalid_argument) for no rule or two, a budget that is
/// not positive and finite, a negative or non-finite rel_error;
/// Error(errc::bad_input) for a norm2 that is negative or not finite (a
/// version-1 file has none), refit scales (their prefixes are not the
/// greedy's), a bits_per_value budget above the decomposition's own
/// payload, or below the payload of one term (the message names the
/// minimum).
///
/// Blocks stored by another codec (zfp) are kept as they are: the budget
/// less what they take is shared among the signed cut blocks. Their gains
/// are not stored, so the error estimate then starts from the stored error
/// `rel_error_before` (the file's @rel_fro_error) and adds the gains of the
/// terms dropped: sqrt(rel_error_before² + Σ dropped gains / norm2); without
/// it such a decomposition is refused.
SIGNCUT_API SignedCutDecomposition recut(const SignedCutDecomposition& d, double norm2, std::optional<double> bits_per_value,
                             std::optional<double> rel_error, RecutReport* report = nullptr,
                             std::optional<double> rel_error_before = std::nullopt);

/// Checks an explicit block shape against a tensor's shape before any data
/// is read (auto and whole always fit). Throws Error(errc::invalid_argument)
/// naming the mode.
SIGNCUT_API void check_block_choice(const BlockChoice& choice, const Shape& shape);

/// The block shape `choice` gives for `x` under `options` (auto included).
SIGNCUT_API Shape resolve_block_shape(const BlockChoice& choice, const TensorView<float>& x, const DecomposeOptions& options);
SIGNCUT_API Shape resolve_block_shape(const BlockChoice& choice, const TensorView<double>& x, const DecomposeOptions& options);

/// The auto rule: modes along which neighbours correlate (≥ 0.8, and at
/// least 16 long) are cut into tiles; the others stay whole, and with none
/// the whole tensor is one block. The tile (16, 32, 64 or 128 along every
/// cut mode) is the one with the lowest error at the run's budget (or the
/// fewest bits for an error target) on all of the data up to 2^21 values,
/// or on a crop of at most that many sampled from both halves of each
/// shortened mode (docs/ALGORITHM.md). BENCHMARKS.md has the measurements
/// behind it.
SIGNCUT_API Shape auto_block_shape(const TensorView<float>& x, const DecomposeOptions& options);
SIGNCUT_API Shape auto_block_shape(const TensorView<double>& x, const DecomposeOptions& options);
/// The same rule over data read from `source`, of which only the crop's rows
/// are read (a row at a time): one block shape for data of any size, such as
/// a dataset whose chunks are then each decomposed with it.
SIGNCUT_API Shape auto_block_shape(RowSource& source, const DecomposeOptions& options);

/// Counted bits of `width` terms of `shape` per value, (Σ d_a + scale_bits)·w / N.
SIGNCUT_API double sct_bits_per_value(std::span<const std::size_t> shape, std::size_t width,
                                      unsigned scale_bits = short_scale_bits);
/// The largest width whose counted bits per value do not exceed `bits`.
SIGNCUT_API std::size_t sct_width_for_bits(std::span<const std::size_t> shape, double bits,
                                           unsigned scale_bits = short_scale_bits);
/// The payload bits per value of one block of `shape` holding `width` terms
/// (format version 2: widths, scales and signs, checksums included).
SIGNCUT_API double sct_payload_bits_per_value(std::span<const std::size_t> shape, std::size_t width,
                                              unsigned scale_bits = short_scale_bits);

}  // namespace signcut
