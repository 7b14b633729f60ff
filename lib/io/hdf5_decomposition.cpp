// Decomposition files, format version 1 (docs/FORMAT.md).
#include <algorithm>
#include <cmath>
#include <cstring>
#include <ctime>
#include <new>
#include <string>
#include <vector>

#include <fmt/format.h>

#include "atomic_output.hpp"
#include "dtype.hpp"
#include "hdf5_handle.hpp"
#include "signcut/error.hpp"
#include "signcut/hdf5.hpp"
#include "signcut/version.hpp"

namespace signcut {
namespace {

constexpr const char* format_name = "signcut-decomposition";
constexpr std::int32_t format_version = 1;
constexpr const char* group_path = "/decomposition";

// --- writing ---------------------------------------------------------------

/// Variable-length UTF-8, the string type the format prescribes.
h5::Datatype utf8_string_type()
{
    h5::Datatype type(h5::check(H5Tcopy(H5T_C_S1), errc::io, "cannot create an HDF5 string type"));
    h5::check_status(H5Tset_size(type.get(), H5T_VARIABLE), errc::io, "cannot create an HDF5 string type");
    h5::check_status(H5Tset_cset(type.get(), H5T_CSET_UTF8), errc::io, "cannot create an HDF5 string type");
    return type;
}

class AttributeWriter {
public:
    AttributeWriter(hid_t object, std::string shown) : object_(object), shown_(std::move(shown)) {}

    void string(const char* name, const std::string& value)
    {
        const h5::Datatype type = utf8_string_type();
        const char* text = value.c_str();
        write(name, type.get(), type.get(), scalar().get(), &text);
    }
    void u64(const char* name, std::uint64_t value) { write(name, H5T_STD_U64LE, H5T_NATIVE_UINT64, scalar().get(), &value); }
    void u8(const char* name, std::uint8_t value) { write(name, H5T_STD_U8LE, H5T_NATIVE_UINT8, scalar().get(), &value); }
    void i32(const char* name, std::int32_t value) { write(name, H5T_STD_I32LE, H5T_NATIVE_INT32, scalar().get(), &value); }
    void f64(const char* name, double value) { write(name, H5T_IEEE_F64LE, H5T_NATIVE_DOUBLE, scalar().get(), &value); }
    void u64_array(const char* name, const std::vector<std::uint64_t>& values)
    {
        const hsize_t n = values.size();
        h5::Dataspace space(h5::check(H5Screate_simple(1, &n, nullptr), errc::io, "cannot create an HDF5 dataspace"));
        write(name, H5T_STD_U64LE, H5T_NATIVE_UINT64, space.get(), values.data());
    }

private:
    static h5::Dataspace scalar()
    {
        return h5::Dataspace(h5::check(H5Screate(H5S_SCALAR), errc::io, "cannot create an HDF5 dataspace"));
    }
    void write(const char* name, hid_t file_type, hid_t memory_type, hid_t space, const void* data)
    {
        h5::Attribute attribute(H5Acreate2(object_, name, file_type, space, H5P_DEFAULT, H5P_DEFAULT));
        if (!attribute || H5Awrite(attribute.get(), memory_type, data) < 0)
            h5::fail(errc::io, fmt::format("cannot write attribute {} of {}", name, shown_));
    }

    hid_t object_;
    std::string shown_;
};

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
    bool empty = false;
    for (const hsize_t d : dims) empty = empty || d == 0;
    if (!empty && H5Dwrite(dataset.get(), memory_type, H5S_ALL, H5S_ALL, H5P_DEFAULT, data) < 0)
        h5::fail(errc::io, fmt::format("cannot write dataset {} in {}", name, shown));
}

// --- reading ---------------------------------------------------------------

/// Reads the attributes of one object, with messages that name the file and
/// the attribute's full path.
class AttributeReader {
public:
    AttributeReader(hid_t object, const std::string& file, std::string object_path)
        : object_(object), file_(file), prefix_(object_path == "/" ? "/" : object_path + "/")
    {
    }

    bool has(const char* name) const
    {
        const htri_t exists = H5Aexists(object_, name);
        if (exists < 0) h5::fail(errc::bad_input, fmt::format("{}: cannot read attribute {}{}", file_, prefix_, name));
        return exists > 0;
    }

    std::string string(const char* name) const
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

    std::uint64_t unsigned_integer(const char* name) const
    {
        const h5::Attribute attribute = open(name);
        const h5::Datatype type = type_of(attribute, name, H5T_INTEGER, "an integer");
        expect_count(attribute, name, 1);
        return read_unsigned(attribute, type, name, 1).front();
    }

    double real(const char* name) const
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
    std::vector<std::uint64_t> unsigned_array(const char* name) const
    {
        const h5::Attribute attribute = open(name);
        const h5::Datatype type = type_of(attribute, name, H5T_INTEGER, "an integer array");
        h5::Dataspace space(H5Aget_space(attribute.get()));
        if (H5Sget_simple_extent_type(space.get()) != H5S_SIMPLE || H5Sget_simple_extent_ndims(space.get()) != 1)
            throw Error(errc::bad_input, fmt::format("{}: attribute {}{} must be a 1-D array", file_, prefix_, name));
        const hssize_t n = H5Sget_simple_extent_npoints(space.get());
        return read_unsigned(attribute, type, name, static_cast<std::size_t>(std::max<hssize_t>(n, 0)));
    }

    std::string path(const char* name) const { return prefix_ + name; }

private:
    h5::Attribute open(const char* name) const
    {
        if (!has(name)) throw Error(errc::bad_input, fmt::format("{}: attribute {}{} is missing", file_, prefix_, name));
        h5::Attribute attribute(H5Aopen(object_, name, H5P_DEFAULT));
        if (!attribute) unreadable(name);
        return attribute;
    }
    h5::Datatype type_of(const h5::Attribute& attribute, const char* name, H5T_class_t expected,
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
    void expect_count(const h5::Attribute& attribute, const char* name, hssize_t expected) const
    {
        h5::Dataspace space(H5Aget_space(attribute.get()));
        const hssize_t n = H5Sget_simple_extent_npoints(space.get());
        if (n != expected)
            throw Error(errc::bad_input, fmt::format("{}: attribute {}{} holds {} values, expected {}", file_, prefix_,
                                                     name, n, expected));
    }
    /// Signed types are read as int64, so that negative values can be
    /// refused rather than wrapped; unsigned ones as uint64.
    std::vector<std::uint64_t> read_unsigned(const h5::Attribute& attribute, const h5::Datatype& type,
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
    [[noreturn]] void unreadable(const char* name) const
    {
        h5::fail(errc::bad_input, fmt::format("{}: cannot read attribute {}{}", file_, prefix_, name));
    }

    hid_t object_;
    const std::string& file_;
    std::string prefix_;
};

/// Opens an object that must exist and be of `kind` (H5I_GROUP/H5I_DATASET).
void require_object(hid_t file, const std::string& path, const std::string& object, H5I_type_t kind)
{
    const char* what = kind == H5I_GROUP ? "group" : "dataset";
    if (!h5::link_exists(file, object))
        throw Error(errc::bad_input, fmt::format("{}: {} {} is missing", path, what, object));
    h5::Object o(H5Oopen(file, object.c_str(), H5P_DEFAULT));
    if (!o) h5::fail(errc::bad_input, fmt::format("{}: cannot open {}", path, object));
    if (H5Iget_type(o.get()) != kind) throw Error(errc::bad_input, fmt::format("{}: {} is not a {}", path, object, what));
}

/// The dimensions of a dataset and its type class and size, read from its
/// metadata only.
struct ArrayMeta {
    std::vector<hsize_t> dims;
    H5T_class_t type_class = H5T_NO_CLASS;
    std::size_t type_size = 0;
    H5T_sign_t sign = H5T_SGN_ERROR;
};

ArrayMeta array_meta(hid_t dataset, const std::string& path, const std::string& name)
{
    ArrayMeta meta;
    h5::Datatype type(H5Dget_type(dataset));
    h5::Dataspace space(H5Dget_space(dataset));
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

std::string scales_path() { return fmt::format("{}/scales", group_path); }
std::string signs_group_path() { return fmt::format("{}/signs", group_path); }
std::string signs_path(std::size_t mode) { return fmt::format("{}/signs/mode_{}", group_path, mode); }

/// Everything read_decomposition_info promises: metadata and the shapes of
/// the arrays, from an open file.
DecompositionInfo read_info(hid_t file, const std::string& path)
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
    const AttributeReader attrs(group.get(), path, group_path);

    DecompositionInfo info;
    info.method = attrs.string("method");
    if (info.method == "lplr")
        throw Error(errc::unsupported,
                    fmt::format("{} holds an lplr decomposition (read it with read_lplr); lplr decompositions are not "
                                "supported by this reader yet",
                                path));
    if (info.method != "sct")
        throw Error(errc::bad_input, fmt::format("{}: unknown method '{}' in {} (expected 'sct' or 'lplr')", path,
                                                 info.method, attrs.path("method")));

    const std::vector<std::uint64_t> shape = attrs.unsigned_array("shape");
    if (shape.empty()) throw Error(errc::bad_input, fmt::format("{}: {} is empty (rank 0)", path, attrs.path("shape")));
    info.shape.assign(shape.begin(), shape.end());
    if (std::find(shape.begin(), shape.end(), 0u) != shape.end())
        throw Error(errc::bad_input,
                    fmt::format("{}: {} is {}, with a zero dimension", path, attrs.path("shape"), format_shape(info.shape)));
    try {
        (void)element_count(info.shape);
    } catch (const Error& e) {
        throw Error(e.code(), fmt::format("{}: {}", path, e.what()));
    }

    info.provenance.original_dtype = attrs.string("original_dtype");
    try {
        (void)io::dtype_spec(info.provenance.original_dtype);
    } catch (const Error&) {
        throw Error(errc::bad_input, fmt::format("{}: {} is '{}', not a known dtype", path,
                                                 attrs.path("original_dtype"), info.provenance.original_dtype));
    }
    info.width = attrs.unsigned_integer("width");
    const std::uint64_t refit = attrs.unsigned_integer("scales_refit");
    if (refit > 1)
        throw Error(errc::bad_input, fmt::format("{}: {} is {}, expected 0 or 1", path, attrs.path("scales_refit"), refit));
    info.scales_refit = refit == 1;
    info.provenance.source = attrs.string("source");
    info.provenance.seed = attrs.unsigned_integer("seed");
    info.provenance.signcut_version = attrs.string("signcut_version");
    info.provenance.rel_fro_error = attrs.real("rel_fro_error");
    info.provenance.created = attrs.string("created");

    // The arrays' shapes are metadata too: check them here, so that `info`
    // already refuses a file that could not be read.
    require_object(file, path, scales_path(), H5I_DATASET);
    {
        h5::Dataset scales(H5Dopen2(file, scales_path().c_str(), H5P_DEFAULT));
        if (!scales) h5::fail(errc::bad_input, fmt::format("{}: cannot open {}", path, scales_path()));
        const ArrayMeta meta = array_meta(scales.get(), path, scales_path());
        if (meta.type_class != H5T_FLOAT)
            throw Error(errc::bad_input, fmt::format("{}: {} holds {} values, expected float32", path, scales_path(),
                                                     h5::class_name(meta.type_class)));
        if (meta.dims.size() != 1)
            throw Error(errc::bad_input, fmt::format("{}: {} has {}, expected a 1-D array of width {} entries", path,
                                                     scales_path(), dims_text(meta.dims), info.width));
        if (meta.dims[0] != info.width)
            throw Error(errc::bad_input, fmt::format("{}: width is {} but {} has {} entries", path, info.width,
                                                     scales_path(), meta.dims[0]));
    }

    require_object(file, path, signs_group_path(), H5I_GROUP);
    for (std::size_t a = 0; a < info.shape.size(); ++a) {
        const std::string name = signs_path(a);
        require_object(file, path, name, H5I_DATASET);
        h5::Dataset signs(H5Dopen2(file, name.c_str(), H5P_DEFAULT));
        if (!signs) h5::fail(errc::bad_input, fmt::format("{}: cannot open {}", path, name));
        const ArrayMeta meta = array_meta(signs.get(), path, name);
        if (meta.type_class != H5T_INTEGER || meta.type_size != 8 || meta.sign != H5T_SGN_NONE)
            throw Error(errc::bad_input, fmt::format("{}: {} must hold uint64 words, not {}-byte {} values", path, name,
                                                     meta.type_size, h5::class_name(meta.type_class)));
        const std::vector<hsize_t> expected{info.width, words_for(info.shape[a])};
        if (meta.dims != expected)
            throw Error(errc::bad_input,
                        fmt::format("{}: {} has {}, expected {}x{} (width x ceil({}/64))", path, name, dims_text(meta.dims),
                                    expected[0], expected[1], info.shape[a]));
    }
    // A sign array beyond the last mode means the shape and the arrays
    // disagree about the order.
    h5::Group signs_group(H5Gopen2(file, signs_group_path().c_str(), H5P_DEFAULT));
    H5G_info_t group_info{};
    if (!signs_group || H5Gget_info(signs_group.get(), &group_info) < 0)
        h5::fail(errc::bad_input, fmt::format("{}: cannot read {}", path, signs_group_path()));
    if (group_info.nlinks != info.shape.size())
        throw Error(errc::bad_input, fmt::format("{}: {} has {} members, expected mode_0 ... mode_{} for a shape of order {}",
                                                 path, signs_group_path(), group_info.nlinks, info.shape.size() - 1,
                                                 info.shape.size()));
    return info;
}

/// Bytes needed to hold the arrays and the reconstruction (UINT64_MAX when
/// that does not even fit in 64 bits).
std::uint64_t bytes_needed(const DecompositionInfo& info)
{
    unsigned __int128 bytes = static_cast<unsigned __int128>(element_count(info.shape)) * sizeof(float);
    bytes += static_cast<unsigned __int128>(info.width) * sizeof(float);
    for (const std::size_t d : info.shape)
        bytes += static_cast<unsigned __int128>(info.width) * words_for(d) * sizeof(std::uint64_t);
    return bytes > UINT64_MAX ? UINT64_MAX : static_cast<std::uint64_t>(bytes);
}

/// Reads scales and signs after read_info's checks; refuses non-finite
/// scales and set padding bits.
SignedCutDecomposition read_arrays(hid_t file, const std::string& path, const DecompositionInfo& info)
{
    const std::size_t width = static_cast<std::size_t>(info.width);
    std::vector<float> scales(width);
    if (width > 0) {
        h5::Dataset d(H5Dopen2(file, scales_path().c_str(), H5P_DEFAULT));
        if (!d || H5Dread(d.get(), H5T_NATIVE_FLOAT, H5S_ALL, H5S_ALL, H5P_DEFAULT, scales.data()) < 0)
            h5::fail(errc::bad_input, fmt::format("{}: cannot read {}", path, scales_path()));
    }
    const auto non_finite = std::count_if(scales.begin(), scales.end(), [](float c) { return !std::isfinite(c); });
    if (non_finite > 0)
        throw Error(errc::bad_input,
                    fmt::format("{}: {} holds {} non-finite values", path, scales_path(), non_finite));

    std::vector<SignMatrix> signs;
    signs.reserve(info.shape.size());
    for (std::size_t a = 0; a < info.shape.size(); ++a) {
        const std::size_t d = info.shape[a];
        const std::size_t stride = words_for(d);
        std::vector<std::uint64_t> words(width * stride);
        const std::string name = signs_path(a);
        if (width > 0) {
            h5::Dataset ds(H5Dopen2(file, name.c_str(), H5P_DEFAULT));
            if (!ds || H5Dread(ds.get(), H5T_NATIVE_UINT64, H5S_ALL, H5S_ALL, H5P_DEFAULT, words.data()) < 0)
                h5::fail(errc::bad_input, fmt::format("{}: cannot read {}", path, name));
        }
        // Padding must be zero: the packed kernels XOR and popcount whole
        // words, so a stray bit would change every result silently.
        const std::uint64_t padding = ~tail_mask(d);
        for (std::size_t j = 0; j < width; ++j)
            if ((words[j * stride + stride - 1] & padding) != 0)
                throw Error(errc::bad_input, fmt::format("{}: {} row {} has padding bits set past sign {}", path, name,
                                                         j, d));
        signs.emplace_back(d, width, std::move(words));
    }

    return SignedCutDecomposition(info.shape, std::move(scales), std::move(signs), info.scales_refit);
}

}  // namespace

double DecompositionInfo::bits_per_value() const
{
    if (shape.empty()) return 0.0;
    return static_cast<double>(SignedCutDecomposition::bits_per_term(shape)) * static_cast<double>(width) /
           static_cast<double>(element_count(shape));
}

std::string iso8601_utc_now()
{
    const std::time_t now = std::time(nullptr);
    std::tm utc{};
    ::gmtime_r(&now, &utc);
    char text[32];
    std::strftime(text, sizeof text, "%Y-%m-%dT%H:%M:%SZ", &utc);
    return text;
}

void write_decomposition(const std::string& path, const SignedCutDecomposition& decomposition,
                         const Provenance& provenance, bool force)
{
    if (decomposition.order() == 0)
        throw Error(errc::invalid_argument, fmt::format("cannot write {}: the decomposition is empty (order 0)", path));
    (void)io::dtype_spec(provenance.original_dtype);
    const std::string created = provenance.created.empty() ? iso8601_utc_now() : provenance.created;
    const std::string library_version = provenance.signcut_version.empty() ? version : provenance.signcut_version;
    const Shape& shape = decomposition.shape();
    const std::uint64_t width = decomposition.width();

    h5::QuietErrors quiet;
    io::AtomicOutput output(path, force);
    {
        h5::File file = h5::create_file(output.temporary_path(), path);
        {
            AttributeWriter root(file.get(), path);
            root.string("signcut_format", format_name);
            root.i32("format_version", format_version);
        }
        h5::Group group = create_group(file.get(), "decomposition", path);
        {
            AttributeWriter attrs(group.get(), path);
            attrs.string("method", "sct");
            attrs.u64_array("shape", std::vector<std::uint64_t>(shape.begin(), shape.end()));
            attrs.string("original_dtype", provenance.original_dtype);
            attrs.u64("width", width);
            attrs.u8("scales_refit", decomposition.scales_refit() ? 1 : 0);
            attrs.string("source", provenance.source);
            attrs.u64("seed", provenance.seed);
            attrs.string("signcut_version", library_version);
            attrs.f64("rel_fro_error", provenance.rel_fro_error);
            attrs.string("created", created);
        }
        write_array(group.get(), "scales", H5T_IEEE_F32LE, H5T_NATIVE_FLOAT, {width}, decomposition.scales().data(),
                    path);
        h5::Group signs = create_group(group.get(), "signs", path);
        for (std::size_t a = 0; a < shape.size(); ++a) {
            // A SignMatrix keeps each term's column as consecutive words:
            // exactly row j of the [w][ceil(d_a/64)] file array.
            const SignMatrix& m = decomposition.signs(a);
            const std::string name = fmt::format("mode_{}", a);
            write_array(signs.get(), name.c_str(), H5T_STD_U64LE, H5T_NATIVE_UINT64, {width, words_for(shape[a])},
                        m.data(), path);
        }
        signs.reset();
        group.reset();
        if (!file.close()) h5::fail(errc::io, fmt::format("cannot write {}", path));
    }
    output.commit();
}

DecompositionInfo read_decomposition_info(const std::string& path)
{
    h5::QuietErrors quiet;
    h5::File file = h5::open_read_only(path);
    return read_info(file.get(), path);
}

SignedCutDecomposition read_decomposition(const std::string& path, std::uint64_t max_bytes, DecompositionInfo* info_out)
{
    h5::QuietErrors quiet;
    h5::File file = h5::open_read_only(path);
    DecompositionInfo info = read_info(file.get(), path);

    const std::uint64_t needed = bytes_needed(info);
    // A saturated count is refused even under a limit of 2^64 - 1 bytes: the
    // sizes it stands for cannot be allocated, or even computed in size_t.
    if (needed > max_bytes || needed == UINT64_MAX)
        throw Error(errc::limit,
                    fmt::format("{} holds a {} decomposition of width {}: reading and reconstructing it needs {} bytes, "
                                "more than the memory limit of {} bytes",
                                path, format_shape(info.shape), info.width,
                                needed == UINT64_MAX ? std::string("over 2^64") : std::to_string(needed), max_bytes));

    SignedCutDecomposition decomposition;
    try {
        decomposition = read_arrays(file.get(), path, info);
    } catch (const std::bad_alloc&) {
        throw Error(errc::limit, fmt::format("{}: cannot allocate the {} bytes its arrays need", path, needed));
    }
    if (info_out != nullptr) *info_out = std::move(info);
    return decomposition;
}

}  // namespace signcut
