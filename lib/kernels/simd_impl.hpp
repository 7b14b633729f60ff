// Kernels written once against a small vector interface `V` (Avx2 in
// simd_avx2.hpp, Avx512 in simd_avx512.hpp) and instantiated by each SIMD
// translation unit inside its own namespace (SIGNCUT_KERNEL_NS), like
// portable_impl.hpp, so that no code is shared between ISAs.
//
// The interface: V::lanes floats per vector `vf`; `signs` says which lanes to
// negate and comes straight from packed sign bits (a mask register on
// AVX-512, a sign-bit vector on AVX2); load_n/store_n touch only the first n
// lanes' memory, which is how every tail is handled without reading past a
// row, a column or a vector.
//
// Rounding: each kernel fixes one accumulation order that depends only on the
// sizes, never on alignment or on how rows are grouped for speed, so results
// are reproducible for a given ISA. dense_tmatvec, sign_matvec, rows_add and
// the small-m path of sign_gemm even add in the scalar kernels' order and
// match them bit for bit.
#ifndef SIGNCUT_KERNEL_NS
#error "define SIGNCUT_KERNEL_NS before including simd_impl.hpp"
#endif

#include <algorithm>
#include <array>
#include <cmath>
#include <cstddef>
#include <cstdint>
#include <cstring>
#include <utility>
#include <vector>

#include "signcut/signs.hpp"

namespace signcut::kernels::SIGNCUT_KERNEL_NS::simd {

inline bool sign_bit_at(const std::uint64_t* s, std::size_t i) { return (s[i / 64] >> (i % 64)) & 1u; }

// ---------------------------------------------------------------------------
// dense_matvec: out[r] += <A row r, s>. Memory-bound: each row is read once,
// front to back (one stream measured faster than several rows interleaved).
// Four accumulators, selected by the vector's position in its 64-column
// block, hide the add latency; they are combined in a fixed tree.

template <class V>
inline float dense_matvec_row(const float* a, std::size_t cols, const std::uint64_t* s)
{
    using vf = typename V::vf;
    constexpr std::size_t L = V::lanes, P = 64 / L, NACC = 4;
    vf acc[NACC];
    for (auto& x : acc) x = V::zero();
    const std::size_t full = cols / 64;
    for (std::size_t w = 0; w < full; ++w) {
        typename V::signs sg[P];
        V::signs_of_word(s[w], sg);
        for (std::size_t q = 0; q < P; ++q)
            acc[q % NACC] = V::add(acc[q % NACC], V::flip(V::load(a + 64 * w + q * L), sg[q]));
    }
    if (const std::size_t rest = cols - 64 * full; rest != 0) {
        typename V::signs sg[P];
        V::signs_of_word(s[full], sg);
        for (std::size_t q = 0; q < P && q * L < rest; ++q) {
            const std::size_t n = std::min(L, rest - q * L);
            const float* p = a + 64 * full + q * L;
            const vf v = n == L ? V::load(p) : V::load_n(p, n);
            acc[q % NACC] = V::add(acc[q % NACC], V::flip(v, sg[q]));
        }
    }
    return V::hsum(V::add(V::add(acc[0], acc[1]), V::add(acc[2], acc[3])));
}

template <class V>
void dense_matvec(const float* A, std::size_t rows, std::size_t cols, std::size_t lda, const std::uint64_t* s,
                  float* out)
{
    if (cols == 0) return;
    for (std::size_t r = 0; r < rows; ++r) out[r] += dense_matvec_row<V>(A + r * lda, cols, s);
}

// ---------------------------------------------------------------------------
// dense_tmatvec: out[c] += sum_r ±A[r, c]. A block of the output stays in L1
// while the rows stream past, eight at a time (one load and store of `out`
// per eight rows). The rows are added one after another, as in the scalar
// kernel.

template <class V, std::size_t R>
inline void dense_tmatvec_rows(const float* A, std::size_t lda, const std::uint64_t* s, std::size_t r0,
                               std::size_t c0, std::size_t c1, float* out)
{
    using vf = typename V::vf;
    constexpr std::size_t L = V::lanes;
    const float* a[R];
    bool neg[R];
    for (std::size_t k = 0; k < R; ++k) {
        a[k] = A + (r0 + k) * lda;
        neg[k] = sign_bit_at(s, r0 + k);
    }
    std::size_t c = c0;
    // Two vectors per step: two independent chains of R adds.
    for (; c + 2 * L <= c1; c += 2 * L) {
        vf x0 = V::load(out + c), x1 = V::load(out + c + L);
        for (std::size_t k = 0; k < R; ++k) {
            x0 = V::add(x0, V::flip_all(V::load(a[k] + c), neg[k]));
            x1 = V::add(x1, V::flip_all(V::load(a[k] + c + L), neg[k]));
        }
        V::store(out + c, x0);
        V::store(out + c + L, x1);
    }
    for (; c + L <= c1; c += L) {
        vf x = V::load(out + c);
        for (std::size_t k = 0; k < R; ++k) x = V::add(x, V::flip_all(V::load(a[k] + c), neg[k]));
        V::store(out + c, x);
    }
    if (const std::size_t n = c1 - c; n != 0) {
        vf x = V::load_n(out + c, n);
        for (std::size_t k = 0; k < R; ++k) x = V::add(x, V::flip_all(V::load_n(a[k] + c, n), neg[k]));
        V::store_n(out + c, x, n);
    }
}

template <class V>
void dense_tmatvec(const float* A, std::size_t rows, std::size_t cols, std::size_t lda, const std::uint64_t* s,
                   float* out)
{
    if (rows == 0 || cols == 0) return;
    // 16 KiB of output: resident in L1 next to the eight row streams.
    constexpr std::size_t chunk = 4096;
    for (std::size_t c0 = 0; c0 < cols; c0 += chunk) {
        const std::size_t c1 = std::min(cols, c0 + chunk);
        std::size_t r = 0;
        for (; r + 8 <= rows; r += 8) dense_tmatvec_rows<V, 8>(A, lda, s, r, c0, c1, out);
        for (; r < rows; ++r) dense_tmatvec_rows<V, 1>(A, lda, s, r, c0, c1, out);
    }
}

// ---------------------------------------------------------------------------
// sign_matvec: out[i] += sum_j S(i,j) x[j]. A block of 8 vectors of output
// rows lives in registers while every column contributes ±x[j] to it; the
// column's bits for the block are its lane masks. Columns are added in order,
// as in the scalar kernel.

template <class V>
void sign_matvec(const std::uint64_t* S, std::size_t rows, std::size_t cols, std::size_t ld, const float* x,
                 float* out)
{
    if (rows == 0 || cols == 0) return;
    using vf = typename V::vf;
    constexpr std::size_t L = V::lanes, P = 64 / L, NV = 8, BW = NV * L / 64;
    static_assert(NV % P == 0, "a block must cover whole sign words");
    std::size_t i0 = 0;
    for (; i0 + NV * L <= rows; i0 += NV * L) {
        vf acc[NV];
        for (std::size_t q = 0; q < NV; ++q) acc[q] = V::load(out + i0 + q * L);
        const std::uint64_t* col = S + i0 / 64;
        for (std::size_t j = 0; j < cols; ++j, col += ld) {
            const vf xj = V::set1(x[j]), nxj = V::set1(-x[j]);
            for (std::size_t b = 0; b < BW; ++b) {
                typename V::signs sg[P];
                V::signs_of_word(col[b], sg);
                for (std::size_t q = 0; q < P; ++q)
                    acc[b * P + q] = V::add(acc[b * P + q], V::select(xj, nxj, sg[q]));
            }
        }
        for (std::size_t q = 0; q < NV; ++q) V::store(out + i0 + q * L, acc[q]);
    }
    // Fewer than NV vectors of rows remain: one vector at a time.
    for (; i0 < rows; i0 += L) {
        const std::size_t n = std::min(L, rows - i0);
        vf acc = n == L ? V::load(out + i0) : V::load_n(out + i0, n);
        const std::uint64_t* col = S + i0 / 64;
        const unsigned shift = i0 % 64;
        for (std::size_t j = 0; j < cols; ++j, col += ld)
            acc = V::add(acc, V::flip(V::set1(x[j]), V::signs_of(*col >> shift)));
        if (n == L)
            V::store(out + i0, acc);
        else
            V::store_n(out + i0, acc, n);
    }
}

// ---------------------------------------------------------------------------
// sign_tmatvec: out[j] += <S(:,j), x>. CJ columns at a time share each load
// of x (and its negation); two accumulators per column; the row tail loads x
// with a mask.

template <class V, std::size_t CJ>
inline void sign_tmatvec_cols(const std::uint64_t* S, std::size_t rows, std::size_t ld, const float* x,
                              float* out)
{
    using vf = typename V::vf;
    constexpr std::size_t L = V::lanes, P = 64 / L;
    vf acc[CJ][2];
    for (auto& c : acc) c[0] = c[1] = V::zero();
    const std::size_t full = rows / 64;
    for (std::size_t w = 0; w < full; ++w) {
        vf xs[P], nxs[P];
        for (std::size_t q = 0; q < P; ++q) {
            xs[q] = V::load(x + 64 * w + q * L);
            nxs[q] = V::flip_all(xs[q], true);
        }
        for (std::size_t c = 0; c < CJ; ++c) {
            typename V::signs sg[P];
            V::signs_of_word(S[c * ld + w], sg);
            for (std::size_t q = 0; q < P; ++q)
                acc[c][q % 2] = V::add(acc[c][q % 2], V::select(xs[q], nxs[q], sg[q]));
        }
    }
    if (const std::size_t rest = rows - 64 * full; rest != 0) {
        for (std::size_t q = 0; q < P && q * L < rest; ++q) {
            const std::size_t n = std::min(L, rest - q * L);
            const float* p = x + 64 * full + q * L;
            const vf xs = n == L ? V::load(p) : V::load_n(p, n);
            for (std::size_t c = 0; c < CJ; ++c)
                acc[c][q % 2] = V::add(acc[c][q % 2], V::flip(xs, V::signs_of(S[c * ld + full] >> (q * L))));
        }
    }
    for (std::size_t c = 0; c < CJ; ++c) out[c] += V::hsum(V::add(acc[c][0], acc[c][1]));
}

template <class V>
void sign_tmatvec(const std::uint64_t* S, std::size_t rows, std::size_t cols, std::size_t ld, const float* x,
                  float* out)
{
    if (rows == 0 || cols == 0) return;
    std::size_t j = 0;
    for (; j + 4 <= cols; j += 4) sign_tmatvec_cols<V, 4>(S + j * ld, rows, ld, x, out + j);
    for (; j < cols; ++j) sign_tmatvec_cols<V, 1>(S + j * ld, rows, ld, x, out + j);
}

// ---------------------------------------------------------------------------
// kron: the output is written once, front to back, through a bit writer.
// A run of b (nb bits, flipped when a[i] = -1) starts at bit offset `fill`
// of the pending word; its whole words are shifted into place a vector at a
// time, each output word taking the high bits of the previous input word.

struct BitWriter {
    std::uint64_t* p;
    std::uint64_t cur = 0;  // pending bits; only the low `fill` may be set
    unsigned fill = 0;

    /// Appends the n low bits of v (1 <= n <= 64; v must have no higher bits).
    void put(std::uint64_t v, unsigned n) noexcept
    {
        cur |= v << fill;
        if (fill + n >= 64) {
            *p++ = cur;
            cur = fill != 0 ? v >> (64 - fill) : 0;
            fill = fill + n - 64;
        } else {
            fill += n;
        }
    }
    void finish() noexcept
    {
        if (fill != 0) *p++ = cur;
    }
};

template <class V>
void kron(const std::uint64_t* a, std::size_t na, const std::uint64_t* b, std::size_t nb, std::uint64_t* out)
{
    if (na == 0 || nb == 0) return;
    using vw = typename V::vw;
    constexpr std::size_t WL = V::word_lanes;
    const std::size_t nfull = nb / 64;
    const unsigned rem = nb % 64;
    const std::uint64_t last_mask = tail_mask(nb);
    BitWriter bw{out};
    for (std::size_t i = 0; i < na; ++i) {
        const std::uint64_t flip = sign_bit_at(a, i) ? ~std::uint64_t{0} : 0;
        if (nfull >= WL) {
            const unsigned o = bw.fill;
            const vw fv = V::wset1(flip);
            // The last lane of `prev` stands for the word before the run:
            // shifted right by 64 - o it gives back exactly the pending bits.
            vw prev = V::wset1(o != 0 ? bw.cur << (64 - o) : 0);
            std::size_t w = 0;
            for (; w + WL <= nfull; w += WL) {
                const vw cur = V::wxor(V::wload(b + w), fv);
                V::wstore(bw.p, V::shift_in(cur, prev, o));
                bw.p += WL;
                prev = cur;
            }
            std::uint64_t last_in = V::wlane(prev, WL - 1);
            if (const std::size_t n = nfull - w; n != 0) {
                const vw cur = V::wxor(V::wload_n(b + w, n), fv);
                V::wstore_n(bw.p, V::shift_in(cur, prev, o), n);
                bw.p += n;
                last_in = V::wlane(cur, n - 1);
            }
            bw.cur = o != 0 ? last_in >> (64 - o) : 0;
        } else {
            for (std::size_t w = 0; w < nfull; ++w) bw.put(b[w] ^ flip, 64);
        }
        if (rem != 0) bw.put((b[nfull] ^ flip) & last_mask, rem);
    }
    bw.finish();
}

// ---------------------------------------------------------------------------
// rows_add: out[t] += sum_i w[i] * row_i[t]. A 16 KiB block of the output
// stays in L1 while the listed rows stream through it eight at a time; the
// rows are added in list order, as in the scalar kernel.

template <class V, std::size_t R>
inline void rows_add_group(const float* base, const std::ptrdiff_t* offset, const float* w, std::size_t t0,
                           std::size_t t1, float* out)
{
    using vf = typename V::vf;
    constexpr std::size_t L = V::lanes;
    const float* row[R];
    vf wv[R];
    for (std::size_t k = 0; k < R; ++k) {
        row[k] = base + offset[k];
        wv[k] = V::set1(w[k]);
    }
    std::size_t t = t0;
    // Two vectors per step: two independent chains of R adds.
    for (; t + 2 * L <= t1; t += 2 * L) {
        vf x0 = V::load(out + t), x1 = V::load(out + t + L);
        for (std::size_t k = 0; k < R; ++k) {
            x0 = V::add(x0, V::mul(wv[k], V::load(row[k] + t)));
            x1 = V::add(x1, V::mul(wv[k], V::load(row[k] + t + L)));
        }
        V::store(out + t, x0);
        V::store(out + t + L, x1);
    }
    for (; t + L <= t1; t += L) {
        vf x = V::load(out + t);
        for (std::size_t k = 0; k < R; ++k) x = V::add(x, V::mul(wv[k], V::load(row[k] + t)));
        V::store(out + t, x);
    }
    if (const std::size_t n = t1 - t; n != 0) {
        vf x = V::load_n(out + t, n);
        for (std::size_t k = 0; k < R; ++k) x = V::add(x, V::mul(wv[k], V::load_n(row[k] + t, n)));
        V::store_n(out + t, x, n);
    }
}

template <class V>
void rows_add(const float* base, const std::ptrdiff_t* offset, const float* w, std::size_t count, std::size_t len,
              float* out)
{
    if (count == 0 || len == 0) return;
    constexpr std::size_t chunk = 4096;
    for (std::size_t t0 = 0; t0 < len; t0 += chunk) {
        const std::size_t t1 = std::min(len, t0 + chunk);
        std::size_t i = 0;
        for (; i + 8 <= count; i += 8) rows_add_group<V, 8>(base, offset + i, w + i, t0, t1, out);
        for (; i < count; ++i) rows_add_group<V, 1>(base, offset + i, w + i, t0, t1, out);
    }
}

// ---------------------------------------------------------------------------
// sign_gemm: C += S·diag(c)·Tᵀ.
//
// Large m: lookup tables over groups of B terms (the "four Russians" idea).
// For a tile of L output columns and a group of terms k0..k0+B-1, the 2^B
// possible sign patterns of a row of S over those terms give 2^B possible
// contributions sum_t ±c_k T(j,k); they are tabulated once and each row then
// adds the one its pattern selects, so one vector add covers B terms. A pass
// applies G groups (their tables stay in L1) to each row of the tile while
// the row is in a register; the tile itself is copied to a contiguous strip.
// S is first repacked so that a row's patterns for one pass are the G bytes
// of one 64-bit word.
//
// A table entry is lo + hi, lo and hi being the sums over the group's first
// and last B/2 terms, each built term by term; C then receives the entries
// pass by pass, group by group: a fixed order.
//
// Small m: the tables would not pay for themselves, so every term is added
// in order, as in the scalar kernel (and bit-identical to it).

template <class V>
struct Gemm {
    static constexpr std::size_t L = V::lanes;
    static constexpr std::size_t B = 6;                    // terms per group (bits of a pattern)
    static constexpr std::size_t E = std::size_t{1} << B;  // entries per table
    // Groups per pass: one 64-bit word of patterns per row, and tables of
    // 32 KiB (16 lanes) or 16 KiB (8 lanes) that stay in L1 next to the
    // streaming strip. (Larger passes measured slower on both ISAs.)
    static constexpr std::size_t G = 8;
    static constexpr std::size_t row_block = 1024;  // rows whose patterns are packed at once
    // Below this many rows the term-by-term path is faster (the crossover
    // measured on Zen 5 for either vector width; it hardly depends on n, w).
    static constexpr std::size_t min_rows = L == 16 ? 28 : 20;
    static_assert(G == 8 && B <= 8, "a row's patterns for a pass are the bytes of one word");
};

// spread[b]: bit r of b moved to bit 8r, so that ORing spread[column byte] << t
// over the terms t of a group yields eight rows' patterns, one per byte.
inline constexpr std::array<std::uint64_t, 256> spread_table = [] {
    std::array<std::uint64_t, 256> t{};
    for (unsigned b = 0; b < 256; ++b)
        for (unsigned r = 0; r < 8; ++r)
            if ((b >> r) & 1u) t[b] |= std::uint64_t{1} << (8 * r);
    return t;
}();

// Term by term, R <= 8 rows of one column tile in registers: row i0 + r
// receives sc[8k + r] (= ±c_k, the sign of S(i0 + r, k) applied) times the
// ±1 signs of T(j,k). The product is exact, so each fused multiply-add
// rounds exactly like the scalar kernel's add.
template <class V, std::size_t R>
inline void sign_gemm_direct_rows(const float* sc, std::size_t i0, const std::uint64_t* T,
                                  std::size_t ldt, std::size_t w, std::size_t j0, std::size_t nl, float* C,
                                  std::size_t ldc)
{
    using vf = typename V::vf;
    constexpr std::size_t L = V::lanes;
    vf acc[R];
    for (std::size_t r = 0; r < R; ++r) {
        const float* p = C + (i0 + r) * ldc + j0;
        acc[r] = nl == L ? V::load(p) : V::load_n(p, nl);
    }
    const std::uint64_t* tcol = T + j0 / 64;
    const unsigned shift = j0 % 64;
    for (std::size_t k = 0; k < w; ++k, tcol += ldt) {
        const vf t = V::flip(V::set1(1.0f), V::signs_of(*tcol >> shift));
        for (std::size_t r = 0; r < R; ++r) acc[r] = V::fmadd(V::set1(sc[8 * k + r]), t, acc[r]);
    }
    for (std::size_t r = 0; r < R; ++r) {
        float* p = C + (i0 + r) * ldc + j0;
        if (nl == L)
            V::store(p, acc[r]);
        else
            V::store_n(p, acc[r], nl);
    }
}

template <class V>
void sign_gemm_direct(const std::uint64_t* S, std::size_t m, std::size_t lds, const std::uint64_t* T,
                      std::size_t n, std::size_t ldt, const float* c, std::size_t w, float* C, std::size_t ldc)
{
    constexpr std::size_t L = V::lanes;
    // ±c_k per row, eight rows per block: block b holds sc[b][k][r] for
    // row 8b + r, so a block's values for consecutive terms are contiguous.
    const std::size_t nblocks = (m + 7) / 8;
    std::vector<float> sc(nblocks * w * 8, 0.0f);
    for (std::size_t k = 0; k < w; ++k)
        for (std::size_t i = 0; i < m; ++i)
            sc[(i / 8 * w + k) * 8 + i % 8] = sign_bit_at(S + k * lds, i) ? -c[k] : c[k];
    for (std::size_t j0 = 0; j0 < n; j0 += L) {
        const std::size_t nl = std::min(L, n - j0);
        for (std::size_t b = 0; b < nblocks; ++b) {
            const float* scb = sc.data() + b * w * 8;
            const std::size_t i0 = 8 * b, rows = std::min<std::size_t>(8, m - i0);
            // Any block size 1..8 in one pass over the terms: the per-term
            // work on T is shared by the block's rows.
            [&]<std::size_t... R>(std::index_sequence<R...>) {
                ((rows == R + 1 ? sign_gemm_direct_rows<V, R + 1>(scb, i0, T, ldt, w, j0, nl, C, ldc) : void()), ...);
            }(std::make_index_sequence<8>{});
        }
    }
}

// Packs rows [i0, i0 + mb) of S: byte (pass p, row i, group g) at
// packed[(p * mb + i) * G + g % G] holds S(i0 + i, B*g + t) in bit t.
template <class V>
void sign_gemm_pack(const std::uint64_t* S, std::size_t lds, std::size_t w, std::size_t i0, std::size_t mb,
                    std::uint8_t* packed)
{
    using P = Gemm<V>;
    const std::size_t ngroups = (w + P::B - 1) / P::B;
    for (std::size_t g = 0; g < ngroups; ++g) {
        const std::size_t k0 = g * P::B, tb = std::min(P::B, w - k0);
        std::uint8_t* dst = packed + (g / P::G) * mb * P::G + g % P::G;
        for (std::size_t r0 = 0; r0 < mb; r0 += 64) {
            const std::size_t word = (i0 + r0) / 64;
            std::uint64_t col[P::B];
            for (std::size_t t = 0; t < tb; ++t) col[t] = S[(k0 + t) * lds + word];
            const std::size_t nrow = std::min<std::size_t>(64, mb - r0);
            for (std::size_t q = 0; q * 8 < nrow; ++q) {
                std::uint64_t bytes = 0;
                for (std::size_t t = 0; t < tb; ++t) bytes |= spread_table[(col[t] >> (8 * q)) & 0xff] << t;
                for (std::size_t r = 0; r < 8 && q * 8 + r < nrow; ++r)
                    dst[(r0 + q * 8 + r) * P::G] = static_cast<std::uint8_t>(bytes >> (8 * r));
            }
        }
    }
}

// Builds the tables of `gp` groups starting at group g0 for the column tile at j0.
template <class V>
void sign_gemm_tables(const std::uint64_t* T, std::size_t ldt, const float* c, std::size_t w, std::size_t j0,
                      std::size_t g0, std::size_t gp, float* tab)
{
    using vf = typename V::vf;
    using P = Gemm<V>;
    constexpr std::size_t H = P::B / 2, HE = std::size_t{1} << H;
    static_assert(P::B % 2 == 0, "the pattern is split into two equal halves");
    for (std::size_t g = 0; g < gp; ++g) {
        const std::size_t k0 = (g0 + g) * P::B;
        vf v[P::B];
        for (std::size_t t = 0; t < P::B; ++t) {
            const std::size_t k = k0 + t;
            v[t] = k < w ? V::flip(V::set1(c[k]), V::signs_of(T[k * ldt + j0 / 64] >> (j0 % 64))) : V::zero();
        }
        // half[e] = sum over the half's terms t of (bit t of e ? -v_t : v_t), term by term.
        auto build = [&](const vf* vt, vf* half) {
            half[0] = vt[0];
            half[1] = V::flip_all(vt[0], true);
            for (std::size_t t = 1; t < H; ++t) {
                const std::size_t n = std::size_t{1} << t;
                const vf neg = V::flip_all(vt[t], true);
                for (std::size_t e = 0; e < n; ++e) {
                    half[e + n] = V::add(half[e], neg);
                    half[e] = V::add(half[e], vt[t]);
                }
            }
        };
        vf lo[HE], hi[HE];
        build(v, lo);
        build(v + H, hi);
        float* dst = tab + g * P::E * P::L;
        for (std::size_t h = 0; h < HE; ++h)
            for (std::size_t l = 0; l < HE; ++l) V::store(dst + (h * HE + l) * P::L, V::add(lo[l], hi[h]));
    }
}

// strip rows [0, mb) += the entries of the pass's first gp tables that the
// rows' patterns select. The strip is the C tile copied to contiguous memory
// (row i at strip + i * L). Full passes (GP = G, known at compile time) are
// the hot loop and are unrolled completely; the last pass may have fewer
// groups and takes the generic loop (GP = 0, count gp).
template <class V, std::size_t GP>
void sign_gemm_apply(const std::uint8_t* packed, std::size_t gp, std::size_t mb, const float* tab, float* strip)
{
    using vf = typename V::vf;
    using P = Gemm<V>;
    constexpr std::size_t R = 4;
    const std::size_t groups = GP != 0 ? GP : gp;
    auto entry = [&](std::uint64_t pats, std::size_t g) {
        // Byte g of the row's pattern word is its pattern for group g.
        const std::size_t idx = static_cast<std::size_t>((pats >> (8 * g)) & (P::E - 1));
        return V::load(tab + (g * P::E + idx) * P::L);
    };
    std::size_t i = 0;
    // R rows at a time: R independent chains of adds.
    for (; i + R <= mb; i += R) {
        std::uint64_t pats[R];
        vf acc[R];
        for (std::size_t r = 0; r < R; ++r) {
            std::memcpy(&pats[r], packed + (i + r) * P::G, sizeof(std::uint64_t));
            acc[r] = V::load(strip + (i + r) * P::L);
        }
        for (std::size_t g = 0; g < groups; ++g)
            for (std::size_t r = 0; r < R; ++r) acc[r] = V::add(acc[r], entry(pats[r], g));
        for (std::size_t r = 0; r < R; ++r) V::store(strip + (i + r) * P::L, acc[r]);
    }
    for (; i < mb; ++i) {
        std::uint64_t pats;
        std::memcpy(&pats, packed + i * P::G, sizeof pats);
        vf acc = V::load(strip + i * P::L);
        for (std::size_t g = 0; g < groups; ++g) acc = V::add(acc, entry(pats, g));
        V::store(strip + i * P::L, acc);
    }
}

template <class V>
void sign_gemm(const std::uint64_t* S, std::size_t m, std::size_t lds, const std::uint64_t* T, std::size_t n,
               std::size_t ldt, const float* c, std::size_t w, float* C, std::size_t ldc)
{
    using P = Gemm<V>;
    if (m == 0 || n == 0 || w == 0) return;
    if (m < P::min_rows) {
        sign_gemm_direct<V>(S, m, lds, T, n, ldt, c, w, C, ldc);
        return;
    }
    const std::size_t ngroups = (w + P::B - 1) / P::B;
    const std::size_t npasses = (ngroups + P::G - 1) / P::G;
    const std::size_t mb_max = std::min(m, P::row_block);
    std::vector<std::uint8_t> packed(npasses * P::G * mb_max);
    // The tile of C being updated, copied to contiguous memory: C's own rows
    // are ldc apart, and with a power-of-two ldc they would all fall into the
    // same few cache sets.
    std::vector<float> strip_buf(mb_max * P::L);
    float* strip = strip_buf.data();
    alignas(64) float tab[P::G * P::E * P::L];
    for (std::size_t i0 = 0; i0 < m; i0 += P::row_block) {
        const std::size_t mb = std::min(P::row_block, m - i0);
        sign_gemm_pack<V>(S, lds, w, i0, mb, packed.data());
        for (std::size_t j0 = 0; j0 < n; j0 += P::L) {
            const std::size_t nl = std::min(P::L, n - j0);
            float* Ct = C + i0 * ldc + j0;
            for (std::size_t i = 0; i < mb; ++i)
                V::store(strip + i * P::L, nl == P::L ? V::load(Ct + i * ldc) : V::load_n(Ct + i * ldc, nl));
            for (std::size_t p = 0; p < npasses; ++p) {
                const std::size_t gp = std::min(P::G, ngroups - p * P::G);
                sign_gemm_tables<V>(T, ldt, c, w, j0, p * P::G, gp, tab);
                const std::uint8_t* pk = packed.data() + p * mb * P::G;
                if (gp == P::G)
                    sign_gemm_apply<V, P::G>(pk, gp, mb, tab, strip);
                else
                    sign_gemm_apply<V, 0>(pk, gp, mb, tab, strip);
            }
            for (std::size_t i = 0; i < mb; ++i) {
                if (nl == P::L)
                    V::store(Ct + i * ldc, V::load(strip + i * P::L));
                else
                    V::store_n(Ct + i * ldc, V::load(strip + i * P::L), nl);
            }
        }
    }
}

// ---------------------------------------------------------------------------
// pack_signs: bit i of out = x[i] < 0, one vector compare per `lanes` bits.

template <class V>
void pack_signs(const float* x, std::size_t n, std::uint64_t* out)
{
    constexpr std::size_t L = V::lanes, P = 64 / L;
    const std::size_t full = n / 64;
    for (std::size_t w = 0; w < full; ++w) {
        std::uint64_t bits = 0;
        for (std::size_t q = 0; q < P; ++q) bits |= V::negative_bits(V::load(x + 64 * w + q * L)) << (q * L);
        out[w] = bits;
    }
    if (const std::size_t rest = n - 64 * full; rest != 0) {
        // Lanes past the end load as +0: their bits stay clear.
        std::uint64_t bits = 0;
        for (std::size_t q = 0; q * L < rest; ++q) {
            const std::size_t m = std::min(L, rest - q * L);
            const float* p = x + 64 * full + q * L;
            bits |= V::negative_bits(m == L ? V::load(p) : V::load_n(p, m)) << (q * L);
        }
        out[full] = bits;
    }
}

// ---------------------------------------------------------------------------
// abs_sum: Σ|x| in double in the table's fixed order. Its four partial sums
// are the four double lanes of one 256-bit vector (lane k adds x[4q + k]),
// which both SIMD ISAs use: the order allows no more independent chains, so
// a 512-bit vector would not go faster. xsimd 8.1 has no float -> double
// conversion between batches of different widths, hence the intrinsics.
// (Both SIMD translation units are compiled with at least AVX2.)

inline double abs_sum(const float* x, std::size_t n)
{
    const __m256d magnitude = _mm256_castsi256_pd(_mm256_set1_epi64x(0x7fffffffffffffff));
    __m256d acc = _mm256_setzero_pd();
    std::size_t i = 0;
    for (; i + 4 <= n; i += 4) acc = _mm256_add_pd(acc, _mm256_and_pd(_mm256_cvtps_pd(_mm_loadu_ps(x + i)), magnitude));
    // (p0 + p2, p1 + p3), then their sum.
    const __m128d h = _mm_add_pd(_mm256_castpd256_pd128(acc), _mm256_extractf128_pd(acc, 1));
    double s = _mm_cvtsd_f64(_mm_add_sd(h, _mm_unpackhi_pd(h, h)));
    for (; i < n; ++i) s += std::abs(static_cast<double>(x[i]));
    return s;
}

// ---------------------------------------------------------------------------
// subtract_rank4: four rank-1 row updates in double, on xsimd batches of the
// TU's width. Multiplies and adds stay separate (no fma), so every lane
// rounds as the scalar loop does.

template <class V>
void subtract_rank4(double* y, const double* const r[4], const double u[4], std::size_t n)
{
    using vd = xsimd::batch<double, typename V::arch>;
    constexpr std::size_t L = vd::size;
    const vd u0(u[0]), u1(u[1]), u2(u[2]), u3(u[3]);
    std::size_t j = 0;
    for (; j + L <= n; j += L) {
        const vd a = u0 * vd::load_unaligned(r[0] + j) + u1 * vd::load_unaligned(r[1] + j);
        const vd b = u2 * vd::load_unaligned(r[2] + j) + u3 * vd::load_unaligned(r[3] + j);
        (vd::load_unaligned(y + j) - (a + b)).store_unaligned(y + j);
    }
    for (; j < n; ++j) y[j] -= (u[0] * r[0][j] + u[1] * r[1][j]) + (u[2] * r[2][j] + u[3] * r[3][j]);
}

}  // namespace signcut::kernels::SIGNCUT_KERNEL_NS::simd
