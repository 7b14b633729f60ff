// The ranks of an MPI communicator as a BlockTeam (signcut/block_team.hpp):
// the decomposer's exchanges of gains, errors and the file's layout.
#pragma once

#include <mpi.h>

#include "signcut/block_team.hpp"

namespace signcut::mpi {

class MpiTeam final : public BlockTeam {
public:
    explicit MpiTeam(MPI_Comm comm);
    std::size_t member() const override { return static_cast<std::size_t>(rank_); }
    std::size_t members() const override { return static_cast<std::size_t>(size_); }
    std::vector<std::vector<std::uint8_t>> all_gather(std::span<const std::uint8_t> mine,
                                                      const TeamFailure& failure) override;
    /// Seconds spent in the exchanges so far (for the scaling figures).
    double exchange_seconds() const noexcept { return exchange_seconds_; }
    /// Bytes this rank received in them (its own included).
    std::uint64_t exchange_bytes() const noexcept { return exchange_bytes_; }

private:
    MPI_Comm comm_;
    int rank_ = 0, size_ = 1;
    double exchange_seconds_ = 0;
    std::uint64_t exchange_bytes_ = 0;
};

}  // namespace signcut::mpi
