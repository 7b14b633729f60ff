// An sct decomposition rebuilt by every rank at once into one HDF5 dataset:
// decompress_in_slabs (signcut/decomposition_files.hpp) shared between the
// ranks of signcut-mpi decompress.
#pragma once

#include <cstdint>
#include <string>

#include <mpi.h>

#include "signcut/decomposition_files.hpp"

namespace signcut::mpi {

/// Collective. Does what decompress_in_slabs(path, output, dataset,
/// options) does — the same checks, conversions and values bit for bit,
/// the same file — with the slabs shared between the ranks: each rank
/// rebuilds the slabs of its own block rows (owned_block_rows, as
/// signcut-mpi compress shares them), one slab at a time, and the ranks
/// write them together, one collective write per round (a rank with fewer
/// slabs joins the remaining rounds with nothing to write). The memory
/// limit holds per rank: the widths and one slab of its own, plus, for a
/// stored type other than the one rebuilt (integers, float16), the slab
/// converted.
///
/// Rank 0 owns the output: it makes the temporary file (a new HDF5 file,
/// or with `options.into_existing` a copy of the existing one, as
/// io::Hdf5Output does), which every rank then opens with MPI-IO, and
/// renames it over the output once every rank has written its share. Each
/// phase ends with an agreement (collective.hpp): a failure on any rank
/// throws the same AgreedError on every rank, and rank 0 removes the
/// temporary. `options.check_float32` and `check_float64` run on the rank
/// that rebuilt the slab. Returns the shape written; `rounds`, if given,
/// receives the number of collective writes (the most slabs any rank had).
Shape decompress_in_slabs_together(MPI_Comm comm, const std::string& path, const std::string& output,
                                   const std::string& dataset, const SlabDecompression& options,
                                   std::uint64_t* rounds = nullptr);

}  // namespace signcut::mpi
