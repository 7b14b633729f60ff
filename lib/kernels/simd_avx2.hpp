// AVX2 primitives for the generic kernels in simd_impl.hpp.
//
// Included only by avx2.cpp; the struct lives in that TU's namespace, so none
// of these inline functions can be shared with a translation unit built for
// another ISA (the xsimd functions it calls are templates on the xsimd
// architecture, which no other TU instantiates).
//
// The float operations are xsimd 8.1 batches on fma3<avx2> (AVX2 + FMA, the
// TU's flags: with plain xsimd::avx2, xsimd::fma would be a multiply and a
// separately rounded add). Raw intrinsics remain only where xsimd 8.1 has no
// operation for it: masked loads and stores of tails, the expansion of sign
// bits into lanes, the movemask of a comparison, and the horizontal sum
// (xsimd's hadd adds in another order, so results would change).
#pragma once

#include <immintrin.h>

#include <xsimd/xsimd.hpp>

#include <bit>
#include <cstddef>
#include <cstdint>

namespace signcut::kernels::avx2 {

struct Avx2 {
    using arch = xsimd::fma3<xsimd::avx2>;
    /// floats per vector; also the number of sign bits consumed per vector.
    static constexpr std::size_t lanes = 8;
    /// 64-bit words per integer vector.
    static constexpr std::size_t word_lanes = 4;

    using vf = xsimd::batch<float, arch>;
    using vw = __m256i;
    /// Which lanes to negate: bit 31 of each lane (AVX2 has no mask
    /// registers). The other bits are left as they come; `flip` masks them
    /// off and `select` (VBLENDVPS, which is what xsimd::select is on AVX)
    /// reads only bit 31.
    using signs = vf;
    static_assert(vf::size == lanes);

    static vf zero() noexcept { return vf(0.0f); }
    static vf set1(float x) noexcept { return vf(x); }
    static vf load(const float* p) noexcept { return vf::load_unaligned(p); }
    static void store(float* p, vf v) noexcept { v.store_unaligned(p); }

    static __m256i first(std::size_t n) noexcept
    {
        return _mm256_cmpgt_epi32(_mm256_set1_epi32(int(n)), _mm256_setr_epi32(0, 1, 2, 3, 4, 5, 6, 7));
    }
    /// The first n < lanes floats; the other lanes are zero and their memory
    /// is not touched (vmaskmov does not fault on masked-off lanes; xsimd 8.1
    /// has no masked load or store).
    static vf load_n(const float* p, std::size_t n) noexcept { return _mm256_maskload_ps(p, first(n)); }
    static void store_n(float* p, vf v, std::size_t n) noexcept { _mm256_maskstore_ps(p, first(n), v); }

    static vf add(vf a, vf b) noexcept { return a + b; }
    static vf mul(vf a, vf b) noexcept { return a * b; }
    /// a * b + c with one rounding (VFMADD on fma3<avx2>).
    static vf fmadd(vf a, vf b, vf c) noexcept { return xsimd::fma(a, b, c); }

    static vf sign_bit() noexcept { return vf(-0.0f); }

    /// Lane k takes bit k of `bits` (bits past `lanes` are ignored): a
    /// variable shift moves bit k of the broadcast word to bit 31 of lane k.
    static signs signs_of(std::uint64_t bits) noexcept
    {
        const __m256i b = _mm256_set1_epi32(static_cast<int>(bits));
        const __m256i to_top = _mm256_setr_epi32(31, 30, 29, 28, 27, 26, 25, 24);
        return _mm256_castsi256_ps(_mm256_sllv_epi32(b, to_top));
    }
    /// The eight 8-lane slices of one 64-bit sign word: two broadcasts, then
    /// one shift per slice (slice q of each 32-bit half shifts lane k by
    /// 31 - 8q - k).
    static void signs_of_word(std::uint64_t w, signs (&out)[8]) noexcept
    {
        const __m256i lo = _mm256_set1_epi32(static_cast<int>(static_cast<std::uint32_t>(w)));
        const __m256i hi = _mm256_set1_epi32(static_cast<int>(static_cast<std::uint32_t>(w >> 32)));
        for (int q = 0; q < 4; ++q) {
            const int t = 31 - 8 * q;
            const __m256i sh = _mm256_setr_epi32(t, t - 1, t - 2, t - 3, t - 4, t - 5, t - 6, t - 7);
            out[q] = _mm256_castsi256_ps(_mm256_sllv_epi32(lo, sh));
            out[q + 4] = _mm256_castsi256_ps(_mm256_sllv_epi32(hi, sh));
        }
    }
    /// v with the lanes named by `s` negated (XOR of the sign bit: exact).
    static vf flip(vf v, signs s) noexcept { return v ^ (s & sign_bit()); }
    /// nv where `s` names the lane, v elsewhere: with nv = -v, the same as
    /// flip(v, s) in one instruction when nv is shared.
    static vf select(vf v, vf nv, signs s) noexcept
    {
        return xsimd::select(xsimd::batch_bool<float, arch>(static_cast<__m256>(s)), nv, v);
    }
    static vf flip_all(vf v, bool negative) noexcept
    {
        // The sign bit from the flag by a shift, not a branch between two constants.
        return v ^ vf(std::bit_cast<float>(static_cast<std::uint32_t>(negative) << 31));
    }

    /// Bit k set iff lane k is < 0 (false for -0 and NaN).
    static std::uint64_t negative_bits(vf v) noexcept
    {
        return static_cast<std::uint32_t>(_mm256_movemask_ps(v < zero()));
    }

    /// Horizontal sum in a fixed order (halves folded onto each other).
    static float hsum(vf v) noexcept
    {
        const __m256 r = v;
        __m128 q = _mm_add_ps(_mm256_castps256_ps128(r), _mm256_extractf128_ps(r, 1));
        q = _mm_add_ps(q, _mm_movehl_ps(q, q));
        q = _mm_add_ss(q, _mm_movehdup_ps(q));
        return _mm_cvtss_f32(q);
    }

    // --- 64-bit word vectors (kron) ---
    static __m256i first_words(std::size_t n) noexcept
    {
        return _mm256_cmpgt_epi64(_mm256_set1_epi64x(static_cast<long long>(n)), _mm256_setr_epi64x(0, 1, 2, 3));
    }
    static vw wload(const std::uint64_t* p) noexcept { return _mm256_loadu_si256(reinterpret_cast<const __m256i*>(p)); }
    static vw wload_n(const std::uint64_t* p, std::size_t n) noexcept
    {
        return _mm256_maskload_epi64(reinterpret_cast<const long long*>(p), first_words(n));
    }
    static void wstore(std::uint64_t* p, vw v) noexcept { _mm256_storeu_si256(reinterpret_cast<__m256i*>(p), v); }
    static void wstore_n(std::uint64_t* p, vw v, std::size_t n) noexcept
    {
        _mm256_maskstore_epi64(reinterpret_cast<long long*>(p), first_words(n), v);
    }
    static vw wset1(std::uint64_t x) noexcept { return _mm256_set1_epi64x(static_cast<long long>(x)); }
    static vw wxor(vw a, vw b) noexcept { return _mm256_xor_si256(a, b); }
    /// Lane t: (cur[t] << o) | (prev_word(t) >> (64 - o)), where prev_word(0)
    /// is the last lane of `prev` and prev_word(t) = cur[t-1] otherwise. A
    /// shift count of 64 yields zero, so o = 0 needs no special case.
    static vw shift_in(vw cur, vw prev, unsigned o) noexcept
    {
        const vw before = _mm256_blend_epi32(_mm256_permute4x64_epi64(cur, _MM_SHUFFLE(2, 1, 0, 0)),
                                             _mm256_permute4x64_epi64(prev, _MM_SHUFFLE(3, 3, 3, 3)), 0x03);
        return _mm256_or_si256(_mm256_sll_epi64(cur, _mm_cvtsi32_si128(int(o))),
                               _mm256_srl_epi64(before, _mm_cvtsi32_si128(int(64 - o))));
    }
    static std::uint64_t wlane(vw v, std::size_t t) noexcept
    {
        alignas(32) std::uint64_t tmp[4];
        _mm256_store_si256(reinterpret_cast<__m256i*>(tmp), v);
        return tmp[t];
    }
};

}  // namespace signcut::kernels::avx2
