// signcut: the one exception type of the library.
#pragma once

#include "signcut/export.hpp"

#include <stdexcept>
#include <string>

namespace signcut {

/// What went wrong, so that a caller (the CLI) can choose an exit status
/// without parsing messages.
enum class errc {
    invalid_argument,  ///< the caller asked for something meaningless (width 0, two stopping rules)
    bad_input,         ///< the data or file is not what it claims to be
    io,                ///< the operating system or a library refused a read or a write
    unsupported,       ///< valid, but this build or CPU cannot do it
    limit,             ///< it would exceed a memory or size limit
    cancelled,         ///< a progress callback asked to stop
};

/// Every error signcut reports is an `Error`; `what()` is one complete line
/// that names the offending value (no trailing newline).
class SIGNCUT_API Error : public std::runtime_error {
public:
    Error(errc code, const std::string& message) : std::runtime_error(message), code_(code) {}
    errc code() const noexcept { return code_; }

private:
    errc code_;
};

}  // namespace signcut
