// Ctrl-C during a long library call from Python.
//
// The library runs with the GIL released, so Python's own SIGINT handler
// only sets a flag; the flag is read by PyErr_CheckSignals, which must run
// on the main thread with the GIL held. The decomposer calls its progress
// callback after every term (one block) or every block (several), from
// whichever thread finished the work: on the calling thread the check takes
// the GIL for a moment and asks Python; on the others it only reports a
// request already seen. Asking at most every 50 ms keeps a busy Python
// thread elsewhere from slowing every term down to its switch interval.
#pragma once

#include <atomic>
#include <chrono>
#include <memory>
#include <thread>

#include <pybind11/pybind11.h>

namespace signcut::python {

class InterruptCheck {
public:
    InterruptCheck() : caller_(std::this_thread::get_id()) {}

    /// True to go on, false once Python has an exception to raise (the
    /// KeyboardInterrupt of a Ctrl-C, or whatever a Python signal handler
    /// raised). Called with the GIL released.
    bool keep_going()
    {
        if (interrupted_.load(std::memory_order_relaxed)) return false;
        if (std::this_thread::get_id() != caller_) return true;
        const auto now = std::chrono::steady_clock::now();
        if (now - last_check_ < interval) return true;
        last_check_ = now;
        pybind11::gil_scoped_acquire gil;
        if (PyErr_CheckSignals() == 0) return true;
        error_ = std::make_unique<pybind11::error_already_set>();  // takes the pending exception
        interrupted_.store(true, std::memory_order_relaxed);
        return false;
    }

    /// After the call, with the GIL held: raises the exception the check
    /// took, if any.
    void raise_if_interrupted()
    {
        if (error_) {
            pybind11::error_already_set e = *error_;
            error_.reset();
            throw e;
        }
    }

private:
    static constexpr std::chrono::milliseconds interval{50};
    std::thread::id caller_;
    std::chrono::steady_clock::time_point last_check_{};
    std::atomic<bool> interrupted_{false};
    std::unique_ptr<pybind11::error_already_set> error_;
};

}  // namespace signcut::python
