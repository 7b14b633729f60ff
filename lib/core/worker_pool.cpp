#include "worker_pool.hpp"

#include <system_error>

#include "spin_pause.hpp"

namespace signcut::detail {
namespace {

thread_local WorkerPool* installed = nullptr;

// A worker spins briefly between steps (they follow each other within
// microseconds during a decomposition), yielding now and then so that it
// does not starve other work on a busy machine, and sleeps after that.
constexpr int spin_rounds = 20000;

template <class T, class Pred>
void spin_then_wait(std::atomic<T>& a, Pred done)
{
    for (int i = 0; i < spin_rounds; ++i) {
        if (done(a.load(std::memory_order_acquire))) return;
        if (i % 1024 == 1023)
            std::this_thread::yield();
        else
            kernels::spin_pause();
    }
    for (T v = a.load(std::memory_order_acquire); !done(v); v = a.load(std::memory_order_acquire)) a.wait(v);
}

}  // namespace

WorkerPool::WorkerPool(unsigned threads) : size_(threads < 1 ? 1 : threads)
{
    try {
        for (unsigned i = 1; i < size_; ++i) workers_.emplace_back([this] { work(); });
    } catch (const std::system_error&) {
        // Fewer threads than asked for (a thread limit, ulimit -v): the pool
        // is as large as what started, and the loops split their work by
        // size(), so results do not change.
    }
    size_ = static_cast<unsigned>(workers_.size()) + 1;
}

WorkerPool::~WorkerPool()
{
    stop_.store(true, std::memory_order_release);
    step_.fetch_add(1, std::memory_order_acq_rel);
    step_.notify_all();
    for (auto& t : workers_) t.join();
}

void WorkerPool::claim_pieces(std::uint32_t step)
{
    for (;;) {
        std::uint64_t v = next_.load(std::memory_order_acquire);
        if ((v >> 32) != step || (v & 0xffffffffu) >= pieces_) return;
        if (!next_.compare_exchange_weak(v, v + 1, std::memory_order_acq_rel)) continue;
        (*task_)(static_cast<unsigned>(v & 0xffffffffu));
        done_.fetch_add(1, std::memory_order_acq_rel);
    }
}

void WorkerPool::work()
{
    std::uint32_t seen = 0;
    for (;;) {
        spin_then_wait(step_, [seen](std::uint32_t s) { return s != seen; });
        seen = step_.load(std::memory_order_acquire);
        if (stop_.load(std::memory_order_acquire)) return;
        claim_pieces(seen);
    }
}

void WorkerPool::run(const std::function<void(unsigned)>& task, unsigned pieces)
{
    if (size_ == 1 || pieces <= 1) {
        for (unsigned i = 0; i < pieces; ++i) task(i);
        return;
    }
    const std::uint32_t step = step_.load(std::memory_order_relaxed) + 1;
    task_ = &task;
    pieces_ = pieces;
    done_.store(0, std::memory_order_relaxed);
    next_.store(static_cast<std::uint64_t>(step) << 32, std::memory_order_release);
    step_.store(step, std::memory_order_release);
    step_.notify_all();
    claim_pieces(step);
    // Every piece is claimed; wait for those still running elsewhere.
    for (int i = 0; done_.load(std::memory_order_acquire) < pieces; ++i)
        if (i % 64 == 63) std::this_thread::yield(); else kernels::spin_pause();
}

WorkerPool* WorkerPool::current() noexcept { return installed; }

WorkerPool::Scope::Scope(WorkerPool* pool) noexcept : saved_(installed) { installed = pool; }
WorkerPool::Scope::~Scope() { installed = saved_; }

}  // namespace signcut::detail
