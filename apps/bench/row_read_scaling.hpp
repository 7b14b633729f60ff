// How well two cores share the decomposer's flip-update access pattern on
// this machine: rounds of "add these randomly chosen rows of a cache-resident
// matrix into an image", the threads meeting after every round as they would
// after every mode update. Measured with the library's own rows_add kernel.
//
//   * columns: each thread adds its half of every chosen row (the split that
//     keeps every sum, and so the result, the same for any thread count);
//   * rows:    each thread adds half of the chosen rows into its own image;
//   * stream:  each thread sums a private buffer of the same size, for scale.
#pragma once

#include <immintrin.h>

#include <atomic>
#include <chrono>
#include <cstddef>
#include <thread>
#include <vector>

#include "signcut/kernels.hpp"
#include "signcut/random.hpp"
#include "stream_read.hpp"

namespace signcut::bench {

struct RowReadScaling {
    double columns = 0;  ///< two threads against one, each half of every row
    double rows = 0;     ///< two threads against one, each half of the rows
    double stream = 0;   ///< two threads against one, private streaming reads
};

namespace detail_rows {

class Meeting {
public:
    void wait(unsigned threads)
    {
        const unsigned round = round_.load(std::memory_order_acquire);
        if (arrived_.fetch_add(1, std::memory_order_acq_rel) + 1 == threads) {
            arrived_.store(0, std::memory_order_relaxed);
            round_.store(round + 1, std::memory_order_release);
            return;
        }
        for (unsigned i = 1; round_.load(std::memory_order_acquire) == round; ++i)
            if (i % 256 == 0) std::this_thread::yield(); else _mm_pause();
    }

private:
    alignas(64) std::atomic<unsigned> arrived_{0};
    alignas(64) std::atomic<unsigned> round_{0};
};

/// Seconds for body(t) on `threads` threads at once (t = 0 on the caller).
template <class F>
double on_threads(unsigned threads, F&& body)
{
    const auto t0 = std::chrono::steady_clock::now();
    std::vector<std::thread> others;
    for (unsigned t = 1; t < threads; ++t) others.emplace_back(body, t);
    body(0u);
    for (auto& th : others) th.join();
    return std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
}

}  // namespace detail_rows

/// n × n matrix, `per_round` rows per round, `rounds` rounds; best of 3.
inline RowReadScaling measure_row_read_scaling(std::size_t n = 1024, std::size_t per_round = 32,
                                               std::size_t rounds = 20000)
{
    const kernels::Table& k = kernels::active();
    std::vector<float> a(n * n), b(n * n);
    SplitMix64 g(5);
    for (auto& v : a) v = static_cast<float>(g.normal());
    b = a;
    std::vector<std::ptrdiff_t> offsets(per_round * rounds);
    for (auto& o : offsets) o = static_cast<std::ptrdiff_t>(g.next() % n * n);
    const std::vector<float> w(per_round, 1.0f);
    // Images padded apart so that the threads never write to one cache line.
    std::vector<float> image(4 * n + 64, 0.0f);

    const auto best_of_3 = [](auto&& f) {
        double best = 1e300;
        for (int i = 0; i < 3; ++i) best = std::min(best, f());
        return best;
    };
    const auto rows_run = [&](unsigned threads, bool split_columns) {
        detail_rows::Meeting meeting;
        return detail_rows::on_threads(threads, [&](unsigned t) {
            for (std::size_t r = 0; r < rounds; ++r) {
                const std::ptrdiff_t* off = offsets.data() + r * per_round;
                if (split_columns) {
                    const std::size_t c0 = n * t / threads, c1 = n * (t + 1) / threads;
                    k.rows_add(a.data() + c0, off, w.data(), per_round, c1 - c0, image.data() + c0);
                } else {
                    const std::size_t i0 = per_round * t / threads, i1 = per_round * (t + 1) / threads;
                    k.rows_add(a.data(), off + i0, w.data(), i1 - i0, n, image.data() + t * (n + 64));
                }
                if (threads > 1) meeting.wait(threads);
            }
        });
    };
    const std::size_t passes = std::max<std::size_t>(1, rounds * per_round / n);
    const auto stream_run = [&](unsigned threads) {
        return detail_rows::on_threads(threads, [&](unsigned t) {
            const std::vector<float>& m = t == 0 ? a : b;
            const bool wide = arch_supported(Arch::avx512);
            for (std::size_t p = 0; p < passes; ++p)
                stream_sink = wide ? sum_avx512(m.data(), m.size()) : sum_sse2(m.data(), m.size());
        });
    };
    RowReadScaling s;
    const double one = best_of_3([&] { return rows_run(1, true); });
    s.columns = one / best_of_3([&] { return rows_run(2, true); });
    s.rows = one / best_of_3([&] { return rows_run(2, false); });
    // Two threads each stream as much as one: twice the work in the time.
    s.stream = 2 * best_of_3([&] { return stream_run(1); }) / best_of_3([&] { return stream_run(2); });
    return s;
}

}  // namespace signcut::bench
