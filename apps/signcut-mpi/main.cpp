// signcut-mpi: `signcut compress` over MPI and parallel HDF5, for data that
// no single machine holds (design §12). Run by mpirun or srun; every rank
// parses the same command line. Exit status as signcut's: 0 success, 1 bad
// input or failed I/O, 2 bad usage, the same on every rank; a failure prints
// one line "signcut-mpi: error: …" (from rank 0, or from the rank that
// failed where the ranks could not agree).
#include <cstdio>
#include <cstdlib>
#include <new>
#include <string>

#include <mpi.h>

#include <CLI/CLI.hpp>
#include <fmt/format.h>

#include "arch_agreement.hpp"
#include "cli_options.hpp"
#include "collective.hpp"
#include "commands.hpp"
#include "parallel_commands.hpp"
#include "terminal.hpp"
#include "signals.hpp"
#include "signcut/arch.hpp"
#include "signcut/error.hpp"
#include "signcut/hdf5_filter.hpp"
#include "signcut/version.hpp"

namespace {


int run(int argc, char** argv, MPI_Comm comm)
{
    using namespace signcut;
    using namespace signcut::cli;
    int rank = 0;
    MPI_Comm_rank(comm, &rank);
    CLI::App app{"signcut-mpi: signcut compress over MPI ranks and parallel HDF5; the same file as signcut "
                 "compress with the same options.\nRun it with mpirun -np P or srun.",
                 "signcut-mpi"};
    app.require_subcommand(0, 1);
    bool show_version = false;
    app.add_flag("--version", show_version, "Print the version and the instruction set the ranks agree on");

    CompressOptions compress;
    auto* c = app.add_subcommand("compress",
                                 "Decompose an HDF5 dataset into a decomposition file, its blocks shared between the "
                                 "ranks");
    c->add_option("input", compress.input, "FILE.h5:/dataset or FILE.h5 (one dataset)")->required();
    c->add_option("-o,--output", compress.output, "The decomposition file to write (by rank 0)")->required();
    c->add_option("--method", compress.method, "sct (the only method signcut-mpi runs)");
    c->add_option("--seed", compress.seed, "Seed of the starting signs (default 0)")->check(whole_number);
    add_stop(c, compress.stop);
    add_common(c, compress.common, true, true, true);
    c->get_option("--threads")->description("Threads per rank (default 1: one rank per core); results do not depend on it");

    DecompressOptions decompress;
    auto* d = app.add_subcommand("decompress",
                                 "Rebuild the tensor from a decomposition file into an HDF5 dataset, each rank "
                                 "rebuilding and writing its block rows; the values signcut decompress writes");
    d->add_option("input", decompress.input, "A decomposition file (sct)")->required();
    d->add_option("-o,--output", decompress.output,
                  "FILE.h5 (a new file, dataset /data) or FILE.h5:/dataset (added to FILE.h5 if it exists, its "
                  "other objects kept)")
        ->required();
    d->add_option("--width,-w", decompress.width, "Use only the first W terms of every block")->check(at_least_one);
    d->add_option("--region", decompress.region,
                  "Rebuild only this region, numpy style, one entry per mode: start:stop or an index, which drops "
                  "that mode; e.g. 0:10,:,5");
    d->add_option("--dtype", decompress.dtype, "Stored type (default: the original's)")
        ->check(CLI::IsMember({"float32", "float64"}));
    // Parsed so that they are refused with a reason rather than as unknown.
    d->add_flag("--all", decompress.all, "Not here: every decomposition of a file is signcut decompress's");
    d->add_flag("--scale", decompress.scale, "Not here: image outputs are signcut decompress's");
    add_common(d, decompress.common, true, true, true);

    try {
        app.parse(argc, argv);
    } catch (const CLI::CallForHelp& h) {
        return rank == 0 ? app.exit(h) : 0;
    } catch (const CLI::CallForAllHelp& h) {
        return rank == 0 ? app.exit(h) : 0;
    } catch (const CLI::ParseError& err) {
        // Every rank parses the same arguments and fails alike.
        if (rank == 0) fmt::print(stderr, "signcut-mpi: error: {}\n", one_line(err.what()));
        return 2;
    }

    try {
        // A stopped run removes the temporary rank 0 is writing.
        handle_stop_signals();
        register_hdf5_filter();
        const Arch arch = mpi::agree_on_arch(comm);
        if (show_version) {
            if (rank == 0) fmt::print("signcut-mpi {} ({} on every rank)\n", version, arch_name(arch));
            return 0;
        }
        if (*c) return run_parallel_compress(compress, comm);
        if (*d) return run_parallel_decompress(decompress, comm);
        if (rank == 0)
            fmt::print(stderr, "signcut-mpi: error: a subcommand is required (compress or decompress); see --help\n");
        return 2;
    } catch (const mpi::AgreedError& err) {
        // Every rank has it: rank 0 says it once.
        if (rank == 0) fmt::print(stderr, "signcut-mpi: error: {}\n", one_line(err.what()));
        return exit_status(err.code());
    } catch (const std::exception& err) {
        // A failure the ranks could not agree on (outside any phase): this
        // rank says it, and the job is ended rather than left waiting.
        const Error* e = dynamic_cast<const Error*>(&err);
        const int status = e != nullptr ? exit_status(e->code()) : 1;
        fmt::print(stderr, "signcut-mpi: error: {}\n", one_line(err.what()));
        std::fflush(stderr);
        MPI_Abort(comm, status);
        return status;
    }
}

}  // namespace

int main(int argc, char** argv)
{
    // MPI is called from the main thread only; the decomposer's own threads
    // never call it.
    int provided = 0;
    MPI_Init_thread(&argc, &argv, MPI_THREAD_FUNNELED, &provided);
    int status = run(argc, argv, MPI_COMM_WORLD);
    // The ranks end with the same status: the worst any of them has.
    int worst = status;
    MPI_Allreduce(&status, &worst, 1, MPI_INT, MPI_MAX, MPI_COMM_WORLD);
    MPI_Finalize();
    if (std::fflush(nullptr) != 0 && worst == 0) worst = 1;
    // As signcut does: no exit-time teardown of the libraries once every
    // output is committed or removed.
    std::_Exit(worst);
}
