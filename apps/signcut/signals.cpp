#include "signals.hpp"

#include <csignal>
#include <initializer_list>

#include "signcut/unfinished_outputs.hpp"

namespace signcut::cli {
namespace {

extern "C" void remove_temporaries_and_stop(int sig)
{
    signcut::remove_unfinished_outputs();
    // SA_RESETHAND has put back the default action; the signal is blocked
    // while this handler runs and delivered, with that action, on return.
    std::raise(sig);
}

}  // namespace

void handle_stop_signals()
{
    struct sigaction stop {};
    stop.sa_handler = remove_temporaries_and_stop;
    sigemptyset(&stop.sa_mask);
    for (const int sig : {SIGINT, SIGTERM, SIGHUP, SIGPIPE}) sigaddset(&stop.sa_mask, sig);
    stop.sa_flags = SA_RESETHAND;
    for (const int sig : {SIGINT, SIGTERM, SIGHUP, SIGPIPE}) {
        struct sigaction old {};
        // A signal the caller chose to ignore (nohup, a shell's background
        // job) stays ignored.
        if (sigaction(sig, nullptr, &old) == 0 && old.sa_handler == SIG_IGN) continue;
        sigaction(sig, &stop, nullptr);
    }
    struct sigaction ignore {};
    ignore.sa_handler = SIG_IGN;
    sigemptyset(&ignore.sa_mask);
    sigaction(SIGXFSZ, &ignore, nullptr);
}

}  // namespace signcut::cli
