// A hint for spin-wait loops, kept here so that processor intrinsics stay in
// lib/kernels. Header-only: it is used by the core's worker pool, compiled
// without any ISA flag (PAUSE is part of SSE2, which every x86-64 has).
#pragma once

#if defined(__x86_64__) || defined(__i386__)
#include <immintrin.h>
#endif

namespace signcut::kernels {

/// Tells the CPU that the caller is spinning on a shared variable (x86
/// PAUSE: saves power and avoids a memory-order mis-speculation on exit);
/// does nothing on other processors.
inline void spin_pause() noexcept
{
#if defined(__x86_64__) || defined(__i386__)
    _mm_pause();
#endif
}

}  // namespace signcut::kernels
