// A read tried first in a child process, for reads that can crash or hang
// the process that makes them.
//
// libhdf5 trusts the global heap of a file when it converts variable-length
// data: a damaged heap makes H5Aread and H5Dread read freed or foreign
// memory, or loop for ever (H5HG_read, under H5T__conv_vlen). signcut never
// writes such data, but version-1 decomposition files and the attributes of
// input datasets hold it (h5py stores every Python str as a
// variable-length string). Such a read is first made by a fork of the
// process: the child holds a copy of the parent's memory and of libhdf5's
// state at that instant and reads the same bytes of a file that is open
// read-only, so a read that ends cleanly there ends cleanly in the parent.
// A read that crashes or hangs the child costs the parent nothing but the
// time limit.
#pragma once

#include <chrono>
#include <functional>
#include <string>

namespace signcut::io {

enum class TrialOutcome {
    succeeded,    ///< the attempt returned true in the child
    failed,       ///< it returned false or threw: an ordinary read error
    crashed,      ///< the child died of a signal or ended with another status (a sanitizer's); detail says which
    timed_out,    ///< it ran past the limit and was killed
    unavailable,  ///< no child could be made (detail says why)
};

struct Trial {
    TrialOutcome outcome = TrialOutcome::unavailable;
    std::string detail;  ///< what happened, for a message: "crashed (signal 11, SIGSEGV)"
};

/// Runs `attempt` in a forked child and reports how it ended, waiting at
/// most `limit`. The child makes no HDF5 call beyond the attempt, closes
/// nothing and leaves through _exit: the parent's files and buffers are
/// untouched, and its output goes to /dev/null. Its stop signals go back to their default actions, so the
/// parent's handlers (which remove the parent's unfinished outputs) never
/// run in it, and its memory may grow by at most 1 GiB. Call it from the
/// thread that makes HDF5 calls, with no other thread inside libhdf5.
Trial trial_in_child(const std::function<bool()>& attempt, std::chrono::milliseconds limit);

}  // namespace signcut::io
