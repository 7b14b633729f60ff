// signcut: the default bound on what one command may hold in memory.
#pragma once

#include "signcut/export.hpp"

#include <cstdint>

namespace signcut {

/// 80 % of the machine's physical memory (sysconf), the default of
/// `--max-memory`. Falls back to 4 GiB if the OS does not say.
SIGNCUT_API std::uint64_t default_memory_limit();

}  // namespace signcut
