// signcut: the temporary files of outputs being written, which an
// interrupted process must not leave behind.
//
// Every output signcut writes goes to a temporary file next to it that is
// renamed over it at the end (files.hpp). If the process is stopped in
// between by a signal, the temporary would stay. The library installs no
// signal handler of its own (it runs inside other people's processes);
// a program that wants the temporaries gone calls remove_unfinished_outputs()
// from its own handler, as the signcut command does for SIGINT, SIGTERM,
// SIGHUP and SIGPIPE.
#pragma once

#include "signcut/export.hpp"

namespace signcut {

/// Creates a temporary file as mkstemp(3) does from `path_template` (which
/// ends in "XXXXXX" and receives the name) and records it in the same step:
/// there is no moment at which the file exists but a signal handler would
/// not remove it. Returns the open descriptor, or -1 with errno set; sets
/// `*ticket` to give back to untrack_unfinished_output (-1 when the file
/// could not be recorded: a path over 4095 bytes, or 64 temporaries at once).
SIGNCUT_API int create_unfinished_output(char* path_template, int* ticket) noexcept;

/// Forgets the temporary of `ticket` (-1: nothing).
SIGNCUT_API void untrack_unfinished_output(int ticket) noexcept;

/// Unlinks every recorded temporary. Async-signal-safe: no allocation, no
/// lock, only unlink(2); callable from a signal handler at any moment,
/// including while another thread records or forgets one.
SIGNCUT_API void remove_unfinished_outputs() noexcept;

}  // namespace signcut
