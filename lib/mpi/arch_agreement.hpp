// One ISA on every rank: results are bit-identical for the same ISA only
// (float kernels may round their tails differently), so the ranks of a run
// agree on one before any work.
#pragma once

#include <mpi.h>

#include "signcut/arch.hpp"

namespace signcut::mpi {

/// Collective. With SIGNCUT_ARCH set, every rank checks that it can run it
/// (an error on any rank ends all). Otherwise the ranks take the lowest ISA
/// any of them has at its best (scalar < avx2 < avx512). Returns it, in use
/// on every rank.
Arch agree_on_arch(MPI_Comm comm);

}  // namespace signcut::mpi
