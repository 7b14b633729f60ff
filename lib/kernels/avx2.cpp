// The AVX2 kernels (AVX2 + FMA + BMI2 + POPCNT).
//
// The float kernels are the generic ones of simd_impl.hpp on 8-lane vectors;
// sign bits become lane sign masks by a broadcast, a per-lane variable shift
// that brings each lane's bit to the float sign position, and an AND.
// sign_dots is written here, counting differing bits with a nibble lookup
// (VPSHUFB) summed by VPSADBW.
#include <immintrin.h>

#include <bit>
#include <cstddef>
#include <cstdint>

#include "simd_avx2.hpp"

#define SIGNCUT_KERNEL_NS avx2
#include "simd_impl.hpp"
#include "tables.hpp"

namespace signcut::kernels::avx2 {
namespace {

using V = Avx2;

inline __m256i popcount_nibbles(__m256i v)
{
    const __m256i lut = _mm256_setr_epi8(0, 1, 1, 2, 1, 2, 2, 3, 1, 2, 2, 3, 2, 3, 3, 4,  //
                                         0, 1, 1, 2, 1, 2, 2, 3, 1, 2, 2, 3, 2, 3, 3, 4);
    const __m256i nib = _mm256_set1_epi8(0x0f);
    const __m256i lo = _mm256_and_si256(v, nib);
    const __m256i hi = _mm256_and_si256(_mm256_srli_epi16(v, 4), nib);
    const __m256i bytes = _mm256_add_epi8(_mm256_shuffle_epi8(lut, lo), _mm256_shuffle_epi8(lut, hi));
    return _mm256_sad_epu8(bytes, _mm256_setzero_si256());
}

std::uint64_t differing_bits(const std::uint64_t* s, const std::uint64_t* col, std::size_t nw)
{
    __m256i acc0 = _mm256_setzero_si256(), acc1 = _mm256_setzero_si256();
    std::size_t w = 0;
    for (; w + 8 <= nw; w += 8) {
        acc0 = _mm256_add_epi64(acc0, popcount_nibbles(_mm256_xor_si256(V::wload(s + w), V::wload(col + w))));
        acc1 = _mm256_add_epi64(acc1,
                                popcount_nibbles(_mm256_xor_si256(V::wload(s + w + 4), V::wload(col + w + 4))));
    }
    for (; w + 4 <= nw; w += 4)
        acc0 = _mm256_add_epi64(acc0, popcount_nibbles(_mm256_xor_si256(V::wload(s + w), V::wload(col + w))));
    const __m256i acc = _mm256_add_epi64(acc0, acc1);
    alignas(32) std::uint64_t lanes[4];
    _mm256_store_si256(reinterpret_cast<__m256i*>(lanes), acc);
    std::uint64_t d = lanes[0] + lanes[1] + lanes[2] + lanes[3];
    // At most three words remain: scalar POPCNT.
    for (; w < nw; ++w) d += static_cast<std::uint64_t>(std::popcount(s[w] ^ col[w]));
    return d;
}

void sign_dots(const std::uint64_t* s, const std::uint64_t* S, std::size_t rows, std::size_t cols, std::size_t ld,
               std::int64_t* out)
{
    const std::size_t nw = words_for(rows);
    const auto n = static_cast<std::int64_t>(rows);
    if (nw < 4) {
        // Fewer words than one vector: scalar POPCNT only.
        for (std::size_t j = 0; j < cols; ++j) {
            const std::uint64_t* col = S + j * ld;
            std::int64_t d = 0;
            for (std::size_t w = 0; w < nw; ++w) d += std::popcount(s[w] ^ col[w]);
            out[j] = n - 2 * d;
        }
        return;
    }
    for (std::size_t j = 0; j < cols; ++j) out[j] = n - 2 * static_cast<std::int64_t>(differing_bits(s, S + j * ld, nw));
}

}  // namespace
}  // namespace signcut::kernels::avx2

namespace signcut::kernels::detail {

const Table& avx2_table() noexcept
{
    namespace k = avx2;
    static const Table t{Arch::avx2,
                         &k::simd::dense_matvec<k::V>,
                         &k::simd::dense_tmatvec<k::V>,
                         &k::simd::sign_matvec<k::V>,
                         &k::simd::sign_tmatvec<k::V>,
                         &k::sign_dots,
                         &k::simd::kron<k::V>,
                         &k::simd::rows_add<k::V>,
                         &k::simd::sign_gemm<k::V>,
                         &k::simd::abs_sum,
                         &k::simd::pack_signs<k::V>,
                         &k::simd::subtract_rank4<k::V>};
    return t;
}

}  // namespace signcut::kernels::detail
