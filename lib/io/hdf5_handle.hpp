// Internal: owning wrappers for HDF5 identifiers and the error plumbing that
// turns HDF5 failures into signcut::Error.
#pragma once

#include <hdf5.h>

#include <string>
#include <string_view>
#include <utility>

#include <fmt/format.h>

#include "signcut/error.hpp"

namespace signcut::h5 {

/// Owns one hid_t and releases it with `Close` (H5Fclose, H5Dclose, ...).
/// Move-only; a negative id means "nothing owned".
template <herr_t (*Close)(hid_t)>
class Id {
public:
    Id() = default;
    explicit Id(hid_t id) noexcept : id_(id) {}
    Id(const Id&) = delete;
    Id& operator=(const Id&) = delete;
    Id(Id&& other) noexcept : id_(std::exchange(other.id_, H5I_INVALID_HID)) {}
    Id& operator=(Id&& other) noexcept
    {
        if (this != &other) {
            reset();
            id_ = std::exchange(other.id_, H5I_INVALID_HID);
        }
        return *this;
    }
    ~Id() { reset(); }

    hid_t get() const noexcept { return id_; }
    explicit operator bool() const noexcept { return id_ >= 0; }

    /// Closes now; a failure is ignored (destructor semantics).
    void reset() noexcept
    {
        if (id_ >= 0) Close(id_);
        id_ = H5I_INVALID_HID;
    }
    /// Closes now and reports whether HDF5 succeeded: for files opened for
    /// writing, closing is where buffered data reaches the disk.
    bool close() noexcept
    {
        if (id_ < 0) return true;
        const herr_t status = Close(std::exchange(id_, H5I_INVALID_HID));
        return status >= 0;
    }

private:
    hid_t id_ = H5I_INVALID_HID;
};

using File = Id<H5Fclose>;
using Group = Id<H5Gclose>;
using Dataset = Id<H5Dclose>;
using Attribute = Id<H5Aclose>;
using Dataspace = Id<H5Sclose>;
using Datatype = Id<H5Tclose>;
using PropList = Id<H5Pclose>;
using Object = Id<H5Oclose>;

/// Switches HDF5's automatic error printing off for its lifetime and restores
/// the caller's setting afterwards: signcut reports every failure itself, as
/// one line, and a host program's own HDF5 settings stay untouched.
class QuietErrors {
public:
    QuietErrors() noexcept
    {
        saved_ok_ = H5Eget_auto2(H5E_DEFAULT, &func_, &data_) >= 0;
        H5Eset_auto2(H5E_DEFAULT, nullptr, nullptr);
    }
    ~QuietErrors()
    {
        if (saved_ok_) H5Eset_auto2(H5E_DEFAULT, func_, data_);
    }
    QuietErrors(const QuietErrors&) = delete;
    QuietErrors& operator=(const QuietErrors&) = delete;

private:
    H5E_auto2_t func_ = nullptr;
    void* data_ = nullptr;
    bool saved_ok_ = false;
};

/// The most specific message on HDF5's current error stack (the innermost
/// function that detected the problem, e.g. "truncated file: eof = 96, ..."),
/// or an empty string; clears the stack.
std::string last_error_detail();

/// Throws Error(code, message + ": " + HDF5's detail) — the detail is added
/// only when HDF5 recorded one.
[[noreturn]] void fail(errc code, std::string message);

/// `id` if it is valid, else fail(code, message).
inline hid_t check(hid_t id, errc code, std::string_view message)
{
    if (id < 0) fail(code, std::string(message));
    return id;
}
inline void check_status(herr_t status, errc code, std::string_view message)
{
    if (status < 0) fail(code, std::string(message));
}

/// File access properties used for every file signcut opens: file locking is
/// kept, but a file system without lock support does not make opening fail.
PropList file_access_properties();

/// The same, for files signcut writes or edits: objects it creates use
/// HDF5's 1.10 format, whose metadata is checksummed.
PropList writing_access_properties();

/// Opens an existing HDF5 file read-only. Distinguishes a missing or
/// unreadable file (errc::io, with the OS's reason), a file that is not HDF5
/// (errc::bad_input) and a damaged one (errc::bad_input, HDF5's detail).
/// `access`, if given, replaces file_access_properties() (the MPI front end
/// opens its input with MPI-IO).
File open_read_only(const std::string& path, hid_t access = H5I_INVALID_HID);

/// Creates (truncating) an HDF5 file for writing at `path` — in practice the
/// temporary file of an AtomicOutput. The root group records no times.
File create_file(const std::string& path, const std::string& shown_name);

/// Creation properties (H5P_DATASET_CREATE, H5P_GROUP_CREATE, ...) with
/// object time tracking off, so that equal inputs give equal bytes.
PropList untimed_creation_properties(hid_t property_class);

/// Does `loc` have a link `name` (a path, possibly nested)? Never throws for
/// missing intermediate groups.
bool link_exists(hid_t loc, const std::string& name);

/// "integer", "float", "string", "compound", "enum", ... for messages.
std::string class_name(H5T_class_t type_class);

}  // namespace signcut::h5
