// An sct decomposition file written by every rank at once: the ranks of
// signcut-mpi compress each hold their own blocks' terms (decompose() with
// a team), and each writes them into place.
#pragma once

#include <cstdint>
#include <string>

#include <mpi.h>

#include "signcut/decomposition.hpp"
#include "signcut/hdf5.hpp"
#include "signcut/stored_layout.hpp"

namespace signcut::mpi {

/// Collective. Writes what write_decomposition(file, whole, provenance,
/// force, group) writes of the whole decomposition, the same datasets and
/// attributes bit for bit, where `d` holds this rank's own blocks (those
/// block_owner() gives it; the others may be empty) and `layout` places
/// every block (DecomposeReport::layout, the same on every rank).
///
/// Rank 0 owns the output: it makes the temporary (a new file, or a copy
/// of the existing one, as io::Hdf5Output does) and creates the group, its
/// attributes and its datasets, sized by the layout. Every rank then opens
/// it with MPI-IO and writes its own blocks' part of each dataset, one
/// collective write per dataset (a rank with no block joins with nothing),
/// and rank 0 renames it over the output once every rank has. Each phase
/// ends with an agreement (collective.hpp): a failure on any rank throws
/// the same AgreedError on every rank, and rank 0 removes the temporary.
///
/// Returns, on rank 0, the bytes of the new file, or with `group` those of
/// the decomposition alone (its group copied into a file of its own);
/// 0 on the other ranks.
std::uint64_t write_decomposition_together(MPI_Comm comm, const std::string& file, const std::string& group,
                                           bool force, const StoredLayout& layout, const SignedCutDecomposition& d,
                                           const Provenance& provenance);

}  // namespace signcut::mpi
