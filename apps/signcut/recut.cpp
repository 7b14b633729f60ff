// `signcut recut`: a smaller budget cut from a version-2 or version-3 sct
// file without the original (design §3b "Progressive"; the allocation is
// the library's recut(), the one decompose() uses). Blocks stored by zfp
// (version 3) are kept as they are; their bits come off the budget first.
#include <cmath>
#include <optional>

#include <fmt/format.h>

#include "common.hpp"
#include "signcut/decompose.hpp"
#include "signcut/error.hpp"
#include "signcut/hdf5.hpp"
#include "output.hpp"
#include "terminal.hpp"

namespace signcut::cli {

int run_recut(const RecutOptions& o)
{
    const Stopwatch clock;
    const Terminal terminal = Terminal::detect(o.common.quiet, o.common.json);
    if (o.bits_per_value.has_value() == o.rel_error.has_value())
        throw Error(errc::invalid_argument, "recut needs one budget: --bits-per-value B or --rel-error E");
    const Hdf5Target target = parse_hdf5_target(o.output);
    const ObjectRef inputs[] = {decomposition_object(o.input)};
    check_hdf5_target(target, inputs, o.common.force, terminal);

    // What the metadata alone refuses, before the arrays are read.
    DecompositionInfo info = read_decomposition_info(o.input);
    if (info.method != "sct")
        throw Error(errc::bad_input,
                    fmt::format("{} is an {} decomposition: only sct files can be recut (an {} factorization has no "
                                "prefixes); compress the original again at the new budget",
                                o.input, info.method, info.method));
    if (info.format_version < 2 || !std::isfinite(info.norm2))
        throw Error(errc::bad_input,
                    fmt::format("{} is a format version {} file, which does not store the original's norm2 that recut "
                                "needs; compress the original again",
                                o.input, info.format_version));
    if (info.scales_refit)
        throw Error(errc::bad_input,
                    fmt::format("{} has refit scales (--refit), so its terms are no longer the greedy's prefixes and "
                                "cannot be recut; compress the original again without --refit",
                                o.input));
    const std::uint64_t n = element_count(info.shape);
    if (o.bits_per_value && std::floor(*o.bits_per_value * double(n)) > double(8 * info.payload_bytes))
        throw Error(errc::bad_input,
                    fmt::format("{} bits per value is above the {:.6g} of {}: recut only lowers a budget", *o.bits_per_value,
                                info.bits_per_value(), o.input));

    Decomposition d = read_decomposition(o.input, memory_limit(o.common), &info);
    RecutReport report;
    // The gains of zfp blocks are not stored, and those of short scales are
    // known to 2^-4 of each: with either, the estimate starts from the
    // file's stored error and adds the dropped terms' gains.
    const std::optional<double> stored_error = info.provenance.rel_fro_error;
    const std::size_t zfp_blocks = d.sct()->coded_block_count();
    const bool short_scales = d.sct()->scale_bits() == short_scale_bits;
    const SignedCutDecomposition r =
        recut(*d.sct(), info.norm2, o.bits_per_value, o.rel_error, &report, stored_error);
    if (!report.target_reached)
        terminal.warn(fmt::format("relative error {} not reached: {} holds {} terms, whose estimated error is {:.4g}; "
                                  "all of them are kept",
                                  *o.rel_error, o.input, r.width(), report.rel_fro_error_estimate));

    Provenance p = info.provenance;  // the original's: source, seed, dtype, version, created
    p.rel_fro_error = report.rel_fro_error_estimate;
    p.norm2 = info.norm2;
    // Measured before the write, so that a failure to measure leaves no output.
    const std::uint64_t own = target.into_existing() ? own_file_bytes(r, p) : 0;
    write_decomposition(target.file, r, p, o.common.force, target.object);
    const std::uint64_t bytes = target.into_existing() ? own : file_bytes(target.file);
    const double ratio = compression_ratio(n, p.original_dtype, bytes);
    if (o.common.json) {
        JsonObject j;
        // §7's keys first, in its order.
        j.add("shape", Json::integers(r.shape()))
            .add("width", Json::integer(r.width()))
            .add("bits_per_value", Json::number(r.bits_per_value()))
            .add("file_bytes", Json::integer(bytes))
            .add("rel_fro_error", Json::number(report.rel_fro_error_estimate))
            .add("block_shape", Json::integers(r.block_shape()))
            .add("blocks", Json::integer(r.block_count()))
            .add("zfp_blocks", Json::integer(r.coded_block_count()))
            .add("format_version", Json::integer(std::uint64_t(r.format_version())))
            .add("counted_bits_per_value", Json::number(r.counted_bits_per_value()))
            .add("compression_ratio", Json::number(ratio))
            .add("rel_fro_error_is_estimate", Json::boolean(true))
            .add("target_reached", Json::boolean(report.target_reached))
            .add("seconds", Json::number(clock.seconds()));
        print_json(j);
        return 0;
    }
    terminal.summary(fmt::format(
        "signcut recut: {} -> {}\n"
        "  shape {} {}, method sct, blocks {}{}, width {} of {}\n"
        "  {:.4g} bits/value stored ({:.4g} counted), was {:.4g}\n"
        "  {} on disk, ratio {:.3g}x\n"
        "  rel error {} ({}; signcut eval measures it against the original)\n"
        "  {:.3g} s\n",
        o.input, o.output, format_shape(r.shape()), p.original_dtype,
        blocks_text(r.shape(), r.block_shape(), r.block_count()),
        zfp_blocks > 0 ? fmt::format(", {} zfp blocks kept as they are", zfp_blocks) : std::string(), r.width(),
        info.width, r.bits_per_value(), r.counted_bits_per_value(), info.bits_per_value(), human_bytes(double(bytes)),
        ratio, human_number(report.rel_fro_error_estimate),
        short_scales ? "an estimate: the file's stored error plus the dropped terms' gains, from their short "
                       "scales"
        : zfp_blocks > 0 ? "an estimate: the file's stored error plus the gains of the dropped terms, exact up to "
                           "float32 rounding"
                         : "an estimate from the stored scales, exact up to float32 rounding",
        clock.seconds()));
    return 0;
}

}  // namespace signcut::cli
