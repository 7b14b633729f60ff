// `signcut-mpi decompress`: every rank rebuilds the slabs of its own block
// rows from the decomposition file, one at a time, and the ranks write the
// dataset together (mpi::decompress_in_slabs_together), with signcut
// decompress's options, checks and values.
#include <algorithm>
#include <optional>
#include <span>

#include <fmt/format.h>

#include "collective.hpp"
#include "common.hpp"
#include "input.hpp"
#include "output.hpp"
#include "parallel_commands.hpp"
#include "parallel_decompression.hpp"
#include "signcut/decomposition_files.hpp"
#include "signcut/error.hpp"
#include "signcut/output_checks.hpp"
#include "rank_context.hpp"
#include "terminal.hpp"

namespace signcut::cli {
namespace {

/// What only signcut decompress does: it needs the whole tensor in one
/// process, or a whole file of decompositions.
void refuse_serial_only(const DecompressOptions& o, const OutputRef& out)
{
    if (o.all)
        throw Error(errc::invalid_argument,
                    "signcut-mpi decompress rebuilds one decomposition; --all (every decomposition of a file) is "
                    "signcut decompress's");
    if (out.image)
        throw Error(errc::invalid_argument,
                    fmt::format("signcut-mpi decompress writes HDF5 datasets; an image ({}) is rebuilt whole by "
                                "signcut decompress",
                                o.output));
    if (o.scale)
        throw Error(errc::invalid_argument, "--scale maps an image's samples, and signcut-mpi decompress writes HDF5 "
                                            "datasets only");
}

}  // namespace

int run_parallel_decompress(const DecompressOptions& o, MPI_Comm comm)
{
    const RankContext ranks(comm, o.common.quiet, o.common.json);
    const bool first = ranks.first();
    const int size = ranks.size;
    const Terminal& terminal = ranks.terminal;

    // signcut decompress's checks, in its order: the output, then the
    // decomposition's metadata, which decides what the options may ask.
    DecompositionInfo info;
    OutputRef out;
    std::optional<Region> region;
    mpi::agree(comm, [&] {
        out = parse_output(o.output);
        refuse_serial_only(o, out);
        if (first) {
            const ObjectRef inputs[] = {decomposition_object(o.input)};
            check_hdf5_target({o.output, out.file, out.into_existing ? out.dataset : std::string()}, inputs,
                              o.common.force, terminal);
        }
        info = read_decomposition_info(o.input);
        if (info.method != "sct")
            throw Error(errc::invalid_argument,
                        fmt::format("{} is an {} decomposition, which is rebuilt whole; signcut-mpi rebuilds sct "
                                    "ones (use signcut decompress)",
                                    o.input, info.method));
        region = decompress_region(o.region, info.shape);
        // --width against the file's widths, with apply_width's messages,
        // before any array is read.
        Decomposition unread;
        apply_width(unread, o.width, info, o.input);
    });

    const std::string dtype = o.dtype.value_or(info.provenance.original_dtype);
    SlabDecompression options;
    options.max_bytes = memory_limit(o.common);
    options.region = region ? &*region : nullptr;
    options.width = o.width.value_or(0);
    options.dtype = dtype;
    options.force = o.common.force;
    options.into_existing = out.into_existing;
    // One thread per rank unless --threads says otherwise: the ranks are
    // the parallelism.
    options.threads = o.common.threads == 0 ? 1u : o.common.threads;
    options.check_float32 = [&](std::span<const float> x, std::uint64_t at) { refuse_non_finite_slab(x, at, o.input); };
    options.check_float64 = [&](std::span<const double> x, std::uint64_t at) {
        refuse_non_finite_slab(x, at, o.input);
    };
    std::uint64_t rounds = 0;
    const Shape shape = mpi::decompress_in_slabs_together(comm, o.input, out.file, out.dataset, options, &rounds);
    const double seconds = ranks.seconds();
    if (!first) return 0;

    const std::uint64_t bytes = file_bytes(out.file);
    std::uint64_t width = 0;  // every block's terms, as signcut decompress counts them
    for (const std::uint64_t w : info.widths) width += o.width ? std::min<std::uint64_t>(*o.width, w) : w;
    if (o.common.json) {
        JsonObject j;
        j.add("shape", Json::integers(shape))
            .add("width", Json::integer(width))
            .add("seconds", Json::number(seconds))
            .add("file_bytes", Json::integer(bytes))
            .add("ranks", Json::integer(std::uint64_t(size)))
            .add("rounds", Json::integer(rounds));
        if (region) j.add("region", Json::string(format_region(*region, info.shape)));
        print_json(j);
        return 0;
    }
    terminal.summary(fmt::format(
        "signcut-mpi decompress: {} -> {}\n  shape {} {}{}, width {} of {}, {} written, {:.3g} s, {} rank{}, {} "
        "collective write{}\n",
        o.input, o.output, format_shape(shape), dtype,
        region ? fmt::format(" (region {} of {})", format_region(*region, info.shape), format_shape(info.shape))
               : std::string(),
        width, info.width, human_bytes(double(bytes)), seconds, size, size == 1 ? "" : "s", rounds,
        rounds == 1 ? "" : "s"));
    return 0;
}

}  // namespace signcut::cli
