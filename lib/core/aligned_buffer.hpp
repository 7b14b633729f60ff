// Float buffers for the decomposer's working copies, allocated like a
// Tensor's (see signcut/aligned_allocator.hpp): 64-byte aligned, with huge
// pages when large.
#pragma once

#include <cstddef>
#include <cstdint>
#include <memory>

#include "signcut/aligned_allocator.hpp"

namespace signcut::detail {

struct FreeDeleter {
    std::size_t bytes = 0;
    void operator()(float* p) const noexcept { free_aligned(p, bytes); }
};
using AlignedFloats = std::unique_ptr<float[], FreeDeleter>;

/// `n` uninitialised floats at a 64-byte boundary; throws std::bad_alloc.
inline AlignedFloats allocate_aligned_floats(std::size_t n)
{
    if (n > SIZE_MAX / sizeof(float)) throw std::bad_alloc();
    return AlignedFloats(static_cast<float*>(allocate_aligned(n * sizeof(float))), FreeDeleter{n * sizeof(float)});
}

inline bool is_aligned_64(const void* p) noexcept { return reinterpret_cast<std::uintptr_t>(p) % 64 == 0; }

}  // namespace signcut::detail
