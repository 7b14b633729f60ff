// The reference every "passes" figure divides by: the time of one
// single-threaded streaming read of a buffer, taken as the median of five
// sums with independent accumulators, in the widest vector unit the CPU has
// (so the adds never limit it).
#pragma once

#include <immintrin.h>

#include <algorithm>
#include <chrono>
#include <cstdlib>
#include <cstddef>
#include <numeric>
#include <vector>

#include "signcut/arch.hpp"

namespace signcut::bench {

inline volatile float stream_sink;

inline float sum_sse2(const float* p, std::size_t n)
{
    __m128 a[8];
    for (auto& v : a) v = _mm_setzero_ps();
    std::size_t i = 0;
    for (; i + 32 <= n; i += 32)
        for (int k = 0; k < 8; ++k) a[k] = _mm_add_ps(a[k], _mm_loadu_ps(p + i + 4 * k));
    float out[4];
    _mm_storeu_ps(out, _mm_add_ps(_mm_add_ps(_mm_add_ps(a[0], a[1]), _mm_add_ps(a[2], a[3])),
                                  _mm_add_ps(_mm_add_ps(a[4], a[5]), _mm_add_ps(a[6], a[7]))));
    return std::accumulate(out, out + 4, 0.0f) + std::accumulate(p + i, p + n, 0.0f);
}

[[gnu::target("avx512f")]] inline float sum_avx512(const float* p, std::size_t n)
{
    __m512 a[8];
    for (auto& v : a) v = _mm512_setzero_ps();
    std::size_t i = 0;
    for (; i + 128 <= n; i += 128)
        for (int k = 0; k < 8; ++k) a[k] = _mm512_add_ps(a[k], _mm512_loadu_ps(p + i + 16 * k));
    __m512 s = _mm512_add_ps(_mm512_add_ps(_mm512_add_ps(a[0], a[1]), _mm512_add_ps(a[2], a[3])),
                             _mm512_add_ps(_mm512_add_ps(a[4], a[5]), _mm512_add_ps(a[6], a[7])));
    return _mm512_reduce_add_ps(s) + std::accumulate(p + i, p + n, 0.0f);
}

/// Median of `reps` timings of f().
template <class F>
double median_seconds(F&& f, int reps = 5)
{
    std::vector<double> t;
    for (int r = 0; r < reps; ++r) {
        const auto t0 = std::chrono::steady_clock::now();
        f();
        t.push_back(std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count());
    }
    std::sort(t.begin(), t.end());
    return t[t.size() / 2];
}

/// Seconds for one streaming read of n floats (median of 5), taken on a
/// 64-byte-aligned copy of the data, as the decomposer's own copies are:
/// unaligned 64-byte loads straddle cache lines and would understate the
/// machine's bandwidth.
inline double stream_read_seconds(const float* p, std::size_t n)
{
    const std::size_t bytes = ((n * sizeof(float) + 63) / 64) * 64;
    float* a = static_cast<float*>(std::aligned_alloc(64, bytes));
    std::copy(p, p + n, a);
    const bool wide = arch_supported(Arch::avx512);
    const double t = median_seconds([&] { stream_sink = wide ? sum_avx512(a, n) : sum_sse2(a, n); });
    std::free(a);
    return t;
}

}  // namespace signcut::bench
