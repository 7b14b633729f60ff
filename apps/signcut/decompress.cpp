// `signcut decompress`: rebuild the tensor, or a region of it, from a
// decomposition file of either method.
#include <fmt/format.h>

#include "common.hpp"
#include "input.hpp"
#include "signcut/blocks.hpp"
#include "signcut/error.hpp"
#include "signcut/hdf5.hpp"
#include "terminal.hpp"

namespace signcut::cli {

int run_decompress(const DecompressOptions& o)
{
    const Stopwatch clock;
    const Terminal terminal = Terminal::detect(o.common.quiet, o.common.json);
    const OutputRef out = parse_output(o.output);
    const std::string inputs[] = {o.input};
    check_output_path(out.file, inputs, o.common.force);

    // The metadata first: the method decides which options apply, and the
    // shape checks the region before any array is read.
    DecompositionInfo info = read_decomposition_info(o.input);
    if (info.method == "lplr" && o.width)
        no_prefixes("--width", "decompress rebuilds the whole factorization (--region keeps part of it, --dtype "
                               "chooses the stored type)");
    std::optional<Region> region;
    if (o.region) {
        try {
            region = parse_region(*o.region, info.shape);
        } catch (const Error& e) {
            throw Error(errc::invalid_argument, fmt::format("--region: {}", e.what()));
        }
        if (region_shape(*region).empty())
            throw Error(errc::invalid_argument,
                        fmt::format("--region {} selects a single value; keep at least one mode as a range (e.g. "
                                    "{}:{} for the last one)",
                                    *o.region, region->back().start, region->back().start + 1));
    }

    Decomposition d = read_decomposition(o.input, memory_limit(o.common), &info, region ? &*region : nullptr);
    apply_width(d, o.width, info, o.input);
    const unsigned threads = thread_count(o.common);
    const Tensor x = region ? d.reconstruct(*region, threads) : d.reconstruct(threads);
    const Shape shape(x.shape().begin(), x.shape().end());
    const std::string dtype = o.dtype.value_or(info.provenance.original_dtype);
    const std::uint64_t bytes =
        write_reconstruction(out, x, dtype, info.provenance.original_dtype, o.common.force, terminal);
    // The terms used: every block's (a region's unread blocks hold none).
    std::uint64_t width = 0;
    if (d.sct() != nullptr && region) {
        for (std::size_t b = 0; b < info.widths.size(); ++b)
            width += o.width ? std::min<std::uint64_t>(*o.width, info.widths[b]) : info.widths[b];
    } else {
        width = d.width();
    }
    if (o.common.json) {
        JsonObject j;
        j.add("shape", Json::integers(shape))
            .add("width", Json::integer(width))
            .add("seconds", Json::number(clock.seconds()))
            .add("file_bytes", Json::integer(bytes));
        if (region) j.add("region", Json::string(format_region(*region, info.shape)));
        print_json(j);
    } else {
        terminal.summary(fmt::format(
            "signcut decompress: {} -> {}\n  shape {} {}{}, method {}, {} {} of {}, {} written, {:.3g} s\n", o.input,
            o.output, format_shape(shape), out.image ? "png" : dtype,
            region ? fmt::format(" (region {} of {})", format_region(*region, info.shape), format_shape(info.shape))
                   : std::string(),
            info.method, info.method == "lplr" ? "rank" : "width", width, info.width, human_bytes(double(bytes)),
            clock.seconds()));
    }
    return 0;
}

}  // namespace signcut::cli
