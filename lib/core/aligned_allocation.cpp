// Aligned allocation, with transparent huge pages for large buffers.
#include "signcut/aligned_allocator.hpp"

#include <cstdint>
#include <cstdlib>
#include <new>

#if defined(__linux__)
#include <sys/mman.h>
#endif

namespace signcut::detail {

namespace {
constexpr std::size_t cache_line = 64;
constexpr std::size_t page = 4096;
constexpr std::size_t huge_page = std::size_t{2} << 20;
// Below this, huge pages save little and the 2 MiB alignment wastes address
// space; above it, first-touch page faults are a measurable part of a pass.
constexpr std::size_t huge_threshold = std::size_t{4} << 20;
}  // namespace

void* allocate_aligned(std::size_t bytes)
{
#if defined(__linux__)
    if (bytes >= huge_threshold) {
        // mmap directly rather than aligned_alloc: a 2 MiB alignment through
        // malloc leaves up to 2 MiB of slack before the buffer that malloc
        // may touch (MALLOC_PERTURB_ fills it), and munmap returns the pages
        // at once on release. The mapping is trimmed to the aligned buffer.
        const std::size_t len = (bytes + page - 1) / page * page;
        if (len < bytes || len > SIZE_MAX - huge_page) throw std::bad_alloc();
        const std::size_t span = len + huge_page;
        void* base = mmap(nullptr, span, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
        if (base == MAP_FAILED) throw std::bad_alloc();
        const auto b = reinterpret_cast<std::uintptr_t>(base);
        const std::uintptr_t p = (b + huge_page - 1) / huge_page * huge_page;
        if (p > b) munmap(base, p - b);
        if (b + span > p + len) munmap(reinterpret_cast<void*>(p + len), b + span - (p + len));
        // Only whole huge pages inside the buffer are advised, so the
        // resident size never exceeds what is touched by more than 4 KiB.
        // Advice, not a requirement: a kernel without THP ignores it.
        madvise(reinterpret_cast<void*>(p), bytes / huge_page * huge_page, MADV_HUGEPAGE);
        return reinterpret_cast<void*>(p);
    }
#endif
    const std::size_t rounded = (bytes + cache_line - 1) / cache_line * cache_line;
    if (rounded < bytes) throw std::bad_alloc();
    void* p = std::aligned_alloc(cache_line, rounded == 0 ? cache_line : rounded);
    if (p == nullptr) throw std::bad_alloc();
    return p;
}

void free_aligned(void* p, std::size_t bytes) noexcept
{
    if (p == nullptr) return;
#if defined(__linux__)
    if (bytes >= huge_threshold) {
        munmap(p, (bytes + page - 1) / page * page);
        return;
    }
#endif
    std::free(p);
}

}  // namespace signcut::detail
