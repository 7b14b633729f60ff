// New HDF5 files, and single objects added to existing ones through a copy.
#include "hdf5_output.hpp"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <climits>
#include <cstdlib>
#include <cstring>
#include <span>
#include <vector>

#include <fmt/format.h>

#include "signcut/error.hpp"
#include "signcut/hdf5.hpp"

namespace signcut::io {
// "." and ".." are refused rather than resolved: HDF5 has no such names,
// and a user who types them means a path signcut cannot honour.
std::string normalized_object(const std::string& file, const std::string& object)
{
    std::string out;
    std::size_t pos = 0;
    while (pos <= object.size()) {
        std::size_t next = object.find('/', pos);
        if (next == std::string::npos) next = object.size();
        const std::string part = object.substr(pos, next - pos);
        if (part == "." || part == "..")
            throw Error(errc::invalid_argument,
                        fmt::format("{}:{}: '{}' is not an HDF5 object name; give the path from the root, e.g. {}:/x",
                                    file, object, part, file));
        if (!part.empty()) out += "/" + part;
        pos = next + 1;
    }
    if (out.empty())
        throw Error(errc::invalid_argument,
                    fmt::format("{}:{} names the root group; name an object below it, e.g. {}:/data", file, object,
                                file));
    return out;
}

namespace {

/// The file a rename must replace: a symbolic link's final target, so the
/// link itself survives the edit.
std::string resolved(const std::string& file)
{
    char buffer[PATH_MAX];
    if (::realpath(file.c_str(), buffer) == nullptr) return file;
    return buffer;
}

/// What kind of object `name` is in `file`, or H5O_TYPE_UNKNOWN if absent.
H5O_type_t object_type(hid_t file, const std::string& name)
{
    if (!h5::link_exists(file, name)) return H5O_TYPE_UNKNOWN;
    H5O_info_t info{};
    if (H5Oget_info_by_name2(file, name.c_str(), &info, H5O_INFO_BASIC, H5P_DEFAULT) < 0) {
        H5Eclear2(H5E_DEFAULT);
        return H5O_TYPE_UNKNOWN;
    }
    return info.type;
}

const char* type_name(H5O_type_t type)
{
    switch (type) {
    case H5O_TYPE_GROUP: return "a group";
    case H5O_TYPE_DATASET: return "a dataset";
    case H5O_TYPE_NAMED_DATATYPE: return "a named datatype";
    default: return "an object";
    }
}

}  // namespace

/// Decides, before anything is written, whether this is a new file or an
/// edit, and refuses what cannot be done: an existing non-HDF5 file, an
/// existing object without force, a path through a dataset.
Hdf5Output::Plan Hdf5Output::plan(const std::string& file, const std::string& object, bool force)
{
    Plan p;
    p.target = file;
    p.shown = file;
    if (object.empty()) return p;
    p.object = normalized_object(file, object);
    p.shown = fmt::format("{}:{}", file, p.object);

    struct stat st {};
    if (::stat(file.c_str(), &st) != 0) return p;  // a new file (the caller checked the folder)
    if (S_ISDIR(st.st_mode)) throw Error(errc::io, fmt::format("cannot write {}: {} is a folder", p.shown, file));
    if (!S_ISREG(st.st_mode))
        throw Error(errc::io, fmt::format("cannot write {}: {} is not a regular file", p.shown, file));
    if (st.st_size == 0)
        throw Error(errc::bad_input,
                    fmt::format("cannot add {} to {}: the file is empty, not HDF5 (remove it, or write a new file)",
                                p.object, file));
    const htri_t is_hdf5 = H5Fis_hdf5(file.c_str());
    if (is_hdf5 <= 0) {
        H5Eclear2(H5E_DEFAULT);
        throw Error(errc::bad_input, fmt::format("cannot add {} to {}: it exists and is not an HDF5 file", p.object,
                                                 file));
    }
    h5::File existing = h5::open_read_only(file);
    // Every group on the way must be a group: HDF5 cannot put an object
    // below a dataset.
    for (std::size_t pos = p.object.find('/', 1); pos != std::string::npos; pos = p.object.find('/', pos + 1)) {
        const std::string parent = p.object.substr(0, pos);
        const H5O_type_t type = object_type(existing.get(), parent);
        if (type != H5O_TYPE_UNKNOWN && type != H5O_TYPE_GROUP)
            throw Error(errc::bad_input, fmt::format("cannot write {}: {} in {} is {}, not a group", p.shown, parent,
                                                     file, type_name(type)));
    }
    const H5O_type_t type = object_type(existing.get(), p.object);
    if (type != H5O_TYPE_UNKNOWN && !force)
        throw Error(errc::io, fmt::format("{} exists ({}); use --force to replace it (the rest of {} is kept)", p.shown,
                                          type_name(type), file));
    if (!h5::link_exists(existing.get(), p.object) && type == H5O_TYPE_UNKNOWN) {
        // A dangling soft or external link of that name is a link too.
        if (H5Lexists(existing.get(), p.object.c_str(), H5P_DEFAULT) > 0 && !force)
            throw Error(errc::io, fmt::format("{} exists (a link); use --force to replace it", p.shown));
        H5Eclear2(H5E_DEFAULT);
    }
    p.target = resolved(file);
    p.editing = true;
    return p;
}

void split_object_spec(const std::string& spec, std::string& file, std::string& object)
{
    const auto colon = spec.rfind(":/");
    if (colon != std::string::npos && colon > 0) {
        file = spec.substr(0, colon);
        object = spec.substr(colon + 1);
    } else {
        file = spec;
        object.clear();
    }
}

Hdf5Output::Hdf5Output(const std::string& file, const std::string& object, bool force)
    : Hdf5Output(plan(file, object, force), force)
{
}

Hdf5Output::Hdf5Output(Plan p, bool force)
    : target_(std::move(p.target)),
      object_(std::move(p.object)),
      shown_(std::move(p.shown)),
      editing_(p.editing),
      // An edit replaces the file by design; the object-level check is done.
      output_(target_, editing_ || force)
{
    if (editing_) {
        struct stat original {};
        if (::stat(target_.c_str(), &original) != 0) {
            const int err = errno;
            throw Error(errc::io, fmt::format("cannot read {}: {}", target_, std::strerror(err)));
        }
        output_.copy_from(target_);
        output_.keep_mode_and_owner(original);
        h5::PropList fapl = h5::writing_access_properties();
        file_ = h5::File(H5Fopen(output_.temporary_path().c_str(), H5F_ACC_RDWR, fapl.get()));
        if (!file_) h5::fail(errc::io, fmt::format("cannot open a copy of {} for writing", target_));
        if (h5::link_exists(file_.get(), object_) || H5Lexists(file_.get(), object_.c_str(), H5P_DEFAULT) > 0) {
            if (H5Ldelete(file_.get(), object_.c_str(), H5P_DEFAULT) < 0)
                h5::fail(errc::io, fmt::format("cannot replace {}", shown_));
        }
        H5Eclear2(H5E_DEFAULT);
    } else {
        file_ = h5::create_file(output_.temporary_path(), target_);
    }
}

void Hdf5Output::create_parent_groups()
{
    if (object_.empty()) return;
    h5::PropList gcpl = h5::untimed_creation_properties(H5P_GROUP_CREATE);
    for (std::size_t pos = object_.find('/', 1); pos != std::string::npos; pos = object_.find('/', pos + 1)) {
        const std::string group = object_.substr(0, pos);
        if (h5::link_exists(file_.get(), group)) continue;
        h5::Group g(H5Gcreate2(file_.get(), group.c_str(), H5P_DEFAULT, gcpl.get(), H5P_DEFAULT));
        if (!g) h5::fail(errc::io, fmt::format("cannot create group {} in {}", group, target_));
    }
}

h5::Group Hdf5Output::open_root_group()
{
    if (object_.empty()) {
        h5::Group root(H5Gopen2(file_.get(), "/", H5P_DEFAULT));
        if (!root) h5::fail(errc::io, fmt::format("cannot open the root group of {}", shown_));
        return root;
    }
    create_parent_groups();
    h5::PropList gcpl = h5::untimed_creation_properties(H5P_GROUP_CREATE);
    h5::Group g(H5Gcreate2(file_.get(), object_.c_str(), H5P_DEFAULT, gcpl.get(), H5P_DEFAULT));
    if (!g) h5::fail(errc::io, fmt::format("cannot create group {}", shown_));
    return g;
}

void Hdf5Output::close_file()
{
    if (!file_.close()) h5::fail(errc::io, fmt::format("cannot write {}", shown_));
}

void Hdf5Output::reserve_space(std::uint64_t bytes)
{
    const std::string& path = temporary_path();
    const int fd = ::open(path.c_str(), O_WRONLY | O_CLOEXEC);
    if (fd < 0) throw Error(errc::io, fmt::format("cannot open {} to reserve its space: {}", path, std::strerror(errno)));
    struct stat st {};
    int err = ::fstat(fd, &st) == 0 ? 0 : errno;
    // posix_fallocate returns its error rather than setting errno.
    if (err == 0 && bytes > 0) err = ::posix_fallocate(fd, st.st_size, static_cast<off_t>(bytes));
    ::close(fd);
    if (err == 0) return;
    // A file system that cannot reserve space still takes the writes.
    if (err == EOPNOTSUPP || err == EINVAL) return;
    throw Error(errc::io, fmt::format("no room for {}: its writes need up to {} bytes more on the disk ({})", shown_,
                                      bytes, std::strerror(err)));
}

void Hdf5Output::release_unused_space()
{
    const std::string& path = temporary_path();
    std::uint64_t end = 0;
    {
        h5::File file(H5Fopen(path.c_str(), H5F_ACC_RDONLY, H5P_DEFAULT));
        h5::PropList fcpl(file ? H5Fget_create_plist(file.get()) : H5I_INVALID_HID);
        haddr_t eoa = 0;
        hsize_t user_block = 0;
        if (!file || !fcpl || H5Fget_eoa(file.get(), &eoa) < 0 || H5Pget_userblock(fcpl.get(), &user_block) < 0)
            h5::fail(errc::io, fmt::format("cannot read back {}", shown_));
        // HDF5's addresses start after the user block; H5Fget_eoa adds it
        // back. Never below the user block's end, whatever a release does.
        end = std::max(std::uint64_t{eoa}, std::uint64_t{user_block});
    }
    struct stat st {};
    if (::stat(path.c_str(), &st) != 0)
        throw Error(errc::io, fmt::format("cannot read back {}: {}", shown_, std::strerror(errno)));
    if (std::uint64_t(st.st_size) > end && ::truncate(path.c_str(), static_cast<off_t>(end)) != 0)
        throw Error(errc::io, fmt::format("cannot give back the space reserved for {}: {}", shown_,
                                          std::strerror(errno)));
}

void Hdf5Output::commit()
{
    if (!file_.close()) h5::fail(errc::io, fmt::format("cannot write {}", shown_));
    output_.commit();
}

}  // namespace signcut::io

namespace signcut {
namespace {

/// Is `inner` the object `outer` or below it ("/a" holds "/a" and "/a/b")?
bool within(const std::string& inner, const std::string& outer)
{
    return inner == outer || (inner.size() > outer.size() && inner.compare(0, outer.size(), outer) == 0 &&
                              (outer == "/" || inner[outer.size()] == '/'));
}

}  // namespace

std::vector<std::string> check_output_object(const std::string& file, const std::string& object,
                                             std::span<const ObjectRef> inputs, bool force)
{
    h5::QuietErrors quiet;
    std::vector<std::string> warnings;
    // The folder's checks; the file itself may exist (it is edited).
    check_output_path(file, {}, true);
    // The inputs first: an output that is the input is refused even with
    // --force, so that is the message to give.
    const std::string path = io::normalized_object(file, object);
    const std::string shown = fmt::format("{}:{}", file, path);
    struct stat out {};
    const bool exists = ::stat(file.c_str(), &out) == 0;
    for (const ObjectRef& input : inputs) {
        struct stat in {};
        if (!exists || ::stat(input.file.c_str(), &in) != 0 || in.st_dev != out.st_dev || in.st_ino != out.st_ino)
            continue;
        if (input.object.empty() || input.object == "/")
            throw Error(errc::io, fmt::format("refusing to write {}: it is the input file {}", shown, input.file));
        if (input.object == path)
            throw Error(errc::io, fmt::format("refusing to write {}: it is the input", shown));
        if (within(input.object, path))
            throw Error(errc::io, fmt::format("refusing to write {}: replacing it would remove the input {}", shown,
                                              input.object));
        if (within(path, input.object))
            throw Error(errc::io, fmt::format("refusing to write {}: it lies inside the input {}", shown, input.object));
    }
    const io::Hdf5Output::Plan plan = io::Hdf5Output::plan(file, object, force);
    if (plan.editing && out.st_nlink > 1)
        warnings.push_back(fmt::format("{} has {} other hard links; they keep the old contents (the edited file "
                                       "is a new file renamed over this name)",
                                       file, out.st_nlink - 1));
    return warnings;
}

}  // namespace signcut
