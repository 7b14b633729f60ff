// Attributes carried from a source dataset into a decomposition and back.
#include "carried_attributes.hpp"

#include <algorithm>
#include <cstring>

#include <fmt/format.h>

#include "signcut/error.hpp"
#include "variable_length.hpp"

namespace signcut::io {
namespace {

/// Larger attributes are not carried: HDF5 keeps attributes in object
/// headers, and no unit or licence text is this large.
constexpr std::uint64_t max_attribute_bytes = std::uint64_t{16} << 20;

using Kind = CarriedAttribute::Kind;

hid_t little_endian_type(Kind kind, std::size_t size)
{
    switch (kind) {
    case Kind::signed_integer:
        return size == 1 ? H5T_STD_I8LE : size == 2 ? H5T_STD_I16LE : size == 4 ? H5T_STD_I32LE : H5T_STD_I64LE;
    case Kind::unsigned_integer:
        return size == 1 ? H5T_STD_U8LE : size == 2 ? H5T_STD_U16LE : size == 4 ? H5T_STD_U32LE : H5T_STD_U64LE;
    case Kind::floating: return size == 4 ? H5T_IEEE_F32LE : H5T_IEEE_F64LE;
    case Kind::string: break;
    }
    return H5I_INVALID_HID;
}

h5::Datatype fixed_string_type(std::size_t size)
{
    h5::Datatype t(H5Tcopy(H5T_C_S1));
    if (!t || H5Tset_size(t.get(), size) < 0 || H5Tset_strpad(t.get(), H5T_STR_NULLTERM) < 0 ||
        H5Tset_cset(t.get(), H5T_CSET_UTF8) < 0)
        h5::fail(errc::io, "cannot create an HDF5 string type");
    return t;
}

/// The strings of a string attribute, fixed- or variable-length, with
/// padding removed.
std::vector<std::string> read_strings(hid_t attribute, hid_t file_type, std::uint64_t count, const std::string& what)
{
    std::vector<std::string> out;
    out.reserve(static_cast<std::size_t>(count));
    if (H5Tis_variable_str(file_type) > 0) {
        h5::Datatype memory(H5Tcopy(H5T_C_S1));
        H5Tset_size(memory.get(), H5T_VARIABLE);
        H5Tset_cset(memory.get(), H5Tget_cset(file_type));
        std::vector<char*> pointers(static_cast<std::size_t>(count), nullptr);
        if (H5Aread(attribute, memory.get(), pointers.data()) < 0) h5::fail(errc::bad_input, "cannot read " + what);
        for (char* p : pointers) out.emplace_back(p != nullptr ? p : "");
        h5::Dataspace space(H5Aget_space(attribute));
        H5Dvlen_reclaim(memory.get(), space.get(), H5P_DEFAULT, pointers.data());
        return out;
    }
    const std::size_t size = H5Tget_size(file_type);
    std::vector<char> raw(static_cast<std::size_t>(count) * size);
    h5::Datatype memory(H5Tcopy(file_type));
    if (H5Aread(attribute, memory.get(), raw.data()) < 0) h5::fail(errc::bad_input, "cannot read " + what);
    const bool space_padded = H5Tget_strpad(file_type) == H5T_STR_SPACEPAD;
    for (std::uint64_t i = 0; i < count; ++i) {
        const char* p = raw.data() + i * size;
        std::size_t n = std::find(p, p + size, '\0') - p;
        if (space_padded)
            while (n > 0 && p[n - 1] == ' ') --n;
        out.emplace_back(p, n);
    }
    return out;
}

struct Iteration {
    std::vector<std::string> names;
};

herr_t collect_name(hid_t, const char* name, const H5A_info_t*, void* data)
{
    static_cast<Iteration*>(data)->names.emplace_back(name);
    return 0;
}

}  // namespace

std::vector<CarriedAttribute> read_carried_attributes(hid_t object, const std::string& shown,
                                                      std::vector<std::string>* skipped, bool strict)
{
    Iteration it;
    hsize_t index = 0;
    if (H5Aiterate2(object, H5_INDEX_NAME, H5_ITER_INC, &index, collect_name, &it) < 0)
        h5::fail(errc::bad_input, fmt::format("cannot list the attributes of {}", shown));

    std::vector<CarriedAttribute> out;
    for (const std::string& name : it.names) {
        const std::string what = fmt::format("attribute {} of {}", name, shown);
        const auto skip = [&](const std::string& why) {
            if (strict) throw Error(errc::bad_input, fmt::format("{}: {}", what, why));
            if (skipped != nullptr) skipped->push_back(fmt::format("{}: {}", name, why));
        };
        h5::Attribute a(H5Aopen(object, name.c_str(), H5P_DEFAULT));
        if (!a) h5::fail(errc::bad_input, fmt::format("cannot open {}", what));
        h5::Datatype type(H5Aget_type(a.get()));
        h5::Dataspace space(H5Aget_space(a.get()));
        if (!type || !space) h5::fail(errc::bad_input, fmt::format("cannot read {}", what));
        const H5S_class_t space_class = H5Sget_simple_extent_type(space.get());
        if (space_class == H5S_NULL) {
            skip("it holds no value (a null dataspace)");
            continue;
        }
        CarriedAttribute c;
        c.name = name;
        const int rank = H5Sget_simple_extent_ndims(space.get());
        if (rank < 0) h5::fail(errc::bad_input, fmt::format("cannot read {}", what));
        std::vector<hsize_t> dims(static_cast<std::size_t>(rank));
        if (rank > 0) H5Sget_simple_extent_dims(space.get(), dims.data(), nullptr);
        std::uint64_t count = 1;
        for (const hsize_t d : dims) count = d == 0 || count <= UINT64_MAX / d ? count * d : UINT64_MAX;
        c.dims.assign(dims.begin(), dims.end());

        const H5T_class_t type_class = H5Tget_class(type.get());
        const std::size_t size = H5Tget_size(type.get());
        if (size == 0 || count > max_attribute_bytes / size) {
            skip(fmt::format("it is larger than {} MiB", max_attribute_bytes >> 20));
            continue;
        }
        if (type_class == H5T_INTEGER || type_class == H5T_FLOAT) {
            if (type_class == H5T_INTEGER) {
                c.kind = H5Tget_sign(type.get()) == H5T_SGN_NONE ? Kind::unsigned_integer : Kind::signed_integer;
                c.element_size = size <= 1 ? 1 : size <= 2 ? 2 : size <= 4 ? 4 : 8;
                if (size > 8) {
                    skip("its integers are wider than 64 bits");
                    continue;
                }
            } else {
                c.kind = Kind::floating;
                c.element_size = size <= 4 ? 4 : 8;
            }
            c.bytes.resize(static_cast<std::size_t>(count) * c.element_size);
            if (H5Aread(a.get(), little_endian_type(c.kind, c.element_size), c.bytes.data()) < 0)
                h5::fail(errc::bad_input, fmt::format("cannot read {}", what));
        } else if (type_class == H5T_STRING) {
            if (H5Tis_variable_str(type.get()) > 0) {
                if (strict) {
                    skip("a variable-length string (version 2 stores fixed-length strings only)");
                    continue;
                }
                // An input's attribute (h5py writes every str this way): its
                // heap is read first by a child process, where damage can
                // only end the child.
                h5::Datatype memory(H5Tcopy(H5T_C_S1));
                if (!memory || H5Tset_size(memory.get(), H5T_VARIABLE) < 0 ||
                    H5Tset_cset(memory.get(), H5Tget_cset(type.get())) < 0)
                    h5::fail(errc::io, "cannot create an HDF5 string type");
                const Trial trial = trial_attribute_read(a.get(), memory.get());
                if (trial.outcome != TrialOutcome::succeeded) {
                    skip(fmt::format("a variable-length string that could not be read safely: a trial read {}",
                                     trial.detail));
                    continue;
                }
            }
            const std::vector<std::string> strings = read_strings(a.get(), type.get(), count, what);
            std::size_t longest = 0;
            for (const std::string& text : strings) longest = std::max(longest, text.size());
            c.kind = Kind::string;
            c.element_size = longest + 1;
            c.bytes.assign(strings.size() * c.element_size, 0);
            for (std::size_t i = 0; i < strings.size(); ++i)
                std::memcpy(c.bytes.data() + i * c.element_size, strings[i].data(), strings[i].size());
        } else {
            skip(fmt::format("{} values cannot be carried", h5::class_name(type_class)));
            continue;
        }
        out.push_back(std::move(c));
    }
    return out;
}

void write_carried_attributes(hid_t object, std::span<const CarriedAttribute> attributes, const std::string& shown)
{
    for (const CarriedAttribute& c : attributes) {
        const std::string what = fmt::format("attribute {} of {}", c.name, shown);
        std::uint64_t count = 1;
        for (const std::uint64_t d : c.dims) count *= d;
        const bool size_ok = c.kind == Kind::string ? c.element_size >= 1
                             : c.kind == Kind::floating
                                 ? (c.element_size == 4 || c.element_size == 8)
                                 : (c.element_size == 1 || c.element_size == 2 || c.element_size == 4 ||
                                    c.element_size == 8);
        if (c.name.empty() || !size_ok || c.bytes.size() != count * c.element_size)
            throw Error(errc::invalid_argument, fmt::format("cannot write {}: malformed", what));

        h5::Datatype string_type;
        hid_t type = H5I_INVALID_HID;
        if (c.kind == Kind::string) {
            string_type = fixed_string_type(c.element_size);
            type = string_type.get();
        } else {
            type = little_endian_type(c.kind, c.element_size);
        }
        std::vector<hsize_t> dims(c.dims.begin(), c.dims.end());
        h5::Dataspace space(dims.empty() ? H5Screate(H5S_SCALAR)
                                         : H5Screate_simple(static_cast<int>(dims.size()), dims.data(), nullptr));
        if (!space) h5::fail(errc::io, fmt::format("cannot write {}", what));
        if (H5Aexists(object, c.name.c_str()) > 0) H5Adelete(object, c.name.c_str());
        h5::Attribute a(H5Acreate2(object, c.name.c_str(), type, space.get(), H5P_DEFAULT, H5P_DEFAULT));
        if (!a || H5Awrite(a.get(), type, c.bytes.data()) < 0) h5::fail(errc::io, fmt::format("cannot write {}", what));
    }
}

}  // namespace signcut::io
