#include "parallel_decomposition_writer.hpp"

#include <unistd.h>

#include <filesystem>
#include <optional>

#include <fmt/format.h>

#include "collective.hpp"
#include "decomposition_file.hpp"
#include "hdf5_handle.hpp"
#include "hdf5_output.hpp"
#include "object_writers.hpp"
#include "signcut/block_team.hpp"
#include "signcut/error.hpp"

namespace signcut::mpi {
namespace {

/// The blocks [first, last) this rank writes: those of its block rows.
std::pair<std::size_t, std::size_t> own_blocks(const BlockGrid& grid, int size, int rank)
{
    const auto [r0, r1] = owned_block_rows(grid, static_cast<std::size_t>(size), static_cast<std::size_t>(rank));
    const std::size_t per_row = grid.count() / grid.grid_shape()[0];
    return {r0 * per_row, r1 * per_row};
}

/// What the ranks' writes may add to the file: every dataset's values
/// unfiltered (what deflate or n-bit stores is less, or at most a few bytes
/// more per chunk), a 64th more, the chunks' index and checksums, and
/// 256 KiB for the metadata. Reserved before the collective phase: parallel HDF5
/// 1.10 waits forever in a collective call that one rank left with a full
/// disk (a chunk allocation when the datasets are opened, measured).
std::uint64_t space_needed(const StoredLayout& layout)
{
    const CodedStorage coded = layout.coded_storage();
    const std::uint64_t G = layout.widths.size();
    const std::uint64_t values = 4 * G + 4 * layout.width() + layout.sign_stream_bytes() + G + 4 * coded.streams +
                                 coded.stream_bytes;
    const std::uint64_t chunks = values / (std::uint64_t{1} << 20) + 6;
    return values + values / 64 + 64 * chunks + (std::uint64_t{256} << 10);
}

/// About the bytes the decomposition group `group` of `file` would occupy
/// in a file of its own: the group copied (its chunks as stored) into a
/// temporary file, measured, removed.
std::uint64_t group_file_bytes(const std::string& file, const std::string& group)
{
    const auto path = std::filesystem::temp_directory_path() / fmt::format("signcut-size-{}.h5", ::getpid());
    {
        // The new file made as signcut makes one (h5::create_file: the 1.10
        // format, no times), so that it measures what signcut writes.
        h5::File in(H5Fopen(file.c_str(), H5F_ACC_RDONLY, H5P_DEFAULT));
        h5::File out = h5::create_file(path.string(), path.string());
        if (!in || H5Ocopy(in.get(), group.c_str(), out.get(), "decomposition", H5P_DEFAULT, H5P_DEFAULT) < 0) {
            std::error_code ec;
            std::filesystem::remove(path, ec);
            h5::fail(errc::io, fmt::format("cannot measure {}:{}", file, group));
        }
    }
    std::error_code ec;
    const std::uint64_t bytes = std::filesystem::file_size(path, ec);
    std::filesystem::remove(path, ec);
    return bytes;
}

}  // namespace

std::uint64_t write_decomposition_together(MPI_Comm comm, const std::string& file, const std::string& group,
                                           bool force, const StoredLayout& layout, const SignedCutDecomposition& d,
                                           const Provenance& provenance)
{
    int rank = 0, size = 1;
    MPI_Comm_rank(comm, &rank);
    MPI_Comm_size(comm, &size);
    const bool first = rank == 0;
    h5::QuietErrors quiet;
    const auto [b0, b1] = own_blocks(layout.grid, size, rank);
    const std::string shown = group.empty() ? file : fmt::format("{}:{}", file, group);
    agree(comm, [&] { io::check_sct_blocks(layout, d, b0, b1, shown); });

    // Rank 0's temporary, registered with the unfinished outputs (a signal
    // removes it), removed if this function throws, renamed at the end.
    std::optional<io::Hdf5Output> out;
    std::string temporary, group_path;
    agree(comm, [&] {
        if (!first) return;
        out.emplace(file, group, force);
        {
            h5::Group root = out->open_root_group();
            h5::Group g = io::create_sct_objects(root.get(), out->shown(), layout, provenance);
            group_path = io::object_name(g.get());
        }
        out->close_file();
        out->reserve_space(space_needed(layout));
        temporary = out->temporary_path();
    });
    broadcast_text(comm, temporary);
    broadcast_text(comm, group_path);

    // The values first, so that a rank that cannot hold them fails before
    // any collective write.
    std::optional<io::SctBlockValues> values;
    agree(comm, [&] { values.emplace(io::sct_block_values(layout, d, b0, b1)); });

    h5::File parallel;
    h5::Group g;
    h5::PropList transfer;
    agree(comm, [&] {
        h5::PropList fapl = h5::writing_access_properties();
        h5::check_status(H5Pset_fapl_mpio(fapl.get(), comm, MPI_INFO_NULL), errc::io,
                         "cannot set up MPI-IO file access");
        parallel = h5::File(H5Fopen(temporary.c_str(), H5F_ACC_RDWR, fapl.get()));
        if (!parallel) h5::fail(errc::io, fmt::format("cannot open {} with MPI-IO to write {}", temporary, shown));
        g = h5::Group(H5Gopen2(parallel.get(), group_path.c_str(), H5P_DEFAULT));
        if (!g) h5::fail(errc::io, fmt::format("cannot open {} in {}", group_path, shown));
        transfer = h5::PropList(h5::check(H5Pcreate(H5P_DATASET_XFER), errc::io, "cannot create transfer properties"));
        h5::check_status(H5Pset_dxpl_mpio(transfer.get(), H5FD_MPIO_COLLECTIVE), errc::io,
                         "cannot ask for a collective write");
    });
    agree(comm, [&] { io::write_sct_values(g.get(), shown, layout, *values, transfer.get()); });
    values.reset();
    agree(comm, [&] {
        (void)g.close();
        if (!parallel.close()) h5::fail(errc::io, fmt::format("cannot write {}", shown));
    });
    // Measured before the commit, so that a failure leaves no output.
    std::uint64_t bytes = 0;
    agree(comm, [&] {
        if (!first) return;
        out->release_unused_space();
        bytes = group.empty() ? std::filesystem::file_size(temporary) : group_file_bytes(temporary, group_path);
        out->commit();
    });
    return bytes;
}

}  // namespace signcut::mpi
