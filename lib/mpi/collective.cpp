#include "collective.hpp"

#include <cstdint>
#include <new>
#include <vector>

namespace signcut::mpi {

TeamFailure failure_of(std::exception_ptr e)
{
    try {
        std::rethrow_exception(e);
    } catch (const Error& err) {
        return {true, err.code(), err.what()};
    } catch (const std::bad_alloc&) {
        return {true, errc::limit, "out of memory (lower the input size or raise --max-memory)"};
    } catch (const std::exception& err) {
        return {true, errc::io, err.what()};
    } catch (...) {
        return {true, errc::io, "an unknown failure"};
    }
}

void raise_if_any_failed(MPI_Comm comm, const TeamFailure& failure)
{
    int rank = 0, size = 1;
    MPI_Comm_rank(comm, &rank);
    MPI_Comm_size(comm, &size);
    // The lowest failing rank, or `size` when none failed.
    const int mine = failure.failed ? rank : size;
    int first = size;
    MPI_Allreduce(&mine, &first, 1, MPI_INT, MPI_MIN, comm);
    if (first == size) return;
    // The message and its code travel from the rank that failed first.
    std::int32_t code = static_cast<std::int32_t>(failure.code);
    std::uint64_t length = failure.message.size();
    MPI_Bcast(&code, 1, MPI_INT32_T, first, comm);
    MPI_Bcast(&length, 1, MPI_UINT64_T, first, comm);
    std::string message = rank == first ? failure.message : std::string(length, '\0');
    MPI_Bcast(message.data(), static_cast<int>(length), MPI_CHAR, first, comm);
    throw AgreedError(static_cast<errc>(code), message, first);
}

void broadcast_text(MPI_Comm comm, std::string& text)
{
    std::uint64_t length = text.size();
    MPI_Bcast(&length, 1, MPI_UINT64_T, 0, comm);
    text.resize(static_cast<std::size_t>(length));
    MPI_Bcast(text.data(), static_cast<int>(length), MPI_CHAR, 0, comm);
}

void agree(MPI_Comm comm, const std::function<void()>& phase)
{
    TeamFailure failure;
    try {
        phase();
    } catch (const AgreedError&) {
        // Every rank already knows it (a team's exchange agreed on it):
        // another round would wait for ranks that have left.
        throw;
    } catch (...) {
        failure = failure_of(std::current_exception());
    }
    raise_if_any_failed(comm, failure);
}

}  // namespace signcut::mpi
