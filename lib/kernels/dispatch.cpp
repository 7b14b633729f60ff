// Chooses a kernel table once, from arch.hpp's decision.
#include <fmt/format.h>

#include "signcut/error.hpp"
#include "signcut/kernels.hpp"
#include "tables.hpp"

namespace signcut::kernels {

const Table& for_arch(Arch a)
{
    if (!arch_supported(a))
        throw Error(errc::unsupported, fmt::format("the {} kernels cannot run on this CPU/OS (best available: {})",
                                                   arch_name(a), arch_name(best_arch())));
    switch (a) {
    case Arch::avx512: return detail::avx512_table();
    case Arch::avx2: return detail::avx2_table();
    case Arch::scalar: break;
    }
    return detail::scalar_table();
}

const Table& active() { return for_arch(active_arch()); }

}  // namespace signcut::kernels
