// `signcut-mpi compress`: every rank opens the input with MPI-IO and
// decomposes the block rows it owns (signcut/block_team.hpp); the ranks
// exchange the blocks' gains, each computes the same allocation and keeps
// its own blocks' terms, and the ranks write the file together, each its
// own blocks, into rank 0's temporary, renamed when complete, so a failure
// anywhere leaves no output.
//
// Every phase that may fail on one rank alone ends with an agreement
// (lib/mpi/collective.hpp): a failure on any rank ends every rank with that
// rank's message.
#include <memory>

#include <fmt/format.h>

#include "collective.hpp"
#include "common.hpp"
#include "compress_options.hpp"
#include "input.hpp"
#include "mpi_team.hpp"
#include "output.hpp"
#include "parallel_commands.hpp"
#include "parallel_decomposition_writer.hpp"
#include "parallel_rows.hpp"
#include "signcut/arch.hpp"
#include "signcut/datasets.hpp"
#include "signcut/decompose.hpp"
#include "signcut/decomposition_files.hpp"
#include "signcut/error.hpp"
#include "signcut/memory_limit.hpp"
#include "signcut/version.hpp"
#include "rank_context.hpp"
#include "terminal.hpp"

namespace signcut::cli {
namespace {

/// The options signcut-mpi does not take: the methods and inputs that are
/// not cut into blocks.
void refuse_serial_only(const CompressOptions& o)
{
    if (o.method != "sct")
        throw Error(errc::invalid_argument,
                    "signcut-mpi compresses with --method sct only (an lplr factorization is one matrix: use signcut)");
    if (o.all) throw Error(errc::invalid_argument, "signcut-mpi compresses one dataset; --all is signcut's");
    if (o.lplr.rank || o.lplr.bits_l || o.lplr.bits_r || o.lplr.matricize || o.lplr.power_iterations)
        throw Error(errc::invalid_argument,
                    "--rank, --bits-l, --bits-r, --matricize and --power-iterations apply to --method lplr only");
}

/// What a rank comes to hold beside the decomposer's count once the work
/// starts: MPI's transport buffers, which grow with the first exchanges, and
/// library code first run then. Measured as peak RSS less the rank's
/// baseline and the decomposer's count (with its quarter for the heap): up
/// to 11 MiB on a 52 MiB field with two ranks (tests/mpi).
constexpr std::uint64_t rank_reserve = std::uint64_t{16} << 20;

/// The decomposer's share of `--max-memory`. Here the limit bounds the whole
/// rank: what a rank holds before it reads any data (OpenMPI, the parallel
/// HDF5, the open input: 28 MiB measured against signcut's 20 MiB) and the
/// reserve above are taken off, since the decomposer counts only what it
/// allocates itself.
std::uint64_t decomposer_memory(std::uint64_t limit)
{
    const std::uint64_t held = resident_bytes() + rank_reserve;
    if (held >= limit)
        throw Error(errc::limit, fmt::format("each rank holds {} before reading any data (MPI, the parallel HDF5, "
                                             "and {} for MPI's buffers), more than --max-memory {}",
                                             human_bytes(double(held)), human_bytes(double(rank_reserve)),
                                             human_bytes(double(limit))));
    return limit - held;
}

}  // namespace

int run_parallel_compress(const CompressOptions& o, MPI_Comm comm)
{
    const RankContext ranks(comm, o.common.quiet, o.common.json);
    const bool first = ranks.first();
    const int size = ranks.size;
    const Terminal& terminal = ranks.terminal;

    InputRef ref;
    Hdf5Target target;
    Shape shape;
    std::vector<CarriedAttribute> attributes;
    mpi::agree(comm, [&] {
        refuse_serial_only(o);
        ref = resolve_input(o.input);
        if (ref.image)
            throw Error(errc::invalid_argument,
                        fmt::format("signcut-mpi reads HDF5 datasets; {} is an image (use signcut compress)", o.input));
        target = parse_hdf5_target(o.output);
        shape = inspect_dataset(ref.file, ref.dataset).shape;
        (void)block_choice(o.stop, shape);
        if (!first) return;
        // The output is rank 0's alone: only it checks and writes it.
        const ObjectRef inputs[] = {{ref.file, ref.dataset}};
        check_hdf5_target(target, inputs, o.common.force, terminal);
        std::vector<std::string> skipped;
        attributes = read_dataset_attributes(ref.file, ref.dataset, &skipped);
        if (!skipped.empty())
            terminal.warn(fmt::format("{} attribute{} of {} not kept: numbers and readable strings travel with a "
                                      "decomposition",
                                      skipped.size(), skipped.size() == 1 ? "" : "s", ref.spec));
    });

    std::string dtype;
    std::unique_ptr<RowSource> rows;
    mpi::agree(comm, [&] { rows = mpi::open_parallel_dataset_rows(comm, ref.file, ref.dataset, &dtype); });

    // Threads per rank: one unless asked (ranks are usually one per core).
    const unsigned threads = o.common.threads == 0 ? 1u : o.common.threads;
    auto team = std::make_shared<mpi::MpiTeam>(comm);
    SignedCutDecomposition d;
    DecomposeReport report;
    MPI_Barrier(comm);
    const double decompose_start = MPI_Wtime();
    mpi::agree(comm, [&] {
        DecomposeOptions options = decompose_options(o.stop, o.seed, threads, dtype);
        options.blocks = block_choice(o.stop, shape);
        const std::uint64_t limit = memory_limit(o.common);
        options.max_memory = decomposer_memory(limit);
        options.team = team;
        try {
            d = decompose(*rows, options, &report);
        } catch (const Error& e) {
            if (e.code() != errc::limit) throw;
            // The decomposer names its own share; say where it came from.
            throw Error(errc::limit, fmt::format("{} (--max-memory {} less the {} this rank held before reading "
                                                 "any data and set aside for MPI's buffers)",
                                                 e.what(), human_bytes(double(limit)),
                                                 human_bytes(double(limit - options.max_memory))));
        }
        check_metrics(*report.metrics, fmt::format("the decomposition of {}", o.input));
    });
    const double decompose_seconds = MPI_Wtime() - decompose_start;
    rows.reset();  // closes the input, collectively

    Provenance prov;
    prov.source_attributes = std::move(attributes);
    prov.original_dtype = dtype;
    prov.source = o.input;
    prov.seed = o.seed;
    prov.signcut_version = version;
    prov.rel_fro_error = report.metrics->rel_fro_error;
    prov.norm2 = report.norm2;
    // Every rank holds the file's layout and its own blocks' terms; the
    // group and its attributes (the source's among them) are rank 0's to
    // create.
    mpi::agree(comm, [&] {
        if (!report.layout) throw Error(errc::io, "the ranks' decomposition came back without the file's layout");
    });
    const StoredLayout& layout = *report.layout;
    const std::uint64_t bytes = mpi::write_decomposition_together(comm, target.file, target.object, o.common.force,
                                                                  layout, d, prov);
    const double seconds = ranks.seconds();
    if (!first) return 0;

    const ErrorMetrics& m = *report.metrics;
    if (o.common.json) {
        JsonObject j;
        j.add("method", Json::string("sct"))
            .add("shape", Json::integers(shape))
            .add("width", Json::integer(layout.width()))
            .add("bits_per_value", Json::number(layout.bits_per_value()))
            .add("counted_bits_per_value", Json::number(layout.counted_bits_per_value()))
            .add("compression_ratio", Json::number(compression_ratio(d.size(), dtype, bytes)))
            .add("file_bytes", Json::integer(bytes));
        add_metrics(j, m);
        j.add("seconds", Json::number(seconds))
            .add("decompose_seconds", Json::number(decompose_seconds))
            .add("exchange_seconds", Json::number(team->exchange_seconds()))
            .add("exchange_bytes", Json::integer(team->exchange_bytes()))
            .add("arch", Json::string(arch_name(active_arch())))
            .add("ranks", Json::integer(std::uint64_t(size)))
            .add("threads", Json::integer(threads))
            .add("seed", Json::integer(o.seed))
            .add("target_reached", Json::boolean(!o.stop.rel_error || report.target_reached))
            .add("block_shape", Json::integers(d.block_shape()))
            .add("blocks", Json::integer(d.block_count()))
            .add("zfp_blocks", Json::integer(layout.coded_block_count()))
            .add("format_version", Json::integer(layout.format_version()));
        print_json(j);
        return 0;
    }
    terminal.summary(fmt::format(
        "signcut-mpi compress: {} -> {}\n"
        "  shape {} {}, method sct, blocks {}{}, width {}\n"
        "  {:.4g} bits/value stored, {} on disk\n"
        "  rel error {}, rmse {}, max abs error {}, PSNR {} dB (20 log10(range/rmse))\n"
        "  {:.3g} s (decompose {:.3g} s, of which exchanges {:.3g} s on rank 0), {} rank{} x {} thread{}, {}, seed {}\n",
        o.input, o.output, format_shape(shape), dtype, blocks_text(d.shape(), d.block_shape(), d.block_count()),
        layout.coded_block_count() > 0 ? fmt::format(" ({} zfp)", layout.coded_block_count()) : std::string(),
        layout.width(), layout.bits_per_value(), human_bytes(double(bytes)), human_number(m.rel_fro_error), human_number(m.rmse),
        human_number(m.max_abs_error), human_number(m.psnr_db), seconds, decompose_seconds, team->exchange_seconds(),
        size, size == 1 ? "" : "s", threads, threads == 1 ? "" : "s", arch_name(active_arch()), o.seed));
    return 0;
}

}  // namespace signcut::cli
