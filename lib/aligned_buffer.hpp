// Float buffers aligned to a cache line.
//
// malloc returns large blocks 16 bytes past a page boundary, so every
// 64-byte vector load from such a buffer straddles two cache lines; on this
// class of CPU that halves streaming throughput. The remainder copies, which
// every pass of the decomposer streams, are allocated here instead.
#pragma once

#include <cstddef>
#include <cstdlib>
#include <cstdint>
#include <memory>
#include <new>

namespace signcut::detail {

struct FreeDeleter {
    void operator()(float* p) const noexcept { std::free(p); }
};
using AlignedFloats = std::unique_ptr<float[], FreeDeleter>;

/// `n` uninitialised floats at a 64-byte boundary; throws std::bad_alloc.
inline AlignedFloats allocate_aligned_floats(std::size_t n)
{
    const std::size_t bytes = ((n * sizeof(float) + 63) / 64) * 64;
    void* p = std::aligned_alloc(64, bytes == 0 ? 64 : bytes);
    if (p == nullptr) throw std::bad_alloc();
    return AlignedFloats(static_cast<float*>(p));
}

inline bool is_aligned_64(const void* p) noexcept { return reinterpret_cast<std::uintptr_t>(p) % 64 == 0; }

}  // namespace signcut::detail
