// What every signcut-mpi command starts with: this rank's place in the
// communicator, a start time the ranks share, and the one terminal that
// speaks for them.
#pragma once

#include <mpi.h>

#include "terminal.hpp"

namespace signcut::cli {

struct RankContext {
    /// Collective: the ranks meet before the clock starts, so the times a
    /// command reports leave out how unevenly MPI started them. Only rank 0
    /// speaks; the others' warnings would repeat its own.
    RankContext(MPI_Comm comm, bool quiet, bool json) : comm(comm)
    {
        MPI_Comm_rank(comm, &rank);
        MPI_Comm_size(comm, &size);
        MPI_Barrier(comm);
        start = MPI_Wtime();
        terminal = Terminal::detect(quiet || rank != 0, json);
    }
    bool first() const noexcept { return rank == 0; }
    /// Seconds since the shared start.
    double seconds() const { return MPI_Wtime() - start; }

    MPI_Comm comm;
    int rank = 0;
    int size = 1;
    double start = 0;
    Terminal terminal;
};

}  // namespace signcut::cli
