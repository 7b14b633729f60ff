#include "decomposition_file.hpp"


#include "carried_attributes.hpp"

#include <algorithm>
#include <cmath>
#include <cstring>
#include <limits>

#include <fmt/format.h>

#include "dtype.hpp"
#include "variable_length.hpp"
#include "signcut/decomposition.hpp"
#include "signcut/error.hpp"
#include "signcut/scale_format.hpp"
#include "signcut/version.hpp"

namespace signcut::io {

// --- writing ---------------------------------------------------------------

namespace {

h5::Dataspace scalar_space()
{
    return h5::Dataspace(h5::check(H5Screate(H5S_SCALAR), errc::io, "cannot create an HDF5 dataspace"));
}

/// Fixed-length, null-terminated UTF-8 of `bytes` bytes (the text and its
/// terminator), the string type version 2 prescribes.
h5::Datatype fixed_utf8_type(std::size_t bytes)
{
    h5::Datatype type(h5::check(H5Tcopy(H5T_C_S1), errc::io, "cannot create an HDF5 string type"));
    h5::check_status(H5Tset_size(type.get(), bytes), errc::io, "cannot create an HDF5 string type");
    h5::check_status(H5Tset_strpad(type.get(), H5T_STR_NULLTERM), errc::io, "cannot create an HDF5 string type");
    h5::check_status(H5Tset_cset(type.get(), H5T_CSET_UTF8), errc::io, "cannot create an HDF5 string type");
    return type;
}

}  // namespace

void AttributeWriter::string(const char* name, const std::string& value)
{
    // An embedded NUL would end the string early for every reader.
    if (value.find('\0') != std::string::npos)
        throw Error(errc::invalid_argument,
                    fmt::format("cannot write attribute {} of {}: the text holds a NUL character", name, shown_));
    const h5::Datatype type = fixed_utf8_type(value.size() + 1);
    write(name, type.get(), type.get(), scalar_space().get(), value.c_str());
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

h5::Dataset create_vector(hid_t parent, const char* name, hid_t file_type, std::uint64_t elements,
                          std::size_t element_size, const std::string& shown, VectorFilters filters)
{
    const hsize_t n = elements;
    h5::Dataspace space(H5Screate_simple(1, &n, nullptr));
    h5::PropList dcpl = h5::untimed_creation_properties(H5P_DATASET_CREATE);
    if (elements > 0) {
        // The chunking stored_dataset_bytes() assumes: equal chunks of about
        // 1 MiB, the last one padded, each with its 4-byte checksum (HDF5
        // filters a partial edge chunk whole). The n-bit or deflate filter,
        // when asked, codes each chunk before its checksum is taken.
        const hsize_t chunk = dataset_chunk_elements(elements, element_size);
        if (H5Pset_chunk(dcpl.get(), 1, &chunk) < 0 || (filters.nbit && H5Pset_nbit(dcpl.get()) < 0) ||
            (filters.deflate_level > 0 && H5Pset_deflate(dcpl.get(), unsigned(filters.deflate_level)) < 0) ||
            H5Pset_fletcher32(dcpl.get()) < 0)
            h5::fail(errc::io, fmt::format("cannot set the chunking of dataset {} in {}", name, shown));
    }
    h5::Dataset dataset(H5Dcreate2(parent, name, file_type, space.get(), H5P_DEFAULT, dcpl.get(), H5P_DEFAULT));
    if (!space || !dataset) h5::fail(errc::io, fmt::format("cannot create dataset {} in {}", name, shown));
    return dataset;
}

void write_vector_part(hid_t dataset, std::uint64_t first, std::uint64_t count, const void* data, hid_t transfer,
                       const std::string& shown)
{
    h5::Dataspace file_space(H5Dget_space(dataset));
    if (!file_space) h5::fail(errc::io, fmt::format("cannot describe a dataset of {}", shown));
    const hssize_t elements = H5Sget_simple_extent_npoints(file_space.get());
    if (elements <= 0) return;  // nothing stored, nothing to write (on every writer alike)
    if (first > std::uint64_t(elements) || count > std::uint64_t(elements) - first)
        throw Error(errc::invalid_argument, fmt::format("cannot write values {}:{} of a dataset of {} values in {}",
                                                        first, first + count, elements, shown));
    // The stored type in this machine's byte order: on a little-endian
    // machine the stored type itself, so that HDF5 converts nothing (with
    // MPI-IO a conversion would make the write independent, which a
    // filtered dataset does not allow).
    h5::Datatype type(H5Tcopy(h5::Datatype(H5Dget_type(dataset)).get()));
    if (type && H5Tget_size(type.get()) > 1 && H5Tset_order(type.get(), H5Tget_order(H5T_NATIVE_UINT32)) < 0)
        h5::fail(errc::io, fmt::format("cannot describe a dataset of {}", shown));
    const hsize_t one = 1, n = count, start = first;
    h5::Dataspace memory_space(H5Screate_simple(1, count == 0 ? &one : &n, nullptr));
    if (!type || !memory_space) h5::fail(errc::io, fmt::format("cannot describe a dataset of {}", shown));
    if (count == 0) {
        h5::check_status(H5Sselect_none(file_space.get()), errc::io, "cannot select nothing");
        h5::check_status(H5Sselect_none(memory_space.get()), errc::io, "cannot select nothing");
    } else {
        h5::check_status(H5Sselect_hyperslab(file_space.get(), H5S_SELECT_SET, &start, nullptr, &n, nullptr),
                         errc::io, fmt::format("cannot select values {}:{} of a dataset of {}", first, first + count,
                                               shown));
    }
    // HDF5 refuses a null buffer even for an empty selection in some
    // releases.
    static const unsigned char nothing[8] = {};
    if (data == nullptr) data = nothing;
    if (H5Dwrite(dataset, type.get(), memory_space.get(), file_space.get(), transfer, data) < 0)
        h5::fail(errc::io, fmt::format("cannot write {}", shown));
}

void write_vector(hid_t parent, const char* name, hid_t file_type, hid_t memory_type, std::uint64_t elements,
                  std::size_t element_size, const void* data, const std::string& shown)
{
    h5::Dataset dataset = create_vector(parent, name, file_type, elements, element_size, shown);
    if (elements > 0 && H5Dwrite(dataset.get(), memory_type, H5S_ALL, H5S_ALL, H5P_DEFAULT, data) < 0)
        h5::fail(errc::io, fmt::format("cannot write dataset {} in {}", name, shown));
}

h5::Dataset create_signs(hid_t parent, std::uint64_t bytes, int deflate_level, const std::string& shown)
{
    return create_vector(parent, "signs", H5T_STD_U8LE, bytes, 1, shown, VectorFilters{false, deflate_level});
}

void write_signs(hid_t parent, std::span<const std::uint8_t> stream, int deflate_level, const std::string& shown)
{
    h5::Dataset dataset = create_signs(parent, stream.size(), deflate_level, shown);
    write_vector_part(dataset.get(), 0, stream.size(), stream.data(), H5P_DEFAULT, shown);
}

h5::Dataset create_widths(hid_t parent, std::uint64_t blocks, std::uint64_t max_width, const std::string& shown)
{
    const unsigned bits = width_bits(max_width);
    if (bits >= 32) return create_vector(parent, "widths", H5T_STD_U32LE, blocks, 4, shown);
    // A little-endian uint32 whose significant bits are its low `bits`.
    h5::Datatype type(H5Tcopy(H5T_STD_U32LE));
    if (!type || H5Tset_precision(type.get(), bits) < 0)
        h5::fail(errc::io, fmt::format("cannot make the widths' type in {}", shown));
    return create_vector(parent, "widths", type.get(), blocks, 4, shown, VectorFilters{true, 0});
}

void write_widths(hid_t parent, std::span<const std::uint32_t> widths, const std::string& shown)
{
    std::uint64_t max_width = 0;
    for (const std::uint32_t w : widths) max_width = std::max<std::uint64_t>(max_width, w);
    h5::Dataset dataset = create_widths(parent, widths.size(), max_width, shown);
    write_vector_part(dataset.get(), 0, widths.size(), widths.data(), H5P_DEFAULT, shown);
}

h5::Dataset create_scales(hid_t parent, std::uint64_t terms, unsigned scale_bits, const std::string& shown)
{
    if (scale_bits != short_scale_bits) return create_vector(parent, "scales", H5T_IEEE_F32LE, terms, 4, shown);
    // IEEE float32's sign (bit 31), exponent (bits 23-30) and top 4
    // mantissa bits (19-22): a 4-byte float whose significant bits start at
    // bit 19. Field positions count from bit 0 of the value; moving the
    // offset grows the size, which is set back to 4 last.
    h5::Datatype type(H5Tcopy(H5T_IEEE_F32LE));
    const unsigned low = 32 - short_scale_bits;  // the dropped mantissa bits
    if (!type || H5Tset_fields(type.get(), 31, 23, 8, low, short_scale_mantissa_bits) < 0 ||
        H5Tset_offset(type.get(), low) < 0 || H5Tset_precision(type.get(), short_scale_bits) < 0 ||
        H5Tset_size(type.get(), 4) < 0)
        h5::fail(errc::io, fmt::format("cannot make the short scales' type in {}", shown));
    return create_vector(parent, "scales", type.get(), terms, 4, shown, VectorFilters{true, 0});
}

void write_scales(hid_t parent, std::span<const float> scales, unsigned scale_bits, const std::string& shown)
{
    h5::Dataset dataset = create_scales(parent, scales.size(), scale_bits, shown);
    write_vector_part(dataset.get(), 0, scales.size(), scales.data(), H5P_DEFAULT, shown);
}

h5::Group write_common(hid_t file, const std::string& shown, const std::string& method, const Shape& shape,
                       std::uint64_t width, const Provenance& p, std::int32_t file_version)
{
    if (!std::isfinite(p.norm2) || p.norm2 < 0)
        throw Error(errc::invalid_argument,
                    fmt::format("cannot write {}: norm2 is {}, expected a finite value >= 0", shown, p.norm2));
    {
        AttributeWriter root(file, shown);
        root.string("signcut_format", format_name);
        root.i32("format_version", file_version);
    }
    h5::Group group = create_group(file, "decomposition", shown);
    AttributeWriter attrs(group.get(), shown);
    attrs.string("method", method);
    attrs.u64_array("shape", std::vector<std::uint64_t>(shape.begin(), shape.end()));
    attrs.string("original_dtype", p.original_dtype);
    attrs.u64("width", width);
    attrs.f64("norm2", p.norm2);
    attrs.string("source", p.source);
    attrs.u64("seed", p.seed);
    attrs.string("signcut_version", p.signcut_version.empty() ? std::string(version) : p.signcut_version);
    attrs.f64("rel_fro_error", p.rel_fro_error);
    attrs.string("created", p.created.empty() ? io::iso8601_utc_now() : p.created);
    if (!p.source_attributes.empty()) {
        h5::Group carried = create_group(group.get(), "source_attributes", shown);
        write_carried_attributes(carried.get(), p.source_attributes, shown + ": source_attributes");
    }
    return group;
}

// --- reading ---------------------------------------------------------------

namespace {

const char* link_kind(H5L_type_t type)
{
    switch (type) {
    case H5L_TYPE_HARD: return "a hard link";
    case H5L_TYPE_SOFT: return "a soft link";
    case H5L_TYPE_EXTERNAL: return "an external link";
    default: return "a user-defined link";
    }
}

}  // namespace

std::string printable(std::string_view name)
{
    std::string out;
    for (const char c : name) {
        const auto u = static_cast<unsigned char>(c);
        if (u < 0x20 || u == 0x7f)
            out += fmt::format("\\x{:02x}", u);
        else
            out += c;
    }
    return out;
}

AttributeReader::AttributeReader(hid_t object, const std::string& file, const std::string& object_path, int version)
    : object_(object), file_(file), prefix_(object_path == "/" ? "/" : object_path + "/"), version_(version)
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
    const htri_t variable = H5Tis_variable_str(type.get());
    if (variable < 0) unreadable(name);
    // Decided from the type alone: a variable-length string is never read
    // from a version-2 file (its global heap is where damaged files crash
    // libhdf5).
    if (variable > 0 && version_ >= 2)
        throw Error(errc::bad_input,
                    fmt::format("{}: attribute {}{} is a variable-length string; format version {} stores "
                                "fixed-length strings only",
                                file_, prefix_, name, version_));
    expect_count(attribute, name, 1);
    std::string value;
    if (variable > 0) {
        h5::Datatype memory_type(h5::check(H5Tcopy(H5T_C_S1), errc::io, "cannot create an HDF5 string type"));
        H5Tset_size(memory_type.get(), H5T_VARIABLE);
        H5Tset_cset(memory_type.get(), H5Tget_cset(type.get()));  // no cset conversion needed
        // A version-1 file: its heap is read first by a child process,
        // where damage can only end the child.
        const Trial trial = trial_attribute_read(attribute.get(), memory_type.get());
        if (trial.outcome == TrialOutcome::unavailable)
            throw Error(errc::io, fmt::format("{}: cannot read attribute {}{} (a variable-length string) safely: {}",
                                              file_, prefix_, name, trial.detail));
        if (trial.outcome == TrialOutcome::failed) unreadable(name);
        if (trial.outcome != TrialOutcome::succeeded)
            throw Error(errc::bad_input,
                        fmt::format("{}: attribute {}{} is a damaged variable-length string: a trial read {}", file_,
                                    prefix_, name, trial.detail));
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
    meta.type_precision = H5Tget_precision(type.get());
    if (meta.type_class == H5T_INTEGER) meta.sign = H5Tget_sign(type.get());
    const int rank = H5Sget_simple_extent_type(space.get()) == H5S_SIMPLE ? H5Sget_simple_extent_ndims(space.get()) : 0;
    meta.dims.resize(static_cast<std::size_t>(std::max(rank, 0)));
    if (rank > 0) H5Sget_simple_extent_dims(space.get(), meta.dims.data(), nullptr);
    // 0 is also HDF5's answer on failure; a dataset whose storage cannot be
    // measured will fail to read anyway.
    meta.storage_bytes = H5Dget_storage_size(dataset.get());
    H5Eclear2(H5E_DEFAULT);
    return meta;
}

namespace {

/// Refuses filters other than the ones version 2 allows (all four built into
/// HDF5): HDF5 would try to load any other one as a plugin, from wherever
/// HDF5_PLUGIN_PATH points.
/// Returns whether fletcher32 is among them, and sets `deflate_level` to
/// the level of a deflate filter (0 without one).
bool check_filters(hid_t file, const std::string& path, const std::string& name, int& deflate_level)
{
    deflate_level = 0;
    h5::Dataset dataset(H5Dopen2(file, name.c_str(), H5P_DEFAULT));
    if (!dataset) h5::fail(errc::bad_input, fmt::format("{}: cannot open {}", path, name));
    h5::PropList dcpl(H5Dget_create_plist(dataset.get()));
    const int n = dcpl ? H5Pget_nfilters(dcpl.get()) : -1;
    if (n < 0) h5::fail(errc::bad_input, fmt::format("{}: cannot read the filters of {}", path, name));
    bool checksummed = false;
    for (int i = 0; i < n; ++i) {
        unsigned flags = 0, config = 0;
        unsigned values[4] = {};
        std::size_t nvalues = 4;
        char filter_name[64] = {};
        const H5Z_filter_t id = H5Pget_filter2(dcpl.get(), static_cast<unsigned>(i), &flags, &nvalues, values,
                                               sizeof filter_name, filter_name, &config);
        if (id == H5Z_FILTER_DEFLATE) deflate_level = nvalues > 0 && values[0] <= 9 ? int(values[0]) : 6;
        if (id != H5Z_FILTER_FLETCHER32 && id != H5Z_FILTER_DEFLATE && id != H5Z_FILTER_SHUFFLE &&
            id != H5Z_FILTER_NBIT)
            throw Error(errc::bad_input,
                        fmt::format("{}: {} uses HDF5 filter {} ('{}'); version 2 allows only fletcher32, deflate, "
                                    "shuffle and nbit",
                                    path, name, static_cast<int>(id), printable(filter_name)));
        checksummed = checksummed || id == H5Z_FILTER_FLETCHER32;
    }
    return checksummed;
}

/// Refuses a non-empty dataset that is not stored whole: HDF5 would read
/// the missing parts as fill values, zeros that no checksum covers (and a
/// damaged file could claim any length at no cost).
void check_stored(hid_t file, const std::string& path, const std::string& name, std::uint64_t elements,
                  const ArrayMeta& meta)
{
    h5::Dataset dataset(H5Dopen2(file, name.c_str(), H5P_DEFAULT));
    h5::PropList dcpl(dataset ? H5Dget_create_plist(dataset.get()) : H5I_INVALID_HID);
    if (!dcpl) h5::fail(errc::bad_input, fmt::format("{}: cannot read the layout of {}", path, name));
    const int external = H5Pget_external_count(dcpl.get());
    if (external != 0)
        throw Error(errc::bad_input, fmt::format("{}: {} keeps its data in external files", path, name));
    const H5D_layout_t layout = H5Pget_layout(dcpl.get());
    if (layout == H5D_CHUNKED) {
        hsize_t chunk = 0;
        if (H5Pget_chunk(dcpl.get(), 1, &chunk) != 1 || chunk == 0)
            h5::fail(errc::bad_input, fmt::format("{}: cannot read the chunking of {}", path, name));
        const std::uint64_t expected = elements / chunk + (elements % chunk != 0);
        h5::Dataspace space(H5Dget_space(dataset.get()));
        hsize_t stored = 0;
        if (!space || H5Dget_num_chunks(dataset.get(), space.get(), &stored) < 0)
            h5::fail(errc::bad_input, fmt::format("{}: cannot count the chunks of {}", path, name));
        if (stored != expected)
            throw Error(errc::bad_input, fmt::format("{}: {} stores {} of its {} chunks", path, name, stored, expected));
    } else if (layout == H5D_CONTIGUOUS) {
        if (meta.storage_bytes != static_cast<unsigned __int128>(elements) * meta.type_size)
            throw Error(errc::bad_input, fmt::format("{}: {} stores {} bytes for {} entries of {} bytes", path, name,
                                                     meta.storage_bytes, elements, meta.type_size));
    } else if (layout != H5D_COMPACT) {
        throw Error(errc::bad_input, fmt::format("{}: {} has a layout other than chunked, contiguous or compact",
                                                 path, name));
    }
}

const char* sign_text(H5T_sign_t sign) { return sign == H5T_SGN_NONE ? "unsigned " : "signed "; }

}  // namespace

ArrayMeta require_vector(hid_t file, const std::string& path, const std::string& name, H5T_class_t type_class,
                         std::size_t type_size, const char* type_text, std::uint64_t expected)
{
    require_object(file, path, name, H5I_DATASET);
    const ArrayMeta meta = array_meta(file, path, name);
    const bool sign_ok = type_class != H5T_INTEGER || meta.sign == H5T_SGN_NONE;
    if (meta.type_class != type_class || meta.type_size != type_size || !sign_ok)
        throw Error(errc::bad_input,
                    fmt::format("{}: {} holds {}-byte {}{} values, expected {}", path, name, meta.type_size,
                                meta.type_class == H5T_INTEGER ? sign_text(meta.sign) : "",
                                h5::class_name(meta.type_class), type_text));
    if (meta.dims.size() != 1)
        throw Error(errc::bad_input, fmt::format("{}: {} has {}, expected a 1-D array of {} entries", path, name,
                                                 dims_text(meta.dims), expected));
    if (meta.dims[0] != expected)
        throw Error(errc::bad_input,
                    fmt::format("{}: {} has {} entries, expected {}", path, name, meta.dims[0], expected));
    ArrayMeta result = meta;
    const bool checksummed = check_filters(file, path, name, result.deflate_level);
    if (expected > 0) check_stored(file, path, name, expected, meta);
    // Without a checksum, damaged payload would decode to wrong values
    // silently; only an empty dataset has nothing to check.
    if (expected > 0 && !checksummed)
        throw Error(errc::bad_input,
                    fmt::format("{}: {} has no fletcher32 checksum; versions 2 and 3 checksum every non-empty dataset", path,
                                name));
    return result;
}

std::string dims_text(const std::vector<hsize_t>& dims)
{
    if (dims.empty()) return "a scalar";
    return fmt::format("shape {}", fmt::join(dims, "x"));
}

namespace {

/// Checks the root attributes and opens /decomposition; returns the version.
h5::Group open_decomposition_group(hid_t file, const std::string& path, int& version_out)
{
    // The version decides how strings may be read, so it is read first (an
    // integer attribute); signcut_format's presence says whether this is a
    // decomposition at all.
    const AttributeReader probe(file, path, "/", format_version);
    if (!probe.has("signcut_format"))
        throw Error(errc::bad_input,
                    fmt::format("{} is not a signcut decomposition (it has no signcut_format attribute)", path));
    const std::uint64_t version = probe.unsigned_integer("format_version");
    if (version > static_cast<std::uint64_t>(newest_format_version))
        throw Error(errc::unsupported,
                    fmt::format("{} has format_version {}: format version {} needs a newer signcut (this one reads "
                                "versions 1 to {})",
                                path, version, version, newest_format_version));
    if (version == 0)
        throw Error(errc::bad_input,
                    fmt::format("{} has format_version 0; this reader understands versions 1 to {}", path,
                                newest_format_version));
    version_out = static_cast<int>(version);
    const AttributeReader root(file, path, "/", version_out);
    const std::string format = root.string("signcut_format");
    if (format != format_name)
        throw Error(errc::bad_input,
                    fmt::format("{} is not a signcut decomposition (signcut_format is '{}', expected '{}')", path,
                                printable(format), format_name));
    const std::string decomposition = group_path(file);
    require_object(file, path, decomposition, H5I_GROUP);
    if (version_out >= 2) {
        H5L_info_t link{};
        if (H5Lget_info(file, decomposition.c_str(), &link, H5P_DEFAULT) < 0)
            h5::fail(errc::bad_input, fmt::format("{}: cannot read the link {}", path, decomposition));
        if (link.type != H5L_TYPE_HARD)
            throw Error(errc::bad_input, fmt::format("{}: {} is {}; version 2 holds objects only", path, decomposition,
                                                     link_kind(link.type)));
    }
    h5::Group group(H5Gopen2(file, decomposition.c_str(), H5P_DEFAULT));
    if (!group) h5::fail(errc::bad_input, fmt::format("{}: cannot open {}", path, decomposition));
    return group;
}

}  // namespace

std::string object_name(hid_t object)
{
    // Names are built for messages, often right after a failed call whose
    // reason is still on HDF5's error stack; every API call clears that
    // stack, so it is set aside and put back.
    const hid_t saved = H5Eget_current_stack();
    std::string name = "/";
    const ssize_t n = H5Iget_name(object, nullptr, 0);
    if (n > 0) {
        name.assign(static_cast<std::size_t>(n) + 1, '\0');
        H5Iget_name(object, name.data(), name.size());
        name.resize(static_cast<std::size_t>(n));
    }
    if (saved >= 0) H5Eset_current_stack(saved);
    return name;
}

namespace {

H5I_type_t object_type(hid_t loc, const char* name)
{
    h5::Object o(H5Oopen(loc, name, H5P_DEFAULT));
    if (!o) {
        H5Eclear2(H5E_DEFAULT);
        return H5I_BADID;
    }
    return H5Iget_type(o.get());
}

}  // namespace

std::string group_path(hid_t root)
{
    const std::string name = object_name(root);
    return (name == "/" ? std::string() : name) + "/decomposition";
}

std::string item_path(hid_t root, const char* name) { return fmt::format("{}/{}", group_path(root), name); }

CommonAttributes read_common(hid_t file, const std::string& path)
{
    CommonAttributes common;
    common.group = open_decomposition_group(file, path, common.version);
    const AttributeReader attrs(common.group.get(), path, object_name(common.group.get()), common.version);
    common.method = attrs.string("method");
    if (common.method != "sct" && common.method != "lplr")
        throw Error(errc::bad_input, fmt::format("{}: unknown method '{}' in {} (expected 'sct' or 'lplr')", path,
                                                 printable(common.method), attrs.path("method")));

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
                                                 printable(p.original_dtype)));
    }
    common.width = attrs.unsigned_integer("width");
    if (common.version >= 2) {
        common.norm2 = attrs.real("norm2");
        if (!std::isfinite(common.norm2) || common.norm2 < 0)
            throw Error(errc::bad_input, fmt::format("{}: {} is {}, expected a finite value >= 0", path,
                                                     attrs.path("norm2"), common.norm2));
    } else {
        common.norm2 = std::numeric_limits<double>::quiet_NaN();
    }
    p.norm2 = common.norm2;
    p.source = attrs.string("source");
    p.seed = attrs.unsigned_integer("seed");
    p.signcut_version = attrs.string("signcut_version");
    p.rel_fro_error = attrs.real("rel_fro_error");
    p.created = attrs.string("created");
    // Anything else named source_attributes (a link, a dataset) is refused
    // by the method's check of the group's members.
    H5L_info_t carried_link{};
    if (common.version >= 2 && h5::link_exists(common.group.get(), "source_attributes") &&
        H5Lget_info(common.group.get(), "source_attributes", &carried_link, H5P_DEFAULT) >= 0 &&
        carried_link.type == H5L_TYPE_HARD && object_type(common.group.get(), "source_attributes") == H5I_GROUP) {
        const std::string where = fmt::format("{}/source_attributes", object_name(common.group.get()));
        h5::Group carried(H5Gopen2(common.group.get(), "source_attributes", H5P_DEFAULT));
        H5G_info_t members{};
        if (!carried || H5Gget_info(carried.get(), &members) < 0)
            h5::fail(errc::bad_input, fmt::format("{}: cannot read {}", path, where));
        if (members.nlinks != 0)
            throw Error(errc::bad_input, fmt::format("{}: {} holds {} members; it holds attributes only", path, where,
                                                     members.nlinks));
        common.provenance.source_attributes =
            read_carried_attributes(carried.get(), fmt::format("{}: {}", path, where), nullptr, true);
    }
    return common;
}

namespace {

herr_t collect_attribute(hid_t, const char* name, const H5A_info_t*, void* data)
{
    static_cast<std::vector<std::string>*>(data)->emplace_back(name);
    return 0;
}

herr_t collect_link(hid_t, const char* name, const H5L_info_t* info, void* data)
{
    static_cast<std::vector<std::pair<std::string, H5L_type_t>>*>(data)->emplace_back(name, info->type);
    return 0;
}

template <class Names>
bool listed(const Names& names, const std::string& name)
{
    return std::find(names.begin(), names.end(), std::string_view(name)) != names.end();
}

}  // namespace

void refuse_unknown_items(hid_t group, const std::string& path, const std::string& method,
                          std::initializer_list<std::string_view> attributes,
                          std::initializer_list<std::string_view> members, int version)
{
    const std::string group_path = object_name(group);
    std::vector<std::string> names;
    hsize_t index = 0;
    if (H5Aiterate2(group, H5_INDEX_NAME, H5_ITER_INC, &index, collect_attribute, &names) < 0)
        h5::fail(errc::bad_input, fmt::format("{}: cannot list the attributes of {}", path, group_path));
    for (const std::string& name : names)
        if (!listed(attributes, name) && !listed(common_attribute_names, name))
            throw Error(errc::bad_input,
                        fmt::format("{}: {}/{} is not an attribute of a version-{} {} decomposition", path, group_path,
                                    printable(name), version, method));

    std::vector<std::pair<std::string, H5L_type_t>> links;
    index = 0;
    if (H5Literate(group, H5_INDEX_NAME, H5_ITER_INC, &index, collect_link, &links) < 0)
        h5::fail(errc::bad_input, fmt::format("{}: cannot list the members of {}", path, group_path));
    for (const auto& [name, type] : links) {
        // Objects only: a link could lead into another file, or round in circles.
        if (type != H5L_TYPE_HARD)
            throw Error(errc::bad_input, fmt::format("{}: {}/{} is {}; version 2 holds objects only", path,
                                                     group_path, printable(name), link_kind(type)));
        if (name == "source_attributes") {
            require_object(group, path, group_path + "/source_attributes", H5I_GROUP);
            continue;
        }
        if (!listed(members, name))
            throw Error(errc::bad_input,
                        fmt::format("{}: {}/{} is not part of a version-{} {} decomposition", path, group_path,
                                    printable(name), version, method));
    }
}

std::string bytes_text(std::uint64_t bytes)
{
    return bytes == UINT64_MAX ? std::string("over 2^64") : std::to_string(bytes);
}

void check_memory(const std::string& path, const std::string& what, std::uint64_t needed, std::uint64_t max_bytes)
{
    // A saturated count is refused even under a limit of 2^64 - 1 bytes: the
    // sizes it stands for cannot be allocated, or even computed in size_t.
    if (needed > max_bytes || needed == UINT64_MAX)
        throw Error(errc::limit, fmt::format("{} holds {}: reading and reconstructing it needs {} bytes, more than "
                                             "the memory limit of {} bytes",
                                             path, what, bytes_text(needed), max_bytes));
}

}  // namespace signcut::io
