// Static partitioning of independent output ranges over threads.
//
// Every parallel loop in signcut splits its *output* into contiguous ranges,
// one per thread, and each output element is computed by exactly one thread
// in the same order as without threads: results are bit-identical for every
// thread count.
#pragma once

#include <algorithm>
#include <cstddef>
#include <exception>
#include <thread>
#include <vector>

namespace signcut::detail {

/// Calls fn(begin, end) on `threads` contiguous pieces of [0, n) (fewer when
/// n is small or the work is below `min_work_per_thread`).
template <class Fn>
void parallel_ranges(unsigned threads, std::size_t n, std::size_t work_per_item, Fn&& fn,
                     std::size_t min_work_per_thread = std::size_t{1} << 18)
{
    std::size_t t = std::max(1u, threads);
    if (work_per_item > 0) t = std::min(t, std::max<std::size_t>(1, n * work_per_item / min_work_per_thread));
    t = std::min(t, std::max<std::size_t>(1, n));
    if (t <= 1) {
        fn(std::size_t{0}, n);
        return;
    }
    std::vector<std::thread> pool;
    std::vector<std::exception_ptr> errors(t);
    pool.reserve(t - 1);
    auto piece = [&](std::size_t i) {
        const std::size_t b = n * i / t, e = n * (i + 1) / t;
        try {
            if (b < e) fn(b, e);
        } catch (...) {
            errors[i] = std::current_exception();
        }
    };
    for (std::size_t i = 1; i < t; ++i) pool.emplace_back(piece, i);
    piece(0);
    for (auto& th : pool) th.join();
    for (auto& e : errors)
        if (e) std::rethrow_exception(e);
}

}  // namespace signcut::detail
