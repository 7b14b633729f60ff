// Agreeing on success: how one rank's failure ends every rank of a run.
//
// Every phase of `signcut-mpi` that can fail on one rank alone (a slab that
// cannot be read, a value that is not finite, a full disk) ends with an
// agreement: each rank says whether it failed, and if any did, every rank
// throws the same error, that of the lowest failing rank. No rank then waits
// in a collective call that another has left, and the message is known to
// every rank, so the front end prints it once (rank 0).
#pragma once

#include <functional>
#include <string>

#include <mpi.h>

#include "signcut/block_team.hpp"
#include "signcut/error.hpp"

namespace signcut::mpi {

/// An error every rank of the communicator knows of and throws alike.
class AgreedError : public Error {
public:
    AgreedError(errc code, const std::string& message, int origin) : Error(code, message), origin_(origin) {}
    /// The rank that failed first.
    int origin() const noexcept { return origin_; }

private:
    int origin_;
};

/// Collective: throws AgreedError on every rank if any rank's `failure` is
/// set, carrying the failure of the lowest such rank.
void raise_if_any_failed(MPI_Comm comm, const TeamFailure& failure);

/// Collective: runs `phase` on every rank, catches what it throws, and then
/// agrees as raise_if_any_failed() does.
void agree(MPI_Comm comm, const std::function<void()>& phase);

/// Collective: rank 0's `text` on every rank.
void broadcast_text(MPI_Comm comm, std::string& text);

/// The failure an exception in flight describes.
TeamFailure failure_of(std::exception_ptr e);

}  // namespace signcut::mpi
