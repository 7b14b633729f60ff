// signcut: the default bound on what one command may hold in memory.
#pragma once

#include "signcut/export.hpp"

#include <cstdint>

namespace signcut {

/// 80 % of the machine's physical memory (sysconf), the default of
/// `--max-memory`. Falls back to 4 GiB if the OS does not say.
SIGNCUT_API std::uint64_t default_memory_limit();

/// What this process holds in memory now (its resident set, from
/// /proc/self/statm), or 0 where the OS does not say. A front end that
/// bounds the whole process subtracts it from the limit it hands the
/// decomposer, whose own accounting counts only what it allocates.
SIGNCUT_API std::uint64_t resident_bytes();

}  // namespace signcut
