// Messages may pass 2 GiB (the gains and candidate signs of a large run),
// beyond MPI's int counts: they travel in pieces of at most 1 GiB.
#include "mpi_team.hpp"

#include <algorithm>

#include "collective.hpp"

namespace signcut::mpi {
namespace {

constexpr std::uint64_t piece = std::uint64_t{1} << 30;

void broadcast_bytes(std::uint8_t* data, std::uint64_t n, int root, MPI_Comm comm)
{
    for (std::uint64_t at = 0; at < n; at += piece)
        MPI_Bcast(data + at, static_cast<int>(std::min(piece, n - at)), MPI_BYTE, root, comm);
}

}  // namespace

MpiTeam::MpiTeam(MPI_Comm comm) : comm_(comm)
{
    MPI_Comm_rank(comm_, &rank_);
    MPI_Comm_size(comm_, &size_);
}

std::vector<std::vector<std::uint8_t>> MpiTeam::all_gather(std::span<const std::uint8_t> mine,
                                                           const TeamFailure& failure)
{
    const double start = MPI_Wtime();
    raise_if_any_failed(comm_, failure);
    const std::uint64_t n = mine.size();
    std::vector<std::uint64_t> sizes(static_cast<std::size_t>(size_));
    MPI_Allgather(&n, 1, MPI_UINT64_T, sizes.data(), 1, MPI_UINT64_T, comm_);
    std::vector<std::vector<std::uint8_t>> all(static_cast<std::size_t>(size_));
    for (int r = 0; r < size_; ++r) {
        auto& bytes = all[static_cast<std::size_t>(r)];
        if (r == rank_) bytes.assign(mine.begin(), mine.end());
        else bytes.resize(sizes[static_cast<std::size_t>(r)]);
        broadcast_bytes(bytes.data(), bytes.size(), r, comm_);
        exchange_bytes_ += bytes.size();
    }
    exchange_seconds_ += MPI_Wtime() - start;
    return all;
}

}  // namespace signcut::mpi
