// An HDF5 dataset read through MPI-IO (parallel HDF5): the RowSource each
// rank decomposes its blocks from.
#pragma once

#include <memory>
#include <string>

#include <mpi.h>

#include "signcut/row_source.hpp"

namespace signcut::mpi {

/// Collective (every rank opens the file together, with MPI-IO). Each rank
/// then reads the slabs of its own block rows on its own (independent
/// transfers: ranks own different numbers of slabs, and a collective read
/// would make each wait for the others' rows), with the conversions and
/// checks of open_dataset_rows(). Destroying it is collective too.
std::unique_ptr<RowSource> open_parallel_dataset_rows(MPI_Comm comm, const std::string& file,
                                                      const std::string& dataset, std::string* original_dtype);

}  // namespace signcut::mpi
