// HDF5 plumbing shared by the dataset and decomposition code.
#include "hdf5_handle.hpp"

#include <sys/stat.h>

#include <cerrno>
#include <cstdio>
#include <cstring>

#include "signcut/hdf5_filter.hpp"

namespace signcut::h5 {
namespace {

/// HDF5's description of a failed system call spells out its whole state
/// over two lines ("file write failed: time = ..., errno = 27, error message
/// = 'File too large', buf = ..."); what a person needs is the first phrase
/// and the system's reason.
std::string condensed(std::string desc)
{
    const std::string key = "error message = '";
    const std::size_t at = desc.find(key);
    if (at != std::string::npos) {
        const std::size_t from = at + key.size();
        const std::size_t to = desc.find('\'', from);
        const std::size_t colon = desc.find(':');
        if (to != std::string::npos && colon != std::string::npos && colon < at)
            desc = desc.substr(0, colon) + ": " + desc.substr(from, to - from);
    }
    for (char& ch : desc)
        if (ch == '\n' || ch == '\r') ch = ' ';
    return desc;
}

herr_t remember_description(unsigned /*n*/, const H5E_error2_t* err, void* data)
{
    if (err->desc != nullptr && err->desc[0] != '\0') *static_cast<std::string*>(data) = condensed(err->desc);
    return 0;
}

}  // namespace

std::string last_error_detail()
{
    std::string detail;
    // Walking downward ends at the innermost function, which usually says
    // what was actually wrong ("truncated file: eof = ...", "object 'x'
    // doesn't exist"); the outer entries only say which call failed.
    H5Ewalk2(H5E_DEFAULT, H5E_WALK_DOWNWARD, remember_description, &detail);
    H5Eclear2(H5E_DEFAULT);
    return detail;
}

void fail(errc code, std::string message)
{
    const std::string detail = last_error_detail();
    if (!detail.empty()) message += fmt::format(" (HDF5: {})", detail);
    throw Error(code, message);
}

PropList file_access_properties()
{
    // Every file signcut opens passes through here, so datasets stored
    // through signcut's own filter read like any other, with no plugin path
    // (a no-op once the filter is registered with this process's HDF5).
    register_hdf5_filter();
    PropList fapl(check(H5Pcreate(H5P_FILE_ACCESS), errc::io, "cannot create HDF5 file access properties"));
    // Close every object of the file with it: nothing can keep a file open
    // behind signcut's back after an exception.
    check_status(H5Pset_fclose_degree(fapl.get(), H5F_CLOSE_STRONG), errc::io, "cannot set the HDF5 close degree");
#if H5_VERSION_GE(1, 10, 7)
    // Network and container file systems often lack locks; HDF5 would refuse
    // to open any file there.
    check_status(H5Pset_file_locking(fapl.get(), true, true), errc::io, "cannot set HDF5 file locking");
#endif
    return fapl;
}

PropList writing_access_properties()
{
    PropList fapl = file_access_properties();
    // HDF5's 1.10 file format, for every object signcut creates: object
    // headers (and with them every attribute), chunk indexes and the
    // superblock carry checksums, so a damaged file is refused where the
    // older format reads on. In the older format one flipped bit in a chunk
    // index's B-tree key hides the chunk, and HDF5 returns its fill value
    // without an error. Pinned to 1.10, not "latest", so a newer HDF5 writes
    // the same bytes and any HDF5 from 1.10 on reads them.
    check_status(H5Pset_libver_bounds(fapl.get(), H5F_LIBVER_V110, H5F_LIBVER_V110), errc::io,
                 "cannot set the HDF5 format version");
    return fapl;
}

File open_read_only(const std::string& path, hid_t access)
{
    struct stat st {};
    if (::stat(path.c_str(), &st) != 0) {
        const int err = errno;
        throw Error(errc::io, fmt::format("cannot open {}: {}", path, std::strerror(err)));
    }
    if (S_ISDIR(st.st_mode)) throw Error(errc::io, fmt::format("cannot open {}: it is a folder", path));
    // A FIFO or a device would block the open, or feed HDF5 a stream it
    // cannot seek in: only regular files are inputs.
    if (!S_ISREG(st.st_mode))
        throw Error(errc::io, fmt::format("cannot open {}: not a regular file (a FIFO, socket or device)", path));
    if (std::FILE* probe = std::fopen(path.c_str(), "rb")) {
        std::fclose(probe);
    } else {
        const int err = errno;
        throw Error(errc::io, fmt::format("cannot open {}: {}", path, std::strerror(err)));
    }

    const htri_t is_hdf5 = H5Fis_hdf5(path.c_str());
    if (is_hdf5 == 0) {
        H5Eclear2(H5E_DEFAULT);
        throw Error(errc::bad_input, fmt::format("{} is not an HDF5 file", path));
    }
    if (is_hdf5 < 0) fail(errc::bad_input, fmt::format("cannot read {} as HDF5", path));

    PropList own;
    if (access < 0) own = file_access_properties();
    const hid_t id = H5Fopen(path.c_str(), H5F_ACC_RDONLY, access < 0 ? own.get() : access);
    if (id < 0) fail(errc::bad_input, fmt::format("cannot open {}: the HDF5 file is damaged or truncated", path));
    return File(id);
}

File create_file(const std::string& path, const std::string& shown_name)
{
    // A file creation property list is also a group creation list: this is
    // where the root group's time tracking is switched off.
    PropList fcpl = untimed_creation_properties(H5P_FILE_CREATE);
    PropList fapl = writing_access_properties();
    const hid_t id = H5Fcreate(path.c_str(), H5F_ACC_TRUNC, fcpl.get(), fapl.get());
    if (id < 0) fail(errc::io, fmt::format("cannot create the HDF5 file {}", shown_name));
    return File(id);
}

PropList untimed_creation_properties(hid_t property_class)
{
    PropList plist(check(H5Pcreate(property_class), errc::io, "cannot create HDF5 creation properties"));
    check_status(H5Pset_obj_track_times(plist.get(), false), errc::io, "cannot switch off HDF5 time tracking");
    return plist;
}

bool link_exists(hid_t loc, const std::string& name)
{
    if (name.empty()) return false;
    // H5Lexists fails (rather than answering false) when an intermediate
    // group is missing, so test each prefix in turn.
    std::size_t pos = name[0] == '/' ? 1 : 0;
    while (pos <= name.size()) {
        std::size_t next = name.find('/', pos);
        if (next == std::string::npos) next = name.size();
        if (next > pos) {
            const std::string prefix = name.substr(0, next);
            const htri_t exists = H5Lexists(loc, prefix.c_str(), H5P_DEFAULT);
            if (exists <= 0) {
                H5Eclear2(H5E_DEFAULT);
                return false;
            }
        }
        pos = next + 1;
    }
    return true;
}

std::string class_name(H5T_class_t type_class)
{
    switch (type_class) {
    case H5T_INTEGER: return "integer";
    case H5T_FLOAT: return "float";
    case H5T_TIME: return "time";
    case H5T_STRING: return "string";
    case H5T_BITFIELD: return "bitfield";
    case H5T_OPAQUE: return "opaque";
    case H5T_COMPOUND: return "compound";
    case H5T_REFERENCE: return "reference";
    case H5T_ENUM: return "enum";
    case H5T_VLEN: return "variable-length";
    case H5T_ARRAY: return "array";
    default: return "unknown";
    }
}

}  // namespace signcut::h5
