// Every kernel of every ISA this CPU runs, against a double-precision
// recomputation, over sizes that exercise each vector tail.
//
// Inputs end exactly at an inaccessible page (a read past the last row,
// column or vector faults) and leave their gaps (lda > cols, ld > words)
// filled with NaN or set bits (a read of a gap spoils the result). Outputs
// are fenced by sentinels that must survive.
#define BOOST_TEST_MODULE kernels
#include "test_support.hpp"

#include <fmt/format.h>

#include <algorithm>
#include <array>
#include <cmath>
#include <cstdint>
#include <cstring>
#include <limits>
#include <string>
#include <type_traits>
#include <vector>

#include "avx512_variants.hpp"
#include "guarded_memory.hpp"

namespace {

using namespace signcut;
using signcut::testing::EndOfPage;
using signcut::testing::Fenced;
using signcut::testing::sum_tolerance;

// One dimension runs over 0..max_run while the other takes each of these
// (vector tails of 8 and 16 lanes, 64-bit words, exact multiples).
constexpr std::array<std::size_t, 6> other_sizes{1, 7, 63, 64, 65, 129};
constexpr std::size_t max_run = 300;

template <class F>
void for_each_shape(F&& f)
{
    for (std::size_t d = 0; d <= max_run; ++d)
        for (std::size_t e : other_sizes) {
            f(d, e);
            f(e, d);
        }
    f(4099, 517);
    f(517, 4099);
}

const float float_sentinel = std::numeric_limits<float>::quiet_NaN();

/// Collects mismatches so that a kernel's test reports once, with the first few.
struct Failures {
    std::size_t count = 0;
    std::string first;
    void add(const std::string& what)
    {
        if (count++ < 5) first += what + "\n";
    }
    /// Checks |got - ref| <= sum_tolerance(n, abs_sum); `where` (a string or
    /// a callable giving one, so that passing cases format nothing) names it.
    template <class Where>
    void close(float got, double ref, std::size_t n, double abs_sum, Where&& where)
    {
        const double tol = sum_tolerance(n, abs_sum);
        if (std::abs(static_cast<double>(got) - ref) <= tol) return;
        std::string w;
        if constexpr (std::is_invocable_v<Where>)
            w = where();
        else
            w = where;
        add(fmt::format("{}: got {:.9g}, want {:.9g} (tolerance {:.3g})", w, got, ref, tol));
    }
};

#define SIGNCUT_REPORT(f) BOOST_TEST((f).count == 0, (f).count << " mismatch(es); first:\n" << (f).first)

/// Uniform in [-1, 1) times a power of two in [2^-4, 2^3]: mixed magnitudes
/// and both signs, without the cost of a normal deviate.
float random_float(SplitMix64& g)
{
    const std::uint64_t r = g.next();
    return std::ldexp(static_cast<float>(static_cast<std::int64_t>(r >> 40) - (std::int64_t{1} << 23)) * 0x1p-23f,
                      static_cast<int>(r & 7) - 4);
}

/// `cols` packed sign columns of `rows` signs with stride `ld` = words + extra;
/// the last column ends at a page boundary and the words between columns
/// hold set bits.
struct SignCols {
    std::size_t rows, cols, nw, ld;
    EndOfPage<std::uint64_t> mem;

    SignCols(SplitMix64& g, std::size_t rows_, std::size_t cols_, std::size_t extra)
        : rows(rows_), cols(cols_), nw(words_for(rows_)), ld(words_for(rows_) + extra),
          mem(cols_ == 0 ? 0 : (cols_ - 1) * ld + nw)
    {
        for (std::size_t i = 0; i < mem.size(); ++i) {
            const std::size_t w = i % ld;
            if (w < nw)
                mem[i] = w + 1 == nw ? g.next() & tail_mask(rows) : g.next();
            else
                mem[i] = g.next() | 1u;  // a gap word: never part of a column
        }
    }
    bool neg(std::size_t i, std::size_t j) const { return (mem[j * ld + i / 64] >> (i % 64)) & 1u; }
    double sign(std::size_t i, std::size_t j) const { return neg(i, j) ? -1.0 : 1.0; }
    const std::uint64_t* data() const { return mem.data(); }
};

/// A packed sign vector of d signs ending at a page boundary.
struct Signs {
    std::size_t d;
    EndOfPage<std::uint64_t> mem;
    Signs(SplitMix64& g, std::size_t d_) : d(d_), mem(words_for(d_))
    {
        for (std::size_t w = 0; w < mem.size(); ++w) mem[w] = g.next();
        if (d % 64 != 0) mem[mem.size() - 1] &= tail_mask(d);
    }
    bool neg(std::size_t i) const { return (mem[i / 64] >> (i % 64)) & 1u; }
    double sign(std::size_t i) const { return neg(i) ? -1.0 : 1.0; }
    const std::uint64_t* data() const { return mem.data(); }
};

/// A row-major float matrix with lda = cols + extra whose last row ends at a
/// page boundary; the gaps between rows hold NaN.
struct Dense {
    std::size_t rows, cols, lda;
    EndOfPage<float> mem;
    Dense(SplitMix64& g, std::size_t rows_, std::size_t cols_, std::size_t extra)
        : rows(rows_), cols(cols_), lda(cols_ + extra), mem(rows_ == 0 ? 0 : (rows_ - 1) * (cols_ + extra) + cols_)
    {
        for (std::size_t i = 0; i < mem.size(); ++i)
            mem[i] = i % lda < cols ? random_float(g) : std::numeric_limits<float>::quiet_NaN();
    }
    float at(std::size_t r, std::size_t c) const { return mem[r * lda + c]; }
    const float* data() const { return mem.data(); }
};

/// A float vector ending at a page boundary.
struct Floats {
    EndOfPage<float> mem;
    Floats(SplitMix64& g, std::size_t n) : mem(n)
    {
        for (std::size_t i = 0; i < n; ++i) mem[i] = random_float(g);
    }
    const float* data() const { return mem.data(); }
    float operator[](std::size_t i) const { return mem[i]; }
};

/// An output of n floats: zero when `zero_start` (then a single term must
/// come out exact), random otherwise.
Fenced<float> make_out(SplitMix64& g, std::size_t n, bool zero_start)
{
    Fenced<float> out(n, float_sentinel);
    for (std::size_t i = 0; i < n; ++i) out[i] = zero_start ? 0.0f : random_float(g);
    return out;
}

std::uint64_t seed_of(std::size_t a, std::size_t b, std::size_t c = 0)
{
    return 0x5eed0000u + a * 1000003u + b * 7919u + c * 104729u;
}

std::string where(const kernels::Table& k, const char* kernel, std::size_t a, std::size_t b, std::size_t idx)
{
    return fmt::format("{} {} ({}, {}) at {}", arch_name(k.arch), kernel, a, b, idx);
}

}  // namespace

// ---------------------------------------------------------------------------

SIGNCUT_TEST_EVERY_ARCH(dense_matvec)
{
    Failures f;
    for_each_shape([&](std::size_t rows, std::size_t cols) {
        SplitMix64 g(seed_of(rows, cols, 1));
        const Dense A(g, rows, cols, (rows + cols) % 4 * 5);
        const Signs s(g, cols);
        const bool zero_start = (rows + cols) % 2 == 0;
        Fenced<float> out = make_out(g, rows, zero_start);
        std::vector<float> out0(out.data(), out.data() + rows);
        k.dense_matvec(A.data(), rows, cols, A.lda, s.data(), out.data());
        for (std::size_t r = 0; r < rows; ++r) {
            double ref = out0[r], abs_sum = std::abs(out0[r]);
            for (std::size_t c = 0; c < cols; ++c) {
                ref += s.sign(c) * A.at(r, c);
                abs_sum += std::abs(A.at(r, c));
            }
            f.close(out[r], ref, cols + (zero_start ? 0 : 1), abs_sum, [&] { return where(k, "dense_matvec", rows, cols, r); });
        }
        if (!out.fences_intact()) f.add(where(k, "dense_matvec wrote outside out", rows, cols, 0));
    });
    SIGNCUT_REPORT(f);
}

SIGNCUT_TEST_EVERY_ARCH(dense_tmatvec)
{
    Failures f;
    for_each_shape([&](std::size_t rows, std::size_t cols) {
        SplitMix64 g(seed_of(rows, cols, 2));
        const Dense A(g, rows, cols, (rows * 3 + cols) % 4 * 3);
        const Signs s(g, rows);
        const bool zero_start = (rows + cols) % 2 == 1;
        Fenced<float> out = make_out(g, cols, zero_start);
        std::vector<double> ref(out.data(), out.data() + cols), abs_sum(cols);
        for (std::size_t c = 0; c < cols; ++c) abs_sum[c] = std::abs(ref[c]);
        k.dense_tmatvec(A.data(), rows, cols, A.lda, s.data(), out.data());
        for (std::size_t r = 0; r < rows; ++r)
            for (std::size_t c = 0; c < cols; ++c) {
                ref[c] += s.sign(r) * A.at(r, c);
                abs_sum[c] += std::abs(A.at(r, c));
            }
        for (std::size_t c = 0; c < cols; ++c)
            f.close(out[c], ref[c], rows + (zero_start ? 0 : 1), abs_sum[c], [&] { return where(k, "dense_tmatvec", rows, cols, c); });
        if (!out.fences_intact()) f.add(where(k, "dense_tmatvec wrote outside out", rows, cols, 0));
    });
    SIGNCUT_REPORT(f);
}

SIGNCUT_TEST_EVERY_ARCH(sign_matvec)
{
    Failures f;
    for_each_shape([&](std::size_t rows, std::size_t cols) {
        SplitMix64 g(seed_of(rows, cols, 3));
        const SignCols S(g, rows, cols, (rows + cols) % 3);
        const Floats x(g, cols);
        const bool zero_start = (rows + cols) % 2 == 0;
        Fenced<float> out = make_out(g, rows, zero_start);
        std::vector<float> out0(out.data(), out.data() + rows);
        k.sign_matvec(S.data(), rows, cols, S.ld, x.data(), out.data());
        double xabs = 0;
        for (std::size_t j = 0; j < cols; ++j) xabs += std::abs(x[j]);
        for (std::size_t i = 0; i < rows; ++i) {
            double ref = out0[i];
            for (std::size_t j = 0; j < cols; ++j) ref += S.sign(i, j) * x[j];
            f.close(out[i], ref, cols + (zero_start ? 0 : 1), xabs + std::abs(out0[i]),
                    [&] { return where(k, "sign_matvec", rows, cols, i); });
        }
        if (!out.fences_intact()) f.add(where(k, "sign_matvec wrote outside out", rows, cols, 0));
    });
    SIGNCUT_REPORT(f);
}

SIGNCUT_TEST_EVERY_ARCH(sign_tmatvec)
{
    Failures f;
    for_each_shape([&](std::size_t rows, std::size_t cols) {
        SplitMix64 g(seed_of(rows, cols, 4));
        const SignCols S(g, rows, cols, (rows + 2 * cols) % 3);
        const Floats x(g, rows);
        const bool zero_start = (rows + cols) % 2 == 1;
        Fenced<float> out = make_out(g, cols, zero_start);
        std::vector<float> out0(out.data(), out.data() + cols);
        k.sign_tmatvec(S.data(), rows, cols, S.ld, x.data(), out.data());
        double xabs = 0;
        for (std::size_t i = 0; i < rows; ++i) xabs += std::abs(x[i]);
        for (std::size_t j = 0; j < cols; ++j) {
            double ref = out0[j];
            for (std::size_t i = 0; i < rows; ++i) ref += S.sign(i, j) * x[i];
            f.close(out[j], ref, rows + (zero_start ? 0 : 1), xabs + std::abs(out0[j]),
                    [&] { return where(k, "sign_tmatvec", rows, cols, j); });
        }
        if (!out.fences_intact()) f.add(where(k, "sign_tmatvec wrote outside out", rows, cols, 0));
    });
    SIGNCUT_REPORT(f);
}

namespace {

void check_sign_dots(const kernels::Table& k, Failures& f)
{
    for_each_shape([&](std::size_t rows, std::size_t cols) {
        SplitMix64 g(seed_of(rows, cols, 5));
        const SignCols S(g, rows, cols, (rows + cols) % 3);
        const Signs s(g, rows);
        Fenced<std::int64_t> out(cols, std::int64_t{0x5a5a5a5a5a5a5a5a});
        k.sign_dots(s.data(), S.data(), rows, cols, S.ld, out.data());
        for (std::size_t j = 0; j < cols; ++j) {
            std::int64_t ref = 0;
            for (std::size_t i = 0; i < rows; ++i) ref += s.neg(i) == S.neg(i, j) ? 1 : -1;
            if (out[j] != ref) f.add(fmt::format("{}: got {}, want {}", where(k, "sign_dots", rows, cols, j), out[j], ref));
        }
        if (!out.fences_intact()) f.add(where(k, "sign_dots wrote outside out", rows, cols, 0));
    });
    // A column identical to s, and one its exact opposite: the extremes.
    for (std::size_t rows : {1u, 64u, 65u, 1000u, 4096u}) {
        SplitMix64 g(seed_of(rows, 2, 5));
        const Signs s(g, rows);
        EndOfPage<std::uint64_t> S(2 * words_for(rows));
        for (std::size_t w = 0; w < words_for(rows); ++w) {
            S[w] = s.mem[w];
            S[words_for(rows) + w] = ~s.mem[w];
        }
        if (rows % 64 != 0) S[S.size() - 1] &= tail_mask(rows);
        std::int64_t out[2] = {0, 0};
        k.sign_dots(s.data(), S.data(), rows, 2, words_for(rows), out);
        if (out[0] != std::int64_t(rows) || out[1] != -std::int64_t(rows))
            f.add(fmt::format("{} sign_dots extremes for {} rows: {} and {}", arch_name(k.arch), rows, out[0], out[1]));
    }
}

}  // namespace

SIGNCUT_TEST_EVERY_ARCH(sign_dots)
{
    Failures f;
    check_sign_dots(k, f);
    SIGNCUT_REPORT(f);
}

// The avx512 table counts bits with VPOPCNTQ where the CPU has it; the
// nibble-lookup version that other AVX-512 CPUs run is checked here too.
BOOST_AUTO_TEST_CASE(sign_dots_avx512_without_vpopcntdq,
                     *boost::unit_test::precondition(signcut::testing::requires_arch{signcut::Arch::avx512}))
{
    Failures f;
    check_sign_dots(kernels::detail::avx512_table_without_vpopcntdq(), f);
    SIGNCUT_REPORT(f);
}

SIGNCUT_TEST_EVERY_ARCH(kron)
{
    Failures f;
    for_each_shape([&](std::size_t na, std::size_t nb) {
        SplitMix64 g(seed_of(na, nb, 6));
        const Signs a(g, na), b(g, nb);
        const std::size_t n = na * nb, nw = words_for(n);
        // Start from all ones: every word must be written, padding included.
        Fenced<std::uint64_t> out(nw, 0x0123456789abcdefu);
        for (std::size_t w = 0; w < nw; ++w) out[w] = ~std::uint64_t{0};
        k.kron(a.data(), na, b.data(), nb, out.data());
        for (std::size_t i = 0; i < na && f.count < 5; ++i)
            for (std::size_t j = 0; j < nb; ++j) {
                const std::size_t p = i * nb + j;
                const bool got = (out[p / 64] >> (p % 64)) & 1u;
                if (got != (a.neg(i) != b.neg(j))) {
                    f.add(where(k, "kron bit", na, nb, p));
                    break;
                }
            }
        if (n % 64 != 0 && (out[nw - 1] & ~tail_mask(n)) != 0) f.add(where(k, "kron padding not zero", na, nb, nw - 1));
        if (!out.fences_intact()) f.add(where(k, "kron wrote outside out", na, nb, 0));
    });
    SIGNCUT_REPORT(f);
}

namespace {

/// rows_add over `count` rows of length `len` picked from a base matrix, in
/// random order with repeats, through offsets from a base pointer set in
/// the middle of the matrix (so offsets are also negative). The matrix's
/// last row, at the page boundary, is always among them.
void check_rows_add(const kernels::Table& k, std::size_t count, std::size_t len, bool general_weights, Failures& f)
{
    SplitMix64 g(seed_of(count, len, general_weights ? 8 : 7));
    const std::size_t base_rows = std::max<std::size_t>(count / 2, 1) + 1, stride = len + (count + len) % 5;
    const Dense M(g, base_rows, len, stride - len);
    const float* base = M.data() + (base_rows / 2) * stride;
    const auto mid = static_cast<std::ptrdiff_t>(base_rows / 2);
    std::vector<std::ptrdiff_t> offset(count);
    std::vector<float> w(count);
    for (std::size_t i = 0; i < count; ++i) {
        const auto row = i == count / 3 ? static_cast<std::ptrdiff_t>(base_rows - 1)
                                        : static_cast<std::ptrdiff_t>(g.next() % base_rows);
        offset[i] = (row - mid) * static_cast<std::ptrdiff_t>(stride);
        static constexpr float exact[4] = {1.0f, -1.0f, 2.0f, -2.0f};
        w[i] = general_weights ? random_float(g) : exact[g.next() % 4];
    }
    const bool zero_start = (count + len) % 2 == 0;
    Fenced<float> out = make_out(g, len, zero_start);
    std::vector<float> out0(out.data(), out.data() + len);
    k.rows_add(base, offset.data(), w.data(), count, len, out.data());
    for (std::size_t t = 0; t < len; ++t) {
        double ref = out0[t], abs_sum = std::abs(out0[t]);
        for (std::size_t i = 0; i < count; ++i) {
            const double term = static_cast<double>(w[i]) * base[offset[i] + static_cast<std::ptrdiff_t>(t)];
            ref += term;
            abs_sum += std::abs(term);
        }
        // With general weights each product is rounded too: one more rounding per term.
        const std::size_t n = count + (zero_start ? 0 : 1) + (general_weights ? count : 0);
        f.close(out[t], ref, n, abs_sum, [&] { return where(k, general_weights ? "rows_add (general w)" : "rows_add", count, len, t); });
    }
    if (!out.fences_intact()) f.add(where(k, "rows_add wrote outside out", count, len, 0));
}

}  // namespace

SIGNCUT_TEST_EVERY_ARCH(rows_add)
{
    Failures f;
    for_each_shape([&](std::size_t count, std::size_t len) { check_rows_add(k, count, len, false, f); });
    for (std::size_t count : {2u, 5u, 33u})
        for (std::size_t len : {1u, 15u, 17u, 300u, 5000u}) check_rows_add(k, count, len, true, f);
    SIGNCUT_REPORT(f);
}

namespace {

void check_sign_gemm(const kernels::Table& k, std::size_t m, std::size_t n, std::size_t w, Failures& f)
{
    SplitMix64 g(seed_of(m, n, 9 + w));
    const SignCols S(g, m, w, (m + w) % 2), T(g, n, w, (n + w) % 3);
    const Floats c(g, w);
    const std::size_t ldc = n + (m + n + w) % 4;
    const bool zero_start = (m + n + w) % 2 == 0;
    Fenced<float> C(m == 0 ? 0 : (m - 1) * ldc + n, float_sentinel);
    for (std::size_t i = 0; i < C.size(); ++i) C[i] = i % ldc < n ? (zero_start ? 0.0f : random_float(g)) : float_sentinel;
    std::vector<float> C0(C.data(), C.data() + C.size());
    k.sign_gemm(S.data(), m, S.ld, T.data(), n, T.ld, c.data(), w, C.data(), ldc);

    double cabs = 0;
    std::vector<double> sc(w);  // c_k as ±1 per row below
    for (std::size_t kk = 0; kk < w; ++kk) cabs += std::abs(c[kk]);
    std::vector<double> tsign(n * w);
    for (std::size_t j = 0; j < n; ++j)
        for (std::size_t kk = 0; kk < w; ++kk) tsign[j * w + kk] = T.sign(j, kk);
    for (std::size_t i = 0; i < m; ++i) {
        for (std::size_t kk = 0; kk < w; ++kk) sc[kk] = S.sign(i, kk) * c[kk];
        for (std::size_t j = 0; j < n; ++j) {
            const double* t = tsign.data() + j * w;  // w may be 0: no element to reference
            double ref = C0[i * ldc + j];
            for (std::size_t kk = 0; kk < w; ++kk) ref += sc[kk] * t[kk];
            f.close(C[i * ldc + j], ref, w + (zero_start ? 0 : 1), cabs + std::abs(C0[i * ldc + j]),
                    [&] { return fmt::format("{} sign_gemm m={} n={} w={} at ({}, {})", arch_name(k.arch), m, n, w, i, j); });
        }
    }
    // The gaps between C's rows (ldc > n) are part of the fence.
    for (std::size_t i = 0; i < C.size(); ++i)
        if (i % ldc >= n && !std::isnan(C[i])) {
            f.add(fmt::format("{} sign_gemm m={} n={} w={} wrote into the gap at {}", arch_name(k.arch), m, n, w, i));
            break;
        }
    if (!C.fences_intact()) f.add(fmt::format("{} sign_gemm m={} n={} w={} wrote outside C", arch_name(k.arch), m, n, w));
}

}  // namespace

SIGNCUT_TEST_EVERY_ARCH(sign_gemm)
{
    Failures f;
    // Each of m, n and w runs over 0..max_run while the other two take two
    // pairs of other_sizes, chosen so that every pair occurs as d varies.
    constexpr std::size_t no = other_sizes.size();
    for (std::size_t d = 0; d <= max_run; ++d)
        for (std::size_t e : {d % no, (d / no + 3) % no}) {
            const std::size_t a = other_sizes[e], b = other_sizes[(d / no + e) % no];
            check_sign_gemm(k, d, a, b, f);
            check_sign_gemm(k, a, d, b, f);
            check_sign_gemm(k, a, b, d, f);
        }
    // More rows than one packing block, and a width of many passes.
    check_sign_gemm(k, 2100, 37, 61, f);
    check_sign_gemm(k, 130, 90, 1000, f);
    SIGNCUT_REPORT(f);
}

// ---------------------------------------------------------------------------
// abs_sum and pack_signs: the same result on every ISA, bit for bit, as a
// plain scalar reference (the order abs_sum documents), over every size up
// to a few words, odd sizes past that, and inputs that end at a page.

namespace {

double abs_sum_reference(const float* x, std::size_t n)
{
    double p[4] = {0, 0, 0, 0};
    std::size_t i = 0;
    for (; i + 4 <= n; i += 4)
        for (std::size_t k = 0; k < 4; ++k) p[k] += std::abs(static_cast<double>(x[i + k]));
    double s = (p[0] + p[2]) + (p[1] + p[3]);
    for (; i < n; ++i) s += std::abs(static_cast<double>(x[i]));
    return s;
}

/// Sprinkles zeros of both signs, NaNs of both signs, -infinity and the
/// smallest negative subnormal over x.
void add_specials(SplitMix64& g, Floats& x, std::size_t n)
{
    for (std::size_t i = 0; i < n; ++i) switch (g.next() % 16) {
        case 0: x.mem[i] = 0.0f; break;
        case 1: x.mem[i] = -0.0f; break;
        case 2: x.mem[i] = std::numeric_limits<float>::quiet_NaN(); break;
        case 3: x.mem[i] = -std::numeric_limits<float>::quiet_NaN(); break;
        case 4: x.mem[i] = -std::numeric_limits<float>::infinity(); break;
        case 5: x.mem[i] = -std::numeric_limits<float>::denorm_min(); break;
        default: break;
        }
}

template <class F>
void for_each_length(F&& f)
{
    for (std::size_t n = 0; n <= 300; ++n) f(n);
    for (std::size_t n : {511u, 1001u, 4097u, 65537u}) f(n);
}

}  // namespace

SIGNCUT_TEST_EVERY_ARCH(abs_sum)
{
    Failures f;
    for_each_length([&](std::size_t n) {
        for (bool specials : {false, true}) {
            SplitMix64 g(seed_of(n, specials, 11));
            Floats x(g, n);
            if (specials) add_specials(g, x, n);
            // NaNs make the sum NaN whatever the order; check them apart.
            if (specials)
                for (std::size_t i = 0; i < n; ++i)
                    if (std::isnan(x.mem[i])) x.mem[i] = 1.5f;
            const double got = k.abs_sum(x.data(), n), want = abs_sum_reference(x.data(), n);
            if (std::memcmp(&got, &want, sizeof got) != 0)
                f.add(fmt::format("{} abs_sum n={}{}: got {:.17g}, want {:.17g}", arch_name(k.arch), n,
                                  specials ? " (zeros, infinities)" : "", got, want));
        }
        if (n > 0) {
            SplitMix64 g(seed_of(n, 2, 11));
            Floats x(g, n);
            x.mem[(n * 7) % n] = -std::numeric_limits<float>::quiet_NaN();
            if (!std::isnan(k.abs_sum(x.data(), n))) f.add(fmt::format("{} abs_sum n={}: a NaN was lost", arch_name(k.arch), n));
        }
    });
    SIGNCUT_REPORT(f);
}

SIGNCUT_TEST_EVERY_ARCH(pack_signs)
{
    Failures f;
    for_each_length([&](std::size_t n) {
        for (bool specials : {false, true}) {
            SplitMix64 g(seed_of(n, specials, 12));
            Floats x(g, n);
            if (specials) add_specials(g, x, n);
            const std::size_t nw = words_for(n);
            // Start from all ones: every word must be written, padding included.
            Fenced<std::uint64_t> out(nw, 0x0123456789abcdefu);
            for (std::size_t w = 0; w < nw; ++w) out[w] = ~std::uint64_t{0};
            k.pack_signs(x.data(), n, out.data());
            for (std::size_t w = 0; w < nw; ++w) {
                std::uint64_t want = 0;
                for (std::size_t t = 0; t < 64 && 64 * w + t < n; ++t)
                    if (x[64 * w + t] < 0.0f) want |= std::uint64_t{1} << t;
                if (out[w] != want) {
                    f.add(fmt::format("{} pack_signs n={}{} word {}: got {:016x}, want {:016x}", arch_name(k.arch), n,
                                      specials ? " (specials)" : "", w, out[w], want));
                    break;
                }
            }
            if (!out.fences_intact()) f.add(fmt::format("{} pack_signs n={} wrote outside out", arch_name(k.arch), n));
        }
    });
    SIGNCUT_REPORT(f);
}

// subtract_rank4: the documented sum, bit for bit on every ISA, rows ending
// at a page (no read past n) and an output fenced on both sides.
SIGNCUT_TEST_EVERY_ARCH(subtract_rank4)
{
    Failures f;
    for_each_length([&](std::size_t n) {
        SplitMix64 g(seed_of(n, 0, 13));
        EndOfPage<double> r0(n), r1(n), r2(n), r3(n);
        EndOfPage<double>* rows[4] = {&r0, &r1, &r2, &r3};
        for (EndOfPage<double>* r : rows)
            for (std::size_t j = 0; j < n; ++j) (*r)[j] = static_cast<double>(random_float(g)) / 3.0;
        const double u[4] = {static_cast<double>(random_float(g)), static_cast<double>(random_float(g)), -0.7, 1e-3};
        Fenced<double> y(n, -12345.0);
        std::vector<double> want(n);
        for (std::size_t j = 0; j < n; ++j) {
            y[j] = static_cast<double>(random_float(g));
            want[j] = y[j] - ((u[0] * r0[j] + u[1] * r1[j]) + (u[2] * r2[j] + u[3] * r3[j]));
        }
        const double* r[4] = {r0.data(), r1.data(), r2.data(), r3.data()};
        k.subtract_rank4(y.data(), r, u, n);
        for (std::size_t j = 0; j < n; ++j)
            if (std::memcmp(&y[j], &want[j], sizeof(double)) != 0) {
                f.add(fmt::format("{} subtract_rank4 n={} at {}: got {:.17g}, want {:.17g}", arch_name(k.arch), n, j,
                                  y[j], want[j]));
                break;
            }
        if (!y.fences_intact()) f.add(fmt::format("{} subtract_rank4 n={} wrote outside y", arch_name(k.arch), n));
    });
    SIGNCUT_REPORT(f);
}

// ---------------------------------------------------------------------------
// Agreement with the scalar table on the same inputs. Kernels that add in
// the scalar order must agree bit for bit; the others within twice the
// tolerance (each is within it of the exact sum).

SIGNCUT_TEST_EVERY_ARCH(agrees_with_scalar)
{
    const kernels::Table& ref = kernels::for_arch(Arch::scalar);
    Failures f;
    auto same_bits = [&](const float* a, const float* b, std::size_t n, const std::string& what) {
        for (std::size_t i = 0; i < n; ++i)
            if (std::memcmp(&a[i], &b[i], sizeof(float)) != 0) {
                f.add(fmt::format("{} at {}: {:.9g} vs scalar {:.9g}", what, i, a[i], b[i]));
                return;
            }
    };
    for (std::size_t trial = 0; trial < 40; ++trial) {
        SplitMix64 g(seed_of(trial, 77));
        const std::size_t rows = g.next() % 700, cols = g.next() % 700;
        const std::string shape = fmt::format("{} ({}x{})", arch_name(k.arch), rows, cols);
        const Dense A(g, rows, cols, trial % 3);
        const Signs sr(g, rows), sc(g, cols);
        const Floats xr(g, rows), xc(g, cols);
        const SignCols S(g, rows, cols, trial % 2);

        std::vector<float> o1(rows), o2(rows);
        k.dense_matvec(A.data(), rows, cols, A.lda, sc.data(), o1.data());
        ref.dense_matvec(A.data(), rows, cols, A.lda, sc.data(), o2.data());
        for (std::size_t r = 0; r < rows; ++r) {
            double abs_sum = 0;
            for (std::size_t c = 0; c < cols; ++c) abs_sum += std::abs(A.at(r, c));
            f.close(o1[r], o2[r], cols, 2 * abs_sum, "dense_matvec vs scalar " + shape);
        }

        std::vector<float> p1(cols, 0.5f), p2(cols, 0.5f);
        k.dense_tmatvec(A.data(), rows, cols, A.lda, sr.data(), p1.data());
        ref.dense_tmatvec(A.data(), rows, cols, A.lda, sr.data(), p2.data());
        same_bits(p1.data(), p2.data(), cols, "dense_tmatvec vs scalar " + shape);

        std::vector<float> q1(rows, -1.5f), q2(rows, -1.5f);
        k.sign_matvec(S.data(), rows, cols, S.ld, xc.data(), q1.data());
        ref.sign_matvec(S.data(), rows, cols, S.ld, xc.data(), q2.data());
        same_bits(q1.data(), q2.data(), rows, "sign_matvec vs scalar " + shape);

        std::vector<float> t1(cols), t2(cols);
        k.sign_tmatvec(S.data(), rows, cols, S.ld, xr.data(), t1.data());
        ref.sign_tmatvec(S.data(), rows, cols, S.ld, xr.data(), t2.data());
        double xabs = 0;
        for (std::size_t i = 0; i < rows; ++i) xabs += std::abs(xr[i]);
        for (std::size_t j = 0; j < cols; ++j) f.close(t1[j], t2[j], rows, 2 * xabs, "sign_tmatvec vs scalar " + shape);

        std::vector<std::int64_t> d1(cols), d2(cols);
        k.sign_dots(sr.data(), S.data(), rows, cols, S.ld, d1.data());
        ref.sign_dots(sr.data(), S.data(), rows, cols, S.ld, d2.data());
        if (d1 != d2) f.add("sign_dots vs scalar " + shape);

        std::vector<std::uint64_t> k1(words_for(rows * cols)), k2(k1.size());
        k.kron(sr.data(), rows, sc.data(), cols, k1.data());
        ref.kron(sr.data(), rows, sc.data(), cols, k2.data());
        if (k1 != k2) f.add("kron vs scalar " + shape);

        if (rows > 0) {
            std::vector<std::ptrdiff_t> off(rows);
            std::vector<float> wt(rows);
            for (std::size_t i = 0; i < rows; ++i) {
                off[i] = static_cast<std::ptrdiff_t>((g.next() % rows) * A.lda);
                wt[i] = (g.next() & 1) ? 2.0f : -1.0f;
            }
            std::vector<float> r1(cols, 3.0f), r2(cols, 3.0f);
            k.rows_add(A.data(), off.data(), wt.data(), rows, cols, r1.data());
            ref.rows_add(A.data(), off.data(), wt.data(), rows, cols, r2.data());
            same_bits(r1.data(), r2.data(), cols, "rows_add vs scalar " + shape);
        }

        // sign_gemm with m = rows % 40: both the term-by-term path (which
        // must match bit for bit; every ISA uses it below 16 rows) and the
        // table path.
        const std::size_t m = rows % 40, n = cols % 150, w = (rows + cols) % 200;
        const SignCols Sg(g, m, w, 0), Tg(g, n, w, 1);
        const Floats cg(g, w);
        std::vector<float> c1(m * n, 0.25f), c2(m * n, 0.25f);
        k.sign_gemm(Sg.data(), m, Sg.ld, Tg.data(), n, Tg.ld, cg.data(), w, c1.data(), n);
        ref.sign_gemm(Sg.data(), m, Sg.ld, Tg.data(), n, Tg.ld, cg.data(), w, c2.data(), n);
        double cabs = 0.25;
        for (std::size_t kk = 0; kk < w; ++kk) cabs += std::abs(cg[kk]);
        const std::string gshape = fmt::format("{} (m={} n={} w={})", arch_name(k.arch), m, n, w);
        if (m < 16)
            same_bits(c1.data(), c2.data(), m * n, "sign_gemm (m < 16) vs scalar " + gshape);
        else
            for (std::size_t i = 0; i < m * n; ++i) f.close(c1[i], c2[i], w + 1, 2 * cabs, "sign_gemm vs scalar " + gshape);
    }
    SIGNCUT_REPORT(f);
}

// A row's or column's result must not depend on where it sits: the same
// dot products computed alone, from a differently aligned copy, are
// bit-identical to those computed among others, and a repeated call
// reproduces the first.
SIGNCUT_TEST_EVERY_ARCH(independent_of_grouping_and_alignment)
{
    Failures f;
    SplitMix64 g(4242);
    const std::size_t rows = 37, cols = 333;
    const Dense A(g, rows, cols, 3);
    const Signs s(g, cols);
    std::vector<float> all(rows), again(rows);
    k.dense_matvec(A.data(), rows, cols, A.lda, s.data(), all.data());
    k.dense_matvec(A.data(), rows, cols, A.lda, s.data(), again.data());
    if (std::memcmp(all.data(), again.data(), rows * sizeof(float)) != 0) f.add("dense_matvec repeat differs");
    for (std::size_t r = 0; r < rows; ++r) {
        std::vector<float> copy(cols + 1);
        std::copy(A.data() + r * A.lda, A.data() + r * A.lda + cols, copy.begin() + 1);
        float one = 0;
        k.dense_matvec(copy.data() + 1, 1, cols, cols, s.data(), &one);
        if (std::memcmp(&one, &all[r], sizeof(float)) != 0) f.add(fmt::format("dense_matvec row {} alone differs", r));
    }

    const SignCols S(g, cols, rows, 1);
    const Floats x(g, cols);
    std::vector<float> t_all(rows);
    k.sign_tmatvec(S.data(), cols, rows, S.ld, x.data(), t_all.data());
    for (std::size_t j = 0; j < rows; ++j) {
        float one = 0;
        k.sign_tmatvec(S.data() + j * S.ld, cols, 1, S.ld, x.data(), &one);
        if (std::memcmp(&one, &t_all[j], sizeof(float)) != 0) f.add(fmt::format("sign_tmatvec column {} alone differs", j));
    }

    // sign_gemm: rows 100..139 of a 300-row product computed on their own
    // (both counts use the table path).
    const std::size_t m = 300, n = 45, w = 77;
    const SignCols Sg(g, m, w, 0), Tg(g, n, w, 0);
    const Floats c(g, w);
    std::vector<float> C(m * n, 0.0f), part(40 * n, 0.0f);
    k.sign_gemm(Sg.data(), m, Sg.ld, Tg.data(), n, Tg.ld, c.data(), w, C.data(), n);
    // Rows 128..167 start on a word boundary of the sign columns.
    k.sign_gemm(Sg.data() + 2, 40, Sg.ld, Tg.data(), n, Tg.ld, c.data(), w, part.data(), n);
    if (std::memcmp(part.data(), C.data() + 128 * n, part.size() * sizeof(float)) != 0)
        f.add("sign_gemm rows computed alone differ");
    SIGNCUT_REPORT(f);
}
