// Aligned allocation, with transparent huge pages for large buffers.
#include "signcut/aligned_allocator.hpp"

#include <cstdint>
#include <cstdlib>

#if defined(__linux__)
#include <sys/mman.h>
#endif

namespace signcut::detail {

namespace {
constexpr std::size_t cache_line = 64;
constexpr std::size_t huge_page = std::size_t{2} << 20;
// Below this, huge pages save little and the 2 MiB alignment wastes address
// space; above it, first-touch page faults are a measurable part of a pass.
constexpr std::size_t huge_threshold = std::size_t{32} << 20;
}  // namespace

void* allocate_aligned(std::size_t bytes)
{
    const bool huge = bytes >= huge_threshold;
    const std::size_t alignment = huge ? huge_page : cache_line;
    // aligned_alloc wants a multiple of the alignment. Rounding up adds
    // address space only: pages past `bytes` are never touched.
    const std::size_t rounded = (bytes + alignment - 1) / alignment * alignment;
    if (rounded < bytes) throw std::bad_alloc();
    void* p = std::aligned_alloc(alignment, rounded == 0 ? alignment : rounded);
    if (p == nullptr) throw std::bad_alloc();
#if defined(__linux__) && defined(MADV_HUGEPAGE)
    // Only whole huge pages inside the buffer are advised, so the resident
    // size never exceeds what is touched by more than the 4 KiB rounding.
    // Advice, not a requirement: a kernel without THP ignores it.
    if (huge) madvise(p, bytes / huge_page * huge_page, MADV_HUGEPAGE);
#endif
    return p;
}

void free_aligned(void* p) noexcept { std::free(p); }

}  // namespace signcut::detail
