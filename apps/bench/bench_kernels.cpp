// signcut-bench-kernels: throughput of every kernel on the ISA in use
// (SIGNCUT_ARCH forces one), single-threaded, against this machine's
// single-threaded streaming read bandwidth measured in the same run, and
// sign_gemm against OpenBLAS sgemm on the equivalent ±1 float product.
//
// Every figure is the median of 5 timed runs after one untimed run.
//
// OpenBLAS picks its kernels from OPENBLAS_CORETYPE when that is set; some
// machines set it (with OPENBLAS_L2_SIZE) for old builds, which forces
// slower kernels. Unset both for this command to compare against OpenBLAS at
// its best:   env -u OPENBLAS_CORETYPE -u OPENBLAS_L2_SIZE signcut-bench-kernels
#include <cblas.h>
#include <immintrin.h>

#include <algorithm>
#include <chrono>
#include <cmath>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <exception>
#include <functional>
#include <memory>
#include <numeric>
#include <utility>
#include <string>
#include <vector>

#include <fmt/format.h>

#include "signcut/arch.hpp"
#include "signcut/kernels.hpp"
#include "signcut/random.hpp"
#include "signcut/signs.hpp"

namespace {

using namespace signcut;

constexpr int reps = 5;
constexpr std::size_t big = 4096;  // the 4096 x 4096 float32 matrix: 64 MiB

struct Free {
    void operator()(void* p) const noexcept { std::free(p); }
};
template <class T>
std::unique_ptr<T[], Free> aligned_array(std::size_t n)
{
    void* p = std::aligned_alloc(64, (n * sizeof(T) + 63) / 64 * 64);
    if (p == nullptr) throw std::bad_alloc();
    return std::unique_ptr<T[], Free>(static_cast<T*>(p));
}

/// Median wall time of `reps` runs of f, after one untimed run.
template <class F>
double median_seconds(F&& f)
{
    f();
    std::vector<double> t;
    for (int i = 0; i < reps; ++i) {
        const auto t0 = std::chrono::steady_clock::now();
        f();
        t.push_back(std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count());
    }
    std::sort(t.begin(), t.end());
    return t[reps / 2];
}

/// Median times of several functions run in turns: one untimed round, then
/// `reps` rounds each calling every function once.
std::vector<double> medians_in_turns(const std::vector<std::function<void()>>& fs)
{
    for (const auto& f : fs) f();
    std::vector<std::vector<double>> t(fs.size());
    for (int i = 0; i < reps; ++i)
        for (std::size_t j = 0; j < fs.size(); ++j) {
            const auto t0 = std::chrono::steady_clock::now();
            fs[j]();
            t[j].push_back(std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count());
        }
    std::vector<double> med;
    for (auto& v : t) {
        std::sort(v.begin(), v.end());
        med.push_back(v[reps / 2]);
    }
    return med;
}

// The streaming read: a sum of the whole matrix with eight independent
// accumulators (the adds never limit it), once per vector width the CPU
// has; the fastest defines the bandwidth.
volatile float sink;

float sum_sse2(const float* p, std::size_t n)
{
    __m128 a[8];
    for (auto& v : a) v = _mm_setzero_ps();
    for (std::size_t i = 0; i + 32 <= n; i += 32)
        for (int k = 0; k < 8; ++k) a[k] = _mm_add_ps(a[k], _mm_load_ps(p + i + 4 * k));
    float out[4];
    _mm_storeu_ps(out, _mm_add_ps(_mm_add_ps(_mm_add_ps(a[0], a[1]), _mm_add_ps(a[2], a[3])),
                                  _mm_add_ps(_mm_add_ps(a[4], a[5]), _mm_add_ps(a[6], a[7]))));
    return out[0] + out[1] + out[2] + out[3];
}

[[gnu::target("avx2")]] float sum_avx2(const float* p, std::size_t n)
{
    __m256 a[8];
    for (auto& v : a) v = _mm256_setzero_ps();
    for (std::size_t i = 0; i + 64 <= n; i += 64)
        for (int k = 0; k < 8; ++k) a[k] = _mm256_add_ps(a[k], _mm256_load_ps(p + i + 8 * k));
    float out[8];
    _mm256_storeu_ps(out, _mm256_add_ps(_mm256_add_ps(_mm256_add_ps(a[0], a[1]), _mm256_add_ps(a[2], a[3])),
                                        _mm256_add_ps(_mm256_add_ps(a[4], a[5]), _mm256_add_ps(a[6], a[7]))));
    return std::accumulate(out, out + 8, 0.0f);
}

[[gnu::target("avx512f")]] float sum_avx512(const float* p, std::size_t n)
{
    __m512 a[8];
    for (auto& v : a) v = _mm512_setzero_ps();
    for (std::size_t i = 0; i + 128 <= n; i += 128)
        for (int k = 0; k < 8; ++k) a[k] = _mm512_add_ps(a[k], _mm512_load_ps(p + i + 16 * k));
    float out[16];
    _mm512_storeu_ps(out, _mm512_add_ps(_mm512_add_ps(_mm512_add_ps(a[0], a[1]), _mm512_add_ps(a[2], a[3])),
                                        _mm512_add_ps(_mm512_add_ps(a[4], a[5]), _mm512_add_ps(a[6], a[7]))));
    return std::accumulate(out, out + 16, 0.0f);
}

std::string fmt_time(double s)
{
    return s >= 1.0 ? fmt::format("{:.3f} s", s) : s >= 1e-3 ? fmt::format("{:.2f} ms", s * 1e3)
                                                             : fmt::format("{:.1f} us", s * 1e6);
}

void row(const char* kernel, const std::string& size, double seconds, const std::string& rate,
         const std::string& extra = "")
{
    fmt::print("{:<14} {:<26} {:>10}  {:>16}  {}\n", kernel, size, fmt_time(seconds), rate, extra);
}

void fill_signs(SplitMix64& g, std::uint64_t* w, std::size_t words) { std::generate(w, w + words, [&] { return g.next(); }); }

int run()
{
    const Arch arch = active_arch();
    const kernels::Table& k = kernels::active();
    openblas_set_num_threads(1);
    fmt::print("signcut kernel benchmark: ISA {} (VPOPCNTDQ: {}), one thread, median of {} runs\n", arch_name(arch),
               cpu_has_vpopcntdq() ? "yes" : "no", reps);
    const char* coretype = std::getenv("OPENBLAS_CORETYPE");
    fmt::print("OpenBLAS {} core {}, one thread{}\n", openblas_get_config(), openblas_get_corename(),
               coretype ? fmt::format(" -- OPENBLAS_CORETYPE={} is set: it forces that core; unset "
                                      "OPENBLAS_CORETYPE and OPENBLAS_L2_SIZE for this command",
                                      coretype)
                        : "");

    SplitMix64 g(2024);
    const std::size_t N = big * big;
    auto A = aligned_array<float>(N);
    for (std::size_t i = 0; i < N; ++i) A[i] = static_cast<float>(static_cast<std::int64_t>(g.next() >> 40) - (1 << 23)) * 0x1p-23f;
    const double bytes = double(N) * sizeof(float);

    // --- streaming read bandwidth, and the kernels that stream the matrix ---
    // The sum kernel is the fastest vector width this CPU has (timed once
    // each, median of 5). Then the reference and the three streaming kernels
    // are timed in turns, five rounds, so that they see the same machine
    // load; each figure is the median of its five.
    using SumFn = float (*)(const float*, std::size_t);
    struct Candidate {
        SumFn fn;
        const char* name;
        bool available;
    };
    const Candidate candidates[] = {{&sum_sse2, "sse2", true},
                                    {&sum_avx2, "avx2", arch_supported(Arch::avx2)},
                                    {&sum_avx512, "avx512", arch_supported(Arch::avx512)}};
    SumFn sum = &sum_sse2;
    const char* sum_name = "sse2";
    double best = 1e30;
    for (const Candidate& c : candidates)
        if (c.available)
            if (const double t = median_seconds([&] { sink = c.fn(A.get(), N); }); t < best)
                best = t, sum = c.fn, sum_name = c.name;

    std::vector<std::uint64_t> s(words_for(big));
    fill_signs(g, s.data(), s.size());
    std::vector<float> out(big, 0.0f);
    // rows_add: every row once, in a random order, weights ±1.
    std::vector<std::ptrdiff_t> offset(big);
    std::vector<float> wts(big);
    for (std::size_t i = 0; i < big; ++i) offset[i] = static_cast<std::ptrdiff_t>(i * big);
    for (std::size_t i = big - 1; i > 0; --i) std::swap(offset[i], offset[g.next() % (i + 1)]);
    for (auto& x : wts) x = (g.next() & 1) ? 1.0f : -1.0f;

    const std::vector<std::function<void()>> streaming{
        [&] { sink = sum(A.get(), N); },
        [&] { k.dense_matvec(A.get(), big, big, big, s.data(), out.data()); },
        [&] { k.dense_tmatvec(A.get(), big, big, big, s.data(), out.data()); },
        [&] { k.rows_add(A.get(), offset.data(), wts.data(), big, big, out.data()); },
    };
    const std::vector<double> t = medians_in_turns(streaming);
    const double t_read = t[0];
    fmt::print("\nstreaming read of the 4096x4096 float32 matrix (64 MiB): {} = {:.1f} GB/s ({} sum)\n\n",
               fmt_time(t_read), bytes / t_read / 1e9, sum_name);
    fmt::print("{:<14} {:<26} {:>10}  {:>16}  {}\n", "kernel", "size", "median", "throughput", "of read bandwidth");
    const char* names[] = {"dense_matvec", "dense_tmatvec", "rows_add"};
    for (int i = 0; i < 3; ++i)
        row(names[i], "4096x4096 (64 MiB)", t[i + 1], fmt::format("{:.1f} GB/s", bytes / t[i + 1] / 1e9),
            fmt::format("{:.0f} %", 100.0 * t_read / t[i + 1]));

    // --- sign-matrix kernels: 4096 rows x 1024 terms (sign_dots: 4096 columns) ---
    {
        const std::size_t d = big, terms = 1024, nw = words_for(d);
        std::vector<std::uint64_t> S(nw * big);
        fill_signs(g, S.data(), S.size());
        std::vector<float> x(d), y(d, 0.0f);
        for (auto& v : x) v = static_cast<float>(g.normal());
        const double ops = double(d) * terms;
        const double t1 = median_seconds([&] { k.sign_matvec(S.data(), d, terms, nw, x.data(), y.data()); });
        row("sign_matvec", "4096 x 1024 signs", t1, fmt::format("{:.2f} Gop/s", ops / t1 / 1e9), "(op: one ±x add)");
        const double t2 = median_seconds([&] { k.sign_tmatvec(S.data(), d, terms, nw, x.data(), y.data()); });
        row("sign_tmatvec", "4096 x 1024 signs", t2, fmt::format("{:.2f} Gop/s", ops / t2 / 1e9), "(op: one ±x add)");
        std::vector<std::int64_t> dots(big);
        const double t3 = median_seconds([&] { k.sign_dots(s.data(), S.data(), d, big, nw, dots.data()); });
        row("sign_dots", "4096 x 4096 signs", t3, fmt::format("{:.1f} Gop/s", double(d) * big / t3 / 1e9),
            "(op: one sign product)");
        std::vector<std::uint64_t> kr(words_for(d * d));
        const double t4 = median_seconds([&] { k.kron(s.data(), d, S.data(), d, kr.data()); });
        row("kron", "4096 (x) 4096", t4, fmt::format("{:.1f} Gbit/s", double(d) * d / t4 / 1e9), "(bits written)");
    }

    // --- sign_gemm against sgemm on the same ±1 product ---
    {
        const std::size_t m = 2048, n = 2048, w = 4096, mw = words_for(m), nwd = words_for(n);
        std::vector<std::uint64_t> S(mw * w), T(nwd * w);
        fill_signs(g, S.data(), S.size());
        fill_signs(g, T.data(), T.size());
        std::vector<float> c(w);
        for (std::size_t i = 0; i < w; ++i) c[i] = static_cast<float>(std::ldexp(1.0 + g.uniform(), -int(i / 512)));
        auto C = aligned_array<float>(m * n);
        std::fill(C.get(), C.get() + m * n, 0.0f);
        const double t_sg = median_seconds([&] { k.sign_gemm(S.data(), m, mw, T.data(), n, nwd, c.data(), w, C.get(), n); });

        // The float product (S·diag(c)) · Tᵀ with the signs as ±1.0f.
        auto Af = aligned_array<float>(m * w), Bf = aligned_array<float>(n * w), Cf = aligned_array<float>(m * n);
        auto sgn = [](const std::uint64_t* col, std::size_t i) { return (col[i / 64] >> (i % 64)) & 1u ? -1.0f : 1.0f; };
        for (std::size_t i = 0; i < m; ++i)
            for (std::size_t kk = 0; kk < w; ++kk) Af[i * w + kk] = c[kk] * sgn(S.data() + kk * mw, i);
        for (std::size_t j = 0; j < n; ++j)
            for (std::size_t kk = 0; kk < w; ++kk) Bf[j * w + kk] = sgn(T.data() + kk * nwd, j);
        std::fill(Cf.get(), Cf.get() + m * n, 0.0f);
        const double t_blas = median_seconds([&] {
            cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasTrans, int(m), int(n), int(w), 1.0f, Af.get(), int(w), Bf.get(),
                        int(w), 1.0f, Cf.get(), int(n));
        });
        // Both accumulated 6 times into C: compare one product's worth.
        double maxdiff = 0, maxabs = 0;
        for (std::size_t i = 0; i < m * n; ++i) {
            maxdiff = std::max(maxdiff, double(std::abs(C[i] - Cf[i])));
            maxabs = std::max(maxabs, double(std::abs(Cf[i])));
        }
        const double ops = double(m) * n * w;
        row("sign_gemm", "m=n=2048, w=4096", t_sg, fmt::format("{:.0f} Gop/s", ops / t_sg / 1e9),
            "(op: one ±c add)");
        row("cblas_sgemm", "2048x4096 * 4096x2048", t_blas, fmt::format("{:.0f} GFLOP/s", 2 * ops / t_blas / 1e9),
            fmt::format("(OpenBLAS {})", openblas_get_corename()));
        fmt::print("\nsign_gemm time / sgemm time: {:.3f}   (max |difference| {:.2g} of max |C| {:.3g})\n", t_sg / t_blas,
                   maxdiff, maxabs);
    }
    return 0;
}

}  // namespace

int main()
{
    try {
        return run();
    } catch (const std::exception& e) {
        std::fprintf(stderr, "signcut-bench-kernels: %s\n", e.what());
        return 1;
    }
}
