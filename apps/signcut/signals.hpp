// How the signcut command ends when a signal stops it.
#pragma once

namespace signcut::cli {

/// SIGINT, SIGTERM, SIGHUP and SIGPIPE remove the temporaries of outputs
/// being written, then end the process as the signal would have (so the
/// shell sees the signal); SIGXFSZ is ignored, so that a write beyond
/// `ulimit -f` fails like a full disk, with an error line, and the output's
/// temporary is removed on the way out.
void handle_stop_signals();

}  // namespace signcut::cli
