// `signcut-mpi decompress`: every rank reads the blocks of its own block
// rows from the decomposition file, rebuilds them, and the ranks write the
// float32 dataset together in one collective transfer into a temporary
// file that rank 0 renames when every rank has succeeded.
#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstdlib>
#include <cstring>
#include <filesystem>

#include <fmt/format.h>

#include "collective.hpp"
#include "common.hpp"
#include "input.hpp"
#include "parallel_commands.hpp"
#include "parallel_dataset_writer.hpp"
#include "signcut/block_team.hpp"
#include "signcut/decomposition_files.hpp"
#include "signcut/error.hpp"
#include "signcut/output_checks.hpp"
#include "terminal.hpp"

namespace signcut::cli {
namespace {

void refuse_serial_only(const DecompressOptions& o)
{
    const auto serial = [](const char* what) {
        throw Error(errc::invalid_argument,
                    fmt::format("signcut-mpi decompress writes the whole tensor as float32 into a new file; {} is "
                                "signcut decompress's",
                                what));
    };
    if (o.all) serial("--all");
    if (o.region) serial("--region");
    if (o.width) serial("--width");
    if (o.scale) serial("--scale");
    if (o.dtype && *o.dtype != "float32") serial("--dtype other than float32");
}

/// A temporary file beside `output`, created (empty) by rank 0.
std::string make_temporary(const std::string& output)
{
    const std::filesystem::path p(output);
    std::string name = (p.parent_path() / fmt::format(".{}.signcut-tmp-XXXXXX", p.filename().string())).string();
    const int fd = ::mkstemp(name.data());
    if (fd < 0)
        throw Error(errc::io, fmt::format("cannot create a temporary file beside {}: {}", output, std::strerror(errno)));
    ::close(fd);
    return name;
}

}  // namespace

int run_parallel_decompress(const DecompressOptions& o, MPI_Comm comm)
{
    int rank = 0, size = 1;
    MPI_Comm_rank(comm, &rank);
    MPI_Comm_size(comm, &size);
    const bool first = rank == 0;
    MPI_Barrier(comm);
    const double start = MPI_Wtime();
    const Terminal terminal = Terminal::detect(o.common.quiet || !first, o.common.json);

    DecompositionInfo info;
    OutputRef out;
    mpi::agree(comm, [&] {
        refuse_serial_only(o);
        out = parse_output(o.output);
        // A dataset named in a file that exists would keep the file's other
        // objects: that edit is signcut decompress's.
        if (out.image || (out.into_existing && std::filesystem::exists(out.file)))
            throw Error(errc::invalid_argument,
                        fmt::format("signcut-mpi decompress writes a new HDF5 file (got {}): name one that does not "
                                    "exist, or use signcut decompress to add a dataset to a file",
                                    o.output));
        info = read_decomposition_info(o.input);
        if (info.method != "sct")
            throw Error(errc::invalid_argument,
                        fmt::format("{} is an {} decomposition; signcut-mpi rebuilds sct ones (use signcut decompress)",
                                    o.input, info.method));
        if (first) {
            const std::string inputs[] = {o.input.substr(0, o.input.rfind(".h5") + 3)};
            check_output_path(out.file, inputs, o.common.force);
        }
    });

    // This rank's rows: those of its block rows, as signcut-mpi compress
    // shares them.
    const BlockGrid grid(info.shape, info.block_shape);
    const auto [r0, r1] = owned_block_rows(grid, static_cast<std::size_t>(size), static_cast<std::size_t>(rank));
    const std::size_t b0 = info.block_shape[0], d0 = info.shape[0];
    const std::size_t first_row = std::min(r0 * b0, d0), last_row = std::min(r1 * b0, d0);
    const unsigned threads = o.common.threads == 0 ? 1u : o.common.threads;
    Tensor values;
    mpi::agree(comm, [&] {
        if (last_row == first_row) return;
        Region region = full_region(info.shape);
        region[0] = RegionRange{first_row, last_row, true};
        const Decomposition d = read_decomposition(o.input, memory_limit(o.common), nullptr, &region);
        values = d.reconstruct(region, threads);
        refuse_non_finite(std::span<const float>(values.data(), values.size()), o.input, false);
    });

    std::string temporary;
    mpi::agree(comm, [&] {
        if (first) temporary = make_temporary(out.file);
    });
    std::uint64_t length = temporary.size();
    MPI_Bcast(&length, 1, MPI_UINT64_T, 0, comm);
    temporary.resize(length);
    MPI_Bcast(temporary.data(), static_cast<int>(length), MPI_CHAR, 0, comm);
    try {
        mpi::agree(comm, [&] {
            mpi::write_rows_together(comm, temporary, out.dataset, info.shape, first_row, last_row - first_row,
                                     values.data());
        });
        mpi::agree(comm, [&] {
            if (!first) return;
            // mkstemp made it private; an output is as readable as any file.
            const mode_t mask = ::umask(0);
            ::umask(mask);
            if (::chmod(temporary.c_str(), 0666 & ~mask) != 0 || ::rename(temporary.c_str(), out.file.c_str()) != 0)
                throw Error(errc::io, fmt::format("cannot write {}: {}", out.file, std::strerror(errno)));
        });
    } catch (...) {
        if (first) ::unlink(temporary.c_str());
        throw;
    }
    const double seconds = MPI_Wtime() - start;
    if (!first) return 0;
    const std::uint64_t bytes = file_bytes(out.file);
    if (o.common.json) {
        JsonObject j;
        j.add("shape", Json::integers(info.shape))
            .add("width", Json::integer(info.width))
            .add("seconds", Json::number(seconds))
            .add("file_bytes", Json::integer(bytes))
            .add("ranks", Json::integer(std::uint64_t(size)));
        print_json(j);
        return 0;
    }
    terminal.summary(fmt::format("signcut-mpi decompress: {} -> {}:{}\n  shape {} float32, {} on disk, {:.3g} s, {} "
                                 "rank{}\n",
                                 o.input, out.file, out.dataset, format_shape(info.shape), human_bytes(double(bytes)),
                                 seconds, size, size == 1 ? "" : "s"));
    return 0;
}

}  // namespace signcut::cli
