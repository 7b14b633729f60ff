// The default memory limit.
#include <unistd.h>

#include <cstdint>
#include <cstdio>

#include "signcut/hdf5.hpp"

namespace signcut {

std::uint64_t default_memory_limit()
{
    const long pages = ::sysconf(_SC_PHYS_PAGES);
    const long page_size = ::sysconf(_SC_PAGESIZE);
    if (pages <= 0 || page_size <= 0) return std::uint64_t{4} << 30;
    const unsigned __int128 total = static_cast<unsigned __int128>(pages) * static_cast<unsigned long>(page_size);
    const unsigned __int128 limit = total / 5 * 4;
    return limit > UINT64_MAX ? UINT64_MAX : static_cast<std::uint64_t>(limit);
}

std::uint64_t resident_bytes()
{
    // statm: total program size, then the resident set, both in pages.
    std::FILE* f = std::fopen("/proc/self/statm", "r");
    if (f == nullptr) return 0;
    unsigned long long size = 0, resident = 0;
    const int got = std::fscanf(f, "%llu %llu", &size, &resident);
    std::fclose(f);
    const long page_size = ::sysconf(_SC_PAGESIZE);
    if (got != 2 || page_size <= 0) return 0;
    return static_cast<std::uint64_t>(resident) * static_cast<std::uint64_t>(page_size);
}

}  // namespace signcut
