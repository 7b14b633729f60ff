// What every decomposition file shares, whatever its method (docs/FORMAT.md):
// the root attributes, the /decomposition group with the attributes common
// to all methods, and typed attribute and array access whose messages name
// the file and the full path of what is wrong.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "hdf5_handle.hpp"
#include "signcut/hdf5.hpp"
#include "signcut/tensor.hpp"

namespace signcut::io {

inline constexpr const char* format_name = "signcut-decomposition";
inline constexpr std::int32_t format_version = 1;
inline constexpr const char* group_path = "/decomposition";

/// Writes the attributes of one object, in the format's file types.
class AttributeWriter {
public:
    AttributeWriter(hid_t object, std::string shown) : object_(object), shown_(std::move(shown)) {}

    void string(const char* name, const std::string& value);  ///< variable-length UTF-8
    void u64(const char* name, std::uint64_t value);
    void u8(const char* name, std::uint8_t value);
    void i32(const char* name, std::int32_t value);
    void f64(const char* name, double value);
    void u64_array(const char* name, const std::vector<std::uint64_t>& values);

private:
    void write(const char* name, hid_t file_type, hid_t memory_type, hid_t space, const void* data);

    hid_t object_;
    std::string shown_;
};

/// Reads the attributes of one object, refusing missing ones, other type
/// classes, other counts and negative integers.
class AttributeReader {
public:
    /// `object_path` is the object's path in the file ("/" for the root).
    AttributeReader(hid_t object, const std::string& file, const std::string& object_path);

    bool has(const char* name) const;
    std::string string(const char* name) const;
    std::uint64_t unsigned_integer(const char* name) const;
    double real(const char* name) const;  ///< any float or integer type
    std::vector<std::uint64_t> unsigned_array(const char* name) const;  ///< 1-D
    std::string path(const char* name) const { return prefix_ + name; }

private:
    h5::Attribute open(const char* name) const;
    h5::Datatype type_of(const h5::Attribute& attribute, const char* name, H5T_class_t expected,
                         const char* expected_text) const;
    void expect_count(const h5::Attribute& attribute, const char* name, hssize_t expected) const;
    std::vector<std::uint64_t> read_unsigned(const h5::Attribute& attribute, const h5::Datatype& type,
                                             const char* name, std::size_t count) const;
    [[noreturn]] void unreadable(const char* name) const;

    hid_t object_;
    std::string file_;
    std::string prefix_;
};

h5::Group create_group(hid_t parent, const char* name, const std::string& shown);

/// A dataset of `dims` written whole (nothing is written when a dimension is 0).
void write_array(hid_t parent, const char* name, hid_t file_type, hid_t memory_type, const std::vector<hsize_t>& dims,
                 const void* data, const std::string& shown);

/// Checks that `object` exists and is of `kind` (H5I_GROUP or H5I_DATASET).
void require_object(hid_t file, const std::string& path, const std::string& object, H5I_type_t kind);

/// A dataset's dimensions, type class and size, from its metadata only.
struct ArrayMeta {
    std::vector<hsize_t> dims;
    H5T_class_t type_class = H5T_NO_CLASS;
    std::size_t type_size = 0;
    H5T_sign_t sign = H5T_SGN_ERROR;
};
ArrayMeta array_meta(hid_t file, const std::string& path, const std::string& dataset);

/// "a scalar" or "shape 3x4".
std::string dims_text(const std::vector<hsize_t>& dims);

/// The attributes of /decomposition that every method has, as read_common
/// found them.
struct CommonAttributes {
    std::string method;
    Shape shape;
    std::uint64_t width = 0;
    Provenance provenance;
    h5::Group group;  ///< /decomposition, still open, for the method's own attributes
};

/// Creates the file's root attributes and the /decomposition group with the
/// common attributes (an empty `created` or `signcut_version` in the
/// provenance becomes now and this library's version); the caller adds the
/// method's own attributes and arrays to the returned group.
h5::Group write_common(hid_t file, const std::string& shown, const std::string& method, const Shape& shape,
                       std::uint64_t width, const Provenance& provenance);

/// Checks the root attributes and the group, and returns the method named
/// by /decomposition/method ("sct" or "lplr"; anything else is refused).
std::string read_method(hid_t file, const std::string& path);

/// The checks of read_method, then the common attributes, each checked (a
/// non-empty shape without zero dimensions and with a countable size, a known
/// dtype); the group stays open in the result.
CommonAttributes read_common(hid_t file, const std::string& path);

}  // namespace signcut::io
