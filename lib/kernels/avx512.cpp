// The AVX-512 kernels (F+BW+DQ+VL; VPOPCNTDQ only behind its own cpuid bit).
//
// The float kernels are the generic ones of simd_impl.hpp on 16-lane
// vectors, where a 16-bit slice of a packed sign column is directly the lane
// mask of a masked XOR. sign_dots is written here: it counts differing bits
// with VPOPCNTQ where the CPU has it, with a nibble lookup (VPSHUFB) where it
// does not, the choice being made once when the table is built.
#include "simd_avx512.hpp"  // first: it includes <immintrin.h> (see there)

#include <bit>
#include <cstddef>
#include <cstdint>

#define SIGNCUT_KERNEL_NS avx512
#include "avx512_variants.hpp"
#include "simd_impl.hpp"
#include "tables.hpp"

#include "signcut/arch.hpp"

namespace signcut::kernels::avx512 {
namespace {

using V = Avx512;

// Per-byte popcount by two 16-entry lookups (one per nibble), summed into
// the eight 64-bit lanes by VPSADBW.
inline __m512i popcount_nibbles(__m512i v)
{
    // Bytes 0..15 of every 128-bit lane: popcount(0) .. popcount(15).
    const __m512i lut = _mm512_set4_epi64(0x0403030203020201, 0x0302020102010100, 0x0403030203020201,
                                          0x0302020102010100);
    const __m512i nib = _mm512_set1_epi8(0x0f);
    const __m512i lo = _mm512_and_si512(v, nib);
    const __m512i hi = _mm512_and_si512(_mm512_srli_epi16(v, 4), nib);
    const __m512i bytes = _mm512_add_epi8(_mm512_shuffle_epi8(lut, lo), _mm512_shuffle_epi8(lut, hi));
    return _mm512_sad_epu8(bytes, _mm512_setzero_si512());
}

// Number of differing bits between s and col over nw words. The two
// versions differ only in the popcount instruction; VPOPCNTQ cannot be
// reached through a shared inline helper, because GCC refuses to inline a
// function with a wider target into one without it.
std::uint64_t differing_bits_lut(const std::uint64_t* s, const std::uint64_t* col, std::size_t nw)
{
    __m512i acc0 = _mm512_setzero_si512(), acc1 = _mm512_setzero_si512();
    std::size_t w = 0;
    for (; w + 16 <= nw; w += 16) {
        acc0 = _mm512_add_epi64(acc0, popcount_nibbles(_mm512_xor_si512(V::wload(s + w), V::wload(col + w))));
        acc1 = _mm512_add_epi64(acc1,
                                popcount_nibbles(_mm512_xor_si512(V::wload(s + w + 8), V::wload(col + w + 8))));
    }
    for (; w + 8 <= nw; w += 8)
        acc0 = _mm512_add_epi64(acc0, popcount_nibbles(_mm512_xor_si512(V::wload(s + w), V::wload(col + w))));
    if (const std::size_t n = nw - w; n != 0)
        acc1 = _mm512_add_epi64(acc1,
                                popcount_nibbles(_mm512_xor_si512(V::wload_n(s + w, n), V::wload_n(col + w, n))));
    return static_cast<std::uint64_t>(_mm512_reduce_add_epi64(_mm512_add_epi64(acc0, acc1)));
}

[[gnu::target("avx512vpopcntdq")]] std::uint64_t differing_bits_vpopcntdq(const std::uint64_t* s,
                                                                          const std::uint64_t* col, std::size_t nw)
{
    __m512i acc0 = _mm512_setzero_si512(), acc1 = _mm512_setzero_si512();
    std::size_t w = 0;
    for (; w + 16 <= nw; w += 16) {
        acc0 = _mm512_add_epi64(acc0, _mm512_popcnt_epi64(_mm512_xor_si512(V::wload(s + w), V::wload(col + w))));
        acc1 = _mm512_add_epi64(acc1,
                                _mm512_popcnt_epi64(_mm512_xor_si512(V::wload(s + w + 8), V::wload(col + w + 8))));
    }
    for (; w + 8 <= nw; w += 8)
        acc0 = _mm512_add_epi64(acc0, _mm512_popcnt_epi64(_mm512_xor_si512(V::wload(s + w), V::wload(col + w))));
    if (const std::size_t n = nw - w; n != 0)
        acc1 = _mm512_add_epi64(acc1,
                                _mm512_popcnt_epi64(_mm512_xor_si512(V::wload_n(s + w, n), V::wload_n(col + w, n))));
    return static_cast<std::uint64_t>(_mm512_reduce_add_epi64(_mm512_add_epi64(acc0, acc1)));
}

using DifferingBits = std::uint64_t (*)(const std::uint64_t*, const std::uint64_t*, std::size_t);

template <DifferingBits differing>
void sign_dots(const std::uint64_t* s, const std::uint64_t* S, std::size_t rows, std::size_t cols, std::size_t ld,
               std::int64_t* out)
{
    const std::size_t nw = words_for(rows);
    const auto n = static_cast<std::int64_t>(rows);
    if (nw <= 2) {
        // One or two words per column: scalar POPCNT beats a vector reduction.
        for (std::size_t j = 0; j < cols; ++j) {
            const std::uint64_t* col = S + j * ld;
            std::int64_t d = 0;
            for (std::size_t w = 0; w < nw; ++w) d += std::popcount(s[w] ^ col[w]);
            out[j] = n - 2 * d;
        }
        return;
    }
    for (std::size_t j = 0; j < cols; ++j) out[j] = n - 2 * static_cast<std::int64_t>(differing(s, S + j * ld, nw));
}

Table make_table(bool vpopcntdq)
{
    return Table{Arch::avx512,
                 &simd::dense_matvec<V>,
                 &simd::dense_tmatvec<V>,
                 &simd::sign_matvec<V>,
                 &simd::sign_tmatvec<V>,
                 vpopcntdq ? &sign_dots<differing_bits_vpopcntdq> : &sign_dots<differing_bits_lut>,
                 &simd::kron<V>,
                 &simd::rows_add<V>,
                 &simd::sign_gemm<V>,
                 &simd::abs_sum,
                 &simd::pack_signs<V>,
                 &simd::subtract_rank4<V>};
}

}  // namespace
}  // namespace signcut::kernels::avx512

namespace signcut::kernels::detail {

const Table& avx512_table() noexcept
{
    static const Table t = avx512::make_table(cpu_has_vpopcntdq());
    return t;
}

const Table& avx512_table_without_vpopcntdq() noexcept
{
    static const Table t = avx512::make_table(false);
    return t;
}

}  // namespace signcut::kernels::detail
