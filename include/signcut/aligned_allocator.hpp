// signcut: the allocator behind Tensor and the decomposer's working copies.
//
// Every buffer starts on a 64-byte boundary, so a 512-bit load never spans
// two cache lines (malloc puts large blocks 16 bytes past a page boundary,
// which halves streaming throughput on AVX-512 machines). Buffers of 4 MiB
// and more are also offered to the kernel for transparent huge pages: one
// page fault then maps 2 MiB instead of 4 KiB, and first-touching a large
// tensor costs a few milliseconds instead of thousands of faults.
#pragma once

#include "signcut/export.hpp"

#include <cstddef>
#include <limits>
#include <new>

namespace signcut {

namespace detail {
/// `bytes` uninitialised bytes at a 64-byte boundary; throws std::bad_alloc.
SIGNCUT_API void* allocate_aligned(std::size_t bytes);
/// Releases what allocate_aligned(bytes) returned (null is allowed).
SIGNCUT_API void free_aligned(void* p, std::size_t bytes) noexcept;
}  // namespace detail

/// A standard allocator over detail::allocate_aligned.
template <class T>
struct AlignedAllocator {
    using value_type = T;

    AlignedAllocator() noexcept = default;
    template <class U>
    AlignedAllocator(const AlignedAllocator<U>&) noexcept
    {
    }

    T* allocate(std::size_t n)
    {
        if (n > std::numeric_limits<std::size_t>::max() / sizeof(T)) throw std::bad_array_new_length();
        return static_cast<T*>(detail::allocate_aligned(n * sizeof(T)));
    }
    void deallocate(T* p, std::size_t n) noexcept { detail::free_aligned(p, n * sizeof(T)); }

    template <class U>
    struct rebind {
        using other = AlignedAllocator<U>;
    };
};

template <class T, class U>
bool operator==(const AlignedAllocator<T>&, const AlignedAllocator<U>&) noexcept
{
    return true;
}

}  // namespace signcut
