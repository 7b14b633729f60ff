// AVX-512 (F+BW+DQ+VL) primitives for the generic kernels in simd_impl.hpp.
//
// Included only by avx512.cpp; the struct lives in that TU's namespace, so
// none of these inline functions can be shared with a translation unit built
// for a smaller ISA (the xsimd functions it calls are templates on the xsimd
// architecture, which no other TU instantiates).
//
// The float operations are xsimd 8.1 batches on avx512bw. Raw intrinsics
// remain only where xsimd 8.1 has no operation for it: masked loads and
// stores of tails, the masked XOR that applies signs, the fused multiply-add
// (xsimd 8.1 has no AVX-512 fma: xsimd::fma would be a multiply and a
// separately rounded add), and the horizontal sum (xsimd's hadd adds in
// another order, so results would change).
#pragma once

// GCC 12's AVX-512 intrinsics (extract, shifts by a vector count, alignr, ...)
// start from a deliberately undefined register (`__Y = __Y`) that it then
// reports as uninitialised wherever they are inlined (GCC bug 105593, fixed
// in later releases). The warning is located in the header, so silencing it
// for the header's own lines hides nothing of ours. This header must be the
// first to include <immintrin.h> (xsimd includes it too).
#pragma GCC diagnostic push
#pragma GCC diagnostic ignored "-Wuninitialized"
#pragma GCC diagnostic ignored "-Wmaybe-uninitialized"
#include <immintrin.h>
#pragma GCC diagnostic pop

#include <xsimd/xsimd.hpp>

#include <bit>
#include <cstddef>
#include <cstdint>

namespace signcut::kernels::avx512 {

struct Avx512 {
    using arch = xsimd::avx512bw;
    /// floats per vector; also the number of sign bits consumed per vector.
    static constexpr std::size_t lanes = 16;
    /// 64-bit words per integer vector.
    static constexpr std::size_t word_lanes = 8;

    using vf = xsimd::batch<float, arch>;
    using vw = __m512i;
    /// Which lanes to negate. A 16-bit slice of a packed sign column already
    /// has this form, so no expansion is needed.
    using signs = __mmask16;
    static_assert(vf::size == lanes);

    static vf zero() noexcept { return vf(0.0f); }
    static vf set1(float x) noexcept { return vf(x); }
    static vf load(const float* p) noexcept { return vf::load_unaligned(p); }
    static void store(float* p, vf v) noexcept { v.store_unaligned(p); }

    static __mmask16 first(std::size_t n) noexcept { return static_cast<__mmask16>(_bzhi_u32(0xffffu, unsigned(n))); }
    /// The first n < lanes floats; the other lanes are zero and their memory
    /// is not touched (masked-off lanes of a masked load cannot fault).
    static vf load_n(const float* p, std::size_t n) noexcept { return _mm512_maskz_loadu_ps(first(n), p); }
    static void store_n(float* p, vf v, std::size_t n) noexcept { _mm512_mask_storeu_ps(p, first(n), v); }

    static vf add(vf a, vf b) noexcept { return a + b; }
    static vf mul(vf a, vf b) noexcept { return a * b; }
    /// a * b + c with one rounding.
    static vf fmadd(vf a, vf b, vf c) noexcept { return _mm512_fmadd_ps(a, b, c); }

    /// Lane k takes bit k of `bits` (bits past `lanes` are ignored).
    static signs signs_of(std::uint64_t bits) noexcept { return static_cast<__mmask16>(bits); }
    /// The four 16-lane slices of one 64-bit sign word.
    static void signs_of_word(std::uint64_t w, signs (&out)[4]) noexcept
    {
        out[0] = static_cast<__mmask16>(w);
        out[1] = static_cast<__mmask16>(w >> 16);
        out[2] = static_cast<__mmask16>(w >> 32);
        out[3] = static_cast<__mmask16>(w >> 48);
    }
    /// v with the lanes named by `s` negated (XOR of the sign bit: exact, one
    /// masked op; xsimd has no masked operations).
    static vf flip(vf v, signs s) noexcept
    {
        return _mm512_mask_xor_ps(v, s, v, _mm512_castsi512_ps(_mm512_set1_epi32(INT32_MIN)));
    }
    /// nv where `s` names the lane, v elsewhere (with nv = -v: flip(v, s)).
    static vf select(vf v, vf nv, signs s) noexcept { return xsimd::select(xsimd::batch_bool<float, arch>(s), nv, v); }
    /// v negated in every lane when `negative`.
    static vf flip_all(vf v, bool negative) noexcept
    {
        // The sign bit from the flag by a shift, not a branch between two constants.
        return v ^ vf(std::bit_cast<float>(static_cast<std::uint32_t>(negative) << 31));
    }

    /// Bit k set iff lane k is < 0 (false for -0 and NaN).
    static std::uint64_t negative_bits(vf v) noexcept
    {
        return static_cast<__mmask16>(v < zero());
    }

    /// Horizontal sum in a fixed order (halves folded onto each other).
    static float hsum(vf v) noexcept
    {
        const __m512 r = v;
        const __m256 h = _mm256_add_ps(_mm512_castps512_ps256(r),
                                       _mm256_castpd_ps(_mm512_extractf64x4_pd(_mm512_castps_pd(r), 1)));
        __m128 q = _mm_add_ps(_mm256_castps256_ps128(h), _mm256_extractf128_ps(h, 1));
        q = _mm_add_ps(q, _mm_movehl_ps(q, q));
        q = _mm_add_ss(q, _mm_movehdup_ps(q));
        return _mm_cvtss_f32(q);
    }

    // --- 64-bit word vectors (kron) ---
    static __mmask8 first_words(std::size_t n) noexcept { return static_cast<__mmask8>(_bzhi_u32(0xffu, unsigned(n))); }
    static vw wload(const std::uint64_t* p) noexcept { return _mm512_loadu_si512(p); }
    static vw wload_n(const std::uint64_t* p, std::size_t n) noexcept
    {
        return _mm512_maskz_loadu_epi64(first_words(n), p);
    }
    static void wstore(std::uint64_t* p, vw v) noexcept { _mm512_storeu_si512(p, v); }
    static void wstore_n(std::uint64_t* p, vw v, std::size_t n) noexcept
    {
        _mm512_mask_storeu_epi64(p, first_words(n), v);
    }
    static vw wset1(std::uint64_t x) noexcept { return _mm512_set1_epi64(static_cast<long long>(x)); }
    static vw wxor(vw a, vw b) noexcept { return _mm512_xor_si512(a, b); }
    /// Lane t: (cur[t] << o) | (prev_word(t) >> (64 - o)), where prev_word(0)
    /// is the last lane of `prev` and prev_word(t) = cur[t-1] otherwise. A
    /// shift count of 64 yields zero, so o = 0 needs no special case.
    static vw shift_in(vw cur, vw prev, unsigned o) noexcept
    {
        const vw before = _mm512_alignr_epi64(cur, prev, 7);
        return _mm512_or_si512(_mm512_sll_epi64(cur, _mm_cvtsi32_si128(int(o))),
                               _mm512_srl_epi64(before, _mm_cvtsi32_si128(int(64 - o))));
    }
    static std::uint64_t wlane(vw v, std::size_t t) noexcept
    {
        alignas(64) std::uint64_t tmp[8];
        _mm512_store_si512(tmp, v);
        return tmp[t];
    }
};

}  // namespace signcut::kernels::avx512
