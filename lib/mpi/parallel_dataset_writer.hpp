// A float32 dataset of a new HDF5 file written by every rank at once with
// parallel HDF5: each rank writes its own rows along mode 0 as a hyperslab,
// in one collective transfer.
#pragma once

#include <cstddef>
#include <string>

#include <mpi.h>

#include "signcut/tensor.hpp"

namespace signcut::mpi {

/// Collective. Creates `file` (truncating it; in practice a temporary name
/// rank 0 chose) with MPI-IO, creates the contiguous float32 dataset
/// `dataset` of `shape` (no object times, so equal inputs give equal
/// bytes), and writes rows [first_row, first_row + rows) of mode 0 from
/// `values` (C order) on this rank; a rank with no rows writes nothing but
/// joins the transfer. Closes the file.
void write_rows_together(MPI_Comm comm, const std::string& file, const std::string& dataset, const Shape& shape,
                         std::size_t first_row, std::size_t rows, const float* values);

}  // namespace signcut::mpi
