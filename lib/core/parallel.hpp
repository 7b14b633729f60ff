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
#include <system_error>
#include <thread>
#include <vector>

#include "worker_pool.hpp"

namespace signcut::detail {

/// Calls fn(begin, end) on contiguous pieces of [0, n), one per thread, when
/// n·work_per_item is worth splitting. Uses the installed WorkerPool when
/// there is one (cheap enough for steps of a few microseconds), otherwise
/// starts threads for the call.
template <class Fn>
void parallel_ranges(unsigned threads, std::size_t n, std::size_t work_per_item, Fn&& fn)
{
    WorkerPool* pool = WorkerPool::current();
    // Below this much work a split costs more than it saves.
    const std::size_t min_work = pool ? (std::size_t{1} << 16) : (std::size_t{1} << 18);
    std::size_t t = std::max(1u, pool ? pool->size() : threads);
    if (work_per_item > 0) t = std::min(t, std::max<std::size_t>(1, n * work_per_item / min_work));
    t = std::min(t, std::max<std::size_t>(1, n));
    if (t <= 1) {
        fn(std::size_t{0}, n);
        return;
    }
    std::vector<std::exception_ptr> errors(t);
    auto piece = [&](std::size_t i) {
        const std::size_t b = n * i / t, e = n * (i + 1) / t;
        try {
            if (b < e) fn(b, e);
        } catch (...) {
            errors[i] = std::current_exception();
        }
    };
    if (pool && t == pool->size()) {
        pool->run([&](unsigned i) { piece(i); }, static_cast<unsigned>(t));
    } else {
        std::vector<std::thread> extra;
        std::size_t started = 1;
        try {
            for (; started < t; ++started) extra.emplace_back(piece, started);
        } catch (const std::system_error&) {
            // The system has no more threads (a thread limit, ulimit -v):
            // this thread takes the pieces that found none. The pieces are
            // the same, so the results are too.
        }
        piece(0);
        for (std::size_t i = started; i < t; ++i) piece(i);
        for (auto& th : extra) th.join();
    }
    for (auto& e : errors)
        if (e) std::rethrow_exception(e);
}

}  // namespace signcut::detail
