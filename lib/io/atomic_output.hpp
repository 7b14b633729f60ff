// Internal: an output file that appears all at once or not at all.
#pragma once

#include <sys/stat.h>

#include <cstddef>
#include <optional>
#include <string>

namespace signcut::io {

/// A temporary file in the output's folder, moved over the output by
/// `commit()`. Until then the output is untouched; if the object is
/// destroyed without a commit (an exception, an early return) the temporary
/// is removed.
///
/// The temporary is created exclusively (mkstemp) with a recognisable name,
/// ".NAME.signcut-tmp-XXXXXX", so an interrupted run that could not clean up
/// (a crash, SIGKILL) leaves something a person can identify and delete.
class AtomicOutput {
public:
    /// Refuses an existing `target` unless `force` (errc::io), then creates
    /// the temporary file.
    AtomicOutput(std::string target, bool force);
    ~AtomicOutput();
    AtomicOutput(const AtomicOutput&) = delete;
    AtomicOutput& operator=(const AtomicOutput&) = delete;

    const std::string& target() const noexcept { return target_; }
    /// Where the data goes until `commit()`.
    const std::string& temporary_path() const noexcept { return temp_; }

    /// Appends bytes to the temporary file through its own descriptor
    /// (for writers that produce a byte stream).
    void write(const void* data, std::size_t size);

    /// Copies the bytes of `source` (an existing file) into the temporary,
    /// which must still be empty: the start of an edit of that file.
    void copy_from(const std::string& source);

    /// At commit, give the temporary the permission bits, owner and group of
    /// the file it replaces (`original`, as stat(2) saw it) instead of those
    /// of a new file. The owner is kept where the OS allows it (always for
    /// root and for one's own files); `owner_kept()` says whether it was.
    void keep_mode_and_owner(const struct ::stat& original);
    bool owner_kept() const noexcept { return owner_kept_; }

    /// Gives the temporary the permissions a new file would get (0666 minus
    /// the umask, or the original's with keep_mode_and_owner), flushes it to disk, renames it over the target (refusing,
    /// without `force`, a target that appeared in the meantime) and flushes
    /// the folder. Before that, checks that the temporary path still names the
    /// file created at construction, so nothing else is moved into place.
    void commit();

private:
    std::string target_;
    std::string temp_;
    int fd_ = -1;
    bool force_ = false;
    bool committed_ = false;
    std::optional<struct ::stat> original_;
    bool owner_kept_ = true;
    int unfinished_ticket_ = -1;  ///< the temporary in unfinished_outputs.hpp's table
};

}  // namespace signcut::io
