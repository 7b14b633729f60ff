// A small pool of workers for fork-join steps of a few microseconds.
//
// A decomposer's mode update is often only tens of microseconds of work, so
// starting threads per step would cost more than it saves. A step is cut
// into pieces that whoever is free claims: the caller works too, and if a
// worker is descheduled (a busy machine) the caller simply runs its pieces,
// so a step never waits for a thread that is not running. Which thread runs
// a piece never changes what the piece computes.
#pragma once

#include <atomic>
#include <cstdint>
#include <functional>
#include <thread>
#include <vector>

namespace signcut::detail {

class WorkerPool {
public:
    explicit WorkerPool(unsigned threads);
    ~WorkerPool();
    WorkerPool(const WorkerPool&) = delete;
    WorkerPool& operator=(const WorkerPool&) = delete;

    unsigned size() const noexcept { return size_; }
    /// Runs task(i) for every i in [0, pieces) on the caller and the
    /// workers, and returns when all are done. `task` must not throw.
    void run(const std::function<void(unsigned)>& task, unsigned pieces);

    /// The pool installed on this thread by `Scope`, if any.
    static WorkerPool* current() noexcept;

    /// Installs a pool as `current()` for the lifetime of the scope.
    class Scope {
    public:
        explicit Scope(WorkerPool* pool) noexcept;
        ~Scope();

    private:
        WorkerPool* saved_;
    };

private:
    void work();
    /// Claims and runs pieces of step `step` until none is left.
    void claim_pieces(std::uint32_t step);

    unsigned size_;
    // High 32 bits: the step; low 32 bits: the next piece to claim. Tagging
    // claims with the step keeps a late worker from taking a piece of a
    // later step with an earlier step's task.
    std::atomic<std::uint64_t> next_{0};
    std::atomic<std::uint32_t> step_{0};
    std::atomic<unsigned> done_{0};
    std::atomic<bool> stop_{false};
    const std::function<void(unsigned)>* task_ = nullptr;
    unsigned pieces_ = 0;
    std::vector<std::thread> workers_;
};

}  // namespace signcut::detail
