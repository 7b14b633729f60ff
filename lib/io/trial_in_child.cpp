// A read tried first in a child process.
#include "trial_in_child.hpp"

#include <fcntl.h>
#include <poll.h>
#include <sys/resource.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cerrno>
#include <csignal>
#include <cstdio>
#include <cstring>

#include <fmt/format.h>

namespace signcut::io {
namespace {

/// The child's data size now (VmData of /proc/self/status), in bytes, or 0.
std::uint64_t data_size()
{
    std::FILE* f = std::fopen("/proc/self/status", "r");
    if (f == nullptr) return 0;
    char line[256];
    unsigned long long kib = 0;
    while (std::fgets(line, sizeof line, f) != nullptr)
        if (std::sscanf(line, "VmData: %llu kB", &kib) == 1) break;
    std::fclose(f);
    return std::uint64_t{kib} * 1024;
}

/// The exit status of an attempt that returned false or threw; any other
/// non-zero status is a crash (a sanitizer ends a process with one of its own).
constexpr int attempt_failed = 1;

[[noreturn]] void run_child(const std::function<bool()>& attempt)
{
    // Nothing the child says reaches the parent's terminal: a crash report
    // there would be the parent's second line.
    if (const int null = ::open("/dev/null", O_WRONLY | O_CLOEXEC); null >= 0) {
        ::dup2(null, STDOUT_FILENO);
        ::dup2(null, STDERR_FILENO);
        ::close(null);
    }
    // The parent's stop-signal handlers remove the parent's unfinished
    // outputs; a Ctrl-C reaching both must not run them twice. Ignored
    // signals stay ignored, as the parent keeps them.
    for (const int s : {SIGINT, SIGTERM, SIGHUP, SIGPIPE, SIGQUIT}) {
        struct sigaction current {};
        if (::sigaction(s, nullptr, &current) == 0 && current.sa_handler != SIG_IGN) std::signal(s, SIG_DFL);
    }
    // A damaged length can ask for any amount of memory: the child gets
    // 1 GiB more than it holds, and fails rather than swap the machine.
    if (const std::uint64_t held = data_size(); held > 0) {
        struct rlimit limit {};
        if (::getrlimit(RLIMIT_DATA, &limit) == 0) {
            const rlim_t wanted = static_cast<rlim_t>(held + (std::uint64_t{1} << 30));
            if (limit.rlim_max == RLIM_INFINITY || wanted < limit.rlim_max) {
                limit.rlim_cur = wanted;
                ::setrlimit(RLIMIT_DATA, &limit);
            }
        }
    }
    bool ok = false;
    try {
        ok = attempt();
    } catch (...) {
        ok = false;
    }
    ::_exit(ok ? 0 : attempt_failed);
}

std::string signal_detail(int s)
{
    const char* name = ::sigabbrev_np(s);
    return name != nullptr ? fmt::format("signal {}, SIG{}", s, name) : fmt::format("signal {}", s);
}

}  // namespace

Trial trial_in_child(const std::function<bool()>& attempt, std::chrono::milliseconds limit)
{
    // The child holds the pipe's write end until it exits: the parent waits
    // for the end of the pipe with a deadline, which waitpid cannot give.
    int ends[2];
    if (::pipe2(ends, O_CLOEXEC) != 0) {
        const int err = errno;
        return {TrialOutcome::unavailable, fmt::format("cannot create a pipe: {}", std::strerror(err))};
    }
    std::fflush(nullptr);  // nothing buffered is written twice
    const pid_t child = ::fork();
    if (child < 0) {
        const int err = errno;
        ::close(ends[0]);
        ::close(ends[1]);
        return {TrialOutcome::unavailable, fmt::format("cannot start a process: {}", std::strerror(err))};
    }
    if (child == 0) {
        ::close(ends[0]);
        run_child(attempt);
    }
    ::close(ends[1]);

    const auto deadline = std::chrono::steady_clock::now() + limit;
    bool ended = false;
    for (;;) {
        const auto left = std::chrono::duration_cast<std::chrono::milliseconds>(deadline -
                                                                                std::chrono::steady_clock::now());
        if (left.count() <= 0) break;
        pollfd p{ends[0], POLLIN, 0};
        const int ready = ::poll(&p, 1, static_cast<int>(std::min<std::int64_t>(left.count(), 1 << 30)));
        if (ready < 0 && errno == EINTR) continue;
        if (ready < 0) break;
        if (ready > 0) {
            char byte;
            const ssize_t n = ::read(ends[0], &byte, 1);
            if (n == 0 || (n < 0 && errno != EINTR && errno != EAGAIN)) {
                ended = true;
                break;
            }
        }
    }
    ::close(ends[0]);
    if (!ended) ::kill(child, SIGKILL);
    int status = 0;
    while (::waitpid(child, &status, 0) < 0 && errno == EINTR) {
    }
    if (!ended)
        return {TrialOutcome::timed_out,
                fmt::format("did not end within {:.0f} s", std::chrono::duration<double>(limit).count())};
    if (WIFSIGNALED(status))
        return {TrialOutcome::crashed, fmt::format("crashed ({})", signal_detail(WTERMSIG(status)))};
    if (WIFEXITED(status) && WEXITSTATUS(status) == 0) return {TrialOutcome::succeeded, "succeeded"};
    if (WIFEXITED(status) && WEXITSTATUS(status) == attempt_failed) return {TrialOutcome::failed, "failed"};
    return {TrialOutcome::crashed, fmt::format("crashed (exit status {})", WEXITSTATUS(status))};
}

}  // namespace signcut::io
