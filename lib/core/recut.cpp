// recut(): a smaller budget cut from a blocked decomposition without its
// original (decompose.hpp; design §3b "Progressive").
//
// Every block's stored terms are a prefix of its greedy sequence, and a
// term's gain follows from its stored scale c, as c²·n_b (exactly for a
// float32 scale, within 2^-4 of it for a short one), so the file alone gives
// each block's (bits, gain) curve. The allocation and the payload
// bound are the ones decompose() uses (payload_budget.hpp), so a recut at B
// bits per value keeps what a fresh decompose() at B with the same block
// shape and seed keeps, as far as the stored terms reach.
#include <algorithm>
#include <cmath>

#include <fmt/format.h>

#include "payload_budget.hpp"
#include "sign_stream.hpp"
#include "signcut/allocation.hpp"
#include "signcut/decompose.hpp"
#include "signcut/error.hpp"
#include "signcut/scale_format.hpp"

namespace signcut {

SignedCutDecomposition recut(const SignedCutDecomposition& d, double norm2, std::optional<double> bits_per_value,
                             std::optional<double> rel_error, RecutReport* report,
                             std::optional<double> rel_error_before)
{
    if (bits_per_value.has_value() == rel_error.has_value())
        throw Error(errc::invalid_argument, "recut needs one budget: bits per value or a relative error");
    if (bits_per_value && !(*bits_per_value > 0 && std::isfinite(*bits_per_value)))
        throw Error(errc::invalid_argument, fmt::format("bits per value must be positive, got {}", *bits_per_value));
    if (rel_error && !(*rel_error >= 0 && std::isfinite(*rel_error)))
        throw Error(errc::invalid_argument,
                    fmt::format("relative error target must be finite and >= 0, got {}", *rel_error));
    if (!(norm2 >= 0 && std::isfinite(norm2)))
        throw Error(errc::bad_input,
                    fmt::format("recut needs the original's squared norm (norm2), got {}; version-1 files do not "
                                "store it",
                                norm2));
    if (d.scales_refit())
        throw Error(errc::bad_input, "the scales were refit after the greedy, so the stored terms are no longer the "
                                     "greedy's prefixes and cannot be recut");

    // Blocks stored by another codec are kept as they are; their gains are
    // not stored, so the error is followed from the stored one.
    const CodedStorage kept = d.coded_storage();
    const bool coded = kept.blocks > 0;
    if (coded && !(rel_error_before && *rel_error_before >= 0 && std::isfinite(*rel_error_before)))
        throw Error(errc::bad_input, "recut of a decomposition with zfp blocks needs its stored relative error "
                                     "(rel_fro_error), which is missing or not a finite number >= 0");

    // A term's gain c²·n is exact for a float32 scale c (the greedy's c is
    // <R,S>/n rounded once) but off by up to 2^-4 of it for a short scale,
    // and the first terms' gains are far larger than what remains: with
    // short scales the error is followed from the stored one, where the
    // small dropped gains' part of a percent does not show.
    const unsigned scale_bits = d.scale_bits();
    const bool stored_known = rel_error_before && *rel_error_before >= 0 && std::isfinite(*rel_error_before);
    const bool from_stored = coded || (scale_bits == short_scale_bits && stored_known);

    const BlockGrid& grid = d.grid();
    const std::uint64_t n = d.size();
    std::vector<BlockCurve> curves(d.block_count());
    for (std::size_t b = 0; b < d.block_count(); ++b) {
        const std::uint64_t nb = grid.block_size(b);
        curves[b].term_bits = grid.signs_per_term(b) + scale_bits;
        curves[b].gains.reserve(d.block(b).width());
        for (const float c : d.block(b).scales()) curves[b].gains.push_back(term_gain(c, nb));
    }
    const std::uint64_t own = d.payload().bits();

    // With a sign storage (a file whose signs are deflated), every candidate
    // is counted with its exact deflated stream, as decompose() counts it.
    detail::PayloadRule rule;
    rule.scale_bits = scale_bits;
    std::vector<std::vector<std::uint8_t>> segments;
    std::vector<std::uint64_t> spt(d.block_count());
    if (d.sign_storage()) {
        segments.resize(d.block_count());
        for (std::size_t b = 0; b < d.block_count(); ++b) {
            spt[b] = grid.signs_per_term(b);
            segments[b].assign(static_cast<std::size_t>(detail::segment_bytes(d.block(b).width(), spt[b])), 0);
            detail::pack_segment(d.block(b), segments[b]);
        }
        rule.stored_sign_bytes = [&](std::span<const std::size_t> widths) {
            const std::vector<std::uint8_t> stream = detail::prefix_sign_stream(segments, spt, widths);
            return std::min(d.sign_storage()->stored_bytes(stream), stored_dataset_bytes(stream.size(), 1));
        };
    }

    Allocation allocation;
    if (bits_per_value) {
        const std::uint64_t total = detail::budget_bits(*bits_per_value, n);
        if (total > own)
            throw Error(errc::bad_input,
                        fmt::format("{} bits per value is above the decomposition's own {:.6g}: recut only lowers a "
                                    "budget",
                                    *bits_per_value, d.bits_per_value()));
        const std::uint64_t minimum =
            coded ? blocks_payload(grid.count(), 0, 0, 0, kept, scale_bits).bits() : one_term_payload_bits(grid, scale_bits);
        if (total < minimum)
            throw Error(errc::bad_input,
                        fmt::format("{} bits per value is below {} of shape {} with blocks of {}: the minimum "
                                    "is {:.6g}",
                                    *bits_per_value, coded ? "the zfp blocks a recut keeps" : "one term",
                                    format_shape(grid.shape()), format_shape(grid.block_shape()),
                                    double(minimum) / double(n)));
        allocation = detail::allocate_payload(grid, rule, curves, total, kept);
    } else {
        const double target = *rel_error * *rel_error * norm2;
        double needed = norm2 - target;
        if (from_stored) {
            // The dropped gains may add at most target − (the stored error)².
            double all = 0;
            for (const BlockCurve& c : curves)
                for (double g : c.gains) all += g;
            const double before = *rel_error_before * *rel_error_before * norm2;
            needed = all - (target - before);
        }
        allocation = detail::allocate_gain_payload(grid, rule, curves, needed, own, kept);
    }

    // The kept and dropped gains in block and term order (a fixed order of the sum).
    double kept_gain = 0, dropped = 0;
    for (std::size_t b = 0; b < curves.size(); ++b)
        for (std::size_t j = 0; j < curves[b].gains.size(); ++j)
            (j < allocation.widths[b] ? kept_gain : dropped) += curves[b].gains[j];
    if (report != nullptr) {
        if (from_stored)
            report->rel_fro_error_estimate =
                norm2 > 0 ? std::sqrt(*rel_error_before * *rel_error_before + dropped / norm2) : 0.0;
        else
            report->rel_fro_error_estimate = norm2 > 0 ? std::sqrt(std::max(0.0, norm2 - kept_gain) / norm2) : 0.0;
        report->target_reached = !rel_error || report->rel_fro_error_estimate <= *rel_error ||
                                 allocation.target_reached;
    }
    return d.prefix(allocation.widths);
}

}  // namespace signcut
