// Atomic outputs and output path checks.
#include "atomic_output.hpp"
#include "signcut/files.hpp"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstdio>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <span>
#include <string>
#include <vector>

#include <fmt/format.h>

#include "signcut/error.hpp"
#include "signcut/hdf5.hpp"
#include "signcut/unfinished_outputs.hpp"

namespace signcut {
namespace io {
namespace {

std::string os_reason(int err) { return std::strerror(err); }

/// The folder an output path lives in ("." for a bare file name).
std::string folder_of(const std::string& path)
{
    const std::filesystem::path parent = std::filesystem::path(path).parent_path();
    return parent.empty() ? std::string(".") : parent.string();
}

/// The process's umask, read without changing it (umask(2) can only set it,
/// which would race with other threads creating files). Linux reports it in
/// /proc/self/status since 4.7; elsewhere assume the common 022.
mode_t current_umask()
{
    std::ifstream status("/proc/self/status");
    std::string line;
    while (std::getline(status, line)) {
        if (line.rfind("Umask:", 0) == 0) {
            try {
                return static_cast<mode_t>(std::stoul(line.substr(6), nullptr, 8));
            } catch (...) {
                break;
            }
        }
    }
    return 022;
}

void refuse_existing(const std::string& target)
{
    throw Error(errc::io, fmt::format("{} exists; use --force to replace it", target));
}

}  // namespace

AtomicOutput::AtomicOutput(std::string target, bool force) : target_(std::move(target)), force_(force)
{
    if (target_.empty()) throw Error(errc::invalid_argument, "the output path is empty");
    struct stat st {};
    if (::stat(target_.c_str(), &st) == 0) {
        if (S_ISDIR(st.st_mode)) throw Error(errc::io, fmt::format("cannot write {}: it is a folder", target_));
        if (!force_) refuse_existing(target_);
    }

    std::string name = std::filesystem::path(target_).filename().string();
    // Keep the temporary's name within NAME_MAX (255) whatever the output's.
    if (name.size() > 200) name.resize(200);
    temp_ = (std::filesystem::path(folder_of(target_)) / fmt::format(".{}.signcut-tmp-XXXXXX", name)).string();
    fd_ = create_unfinished_output(temp_.data(), &unfinished_ticket_);
    if (fd_ < 0) {
        const int err = errno;
        throw Error(errc::io, fmt::format("cannot create a temporary file in {} for {}: {}", folder_of(target_),
                                          target_, os_reason(err)));
    }
}

AtomicOutput::~AtomicOutput()
{
    if (fd_ >= 0) ::close(fd_);
    if (!committed_) ::unlink(temp_.c_str());
    untrack_unfinished_output(unfinished_ticket_);
}

void AtomicOutput::write(const void* data, std::size_t size)
{
    const char* p = static_cast<const char*>(data);
    while (size > 0) {
        const ssize_t n = ::write(fd_, p, size);
        if (n < 0) {
            if (errno == EINTR) continue;
            const int err = errno;
            throw Error(errc::io, fmt::format("cannot write {}: {}", target_, os_reason(err)));
        }
        p += n;
        size -= static_cast<std::size_t>(n);
    }
}

void AtomicOutput::copy_from(const std::string& source)
{
    const int in = ::open(source.c_str(), O_RDONLY | O_CLOEXEC);
    if (in < 0) {
        const int err = errno;
        throw Error(errc::io, fmt::format("cannot read {}: {}", source, os_reason(err)));
    }
    std::vector<char> buffer(std::size_t{1} << 20);
    for (;;) {
        const ssize_t n = ::read(in, buffer.data(), buffer.size());
        if (n < 0) {
            if (errno == EINTR) continue;
            const int err = errno;
            ::close(in);
            throw Error(errc::io, fmt::format("cannot read {}: {}", source, os_reason(err)));
        }
        if (n == 0) break;
        try {
            write(buffer.data(), static_cast<std::size_t>(n));
        } catch (...) {
            ::close(in);
            throw;
        }
    }
    ::close(in);
}

void AtomicOutput::keep_mode_and_owner(const struct ::stat& original) { original_ = original; }

void AtomicOutput::commit()
{
    if (committed_) return;
    struct stat by_fd {}, by_name {};
    if (::fstat(fd_, &by_fd) != 0 || ::stat(temp_.c_str(), &by_name) != 0 || by_fd.st_dev != by_name.st_dev ||
        by_fd.st_ino != by_name.st_ino)
        throw Error(errc::io, fmt::format("cannot write {}: the temporary file {} was replaced or removed while writing",
                                          target_, temp_));

    if (original_) {
        // Owner first: chown clears the set-user-ID and set-group-ID bits,
        // which the chmod below then restores.
        if ((by_fd.st_uid != original_->st_uid || by_fd.st_gid != original_->st_gid) &&
            ::fchown(fd_, original_->st_uid, original_->st_gid) != 0)
            owner_kept_ = false;
    }
    const mode_t mode = original_ ? (original_->st_mode & 07777) : (0666 & ~current_umask());
    if (::fchmod(fd_, mode) != 0) {
        const int err = errno;
        throw Error(errc::io, fmt::format("cannot set the permissions of {}: {}", temp_, os_reason(err)));
    }
    if (::fsync(fd_) != 0) {
        const int err = errno;
        throw Error(errc::io, fmt::format("cannot flush {} to disk: {}", target_, os_reason(err)));
    }
    const int fd = fd_;
    fd_ = -1;
    if (::close(fd) != 0 && errno != EINTR) {
        const int err = errno;
        throw Error(errc::io, fmt::format("cannot write {}: {}", target_, os_reason(err)));
    }

    if (force_) {
        if (std::rename(temp_.c_str(), target_.c_str()) != 0) {
            const int err = errno;
            throw Error(errc::io, fmt::format("cannot move {} to {}: {}", temp_, target_, os_reason(err)));
        }
    } else {
        // Without --force an output that appeared since the constructor's
        // check must survive: RENAME_NOREPLACE makes check and move one step.
        if (::renameat2(AT_FDCWD, temp_.c_str(), AT_FDCWD, target_.c_str(), RENAME_NOREPLACE) != 0) {
            const int err = errno;
            if (err == EEXIST) refuse_existing(target_);
            if (err != EINVAL && err != ENOSYS)
                throw Error(errc::io, fmt::format("cannot move {} to {}: {}", temp_, target_, os_reason(err)));
            // The file system cannot do it atomically: check, then move.
            struct stat st {};
            if (::lstat(target_.c_str(), &st) == 0) refuse_existing(target_);
            if (std::rename(temp_.c_str(), target_.c_str()) != 0) {
                const int err2 = errno;
                throw Error(errc::io, fmt::format("cannot move {} to {}: {}", temp_, target_, os_reason(err2)));
            }
        }
    }
    committed_ = true;
    // After the rename: a signal in between finds no temporary to remove.
    untrack_unfinished_output(unfinished_ticket_);
    unfinished_ticket_ = -1;

    // Make the rename itself durable. Some file systems cannot sync a folder;
    // the output is complete either way, so this is best effort.
    const int dir = ::open(folder_of(target_).c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    if (dir >= 0) {
        ::fsync(dir);
        ::close(dir);
    }
}

}  // namespace io

void check_output_path(const std::string& output, std::span<const std::string> inputs, bool force)
{
    if (output.empty()) throw Error(errc::invalid_argument, "the output path is empty");
    const std::string folder = io::folder_of(output);
    struct stat st {};
    if (::stat(folder.c_str(), &st) != 0) {
        const int err = errno;
        if (err == ENOENT)
            throw Error(errc::io, fmt::format("cannot write {}: folder {} does not exist", output, folder));
        throw Error(errc::io, fmt::format("cannot write {}: folder {}: {}", output, folder, io::os_reason(err)));
    }
    if (!S_ISDIR(st.st_mode))
        throw Error(errc::io, fmt::format("cannot write {}: {} is not a folder", output, folder));
    // W_OK to create the temporary, X_OK to reach it.
    if (::access(folder.c_str(), W_OK | X_OK) != 0) {
        const int err = errno;
        throw Error(errc::io,
                    fmt::format("cannot write {}: folder {} is not writable ({})", output, folder, io::os_reason(err)));
    }

    struct stat out {};
    if (::stat(output.c_str(), &out) != 0) {
        const int err = errno;
        if (err == ENOENT) return;  // a new file, or a dangling symbolic link that the rename will replace
        throw Error(errc::io, fmt::format("cannot write {}: {}", output, io::os_reason(err)));
    }
    if (S_ISDIR(out.st_mode)) throw Error(errc::io, fmt::format("cannot write {}: it is a folder", output));
    for (const std::string& input : inputs) {
        struct stat in {};
        if (::stat(input.c_str(), &in) != 0) continue;
        if (in.st_dev == out.st_dev && in.st_ino == out.st_ino)
            throw Error(errc::io, fmt::format("refusing to write {}: it is the input file {}", output, input));
    }
    if (!force) io::refuse_existing(output);
}

}  // namespace signcut

namespace signcut {

void write_file_atomically(const std::string& path, std::string_view bytes, bool force)
{
    io::AtomicOutput out(path, force);
    out.write(bytes.data(), bytes.size());
    out.commit();
}

}  // namespace signcut
