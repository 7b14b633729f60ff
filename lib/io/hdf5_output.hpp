// Internal: the HDF5 file a writer fills, either a new file or an edited copy
// of an existing one.
#pragma once

#include <string>

#include "atomic_output.hpp"
#include "hdf5_handle.hpp"

namespace signcut::io {

/// Where one writer puts its output.
///
/// * `object` empty: a whole new file at `file`. An existing file is refused,
///   or with `force` replaced as a whole.
/// * `object` "/a/b": that object of `file`. A missing file is created. An
///   existing file must be HDF5: its bytes are copied to a temporary next to
///   it, the object is added to the copy (an existing object of that name is
///   refused, or with `force` unlinked first), and `commit()` renames the
///   copy over the original. Everything else of the file (other objects,
///   attributes, object references, dimension scales, the user block) is
///   kept as HDF5 stored it, because it is never rewritten; the file keeps
///   its mode and, where the OS allows, its owner. A symbolic link is
///   followed, so the link stays and its target is the file edited.
///
/// Either way the original is untouched until the rename, so an interrupted
/// run leaves the old file or the complete new one, never a mixture.
class Hdf5Output {
public:
    Hdf5Output(const std::string& file, const std::string& object, bool force);

    /// The open HDF5 file being written (the temporary).
    hid_t file() const noexcept { return file_.get(); }
    /// The object's absolute path, or "" for a whole new file.
    const std::string& object() const noexcept { return object_; }
    /// "out.h5" or "out.h5:/a/b", for messages.
    const std::string& shown() const noexcept { return shown_; }
    /// True when an existing file is being edited.
    bool editing() const noexcept { return editing_; }
    /// When editing: false if the file's owner could not be kept (the
    /// edited file then belongs to the user who ran signcut).
    bool owner_kept() const noexcept { return output_.owner_kept(); }

    /// Creates the groups above the object (time tracking off).
    void create_parent_groups();

    /// The group a decomposition goes into: the root of a new file, or the
    /// object, created as a group (with its parents).
    h5::Group open_root_group();

    /// Closes the HDF5 file now, leaving the temporary in place, so that
    /// other processes can open it (signcut-mpi's ranks, with MPI-IO) and
    /// fill it before `commit()`.
    void close_file();
    /// After close_file(): sets `bytes` of disk space aside past the
    /// temporary's end (posix_fallocate), so that the writes of other
    /// processes into it cannot run out of space midway, where parallel
    /// HDF5 may wait forever for a rank that failed inside a collective
    /// call. Throws Error(errc::io) naming the figure when the disk (or the
    /// quota) has less; a file system that cannot reserve is left to the
    /// writes.
    void reserve_space(std::uint64_t bytes);
    /// Once the others have written and closed it: cuts the temporary back
    /// to the end of what HDF5 allocated, giving back the reserved space
    /// it did not use.
    void release_unused_space();
    /// The temporary file the output is written into until `commit()`.
    const std::string& temporary_path() const noexcept { return output_.temporary_path(); }

    /// Closes the HDF5 file (where HDF5 writes what it buffered), then
    /// flushes and renames the temporary over the target.
    void commit();

    struct Plan {
        std::string target;
        std::string object;
        std::string shown;
        bool editing = false;
    };
    /// What the constructor will do, decided and checked without writing
    /// anything: refuses an existing non-HDF5 file, a path through a
    /// dataset, an existing object without `force`.
    static Plan plan(const std::string& file, const std::string& object, bool force);

private:
    Hdf5Output(Plan p, bool force);

    std::string target_;  // the file renamed over: `file`, or a symbolic link's target
    std::string object_;
    std::string shown_;
    bool editing_ = false;
    AtomicOutput output_;
    h5::File file_;
};

/// "/a/b" from "a/b", "/a//b/" or "/a/b": the object path as HDF5 names it.
/// Refuses (errc::invalid_argument) the root and "." or ".." components.
std::string normalized_object(const std::string& file, const std::string& object);

/// Splits "FILE.h5:/path" at the last ":/" into file and object ("/path");
/// a spec without one is a file with no object. Used for outputs, which need
/// not exist yet.
void split_object_spec(const std::string& spec, std::string& file, std::string& object);

}  // namespace signcut::io
