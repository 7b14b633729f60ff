// What every decomposition file shares, whatever its method (docs/FORMAT.md):
// the root attributes, the /decomposition group with the attributes common
// to all methods, and typed attribute and array access whose messages name
// the file and the full path of what is wrong.
//
// Versions: writers write format version 2 (fixed-length strings, chunked
// datasets with HDF5's fletcher32 checksum, @norm2), or version 3 for an sct
// decomposition some of whose blocks another codec (zfp) stores; readers
// read versions 1 to 3 (version 1: variable-length strings, contiguous
// arrays). A version-2 or version-3 reader
// never reads a variable-length string: reading one from a damaged file can
// crash libhdf5 inside H5HG_read, so it is refused by name from its type
// alone, before H5Aread.
#pragma once

#include <array>
#include <cstdint>
#include <initializer_list>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "hdf5_handle.hpp"
#include "signcut/hdf5.hpp"
#include "signcut/tensor.hpp"

namespace signcut::io {

/// "2024-05-01T12:34:56Z", the current UTC time (the @created of a file
/// whose provenance leaves it empty).
std::string iso8601_utc_now();

inline constexpr const char* format_name = "signcut-decomposition";
/// The version writers write (sct decompositions without coded blocks, lplr).
inline constexpr std::int32_t format_version = 2;
/// The version of an sct decomposition some of whose blocks another codec
/// stores (the datasets codecs, stream_sizes and streams).
inline constexpr std::int32_t coded_format_version = 3;
/// The newest version readers read.
inline constexpr std::int32_t newest_format_version = 3;
/// The path of an open HDF5 object ("/" for the root, "/G" for a group).
std::string object_name(hid_t object);

/// The full path of the decomposition group below `root` (the file's root
/// group, or the group `-o FILE.h5:/G` named): "/decomposition" or
/// "/G/decomposition". Full paths open from any location in the file and
/// name the item exactly in messages.
std::string group_path(hid_t root);
/// The full path of the item `name` of the decomposition group below `root`
/// ("/decomposition/scales"), as group_path.
std::string item_path(hid_t root, const char* name);

/// Writes the attributes of one object, in the format's file types.
class AttributeWriter {
public:
    AttributeWriter(hid_t object, std::string shown) : object_(object), shown_(std::move(shown)) {}

    /// Fixed-length (value + 1 bytes), null-terminated UTF-8.
    void string(const char* name, const std::string& value);
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
/// classes, other counts and negative integers; with version >= 2, also
/// variable-length strings (refused from the type, before any read).
class AttributeReader {
public:
    /// `object_path` is the object's path in the file ("/" for the root).
    AttributeReader(hid_t object, const std::string& file, const std::string& object_path, int version);

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
    int version_;
};

h5::Group create_group(hid_t parent, const char* name, const std::string& shown);

/// The filters a version-2 dataset is written with besides fletcher32
/// (always last).
struct VectorFilters {
    bool nbit = false;
    int deflate_level = 0;  ///< 0: none
};

/// A version-2 dataset: 1-D, `elements` values of `element_size` bytes.
/// Non-empty: chunked by dataset_chunk_elements() with HDF5's fletcher32
/// filter, so HDF5 stores exactly stored_dataset_bytes(); empty: shape [0],
/// contiguous, nothing stored. Created without its values.
h5::Dataset create_vector(hid_t parent, const char* name, hid_t file_type, std::uint64_t elements,
                          std::size_t element_size, const std::string& shown, VectorFilters filters = {});

/// Writes values [first, first + count) of a 1-D dataset from `data`, given
/// in the dataset's stored type in this machine's byte order (the uint8 and
/// uint32 values, float32 values and short scales the decomposition's
/// datasets hold, as they lie in memory; on a little-endian machine HDF5
/// converts nothing, as a collective MPI-IO write needs). `transfer`:
/// the transfer properties (H5P_DEFAULT, or a collective MPI-IO transfer,
/// where every writer calls, `count` 0 if it has nothing). A dataset of no
/// values is not written.
void write_vector_part(hid_t dataset, std::uint64_t first, std::uint64_t count, const void* data, hid_t transfer,
                       const std::string& shown);

/// create_vector() and its values, all at once.
void write_vector(hid_t parent, const char* name, hid_t file_type, hid_t memory_type, std::uint64_t elements,
                  std::size_t element_size, const void* data, const std::string& shown);

/// The `scales` dataset: float32 values, or, when `scale_bits` is
/// short_scale_bits (every value a short scale), HDF5's float type of the
/// short scale's 13 bits (docs/FORMAT.md, "Scales") packed by HDF5's n-bit
/// filter, chunked as write_vector() chunks 4-byte values: HDF5 stores
/// exactly stored_scales_bytes().
h5::Dataset create_scales(hid_t parent, std::uint64_t terms, unsigned scale_bits, const std::string& shown);
void write_scales(hid_t parent, std::span<const float> scales, unsigned scale_bits, const std::string& shown);

/// The `widths` dataset: uint32 values of precision width_bits(max), packed
/// by HDF5's n-bit filter below 32 bits, chunked as write_vector() chunks
/// them: HDF5 stores exactly stored_widths_bytes().
h5::Dataset create_widths(hid_t parent, std::uint64_t blocks, std::uint64_t max_width, const std::string& shown);
void write_widths(hid_t parent, std::span<const std::uint32_t> widths, const std::string& shown);

/// The `signs` dataset: the sign stream, deflated at `deflate_level` before
/// its checksum (0: plain bytes), chunked as write_vector() chunks bytes.
h5::Dataset create_signs(hid_t parent, std::uint64_t bytes, int deflate_level, const std::string& shown);
void write_signs(hid_t parent, std::span<const std::uint8_t> stream, int deflate_level, const std::string& shown);

/// Checks that `object` exists and is of `kind` (H5I_GROUP or H5I_DATASET).
void require_object(hid_t file, const std::string& path, const std::string& object, H5I_type_t kind);

/// A dataset's dimensions, type class and size, from its metadata only.
struct ArrayMeta {
    std::vector<hsize_t> dims;
    H5T_class_t type_class = H5T_NO_CLASS;
    std::size_t type_size = 0;
    std::size_t type_precision = 0;  ///< significant bits (H5Tget_precision)
    int deflate_level = 0;           ///< require_vector: the deflate filter's level, 0 without one
    H5T_sign_t sign = H5T_SGN_ERROR;
    std::uint64_t storage_bytes = 0;  ///< H5Dget_storage_size
};
ArrayMeta array_meta(hid_t file, const std::string& path, const std::string& dataset);

/// require_object, then array_meta, then (version 2) the checks every
/// version-2 array shares: a simple 1-D dataspace, `expected` elements, an
/// element of exactly `type_class`/`type_size` (integers unsigned), and no
/// filter beyond fletcher32, deflate and shuffle. `type_text` names the
/// expected type in messages ("uint32").
ArrayMeta require_vector(hid_t file, const std::string& path, const std::string& dataset, H5T_class_t type_class,
                         std::size_t type_size, const char* type_text, std::uint64_t expected);

/// "a scalar" or "shape 3x4".
std::string dims_text(const std::vector<hsize_t>& dims);

/// A name from a file, made safe for a one-line message.
std::string printable(std::string_view name);

/// The attributes of /decomposition that every method has, as read_common
/// found them.
struct CommonAttributes {
    int version = 0;  ///< 1, 2 or 3
    std::string method;
    Shape shape;
    std::uint64_t width = 0;
    /// ||X||²: version 2's @norm2 (checked finite and >= 0); NaN in version 1.
    double norm2 = 0;
    Provenance provenance;
    h5::Group group;  ///< /decomposition, still open, for the method's own attributes
};

/// Creates the file's root attributes and the /decomposition group with the
/// common attributes of version 2 (an empty `created` or `signcut_version`
/// in the provenance becomes now and this library's version); the caller
/// adds the method's own attributes and arrays to the returned group.
/// `file_version` is the @format_version written (3 only for an sct
/// decomposition with coded blocks; the common part is the same).
/// Refuses (errc::invalid_argument) an unknown original_dtype and a
/// negative or non-finite norm2.
h5::Group write_common(hid_t file, const std::string& shown, const std::string& method, const Shape& shape,
                       std::uint64_t width, const Provenance& provenance, std::int32_t file_version = format_version);

/// Checks the root attributes (signcut_format, a format_version of 1 to 3)
/// and the group, then reads the common attributes, each checked (a
/// non-empty shape without zero dimensions and with a countable size, a
/// known dtype, version 2's norm2); the group stays open in the result.
CommonAttributes read_common(hid_t file, const std::string& path);

/// Versions 2 and 3: refuses any attribute of /decomposition not in
/// `attributes` and any member of it not in `members` (a member
/// "source_attributes" is always allowed and must be a group); messages
/// name the file's `version`.
void refuse_unknown_items(hid_t group, const std::string& path, const std::string& method,
                          std::initializer_list<std::string_view> attributes,
                          std::initializer_list<std::string_view> members, int version = format_version);

/// The attributes every method has in a version-2 file.
inline constexpr std::array<std::string_view, 10> common_attribute_names{
    "method", "shape", "original_dtype", "width", "norm2", "source", "seed", "signcut_version", "rel_fro_error",
    "created"};

/// An unsigned 128-bit count that saturates at 2^128 - 1 instead of wrapping
/// (hostile files can claim sizes whose sums do not fit in 64 bits).
class SaturatingCount {
public:
    using u128 = unsigned __int128;
    SaturatingCount() = default;
    explicit SaturatingCount(u128 v) : v_(v) {}
    SaturatingCount& operator+=(u128 x)
    {
        v_ = (v_ > ~u128{0} - x) ? ~u128{0} : v_ + x;
        return *this;
    }
    static u128 product(u128 a, u128 b) { return (a != 0 && b > ~u128{0} / a) ? ~u128{0} : a * b; }
    u128 value() const { return v_; }
    /// The count in 64 bits, or UINT64_MAX when it does not fit.
    std::uint64_t clamped() const { return v_ > UINT64_MAX ? UINT64_MAX : static_cast<std::uint64_t>(v_); }

private:
    u128 v_ = 0;
};

/// "12345" or "over 2^64" for a saturated count.
std::string bytes_text(std::uint64_t bytes);

/// Refuses (errc::limit) a read whose `needed` bytes pass `max_bytes`, or
/// saturated (UINT64_MAX: refused even under a limit of UINT64_MAX, since
/// the sizes it stands for cannot be allocated). `what` describes the file's
/// content ("a 3x4 decomposition of width 5").
void check_memory(const std::string& path, const std::string& what, std::uint64_t needed, std::uint64_t max_bytes);

}  // namespace signcut::io
