#include "decomposition_file.hpp"

#include <algorithm>
#include <cstring>

#include <fmt/format.h>

#include "dtype.hpp"
#include "signcut/error.hpp"
#include "signcut/version.hpp"

namespace signcut::io {

// --- writing ---------------------------------------------------------------

namespace {

h5::Dataspace scalar_space()
{
    return h5::Dataspace(h5::check(H5Screate(H5S_SCALAR), errc::io, "cannot create an HDF5 dataspace"));
}

/// Variable-length UTF-8, the string type the format prescribes.
h5::Datatype utf8_string_type()
{
    h5::Datatype type(h5::check(H5Tcopy(H5T_C_S1), errc::io, "cannot create an HDF5 string type"));
    h5::check_status(H5Tset_size(type.get(), H5T_VARIABLE), errc::io, "cannot create an HDF5 string type");
    h5::check_status(H5Tset_cset(type.get(), H5T_CSET_UTF8), errc::io, "cannot create an HDF5 string type");
    return type;
}

}  // namespace

void AttributeWriter::string(const char* name, const std::string& value)
{
    const h5::Datatype type = utf8_string_type();
    const char* text = value.c_str();
    write(name, type.get(), type.get(), scalar_space().get(), &text);
}

void AttributeWriter::u64(const char* name, std::uint64_t value)
{
    write(name, H5T_STD_U64LE, H5T_NATIVE_UINT64, scalar_space().get(), &value);
}

void AttributeWriter::u8(const char* name, std::uint8_t value)
{
    write(name, H5T_STD_U8LE, H5T_NATIVE_UINT8, scalar_space().get(), &value);
}

void AttributeWriter::i32(const char* name, std::int32_t value)
{
    write(name, H5T_STD_I32LE, H5T_NATIVE_INT32, scalar_space().get(), &value);
}

void AttributeWriter::f64(const char* name, double value)
{
    write(name, H5T_IEEE_F64LE, H5T_NATIVE_DOUBLE, scalar_space().get(), &value);
}

void AttributeWriter::u64_array(const char* name, const std::vector<std::uint64_t>& values)
{
    const hsize_t n = values.size();
    h5::Dataspace space(h5::check(H5Screate_simple(1, &n, nullptr), errc::io, "cannot create an HDF5 dataspace"));
    write(name, H5T_STD_U64LE, H5T_NATIVE_UINT64, space.get(), values.data());
}

void AttributeWriter::write(const char* name, hid_t file_type, hid_t memory_type, hid_t space, const void* data)
{
    h5::Attribute attribute(H5Acreate2(object_, name, file_type, space, H5P_DEFAULT, H5P_DEFAULT));
    if (!attribute || H5Awrite(attribute.get(), memory_type, data) < 0)
        h5::fail(errc::io, fmt::format("cannot write attribute {} of {}", name, shown_));
}

h5::Group create_group(hid_t parent, const char* name, const std::string& shown)
{
    h5::PropList gcpl = h5::untimed_creation_properties(H5P_GROUP_CREATE);
    h5::Group group(H5Gcreate2(parent, name, H5P_DEFAULT, gcpl.get(), H5P_DEFAULT));
    if (!group) h5::fail(errc::io, fmt::format("cannot create group {} in {}", name, shown));
    return group;
}

void write_array(hid_t parent, const char* name, hid_t file_type, hid_t memory_type, const std::vector<hsize_t>& dims,
                 const void* data, const std::string& shown)
{
    h5::Dataspace space(H5Screate_simple(static_cast<int>(dims.size()), dims.data(), nullptr));
    h5::PropList dcpl = h5::untimed_creation_properties(H5P_DATASET_CREATE);
    h5::Dataset dataset(H5Dcreate2(parent, name, file_type, space.get(), H5P_DEFAULT, dcpl.get(), H5P_DEFAULT));
    if (!space || !dataset) h5::fail(errc::io, fmt::format("cannot create dataset {} in {}", name, shown));
    const bool empty = std::find(dims.begin(), dims.end(), hsize_t{0}) != dims.end();
    if (!empty && H5Dwrite(dataset.get(), memory_type, H5S_ALL, H5S_ALL, H5P_DEFAULT, data) < 0)
        h5::fail(errc::io, fmt::format("cannot write dataset {} in {}", name, shown));
}

h5::Group write_common(hid_t file, const std::string& shown, const std::string& method, const Shape& shape,
                       std::uint64_t width, const Provenance& p)
{
    {
        AttributeWriter root(file, shown);
        root.string("signcut_format", format_name);
        root.i32("format_version", format_version);
    }
    h5::Group group = create_group(file, "decomposition", shown);
    AttributeWriter attrs(group.get(), shown);
    attrs.string("method", method);
    attrs.u64_array("shape", std::vector<std::uint64_t>(shape.begin(), shape.end()));
    attrs.string("original_dtype", p.original_dtype);
    attrs.u64("width", width);
    attrs.string("source", p.source);
    attrs.u64("seed", p.seed);
    attrs.string("signcut_version", p.signcut_version.empty() ? std::string(version) : p.signcut_version);
    attrs.f64("rel_fro_error", p.rel_fro_error);
    attrs.string("created", p.created.empty() ? iso8601_utc_now() : p.created);
    return group;
}

// --- reading ---------------------------------------------------------------

AttributeReader::AttributeReader(hid_t object, const std::string& file, const std::string& object_path)
    : object_(object), file_(file), prefix_(object_path == "/" ? "/" : object_path + "/")
{
}

bool AttributeReader::has(const char* name) const
{
    const htri_t exists = H5Aexists(object_, name);
    if (exists < 0) h5::fail(errc::bad_input, fmt::format("{}: cannot read attribute {}{}", file_, prefix_, name));
    return exists > 0;
}

std::string AttributeReader::string(const char* name) const
{
    const h5::Attribute attribute = open(name);
    const h5::Datatype type = type_of(attribute, name, H5T_STRING, "a string");
    expect_count(attribute, name, 1);
    std::string value;
    if (H5Tis_variable_str(type.get()) > 0) {
        h5::Datatype memory_type(h5::check(H5Tcopy(H5T_C_S1), errc::io, "cannot create an HDF5 string type"));
        H5Tset_size(memory_type.get(), H5T_VARIABLE);
        H5Tset_cset(memory_type.get(), H5Tget_cset(type.get()));  // no cset conversion needed
        char* text = nullptr;
        if (H5Aread(attribute.get(), memory_type.get(), &text) < 0) unreadable(name);
        if (text != nullptr) value = text;
        H5free_memory(text);
    } else {
        // Fixed length: read the bytes as stored, then drop the padding.
        const std::size_t size = H5Tget_size(type.get());
        std::vector<char> bytes(size + 1, '\0');
        if (H5Aread(attribute.get(), type.get(), bytes.data()) < 0) unreadable(name);
        value.assign(bytes.data(), size);
        if (H5Tget_strpad(type.get()) == H5T_STR_SPACEPAD) {
            value.erase(value.find_last_not_of(' ') + 1);
        } else {
            value.resize(std::strlen(value.c_str()));
        }
    }
    return value;
}

std::uint64_t AttributeReader::unsigned_integer(const char* name) const
{
    const h5::Attribute attribute = open(name);
    const h5::Datatype type = type_of(attribute, name, H5T_INTEGER, "an integer");
    expect_count(attribute, name, 1);
    return read_unsigned(attribute, type, name, 1).front();
}

double AttributeReader::real(const char* name) const
{
    const h5::Attribute attribute = open(name);
    const h5::Datatype type(H5Aget_type(attribute.get()));
    const H5T_class_t c = H5Tget_class(type.get());
    if (c != H5T_FLOAT && c != H5T_INTEGER)
        throw Error(errc::bad_input, fmt::format("{}: attribute {}{} is {}, expected a number", file_, prefix_, name,
                                                 h5::class_name(c)));
    expect_count(attribute, name, 1);
    double value = 0;
    if (H5Aread(attribute.get(), H5T_NATIVE_DOUBLE, &value) < 0) unreadable(name);
    return value;
}

/// A 1-D array of non-negative integers (the shape).
std::vector<std::uint64_t> AttributeReader::unsigned_array(const char* name) const
{
    const h5::Attribute attribute = open(name);
    const h5::Datatype type = type_of(attribute, name, H5T_INTEGER, "an integer array");
    h5::Dataspace space(H5Aget_space(attribute.get()));
    if (H5Sget_simple_extent_type(space.get()) != H5S_SIMPLE || H5Sget_simple_extent_ndims(space.get()) != 1)
        throw Error(errc::bad_input, fmt::format("{}: attribute {}{} must be a 1-D array", file_, prefix_, name));
    const hssize_t n = H5Sget_simple_extent_npoints(space.get());
    return read_unsigned(attribute, type, name, static_cast<std::size_t>(std::max<hssize_t>(n, 0)));
}

h5::Attribute AttributeReader::open(const char* name) const
{
    if (!has(name)) throw Error(errc::bad_input, fmt::format("{}: attribute {}{} is missing", file_, prefix_, name));
    h5::Attribute attribute(H5Aopen(object_, name, H5P_DEFAULT));
    if (!attribute) unreadable(name);
    return attribute;
}

h5::Datatype AttributeReader::type_of(const h5::Attribute& attribute, const char* name, H5T_class_t expected,
                                      const char* expected_text) const
{
    h5::Datatype type(H5Aget_type(attribute.get()));
    if (!type) unreadable(name);
    const H5T_class_t c = H5Tget_class(type.get());
    if (c != expected)
        throw Error(errc::bad_input, fmt::format("{}: attribute {}{} is {}, expected {}", file_, prefix_, name,
                                                 h5::class_name(c), expected_text));
    return type;
}

void AttributeReader::expect_count(const h5::Attribute& attribute, const char* name, hssize_t expected) const
{
    h5::Dataspace space(H5Aget_space(attribute.get()));
    const hssize_t n = H5Sget_simple_extent_npoints(space.get());
    if (n != expected)
        throw Error(errc::bad_input, fmt::format("{}: attribute {}{} holds {} values, expected {}", file_, prefix_,
                                                 name, n, expected));
}

// Signed types are read as int64, so that negative values can be refused
// rather than wrapped; unsigned ones as uint64.
std::vector<std::uint64_t> AttributeReader::read_unsigned(const h5::Attribute& attribute, const h5::Datatype& type,
                                                          const char* name, std::size_t count) const
{
    std::vector<std::uint64_t> values(count);
    if (count == 0) return values;
    if (H5Tget_sign(type.get()) == H5T_SGN_NONE) {
        if (H5Aread(attribute.get(), H5T_NATIVE_UINT64, values.data()) < 0) unreadable(name);
        return values;
    }
    std::vector<std::int64_t> signed_values(count);
    if (H5Aread(attribute.get(), H5T_NATIVE_INT64, signed_values.data()) < 0) unreadable(name);
    for (std::size_t i = 0; i < count; ++i) {
        if (signed_values[i] < 0)
            throw Error(errc::bad_input, fmt::format("{}: attribute {}{} is negative ({})", file_, prefix_, name,
                                                     signed_values[i]));
        values[i] = static_cast<std::uint64_t>(signed_values[i]);
    }
    return values;
}

void AttributeReader::unreadable(const char* name) const
{
    h5::fail(errc::bad_input, fmt::format("{}: cannot read attribute {}{}", file_, prefix_, name));
}

void require_object(hid_t file, const std::string& path, const std::string& object, H5I_type_t kind)
{
    const char* what = kind == H5I_GROUP ? "group" : "dataset";
    if (!h5::link_exists(file, object))
        throw Error(errc::bad_input, fmt::format("{}: {} {} is missing", path, what, object));
    h5::Object o(H5Oopen(file, object.c_str(), H5P_DEFAULT));
    if (!o) h5::fail(errc::bad_input, fmt::format("{}: cannot open {}", path, object));
    if (H5Iget_type(o.get()) != kind) throw Error(errc::bad_input, fmt::format("{}: {} is not a {}", path, object, what));
}

ArrayMeta array_meta(hid_t file, const std::string& path, const std::string& name)
{
    h5::Dataset dataset(H5Dopen2(file, name.c_str(), H5P_DEFAULT));
    if (!dataset) h5::fail(errc::bad_input, fmt::format("{}: cannot open {}", path, name));
    ArrayMeta meta;
    h5::Datatype type(H5Dget_type(dataset.get()));
    h5::Dataspace space(H5Dget_space(dataset.get()));
    if (!type || !space) h5::fail(errc::bad_input, fmt::format("{}: cannot read {}", path, name));
    meta.type_class = H5Tget_class(type.get());
    meta.type_size = H5Tget_size(type.get());
    if (meta.type_class == H5T_INTEGER) meta.sign = H5Tget_sign(type.get());
    const int rank = H5Sget_simple_extent_type(space.get()) == H5S_SIMPLE ? H5Sget_simple_extent_ndims(space.get()) : 0;
    meta.dims.resize(static_cast<std::size_t>(std::max(rank, 0)));
    if (rank > 0) H5Sget_simple_extent_dims(space.get(), meta.dims.data(), nullptr);
    return meta;
}

std::string dims_text(const std::vector<hsize_t>& dims)
{
    if (dims.empty()) return "a scalar";
    return fmt::format("shape {}", fmt::join(dims, "x"));
}

namespace {

/// Checks the root attributes and opens /decomposition.
h5::Group open_decomposition_group(hid_t file, const std::string& path)
{
    const AttributeReader root(file, path, "/");
    if (!root.has("signcut_format"))
        throw Error(errc::bad_input,
                    fmt::format("{} is not a signcut decomposition (it has no signcut_format attribute)", path));
    const std::string format = root.string("signcut_format");
    if (format != format_name)
        throw Error(errc::bad_input,
                    fmt::format("{} is not a signcut decomposition (signcut_format is '{}', expected '{}')", path,
                                format, format_name));
    const std::uint64_t version = root.unsigned_integer("format_version");
    if (version != format_version)
        throw Error(version > format_version ? errc::unsupported : errc::bad_input,
                    fmt::format("{} has format_version {}; this reader understands version {}", path, version,
                                format_version));
    require_object(file, path, group_path, H5I_GROUP);
    h5::Group group(H5Gopen2(file, group_path, H5P_DEFAULT));
    if (!group) h5::fail(errc::bad_input, fmt::format("{}: cannot open {}", path, group_path));
    return group;
}

std::string method_of(const AttributeReader& attrs, const std::string& path)
{
    std::string method = attrs.string("method");
    if (method != "sct" && method != "lplr")
        throw Error(errc::bad_input, fmt::format("{}: unknown method '{}' in {} (expected 'sct' or 'lplr')", path,
                                                 method, attrs.path("method")));
    return method;
}

}  // namespace

std::string read_method(hid_t file, const std::string& path)
{
    const h5::Group group = open_decomposition_group(file, path);
    return method_of(AttributeReader(group.get(), path, group_path), path);
}

CommonAttributes read_common(hid_t file, const std::string& path)
{
    CommonAttributes common;
    common.group = open_decomposition_group(file, path);
    const AttributeReader attrs(common.group.get(), path, group_path);
    common.method = method_of(attrs, path);

    const std::vector<std::uint64_t> shape = attrs.unsigned_array("shape");
    if (shape.empty()) throw Error(errc::bad_input, fmt::format("{}: {} is empty (rank 0)", path, attrs.path("shape")));
    common.shape.assign(shape.begin(), shape.end());
    if (std::find(shape.begin(), shape.end(), 0u) != shape.end())
        throw Error(errc::bad_input, fmt::format("{}: {} is {}, with a zero dimension", path, attrs.path("shape"),
                                                 format_shape(common.shape)));
    try {
        (void)element_count(common.shape);
    } catch (const Error& e) {
        throw Error(e.code(), fmt::format("{}: {}", path, e.what()));
    }
    Provenance& p = common.provenance;
    p.original_dtype = attrs.string("original_dtype");
    try {
        (void)dtype_spec(p.original_dtype);
    } catch (const Error&) {
        throw Error(errc::bad_input, fmt::format("{}: {} is '{}', not a known dtype", path, attrs.path("original_dtype"),
                                                 p.original_dtype));
    }
    common.width = attrs.unsigned_integer("width");
    p.source = attrs.string("source");
    p.seed = attrs.unsigned_integer("seed");
    p.signcut_version = attrs.string("signcut_version");
    p.rel_fro_error = attrs.real("rel_fro_error");
    p.created = attrs.string("created");
    return common;
}

}  // namespace signcut::io
