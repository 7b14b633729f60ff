// The subcommands of `signcut-mpi`, each run by every rank of a communicator.
#pragma once

#include <mpi.h>

#include "commands.hpp"

namespace signcut::cli {

/// `signcut-mpi compress`: the blocks shared between the ranks, the file
/// written by rank 0; the same file as `signcut compress` with the same
/// options (except @created). Returns the exit status (0) on every rank;
/// failures throw mpi::AgreedError on every rank alike.
int run_parallel_compress(const CompressOptions& o, MPI_Comm comm);

/// `signcut-mpi decompress`: each rank rebuilds its block rows and the
/// ranks write the float32 dataset of a new file together (collective
/// hyperslab writes); the values are those of `signcut decompress`.
int run_parallel_decompress(const DecompressOptions& o, MPI_Comm comm);

}  // namespace signcut::cli
