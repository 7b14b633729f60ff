#include "arch_agreement.hpp"

#include <cstdlib>

#include "collective.hpp"

namespace signcut::mpi {

Arch agree_on_arch(MPI_Comm comm)
{
    const char* forced = std::getenv("SIGNCUT_ARCH");
    int mine = 0;
    agree(comm, [&] {
        // active_arch() checks a forced ISA against this CPU, and otherwise
        // gives this rank's best.
        mine = static_cast<int>(forced != nullptr && *forced != '\0' ? active_arch() : best_arch());
    });
    int lowest = mine;
    MPI_Allreduce(&mine, &lowest, 1, MPI_INT, MPI_MIN, comm);
    const auto arch = static_cast<Arch>(lowest);
    set_active_arch(arch);
    return arch;
}

}  // namespace signcut::mpi
